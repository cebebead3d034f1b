//! The test harness: a fresh database per test (an SQLite file in a temporary folder, and a
//! fresh PostgreSQL schema when TEST_DATABASE_URL is set, dropped afterwards), a small
//! fixture subdistrict, and a client that talks to the router in process.

#![allow(dead_code)]

use std::future::Future;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use redbutler::access::{self, Actor, Role};
use redbutler::auth::{tokens, users};
use redbutler::people::store as people;
use redbutler::pii::Seal;
use redbutler::storage::{Db, DbOptions};
use redbutler::tree::store as tree;
use redbutler::tree::NodeKind;
use redbutler::web::{self, AppState};
use serde_json::Value;
use tower::ServiceExt;

pub const KEY: [u8; 32] = [42; 32];

pub struct TestApp {
    pub db: Db,
    pub state: AppState,
    pub router: Router,
    pub backend: &'static str,
    pub dir: tempfile::TempDir,
}

/// Valid ID numbers for fixtures (check digits computed).
pub fn id_number(first17: &str) -> String {
    let mut d = [0u32; 17];
    for (i, c) in first17.chars().enumerate() {
        d[i] = c.to_digit(10).unwrap();
    }
    format!("{first17}{}", redbutler::pii::validate::id_check_char(&d))
}

async fn open(backend: &'static str) -> Option<(Db, Option<String>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    match backend {
        "sqlite" => {
            let path = dir.path().join("test.db");
            let db = Db::open(path.to_str().unwrap(), &DbOptions::default())
                .await
                .expect("open sqlite");
            Some((db, None, dir))
        }
        _ => {
            let url = std::env::var("TEST_DATABASE_URL")
                .ok()
                .filter(|u| !u.is_empty())?;
            let schema = format!("t_{}", hex::encode(rand::random::<[u8; 6]>()));
            let admin = sqlx::PgPool::connect(&url)
                .await
                .expect("connect TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let opts = DbOptions {
                schema: Some(schema.clone()),
                readers: Some(3),
                ..Default::default()
            };
            let db = Db::open(&url, &opts).await.expect("open postgres");
            Some((db, Some(schema), dir))
        }
    }
}

async fn drop_schema(schema: &str) {
    let url = std::env::var("TEST_DATABASE_URL").unwrap();
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}

/// Runs a test body on every configured database; a failure names the backend.
pub async fn for_each_db<F, Fut>(f: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for backend in ["sqlite", "postgres"] {
        let Some((db, schema, dir)) = open(backend).await else {
            continue;
        };
        let state = AppState::new(db.clone(), Seal::from_key(&KEY), false);
        let router = web::router(state.clone());
        let app = TestApp {
            db: db.clone(),
            state,
            router,
            backend,
            dir,
        };
        let result = tokio::spawn(f(app)).await;
        db.close().await;
        if let Some(s) = schema {
            drop_schema(&s).await;
        }
        if let Err(e) = result {
            if e.is_panic() {
                eprintln!("test failed on {backend}");
                std::panic::resume_unwind(e.into_panic());
            }
            panic!("test task on {backend}: {e}");
        }
    }
}

/// The small fixture: one subdistrict, urban community A with grids A1 and A2, rural
/// village V with grid V1 and a village group; a building with a unit and rooms in A1 and
/// A2; people and households; users admin, gm_a1 (grid member of A1), resident (lives in
/// A1), auditor (at A).
pub struct Fixture {
    pub sid: i64,
    pub root: i64,
    pub community_a: i64,
    pub grid_a1: i64,
    pub grid_a2: i64,
    pub building_a1: i64,
    pub unit_a1: i64,
    pub building_a2: i64,
    pub village: i64,
    pub grid_v1: i64,
    pub group_v1: i64,
    pub room_a1: i64,
    pub room_a2: i64,
    pub person_a1: i64,
    pub person_a1_spouse: i64,
    pub person_a2: i64,
    pub household_a1: i64,
    pub admin: Actor,
}

pub const PASSWORD: &str = "Test-pass-1";

/// A grant's place: the tree node `node_id`.
pub fn at_node(node_id: i64) -> access::store::At {
    access::store::At {
        node_id: Some(node_id),
        ..Default::default()
    }
}

impl TestApp {
    pub fn seal(&self) -> &Seal {
        &self.state.seal
    }

    pub async fn fixture(&self) -> Fixture {
        self.fixture_named("310118003", "夏阳街道").await
    }

    pub async fn fixture_named(&self, code: &str, name: &str) -> Fixture {
        let mut tx = self.db.begin().await.unwrap();
        let s = tree::create_subdistrict(&mut tx, code, name).await.unwrap();
        let sid = s.id;
        let admin_cli = Actor::cli(sid, &format!("/{sid}/"));
        let community_a =
            tree::create_node(&mut tx, sid, sid, NodeKind::Community, "章浜居民区", None)
                .await
                .unwrap()
                .id;
        let grid_a1 = tree::create_node(
            &mut tx,
            sid,
            community_a,
            NodeKind::Grid,
            "章浜一网格",
            None,
        )
        .await
        .unwrap()
        .id;
        let grid_a2 = tree::create_node(
            &mut tx,
            sid,
            community_a,
            NodeKind::Grid,
            "章浜二网格",
            None,
        )
        .await
        .unwrap()
        .id;
        let building_a1 = tree::create_node(
            &mut tx,
            sid,
            grid_a1,
            NodeKind::Building,
            "城中东路311号",
            None,
        )
        .await
        .unwrap()
        .id;
        let unit_a1 = tree::create_node(&mut tx, sid, building_a1, NodeKind::Unit, "1单元", None)
            .await
            .unwrap()
            .id;
        let building_a2 = tree::create_node(
            &mut tx,
            sid,
            grid_a2,
            NodeKind::Building,
            "城中东路313号",
            None,
        )
        .await
        .unwrap()
        .id;
        let village = tree::create_node(&mut tx, sid, sid, NodeKind::Village, "金米村", None)
            .await
            .unwrap()
            .id;
        let grid_v1 = tree::create_node(&mut tx, sid, village, NodeKind::Grid, "金米一网格", None)
            .await
            .unwrap()
            .id;
        let group_v1 = tree::create_node(
            &mut tx,
            sid,
            grid_v1,
            NodeKind::VillageGroup,
            "第一村民小组",
            None,
        )
        .await
        .unwrap()
        .id;
        let room = |n: &str, a: i64| tree::NewRoom {
            number: n.into(),
            floor: Some(5),
            registered_area: Some(a),
            ..Default::default()
        };
        let room_a1 = tree::create_room(&mut tx, sid, unit_a1, &room("502", 8_550))
            .await
            .unwrap()
            .id;
        let room_a2 = tree::create_room(&mut tx, sid, building_a2, &room("101", 6_000))
            .await
            .unwrap()
            .id;
        let np = |name: &str, id17: &str, phone: &str| people::NewPerson {
            name: name.into(),
            id_number: Some(id_number(id17)),
            phone: Some(phone.into()),
            address: Some("城中东路311号1单元502室".into()),
            ..Default::default()
        };
        let seal = self.seal();
        let person_a1 = people::create_person(
            &mut tx,
            seal,
            sid,
            &np("张三丰", "31011819800101001", "13812341234")
                .check()
                .unwrap(),
        )
        .await
        .unwrap();
        let person_a1_spouse = people::create_person(
            &mut tx,
            seal,
            sid,
            &np("李梅", "31011819820202002", "13912345678")
                .check()
                .unwrap(),
        )
        .await
        .unwrap();
        let person_a2 = people::create_person(
            &mut tx,
            seal,
            sid,
            &np("王五", "31011819700303003", "13700001111")
                .check()
                .unwrap(),
        )
        .await
        .unwrap();
        let household_a1 = people::create_household(&mut tx, sid, unit_a1, Some(room_a1), "502室")
            .await
            .unwrap();
        people::add_member(&mut tx, sid, household_a1, person_a1, "head")
            .await
            .unwrap();
        people::add_member(&mut tx, sid, household_a1, person_a1_spouse, "spouse")
            .await
            .unwrap();
        let household_a2 =
            people::create_household(&mut tx, sid, building_a2, Some(room_a2), "101室")
                .await
                .unwrap();
        people::add_member(&mut tx, sid, household_a2, person_a2, "head")
            .await
            .unwrap();
        people::add_owner(&mut tx, sid, room_a1, people::OwnerRef::Person(person_a1))
            .await
            .unwrap();
        people::add_owner(&mut tx, sid, room_a2, people::OwnerRef::Person(person_a2))
            .await
            .unwrap();
        let hash = redbutler::auth::password::hash(PASSWORD);
        let mk = |u: &str, person: Option<i64>| users::NewUser {
            username: u.into(),
            display_name: u.into(),
            password: String::new(),
            person_id: person,
        };
        let admin = users::create(&mut tx, &admin_cli, &mk("admin", None), Some(hash.clone()))
            .await
            .unwrap();
        access::store::grant(
            &mut tx,
            &admin_cli,
            admin.id,
            Role::SubdistrictAdmin,
            access::store::At {
                node_id: Some(sid),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let gm = users::create(&mut tx, &admin_cli, &mk("gm_a1", None), Some(hash.clone()))
            .await
            .unwrap();
        access::store::grant(
            &mut tx,
            &admin_cli,
            gm.id,
            Role::GridMember,
            access::store::At {
                node_id: Some(grid_a1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let res = users::create(
            &mut tx,
            &admin_cli,
            &mk("resident", Some(person_a1)),
            Some(hash.clone()),
        )
        .await
        .unwrap();
        access::store::grant(
            &mut tx,
            &admin_cli,
            res.id,
            Role::Resident,
            access::store::At::default(),
        )
        .await
        .unwrap();
        access::store::grant(
            &mut tx,
            &admin_cli,
            res.id,
            Role::Owner,
            access::store::At {
                room_id: Some(room_a1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let aud = users::create(
            &mut tx,
            &admin_cli,
            &mk("auditor", None),
            Some(hash.clone()),
        )
        .await
        .unwrap();
        access::store::grant(
            &mut tx,
            &admin_cli,
            aud.id,
            Role::Auditor,
            access::store::At {
                node_id: Some(community_a),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let admin = redbutler::auth::tokens::actor(&self.db, &self.token_in(sid, "admin").await)
            .await
            .unwrap()
            .unwrap();
        Fixture {
            sid,
            root: sid,
            community_a,
            grid_a1,
            grid_a2,
            building_a1,
            unit_a1,
            building_a2,
            village,
            grid_v1,
            group_v1,
            room_a1,
            room_a2,
            person_a1,
            person_a1_spouse,
            person_a2,
            household_a1,
            admin,
        }
    }

    /// A new API token for a user of subdistrict `sid`.
    pub async fn token_in(&self, sid: i64, username: &str) -> String {
        let cli = Actor::cli(sid, &format!("/{sid}/"));
        let u = users::by_username(&self.db, sid, username)
            .await
            .unwrap()
            .expect("user exists");
        let mut tx = self.db.begin().await.unwrap();
        let (_, t) = tokens::create(&mut tx, &cli, u.id, "test").await.unwrap();
        tx.commit().await.unwrap();
        t
    }

    pub async fn token(&self, f: &Fixture, username: &str) -> String {
        self.token_in(f.sid, username).await
    }

    /// A new user of the fixture's subdistrict, `display_name` shown for them, with the test
    /// [`PASSWORD`] and one grant of `role` at `at`, committed; returns the user's id.
    pub async fn add_user_named(
        &self,
        f: &Fixture,
        username: &str,
        display_name: &str,
        role: Role,
        at: access::store::At,
    ) -> i64 {
        let cli = Actor::cli(f.sid, &format!("/{}/", f.sid));
        let mut tx = self.db.begin().await.unwrap();
        let u = users::create(
            &mut tx,
            &cli,
            &users::NewUser {
                username: username.into(),
                display_name: display_name.into(),
                password: String::new(),
                person_id: None,
            },
            Some(redbutler::auth::password::hash(PASSWORD)),
        )
        .await
        .unwrap();
        access::store::grant(&mut tx, &cli, u.id, role, at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        u.id
    }

    /// [`add_user_named`](Self::add_user_named) with the username as display name.
    pub async fn add_user(
        &self,
        f: &Fixture,
        username: &str,
        role: Role,
        at: access::store::At,
    ) -> i64 {
        self.add_user_named(f, username, username, role, at).await
    }

    /// A new user as [`add_user`](Self::add_user) makes, and an API token for them.
    pub async fn user_token(
        &self,
        f: &Fixture,
        username: &str,
        role: Role,
        at: access::store::At,
    ) -> String {
        self.add_user(f, username, role, at).await;
        self.token(f, username).await
    }

    /// The rows of `table` in subdistrict `sid`.
    pub async fn count(&self, table: &str, sid: i64) -> i64 {
        self.count_sql(
            &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE subdistrict_id = $1"),
            sid,
        )
        .await
    }

    /// The one BIGINT that `sql` (a query with `sid` as its only parameter) selects.
    pub async fn count_sql(&self, sql: &str, sid: i64) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .bind(sid)
            .fetch_one(self.db.read())
            .await
            .unwrap()
            .get::<i64, _>(0)
    }

    /// Posts `action` on case `id` at `version` (the case actions API).
    pub async fn act(
        &self,
        token: &str,
        id: i64,
        version: i64,
        action: Value,
    ) -> (StatusCode, Value) {
        self.post_json(
            &format!("/api/v1/cases/{id}/actions"),
            token,
            serde_json::json!({ "version": version, "action": action }),
        )
        .await
    }

    /// Sends a request through the router.
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .unwrap()
            .to_vec();
        (status, headers, body)
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let req = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (s, _, b) = self.send(req).await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (s, _, b) = self.send(req).await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.json(Method::POST, path, token, body).await
    }

    /// Logs in through the login form like a browser; returns the cookie header to send.
    pub async fn browser_login(&self, username: &str, password: &str) -> (StatusCode, String) {
        let csrf = "c".repeat(32);
        let body = format!("username={username}&password={password}&_csrf={csrf}");
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("rb_csrf={csrf}"))
            .body(Body::from(body))
            .unwrap();
        let (s, h, _) = self.send(req).await;
        let session = h
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("rb_session="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .unwrap_or_default();
        (s, format!("rb_csrf={csrf}; {session}"))
    }

    /// A GET as a logged-in browser (cookies from [`browser_login`]).
    pub async fn browser_get(
        &self,
        path: &str,
        cookies: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let req = Request::get(path)
            .header(header::COOKIE, cookies)
            .body(Body::empty())
            .unwrap();
        let (s, h, b) = self.send(req).await;
        (s, h, String::from_utf8_lossy(&b).into_owned())
    }

    /// A form POST as a logged-in browser, with the CSRF field filled.
    pub async fn browser_post(
        &self,
        path: &str,
        cookies: &str,
        form: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let csrf = "c".repeat(32);
        let body = if form.is_empty() {
            format!("_csrf={csrf}")
        } else {
            format!("{form}&_csrf={csrf}")
        };
        let req = Request::post(path)
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let (s, h, b) = self.send(req).await;
        (s, h, String::from_utf8_lossy(&b).into_owned())
    }
}
