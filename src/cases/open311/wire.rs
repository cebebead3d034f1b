//! Open311 requests on the wire, pure: reading a POSTed form (`attribute[code]`,
//! `attribute[code][]`), coordinates as microdegrees, w3 date-times, the filters of
//! `GET requests`, the status mapping, and the documents (JSON shapes and hand-written XML).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::Serialize;

use super::{el, Open311Error, XML_DECL};
use crate::i18n::{Lang, Text};

/// The date range `GET requests` covers when none is given, and the longest it may span.
pub const WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;
/// The most requests one `GET requests` answers.
pub const MAX_RESULTS: usize = 1000;
/// Lifecycle states that Open311 calls `closed` (the rest but drafts are `open`).
pub const CLOSED_STATES: &[&str] = &["rejected", "withdrawn", "merged", "closed"];

/// The fields of `POST requests`, as sent (blank counts as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostParams {
    pub api_key: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub service_code: Option<String>,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    /// `attribute[code]=v` and `attribute[code][]=v`, values in order.
    pub attributes: BTreeMap<String, Vec<String>>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
}

/// `attribute[code]` → `code`; `attribute[code][]` → `code` too.
pub fn attribute_code(key: &str) -> Option<&str> {
    let inner = key.strip_prefix("attribute[")?;
    let inner = inner.strip_suffix("[]").unwrap_or(inner);
    let code = inner.strip_suffix(']')?;
    (!code.is_empty() && !code.contains(['[', ']'])).then_some(code)
}

/// Reads the form's pairs; a later value of a single field wins, unknown fields are ignored.
pub fn parse_post(pairs: impl IntoIterator<Item = (String, String)>) -> PostParams {
    let mut p = PostParams::default();
    for (k, v) in pairs {
        let v = v.trim().to_string();
        if let Some(code) = attribute_code(&k) {
            p.attributes.entry(code.to_string()).or_default().push(v);
            continue;
        }
        if v.is_empty() {
            continue;
        }
        let slot = match k.as_str() {
            "api_key" => &mut p.api_key,
            "jurisdiction_id" => &mut p.jurisdiction_id,
            "service_code" => &mut p.service_code,
            "lat" => &mut p.lat,
            "long" => &mut p.long,
            "address_string" => &mut p.address_string,
            "address_id" => &mut p.address_id,
            "email" => &mut p.email,
            "device_id" => &mut p.device_id,
            "account_id" => &mut p.account_id,
            "first_name" => &mut p.first_name,
            "last_name" => &mut p.last_name,
            "phone" => &mut p.phone,
            "description" => &mut p.description,
            "media_url" => &mut p.media_url,
            _ => continue,
        };
        *slot = Some(v);
    }
    p
}

/// Decimal degrees (`31.1234567`) as integer microdegrees within ±`max_deg`.
pub fn degrees_e6(s: &str, max_deg: i64) -> Option<i64> {
    let v: f64 = s.trim().parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    let e6 = (v * 1_000_000.0).round();
    let limit = (max_deg * 1_000_000) as f64;
    (-limit..=limit).contains(&e6).then_some(e6 as i64)
}

/// Microdegrees as the public documents show them: three decimals (about 100 m), so a
/// report's point does not pinpoint a home.
pub fn coarse_degrees(e6: i64) -> f64 {
    let thousandths = (e6 as f64 / 1000.0).round();
    thousandths / 1000.0
}

/// A w3 date-time (`1994-11-05T08:15:30-05:00`, `…Z`, seconds optional) or a bare date
/// (midnight, Shanghai) as Unix ms. A `+` that a query string turned into a space is read
/// back as `+`.
pub fn parse_w3(s: &str) -> Option<i64> {
    let s = s.trim().replace(' ', "+");
    if s.len() == 10 {
        return crate::clock::parse_local_date(&s);
    }
    let with_seconds = match s.find('T') {
        // `hh:mm` directly followed by the zone: add `:00`.
        Some(t) if s.len() > t + 6 && s.as_bytes()[t + 6] != b':' => {
            let (a, b) = s.split_at(t + 6);
            format!("{a}:00{b}")
        }
        _ => s.clone(),
    };
    let dt = time::OffsetDateTime::parse(
        &with_seconds,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Unix ms as a w3 date-time in Shanghai time: `2026-03-01T09:30:00+08:00`.
pub fn format_w3(ms: i64) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    crate::clock::to_local(ms).format(&f).unwrap_or_default()
}

/// Open311's two statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }
}

/// The Open311 status of a lifecycle state code; `None` for drafts, which are not public.
pub fn status_of(state: &str) -> Option<Status> {
    if state == "draft" {
        None
    } else if CLOSED_STATES.contains(&state) {
        Some(Status::Closed)
    } else {
        Some(Status::Open)
    }
}

/// The filters of `GET requests`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    /// `service_request_id`: when given, every other filter is ignored (as the spec says).
    pub ids: Vec<String>,
    pub service_codes: Vec<String>,
    /// Inclusive range of `requested_datetime`, Unix ms.
    pub from_ms: i64,
    pub to_ms: i64,
    /// Empty: both.
    pub statuses: Vec<Status>,
}

fn bad(lang: Lang, text: Text) -> Open311Error {
    Open311Error::new(StatusCode::BAD_REQUEST, text, lang)
}

fn comma_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Reads the query of `GET requests` at `now`: without dates, the last 90 days; with only a
/// start, from it on; with only an end, the 90 days before it; both may not span more than 90
/// days. Every problem comes back at once, in the spec's error list.
pub fn parse_list_query(
    pairs: impl IntoIterator<Item = (String, String)>,
    now: i64,
    lang: Lang,
) -> Result<ListFilter, Vec<Open311Error>> {
    let mut errors = Vec::new();
    let mut ids = Vec::new();
    let mut service_codes = Vec::new();
    let mut start = None;
    let mut end = None;
    let mut statuses = Vec::new();
    for (k, v) in pairs {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_str() {
            "service_request_id" => ids.extend(comma_list(v)),
            "service_code" => service_codes.extend(comma_list(v)),
            "start_date" | "end_date" => match parse_w3(v) {
                Some(ms) if k == "start_date" => start = Some(ms),
                Some(ms) => end = Some(ms),
                None => errors.push(bad(
                    lang,
                    Text::owned(
                        format!("{k} 须为 W3C 日期时间,如 2026-03-01T09:30:00+08:00"),
                        format!("{k} must be a w3 date-time such as 2026-03-01T09:30:00+08:00"),
                    ),
                )),
            },
            "status" => {
                for s in comma_list(v) {
                    match s.as_str() {
                        "open" => statuses.push(Status::Open),
                        "closed" => statuses.push(Status::Closed),
                        _ => errors.push(bad(
                            lang,
                            Text::owned(
                                format!("status 只能是 open 或 closed,不是 {s}"),
                                format!("status must be open or closed, not {s}"),
                            ),
                        )),
                    }
                }
            }
            _ => {}
        }
    }
    if ids.len() > MAX_RESULTS {
        errors.push(bad(
            lang,
            Text::owned(
                format!("service_request_id 最多 {MAX_RESULTS} 个"),
                format!("at most {MAX_RESULTS} service_request_id values"),
            ),
        ));
    }
    let (from_ms, to_ms) = match (start, end) {
        (None, None) => (now - WINDOW_MS, i64::MAX),
        (Some(s), None) => (s, i64::MAX),
        (None, Some(e)) => (e - WINDOW_MS, e),
        (Some(s), Some(e)) => {
            if s > e {
                errors.push(bad(
                    lang,
                    Text::new(
                        "start_date 不能晚于 end_date",
                        "start_date must not be after end_date",
                    ),
                ));
            } else if e - s > WINDOW_MS {
                errors.push(bad(
                    lang,
                    Text::new(
                        "start_date 到 end_date 不能超过 90 天",
                        "start_date to end_date may not span more than 90 days",
                    ),
                ));
            }
            (s, e)
        }
    };
    statuses.dedup();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ListFilter {
        ids,
        service_codes,
        from_ms,
        to_ms,
        statuses,
    })
}

/// One service request as `GET requests` shows it. Nothing personal: no names, no phones,
/// the point coarsened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    pub address: String,
    pub address_id: String,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// What `POST requests` answers (in an array of one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    pub service_request_id: String,
    pub service_notice: String,
    pub account_id: Option<String>,
}

/// What `GET tokens/{token}` answers (in an array of one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenAnswer {
    pub service_request_id: String,
    pub token: String,
}

fn opt(o: &mut String, name: &str, v: Option<&str>) {
    el(o, name, v.unwrap_or(""));
}

pub fn requests_xml(list: &[ServiceRequest]) -> String {
    let mut o = String::from(XML_DECL);
    o.push_str("<service_requests>");
    for r in list {
        o.push_str("<request>");
        el(&mut o, "service_request_id", &r.service_request_id);
        el(&mut o, "status", r.status);
        el(&mut o, "status_notes", &r.status_notes);
        el(&mut o, "service_name", &r.service_name);
        el(&mut o, "service_code", &r.service_code);
        el(&mut o, "description", &r.description);
        el(&mut o, "agency_responsible", &r.agency_responsible);
        el(&mut o, "service_notice", &r.service_notice);
        el(&mut o, "requested_datetime", &r.requested_datetime);
        el(&mut o, "updated_datetime", &r.updated_datetime);
        opt(&mut o, "expected_datetime", r.expected_datetime.as_deref());
        el(&mut o, "address", &r.address);
        el(&mut o, "address_id", &r.address_id);
        opt(&mut o, "zipcode", r.zipcode.as_deref());
        opt(&mut o, "lat", r.lat.map(|v| v.to_string()).as_deref());
        opt(&mut o, "long", r.long.map(|v| v.to_string()).as_deref());
        opt(&mut o, "media_url", r.media_url.as_deref());
        o.push_str("</request>");
    }
    o.push_str("</service_requests>\n");
    o
}

pub fn created_xml(c: &Created) -> String {
    let mut o = String::from(XML_DECL);
    o.push_str("<service_requests><request>");
    el(&mut o, "service_request_id", &c.service_request_id);
    el(&mut o, "service_notice", &c.service_notice);
    opt(&mut o, "account_id", c.account_id.as_deref());
    o.push_str("</request></service_requests>\n");
    o
}

pub fn token_xml(t: &TokenAnswer) -> String {
    let mut o = String::from(XML_DECL);
    o.push_str("<service_requests><request>");
    el(&mut o, "service_request_id", &t.service_request_id);
    el(&mut o, "token", &t.token);
    o.push_str("</request></service_requests>\n");
    o
}

/// The Open311 name of a field the case store names differently.
pub fn open311_field(store_field: &str) -> &str {
    match store_field {
        "category" => "service_code",
        "node_id" => "address_id",
        "lat_e6" => "lat",
        "lng_e6" => "long",
        "address" => "address_string",
        "contact_name" => "first_name",
        "contact_phone" => "phone",
        "title" => "description",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    const NOW: i64 = 1_780_000_000_000;

    #[test]
    fn the_specs_example_post_is_read() {
        // The spec's example, with our service code.
        let p = parse_post(pairs(
            "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043\
             &address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111\
             &account_id=123456&first_name=john&last_name=smith&phone=111111111\
             &description=A+large+sinkhole+is+destroying+the+street\
             &media_url=http%3A%2F%2Fexample.com%2Fimage.jpg\
             &attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001",
        ));
        assert_eq!(p.api_key.as_deref(), Some("xyz"));
        assert_eq!(p.jurisdiction_id.as_deref(), Some("city.gov"));
        assert_eq!(p.service_code.as_deref(), Some("001"));
        assert_eq!(p.address_string.as_deref(), Some("1234 5th street"));
        assert_eq!(p.email.as_deref(), Some("smit333@sfgov.edu"));
        assert_eq!(p.media_url.as_deref(), Some("http://example.com/image.jpg"));
        assert_eq!(p.attributes["WHISPAWN"], ["123456"]);
        assert_eq!(p.attributes["WHISDORN"], ["COISL001"]);
        assert_eq!(degrees_e6(p.lat.as_deref().unwrap(), 90), Some(37_765_241));
        assert_eq!(
            degrees_e6(p.long.as_deref().unwrap(), 180),
            Some(-122_421_204)
        );
    }

    #[test]
    fn list_attributes_collect_every_value() {
        let p = parse_post(pairs(
            "attribute%5Bkinds%5D%5B%5D=a&attribute[kinds][]=b&attribute[one]=x&attribute[]=z&attribute[a]b]=q&description=",
        ));
        assert_eq!(p.attributes["kinds"], ["a", "b"]);
        assert_eq!(p.attributes["one"], ["x"]);
        assert_eq!(p.attributes.len(), 2);
        assert_eq!(p.description, None);
        assert_eq!(attribute_code("attribute[x]"), Some("x"));
        assert_eq!(attribute_code("attribute[x][]"), Some("x"));
        assert_eq!(attribute_code("attribute[x"), None);
        assert_eq!(attribute_code("attr[x]"), None);
    }

    #[test]
    fn coordinates_are_microdegrees_in_range() {
        assert_eq!(degrees_e6("31.1", 90), Some(31_100_000));
        assert_eq!(degrees_e6(" -0.0000005 ", 90), Some(-1));
        assert_eq!(degrees_e6("90.000001", 90), None);
        assert_eq!(degrees_e6("NaN", 90), None);
        assert_eq!(degrees_e6("inf", 180), None);
        assert_eq!(degrees_e6("east", 180), None);
        assert_eq!(coarse_degrees(31_123_456), 31.123);
        assert_eq!(coarse_degrees(-122_421_604), -122.422);
    }

    #[test]
    fn w3_datetimes_round_trip_in_shanghai_time() {
        let ms = parse_w3("1994-11-05T08:15:30-05:00").unwrap();
        assert_eq!(parse_w3("1994-11-05T13:15:30Z"), Some(ms));
        assert_eq!(format_w3(ms), "1994-11-05T21:15:30+08:00");
        assert_eq!(parse_w3(&format_w3(NOW)), Some(NOW / 1000 * 1000));
        // Seconds optional; a `+` turned into a space by a query string still reads.
        assert_eq!(
            parse_w3("2026-03-01T09:30+08:00"),
            parse_w3("2026-03-01T09:30:00+08:00")
        );
        assert_eq!(
            parse_w3("2026-03-01T09:30:00 08:00"),
            parse_w3("2026-03-01T09:30:00+08:00")
        );
        assert_eq!(
            parse_w3("2026-03-01"),
            parse_w3("2026-03-01T00:00:00+08:00")
        );
        assert_eq!(parse_w3("2026-03-01T09:30:00"), None, "a zone is required");
        assert_eq!(parse_w3("yesterday"), None);
        assert_eq!(parse_w3("2026-02-30T00:00:00Z"), None);
    }

    #[test]
    fn statuses_map_our_states() {
        assert_eq!(status_of("draft"), None);
        for s in [
            "submitted",
            "registered",
            "dispatched",
            "in_handling",
            "handled",
            "re_handling",
            "disputed",
            "waiting_for_resident.dispatched",
        ] {
            assert_eq!(status_of(s), Some(Status::Open), "{s}");
        }
        for s in CLOSED_STATES {
            assert_eq!(status_of(s), Some(Status::Closed), "{s}");
        }
        // Every lifecycle state has a mapping; only drafts are hidden.
        for s in crate::cases::lifecycle::ALL_STATES {
            assert_eq!(status_of(s.code()).is_none(), s.code() == "draft");
        }
    }

    #[test]
    fn the_default_window_is_the_last_90_days() {
        let f = parse_list_query(pairs(""), NOW, Lang::En).unwrap();
        assert_eq!((f.from_ms, f.to_ms), (NOW - WINDOW_MS, i64::MAX));
        assert!(f.ids.is_empty() && f.statuses.is_empty() && f.service_codes.is_empty());
        let end = parse_w3("2026-03-01T00:00:00Z").unwrap();
        let f = parse_list_query(pairs("end_date=2026-03-01T00:00:00Z"), NOW, Lang::En).unwrap();
        assert_eq!((f.from_ms, f.to_ms), (end - WINDOW_MS, end));
        let f = parse_list_query(pairs("start_date=2026-03-01T00:00:00Z"), NOW, Lang::En).unwrap();
        assert_eq!((f.from_ms, f.to_ms), (end, i64::MAX));
    }

    #[test]
    fn the_specs_example_filters_are_read() {
        let f = parse_list_query(
            pairs("start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open&service_code=env.garbage,lift.fault&jurisdiction_id=x"),
            NOW,
            Lang::En,
        )
        .unwrap();
        assert_eq!(f.statuses, [Status::Open]);
        assert_eq!(f.service_codes, ["env.garbage", "lift.fault"]);
        assert_eq!(f.to_ms - f.from_ms, 31 * 24 * 3600 * 1000);
        let f = parse_list_query(
            pairs("service_request_id=2026-000001,2026-000002&status=open,closed"),
            NOW,
            Lang::En,
        )
        .unwrap();
        assert_eq!(f.ids, ["2026-000001", "2026-000002"]);
        assert_eq!(f.statuses, [Status::Open, Status::Closed]);
    }

    #[test]
    fn bad_filters_are_all_listed() {
        let e = parse_list_query(
            pairs("start_date=soon&status=pending&end_date=2026-01-01T00:00:00Z"),
            NOW,
            Lang::En,
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(e.iter().all(|x| x.code == 400));
        assert!(e[0].description.contains("start_date"));
        assert!(e[1].description.contains("pending"));
        let e = parse_list_query(
            pairs("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"),
            NOW,
            Lang::En,
        )
        .unwrap_err();
        assert!(e[0].description.contains("90 days"));
        let e = parse_list_query(
            pairs("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"),
            NOW,
            Lang::Zh,
        )
        .unwrap_err();
        assert!(e[0].description.contains("start_date"));
    }

    #[test]
    fn documents_have_the_specs_element_names() {
        let r = ServiceRequest {
            service_request_id: "2026-000001".into(),
            status: "open",
            status_notes: "".into(),
            service_name: "垃圾 & 清运".into(),
            service_code: "env.garbage".into(),
            description: "<b>".into(),
            agency_responsible: "".into(),
            service_notice: "".into(),
            requested_datetime: "2026-03-01T09:30:00+08:00".into(),
            updated_datetime: "2026-03-01T09:30:00+08:00".into(),
            expected_datetime: None,
            address: "".into(),
            address_id: "12".into(),
            zipcode: None,
            lat: Some(31.123),
            long: Some(121.05),
            media_url: None,
        };
        let x = requests_xml(std::slice::from_ref(&r));
        assert!(x.starts_with(XML_DECL));
        assert!(x.contains("<service_requests><request><service_request_id>2026-000001</service_request_id><status>open</status>"));
        assert!(x.contains("<service_name>垃圾 &amp; 清运</service_name>"));
        assert!(x.contains("<description>&lt;b&gt;</description>"));
        assert!(x.contains("<lat>31.123</lat><long>121.05</long><media_url></media_url></request></service_requests>"));
        let v = serde_json::to_value([&r]).unwrap();
        assert_eq!(v[0]["expected_datetime"], serde_json::Value::Null);
        assert_eq!(v[0]["long"], 121.05);
        let c = Created {
            service_request_id: "2026-000001".into(),
            service_notice: "ok".into(),
            account_id: None,
        };
        assert_eq!(
            serde_json::to_value([&c]).unwrap(),
            serde_json::json!([{ "service_request_id": "2026-000001", "service_notice": "ok", "account_id": null }])
        );
        assert!(created_xml(&c).contains("<service_requests><request><service_request_id>2026-000001</service_request_id><service_notice>ok</service_notice><account_id></account_id></request></service_requests>"));
        let t = TokenAnswer {
            service_request_id: "2026-000001".into(),
            token: "2026-000001".into(),
        };
        assert!(token_xml(&t).contains("<token>2026-000001</token>"));
    }
}
