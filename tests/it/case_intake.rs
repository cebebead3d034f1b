//! The intake details every channel shares (store level, through the JSON API): anonymity
//! only where the category allows it, the category's extra fields, a map point, back-dated
//! offline contacts, and a contact phone sealed at rest with only its mask shown.

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture};

fn base(f: &Fixture) -> Value {
    json!({
        "category": "env.clutter",
        "node_id": f.building_a1,
        "title": "楼道堆物",
        "description": "楼道里堆满了纸箱。",
    })
}

fn with(mut v: Value, extra: Value) -> Value {
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn anonymity_only_where_the_category_allows_it() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "resident").await;
        let (s, v) = app
            .post_json(
                "/api/v1/cases",
                &t,
                with(base(&f), json!({"anonymous": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["anonymous"], true);
        assert_eq!(v["reporter_user_id"], Value::Null);
        assert_eq!(v["reporter_name"], "");

        // Property services need the household: anonymous is refused, by field.
        let body = json!({
            "category": "property.leak", "node_id": f.building_a1, "title": "漏水",
            "description": "天花板漏水", "anonymous": true, "attributes": {"room": "501"},
        });
        let (s, v) = app.post_json("/api/v1/cases", &t, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["anonymous"]);
    })
    .await;
}

#[tokio::test]
async fn the_categorys_extra_fields_are_checked_and_kept() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "resident").await;
        let mut body = json!({
            "category": "property.leak", "node_id": f.building_a1, "title": "漏水",
            "description": "天花板漏水",
        });
        let (s, v) = app.post_json("/api/v1/cases", &t, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(fields(&v).contains(&"attribute[room]".to_string()), "{v}");

        body["attributes"] = json!({"room": "3号楼501", "floor": "abc"});
        let (s, v) = app.post_json("/api/v1/cases", &t, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["attribute[floor]"]);

        body["attributes"] = json!({"room": "3号楼501", "floor": "5", "colour": "red"});
        let (s, v) = app.post_json("/api/v1/cases", &t, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(fields(&v), vec!["attribute[colour]"]);

        body["attributes"] = json!({"room": "3号楼501", "floor": "5"});
        let (s, v) = app.post_json("/api/v1/cases", &t, body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (_, v) = app.get_json(&format!("/api/v1/cases/{id}"), &t).await;
        assert_eq!(v["attributes"]["room"], "3号楼501");
        assert_eq!(v["attributes"]["floor"], "5");
    })
    .await;
}

#[tokio::test]
async fn map_points_and_backdated_contacts_are_checked() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let now = redbutler::clock::now_ms();
        let cases = [
            (json!({"lat_e6": 31_100_000}), vec!["lng_e6"]),
            (
                json!({"lat_e6": 91_000_000, "lng_e6": 121_000_000}),
                vec!["lat_e6"],
            ),
            (json!({"occurred_at": now + 3_600_000}), vec!["occurred_at"]),
            (
                json!({"occurred_at": now - 40 * 86_400_000i64}),
                vec!["occurred_at"],
            ),
            (json!({"contact_phone": "12345"}), vec!["contact_phone"]),
            (json!({"address": "长".repeat(201)}), vec!["address"]),
        ];
        for (extra, want) in cases {
            let (s, v) = app
                .post_json("/api/v1/cases", &t, with(base(&f), extra.clone()))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{extra} → {v}");
            assert_eq!(fields(&v), want, "{extra}");
        }
        let (s, _) = app
            .post_json("/api/v1/cases?channel=carrier-pigeon", &t, base(&f))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        let visit = now - 2 * 86_400_000;
        let body = with(
            base(&f),
            json!({"lat_e6": 31_151_234, "lng_e6": 121_112_345, "address": "夏阳湖东门",
                   "occurred_at": visit, "contact_name": "王阿姨", "contact_phone": "13812341234"}),
        );
        let (s, v) = app
            .post_json("/api/v1/cases?channel=visit_reception", &t, body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["channel"], "visit_reception");
        assert_eq!(v["occurred_at"], visit);
        assert_eq!(v["lat_e6"], 31_151_234);
        assert_eq!(v["contact_phone_mask"], "138****1234");
        assert!(!v.to_string().contains("13812341234"), "{v}");

        // At rest the phone is sealed: no clear number in the row.
        let id = v["id"].as_i64().unwrap();
        let row = sqlx::query(
            "SELECT contact_phone_mask, contact_phone_sealed FROM cases \
             WHERE subdistrict_id = $1 AND id = $2",
        )
        .bind(f.sid)
        .bind(id)
        .fetch_one(app.db.read())
        .await
        .unwrap();
        let sealed: Vec<u8> = row.get(1);
        assert!(!sealed.is_empty());
        assert!(!String::from_utf8_lossy(&sealed).contains("13812341234"));
        assert_eq!(app.seal().open(&sealed).unwrap(), "13812341234");
    })
    .await;
}

/// The group commit: jobs sent at once share transactions, and a job that fails is rolled
/// back alone — its neighbours in the same batch are committed and answered.
#[tokio::test]
async fn a_failing_job_in_a_group_commit_takes_nothing_else_with_it() {
    for_each_db(|app| async move {
        let _ = app.fixture().await;
        sqlx::query("CREATE TABLE batch_probe (subdistrict_id BIGINT NOT NULL, id BIGINT NOT NULL, PRIMARY KEY (subdistrict_id, id))")
            .execute(app.db.write())
            .await
            .unwrap();
        let probe: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM batch_probe")
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        assert_eq!(probe, 0);
        let mut jobs = Vec::new();
        for i in 0..200i64 {
            let db = app.db.clone();
            jobs.push(tokio::spawn(async move {
                db.grouped(move |tx| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO batch_probe (subdistrict_id, id) VALUES (1, $1)")
                            .bind(i)
                            .execute(&mut **tx)
                            .await?;
                        if i % 3 == 0 {
                            // A duplicate key: this job fails after its first insert.
                            sqlx::query("INSERT INTO batch_probe (subdistrict_id, id) VALUES (1, $1)")
                                .bind(i)
                                .execute(&mut **tx)
                                .await?;
                        }
                        Ok(i)
                    })
                })
                .await
            }));
        }
        let mut ok = 0;
        for (i, j) in jobs.into_iter().enumerate() {
            match j.await.unwrap() {
                Ok(v) => {
                    assert_eq!(v, i as i64);
                    assert_ne!(i % 3, 0);
                    ok += 1;
                }
                Err(_) => assert_eq!(i % 3, 0),
            }
        }
        let n: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM batch_probe")
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, ok);
        assert_eq!(ok, 133);
        let none_of_the_failed: i64 =
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM batch_probe WHERE id - (id / 3) * 3 = 0")
                .fetch_one(app.db.read())
                .await
                .unwrap()
                .get(0);
        assert_eq!(none_of_the_failed, 0);
    })
    .await;
}

/// The answer to a new case carries its timeline without reading it back; it must be exactly
/// what a later read shows, for staff and for a resident alike.
#[tokio::test]
async fn the_timeline_in_the_answer_is_the_stored_one() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        for who in ["admin", "gm_a1", "resident"] {
            let t = app.token(&f, who).await;
            let (s, created) = app.post_json("/api/v1/cases", &t, base(&f)).await;
            assert_eq!(s, StatusCode::CREATED, "{created}");
            let id = created["id"].as_i64().unwrap();
            let (_, read) = app.get_json(&format!("/api/v1/cases/{id}"), &t).await;
            assert_eq!(created["timeline"], read["timeline"], "{who}");
            assert!(!created["timeline"].as_array().unwrap().is_empty());
        }
    })
    .await;
}
