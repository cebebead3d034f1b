#!/usr/bin/env bash
# Measures how soon `redbutler serve` answers /healthz on an existing database, and its
# idle memory (VmRSS) a few seconds later.
#
#   scripts/bench-startup.sh DATABASE [PORT] [RUNS]
#
# DATABASE is an SQLite file (or postgres://…) holding data already, e.g. one made by
# `redbutler demo --database /tmp/bench/demo.db`. Set REDBUTLER_BIN to choose the binary
# (default target/release/redbutler) and REDBUTLER_SECRET_KEY_FILE for the sealing key.
# Prints one line per run: the milliseconds to the first 200 from /healthz, then the
# idle RSS in MB. Never point DATABASE inside the source tree.
set -euo pipefail

db="${1:?usage: $0 DATABASE [PORT] [RUNS]}"
port="${2:-18080}"
runs="${3:-5}"
idle_seconds="${IDLE_SECONDS:-5}"
bin="${REDBUTLER_BIN:-$(dirname "$0")/../target/release/redbutler}"

if [ ! -x "$bin" ]; then
    echo "no binary at $bin; run cargo build --release first" >&2
    exit 1
fi
if ! command -v curl >/dev/null; then
    echo "curl is needed" >&2
    exit 1
fi

now_ms() { date +%s%3N; }

for run in $(seq 1 "$runs"); do
    log="$(mktemp)"
    start="$(now_ms)"
    "$bin" serve --database "$db" --listen "127.0.0.1:$port" >"$log" 2>&1 &
    pid=$!
    ready=""
    # Poll every 10 ms for up to 30 s.
    for _ in $(seq 1 3000); do
        if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null; then
            ready="$(now_ms)"
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the server exited:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.01
    done
    if [ -z "$ready" ]; then
        echo "no answer from /healthz within 30 s" >&2
        kill "$pid" 2>/dev/null || true
        exit 1
    fi
    # A login page too, to show the web side is up (not timed).
    login="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/login")"
    sleep "$idle_seconds"
    rss_kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
    printf 'run %d: healthz after %d ms, /login %s, idle RSS after %d s: %.1f MB\n' \
        "$run" "$((ready - start))" "$login" "$idle_seconds" "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')"
done
