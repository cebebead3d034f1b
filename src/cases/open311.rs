//! Open311 GeoReport v2 under `/open311/v2/`: discovery, the service list and service
//! definitions, served from the category tree so a 311 client asks exactly what the resident
//! form asks (`cases::category` builds the documents; this file renders and serves them);
//! and service requests (`requests.rs`: POST with `api_key`, GET with the spec's filters,
//! GET by id, tokens; `wire.rs`: the pure form, filter and document rules).
//!
//! Reads are public, as in the spec; `POST requests` authenticates by `api_key` alone (an API
//! token), never by cookie, so the CSRF guard exempts `/open311/`. Each document comes as
//! `.json` or `.xml`; errors use the spec's own error format (an array of `{code,
//! description}`, or `<errors><error>…`) in the format asked for, JSON when the format
//! itself is what is wrong. XML is written by hand: the documents are flat and small, and
//! [`escape`] is the single place text enters markup.
//!
//! `jurisdiction_id` is a subdistrict's code (e.g. `310118003`): required for reads when the
//! deployment holds several subdistricts, optional with exactly one (a POST's jurisdiction
//! is its api_key's). Names come in the language of `Accept-Language` (zh-CN unless English
//! is asked for first).
//!
//! The request paths are matched as `/open311/v2/{file}`, `/open311/v2/services/{file}`,
//! `/open311/v2/requests/{file}` and `/open311/v2/tokens/{file}` and split at the last dot, so
//! `services.yaml` is a 400 in the spec's format rather than the site's HTML 404.

mod requests;
pub mod wire;

pub use requests::{api_routes, Settings};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use super::category::{CategoryTree, Open311Definition, Open311Service};
use crate::i18n::{Lang, Text};
use crate::tree::store::{self as tree, Subdistrict};
use crate::web::AppState;

/// The spec this endpoint implements, as discovery names it.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this endpoint's behaviour last changed; bump it with any change clients should notice.
pub const CHANGESET: &str = "2025-06-01T00:00:00+08:00";
/// Where the endpoint lives, below the site's origin.
pub const BASE_PATH: &str = "/open311/v2";

pub const JSON_TYPE: &str = "application/json; charset=utf-8";
pub const XML_TYPE: &str = "text/xml; charset=utf-8";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// A response format, chosen by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON_TYPE,
            Format::Xml => XML_TYPE,
        }
    }
}

/// Splits `services.json` into `("services", Ok(Json))`; an unknown or missing extension
/// gives `Err(())` with the stem, so the caller can answer 400 about the format.
pub fn split_file(file: &str) -> (&str, Result<Format, ()>) {
    match file.rsplit_once('.') {
        Some((stem, ext)) => (stem, Format::from_ext(ext).ok_or(())),
        None => (file, Err(())),
    }
}

/// One entry of the spec's error array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

impl Open311Error {
    pub fn new(status: StatusCode, text: Text, lang: Lang) -> Open311Error {
        Open311Error {
            code: status.as_u16(),
            description: text.get(lang).to_string(),
        }
    }
}

/// An endpoint of the discovery document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub specification: &'static str,
    pub url: String,
    pub changeset: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub formats: [&'static str; 2],
}

/// The discovery document (`GET discovery`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub changeset: &'static str,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

/// The discovery document for an endpoint at `origin` (`https://host[:port]`, no slash).
pub fn discovery(origin: &str, lang: Lang) -> Discovery {
    Discovery {
        changeset: CHANGESET,
        contact: Text::new(
            "如有问题,请联系所在街道办事处。",
            "For questions, contact your subdistrict office.",
        )
        .get(lang)
        .to_string(),
        key_service: Text::new(
            "读取无需密钥。提交诉求(POST requests)须带 api_key:请在“我的账户”页面为有权反映的账号生成 API 令牌。",
            "Reading needs no key. POST requests needs an api_key: an API token made on the account page of a user who may report.",
        )
        .get(lang)
        .to_string(),
        endpoints: vec![Endpoint {
            specification: SPECIFICATION,
            url: format!("{origin}{BASE_PATH}"),
            changeset: CHANGESET,
            kind: "production",
            formats: ["text/xml", "application/json"],
        }],
    }
}

/// Escapes text for XML element content and attribute values. Characters XML 1.0 cannot
/// carry at all (C0 controls other than tab, newline, carriage return) are dropped, so a
/// stray control character in an administrator's text cannot make the document unreadable.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `<name>escaped text</name>`.
fn el(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

pub fn discovery_xml(d: &Discovery) -> String {
    let mut o = String::from(XML_DECL);
    o.push_str("<discovery>");
    el(&mut o, "changeset", d.changeset);
    el(&mut o, "contact", &d.contact);
    el(&mut o, "key_service", &d.key_service);
    o.push_str("<endpoints>");
    for e in &d.endpoints {
        o.push_str("<endpoint>");
        el(&mut o, "specification", e.specification);
        el(&mut o, "url", &e.url);
        el(&mut o, "changeset", e.changeset);
        el(&mut o, "type", e.kind);
        o.push_str("<formats>");
        for f in e.formats {
            el(&mut o, "format", f);
        }
        o.push_str("</formats></endpoint>");
    }
    o.push_str("</endpoints></discovery>\n");
    o
}

pub fn services_xml(services: &[Open311Service]) -> String {
    let mut o = String::from(XML_DECL);
    o.push_str("<services>");
    for s in services {
        o.push_str("<service>");
        el(&mut o, "service_code", &s.service_code);
        el(&mut o, "service_name", &s.service_name);
        el(&mut o, "description", &s.description);
        el(&mut o, "metadata", bool_str(s.metadata));
        el(&mut o, "type", s.kind);
        el(&mut o, "keywords", &s.keywords);
        el(&mut o, "group", &s.group);
        o.push_str("</service>");
    }
    o.push_str("</services>\n");
    o
}

pub fn definition_xml(d: &Open311Definition) -> String {
    let mut o = String::from(XML_DECL);
    o.push_str("<service_definition>");
    el(&mut o, "service_code", &d.service_code);
    o.push_str("<attributes>");
    for a in &d.attributes {
        o.push_str("<attribute>");
        el(&mut o, "variable", bool_str(a.variable));
        el(&mut o, "code", &a.code);
        el(&mut o, "datatype", a.datatype.as_str());
        el(&mut o, "required", bool_str(a.required));
        el(
            &mut o,
            "datatype_description",
            a.datatype_description.as_deref().unwrap_or(""),
        );
        el(&mut o, "order", &a.order.to_string());
        el(&mut o, "description", &a.description);
        o.push_str("<values>");
        for v in &a.values {
            o.push_str("<value>");
            el(&mut o, "key", &v.key);
            el(&mut o, "name", &v.name);
            o.push_str("</value>");
        }
        o.push_str("</values></attribute>");
    }
    o.push_str("</attributes></service_definition>\n");
    o
}

pub fn errors_xml(errors: &[Open311Error]) -> String {
    let mut o = String::from(XML_DECL);
    o.push_str("<errors>");
    for e in errors {
        o.push_str("<error>");
        el(&mut o, "code", &e.code.to_string());
        el(&mut o, "description", &e.description);
        o.push_str("</error>");
    }
    o.push_str("</errors>\n");
    o
}

/// The language of a request: the first supported one of `Accept-Language`, else zh-CN.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

/// A host as a client may name it (`name`, `name:port`, `[v6]:port`); anything else is
/// not echoed back into a document.
fn plausible_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// The request's own origin. The scheme is https when the server runs behind TLS (the
/// same setting that makes cookies `Secure`); the host is the request's `Host`, or its
/// URI authority, or `localhost` when neither is plausible.
pub fn request_origin(headers: &HeaderMap, uri: &Uri, behind_tls: bool) -> String {
    let scheme = if behind_tls { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.as_str().to_string()))
        .filter(|h| plausible_host(h))
        .unwrap_or_else(|| "localhost".to_string());
    format!("{scheme}://{host}")
}

/// Which subdistrict a request is about, by the rule above; `Err` is the spec error to
/// answer. `all` is the deployment's subdistricts, `by_code` the one named, if any.
pub fn choose_jurisdiction(
    asked: Option<&str>,
    by_code: Option<Subdistrict>,
    all: &[Subdistrict],
    lang: Lang,
) -> Result<Subdistrict, Open311Error> {
    match asked {
        Some(code) => by_code.ok_or_else(|| {
            Open311Error::new(
                StatusCode::NOT_FOUND,
                Text::owned(
                    format!("未知的 jurisdiction_id:{code}"),
                    format!("unknown jurisdiction_id: {code}"),
                ),
                lang,
            )
        }),
        None => match all {
            [one] => Ok(one.clone()),
            [] => Err(Open311Error::new(
                StatusCode::NOT_FOUND,
                Text::new("本系统尚未设立任何街道", "no jurisdiction is set up here"),
                lang,
            )),
            _ => Err(Open311Error::new(
                StatusCode::BAD_REQUEST,
                Text::new(
                    "本系统服务多个街道,请提供 jurisdiction_id(街道代码)",
                    "this deployment serves several jurisdictions: jurisdiction_id (the subdistrict code) is required",
                ),
                lang,
            )),
        },
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

/// The endpoints under `/open311/v2/` (reads public; `POST requests` authenticated by
/// `api_key`) and the settings page `/admin/open311`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top_level).post(top_level_post))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(requests::get_one))
        .route("/open311/v2/tokens/{file}", get(requests::get_token))
        .merge(requests::page_routes())
}

fn respond(status: StatusCode, format: Format, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    resp
}

fn json_body<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("Open311 documents serialise")
}

fn error_response(format: Format, e: Open311Error) -> Response {
    let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let errors = [e];
    let body = match format {
        Format::Json => json_body(&errors),
        Format::Xml => errors_xml(&errors),
    };
    respond(status, format, body)
}

fn not_found(format: Format, lang: Lang, what: Text) -> Response {
    error_response(format, Open311Error::new(StatusCode::NOT_FOUND, what, lang))
}

fn bad_format(lang: Lang) -> Response {
    error_response(
        Format::Json,
        Open311Error::new(
            StatusCode::BAD_REQUEST,
            Text::new(
                "不支持的格式:请使用 .json 或 .xml",
                "unsupported format: use .json or .xml",
            ),
            lang,
        ),
    )
}

fn internal(format: Format, lang: Lang, e: crate::error::Error) -> Response {
    tracing::error!(error = %e, "open311: reading the jurisdiction failed");
    error_response(
        format,
        Open311Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Text::new(
                "服务器内部错误,请稍后重试",
                "internal error; please try again later",
            ),
            lang,
        ),
    )
}

/// `jurisdiction_id` from the query string (empty counts as absent). Parsed by hand so a
/// malformed query cannot turn into a non-spec rejection.
fn jurisdiction_param(uri: &Uri) -> Option<String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "jurisdiction_id")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The subdistrict a request names (or the only one), as a ready error response otherwise.
async fn jurisdiction(
    st: &AppState,
    uri: &Uri,
    format: Format,
    lang: Lang,
) -> Result<Subdistrict, Response> {
    let asked = jurisdiction_param(uri);
    let (by_code, all) = match &asked {
        Some(code) => match tree::subdistrict_by_code(&st.db, code).await {
            Ok(s) => (s, Vec::new()),
            Err(e) => return Err(internal(format, lang, e)),
        },
        None => match tree::subdistricts(&st.db).await {
            Ok(all) => (None, all),
            Err(e) => return Err(internal(format, lang, e)),
        },
    };
    choose_jurisdiction(asked.as_deref(), by_code, &all, lang)
        .map_err(|e| error_response(format, e))
}

/// The categories a jurisdiction's services come from: what its stored tree offers for new
/// cases (retired categories are not listed).
async fn category_tree(
    st: &AppState,
    jurisdiction: &Subdistrict,
) -> crate::error::Result<CategoryTree> {
    super::category_store::offered(&st.db, jurisdiction.id).await
}

/// `discovery.{json,xml}` and `services.{json,xml}`.
async fn top_level(
    State(st): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let lang = request_lang(&headers);
    let (stem, format) = split_file(&file);
    let Ok(format) = format else {
        return bad_format(lang);
    };
    match stem {
        "discovery" => {
            let d = discovery(&request_origin(&headers, &uri, st.secure_cookies), lang);
            let body = match format {
                Format::Json => json_body(&d),
                Format::Xml => discovery_xml(&d),
            };
            respond(StatusCode::OK, format, body)
        }
        "services" => {
            let j = match jurisdiction(&st, &uri, format, lang).await {
                Ok(j) => j,
                Err(resp) => return resp,
            };
            let services = match category_tree(&st, &j).await {
                Ok(t) => t.open311_services(lang),
                Err(e) => return internal(format, lang, e),
            };
            let body = match format {
                Format::Json => json_body(&services),
                Format::Xml => services_xml(&services),
            };
            respond(StatusCode::OK, format, body)
        }
        "requests" => {
            let j = match jurisdiction(&st, &uri, format, lang).await {
                Ok(j) => j,
                Err(resp) => return resp,
            };
            requests::get_list(&st, &j, &uri, format, lang).await
        }
        _ => not_found(format, lang, Text::new("没有这个接口", "no such endpoint")),
    }
}

/// `POST requests.{json,xml}`; nothing else at this level takes a POST.
async fn top_level_post(
    State(st): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let lang = request_lang(&headers);
    let (stem, format) = split_file(&file);
    let Ok(format) = format else {
        return bad_format(lang);
    };
    match stem {
        "requests" => requests::post(&st, &headers, &uri, body, format, lang).await,
        _ => not_found(format, lang, Text::new("没有这个接口", "no such endpoint")),
    }
}

/// `services/{service_code}.{json,xml}`: the definition of a service a report can be filed
/// under (a leaf of the tree, as the service list shows).
async fn service_definition(
    State(st): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let lang = request_lang(&headers);
    let (code, format) = split_file(&file);
    let Ok(format) = format else {
        return bad_format(lang);
    };
    let j = match jurisdiction(&st, &uri, format, lang).await {
        Ok(j) => j,
        Err(resp) => return resp,
    };
    let tree = match category_tree(&st, &j).await {
        Ok(t) => t,
        Err(e) => return internal(format, lang, e),
    };
    let Some(category) = tree.get(code).filter(|c| tree.is_leaf(&c.code)) else {
        return not_found(
            format,
            lang,
            Text::owned(
                format!("未知的服务代码:{code}"),
                format!("unknown service_code: {code}"),
            ),
        );
    };
    let d = category.service_definition(lang);
    let body = match format {
        Format::Json => json_body(&d),
        Format::Xml => definition_xml(&d),
    };
    respond(StatusCode::OK, format, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sd(code: &str) -> Subdistrict {
        Subdistrict {
            id: 1,
            code: code.into(),
            name: "夏阳街道".into(),
        }
    }

    /// Undoes [`escape`], for round-trip checks.
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    }

    /// Minimal well-formedness: every `<tag>` is closed in order (no attributes are used),
    /// and no `&` starts anything but one of the five entities.
    fn well_formed(xml: &str) -> bool {
        let Some(body) = xml.strip_prefix(XML_DECL) else {
            return false;
        };
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = body;
        while let Some(i) = rest.find('<') {
            let text = &rest[..i];
            if !entities_ok(text) || text.contains('>') {
                return false;
            }
            let Some(j) = rest[i..].find('>') else {
                return false;
            };
            let tag = &rest[i + 1..i + j];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop() != Some(name) {
                    return false;
                }
            } else if !tag.ends_with('/') {
                stack.push(tag);
            }
            rest = &rest[i + j + 1..];
        }
        stack.is_empty() && rest.trim().is_empty()
    }

    fn entities_ok(text: &str) -> bool {
        text.match_indices('&').all(|(i, _)| {
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| text[i..].starts_with(e))
        })
    }

    const TRICKY: &str = r#"
[[category]]
code = "a"
name_zh = "水 & 电 <急>"
name_en = "Water & \"power\" <urgent>"
owner = "grid"
anonymous_allowed = true
deadlines = { first_contact = { hours = 2 }, handling = { hours = 24 }, rehandling = { hours = 24 } }

[[category]]
code = "a.b"
name_zh = "停水'"
name_en = "No water 'now'"
parent = "a"
keywords = ["水", "a&b"]

[[category.fields]]
code = "when"
datatype = "singlevaluelist"
required = true
description_zh = "何时<开始>?"
description_en = "Since when <roughly>?"
order = 1
values = [{ key = "k&1", name_zh = "今天", name_en = "today & <now>" }]
"#;

    fn tricky() -> CategoryTree {
        CategoryTree::from_toml(TRICKY).unwrap()
    }

    #[test]
    fn formats_come_from_the_last_extension() {
        assert_eq!(split_file("services.json"), ("services", Ok(Format::Json)));
        assert_eq!(split_file("services.xml"), ("services", Ok(Format::Xml)));
        assert_eq!(
            split_file("env.garbage.json"),
            ("env.garbage", Ok(Format::Json))
        );
        assert_eq!(split_file("services.yaml"), ("services", Err(())));
        assert_eq!(split_file("services"), ("services", Err(())));
        assert_eq!(split_file("services.JSON"), ("services", Err(())));
    }

    #[test]
    fn escape_covers_the_five_and_drops_illegal_controls() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("x\u{0}y\u{1b}z\tw\n"), "xyz\tw\n");
        assert_eq!(escape("垃圾清运"), "垃圾清运");
    }

    #[test]
    fn documents_are_well_formed_and_escaped() {
        let t = tricky();
        for lang in [Lang::Zh, Lang::En] {
            let s = services_xml(&t.open311_services(lang));
            assert!(well_formed(&s), "{s}");
            let d = definition_xml(&t.get("a.b").unwrap().service_definition(lang));
            assert!(well_formed(&d), "{d}");
        }
        let s = services_xml(&t.open311_services(Lang::En));
        assert!(s.contains("<group>Water &amp; &quot;power&quot; &lt;urgent&gt;</group>"));
        assert!(s.contains("<service_name>No water &apos;now&apos;</service_name>"));
        assert!(s.contains("<keywords>水,a&amp;b</keywords>"));
        assert!(s.contains("<metadata>true</metadata><type>realtime</type>"));
        let d = definition_xml(&t.get("a.b").unwrap().service_definition(Lang::En));
        assert!(d.contains("<datatype>singlevaluelist</datatype><required>true</required>"));
        assert!(d.contains("<datatype_description></datatype_description>"));
        assert!(d.contains("<value><key>k&amp;1</key><name>today &amp; &lt;now&gt;</name></value>"));
        assert!(d.contains("<description>Since when &lt;roughly&gt;?</description>"));
    }

    #[test]
    fn the_seeded_tree_renders_well_formed() {
        let t = CategoryTree::seeded();
        let services = t.open311_services(Lang::Zh);
        assert!(!services.is_empty());
        let xml = services_xml(&services);
        assert!(well_formed(&xml));
        assert_eq!(xml.matches("<service>").count(), services.len());
        for s in &services {
            let d = t.get(&s.service_code).unwrap().service_definition(Lang::En);
            assert!(well_formed(&definition_xml(&d)));
        }
    }

    #[test]
    fn discovery_names_the_spec_and_the_origin() {
        let d = discovery("https://rb.example.cn", Lang::En);
        assert_eq!(d.endpoints.len(), 1);
        assert_eq!(d.endpoints[0].url, "https://rb.example.cn/open311/v2");
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["endpoints"][0]["specification"], SPECIFICATION);
        assert_eq!(v["endpoints"][0]["type"], "production");
        assert_eq!(
            v["endpoints"][0]["formats"],
            serde_json::json!(["text/xml", "application/json"])
        );
        let x = discovery_xml(&d);
        assert!(well_formed(&x), "{x}");
        assert!(x.contains("<url>https://rb.example.cn/open311/v2</url>"));
        assert!(x.contains(
            "<formats><format>text/xml</format><format>application/json</format></formats>"
        ));
    }

    #[test]
    fn errors_render_in_the_spec_shape() {
        let e = [Open311Error::new(
            StatusCode::NOT_FOUND,
            Text::new("无", "unknown <x>"),
            Lang::En,
        )];
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!([{ "code": 404, "description": "unknown <x>" }])
        );
        let x = errors_xml(&e);
        assert!(well_formed(&x));
        assert!(x.contains(
            "<errors><error><code>404</code><description>unknown &lt;x&gt;</description></error></errors>"
        ));
    }

    #[test]
    fn the_origin_is_the_requests_own() {
        let mut h = HeaderMap::new();
        let uri: Uri = "/open311/v2/discovery.json".parse().unwrap();
        assert_eq!(request_origin(&h, &uri, false), "http://localhost");
        h.insert(header::HOST, HeaderValue::from_static("rb.example.cn:8443"));
        assert_eq!(request_origin(&h, &uri, true), "https://rb.example.cn:8443");
        h.insert(header::HOST, HeaderValue::from_static("evil\"><x"));
        assert_eq!(request_origin(&h, &uri, true), "https://localhost");
        let abs: Uri = "http://[::1]:3000/open311/v2/discovery.json"
            .parse()
            .unwrap();
        assert_eq!(
            request_origin(&HeaderMap::new(), &abs, false),
            "http://[::1]:3000"
        );
    }

    #[test]
    fn language_follows_accept_language() {
        let mut h = HeaderMap::new();
        assert_eq!(request_lang(&h), Lang::Zh);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-US,en;q=0.9"),
        );
        assert_eq!(request_lang(&h), Lang::En);
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("fr"));
        assert_eq!(request_lang(&h), Lang::Zh);
    }

    #[test]
    fn the_jurisdiction_is_required_only_when_there_are_several() {
        let one = [sd("310118003")];
        let two = [sd("310118003"), sd("310118004")];
        assert_eq!(
            choose_jurisdiction(None, None, &one, Lang::Zh)
                .unwrap()
                .code,
            "310118003"
        );
        assert_eq!(
            choose_jurisdiction(None, None, &two, Lang::En)
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            choose_jurisdiction(None, None, &[], Lang::En)
                .unwrap_err()
                .code,
            404
        );
        assert_eq!(
            choose_jurisdiction(Some("310118004"), Some(sd("310118004")), &[], Lang::En)
                .unwrap()
                .code,
            "310118004"
        );
        let e = choose_jurisdiction(Some("999"), None, &two, Lang::En).unwrap_err();
        assert_eq!(e.code, 404);
        assert!(e.description.contains("999"));
    }

    #[test]
    fn the_jurisdiction_param_is_read_leniently() {
        let q = |s: &str| jurisdiction_param(&s.parse::<Uri>().unwrap());
        assert_eq!(q("/x?jurisdiction_id=310118003"), Some("310118003".into()));
        assert_eq!(
            q("/x?a=1&jurisdiction_id=%20310118003%20"),
            Some("310118003".into())
        );
        assert_eq!(q("/x?jurisdiction_id="), None);
        assert_eq!(q("/x"), None);
        assert_eq!(q("/x?%zz=&jurisdiction_id=1"), Some("1".into()));
    }

    proptest! {
        #[test]
        fn escape_round_trips_and_stays_markup_free(s in "\\PC{0,40}") {
            let e = escape(&s);
            prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
            prop_assert!(entities_ok(&e));
            prop_assert_eq!(unescape(&e), s);
        }

        #[test]
        fn any_text_makes_a_well_formed_error(s in ".{0,40}") {
            let x = errors_xml(&[Open311Error { code: 400, description: s }]);
            prop_assert!(well_formed(&x));
        }
    }
}
