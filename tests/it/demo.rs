//! The demo subdistrict: its shape, its counts, and that every demo account logs in.

use std::collections::HashMap;

use axum::http::StatusCode;
use redbutler::demo;
use redbutler::tree::store as tree;
use sqlx::Row;

use crate::harness::for_each_db;

#[tokio::test]
async fn the_demo_subdistrict_has_xiayangs_shape_and_working_accounts() {
    for_each_db(|app| async move {
        let started = std::time::Instant::now();
        let report = demo::load(&app.db, app.seal(), 1).await.unwrap();
        eprintln!(
            "[{}] demo loaded in {:.2} s",
            app.backend,
            started.elapsed().as_secs_f64()
        );
        assert_eq!(report.subdistricts, 1);
        assert_eq!(report.grids, 307);
        assert_eq!(report.accounts.len(), demo::ACCOUNTS.len());

        let subs = tree::subdistricts(&app.db).await.unwrap();
        assert_eq!(subs.len(), 1);
        let sub = &subs[0];
        assert_eq!((sub.code.as_str(), sub.name.as_str()), ("310118003", "夏阳街道"));
        let sid = sub.id;
        let root = format!("/{sid}/");

        let c = tree::subtree_counts(&app.db, sid, &root).await.unwrap();
        assert_eq!(c.grids, 307);
        assert_eq!(c.communities, 24);
        assert_eq!(c.villages, 9);
        assert!(c.village_groups > 100, "{c:?}");
        assert!((30_000..=40_000).contains(&c.rooms), "{c:?}");
        assert!((80_000..=100_000).contains(&c.residents), "{c:?}");
        assert!(c.households > 25_000, "{c:?}");

        // Both tracks, with the named places of the article.
        let tracks = app.count_sql("SELECT COUNT(DISTINCT track) FROM nodes WHERE subdistrict_id = $1 AND track IS NOT NULL",
            sid,
        )
        .await;
        assert_eq!(tracks, 2);
        let names: Vec<String> = sqlx::query(
            "SELECT name FROM nodes WHERE subdistrict_id = $1 AND kind IN ('community', 'village', 'building')",
        )
        .bind(sid)
        .fetch_all(app.db.read())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
        for n in ["章浜居民区", "东方社区", "金米村", "城中东路311号"] {
            assert!(names.iter().any(|x| x == n), "{n} missing");
        }

        // The venues: 12 acceptance, 4 agency, the 24-hour point in 东方社区.
        let venues = tree::venues_under(&app.db, sid, &root).await.unwrap();
        let mut by_kind: HashMap<&str, usize> = HashMap::new();
        for v in &venues {
            *by_kind.entry(v.kind.as_str()).or_default() += 1;
            assert!(!v.address.is_empty(), "{} has no address", v.name);
        }
        assert_eq!(by_kind.get("acceptance_point"), Some(&12));
        assert_eq!(by_kind.get("agency_point"), Some(&4));
        assert_eq!(by_kind.get("self_service_24h"), Some(&1));
        let h24 = venues.iter().find(|v| v.kind == "self_service_24h").unwrap();
        assert_eq!(h24.hours, "24小时");
        let dongfang = tree::node(&app.db, sid, h24.node_id).await.unwrap();
        assert_eq!(dongfang.name, "东方社区");

        // Organisations of every kind; developers own their unsold rooms.
        let kinds: Vec<String> =
            sqlx::query("SELECT DISTINCT kind FROM orgs WHERE subdistrict_id = $1 ORDER BY kind")
                .bind(sid)
                .fetch_all(app.db.read())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
        for k in [
            "audit_firm",
            "developer",
            "law_firm",
            "owners_committee",
            "pairing_unit",
            "party_committee",
            "property_company",
            "residents_committee",
            "social_org",
            "village_committee",
        ] {
            assert!(kinds.iter().any(|x| x == k), "no {k} org");
        }
        let unsold = app.count_sql("SELECT COUNT(*) FROM rooms r JOIN room_owners o ON o.subdistrict_id = r.subdistrict_id AND o.room_id = r.id \
             JOIN orgs g ON g.subdistrict_id = o.subdistrict_id AND g.id = o.org_id \
             WHERE r.subdistrict_id = $1 AND r.developer_unsold = 1 AND g.kind = 'developer'",
            sid,
        )
        .await;
        let unsold_rooms = app.count_sql("SELECT COUNT(*) FROM rooms WHERE subdistrict_id = $1 AND developer_unsold = 1",
            sid,
        )
        .await;
        assert!(unsold > 0 && unsold == unsold_rooms, "{unsold} of {unsold_rooms}");
        // Some buyers own several rooms; some rooms are owned by spouses together.
        let multi = app.count_sql("SELECT COUNT(*) FROM (SELECT person_id FROM room_owners WHERE subdistrict_id = $1 AND person_id <> 0 \
             GROUP BY person_id HAVING COUNT(*) > 1) x",
            sid,
        )
        .await;
        assert!(multi > 10, "{multi} owners of several rooms");
        let co_owned = app.count_sql("SELECT COUNT(*) FROM (SELECT room_id FROM room_owners WHERE subdistrict_id = $1 \
             GROUP BY room_id HAVING COUNT(*) > 1) x",
            sid,
        )
        .await;
        assert!(co_owned > 100, "{co_owned} co-owned rooms");
        // Areas: registered for most rooms, some only surveyed or only contracted, all realistic.
        let only_surveyed = app.count_sql("SELECT COUNT(*) FROM rooms WHERE subdistrict_id = $1 AND registered_area IS NULL AND surveyed_area IS NOT NULL",
            sid,
        )
        .await;
        let only_contract = app.count_sql("SELECT COUNT(*) FROM rooms WHERE subdistrict_id = $1 AND registered_area IS NULL AND surveyed_area IS NULL AND contract_area IS NOT NULL",
            sid,
        )
        .await;
        assert!(only_surveyed > 0 && only_contract > 0);
        let odd_urban = app.count_sql("SELECT COUNT(*) FROM rooms r JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
             WHERE r.subdistrict_id = $1 AND n.kind = 'unit' AND COALESCE(r.registered_area, r.surveyed_area, r.contract_area) \
             NOT BETWEEN 4000 AND 15000",
            sid,
        )
        .await;
        assert_eq!(odd_urban, 0);

        // Every demo account logs in with the demo password.
        for (user, _) in demo::ACCOUNTS {
            let (s, _) = app.browser_login(user, demo::PASSWORD).await;
            assert_eq!(s, StatusCode::SEE_OTHER, "{user} cannot log in");
        }

        // The admin sees the whole tree; the grid member only their grid.
        let admin = app.token_in(sid, "admin").await;
        let (s, me) = app.get_json("/api/v1/me", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(me["grants"][0]["role"], "subdistrict_admin");
        assert_eq!(me["grants"][0]["path"], root.as_str());
        let (s, v) = app.get_json(&format!("/api/v1/nodes/{sid}"), &admin).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["counts"]["grids"], 307);
        assert_eq!(v["children"].as_array().unwrap().len(), 33);

        let gm = app.token_in(sid, "gridmember").await;
        let (_, me) = app.get_json("/api/v1/me", &gm).await;
        let grid_id = me["grants"][0]["node_id"].as_i64().unwrap();
        let (s, v) = app.get_json(&format!("/api/v1/nodes/{grid_id}"), &gm).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["node"]["name"], "章浜一网格");
        let (s, _) = app
            .get_json(&format!("/api/v1/nodes/{}", dongfang.id), &gm)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The resident lives in the grid member's grid and owns their room.
        let res = app.token_in(sid, "resident").await;
        let (_, me) = app.get_json("/api/v1/me", &res).await;
        let person_id = me["person_id"].as_i64().expect("resident has a person");
        let owner = me["grants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["role"] == "owner")
            .expect("owner grant")
            .clone();
        let room_id = owner["room_id"].as_i64().unwrap();
        let places = redbutler::people::store::places(&app.db, sid, person_id)
            .await
            .unwrap();
        let grid_path = tree::node(&app.db, sid, grid_id).await.unwrap().path;
        assert!(!places.is_empty() && places.iter().all(|p| p.starts_with(&grid_path)));
        let (s, v) = app.get_json(&format!("/api/v1/rooms/{room_id}"), &res).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["room"]["number"], "502");
        assert!(v["owners"].to_string().contains(&person_id.to_string()), "{v}");

        // Two years of property governance, as the seed reports them: 21 re-elections of
        // owners' committees completed (and one running), 8 fee adjustments, 16 selections.
        let now = redbutler::clock::now_ms();
        let from = now - redbutler::property::web::TWO_YEARS_MS;
        let re = redbutler::property::committees::reelection_counts(&app.db, sid, from, now)
            .await
            .unwrap();
        assert_eq!((re.completed, re.running), (21, 1), "{re:?}");
        let gov = redbutler::property::companies::governance_counts(&app.db, sid, from, now)
            .await
            .unwrap();
        assert_eq!((gov.fee_adjustments, gov.selections), (8, 16), "{gov:?}");
        let (_, cookie) = app.browser_login("admin", demo::PASSWORD).await;
        let (s, _, page) = app.browser_get("/governance", &cookie).await;
        assert_eq!(s, StatusCode::OK);
        for figure in [
            r#"<b>21</b><span><a href="/committees">"#,
            r#"<b>1</b><span>换届进行中"#,
            r#"<b>8</b><span><a href="/property">"#,
            r#"<b>16</b><span><a href="/property">"#,
        ] {
            assert!(page.contains(figure), "{figure} on /governance: {page}");
        }
        // The seeded estates have joint offices and mediation cases.
        assert!(app.count("joint_offices", sid).await > 0);
        assert!(app.count("joint_office_checkins", sid).await > 0);
        let raised = app
            .count_sql(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM joint_office_matters WHERE subdistrict_id = $1 AND case_id IS NOT NULL",
                sid,
            )
            .await;
        assert!(raised >= 3, "{raised} matters raised as cases");
        assert_eq!(app.count("mediation_cases", sid).await, 10);
        // Public income: two accounts with a published quarter; one audit engagement.
        assert_eq!(app.count("income_publications", sid).await, 2);
        assert_eq!(app.count("audit_engagements", sid).await, 1);
        // The resident's building has a fund whose export verifies, and their statement.
        let b311 = sqlx::query("SELECT id FROM nodes WHERE subdistrict_id = $1 AND name = '城中东路311号'")
            .bind(sid)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get::<i64, _>(0);
        let (s, _, body) = app
            .send(
                axum::http::Request::get(format!("/api/v1/fund/buildings/{b311}/export"))
                    .header("authorization", format!("Bearer {admin}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let checked = redbutler::property::fund::export::verify_bytes(&body).unwrap();
        assert!(
            checked.report.ok,
            "{:?}",
            checked.report.render(redbutler::i18n::Lang::En)
        );
        assert!(checked.entries >= 4, "{} entries", checked.entries);
        let (s, st) = app.get_json(&format!("/api/v1/fund/rooms/{room_id}"), &res).await;
        assert_eq!(s, StatusCode::OK, "{st}");
        assert!(st["lines"].as_array().unwrap().len() >= 4, "{st}");
    })
    .await;
}

#[tokio::test]
async fn a_scaled_demo_is_a_district_of_full_copies() {
    for_each_db(|app| async move {
        if app.backend != "sqlite" {
            // The copies are written by the same code on both engines; once is enough.
            return;
        }
        let report = demo::load(&app.db, app.seal(), 2).await.unwrap();
        assert_eq!(report.subdistricts, 2);
        assert_eq!(report.grids, 614);
        let subs = tree::subdistricts(&app.db).await.unwrap();
        let codes: Vec<(&str, &str)> = subs
            .iter()
            .map(|s| (s.code.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![("310118003", "夏阳街道"), ("310118004", "夏阳街道(2)")]
        );
        for s in &subs {
            let c = tree::subtree_counts(&app.db, s.id, &format!("/{}/", s.id))
                .await
                .unwrap();
            assert_eq!(c.grids, 307);
            assert_eq!(c.rooms as u64, report.rooms / 2);
        }
        // The accounts exist in every copy.
        let second = redbutler::auth::users::by_username(&app.db, subs[1].id, "gridmember")
            .await
            .unwrap();
        assert!(second.is_some());
    })
    .await;
}
