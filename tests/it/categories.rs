//! Categories stored per subdistrict: the editor pages and the API change what new cases
//! and Open311 offer; stale versions, invalid trees, retirement, access and the audit log.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;

use crate::harness::{for_each_db, Fixture, TestApp, PASSWORD};

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The content of the first `<textarea name="…">`.
fn textarea(html: &str, name: &str) -> String {
    let open = format!("<textarea name=\"{name}\"");
    let at = html
        .find(&open)
        .unwrap_or_else(|| panic!("no textarea {name}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find("</textarea>").unwrap();
    unescape(&rest[start..end])
}

async fn login(app: &TestApp, user: &str) -> String {
    let (s, cookies) = app.browser_login(user, PASSWORD).await;
    assert!(s.is_redirection(), "login of {user}: {s}");
    cookies
}

async fn put(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.json(Method::PUT, "/api/v1/categories", token, body)
        .await
}

async fn patch(app: &TestApp, token: &str, code: &str, body: Value) -> (StatusCode, Value) {
    app.json(
        Method::PATCH,
        &format!("/api/v1/categories/{code}"),
        token,
        body,
    )
    .await
}

async fn version(app: &TestApp, token: &str) -> i64 {
    let (s, v) = app.get_json("/api/v1/categories", token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["version"].as_i64().unwrap()
}

/// Open311's service list (public), as (code, name) pairs.
async fn services(app: &TestApp, jurisdiction: &str) -> Vec<(String, String)> {
    let req = Request::get(format!(
        "/open311/v2/services.json?jurisdiction_id={jurisdiction}"
    ))
    .header(header::ACCEPT_LANGUAGE, "zh-CN")
    .body(Body::empty())
    .unwrap();
    let (s, _, b) = app.send(req).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&b).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service_code"].as_str().unwrap().to_string(),
                s["service_name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn lists(services: &[(String, String)], code: &str) -> bool {
    services.iter().any(|(c, _)| c == code)
}

/// What `/cases/new` offers a grid member.
async fn new_case_form(app: &TestApp) -> String {
    let gm = login(app, "gm_a1").await;
    let (s, _, page) = app.browser_get("/cases/new", &gm).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page
}

fn offers(page: &str, code: &str) -> bool {
    page.contains(&format!("<option value=\"{code}\""))
}

async fn open_case(app: &TestApp, f: &Fixture, token: &str, category: &str) -> (StatusCode, Value) {
    app.post_json(
        "/api/v1/cases",
        token,
        json!({ "category": category, "node_id": f.building_a1, "title": "测试事项", "description": "楼道里有情况,请处理。" }),
    )
    .await
}

async fn audit_actions(app: &TestApp, sid: i64) -> Vec<(String, Value, Value)> {
    sqlx::query(
        "SELECT action, before_json, after_json FROM audit_log WHERE subdistrict_id = $1 AND action LIKE 'category.%' ORDER BY at, id",
    )
    .bind(sid)
    .fetch_all(app.db.read())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        let j = |i: usize| {
            r.get::<Option<String>, _>(i)
                .map(|s| serde_json::from_str(&s).unwrap())
                .unwrap_or(Value::Null)
        };
        (r.get::<String, _>(0), j(1), j(2))
    })
    .collect()
}

#[tokio::test]
async fn a_category_added_through_the_api_is_offered_to_new_cases_and_open311() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = app.token(&f, "admin").await;
        let (s, v) = app.get_json("/api/v1/categories", &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["version"], 0);
        assert_eq!(v["source"], "seeded");
        assert!(v["categories"].as_array().unwrap().len() > 40);
        assert!(!lists(&services(&app, "310118003").await, "env.graffiti"));
        let (s, v) = app
            .post_json(
                "/api/v1/categories",
                &admin,
                json!({ "version": 0, "code": "env.graffiti", "name_zh": "乱涂乱画", "name_en": "Graffiti", "parent": "env",
                        "keywords": ["涂鸦"],
                        "fields": [{ "code": "wall", "datatype": "string", "required": true, "order": 1, "description_zh": "位置", "description_en": "Where" }] }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["version"], 1);
        assert_eq!(v["source"], "stored");
        assert!(v["offered"].as_array().unwrap().iter().any(|c| c == "env.graffiti"));
        // Written after its parent's last child, so the stored order stays a tree.
        let codes: Vec<&str> = v["categories"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        let at = codes.iter().position(|c| *c == "env.graffiti").unwrap();
        assert_eq!(codes[at - 1], "env.pests");

        assert!(offers(&new_case_form(&app).await, "env.graffiti"));
        let list = services(&app, "310118003").await;
        assert!(list.contains(&("env.graffiti".to_string(), "乱涂乱画".to_string())));
        let req = Request::get("/open311/v2/services/env.graffiti.json?jurisdiction_id=310118003").body(Body::empty()).unwrap();
        let (s, _, b) = app.send(req).await;
        assert_eq!(s, StatusCode::OK);
        let d: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(d["attributes"][0]["code"], "wall");

        // A case can be filed under it, and its required attribute is asked for.
        let (s, c) = open_case(&app, &f, &admin, "env.graffiti").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{c}");
        assert_eq!(c["errors"][0]["field"], "attribute[wall]", "{c}");
        let (s, c) = app
            .post_json(
                "/api/v1/cases",
                &admin,
                json!({ "category": "env.graffiti", "node_id": f.building_a1, "title": "墙上涂鸦", "description": "单元门口墙上被涂画。", "attributes": { "wall": "1单元门口" } }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");

        let audit = audit_actions(&app, f.sid).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].0, "category.add");
        assert_eq!(audit[0].1["version"], 0);
        assert!(audit[0].1["categories"]["env.graffiti"].is_null());
        assert_eq!(audit[0].2["version"], 1);
        assert_eq!(audit[0].2["categories"]["env.graffiti"]["name_zh"], "乱涂乱画");
    })
    .await;
}

#[tokio::test]
async fn an_edit_through_the_page_renames_what_new_cases_and_open311_show() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = login(&app, "admin").await;
        let (s, _, page) = app.browser_get("/admin/categories", &admin).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("垃圾清运") && page.contains("env.garbage"));
        let (s, _, page) = app
            .browser_get("/admin/categories/env.garbage/edit", &admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("name=\"version\" value=\"0\""), "{page}");
        assert!(page.contains("garbage_kind"));
        let values =
            "household | 生活垃圾 | Household waste\nkitchen | 湿垃圾(厨余) | Kitchen waste";
        let form = encode(&[
            ("version", "0"),
            ("fields", "2"),
            ("parent", "env"),
            ("name_zh", "垃圾收运"),
            ("name_en", "Refuse collection"),
            ("owner", "property_company"),
            ("deadlines", "inherit"),
            ("anonymous", ""),
            ("urgent", ""),
            ("keywords", "垃圾, 清运"),
            ("f0_code", "garbage_kind"),
            ("f0_datatype", "singlevaluelist"),
            ("f0_required", "1"),
            ("f0_order", "1"),
            ("f0_desc_zh", "垃圾类型"),
            ("f0_desc_en", "Kind of waste"),
            ("f0_values", values),
            ("f1_code", ""),
        ]);
        let (s, h, body) = app
            .browser_post("/admin/categories/env.garbage/edit", &admin, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert!(h[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/admin/categories?saved="));

        let token = app.token(&f, "admin").await;
        let (_, v) = app.get_json("/api/v1/categories", &token).await;
        assert_eq!(v["version"], 1);
        let c = v["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "env.garbage")
            .unwrap()
            .clone();
        assert_eq!(c["owner"], "property_company");
        assert_eq!(c["keywords"], json!(["垃圾", "清运"]));
        assert_eq!(c["fields"][0]["values"].as_array().unwrap().len(), 2);
        assert!(c.get("retired").is_none());

        let page = new_case_form(&app).await;
        assert!(page.contains("垃圾收运"), "{page}");
        assert!(!page.contains("垃圾清运"));
        let list = services(&app, "310118003").await;
        assert!(list.contains(&("env.garbage".to_string(), "垃圾收运".to_string())));

        // Adding a child through the page.
        let (s, _, page) = app
            .browser_get("/admin/categories/add?parent=facilities", &admin)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("value=\"facilities.\""), "{page}");
        let form = encode(&[
            ("version", "1"),
            ("fields", "1"),
            ("code", "facilities.bench"),
            ("parent", "facilities"),
            ("name_zh", "座椅损坏"),
            ("name_en", "Broken bench"),
            ("owner", ""),
            ("deadlines", "inherit"),
            ("anonymous", ""),
            ("urgent", ""),
            ("keywords", ""),
            ("f0_code", ""),
        ]);
        let (s, _, body) = app
            .browser_post("/admin/categories/add", &admin, &form)
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert!(offers(&new_case_form(&app).await, "facilities.bench"));
        let (_, list) = app.get_json("/api/v1/categories", &token).await;
        assert_eq!(list["version"], 2);

        let audit = audit_actions(&app, f.sid).await;
        let kinds: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(kinds, ["category.update", "category.add"]);
        assert_eq!(
            audit[0].1["categories"]["env.garbage"]["name_zh"],
            "垃圾清运"
        );
        assert_eq!(
            audit[0].2["categories"]["env.garbage"]["name_zh"],
            "垃圾收运"
        );
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_refused_with_409_on_the_api_and_the_page() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let token = app.token(&f, "admin").await;
        let (s, v) = patch(&app, &token, "env.clutter", json!({ "version": 0, "name_en": "Clutter" })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["version"], 1);
        // Someone who read version 0 tries again.
        for (s, v) in [
            patch(&app, &token, "env.clutter", json!({ "version": 0, "name_en": "Mess" })).await,
            put(&app, &token, json!({ "version": 0, "categories": v["categories"] })).await,
            app.post_json("/api/v1/categories", &token, json!({ "version": 0, "code": "env.x", "name_zh": "某", "name_en": "X", "parent": "env" })).await,
        ] {
            assert_eq!(s, StatusCode::CONFLICT, "{v}");
            assert!(v["detail"].as_str().unwrap_or("").contains("someone else") || v.to_string().contains("他人"), "{v}");
        }
        let admin = login(&app, "admin").await;
        let form = encode(&[
            ("version", "0"), ("fields", "1"), ("parent", "env"), ("name_zh", "乱堆乱放"), ("name_en", "Mess"),
            ("owner", ""), ("deadlines", "inherit"), ("anonymous", ""), ("urgent", ""), ("keywords", ""), ("f0_code", ""),
        ]);
        let (s, _, page) = app.browser_post("/admin/categories/env.clutter/edit", &admin, &form).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("已被他人修改"), "{page}");
        assert!(page.contains("value=\"Mess\""), "what was typed is kept");
        let (s, _, page) = app.browser_post("/admin/categories/toml", &admin, &encode(&[("version", "0"), ("text", "")])).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert_eq!(version(&app, &token).await, 1);
        assert_eq!(audit_actions(&app, f.sid).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn an_invalid_tree_is_refused_with_422_naming_each_field() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let token = app.token(&f, "admin").await;
        let (_, v) = app.get_json("/api/v1/categories", &token).await;
        let mut cats = v["categories"].as_array().unwrap().clone();
        let i = cats.iter().position(|c| c["code"] == "env").unwrap();
        cats[i].as_object_mut().unwrap().remove("owner");
        cats[i]["name_en"] = json!(" ");
        let (s, v) = put(&app, &token, json!({ "version": 0, "categories": cats })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&format!("categories[{i}].owner").as_str()), "{fields:?}");
        assert!(fields.contains(&format!("categories[{i}].name_en").as_str()), "{fields:?}");

        // Deleting a category is refused: retire it instead.
        let mut fewer = v_categories(&app, &token).await;
        fewer.retain(|c| c["code"] != "env.pests");
        let (s, v) = put(&app, &token, json!({ "version": 0, "categories": fewer })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], "categories");
        assert!(v.to_string().contains("env.pests"));

        // One category: errors name its own fields.
        let (s, v) = app
            .post_json("/api/v1/categories", &token, json!({ "version": 0, "code": "Bad Code", "name_zh": "", "name_en": "X", "parent": "env" }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"code") && fields.contains(&"name_zh"), "{fields:?}");
        let (s, v) = patch(&app, &token, "safety.gas", json!({ "version": 0, "deadlines": { "first_contact": { "working_days": 1 }, "handling": { "hours": 4 }, "rehandling": { "hours": 4 } } })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], "deadlines.first_contact");
        let (s, _) = patch(&app, &token, "safety.gas", json!({ "version": 0, "code": "safety.gas2" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = patch(&app, &token, "nope", json!({ "version": 0, "name_zh": "无" })).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = put(&app, &token, json!({ "version": 0, "toml": "[[category]\ncode =" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // The page shows each message, in the page's language, and keeps what was typed.
        let admin = login(&app, "admin").await;
        let form = encode(&[
            ("version", "0"), ("fields", "1"), ("code", "env.x"), ("parent", "env"), ("name_zh", ""), ("name_en", "Typed"),
            ("owner", ""), ("deadlines", "set"), ("first_contact_n", "abc"), ("first_contact_unit", "working_days"),
            ("handling_n", "5"), ("handling_unit", "working_days"), ("rehandling_n", "3"), ("rehandling_unit", "working_days"),
            ("anonymous", ""), ("urgent", ""), ("keywords", ""), ("f0_code", ""),
        ]);
        let (s, _, page) = app.browser_post("/admin/categories/add", &admin, &form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("请填写一个正整数"), "{page}");
        let form = encode(&[
            ("version", "0"), ("fields", "1"), ("code", "env.x"), ("parent", "env"), ("name_zh", ""), ("name_en", "Typed"),
            ("owner", ""), ("deadlines", "inherit"), ("anonymous", ""), ("urgent", ""), ("keywords", ""),
            ("f0_code", "bad code"), ("f0_datatype", "singlevaluelist"), ("f0_desc_zh", "问"), ("f0_desc_en", "Q"),
        ]);
        let (s, _, page) = app.browser_post("/admin/categories/add", &admin, &form).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("请填写中文名称"), "{page}");
        assert!(page.contains("列表字段须至少有一个选项"), "{page}");
        assert!(page.contains("value=\"Typed\""));
        let (s, _, page) = app.browser_post("/admin/categories/toml", &admin, &encode(&[("version", "0"), ("text", "[[category]]\ncode = \"Env\"\nname_zh = \"环境\"\nname_en = \"Env\"\n")])).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("categories[0].code"), "{page}");

        assert_eq!(version(&app, &token).await, 0);
        assert!(audit_actions(&app, f.sid).await.is_empty());
    })
    .await;
}

async fn v_categories(app: &TestApp, token: &str) -> Vec<Value> {
    let (_, v) = app.get_json("/api/v1/categories", token).await;
    v["categories"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_retired_category_refuses_new_cases_but_old_cases_keep_it() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let token = app.token(&f, "admin").await;
        let (s, c) = open_case(&app, &f, &token, "env.clutter").await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let id = c["id"].as_i64().unwrap();

        let (s, v) = patch(
            &app,
            &token,
            "env.clutter",
            json!({ "version": 0, "retired": true }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!v["offered"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "env.clutter"));

        let (s, v) = open_case(&app, &f, &token, "env.clutter").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], "category");
        assert!(!offers(&new_case_form(&app).await, "env.clutter"));
        assert!(!lists(&services(&app, "310118003").await, "env.clutter"));
        let req = Request::get("/open311/v2/services/env.clutter.json?jurisdiction_id=310118003")
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.0, StatusCode::NOT_FOUND);

        // The old case still shows its category, and its clocks still run on its deadlines.
        let admin = login(&app, "admin").await;
        let (s, _, page) = app.browser_get(&format!("/cases/{id}"), &admin).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("环境卫生 / 乱堆乱放"), "{page}");
        let act = |version: i64, action: Value| {
            let app = &app;
            let token = &token;
            async move {
                app.post_json(
                    &format!("/api/v1/cases/{id}/actions"),
                    token,
                    json!({ "version": version, "action": action }),
                )
                .await
            }
        };
        let (s, v) = act(1, json!({ "kind": "register" })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = act(2, json!({ "kind": "dispatch", "unit_id": f.grid_a1 })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v["lifecycle"]["due_ms"].as_i64().is_some(), "{v}");

        // The editor marks it, and restoring it offers it again.
        let (_, _, page) = app.browser_get("/admin/categories", &admin).await;
        assert!(page.contains("已停用"));
        let (s, _, body) = app
            .browser_post(
                "/admin/categories/env.clutter/retire",
                &admin,
                &encode(&[("version", "1"), ("retired", "0")]),
            )
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert!(offers(&new_case_form(&app).await, "env.clutter"));

        // Retiring a parent retires its subtree; the parent does not become a leaf to pick.
        let (s, _, body) = app
            .browser_post(
                "/admin/categories/lift/retire",
                &admin,
                &encode(&[("version", "2"), ("retired", "1")]),
            )
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        let page = new_case_form(&app).await;
        assert!(!offers(&page, "lift.fault") && !offers(&page, "lift"));
        let list = services(&app, "310118003").await;
        assert!(!list.iter().any(|(c, _)| c.starts_with("lift")));

        let kinds: Vec<String> = audit_actions(&app, f.sid)
            .await
            .into_iter()
            .map(|a| a.0)
            .collect();
        assert_eq!(
            kinds,
            ["category.retire", "category.restore", "category.retire"]
        );
    })
    .await;
}

#[tokio::test]
async fn only_subdistrict_admins_change_categories() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        for user in ["gm_a1", "resident", "auditor"] {
            let t = app.token(&f, user).await;
            let (s, v) = app.get_json("/api/v1/categories", &t).await;
            assert_eq!(s, StatusCode::OK, "{user} reads: {v}");
            let cats = v["categories"].clone();
            assert_eq!(put(&app, &t, json!({ "version": 0, "categories": cats })).await.0, StatusCode::FORBIDDEN, "{user}");
            assert_eq!(
                app.post_json("/api/v1/categories", &t, json!({ "version": 0, "code": "env.x", "name_zh": "某", "name_en": "X", "parent": "env" })).await.0,
                StatusCode::FORBIDDEN
            );
            assert_eq!(patch(&app, &t, "env.clutter", json!({ "version": 0, "retired": true })).await.0, StatusCode::FORBIDDEN);
            let cookies = login(&app, user).await;
            for path in ["/admin/categories", "/admin/categories/env.clutter/edit", "/admin/categories/add", "/admin/categories/toml"] {
                let (s, _, _) = app.browser_get(path, &cookies).await;
                assert_eq!(s, StatusCode::FORBIDDEN, "{user} {path}");
            }
            let (s, _, _) = app
                .browser_post("/admin/categories/env.clutter/retire", &cookies, &encode(&[("version", "0"), ("retired", "1")]))
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN);
        }
        let (s, _, _) = app
            .send(Request::get("/api/v1/categories").body(Body::empty()).unwrap())
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let admin = app.token(&f, "admin").await;
        assert_eq!(version(&app, &admin).await, 0);
        assert!(audit_actions(&app, f.sid).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_toml_page_round_trips_and_saves_a_change() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let admin = login(&app, "admin").await;
        let (s, _, page) = app.browser_get("/admin/categories/toml", &admin).await;
        assert_eq!(s, StatusCode::OK);
        let text = textarea(&page, "text");
        assert!(text.contains("[[category]]") && text.contains("code = \"env.garbage\""));
        // Unchanged: nothing is stored.
        let (s, _, body) = app
            .browser_post(
                "/admin/categories/toml",
                &admin,
                &encode(&[("version", "0"), ("text", &text)]),
            )
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        let token = app.token(&f, "admin").await;
        assert_eq!(version(&app, &token).await, 0);
        // Changed: one version, the change audited.
        let changed = text.replace("name_zh = \"路灯损坏\"", "name_zh = \"路灯不亮\"");
        assert_ne!(changed, text);
        let (s, _, body) = app
            .browser_post(
                "/admin/categories/toml",
                &admin,
                &encode(&[("version", "0"), ("text", &changed)]),
            )
            .await;
        assert!(s.is_redirection(), "{s} {body}");
        assert_eq!(version(&app, &token).await, 1);
        assert!(lists(
            &services(&app, "310118003").await,
            "facilities.streetlight"
        ));
        assert!(services(&app, "310118003")
            .await
            .contains(&("facilities.streetlight".into(), "路灯不亮".into())));
        let audit = audit_actions(&app, f.sid).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].0, "category.replace");
        let changed: Vec<&String> = audit[0].2["categories"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(changed, ["facilities.streetlight"]);
        // The API takes TOML too, with a dry run that stores nothing.
        let (s, v) = app
            .json(
                Method::PUT,
                "/api/v1/categories?dry_run=true",
                &token,
                json!({ "version": 1, "toml": text }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(version(&app, &token).await, 1);
    })
    .await;
}

#[tokio::test]
async fn each_subdistrict_has_its_own_tree() {
    for_each_db(|app| async move {
        let a = app.fixture().await;
        let b = app.fixture_named("310118004", "赵巷镇").await;
        let ta = app.token(&a, "admin").await;
        let tb = app.token_in(b.sid, "admin").await;
        let (s, v) = patch(
            &app,
            &ta,
            "env.pests",
            json!({ "version": 0, "retired": true }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(version(&app, &tb).await, 0);
        assert!(!lists(&services(&app, "310118003").await, "env.pests"));
        assert!(lists(&services(&app, "310118004").await, "env.pests"));
        let (s, c) = open_case(&app, &b, &tb, "env.pests").await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        // A second version of b's tree does not disturb a's.
        let (s, _) = patch(
            &app,
            &tb,
            "env.pests",
            json!({ "version": 0, "name_zh": "病媒防治" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = patch(
            &app,
            &ta,
            "env.pests",
            json!({ "version": 1, "name_zh": "四害" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (_, va) = app.get_json("/api/v1/categories", &ta).await;
        let (_, vb) = app.get_json("/api/v1/categories", &tb).await;
        let name = |v: &Value| {
            v["categories"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["code"] == "env.pests")
                .unwrap()["name_zh"]
                .clone()
        };
        assert_eq!(name(&va), "四害");
        assert_eq!(name(&vb), "病媒防治");
        assert_eq!(va["version"], 2);
        assert_eq!(vb["version"], 1);
    })
    .await;
}

#[tokio::test]
async fn of_two_edits_racing_on_one_version_one_wins() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let t = app.token(&f, "admin").await;
        let (a, b) = tokio::join!(
            patch(
                &app,
                &t,
                "env.pests",
                json!({ "version": 0, "name_zh": "甲" })
            ),
            patch(
                &app,
                &t,
                "env.sewage",
                json!({ "version": 0, "name_zh": "乙" })
            ),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{a:?} {b:?}"
        );
        assert_eq!(version(&app, &t).await, 1);
        assert_eq!(audit_actions(&app, f.sid).await.len(), 1);
    })
    .await;
}
