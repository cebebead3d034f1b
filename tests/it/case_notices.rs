//! The notices the case loop sends from its own steps: the unit a case is dispatched to is
//! told in its members' inboxes, and the reporter is asked to rate once it is closed — each in
//! the transaction of the step, so a notice exists exactly when the step does.

use axum::http::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::harness::for_each_db;

#[tokio::test]
async fn dispatch_tells_the_unit_and_closing_asks_the_reporter_to_rate() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let gm = app.token(&f, "gm_a1").await;
        let admin = app.token(&f, "admin").await;
        let (s, v) = app
            .post_json(
                "/api/v1/cases",
                &gm,
                json!({"category": "env.clutter", "node_id": f.building_a1, "title": "楼道堆物",
                       "description": "楼道里堆满了纸箱。"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["id"].as_i64().unwrap();
        let mut version = v["version"].as_i64().unwrap();
        for action in [
            json!({"kind": "register"}),
            json!({"kind": "dispatch", "unit_id": f.grid_a1}),
            json!({"kind": "close", "reason": "已现场清理完毕"}),
        ] {
            let (s, v) = app
                .post_json(
                    &format!("/api/v1/cases/{id}/actions"),
                    &admin,
                    json!({"version": version, "action": action}),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{action} → {v}");
            version = v["version"].as_i64().unwrap();
        }
        let gm_id = redbutler::auth::users::by_username(&app.db, f.sid, "gm_a1")
            .await
            .unwrap()
            .unwrap()
            .id;
        let kinds: Vec<String> = sqlx::query(
            "SELECT kind FROM inbox WHERE subdistrict_id = $1 AND user_id = $2 AND case_id = $3 \
             ORDER BY created_at, id",
        )
        .bind(f.sid)
        .bind(gm_id)
        .bind(id)
        .fetch_all(app.db.read())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        // gm_a1 is both a member of the grid it was dispatched to and the reporter.
        assert_eq!(kinds, vec!["case.dispatched", "case.closed"]);
        let (_, inbox) = app.get_json("/api/v1/inbox", &gm).await;
        assert!(
            inbox.to_string().contains("请对办理结果进行评价"),
            "{inbox}"
        );
    })
    .await;
}
