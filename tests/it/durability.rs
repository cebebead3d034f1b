//! An acknowledged write survives `kill -9`: the real server binary takes a stream of
//! concurrent writes, is killed with SIGKILL in the middle of it, and after a restart on the
//! same file every write that got a 2xx answer is there.

use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::{client, free_port, make_admin, redbutler, wait_healthy, with_subdistrict};

const WRITERS: usize = 8;
/// Kill the server once this many writes were acknowledged (or after `KILL_AFTER`).
const ACKED_BEFORE_KILL: usize = 300;
const KILL_AFTER: Duration = Duration::from_secs(8);

fn start_server(
    dir: &std::path::Path,
    db: &std::path::Path,
    key: &std::path::Path,
    port: u16,
    log: &str,
) -> Child {
    let out = std::fs::File::create(dir.join(format!("{log}.log"))).unwrap();
    redbutler(dir)
        .arg("serve")
        .arg("--database")
        .arg(db)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("REDBUTLER_SECRET_KEY_FILE", key)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start redbutler serve")
}

/// Runs `writers` concurrent loops of `send(writer, i)` against the server and SIGKILLs it
/// once `ACKED_BEFORE_KILL` writes were acknowledged (or after `KILL_AFTER`): `Child::kill`
/// sends SIGKILL on Unix, so no shutdown handler, flush or checkpoint runs. Returns what each
/// acknowledged write recorded; a write refused or failed before the kill fails the test.
async fn write_until_killed<T, F, Fut>(writers: usize, server: &mut Child, send: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<T, String>> + Send,
{
    let acked: Arc<Mutex<Vec<T>>> = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (acked, count) = (acked.clone(), count.clone());
        let (killed, send) = (killed.clone(), send.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures_before_kill = Vec::new();
            for i in 0.. {
                let sent = send(w, i).await;
                let was_killed = killed.load(Ordering::SeqCst);
                match sent {
                    Ok(t) => {
                        acked.lock().unwrap().push(t);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) if !was_killed => failures_before_kill.push(e),
                    // After the kill every request fails: this writer is done.
                    Err(_) => break,
                }
            }
            failures_before_kill
        }));
    }
    let started = Instant::now();
    while count.load(Ordering::SeqCst) < ACKED_BEFORE_KILL && started.elapsed() < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    killed.store(true, Ordering::SeqCst);
    server.kill().expect("SIGKILL the server");
    let status = server.wait().unwrap();
    assert!(!status.success(), "the server was killed: {status}");
    let mut failures = Vec::new();
    for t in tasks {
        failures.extend(t.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "writes failed before the kill:\n{}",
        failures.join("\n")
    );
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_minus_nine() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.db");
    let key = dir.path().join("secret.key");
    std::fs::write(&key, hex::encode(rand::random::<[u8; 32]>())).unwrap();
    let root = with_subdistrict(&db).await;
    let token = make_admin(dir.path(), &db);

    let port = free_port();
    let mut server = start_server(dir.path(), &db, &key, port, "first");
    let http = client();
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&http, &base, &mut server, Duration::from_secs(20)).await;

    let (http_w, base_w, token_w) = (http.clone(), base.clone(), token.clone());
    let acked = write_until_killed(WRITERS, &mut server, move |w, i| {
        let (http, base, token) = (http_w.clone(), base_w.clone(), token_w.clone());
        async move {
            let name = format!("社区{w}-{i}");
            let sent = http
                .post(format!("{base}/api/v1/nodes/{root}/children"))
                .bearer_auth(&token)
                .json(&json!({ "kind": "community", "name": name }))
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    // The acknowledgement is the status line; the body may be cut off
                    // by the kill, so the id is read only when it arrives.
                    let id = r
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| v["id"].as_i64())
                        .unwrap_or(0);
                    Ok((id, name))
                }
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    Err(format!("{name}: {status} {body}"))
                }
                Err(e) => Err(format!("{name}: {e}")),
            }
        }
    })
    .await;
    assert!(
        acked.len() >= 20,
        "too few writes before the kill ({}) to prove anything",
        acked.len()
    );

    // Restart on the same file and look for every acknowledged node.
    let port = free_port();
    let mut server = start_server(dir.path(), &db, &key, port, "second");
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&http, &base, &mut server, Duration::from_secs(20)).await;
    let r = http
        .get(format!("{base}/api/v1/nodes/{root}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let children = v["children"].as_array().expect("children");
    let present: std::collections::HashMap<&str, i64> = children
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or(""),
                c["id"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let missing: Vec<&String> = acked
        .iter()
        .filter(|(id, name)| match present.get(name.as_str()) {
            Some(found) => *id != 0 && found != id,
            None => true,
        })
        .map(|(_, name)| name)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes were lost after kill -9: {missing:?}",
        missing.len(),
        acked.len()
    );
    // Every node in the tree also has its audit entry (both were in one transaction).
    let r = http
        .get(format!("{base}/api/v1/audit?action=node.create&limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    if r.status() == reqwest::StatusCode::OK {
        let v: Value = r.json().await.unwrap();
        let entries = v["entries"].as_array().cloned().unwrap_or_default();
        if entries.len() < 500 {
            assert_eq!(
                entries.len(),
                children.len(),
                "one audit entry per created node"
            );
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();

    println!(
        "{} writes acknowledged before kill -9; {} nodes after the restart",
        acked.len(),
        children.len()
    );
    // The file is intact.
    let pool = redbutler::storage::Db::open(db.to_str().unwrap(), &Default::default())
        .await
        .unwrap();
    let row: (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(pool.read())
        .await
        .unwrap();
    assert_eq!(row.0, "ok");
    pool.close().await;
}

/// The same for case intake, which goes through the group commit (many requests share one
/// durable commit): every case whose opening got a 2xx answer is there after `kill -9`,
/// which the replay of its `Idempotency-Key` proves — it answers 200 with the stored case and
/// creates nothing, where a lost case would be created again (201).
#[tokio::test]
async fn acknowledged_cases_survive_kill_minus_nine_through_the_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.db");
    let key = dir.path().join("secret.key");
    std::fs::write(&key, hex::encode(rand::random::<[u8; 32]>())).unwrap();
    let root = with_subdistrict(&db).await;
    let token = make_admin(dir.path(), &db);

    let port = free_port();
    let mut server = start_server(dir.path(), &db, &key, port, "first");
    let http = client();
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&http, &base, &mut server, Duration::from_secs(20)).await;
    let mut parent = root;
    for (kind, name) in [("community", "章浜居民区"), ("grid", "章浜一网格")] {
        let r = http
            .post(format!("{base}/api/v1/nodes/{parent}/children"))
            .bearer_auth(&token)
            .json(&json!({ "kind": kind, "name": name }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        parent = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    }
    let grid = parent;
    let body = move |w: usize, i: usize| {
        json!({
            "category": "env.clutter", "node_id": grid, "title": format!("楼道堆物 {w}-{i}"),
            "description": "楼道里堆满了纸箱。",
        })
    };

    let (http_w, base_w, token_w) = (http.clone(), base.clone(), token.clone());
    let acked = write_until_killed(WRITERS * 4, &mut server, move |w, i| {
        let (http, base, token) = (http_w.clone(), base_w.clone(), token_w.clone());
        async move {
            let sent = http
                .post(format!("{base}/api/v1/cases"))
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("kill-{w}-{i}"))
                .json(&body(w, i))
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => Ok((w, i)),
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    Err(format!("{w}-{i}: {status} {text}"))
                }
                Err(e) => Err(format!("{w}-{i}: {e}")),
            }
        }
    })
    .await;
    assert!(
        acked.len() >= 20,
        "too few cases before the kill ({})",
        acked.len()
    );

    let port = free_port();
    let mut server = start_server(dir.path(), &db, &key, port, "second");
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&http, &base, &mut server, Duration::from_secs(20)).await;
    let mut lost = Vec::new();
    for (w, i) in &acked {
        let r = http
            .post(format!("{base}/api/v1/cases"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("kill-{w}-{i}"))
            .json(&body(*w, *i))
            .send()
            .await
            .unwrap();
        if r.status() != reqwest::StatusCode::OK {
            lost.push(format!("{w}-{i}: {}", r.status()));
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged cases were lost after kill -9: {lost:?}",
        lost.len(),
        acked.len()
    );
    println!(
        "{} cases acknowledged before kill -9, all there after the restart",
        acked.len()
    );
}
