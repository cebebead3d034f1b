//! The registry API (under `/api/v1`): template, export, import (raw body, CSV or XLSX),
//! and the progress of background imports.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::export;
use super::import::{self, FileFormat, Hook, Report};
use super::jobs::{Job, Upload};
use crate::access::Actor;
use crate::error::{Error, Result, PROBLEM_JSON};
use crate::i18n::Lang;
use crate::web::AppState;

/// Uploads larger than this are imported in the background (202 and a job).
pub const BACKGROUND_BYTES: usize = 4 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registry/template", get(template))
        .route("/registry/export", get(export_file))
        .route(
            "/registry/import",
            post(import_file).layer(DefaultBodyLimit::max(crate::web::UPLOAD_LIMIT)),
        )
        .route("/registry/jobs/{id}", get(job))
}

#[derive(Deserialize, Default)]
pub struct FormatQ {
    pub format: Option<String>,
}

pub fn format_of(s: Option<&str>) -> Result<FileFormat> {
    match s {
        None | Some("") => Ok(FileFormat::Csv),
        Some(f) => FileFormat::parse(f).ok_or_else(export::bad_format),
    }
}

/// A file download response.
pub fn download(bytes: Vec<u8>, format: FileFormat, file_name: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime()),
    );
    if let Ok(v) = HeaderValue::from_str(&export::disposition(file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn template(_actor: Actor, Query(q): Query<FormatQ>) -> Result<Response> {
    let f = format_of(q.format.as_deref())?;
    let bytes = export::template(f)?;
    Ok(download(bytes, f, &format!("台账模板.{}", f.ext())))
}

#[derive(Deserialize)]
struct ExportQ {
    node_id: Option<i64>,
    format: Option<String>,
}

async fn export_file(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<ExportQ>,
) -> Result<Response> {
    let f = format_of(q.format.as_deref())?;
    let node_id = q.node_id.unwrap_or(actor.subdistrict_id);
    let (bytes, name) = export::export(&st.db, &st.seal, &actor, node_id, f).await?;
    Ok(download(bytes, f, &name))
}

#[derive(Deserialize)]
struct ImportQ {
    node_id: Option<i64>,
    dry_run: Option<String>,
    format: Option<String>,
    background: Option<String>,
}

fn truthy(s: Option<&str>, default: bool) -> Result<bool> {
    match s.map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(s) => match s.as_str() {
            "" => Ok(default),
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(Error::field(
                "dry_run",
                crate::i18n::Text::new("应为 true 或 false", "use true or false"),
            )),
        },
    }
}

/// The JSON answer for a finished import: 200, or 422 problem JSON listing the bad rows.
pub fn report_response(r: &Report, lang: Lang) -> Response {
    let mut body = r.to_json(lang);
    if r.ok {
        return (StatusCode::OK, Json(body)).into_response();
    }
    let e = Error::Invalid(Vec::new()).problem(lang);
    let detail = match lang {
        Lang::Zh => format!("{} 处错误,未写入任何数据。", r.errors_total),
        Lang::En => format!("{} problem(s) found; nothing was written.", r.errors_total),
    };
    if let Value::Object(m) = &mut body {
        m.insert("type".into(), json!(e.r#type));
        m.insert("title".into(), json!(e.title));
        m.insert("status".into(), json!(422));
        m.insert("detail".into(), json!(detail));
    }
    let mut resp = (StatusCode::UNPROCESSABLE_ENTITY, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    resp
}

async fn import_file(
    State(st): State<AppState>,
    actor: Actor,
    lang: Lang,
    Query(q): Query<ImportQ>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response> {
    let body = match Bytes::from_request(req, &st).await {
        Ok(b) => b,
        Err(rej) => {
            return Err(crate::web::errors::map_rejection(
                rej.status(),
                &rej.body_text(),
            ))
        }
    };
    let node_id = q.node_id.unwrap_or(actor.subdistrict_id);
    let dry_run = truthy(q.dry_run.as_deref(), false)?;
    let hint = match q.format.as_deref() {
        Some(f) if !f.is_empty() => Some(format_of(Some(f))?),
        _ => headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(FileFormat::parse),
    };
    if body.is_empty() {
        return Err(Error::BadRequest(crate::i18n::Text::new(
            "请求正文为空:请提交CSV或XLSX文件内容",
            "the request body is empty: send the CSV or XLSX file",
        )));
    }
    let node = import::target(&st.db, &actor, node_id).await?;
    let upload = Arc::new(Upload {
        bytes: body.to_vec(),
        format: hint.unwrap_or(FileFormat::Csv),
        file_name: String::new(),
    });
    let background = truthy(q.background.as_deref(), false)? || body.len() > BACKGROUND_BYTES;
    if background {
        let id = import::spawn(st.clone(), actor, &node, upload, dry_run);
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "job_id": id.to_string(), "status_url": format!("/api/v1/registry/jobs/{id}") })),
        )
            .into_response());
    }
    let r = import::run_bytes(
        &st.db,
        &st.seal,
        &actor,
        node.id,
        upload,
        dry_run,
        Hook::NONE,
    )
    .await?;
    Ok(report_response(&r, lang))
}

pub fn job_json(j: &Job, lang: Lang) -> Value {
    json!({
        "id": j.id.to_string(),
        "node_id": j.node_id,
        "dry_run": j.dry_run,
        "finished": j.finished(),
        "phase": j.phase.get(lang),
        "progress": j.progress,
        "report": j.report.as_ref().map(|r| r.to_json(lang)),
        "failure": j.failure.as_ref().map(|t| t.get(lang).to_string()),
    })
}

async fn job(
    State(st): State<AppState>,
    actor: Actor,
    lang: Lang,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let j = st
        .imports
        .get_for(id, actor.subdistrict_id, actor.user_id)
        .ok_or(Error::NotFound)?;
    Ok(Json(job_json(&j, lang)))
}
