//! The group-chat robot formats, pure: the JSON each robot expects, the request signatures
//! of DingTalk and Feishu (and of our generic JSON), and how each robot says "no" inside a
//! 200 response. No I/O; the time a signature needs comes in as an argument.
//!
//! - WeCom (企业微信) group robot: `{"msgtype":"markdown","markdown":{"content":…}}`; the
//!   key is in the URL; failures answer `{"errcode": n, "errmsg": …}` with `n != 0`.
//! - DingTalk (钉钉) custom robot: `{"msgtype":"markdown","markdown":{"title","text"}}`;
//!   signed by `&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(secret,
//!   "<ms>\n<secret>")))>` on the URL; failures answer `errcode != 0`.
//! - Feishu / Lark (飞书) custom bot: `{"msg_type":"text","content":{"text":…}}`; signed
//!   with `timestamp` (seconds) and `sign` = base64(HMAC-SHA256 keyed by
//!   "<s>\n<secret>" over an empty message) in the body; failures answer `code != 0`.
//! - Generic: our own JSON (both languages); with a secret, the header
//!   `X-RedButler-Signature: sha256=<hex HMAC-SHA256(secret, "<ms>.<body>")>` and
//!   `X-RedButler-Timestamp: <ms>`; any 2xx counts as delivered.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::Notice;
use crate::i18n::Text;

/// How a webhook wants its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    WeCom,
    DingTalk,
    Feishu,
    Generic,
}

pub const ALL_FORMATS: [Format; 4] = [
    Format::WeCom,
    Format::DingTalk,
    Format::Feishu,
    Format::Generic,
];

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::WeCom => "wecom",
            Format::DingTalk => "dingtalk",
            Format::Feishu => "feishu",
            Format::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        ALL_FORMATS.into_iter().find(|f| f.code() == s.trim())
    }

    pub fn label(self) -> Text {
        match self {
            Format::WeCom => Text::new("企业微信群机器人", "WeCom group robot"),
            Format::DingTalk => Text::new("钉钉自定义机器人", "DingTalk custom robot"),
            Format::Feishu => Text::new("飞书自定义机器人", "Feishu / Lark custom bot"),
            Format::Generic => Text::new("通用 JSON", "Generic JSON"),
        }
    }

    /// Whether this format can sign its requests with a secret (WeCom cannot: its key is in
    /// the URL).
    pub fn signs(self) -> bool {
        !matches!(self, Format::WeCom)
    }
}

/// Longest message text per format, in UTF-8 bytes (WeCom's markdown limit is 4096 bytes;
/// the others allow more, and a group message should stay short anyway).
fn limit(format: Format) -> usize {
    match format {
        Format::WeCom => 4096,
        Format::DingTalk | Format::Feishu => 8000,
        Format::Generic => 16000,
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut with `…`.
pub fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let ell = "…";
    let mut end = max.saturating_sub(ell.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ell}", &s[..end])
}

/// The address a notice links to: absolute when the site's public address is known.
pub fn absolute_link(site_url: Option<&str>, link: &str) -> String {
    match site_url.map(|u| u.trim_end_matches('/')) {
        Some(base) if !base.is_empty() && link.starts_with('/') => format!("{base}{link}"),
        _ => link.to_string(),
    }
}

/// The title as a group sees it: marked with the product's name (robots that filter by
/// keyword are usually set to it).
fn chat_title(n: &Notice) -> String {
    format!("【红管家】{}", n.title_zh)
}

/// The unsigned request body for `format`. Group chats are Chinese-speaking: the message is
/// the notice's Chinese text (the generic JSON carries both languages).
pub fn payload(format: Format, n: &Notice, site_url: Option<&str>) -> Value {
    let link = absolute_link(site_url, &n.link);
    let has_link = !n.link.is_empty();
    match format {
        Format::WeCom => {
            let mut content = format!("**{}**\n{}", chat_title(n), n.body_zh);
            if has_link {
                if link.starts_with("http") {
                    content.push_str(&format!("\n[查看详情]({link})"));
                } else {
                    content.push_str(&format!("\n详情:{link}"));
                }
            }
            json!({ "msgtype": "markdown", "markdown": { "content": truncate_bytes(&content, limit(format)) } })
        }
        Format::DingTalk => {
            let mut text = format!("#### {}\n\n{}", chat_title(n), n.body_zh);
            if has_link {
                if link.starts_with("http") {
                    text.push_str(&format!("\n\n[查看详情]({link})"));
                } else {
                    text.push_str(&format!("\n\n详情:{link}"));
                }
            }
            json!({ "msgtype": "markdown", "markdown": {
                "title": truncate_bytes(&chat_title(n), 300),
                "text": truncate_bytes(&text, limit(format)) } })
        }
        Format::Feishu => {
            let mut text = format!("{}\n{}", chat_title(n), n.body_zh);
            if has_link {
                text.push_str(&format!("\n详情:{link}"));
            }
            json!({ "msg_type": "text", "content": { "text": truncate_bytes(&text, limit(format)) } })
        }
        Format::Generic => json!({
            "kind": n.kind,
            "case_id": n.case_id,
            "title": { "zh": n.title_zh, "en": n.title_en },
            "body": {
                "zh": truncate_bytes(&n.body_zh, limit(format)),
                "en": truncate_bytes(&n.body_en, limit(format)),
            },
            "link": link,
        }),
    }
}

/// A test message for the "send a test message" button.
pub fn test_notice(webhook_name: &str) -> Notice {
    Notice {
        kind: "test".into(),
        case_id: None,
        title_zh: "测试消息".into(),
        title_en: "Test message".into(),
        body_zh: format!("这是红管家发给「{webhook_name}」的测试消息,收到即表示配置正确。"),
        body_en: format!(
            "This is a test message from Red Butler to \"{webhook_name}\": the robot is set up."
        ),
        link: String::new(),
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => Vec::new(),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// DingTalk's signature (before URL encoding): base64(HMAC-SHA256(key = secret,
/// message = "<timestamp ms>\n<secret>")).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    b64(&hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    ))
}

/// Feishu's signature: base64(HMAC-SHA256(key = "<timestamp s>\n<secret>", message = "")).
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    b64(&hmac_sha256(
        format!("{timestamp_s}\n{secret}").as_bytes(),
        b"",
    ))
}

/// Our generic signature: hex(HMAC-SHA256(secret, "<timestamp ms>.<body>")).
pub fn generic_sign(secret: &str, timestamp_ms: i64, body: &str) -> String {
    hex::encode(hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_ms}.{body}").as_bytes(),
    ))
}

/// One request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

/// Signs (when a secret is set) and serialises a stored payload at the moment of sending.
pub fn request(
    format: Format,
    url: &str,
    payload: &Value,
    secret: Option<&str>,
    now_ms: i64,
) -> Request {
    let secret = secret.filter(|s| !s.is_empty());
    let mut url = url.to_string();
    let mut body = payload.clone();
    let mut headers = vec![(
        "content-type".to_string(),
        "application/json; charset=utf-8".to_string(),
    )];
    match (format, secret) {
        (Format::DingTalk, Some(s)) => {
            let sign: String =
                url::form_urlencoded::byte_serialize(dingtalk_sign(s, now_ms).as_bytes()).collect();
            let sep = if url.contains('?') { '&' } else { '?' };
            url.push_str(&format!("{sep}timestamp={now_ms}&sign={sign}"));
        }
        (Format::Feishu, Some(s)) => {
            let ts = now_ms.div_euclid(1000);
            if let Some(obj) = body.as_object_mut() {
                obj.insert("timestamp".into(), Value::String(ts.to_string()));
                obj.insert("sign".into(), Value::String(feishu_sign(s, ts)));
            }
        }
        _ => {}
    }
    let text = body.to_string();
    if let (Format::Generic, Some(s)) = (format, secret) {
        headers.push(("x-redbutler-timestamp".into(), now_ms.to_string()));
        headers.push((
            "x-redbutler-signature".into(),
            format!("sha256={}", generic_sign(s, now_ms, &text)),
        ));
    }
    Request {
        url,
        body: text,
        headers,
    }
}

/// Whether a response means the message arrived. Robots answer 200 with an error code when
/// they refuse (a wrong key or signature, a keyword missing, too many messages), so those
/// count as failures too. The error text is kept short for the outbox.
pub fn judge(format: Format, status: u16, body: &str) -> Result<(), String> {
    let short = truncate_bytes(body.trim(), 300);
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}: {short}"));
    }
    if format == Format::Generic {
        return Ok(());
    }
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return Err(format!("HTTP {status}, not JSON: {short}"));
    };
    let code = match format {
        Format::WeCom | Format::DingTalk => v.get("errcode"),
        // Older Feishu answers carry `StatusCode`, newer ones `code`.
        Format::Feishu => v.get("code").or_else(|| v.get("StatusCode")),
        Format::Generic => None,
    };
    let msg = v
        .get("errmsg")
        .or_else(|| v.get("msg"))
        .or_else(|| v.get("StatusMessage"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match code.and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(n) => Err(format!("error code {n}: {}", truncate_bytes(msg, 300))),
        None => Err(format!("HTTP {status}, no error code: {short}")),
    }
}

/// Checks a webhook address: an absolute http(s) URL with a host, without credentials.
pub fn check_url(s: &str) -> Result<String, Text> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Text::new(
            "请填写机器人的 Webhook 地址",
            "enter the robot's webhook URL",
        ));
    }
    if s.len() > 1000 {
        return Err(Text::new(
            "地址过长(最多 1000 个字符)",
            "the URL is too long (at most 1000 characters)",
        ));
    }
    let u = url::Url::parse(s).map_err(|_| {
        Text::new(
            "不是有效的网址,应以 https:// 或 http:// 开头",
            "not a valid URL; it starts with https:// or http://",
        )
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Text::new(
            "只支持 http 或 https 地址",
            "only http and https URLs are allowed",
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(Text::new("地址缺少主机名", "the URL has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Text::new(
            "地址中不能包含用户名或密码",
            "the URL must not contain a user name or password",
        ));
    }
    Ok(u.to_string())
}

/// Hides the secret parts of a webhook URL (the key or access token in the query, the token
/// at the end of the path) for showing it back: the first four characters of each stay.
pub fn mask_url(s: &str) -> String {
    let Ok(mut u) = url::Url::parse(s) else {
        return mask_secret(s);
    };
    let masked_query: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), mask_secret(&v)))
        .collect();
    let segments: Vec<String> = u
        .path_segments()
        .map(|segs| segs.map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(last) = segments.last() {
        if last.len() >= 16 {
            let mut path: Vec<String> = segments[..segments.len() - 1].to_vec();
            path.push(mask_secret(last));
            u.set_path(&path.join("/"));
        }
    }
    if masked_query.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(masked_query);
    }
    u.to_string().replace("%E2%80%A6", "…")
}

/// The first four characters and an ellipsis (short values are hidden entirely).
pub fn mask_secret(s: &str) -> String {
    let n = s.chars().count();
    if n == 0 {
        String::new()
    } else if n <= 8 {
        "…".into()
    } else {
        format!("{}…", s.chars().take(4).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            kind: "case.dispatched".into(),
            case_id: Some(42),
            title_zh: "新派单:楼道堆物".into(),
            title_en: "New dispatch: clutter".into(),
            body_zh: "章浜一网格 城中东路311号,请于 12月3日 前处置。".into(),
            body_en: "Handle by 3 Dec.".into(),
            link: "/cases/42".into(),
        }
    }

    #[test]
    fn formats_round_trip_their_codes() {
        for f in ALL_FORMATS {
            assert_eq!(Format::parse(f.code()), Some(f));
        }
        assert_eq!(Format::parse("slack"), None);
        assert!(!Format::WeCom.signs());
        assert!(Format::DingTalk.signs() && Format::Feishu.signs() && Format::Generic.signs());
    }

    #[test]
    fn wecom_is_markdown_with_an_absolute_link_when_known() {
        let p = payload(Format::WeCom, &notice(), Some("https://rb.example.cn/"));
        assert_eq!(p["msgtype"], "markdown");
        let c = p["markdown"]["content"].as_str().unwrap();
        assert!(
            c.starts_with("**【红管家】新派单:楼道堆物**\n章浜一网格"),
            "{c}"
        );
        assert!(
            c.ends_with("[查看详情](https://rb.example.cn/cases/42)"),
            "{c}"
        );
        let p = payload(Format::WeCom, &notice(), None);
        assert!(p["markdown"]["content"]
            .as_str()
            .unwrap()
            .ends_with("详情:/cases/42"));
    }

    #[test]
    fn wecom_content_stays_within_4096_bytes() {
        let mut n = notice();
        n.body_zh = "很长的内容".repeat(1000);
        let p = payload(Format::WeCom, &n, None);
        let c = p["markdown"]["content"].as_str().unwrap();
        assert!(c.len() <= 4096, "{}", c.len());
        assert!(c.ends_with('…'));
    }

    #[test]
    fn dingtalk_is_markdown_with_title_and_text() {
        let p = payload(Format::DingTalk, &notice(), None);
        assert_eq!(p["msgtype"], "markdown");
        assert_eq!(p["markdown"]["title"], "【红管家】新派单:楼道堆物");
        let t = p["markdown"]["text"].as_str().unwrap();
        assert!(
            t.starts_with("#### 【红管家】新派单:楼道堆物\n\n章浜一网格"),
            "{t}"
        );
    }

    #[test]
    fn feishu_is_text_content() {
        let p = payload(Format::Feishu, &notice(), None);
        assert_eq!(p["msg_type"], "text");
        assert_eq!(
            p["content"]["text"],
            "【红管家】新派单:楼道堆物\n章浜一网格 城中东路311号,请于 12月3日 前处置。\n详情:/cases/42"
        );
    }

    #[test]
    fn generic_carries_both_languages() {
        let p = payload(Format::Generic, &notice(), Some("https://rb.example.cn"));
        assert_eq!(p["kind"], "case.dispatched");
        assert_eq!(p["case_id"], 42);
        assert_eq!(p["title"]["en"], "New dispatch: clutter");
        assert_eq!(p["title"]["zh"], "新派单:楼道堆物");
        assert_eq!(p["link"], "https://rb.example.cn/cases/42");
    }

    #[test]
    fn notices_without_a_link_say_nothing_about_details() {
        let n = test_notice("一网格群");
        for f in [Format::WeCom, Format::DingTalk, Format::Feishu] {
            let s = payload(f, &n, None).to_string();
            assert!(!s.contains("详情"), "{f:?}: {s}");
            assert!(s.contains("一网格群"));
        }
    }

    // Vectors computed independently (Python's hmac/hashlib/base64).
    #[test]
    fn dingtalk_signature_matches_a_known_vector() {
        assert_eq!(
            dingtalk_sign("SECtest123", 1_700_000_000_000),
            "w3RMHXzixTMdzr8OHJUmVLS4IoPJVdu+Ut1LE48MePE="
        );
    }

    #[test]
    fn feishu_signature_matches_a_known_vector() {
        assert_eq!(
            feishu_sign("SECtest123", 1_700_000_000),
            "eHRRCyLH7Z4IJQSJlfwertHZThRUYVu2hTUH02xPXYU="
        );
    }

    #[test]
    fn dingtalk_request_appends_the_url_encoded_signature() {
        let p = payload(Format::DingTalk, &notice(), None);
        let url = "https://oapi.dingtalk.com/robot/send?access_token=abc";
        let r = request(
            Format::DingTalk,
            url,
            &p,
            Some("SECtest123"),
            1_700_000_000_000,
        );
        assert_eq!(
            r.url,
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=w3RMHXzixTMdzr8OHJUmVLS4IoPJVdu%2BUt1LE48MePE%3D"
        );
        assert_eq!(serde_json::from_str::<Value>(&r.body).unwrap(), p);
        let unsigned = request(Format::DingTalk, "https://x.cn/send", &p, None, 1);
        assert_eq!(unsigned.url, "https://x.cn/send");
        let q = request(
            Format::DingTalk,
            "https://x.cn/send",
            &p,
            Some("SECtest123"),
            5,
        );
        assert!(
            q.url.starts_with("https://x.cn/send?timestamp=5&sign="),
            "{}",
            q.url
        );
    }

    #[test]
    fn feishu_request_puts_timestamp_and_sign_in_the_body() {
        let p = payload(Format::Feishu, &notice(), None);
        let r = request(
            Format::Feishu,
            "https://open.feishu.cn/open-apis/bot/v2/hook/x",
            &p,
            Some("SECtest123"),
            1_700_000_000_999,
        );
        let b: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(b["timestamp"], "1700000000");
        assert_eq!(b["sign"], "eHRRCyLH7Z4IJQSJlfwertHZThRUYVu2hTUH02xPXYU=");
        assert_eq!(b["msg_type"], "text");
        let r = request(Format::Feishu, "https://f.cn/h", &p, None, 1);
        assert!(!r.body.contains("sign"));
        // A blank secret is no secret.
        let r = request(Format::Feishu, "https://f.cn/h", &p, Some(""), 1);
        assert!(!r.body.contains("sign"));
    }

    #[test]
    fn generic_request_is_signed_in_headers() {
        let p = json!({ "a": 1 });
        let r = request(Format::Generic, "https://h.cn/in", &p, Some("k"), 7);
        assert_eq!(r.body, r#"{"a":1}"#);
        let sig = r
            .headers
            .iter()
            .find(|(k, _)| k == "x-redbutler-signature")
            .map(|(_, v)| v.clone())
            .unwrap();
        assert_eq!(
            sig,
            format!("sha256={}", generic_sign("k", 7, r#"{"a":1}"#))
        );
        // Python: hmac.new(b"k", b'7.{"a":1}', sha256).hexdigest()
        assert_eq!(
            generic_sign("k", 7, r#"{"a":1}"#),
            "ff4a2697eafc245268de49bce4d9e54ac09c373dee47da6aec5b6873da8d4b30"
        );
        let r = request(Format::Generic, "https://h.cn/in", &p, None, 7);
        assert_eq!(r.headers.len(), 1);
    }

    #[test]
    fn wecom_never_signs() {
        let p = payload(Format::WeCom, &notice(), None);
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K";
        let r = request(Format::WeCom, url, &p, Some("ignored"), 1);
        assert_eq!(r.url, url);
        assert_eq!(r.headers.len(), 1);
    }

    #[test]
    fn a_200_with_an_error_code_is_a_failure() {
        assert_eq!(
            judge(Format::WeCom, 200, r#"{"errcode":0,"errmsg":"ok"}"#),
            Ok(())
        );
        let e = judge(
            Format::WeCom,
            200,
            r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("93000") && e.contains("invalid webhook url"),
            "{e}"
        );
        assert_eq!(
            judge(Format::DingTalk, 200, r#"{"errcode":0,"errmsg":"ok"}"#),
            Ok(())
        );
        let e = judge(
            Format::DingTalk,
            200,
            r#"{"errcode":310000,"errmsg":"sign not match"}"#,
        )
        .unwrap_err();
        assert!(e.contains("310000"), "{e}");
        assert_eq!(
            judge(
                Format::Feishu,
                200,
                r#"{"code":0,"msg":"success","data":{}}"#
            ),
            Ok(())
        );
        assert_eq!(
            judge(
                Format::Feishu,
                200,
                r#"{"StatusCode":0,"StatusMessage":"success"}"#
            ),
            Ok(())
        );
        let e = judge(
            Format::Feishu,
            200,
            r#"{"code":19021,"msg":"sign match fail"}"#,
        )
        .unwrap_err();
        assert!(e.contains("19021") && e.contains("sign match fail"), "{e}");
    }

    #[test]
    fn http_errors_and_strange_answers_are_failures() {
        for f in ALL_FORMATS {
            assert!(judge(f, 500, "oops").unwrap_err().starts_with("HTTP 500"));
            assert!(judge(f, 404, "").is_err());
            assert!(judge(f, 302, "").is_err());
        }
        assert!(judge(Format::WeCom, 200, "<html>portal</html>").is_err());
        assert!(judge(Format::Feishu, 200, r#"{"ok":true}"#).is_err());
        assert_eq!(judge(Format::Generic, 204, ""), Ok(()));
        assert_eq!(judge(Format::Generic, 200, "<html>"), Ok(()));
        let long = "x".repeat(5000);
        assert!(judge(Format::WeCom, 500, &long).unwrap_err().len() < 400);
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        assert!(check_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc").is_ok());
        assert!(check_url("  http://127.0.0.1:8080/hook ").is_ok());
        for bad in [
            "",
            "qyapi.weixin.qq.com/x",
            "ftp://x.cn/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://user:pw@x.cn/",
            "http://",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(check_url(&format!("https://x.cn/{}", "a".repeat(1000))).is_err());
    }

    #[test]
    fn urls_and_secrets_are_shown_masked() {
        let m = mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa");
        assert_eq!(
            m,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…"
        );
        let m = mask_url("https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef0123");
        assert_eq!(m, "https://open.feishu.cn/open-apis/bot/v2/hook/0123…");
        assert_eq!(mask_secret("SECabcdefghijkl"), "SECa…");
        assert_eq!(mask_secret("short"), "…");
        assert_eq!(mask_secret(""), "");
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate_bytes("abc", 3), "abc");
        let t = truncate_bytes("一二三四五", 10);
        assert!(t.len() <= 10 && t.ends_with('…'), "{t}");
        assert_eq!(t, "一二…");
        assert_eq!(truncate_bytes("一二三", 2), "…");
    }
}
