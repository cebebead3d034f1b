//! The one error policy. Domain and storage code return [`Error`]; the web layer turns it
//! into RFC 9457 problem JSON here, and `web::errors` re-renders that as a localised page
//! for browser routes. Internal errors are logged and never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::i18n::{self, Text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: Text) -> Self {
        FieldError {
            field: field.into(),
            message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("not logged in")]
    Unauthorized,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("bad request: {}", .0.en)]
    BadRequest(Text),
    #[error("conflict: {}", .0.en)]
    Conflict(Text),
    #[error("too many attempts")]
    TooManyAttempts { retry_after_s: u64 },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType(Text),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if matches!(e, sqlx::Error::RowNotFound) {
            return Error::NotFound;
        }
        Error::Internal(anyhow::Error::new(e))
    }
}

impl Error {
    /// One invalid field.
    pub fn field(field: &str, message: Text) -> Error {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Error::NotFound => "not-found",
            Error::Forbidden => "forbidden",
            Error::Unauthorized => "unauthorized",
            Error::Invalid(_) => "validation",
            Error::BadRequest(_) => "bad-request",
            Error::Conflict(_) => "conflict",
            Error::TooManyAttempts { .. } => "too-many-attempts",
            Error::PayloadTooLarge => "payload-too-large",
            Error::UnsupportedMediaType(_) => "unsupported-media-type",
            Error::Internal(_) => "internal",
        }
    }

    fn title(&self) -> Text {
        match self {
            Error::NotFound => Text::new("找不到该页面或记录", "Not found"),
            Error::Forbidden => Text::new("无权访问", "Forbidden"),
            Error::Unauthorized => Text::new("请先登录", "Please log in"),
            Error::Invalid(_) => Text::new("填写有误", "Invalid input"),
            Error::BadRequest(_) => Text::new("请求有误", "Bad request"),
            Error::Conflict(_) => Text::new("操作冲突", "Conflict"),
            Error::TooManyAttempts { .. } => Text::new("尝试次数过多", "Too many attempts"),
            Error::PayloadTooLarge => Text::new("提交的内容过大", "Payload too large"),
            Error::UnsupportedMediaType(_) => Text::new("不支持的格式", "Unsupported media type"),
            Error::Internal(_) => Text::new("服务器内部错误", "Internal server error"),
        }
    }

    fn detail(&self) -> Text {
        match self {
            Error::NotFound => Text::new("您要找的内容不存在,或已被移除。", "What you asked for does not exist."),
            Error::Forbidden => {
                Text::new("您的角色无权查看或修改此内容。", "Your roles do not allow you to see or change this.")
            }
            Error::Unauthorized => Text::new("登录后才能继续。", "You need to log in to continue."),
            Error::Invalid(errors) => {
                let zh = errors.iter().map(|e| format!("{}:{}", e.field, e.message.zh)).collect::<Vec<_>>().join(";");
                let en = errors.iter().map(|e| format!("{}: {}", e.field, e.message.en)).collect::<Vec<_>>().join("; ");
                Text::owned(zh, en)
            }
            Error::BadRequest(t) | Error::Conflict(t) | Error::UnsupportedMediaType(t) => t.clone(),
            Error::TooManyAttempts { retry_after_s } => Text::owned(
                format!("登录失败次数过多,请在 {retry_after_s} 秒后重试。"),
                format!("Too many failed attempts; try again in {retry_after_s} s."),
            ),
            Error::PayloadTooLarge => {
                Text::new("提交的内容超过了允许的大小。", "The request body is larger than allowed.")
            }
            Error::Internal(_) => Text::new(
                "出现了意外错误,已记录。您的操作没有生效,请稍后重试。",
                "An unexpected error occurred and was logged. Nothing was changed; please try again.",
            ),
        }
    }

    /// The problem document for this error, in a language.
    pub fn problem(&self, lang: i18n::Lang) -> Problem {
        Problem {
            r#type: format!("/problems/{}", self.slug()),
            title: self.title().get(lang).to_string(),
            status: self.status().as_u16(),
            detail: self.detail().get(lang).to_string(),
            errors: match self {
                Error::Invalid(errors) => errors
                    .iter()
                    .map(|e| ProblemField {
                        field: e.field.clone(),
                        message: e.message.get(lang).to_string(),
                    })
                    .collect(),
                _ => Vec::new(),
            },
            retry_after: match self {
                Error::TooManyAttempts { retry_after_s } => Some(*retry_after_s),
                _ => None,
            },
        }
    }
}

/// RFC 9457 problem details, with an `errors` extension naming each invalid field.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct Problem {
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<ProblemField>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    pub fn into_response_with(self, status: StatusCode) -> Response {
        let retry = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(r) = retry {
            if let Ok(v) = HeaderValue::from_str(&r.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        let status = self.status();
        self.problem(i18n::current()).into_response_with(status)
    }
}
