#!/usr/bin/env bash
# Measures loading the demo subdistrict: on SQLite (a fresh file per run) and, when
# BENCH_PG_URL names a server, on PostgreSQL (a fresh database per run, dropped after).
#
#   scripts/bench-demo.sh [RUNS]
#
# Files go to BENCH_DIR (default /tmp/bench), never into the source tree. Uses hyperfine
# when it is installed, otherwise times each run with `date`.
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432  scripts/bench-demo.sh 5
set -euo pipefail

runs="${1:-5}"
dir="${BENCH_DIR:-/tmp/bench}"
bin="${REDBUTLER_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/redbutler}"
mkdir -p "$dir"
export REDBUTLER_SECRET_KEY_FILE="${REDBUTLER_SECRET_KEY_FILE:-$dir/k.key}"

case "$(cd "$dir" && pwd)" in
    "$(cd "$(dirname "$0")/.." && pwd)"*) echo "BENCH_DIR must lie outside the source tree" >&2; exit 1 ;;
esac
if [ ! -x "$bin" ]; then
    echo "no binary at $bin; run cargo build --release first" >&2
    exit 1
fi

sqlite_cmd="$bin demo --fresh --database $dir/demo.db"
echo "== SQLite (synchronous=${REDBUTLER_SQLITE_SYNCHRONOUS:-full}): $sqlite_cmd"
if command -v hyperfine >/dev/null; then
    hyperfine --runs "$runs" --warmup 1 --output=null "$sqlite_cmd"
else
    for i in $(seq 1 "$runs"); do
        s=$(date +%s%N); $sqlite_cmd >/dev/null; e=$(date +%s%N)
        echo "run $i: $(( (e - s) / 1000000 )) ms"
    done
fi
ls -l "$dir/demo.db"

if [ -n "${BENCH_PG_URL:-}" ]; then
    pg_prepare="psql -q $BENCH_PG_URL/postgres -c 'DROP DATABASE IF EXISTS bench_demo' -c 'CREATE DATABASE bench_demo'"
    pg_cmd="$bin demo --database $BENCH_PG_URL/bench_demo"
    echo "== PostgreSQL: $pg_cmd"
    if command -v hyperfine >/dev/null; then
        hyperfine --runs "$runs" --output=null --prepare "$pg_prepare" "$pg_cmd"
    else
        for i in $(seq 1 "$runs"); do
            eval "$pg_prepare"
            s=$(date +%s%N); $pg_cmd >/dev/null; e=$(date +%s%N)
            echo "run $i: $(( (e - s) / 1000000 )) ms"
        done
    fi
    psql -q "$BENCH_PG_URL/postgres" -c 'DROP DATABASE IF EXISTS bench_demo'
fi
