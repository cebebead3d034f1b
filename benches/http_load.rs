//! Load against the real server on 127.0.0.1: case intake throughput (with the raw SQLite
//! insert rate of the same rows, measured in the same run, for the ratio), the case list and
//! case page latency at a fixed request rate, then owners' online ballots into one vote over
//! a large estate (each owner with their own API token, each ballot acknowledged only after
//! its commit).
//!
//!     cargo bench --bench http_load
//!     cargo bench --bench http_load -- --seconds 10 --concurrency 64 --rate 500 --synchronous full
//!
//! It loads the demo subdistrict into a fresh SQLite file in a temporary folder, adds a
//! `--ballots N`-room estate (default 40,000; one owner each, with a user and a token, imported
//! through the registry import and the user store before the server starts), starts
//! `redbutler serve` there (the binary Cargo built for this bench), logs in as the demo grid
//! member, and prints one line per measure. Nothing is written inside the source tree.
//! `--only ballots` skips the case phases.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Opts {
    seconds: u64,
    concurrency: usize,
    rate: u64,
    synchronous: String,
    ballots: usize,
    only: String,
}

fn opts() -> Opts {
    let mut o = Opts {
        seconds: 10,
        concurrency: 64,
        rate: 500,
        synchronous: "full".into(),
        ballots: 40_000,
        only: String::new(),
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--seconds" => o.seconds = v.parse().expect("--seconds N"),
            "--concurrency" => o.concurrency = v.parse().expect("--concurrency N"),
            "--rate" => o.rate = v.parse().expect("--rate N"),
            "--synchronous" => o.synchronous = v,
            "--ballots" => o.ballots = v.parse().expect("--ballots N"),
            "--only" => o.only = v,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(bin: &str, dir: &std::path::Path, sync: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .env("REDBUTLER_DATABASE", dir.join("bench.db"))
        .env("REDBUTLER_SECRET_KEY_FILE", dir.join("bench.key"))
        .env("REDBUTLER_SQLITE_SYNCHRONOUS", sync)
        .stdin(Stdio::null())
        .output()
        .expect("run redbutler");
    assert!(
        out.status.success(),
        "redbutler {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: only check that it
    // builds then; the load runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("http_load: run with `cargo bench --bench http_load`");
        return;
    }
    let o = opts();
    let bin = env!("CARGO_BIN_EXE_redbutler");
    let dir = tempfile::tempdir().expect("temp dir");
    run(bin, dir.path(), &o.synchronous, &["demo"]);
    let token = run(
        bin,
        dir.path(),
        &o.synchronous,
        &["token", "create", "--user", "gridmember"],
    )
    .trim()
    .to_string();
    let estate = big_estate(dir.path(), &o.synchronous, o.ballots).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("REDBUTLER_DATABASE", dir.path().join("bench.db"))
            .env("REDBUTLER_SECRET_KEY_FILE", dir.path().join("bench.key"))
            .env("REDBUTLER_SQLITE_SYNCHRONOUS", &o.synchronous)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // `HTTP_LOAD_SERVER_LOG=FILE` keeps the server's log (with `REDBUTLER_LOG` passed on).
            .stderr(match std::env::var_os("HTTP_LOAD_SERVER_LOG") {
                Some(f) => Stdio::from(std::fs::File::create(f).expect("the server log file")),
                None => Stdio::null(),
            })
            .spawn()
            .expect("start the server"),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrency * 2)
        .build()
        .unwrap();
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grid = me["grants"][0]["node_id"]
        .as_i64()
        .expect("the grid member's grid");
    println!(
        "http_load: SQLite synchronous={}, {} s per phase, concurrency {}, rate {} req/s",
        o.synchronous, o.seconds, o.concurrency, o.rate
    );

    if o.only != "ballots" {
        cases(&o, &client, &base, &token, grid, dir.path()).await;
    }
    ballots(&o, &client, &base, &estate).await;
}

async fn cases(
    o: &Opts,
    client: &reqwest::Client,
    base: &str,
    token: &str,
    grid: i64,
    dir: &std::path::Path,
) {
    let (client, base, token) = (client.clone(), base.to_string(), token.to_string());
    // Phase 1: intake, closed loop with `concurrency` workers.
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..o.concurrency {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (done, failed) = (done.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body = json!({
                    "category": "env.clutter",
                    "node_id": grid,
                    "title": format!("楼道堆物 {w}-{n}"),
                    "description": "楼道里堆满了纸箱和旧家具,影响通行,请尽快清理。",
                });
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("bench-{w}-{n}"))
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    Ok(r) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!(
                                "intake answered {}: {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("intake failed: {e}");
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let created = done.load(Ordering::Relaxed);
    let http_rate = created as f64 / elapsed;
    println!(
        "intake over HTTP: {created} cases in {elapsed:.2} s = {http_rate:.0} cases/s \
         (failed {}), latency p50 {:.2} ms p99 {:.2} ms",
        failed.load(Ordering::Relaxed),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    );

    // The raw SQLite rate for the same rows: copy what the server wrote into a fresh file
    // with the same schema, one transaction per case (as a plain server would), and all in
    // one transaction (the ceiling), under the same synchronous setting.
    let raw = raw_inserts(dir, &o.synchronous, created.min(20_000) as i64).await;
    println!(
        "raw SQLite inserts of the same rows: {:.0} cases/s one transaction each, {:.0} cases/s \
         in one transaction; HTTP/raw ratio {:.2} and {:.3}",
        raw.0,
        raw.1,
        http_rate / raw.0,
        http_rate / raw.1
    );

    // Phase 2: the case list and case pages at a fixed rate (open loop), as the grid member.
    let cookie = login(&client, &base, "gridmember").await;
    let ids: Vec<i64> = {
        let url = format!("sqlite://{}", dir.join("bench.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT id FROM cases ORDER BY id DESC LIMIT 1000")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    for (label, paths) in [
        ("case list /cases", vec!["/cases".to_string()]),
        (
            "case page /cases/{id}",
            ids.iter().map(|id| format!("/cases/{id}")).collect(),
        ),
        (
            "case JSON /api/v1/cases/{id}",
            ids.iter().map(|id| format!("/api/v1/cases/{id}")).collect(),
        ),
    ] {
        let (lat, errors) =
            fixed_rate(&client, &base, &cookie, &token, &paths, o.rate, o.seconds).await;
        println!(
            "{label} at {} req/s: {} requests, {} errors, p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
            o.rate,
            lat.len(),
            errors,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            percentile(&lat, 1.0),
        );
    }
}

async fn login(client: &reqwest::Client, base: &str, user: &str) -> String {
    let _ = client;
    // Not following the redirect, to see the session cookie it sets.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = "b".repeat(32);
    let r = client
        .post(format!("{base}/login"))
        .header("Cookie", format!("rb_csrf={csrf}"))
        .form(&[
            ("username", user),
            ("password", "Demo-2024"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|v| v.starts_with("rb_session=") || v.contains("session"))
        .expect("a session cookie")
        .to_string();
    format!("{session}; rb_csrf={csrf}")
}

/// Sends requests at `rate` per second for `seconds`, whatever the answers take (so slow
/// answers cannot hide by slowing the sender), and returns the latencies in µs.
async fn fixed_rate(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    token: &str,
    paths: &[String],
    rate: u64,
    seconds: u64,
) -> (Vec<u64>, u64) {
    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let mut handles = Vec::with_capacity(total as usize);
    for i in 0..total {
        tokio::time::sleep_until(start + interval * i as u32).await;
        let path = &paths[i as usize % paths.len()];
        let mut req = client.get(format!("{base}{path}"));
        req = if path.starts_with("/api/") {
            req.bearer_auth(token)
        } else {
            req.header("Cookie", cookie)
        };
        handles.push(tokio::spawn(async move {
            let t = Instant::now();
            match req.send().await {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    Ok(t.elapsed().as_micros() as u64)
                }
                Ok(r) => Err(r.status().as_u16()),
                Err(_) => Err(0),
            }
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(us) => lat.push(us),
            Err(_) => errors += 1,
        }
    }
    lat.sort_unstable();
    (lat, errors)
}

/// Copies `n` of the server's cases (with their first event, key and audit entry) into a
/// fresh database of the same schema; returns cases/s one transaction each and all in one.
async fn raw_inserts(dir: &std::path::Path, sync: &str, n: i64) -> (f64, f64) {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{ConnectOptions, Row};
    let src = SqliteConnectOptions::new()
        .filename(dir.join("bench.db"))
        .connect()
        .await
        .unwrap();
    let mut src = src;
    let schema: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE type = 'table' \
         AND name IN ('cases', 'case_events', 'idempotency_keys', 'audit_log')",
    )
    .fetch_all(&mut src)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let mut results = Vec::new();
    for one_tx in [false, true] {
        let path = dir.join(format!("raw-{one_tx}.db"));
        let mut dst = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if sync == "normal" {
                SqliteSynchronous::Normal
            } else {
                SqliteSynchronous::Full
            })
            .connect()
            .await
            .unwrap();
        for s in &schema {
            sqlx::query(s).execute(&mut dst).await.unwrap();
        }
        let rows = sqlx::query(
            "SELECT c.*, e.seq, e.at, e.actor, e.kind, e.public, e.data_json \
             FROM cases c JOIN case_events e ON e.subdistrict_id = c.subdistrict_id \
             AND e.case_id = c.id AND e.seq = 1 ORDER BY c.id LIMIT $1",
        )
        .bind(n)
        .fetch_all(&mut src)
        .await
        .unwrap();
        let cols: Vec<String> = {
            let r = sqlx::query("SELECT * FROM cases LIMIT 1")
                .fetch_one(&mut src)
                .await
                .unwrap();
            use sqlx::Column;
            r.columns().iter().map(|c| c.name().to_string()).collect()
        };
        let case_sql = format!(
            "INSERT INTO cases ({}) VALUES ({})",
            cols.join(", "),
            (1..=cols.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let t = Instant::now();
        if one_tx {
            sqlx::query("BEGIN").execute(&mut dst).await.unwrap();
        }
        for r in &rows {
            if !one_tx {
                sqlx::query("BEGIN").execute(&mut dst).await.unwrap();
            }
            let mut q = sqlx::query(&case_sql);
            for c in &cols {
                q = bind_any(q, r, c);
            }
            q.execute(&mut dst).await.unwrap();
            let sid: i64 = r.get("subdistrict_id");
            let id: i64 = r.get("id");
            sqlx::query(
                "INSERT INTO case_events (subdistrict_id, case_id, seq, at, actor, kind, public, \
                 data_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .bind(sid)
            .bind(id)
            .bind(r.get::<i64, _>("seq"))
            .bind(r.get::<i64, _>("at"))
            .bind(r.get::<String, _>("actor"))
            .bind(r.get::<String, _>("kind"))
            .bind(r.get::<i64, _>("public"))
            .bind(r.get::<String, _>("data_json"))
            .execute(&mut dst)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO idempotency_keys (subdistrict_id, user_id, idempotency_key, \
                 request_digest, case_id, response_json, created_at) \
                 VALUES (?1, 1, ?2, 'digest', ?3, '{}', ?4)",
            )
            .bind(sid)
            .bind(format!("raw-{id}"))
            .bind(id)
            .bind(r.get::<i64, _>("created_at"))
            .execute(&mut dst)
            .await
            .unwrap();
            if !one_tx {
                sqlx::query("COMMIT").execute(&mut dst).await.unwrap();
            }
        }
        if one_tx {
            sqlx::query("COMMIT").execute(&mut dst).await.unwrap();
        }
        results.push(rows.len() as f64 / t.elapsed().as_secs_f64());
    }
    (results[0], results[1])
}

fn bind_any<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    r: &sqlx::sqlite::SqliteRow,
    c: &str,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    use sqlx::{Row, TypeInfo, ValueRef};
    let v = r.try_get_raw(c).unwrap();
    if v.is_null() {
        return q.bind(Option::<i64>::None);
    }
    match v.type_info().name() {
        "INTEGER" => q.bind(r.get::<i64, _>(c)),
        "BLOB" => q.bind(r.get::<Vec<u8>, _>(c)),
        _ => q.bind(r.get::<String, _>(c)),
    }
}

/// The large estate of the ballot phase, as made by [`big_estate`].
struct Estate {
    admin_token: String,
    community_id: i64,
    /// One per owner (one room each).
    owner_tokens: Vec<String>,
}

/// Adds a community of `rooms` rooms (100 buildings, one owner per room) through the registry
/// import, then a user and an API token for every owner, writing the SQLite file directly
/// (the server is not running yet). Not timed.
async fn big_estate(dir: &std::path::Path, sync: &str, rooms: usize) -> Estate {
    use redbutler::access::Actor;
    use redbutler::auth::{tokens, users};
    use redbutler::registry::format::{header_row, Column, COLUMNS};
    use redbutler::registry::import::{self, FileFormat, Hook};
    use redbutler::storage::{Db, DbOptions};
    let started = Instant::now();
    let db = Db::open(
        dir.join("bench.db").to_str().unwrap(),
        &DbOptions {
            synchronous: sync.parse().unwrap_or_default(),
            ..DbOptions::default()
        },
    )
    .await
    .expect("open the bench database");
    let seal = redbutler::pii::Seal::load_or_create(&dir.join("bench.key")).unwrap();
    let sub = redbutler::tree::store::subdistricts(&db).await.unwrap()[0].clone();
    let actor = Actor::cli(sub.id, &format!("/{}/", sub.id));
    let col = |c: Column| COLUMNS.iter().position(|&x| x == c).unwrap();
    let mut table: Vec<(u64, Vec<String>)> = vec![(1, header_row())];
    let buildings = 100usize;
    let per = rooms.div_ceil(buildings);
    for n in 0..rooms {
        let (b, r) = (n / per + 1, n % per);
        let room = format!("{}{:02}", r / 4 + 1, r % 4 + 1);
        let mut row = vec![String::new(); COLUMNS.len()];
        row[col(Column::Community)] = "压测花园".into();
        row[col(Column::Track)] = "城市".into();
        row[col(Column::Grid)] = format!("压测{}网格", (b - 1) / 10 + 1);
        row[col(Column::Building)] = format!("{b}号楼");
        row[col(Column::Room)] = room.clone();
        row[col(Column::RegisteredArea)] = format!("{}.{:02}", 60 + n % 80, n % 100);
        row[col(Column::Household)] = format!("{b}号楼{room}室");
        row[col(Column::Name)] = format!("业主{b}-{room}");
        row[col(Column::Relation)] = "户主".into();
        row[col(Column::Owner)] = "是".into();
        table.push((n as u64 + 2, row));
    }
    let report = import::run(
        &db,
        &seal,
        &actor,
        sub.id,
        FileFormat::Csv,
        &table,
        false,
        Hook::NONE,
    )
    .await
    .expect("import the bench estate");
    assert!(
        report.errors.is_empty(),
        "bench estate import: {:?}",
        &report.errors[..report.errors.len().min(3)]
    );
    let (community_id, path): (i64, String) = sqlx::query_as(
        "SELECT id, path FROM nodes WHERE subdistrict_id = $1 AND kind = 'community' AND name = '压测花园'",
    )
    .bind(sub.id)
    .fetch_one(db.read())
    .await
    .unwrap();
    let owners: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT o.person_id FROM room_owners o \
         JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE o.subdistrict_id = $1 AND o.person_id IS NOT NULL AND n.path LIKE $2 \
         ORDER BY o.person_id",
    )
    .bind(sub.id)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    let mut owner_tokens = Vec::with_capacity(owners.len());
    for (i, &pid) in owners.iter().enumerate() {
        let u = users::create(
            &mut tx,
            &actor,
            &users::NewUser {
                username: format!("bench-owner-{i}"),
                display_name: format!("业主{i}"),
                password: String::new(),
                person_id: Some(pid),
            },
            Some("not-a-password-hash".into()),
        )
        .await
        .expect("an owner's user");
        let (_, t) = tokens::create(&mut tx, &actor, u.id, "bench")
            .await
            .unwrap();
        owner_tokens.push(t);
    }
    let admin = users::by_username(&db, sub.id, "admin")
        .await
        .unwrap()
        .expect("the demo admin");
    let (_, admin_token) = tokens::create(&mut tx, &actor, admin.id, "bench")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    println!(
        "http_load: bench estate of {} rooms and {} owners with tokens made in {:.1} s",
        rooms,
        owner_tokens.len(),
        started.elapsed().as_secs_f64()
    );
    Estate {
        admin_token,
        community_id,
        owner_tokens,
    }
}

/// Phase 3: online ballots into one vote over the bench estate, closed loop with
/// `concurrency` workers, each owner casting once, for `seconds` or until every owner voted.
async fn ballots(o: &Opts, client: &reqwest::Client, base: &str, e: &Estate) {
    let closes = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 86_400_000;
    let r = client
        .post(format!("{base}/api/v1/votes"))
        .bearer_auth(&e.admin_token)
        .json(
            &json!({ "scope_node_id": e.community_id, "title": "压测表决:更换门禁系统",
                        "matter": "other_major", "closes_at": closes }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let vote: Value = r.json().await.unwrap();
    let id = vote["id"].as_i64().unwrap();
    let t = Instant::now();
    let r = client
        .post(format!("{base}/api/v1/votes/{id}/open"))
        .bearer_auth(&e.admin_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    println!(
        "open the vote (freeze {} owners): {:.0} ms",
        e.owner_tokens.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let tokens = Arc::new(e.owner_tokens.clone());
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..o.concurrency {
        let (client, base) = (client.clone(), base.to_string());
        let (tokens, next, done, failed) =
            (tokens.clone(), next.clone(), done.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(token) = tokens.get(n) else { break };
                let choice = match n % 10 {
                    0..=6 => "yes",
                    7 | 8 => "no",
                    _ => "abstain",
                };
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/votes/{id}/ballots"))
                    .bearer_auth(token)
                    .json(&json!({ "choice": { "kind": choice } }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    Ok(r) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!(
                                "ballot answered {}: {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("ballot failed: {e}");
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let cast = done.load(Ordering::Relaxed);
    println!(
        "ballots over HTTP: {cast} ballots in {elapsed:.2} s = {:.0} ballots/s (failed {}), \
         latency p50 {:.2} ms p99 {:.2} ms",
        cast as f64 / elapsed,
        failed.load(Ordering::Relaxed),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    );
    // The box must hold exactly the acknowledged ballots, chained.
    let v: Value = client
        .get(format!("{base}/api/v1/votes/{id}"))
        .bearer_auth(&e.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let counted = v["ballot_count"]
        .as_i64()
        .or_else(|| v["vote"]["ballot_count"].as_i64());
    println!("the box holds {counted:?} ballots (acknowledged {cast})");
}
