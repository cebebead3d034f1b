//! What every request carries: its language, its CSRF token, and (when logged in) its actor.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::i18n::{self, Lang, Text};

pub const LANG_COOKIE: &str = "rb_lang";
pub const CSRF_COOKIE: &str = "rb_csrf";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Reads one cookie from the headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the attributes every cookie of ours has.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_s: Option<i64>,
    http_only: bool,
    secure: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax");
    if let Some(a) = max_age_s {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static("invalid=1"))
}

#[derive(Clone, Copy)]
struct ReqLang(Lang);

/// Picks the language (the `rb_lang` cookie; for the API also `Accept-Language`; else
/// zh-CN) and runs the request in it.
pub async fn language(mut req: Request, next: Next) -> Response {
    let h = req.headers();
    let api = req.uri().path().starts_with("/api/");
    let lang = cookie(h, LANG_COOKIE)
        .and_then(Lang::from_code)
        .or_else(|| {
            h.get(header::ACCEPT_LANGUAGE)
                .filter(|_| api)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    req.extensions_mut().insert(ReqLang(lang));
    i18n::CURRENT.scope(lang, next.run(req)).await
}

#[derive(Clone)]
struct CsrfToken(String);

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Double-submit CSRF protection. Every browser gets a random `rb_csrf` cookie; every
/// state-changing request that could ride on cookies must repeat it in the `_csrf` form
/// field, the `_csrf` query parameter (multipart forms) or the `X-CSRF-Token` header.
/// Requests authenticated by a bearer token carry no ambient credentials and are exempt, and
/// so are Open311 requests (see [`authenticates_by_key`]).
pub async fn csrf_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let from_cookie = cookie(req.headers(), CSRF_COOKIE)
        .filter(|v| v.len() >= 20)
        .map(str::to_string);
    let bearer = req.headers().get(header::AUTHORIZATION).is_some();
    if !is_safe(req.method()) && !bearer && !authenticates_by_key(req.uri().path()) {
        let checked = match from_cookie.as_deref() {
            Some(expected) => check_csrf(req, expected).await,
            None => None,
        };
        match checked {
            Some(r) => req = r,
            None => {
                return Error::BadRequest(Text::new(
                    "页面已过期或来源不明,请刷新页面后重试。",
                    "The form has expired or did not come from this site; reload the page and try again.",
                ))
                .into_response();
            }
        }
    }
    let token = from_cookie
        .clone()
        .unwrap_or_else(crate::auth::random_secret);
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if from_cookie.is_none() {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, &token, None, true, state.secure_cookies),
        );
    }
    resp
}

/// Open311 (`/open311/…`) authenticates writes by the `api_key` field alone and never looks
/// at cookies, so a forged cross-site form gains nothing there: exempt, like bearer tokens.
fn authenticates_by_key(path: &str) -> bool {
    path.starts_with("/open311/")
}

/// Gives the request back when it carries the expected token.
async fn check_csrf(req: Request, expected: &str) -> Option<Request> {
    let eq = |s: &str| -> bool {
        subtle::ConstantTimeEq::ct_eq(s.as_bytes(), expected.as_bytes()).into()
    };
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return eq(h).then_some(req);
    }
    if let Some(q) = req.uri().query() {
        let v = url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned());
        if let Some(v) = v {
            return eq(&v).then_some(req);
        }
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return None;
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, super::BODY_LIMIT).await.ok()?;
    let ok = url::form_urlencoded::parse(&bytes).any(|(k, v)| k == CSRF_FIELD && eq(&v));
    ok.then(|| Request::from_parts(parts, Body::from(bytes)))
}

/// The context of a page: language, CSRF token, path, and the actor if logged in.
#[derive(Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub csrf: String,
    pub path: String,
    pub actor: Option<Actor>,
    pub state: AppState,
}

impl Ctx {
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }
    pub fn text<'a>(&self, t: &'a Text) -> &'a str {
        t.get(self.lang)
    }
}

/// Finds the actor of a request: a bearer token first, else the session cookie.
pub async fn actor_of(parts: &Parts, state: &AppState) -> Result<Option<Actor>> {
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let v = auth.to_str().unwrap_or("");
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        return match crate::auth::tokens::actor(&state.db, token).await? {
            Some(a) => Ok(Some(a)),
            None => Err(Error::Unauthorized),
        };
    }
    match cookie(&parts.headers, crate::auth::sessions::COOKIE) {
        Some(c) => crate::auth::sessions::actor(&state.db, c).await,
        None => Ok(None),
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let lang = parts
            .extensions
            .get::<ReqLang>()
            .map(|l| l.0)
            .unwrap_or_default();
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        let actor = match actor_of(parts, state).await {
            Ok(a) => a,
            Err(Error::Unauthorized) => None,
            Err(e) => return Err(e),
        };
        // The page a language switch returns to: this one for GET; after a form was posted,
        // the page the form was on (a POST address cannot be fetched again).
        let path = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into())
        } else {
            parts
                .headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_string(),
                })
                .unwrap_or_else(|| "/".into())
        };
        Ok(Ctx {
            lang,
            csrf,
            path,
            actor,
            state: state.clone(),
        })
    }
}

/// A page for a logged-in user: the context plus its actor.
pub struct Page {
    pub ctx: Ctx,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        match ctx.actor.clone() {
            Some(actor) => Ok(Page { ctx, actor }),
            None => Err(Error::Unauthorized),
        }
    }
}

/// The actor of an API request (bearer token or session); 401 without one.
impl FromRequestParts<AppState> for Actor {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        actor_of(parts, state).await?.ok_or(Error::Unauthorized)
    }
}

/// The request's language, for API handlers.
impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ReqLang>()
            .map(|l| l.0)
            .unwrap_or_default())
    }
}
