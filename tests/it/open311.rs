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
