//! Errors for people: browser routes get a localised page instead of problem JSON, and a
//! redirect to the login page instead of a 401. API routes keep problem JSON.

use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::de::DeserializeOwned;

use crate::error::{Error, Problem, PROBLEM_JSON};
use crate::i18n::{self, Text};

fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz"
}

pub async fn not_found() -> Error {
    Error::NotFound
}

/// Re-renders problem responses of browser routes as pages.
pub async fn html_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    // After logging in, only a page that can be fetched again is worth returning to.
    let next_url = if req.method() == axum::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    } else {
        "/".to_string()
    };
    let resp = next.run(req).await;
    if is_api(&path) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !is_problem {
        return resp;
    }
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED && path != "/login" {
        let target = format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next_url.as_bytes()).collect::<String>()
        );
        return Redirect::to(&target).into_response();
    }
    let retry = resp.headers().get(header::RETRY_AFTER).cloned();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let problem: Option<Problem> = serde_json::from_slice(&bytes).ok();
    let lang = i18n::current();
    let (title, detail, fields) = match problem {
        Some(p) => (p.title, p.detail, p.errors),
        None => (
            status.canonical_reason().unwrap_or("Error").to_string(),
            String::new(),
            Vec::new(),
        ),
    };
    let body = html! {
        section.error-page {
            h1 { (title) }
            @if !detail.is_empty() { p { (detail) } }
            @if !fields.is_empty() {
                ul.field-errors { @for f in &fields { li { strong { (f.field) } " " (f.message) } } }
            }
            p {
                a href="javascript:history.back()" { (lang.pick("返回上一页", "Go back")) }
                " · "
                a href="/" { (lang.pick("回到首页", "Home")) }
            }
        }
    };
    let page = super::layout::bare(lang, &title, body);
    let mut out = (status, page).into_response();
    if let Some(r) = retry {
        out.headers_mut().insert(header::RETRY_AFTER, r);
    }
    out
}

/// A form body whose rejections (too large, malformed, missing fields) become our errors.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = Error;
    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        match axum::extract::Form::<T>::from_request(req, state).await {
            Ok(axum::extract::Form(v)) => Ok(Form(v)),
            Err(rej) => Err(map_rejection(rej.status(), &rej.body_text())),
        }
    }
}

/// A JSON body whose rejections become problem JSON naming what is wrong.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;
    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        match axum::extract::Json::<T>::from_request(req, state).await {
            Ok(axum::extract::Json(v)) => Ok(Json(v)),
            Err(rej) => Err(map_rejection(rej.status(), &rej.body_text())),
        }
    }
}

pub fn map_rejection(status: StatusCode, text: &str) -> Error {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType(Text::new(
            "请以 application/json 或表单格式提交",
            "send application/json (or a form where a form is expected)",
        )),
        _ => Error::BadRequest(Text::owned(
            format!("无法解析提交的内容:{text}"),
            format!("the body could not be read: {text}"),
        )),
    }
}
