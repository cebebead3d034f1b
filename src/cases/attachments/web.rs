//! Attachment pages and API. Thin: read the multipart body, call the store, answer.
//!
//! Pages:
//! - `POST /cases/{id}/attachments`: multipart (`photo` files, optional `public`, the CSRF
//!   token in the `_csrf` query parameter); redirects back to `/cases/{id}`; a refusal is
//!   the localised error page naming the field.
//! - `GET /cases/{id}/attachments/{aid}/{variant}` (`thumb`, `display`, `original`).
//!
//! API (under `/api/v1`):
//! - `POST /cases/{id}/attachments` (multipart as above, optional `event_seq`) → 201 with the
//!   list of the attachments sent (a photo stored before comes back as it was).
//! - `GET /cases/{id}/attachments` → the list, each with its URLs.
//! - `GET /cases/{id}/attachments/{aid}/{variant}` → the bytes.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use maud::{html, Markup};
use serde_json::{json, Value};

use super::{image, Attachment, Variant, PHOTO_FIELD};
use crate::access::{Actor, Role};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::map_rejection;
use crate::web::{AppState, Ctx, Page};

/// Largest upload body: nine photos of 10 MiB and the form around them.
pub const UPLOAD_LIMIT: usize = 100 * 1024 * 1024;

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/cases/{id}/attachments",
            post(upload_page).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/cases/{id}/attachments/{aid}/{variant}", get(bytes_page))
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/cases/{id}/attachments",
            get(list_api).merge(post(upload_api).layer(DefaultBodyLimit::max(UPLOAD_LIMIT))),
        )
        .route("/cases/{id}/attachments/{aid}/{variant}", get(bytes_api))
}

/// What an upload carried.
struct Upload {
    photos: Vec<Vec<u8>>,
    public: bool,
    event_seq: Option<i64>,
}

fn truthy(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty() && !matches!(v, "0" | "false" | "no" | "off")
}

/// Reads a multipart upload: every non-empty `photo` part, `public` and `event_seq`.
async fn read_upload(req: Request, st: &AppState) -> Result<Upload> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return Err(Error::UnsupportedMediaType(Text::new(
            "请以 multipart/form-data 上传照片(字段名 photo)",
            "send multipart/form-data with one or more `photo` parts",
        )));
    }
    let mut mp = Multipart::from_request(req, st)
        .await
        .map_err(|rej| map_rejection(rej.status(), &rej.body_text()))?;
    let mut up = Upload {
        photos: Vec::new(),
        public: false,
        event_seq: None,
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(map_rejection(e.status(), &e.body_text())),
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            PHOTO_FIELD => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| map_rejection(e.status(), &e.body_text()))?;
                // A file input left empty still sends an empty part.
                if !bytes.is_empty() {
                    up.photos.push(bytes.to_vec());
                }
            }
            "public" => {
                let v = field.text().await.unwrap_or_default();
                up.public = truthy(&v);
            }
            "event_seq" => {
                let v = field.text().await.unwrap_or_default();
                let v = v.trim();
                if !v.is_empty() {
                    up.event_seq = Some(v.parse().map_err(|_| {
                        Error::field(
                            "event_seq",
                            Text::new("请填写办理记录的序号", "must be a timeline event number"),
                        )
                    })?);
                }
            }
            _ => {}
        }
    }
    Ok(up)
}

async fn upload_page(
    State(st): State<AppState>,
    p: Page,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response> {
    let up = read_upload(req, &st).await?;
    super::add(&st.db, &p.actor, id, up.event_seq, up.photos, up.public).await?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn upload_api(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    req: Request,
) -> Result<(StatusCode, Json<Value>)> {
    let up = read_upload(req, &st).await?;
    let (vis, added) = super::add(&st.db, &actor, id, up.event_seq, up.photos, up.public).await?;
    let staff = vis == super::Visibility::Staff;
    let items: Vec<Value> = added.iter().map(|a| item(a, staff)).collect();
    Ok((StatusCode::CREATED, Json(Value::Array(items))))
}

/// An attachment as the API shows it, with the URLs of the variants the viewer may fetch.
fn item(a: &Attachment, staff: bool) -> Value {
    let base = format!("/api/v1/cases/{}/attachments/{}", a.case_id, a.id);
    let mut urls = json!({
        "thumb": format!("{base}/thumb"),
        "display": format!("{base}/display"),
    });
    if staff {
        urls["original"] = json!(format!("{base}/original"));
    }
    let mut v = serde_json::to_value(a).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("urls".into(), urls);
    }
    v
}

async fn list_api(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (vis, all) = super::list(&st.db, &actor, id).await?;
    let staff = vis == super::Visibility::Staff;
    Ok(Json(Value::Array(
        all.iter().map(|a| item(a, staff)).collect(),
    )))
}

async fn send_bytes(
    st: &AppState,
    actor: &Actor,
    (id, aid, variant): (i64, i64, String),
) -> Result<Response> {
    let variant = Variant::parse(&variant).ok_or(Error::NotFound)?;
    let (content_type, bytes) = super::read(&st.db, actor, id, aid, variant).await?;
    let ext = match image::Kind::from_content_type(&content_type) {
        Some(image::Kind::Png) => "png",
        Some(image::Kind::WebP) => "webp",
        _ => "jpg",
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    let value = |s: &str| {
        HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("application/octet-stream"))
    };
    h.insert(header::CONTENT_TYPE, value(&content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "inline; filename=\"case-{id}-{aid}-{}.{ext}\"",
        variant.code()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

async fn bytes_page(p: Page, Path(path): Path<(i64, i64, String)>) -> Result<Response> {
    send_bytes(&p.ctx.state, &p.actor, path).await
}

async fn bytes_api(
    State(st): State<AppState>,
    actor: Actor,
    Path(path): Path<(i64, i64, String)>,
) -> Result<Response> {
    send_bytes(&st, &actor, path).await
}

/// The photos of a case the viewer may see, as thumbnails linking to the display version
/// (staff also get the original). Empty when there are none. The caller has checked that the
/// viewer may read the case; `staff` is whether they see it as staff.
pub async fn gallery(
    st: &AppState,
    ctx: &Ctx,
    sid: i64,
    case_id: i64,
    staff: bool,
) -> Result<Markup> {
    let all = super::list_for(&st.db, sid, case_id, staff).await?;
    if all.is_empty() {
        return Ok(html! {});
    }
    let base = format!("/cases/{case_id}/attachments");
    // Inline thumbnails at half their pixel size: sharp on phone screens, several side by
    // side, and laid out without any style sheet.
    Ok(html! {
        h2 { (ctx.t("照片", "Photos")) " " span.muted { "(" (all.len()) ")" } }
        p.gallery {
            @for (i, a) in all.iter().enumerate() {
                @let (w, h) = a.thumb_dimensions();
                a.photo href={ (base) "/" (a.id) "/display" } {
                    img src={ (base) "/" (a.id) "/thumb" } width=((w / 2).max(1)) height=((h / 2).max(1))
                        loading="lazy" alt={ (ctx.t("照片", "Photo")) " " (i + 1) };
                }
                " "
            }
        }
        @if staff {
            p.muted.originals {
                (ctx.t("原图(仅工作人员可见):", "Originals (staff only): "))
                @for (i, a) in all.iter().enumerate() {
                    a href={ (base) "/" (a.id) "/original" } { (i + 1) }
                    @if !a.public { " " span.tag { (ctx.t("内部", "internal")) } }
                    " "
                }
            }
        }
    })
}

/// Whether the viewer sees the "visible to the resident" choice: people with roles beyond
/// resident or owner (for everyone else an upload is always public).
fn offers_public_choice(ctx: &Ctx) -> bool {
    ctx.actor.as_ref().is_some_and(|a| {
        a.grants
            .iter()
            .any(|g| !matches!(g.role, Role::Resident | Role::Owner))
    })
}

/// The form to add photos to a case (works without JavaScript; the phone's camera opens from
/// the file input).
pub fn upload_form(ctx: &Ctx, case_id: i64) -> Markup {
    html! {
        form.stack.card method="post" enctype="multipart/form-data"
            action={ "/cases/" (case_id) "/attachments?_csrf=" (ctx.csrf) } {
            (crate::web::layout::csrf(ctx))
            label { (ctx.t("添加照片", "Add photos"))
                input type="file" name=(PHOTO_FIELD) accept="image/jpeg,image/png,image/webp" multiple required;
            }
            span.muted {
                (ctx.t(
                    "JPEG、PNG 或 WebP,每张不超过 10 MB,一次最多 9 张;公开的照片不含拍摄位置等信息。",
                    "JPEG, PNG or WebP, up to 10 MiB each and 9 at a time; public copies carry no location or other metadata.",
                ))
            }
            @if offers_public_choice(ctx) {
                label { span { input type="checkbox" name="public" value="1"; " " (ctx.t("居民可见", "Visible to the resident")) } }
            }
            button type="submit" { (ctx.t("上传", "Upload")) }
        }
    }
}
