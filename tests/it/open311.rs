//! Open311 GeoReport v2, read side: discovery, the service list and service definitions
//! from the category tree, in JSON and XML, public, with errors in the spec's format.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value;

use crate::harness::{for_each_db, TestApp};

/// A public GET (no credentials), optionally with an Accept-Language.
async fn get(app: &TestApp, path: &str, lang: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::get(path).header(header::HOST, "rb.example.cn");
    if let Some(l) = lang {
        req = req.header(header::ACCEPT_LANGUAGE, l);
    }
    let (s, h, b) = app.send(req.body(Body::empty()).unwrap()).await;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (s, ct, String::from_utf8(b).unwrap())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// Minimal XML check: the declaration, then tags that nest and close in order (the
/// documents use no attributes), and `&` only as one of the five entities.
fn assert_well_formed(xml: &str) {
    let body = xml
        .strip_prefix(XML_DECL)
        .unwrap_or_else(|| panic!("no declaration: {xml}"));
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        assert!(!text.contains('>'), "stray > in {text:?}");
        for (k, _) in text.match_indices('&') {
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| text[k..].starts_with(e)),
                "bare & in {text:?}"
            );
        }
        let j = rest[i..].find('>').expect("unclosed tag");
        let tag = &rest[i + 1..i + j];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
        } else {
            stack.push(tag);
        }
        rest = &rest[i + j + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(rest.trim().is_empty());
}

/// The text of every `<name>…</name>` in order.
fn texts<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.match_indices(&open)
        .map(|(i, _)| {
            let start = i + open.len();
            let end = start + xml[start..].find(&close).unwrap();
            &xml[start..end]
        })
        .collect()
}

#[tokio::test]
async fn discovery_in_both_formats() {
    for_each_db(|app| async move {
        let (s, ct, b) = get(&app, "/open311/v2/discovery.json", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ct, "application/json; charset=utf-8");
        let v = json(&b);
        assert!(v["changeset"].is_string());
        assert!(v["contact"].is_string());
        assert!(v["key_service"].is_string());
        let e = &v["endpoints"][0];
        assert_eq!(e["specification"], "http://wiki.open311.org/GeoReport_v2");
        assert_eq!(e["url"], "http://rb.example.cn/open311/v2");
        assert_eq!(e["type"], "production");
        assert_eq!(
            e["formats"],
            serde_json::json!(["text/xml", "application/json"])
        );

        let (s, ct, b) = get(&app, "/open311/v2/discovery.xml", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert_well_formed(&b);
        assert!(b.contains("<discovery>"));
        assert_eq!(texts(&b, "url"), ["http://rb.example.cn/open311/v2"]);
        assert_eq!(texts(&b, "format"), ["text/xml", "application/json"]);
        assert_eq!(texts(&b, "type"), ["production"]);
    })
    .await;
}

#[tokio::test]
async fn the_service_list_comes_from_the_category_tree() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        // One subdistrict: jurisdiction_id may be left out, or given.
        for path in [
            "/open311/v2/services.json",
            "/open311/v2/services.json?jurisdiction_id=310118003",
        ] {
            let (s, ct, b) = get(&app, path, None).await;
            assert_eq!(s, StatusCode::OK, "{path}: {b}");
            assert_eq!(ct, "application/json; charset=utf-8");
            let v = json(&b);
            let list = v.as_array().unwrap();
            let garbage = list
                .iter()
                .find(|s| s["service_code"] == "env.garbage")
                .expect("a seeded leaf is listed");
            assert_eq!(garbage["service_name"], "垃圾清运");
            assert_eq!(garbage["description"], "环境卫生 / 垃圾清运");
            assert_eq!(garbage["metadata"], true);
            assert_eq!(garbage["type"], "realtime");
            assert_eq!(garbage["group"], "环境卫生");
            assert!(garbage["keywords"].as_str().unwrap().contains("垃圾桶"));
            assert!(
                list.iter().all(|s| s["service_code"] != "env"),
                "a root is a group, not a service"
            );
        }
        let (s, ct, b) = get(
            &app,
            "/open311/v2/services.xml?jurisdiction_id=310118003",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert_well_formed(&b);
        let codes = texts(&b, "service_code");
        assert!(codes.contains(&"env.garbage"), "{codes:?}");
        assert_eq!(b.matches("<service>").count(), codes.len());
        assert_eq!(b.matches("</service>").count(), codes.len());
        assert_eq!(texts(&b, "type").len(), codes.len());
        assert!(b.contains("<description>环境卫生 / 垃圾清运</description>"));
    })
    .await;
}

#[tokio::test]
async fn a_definition_lists_its_attributes() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let (s, ct, b) = get(&app, "/open311/v2/services/env.garbage.json", None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(ct, "application/json; charset=utf-8");
        let v = json(&b);
        assert_eq!(v["service_code"], "env.garbage");
        let a = &v["attributes"][0];
        assert_eq!(a["code"], "garbage_kind");
        assert_eq!(a["datatype"], "singlevaluelist");
        assert_eq!(a["variable"], true);
        assert_eq!(a["required"], true);
        assert_eq!(a["order"], 1);
        assert_eq!(a["description"], "垃圾类型");
        assert!(a.get("datatype_description").is_some());
        assert_eq!(
            a["values"][0],
            serde_json::json!({"key": "household", "name": "生活垃圾"})
        );

        let (s, ct, b) = get(
            &app,
            "/open311/v2/services/env.garbage.xml?jurisdiction_id=310118003",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert_well_formed(&b);
        assert!(b.contains(
            "<service_definition><service_code>env.garbage</service_code><attributes><attribute>"
        ));
        assert_eq!(texts(&b, "datatype"), ["singlevaluelist"]);
        let keys = texts(&b, "key");
        assert_eq!(keys[0], "household");
        assert_eq!(texts(&b, "value").len(), keys.len());
    })
    .await;
}

#[tokio::test]
async fn english_names_with_accept_language() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let en = Some("en-GB,en;q=0.9,zh;q=0.5");
        let (_, _, b) = get(&app, "/open311/v2/services.json", en).await;
        let v = json(&b);
        let garbage = v
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service_code"] == "env.garbage")
            .unwrap()
            .clone();
        assert_eq!(garbage["service_name"], "Garbage collection");
        assert_eq!(garbage["group"], "Environment and sanitation");
        let (_, _, b) = get(&app, "/open311/v2/services/env.garbage.xml", en).await;
        assert!(b.contains("<description>Kind of waste</description>"));
        assert!(b.contains("<name>Household waste</name>"));
        // Anything else is zh-CN.
        let (_, _, b) = get(&app, "/open311/v2/services/env.garbage.json", Some("fr")).await;
        assert_eq!(json(&b)["attributes"][0]["description"], "垃圾类型");
    })
    .await;
}

#[tokio::test]
async fn errors_come_in_the_spec_format() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        // Unknown service, in both formats; a group is no service either.
        for path in [
            "/open311/v2/services/no.such.json",
            "/open311/v2/services/env.json",
        ] {
            let (s, ct, b) = get(&app, path, Some("en")).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(ct, "application/json; charset=utf-8");
            let v = json(&b);
            assert_eq!(v[0]["code"], 404);
            assert!(v[0]["description"]
                .as_str()
                .unwrap()
                .contains("service_code"));
            assert_eq!(v.as_array().unwrap().len(), 1);
        }
        let (s, ct, b) = get(&app, "/open311/v2/services/no.such.xml", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert_well_formed(&b);
        assert!(b.contains("<errors><error><code>404</code><description>"));
        assert_eq!(texts(&b, "error").len(), 1);

        // Unknown jurisdiction.
        let (s, _, b) = get(
            &app,
            "/open311/v2/services.json?jurisdiction_id=999999999",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(json(&b)[0]["code"], 404);
        let (s, _, b) = get(
            &app,
            "/open311/v2/services/env.garbage.xml?jurisdiction_id=999999999",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(b.contains("<code>404</code>"));

        // A format other than json or xml: 400, in JSON.
        for path in [
            "/open311/v2/services.yaml",
            "/open311/v2/services/env.garbage.html",
            "/open311/v2/discovery",
        ] {
            let (s, ct, b) = get(&app, path, None).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(ct, "application/json; charset=utf-8");
            assert_eq!(json(&b)[0]["code"], 400);
        }
    })
    .await;
}

#[tokio::test]
async fn several_subdistricts_need_a_jurisdiction() {
    for_each_db(|app| async move {
        let _a = app.fixture().await;
        let _b = app.fixture_named("310118004", "盈浦街道").await;
        let (s, _, b) = get(&app, "/open311/v2/services.json", Some("en")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let v = json(&b);
        assert_eq!(v[0]["code"], 400);
        assert!(v[0]["description"]
            .as_str()
            .unwrap()
            .contains("jurisdiction_id"));
        let (s, _, b) = get(&app, "/open311/v2/services/env.garbage.xml", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_well_formed(&b);
        assert!(b.contains("<code>400</code>"));
        for code in ["310118003", "310118004"] {
            let (s, _, _) = get(
                &app,
                &format!("/open311/v2/services.json?jurisdiction_id={code}"),
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{code}");
            let (s, _, _) = get(
                &app,
                &format!("/open311/v2/services/env.garbage.json?jurisdiction_id={code}"),
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{code}");
        }
        // Discovery needs no jurisdiction.
        let (s, _, _) = get(&app, "/open311/v2/discovery.json", None).await;
        assert_eq!(s, StatusCode::OK);
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Service requests: POST (api_key), GET with filters, GET by id, tokens.

/// A form POST as a 311 client sends it: no cookies, no CSRF field.
async fn post_form(
    app: &TestApp,
    path: &str,
    form: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut req = Request::post(path)
        .header(header::HOST, "rb.example.cn")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let (s, h, b) = app
        .send(req.body(Body::from(form.to_string())).unwrap())
        .await;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (s, ct, String::from_utf8(b).unwrap())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn cases_count(app: &TestApp, sid: i64) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM cases WHERE subdistrict_id = $1")
        .bind(sid)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// The stored case behind a service_request_id: (id, channel, node_id, attributes_json, contact_name).
async fn stored(app: &TestApp, sid: i64, number: &str) -> (i64, String, i64, String, String) {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT id, channel, node_id, attributes_json, contact_name FROM cases \
         WHERE subdistrict_id = $1 AND number = $2",
    )
    .bind(sid)
    .bind(number)
    .fetch_one(app.db.read())
    .await
    .unwrap();
    (
        r.get("id"),
        r.get("channel"),
        r.get("node_id"),
        r.get("attributes_json"),
        r.get("contact_name"),
    )
}

/// The spec's example request, with our service code and a place.
fn example(key: &str, node: i64) -> String {
    format!(
        "api_key={}&jurisdiction_id=310118003&service_code=env.garbage&lat=31.15524078&long=121.1212043\
         &address_string={}&address_id={node}&email=smit333%40example.cn&device_id=tt222111&account_id=123456\
         &first_name=john&last_name=smith&phone=13812341234&description={}\
         &media_url=http%3A%2F%2Fexample.com%2Fimage.jpg&attribute[garbage_kind]=household",
        enc(key),
        enc("城中东路311号门口"),
        enc("垃圾桶满溢,两天没人清运"),
    )
}

#[tokio::test]
async fn a_posted_request_becomes_a_case_and_reads_back_as_an_array() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let key = app.token(&f, "admin").await;
        // No cookies, no CSRF field: a 311 client's plain form POST.
        let (s, ct, b) = post_form(
            &app,
            "/open311/v2/requests.json",
            &example(&key, f.grid_a1),
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(ct, "application/json; charset=utf-8");
        let v = json(&b);
        assert_eq!(v.as_array().unwrap().len(), 1);
        let id = v[0]["service_request_id"].as_str().unwrap().to_string();
        assert!(v[0]["service_notice"].as_str().unwrap().contains(&id));
        assert!(v[0].get("account_id").unwrap().is_null());

        let (case_id, channel, node, attrs, contact) = stored(&app, f.sid, &id).await;
        assert!(case_id > 0);
        assert_eq!(channel, "open311");
        assert_eq!(node, f.grid_a1);
        assert!(attrs.contains("household"), "{attrs}");
        assert_eq!(contact, "john smith");

        // GET requests/{id}: an array with one element, public, nothing personal.
        let (s, ct, b) = get(&app, &format!("/open311/v2/requests/{id}.json"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(ct, "application/json; charset=utf-8");
        let v = json(&b);
        assert_eq!(v.as_array().unwrap().len(), 1);
        let r = &v[0];
        assert_eq!(r["service_request_id"], id);
        assert_eq!(r["status"], "open");
        assert_eq!(r["service_code"], "env.garbage");
        assert_eq!(r["service_name"], "垃圾清运");
        assert_eq!(r["address_id"], f.grid_a1.to_string());
        assert_eq!(r["address"], "城中东路311号门口");
        assert_eq!(r["lat"], 31.155);
        assert_eq!(r["long"], 121.121);
        assert!(r["description"].as_str().unwrap().starts_with("垃圾桶满溢"));
        let requested = r["requested_datetime"].as_str().unwrap();
        assert!(requested.ends_with("+08:00"), "{requested}");
        for key in [
            "status_notes",
            "agency_responsible",
            "service_notice",
            "updated_datetime",
            "expected_datetime",
            "zipcode",
            "media_url",
        ] {
            assert!(r.get(key).is_some(), "{key} missing");
        }
        for secret in ["13812341234", "john", "smith", "smit333", "tt222111"] {
            assert!(!b.contains(secret), "{secret} leaked: {b}");
        }

        // The same in XML, in the spec's element names.
        let (s, ct, b) = get(&app, &format!("/open311/v2/requests/{id}.xml"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert_well_formed(&b);
        assert!(b.contains("<service_requests><request><service_request_id>"));
        assert_eq!(texts(&b, "service_request_id"), [id.as_str()]);
        assert_eq!(texts(&b, "status"), ["open"]);
        assert_eq!(texts(&b, "request").len(), 1);

        // A token maps straight to the request.
        let (s, _, b) = get(&app, &format!("/open311/v2/tokens/{id}.json"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            json(&b),
            serde_json::json!([{ "service_request_id": id, "token": id }])
        );
        let (s, _, b) = get(&app, &format!("/open311/v2/tokens/{id}.xml"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_well_formed(&b);
        assert_eq!(texts(&b, "token"), [id.as_str()]);
        let (s, _, b) = get(&app, "/open311/v2/tokens/nope.json", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(json(&b)[0]["code"], 404);
        let (s, _, b) = get(&app, "/open311/v2/requests/2000-999999.xml", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(b.contains("<errors><error><code>404</code>"));
    })
    .await;
}

#[tokio::test]
async fn a_posted_request_answers_in_xml_and_takes_list_attributes() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let key = app.token(&f, "gm_a1").await;
        let form = format!(
            "api_key={}&service_code=neighbour.noise&address_id={}&description={}\
             &attribute%5Bnoise_time%5D%5B%5D=evening&attribute[noise_time][]=night",
            enc(&key),
            f.building_a1,
            enc("楼上每晚装修到十一点"),
        );
        let (s, ct, b) = post_form(&app, "/open311/v2/requests.xml", &form, &[]).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert_well_formed(&b);
        assert!(b.contains("<service_requests><request><service_request_id>"));
        assert_eq!(texts(&b, "account_id"), [""]);
        let id = texts(&b, "service_request_id")[0].to_string();
        let (_, _, node, attrs, _) = stored(&app, f.sid, &id).await;
        assert_eq!(node, f.building_a1);
        let attrs: Value = serde_json::from_str(&attrs).unwrap();
        assert_eq!(attrs["noise_time"], "evening,night");
    })
    .await;
}

#[tokio::test]
async fn malformed_requests_get_the_specs_error_list() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let key = app.token(&f, "admin").await;
        let before = cases_count(&app, f.sid).await;
        let en = [(header::ACCEPT_LANGUAGE.as_str(), "en")];
        let form = |extra: &str| format!("api_key={}&service_code=env.garbage&address_id={}&description=x{extra}", enc(&key), f.grid_a1);

        // No api_key, or a wrong one: 403.
        for bad in ["service_code=env.garbage&address_id=1", "api_key=rbt_1_nope&service_code=env.garbage"] {
            let (s, ct, b) = post_form(&app, "/open311/v2/requests.json", bad, &en).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{bad}: {b}");
            assert_eq!(ct, "application/json; charset=utf-8");
            let v = json(&b);
            assert_eq!(v[0]["code"], 403);
            assert!(v[0]["description"].as_str().unwrap().contains("api_key"));
        }
        let (s, _, b) = post_form(&app, "/open311/v2/requests.xml", "api_key=nope", &[]).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_well_formed(&b);
        assert!(b.contains("<errors><error><code>403</code>"));

        // An unknown service: 404; a group is no service either.
        for code in ["no.such", "env"] {
            let body = format!("api_key={}&service_code={code}&address_id={}", enc(&key), f.grid_a1);
            let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &body, &en).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
            assert!(json(&b)[0]["description"].as_str().unwrap().contains("service_code"));
        }
        // An unknown jurisdiction: 404.
        let (s, _, _) = post_form(&app, "/open311/v2/requests.json", &form("&jurisdiction_id=999"), &en).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Missing service_code and location: 400 with every problem listed.
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &format!("api_key={}", enc(&key)), &en).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        let v = json(&b);
        let all: Vec<&str> = v.as_array().unwrap().iter().map(|e| e["description"].as_str().unwrap()).collect();
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(all.iter().all(|_| true));
        assert!(v.as_array().unwrap().iter().all(|e| e["code"] == 400));
        assert!(all[0].contains("service_code") && all[1].contains("location"), "{all:?}");

        // The category's required attribute, a half point, a bad address_id, a bad phone.
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &form(""), &en).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(json(&b)[0]["description"].as_str().unwrap().contains("attribute[garbage_kind]"), "{b}");
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &form("&attribute[garbage_kind]=household&lat=31.1"), &en).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(b.contains("long"));
        let body = format!("api_key={}&service_code=env.garbage&address_id=twelve&attribute[garbage_kind]=household", enc(&key));
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &body, &en).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(b.contains("address_id"));
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &form("&attribute[garbage_kind]=household&phone=12"), &en).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(json(&b)[0]["description"].as_str().unwrap().starts_with("phone:"), "{b}");
        // A place that is not a grid or below, or unknown.
        let body = format!("api_key={}&service_code=env.garbage&address_id={}&attribute[garbage_kind]=household", enc(&key), f.community_a);
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &body, &en).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(json(&b)[0]["description"].as_str().unwrap().starts_with("address_id:"), "{b}");
        // A resident may not report at a grid they do not live in: 403.
        let resident = app.token(&f, "resident").await;
        let body = format!("api_key={}&service_code=env.garbage&address_id={}&attribute[garbage_kind]=household", enc(&resident), f.grid_a2);
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &body, &en).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        // Bad GET filters: 400 in the spec's list.
        let (s, _, b) = get(&app, "/open311/v2/requests.json?status=pending&start_date=soon", Some("en")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(json(&b).as_array().unwrap().len(), 2);
        let (s, _, b) = get(&app, "/open311/v2/requests.xml?status=pending", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_well_formed(&b);
        assert_eq!(texts(&b, "error").len(), 1);

        assert_eq!(cases_count(&app, f.sid).await, before, "nothing half-written");
    })
    .await;
}

#[tokio::test]
async fn csrf_does_not_block_open311_but_still_guards_the_site() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let key = app.token(&f, "admin").await;
        // Even with a browser's CSRF cookie and no field, an Open311 POST is judged by api_key.
        let (s, _, b) = post_form(
            &app,
            "/open311/v2/requests.json",
            &example(&key, f.grid_a1),
            &[("cookie", "rb_csrf=cccccccccccccccccccccccccccccccc")],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        // Other form posts without the token are still refused.
        let (s, _, _) = post_form(&app, "/login", "username=admin&password=x", &[]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test]
async fn a_replay_with_the_same_idempotency_key_answers_the_same_request() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let key = app.token(&f, "admin").await;
        let form = example(&key, f.grid_a1);
        let k = [("idempotency-key", "client-req-0001")];
        let (s, _, a) = post_form(&app, "/open311/v2/requests.json", &form, &k).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let n = cases_count(&app, f.sid).await;
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &form, &k).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            json(&a)[0]["service_request_id"],
            json(&b)[0]["service_request_id"]
        );
        assert_eq!(cases_count(&app, f.sid).await, n);
        // Without the key, the same body is a new request.
        let (_, _, c) = post_form(&app, "/open311/v2/requests.json", &form, &[]).await;
        assert_ne!(
            json(&a)[0]["service_request_id"],
            json(&c)[0]["service_request_id"]
        );
    })
    .await;
}

#[tokio::test]
async fn get_requests_filters_as_the_spec_says() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let key = app.token(&f, "admin").await;
        let (_, _, b) = post_form(&app, "/open311/v2/requests.json", &example(&key, f.grid_a1), &[]).await;
        let garbage = json(&b)[0]["service_request_id"].as_str().unwrap().to_string();
        let noise_form = format!(
            "api_key={}&service_code=neighbour.noise&address_id={}&description={}",
            enc(&key),
            f.grid_a2,
            enc("广场舞音乐太响")
        );
        let (_, _, b) = post_form(&app, "/open311/v2/requests.json", &noise_form, &[]).await;
        let noise = json(&b)[0]["service_request_id"].as_str().unwrap().to_string();
        // Reject the noise case: it is closed for Open311.
        let (noise_id, ..) = stored(&app, f.sid, &noise).await;
        let (s, v) = app
            .post_json(
                &format!("/api/v1/cases/{noise_id}/actions"),
                &key,
                serde_json::json!({ "version": 1, "action": { "kind": "reject", "reason": "不属于受理范围" } }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // A draft (a relayed chat message) is never public.
        let draft = redbutler::cases::store::open_case(
            &app.db,
            &f.admin,
            redbutler::cases::store::NewCase {
                category: "env.clutter".into(),
                node_id: f.grid_a1,
                title: "群消息".into(),
                description: "群里说垃圾没人收".into(),
                draft: true,
                ..Default::default()
            },
            "chat",
            None,
        )
        .await
        .unwrap()
        .case()
        .number
        .clone();

        let ids = |b: &str| -> Vec<String> {
            json(b)
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["service_request_id"].as_str().unwrap().to_string())
                .collect()
        };
        // Default: the last 90 days, newest first, drafts left out.
        let (s, _, b) = get(&app, "/open311/v2/requests.json", None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(ids(&b), [noise.clone(), garbage.clone()]);
        assert!(!b.contains(&draft));
        let (s, _, _) = get(&app, &format!("/open311/v2/requests/{draft}.json"), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // status
        let (_, _, b) = get(&app, "/open311/v2/requests.json?status=open", None).await;
        assert_eq!(ids(&b), [garbage.as_str()]);
        let (_, _, b) = get(&app, "/open311/v2/requests.json?status=closed", None).await;
        assert_eq!(ids(&b), [noise.as_str()]);
        assert_eq!(json(&b)[0]["status"], "closed");
        assert_eq!(json(&b)[0]["status_notes"], "不予立案");
        let (_, _, b) = get(&app, "/open311/v2/requests.json?status=open,closed", None).await;
        assert_eq!(ids(&b).len(), 2);
        // service_code
        let (_, _, b) = get(&app, "/open311/v2/requests.json?service_code=neighbour.noise", None).await;
        assert_eq!(ids(&b), [noise.as_str()]);
        // service_request_id (a comma list) overrides the other filters.
        let (_, _, b) = get(
            &app,
            &format!("/open311/v2/requests.json?service_request_id={garbage},{noise}&status=closed&start_date=2001-01-01T00:00:00Z&end_date=2001-01-02T00:00:00Z"),
            None,
        )
        .await;
        assert_eq!(ids(&b).len(), 2);
        // Dates: a window in the past is empty; one around now has both. A `+` sent
        // unencoded (read as a space) still works.
        let (s, _, b) = get(&app, "/open311/v2/requests.json?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(json(&b), serde_json::json!([]));
        let now = time::OffsetDateTime::now_utc();
        let fmt = |t: time::OffsetDateTime| {
            t.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        let start = fmt(now - time::Duration::hours(1));
        let end = fmt(now + time::Duration::hours(1));
        let (s, _, b) = get(&app, &format!("/open311/v2/requests.json?start_date={start}&end_date={end}"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(ids(&b).len(), 2);
        let (_, _, b) = get(&app, &format!("/open311/v2/requests.json?start_date={}", enc(&end)), None).await;
        assert_eq!(ids(&b).len(), 0);
        // XML list.
        let (s, ct, b) = get(&app, "/open311/v2/requests.xml?jurisdiction_id=310118003", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ct, "text/xml; charset=utf-8");
        assert_well_formed(&b);
        assert!(b.contains("<service_requests><request>"));
        assert_eq!(texts(&b, "request").len(), 2);
        // English names with Accept-Language.
        let (_, _, b) = get(&app, &format!("/open311/v2/requests/{garbage}.json"), Some("en")).await;
        assert_eq!(json(&b)[0]["service_name"], "Garbage collection");
    })
    .await;
}

#[tokio::test]
async fn without_an_address_id_the_configured_default_and_box_decide() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let key = app.token(&f, "admin").await;
        let base = format!("api_key={}&service_code=env.garbage&attribute[garbage_kind]=bulky&description=x", enc(&key));
        let point = format!("{base}&lat=31.15&long=121.10");
        // Nothing configured: a point alone has nowhere to go.
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &point, &[]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(b.contains("address_id"));
        // An address_string naming exactly one building places it there.
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &format!("{base}&address_string={}", enc("城中东路311号")), &[]).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let id = json(&b)[0]["service_request_id"].as_str().unwrap().to_string();
        assert_eq!(stored(&app, f.sid, &id).await.2, f.building_a1);

        // Configure the default node and the box (API), then points go there.
        let (s, v) = app
            .json(
                axum::http::Method::PUT,
                "/api/v1/open311/settings",
                &key,
                serde_json::json!({ "default_node_id": f.grid_a2, "min_lat_e6": 31_000_000, "max_lat_e6": 31_300_000,
                    "min_lng_e6": 120_900_000, "max_lng_e6": 121_300_000 }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.get_json("/api/v1/open311/settings", &key).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["default_node_id"], f.grid_a2);
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &point, &[]).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let id = json(&b)[0]["service_request_id"].as_str().unwrap().to_string();
        assert_eq!(stored(&app, f.sid, &id).await.2, f.grid_a2);
        // Outside the box: refused.
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &format!("{base}&lat=39.9&long=116.4"), &[("accept-language", "en")]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(b.contains("outside"));
        // Bad settings are refused, and only admins may change them.
        let (s, _) = app
            .json(axum::http::Method::PUT, "/api/v1/open311/settings", &key, serde_json::json!({ "default_node_id": f.community_a }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app
            .json(axum::http::Method::PUT, "/api/v1/open311/settings", &key, serde_json::json!({ "min_lat_e6": 1 }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let gm = app.token(&f, "gm_a1").await;
        let (s, _) = app.get_json("/api/v1/open311/settings", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn the_settings_page_saves_the_default_node() {
    for_each_db(|app| async move {
        let f = app.fixture().await;
        let (_, cookies) = app.browser_login("admin", crate::harness::PASSWORD).await;
        let (s, _, page) = app.browser_get("/admin/open311", &cookies).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("name=\"default_node_id\""));
        assert!(page.contains("章浜一网格"));
        let (s, h, _) = app
            .browser_post(
                "/admin/open311",
                &cookies,
                &format!(
                    "default_node_id={}&min_lat=31&max_lat=31.3&min_lng=120.9&max_lng=121.3",
                    f.grid_a1
                ),
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], "/admin/open311?saved=1");
        let (_, _, page) = app.browser_get("/admin/open311?saved=1", &cookies).await;
        assert!(page.contains("31.300000"));
        let (s, _, page) = app
            .browser_post("/admin/open311", &cookies, "default_node_id=&min_lat=north")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("31.15") || page.contains("十进制"));
        let (_, gm) = app.browser_login("gm_a1", crate::harness::PASSWORD).await;
        let (s, _, _) = app.browser_get("/admin/open311", &gm).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn requests_stay_in_their_jurisdiction() {
    for_each_db(|app| async move {
        let a = app.fixture().await;
        let _b = app.fixture_named("310118004", "盈浦街道").await;
        let key = app.token(&a, "admin").await;
        let (s, _, b) = post_form(
            &app,
            "/open311/v2/requests.json",
            &example(&key, a.grid_a1),
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let id = json(&b)[0]["service_request_id"]
            .as_str()
            .unwrap()
            .to_string();
        // A's key names B's jurisdiction: refused.
        let other = example(&key, a.grid_a1)
            .replace("jurisdiction_id=310118003", "jurisdiction_id=310118004");
        let (s, _, b) = post_form(&app, "/open311/v2/requests.json", &other, &[]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        // Reads need the jurisdiction here, and B's list holds none of A's requests.
        let (s, _, _) = get(&app, "/open311/v2/requests.json", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _, b) = get(
            &app,
            "/open311/v2/requests.json?jurisdiction_id=310118004",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(json(&b), serde_json::json!([]));
        let (s, _, _) = get(
            &app,
            &format!("/open311/v2/requests/{id}.json?jurisdiction_id=310118004"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _, b) = get(
            &app,
            &format!("/open311/v2/requests/{id}.json?jurisdiction_id=310118003"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(json(&b)[0]["service_request_id"], id);
    })
    .await;
}
