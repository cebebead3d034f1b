//! The `redbutler` command line, run as the real binary: help texts, migrate, user and
//! token management, backup, the configuration file, and that the secret key is never
//! printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use redbutler::pii::Seal;
use redbutler::storage::{Db, DbOptions};
use redbutler::web::{self, AppState};
use tower::ServiceExt;

use crate::harness::{KEY, PASSWORD};

/// Environment variables of the command line that the tests' own environment must not leak
/// into the binary.
const OWN_VARS: [&str; 8] = [
    "REDBUTLER_DATABASE",
    "REDBUTLER_CONFIG",
    "REDBUTLER_SECRET_KEY",
    "REDBUTLER_SECRET_KEY_FILE",
    "REDBUTLER_SQLITE_SYNCHRONOUS",
    "REDBUTLER_SUBDISTRICT",
    "REDBUTLER_LISTEN",
    "REDBUTLER_SECURE_COOKIES",
];

/// The real binary, in `dir`, with a clean environment of its own variables.
pub fn redbutler(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redbutler"));
    c.current_dir(dir);
    for v in OWN_VARS {
        c.env_remove(v);
    }
    c.env("REDBUTLER_LOG", "warn");
    c
}

/// Runs a command to completion with `stdin` as its standard input.
pub fn run(mut c: Command, stdin: &str) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run redbutler");
    {
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `redbutler --database DB ARGS` and insists it succeeds; returns its stdout.
pub fn ok(dir: &Path, db: &Path, args: &[&str], stdin: &str) -> String {
    let mut c = redbutler(dir);
    c.arg("--database").arg(db).args(args);
    let o = run(c, stdin);
    assert!(
        o.status.success(),
        "redbutler {args:?} failed: {}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Creates the database with one subdistrict (the command line needs one to act in);
/// returns its id (also the id of the tree's root).
pub async fn with_subdistrict(db_path: &Path) -> i64 {
    let db = Db::open(db_path.to_str().unwrap(), &DbOptions::default())
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    let s = redbutler::tree::store::create_subdistrict(&mut tx, "310118003", "夏阳街道")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    s.id
}

/// An admin made through the command line; returns an API token for it.
pub fn make_admin(dir: &Path, db: &Path) -> String {
    ok(
        dir,
        db,
        &["user", "add", "admin", "--display-name", "admin"],
        &format!("{PASSWORD}\n"),
    );
    ok(
        dir,
        db,
        &["user", "grant", "admin", "subdistrict_admin"],
        "",
    );
    ok(dir, db, &["token", "create", "--user", "admin"], "")
        .trim()
        .to_string()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `/healthz` until the server answers, or panics after `timeout`.
pub async fn wait_healthy(
    http: &reqwest::Client,
    base: &str,
    server: &mut std::process::Child,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            panic!("the server exited early with {status}");
        }
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status() == reqwest::StatusCode::OK {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the server did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[test]
fn help_of_every_command_exits_zero_and_names_its_options() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[],
            &[
                "serve",
                "migrate",
                "demo",
                "user",
                "token",
                "backup",
                "--database",
                "--config",
            ],
        ),
        (&["serve"], &["--database", "--listen", "--demo"]),
        (&["migrate"], &["--database"]),
        (&["demo"], &["--scale", "--fresh"]),
        (&["user"], &["add", "grant", "revoke", "password", "list"]),
        (
            &["user", "add"],
            &["--display-name", "--person-id", "<USERNAME>"],
        ),
        (
            &["user", "grant"],
            &[
                "--node",
                "--room",
                "--org",
                "subdistrict_admin",
                "grid_member",
            ],
        ),
        (&["token"], &["create", "revoke"]),
        (&["token", "create"], &["--user", "--name"]),
        (&["backup"], &["<PATH>"]),
    ];
    for (args, wanted) in cases {
        let mut c = redbutler(dir.path());
        c.args(*args).arg("--help");
        let o = run(c, "");
        let out = stdout(&o);
        assert!(o.status.success(), "{args:?} --help: {}", stderr(&o));
        for w in *wanted {
            assert!(
                out.contains(w),
                "{args:?} --help does not mention {w}:\n{out}"
            );
        }
    }
    // An unknown subcommand is refused with a message, not a panic.
    let mut c = redbutler(dir.path());
    c.arg("frobnicate");
    let o = run(c, "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("frobnicate"), "{}", stderr(&o));
}

#[test]
fn migrate_creates_a_new_database_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub").join("new.db");
    let out = ok(dir.path(), &db, &["migrate"], "");
    assert!(out.contains("up to date"), "{out}");
    assert!(db.exists());
    let out = ok(dir.path(), &db, &["migrate"], "");
    assert!(out.contains("up to date"), "{out}");
}

#[tokio::test]
async fn user_add_refuses_a_weak_password_and_a_token_from_the_cli_works_on_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rb.db");

    // Without a subdistrict the command line says what to do.
    ok(dir.path(), &db, &["migrate"], "");
    let mut c = redbutler(dir.path());
    c.arg("--database").arg(&db).args(["user", "add", "bob"]);
    let o = run(c, &format!("{PASSWORD}\n"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no subdistrict"), "{}", stderr(&o));

    let sid = with_subdistrict(&db).await;
    for weak in ["short1", "onlyletters", "1234567890"] {
        let mut c = redbutler(dir.path());
        c.arg("--database").arg(&db).args(["user", "add", "bob"]);
        let o = run(c, &format!("{weak}\n"));
        assert!(!o.status.success(), "{weak} was accepted");
        let err = stderr(&o);
        assert!(
            err.contains("password") && err.contains("8 to 128"),
            "unclear refusal of {weak}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // No password at all.
    let mut c = redbutler(dir.path());
    c.arg("--database").arg(&db).args(["user", "add", "bob"]);
    let o = run(c, "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no password"), "{}", stderr(&o));

    let out = ok(
        dir.path(),
        &db,
        &["user", "add", "bob", "--display-name", "Bob 王"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.contains("added user bob"), "{out}");
    // The same name twice is refused.
    let mut c = redbutler(dir.path());
    c.arg("--database").arg(&db).args(["user", "add", "bob"]);
    let o = run(c, &format!("{PASSWORD}\n"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("taken"), "{}", stderr(&o));

    let out = ok(
        dir.path(),
        &db,
        &["user", "grant", "bob", "subdistrict_admin"],
        "",
    );
    assert!(out.contains("granted subdistrict_admin to bob"), "{out}");
    let mut c = redbutler(dir.path());
    c.arg("--database")
        .arg(&db)
        .args(["user", "grant", "bob", "emperor"]);
    let o = run(c, "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown role"), "{}", stderr(&o));

    let token = ok(dir.path(), &db, &["token", "create", "--user", "bob"], "")
        .trim()
        .to_string();
    assert!(token.starts_with("rbt_"), "{token}");
    assert!(!token.contains(char::is_whitespace));

    let listed = ok(dir.path(), &db, &["user", "list"], "");
    assert!(
        listed.contains("bob") && listed.contains("subdistrict_admin"),
        "{listed}"
    );

    // The token works as a Bearer token on the API.
    let pool = Db::open(db.to_str().unwrap(), &DbOptions::default())
        .await
        .unwrap();
    let router = web::router(AppState::new(pool.clone(), Seal::from_key(&KEY), false));
    let me = |t: String| {
        let router = router.clone();
        async move {
            let resp = router
                .oneshot(
                    Request::get("/api/v1/me")
                        .header(header::AUTHORIZATION, format!("Bearer {t}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default(),
            )
        }
    };
    let (s, v) = me(token.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["username"], "bob");
    assert_eq!(v["display_name"], "Bob 王");
    assert_eq!(v["subdistrict_id"], sid);
    let (s, _) = me(format!("{token}x")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    pool.close().await;
}

#[tokio::test]
async fn backup_writes_a_copy_that_opens_with_the_same_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rb.db");
    let sid = with_subdistrict(&db).await;
    make_admin(dir.path(), &db);
    ok(
        dir.path(),
        &db,
        &["user", "add", "carol"],
        &format!("{PASSWORD}\n"),
    );
    let copy = dir.path().join("copy.db");
    let out = ok(dir.path(), &db, &["backup", copy.to_str().unwrap()], "");
    assert!(out.contains("wrote"), "{out}");
    assert!(copy.exists());

    // A second backup to the same file is refused instead of overwriting it.
    let mut c = redbutler(dir.path());
    c.arg("--database")
        .arg(&db)
        .args(["backup", copy.to_str().unwrap()]);
    let o = run(c, "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("exists"), "{}", stderr(&o));

    let names = |p: PathBuf| async move {
        let d = Db::open(p.to_str().unwrap(), &DbOptions::default())
            .await
            .unwrap();
        let mut n: Vec<String> = redbutler::auth::users::list(&d, sid)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        n.sort();
        d.close().await;
        n
    };
    let original = names(db.clone()).await;
    assert_eq!(original, ["admin", "carol"]);
    assert_eq!(names(copy.clone()).await, original);
    // The copy is a working database for the command line too.
    let listed = ok(dir.path(), &copy, &["user", "list"], "");
    assert!(listed.contains("carol"), "{listed}");
}

#[test]
fn a_config_file_with_an_unknown_key_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("redbutler.toml");
    std::fs::write(
        &cfg,
        "database = \"rb.db\"\nlisten_adress = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let mut c = redbutler(dir.path());
    c.arg("--config").arg(&cfg).arg("migrate");
    let o = run(c, "");
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("listen_adress"), "{err}");
    assert!(err.contains("redbutler.toml"), "names the file: {err}");
    assert!(!dir.path().join("rb.db").exists(), "nothing was created");

    // A good file is used: its database is the one migrated.
    std::fs::write(&cfg, "database = \"from-config.db\"\n").unwrap();
    let mut c = redbutler(dir.path());
    c.arg("--config").arg(&cfg).arg("migrate");
    let o = run(c, "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("from-config.db").exists());
}

#[tokio::test]
async fn the_secret_key_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rb.db");
    with_subdistrict(&db).await;
    let key: [u8; 32] = rand::random();
    let hex_key = hex::encode(key);
    let b64_key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(key)
    };
    let leaks = |o: &str| o.contains(&hex_key) || o.contains(&b64_key);

    // Help, migrate, a failing user add, token creation.
    let runs: &[(&[&str], &str)] = &[
        (&["--help"], ""),
        (&["serve", "--help"], ""),
        (&["migrate"], ""),
        (&["user", "add", "dave"], "weak\n"),
        (&["user", "add", "admin"], "Test-pass-1\n"),
        (&["token", "create", "--user", "admin"], ""),
    ];
    for (args, stdin) in runs {
        let mut c = redbutler(dir.path());
        c.arg("--database")
            .arg(&db)
            .args(*args)
            .env("REDBUTLER_SECRET_KEY", &hex_key)
            .env("REDBUTLER_LOG", "debug");
        let o = run(c, stdin);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!leaks(&all), "{args:?} printed the key:\n{all}");
    }

    // A bad key is refused without echoing it.
    let bad = "zz-not-a-key-but-a-secret-all-the-same";
    let mut c = redbutler(dir.path());
    c.arg("--database")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REDBUTLER_SECRET_KEY", bad);
    let o = run(c, "");
    assert!(!o.status.success());
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("secret key"), "{all}");
    assert!(!all.contains(bad), "the bad key was echoed:\n{all}");

    // The server, with debug logging, serving a few requests.
    let port = free_port();
    let out = std::fs::File::create(dir.path().join("serve.out")).unwrap();
    let err = std::fs::File::create(dir.path().join("serve.err")).unwrap();
    let mut server = redbutler(dir.path())
        .arg("--database")
        .arg(&db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("REDBUTLER_SECRET_KEY", &hex_key)
        .env("REDBUTLER_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let http = client();
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&http, &base, &mut server, Duration::from_secs(20)).await;
    for path in ["/login", "/api/v1/me", "/api/v1/openapi.json", "/nope"] {
        let _ = http.get(format!("{base}{path}")).send().await.unwrap();
    }
    let _ = http
        .post(format!("{base}/login"))
        .form(&[("username", "admin"), ("password", "wrong-pass-1")])
        .send()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let all = std::fs::read_to_string(dir.path().join("serve.out")).unwrap()
        + &std::fs::read_to_string(dir.path().join("serve.err")).unwrap();
    assert!(all.contains("listening"), "{all}");
    assert!(!leaks(&all), "the server printed the key:\n{all}");
}
