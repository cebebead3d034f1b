//! Open311 service requests: `POST requests` (a case opened through the case store, channel
//! `open311`), `GET requests` with the spec's filters, `GET requests/{id}` (an array of one),
//! `GET tokens/{token}`, and the per-subdistrict intake settings (`/admin/open311`,
//! `GET|PUT /api/v1/open311/settings`).
//!
//! - `api_key` is an ordinary API token (`rbt_…`) of a user who may report at the place
//!   (the case store decides); a missing or unknown key is 403, as the spec says.
//! - The place of a request: `address_id` is a node id (a grid or below); else an
//!   `address_string` naming exactly one grid, building, unit or village group; else the
//!   subdistrict's default intake node (set on `/admin/open311`). A lat/long must fall inside
//!   the configured bounding box, when one is set. Without any of these the request is 400.
//! - `service_request_id` is the case number (`2026-000123`). Requests are created at once, so
//!   a token is the request's own id: `GET tokens/{id}` answers it back.
//! - Reads are public and show no personal data: no names, phones or e-mail (e-mail and
//!   device ids are not stored at all), the point coarsened to three decimals, drafts never.
//! - `Idempotency-Key` works as on `POST /api/v1/cases`: a retry answers the same request.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::wire::{self, Created, ListFilter, PostParams, ServiceRequest, Status, TokenAnswer};
use super::{error_response, internal, json_body, respond, split_file, Format, Open311Error};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::cases::lifecycle;
use crate::cases::store::{self, NewCase, IDEMPOTENCY_KEY};
use crate::error::{Error, FieldError, Result};
use crate::i18n::{Lang, Text};
use crate::storage::{opt_i64, Db};
use crate::tree::store::{self as tree, Subdistrict};
use crate::web::errors::{Form, Json as JsonBody};
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

fn err(status: StatusCode, text: Text, lang: Lang) -> Open311Error {
    Open311Error::new(status, text, lang)
}

fn errors_response(format: Format, errors: Vec<Open311Error>) -> Response {
    let status = errors
        .first()
        .and_then(|e| StatusCode::from_u16(e.code).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let body = match format {
        Format::Json => json_body(&errors),
        Format::Xml => super::errors_xml(&errors),
    };
    respond(status, format, body)
}

/// A store error in the spec's format: field errors are 400, one entry each.
fn store_error(format: Format, lang: Lang, e: Error) -> Response {
    match e {
        Error::Invalid(fields) => errors_response(
            format,
            fields
                .iter()
                .map(|f| Open311Error {
                    code: 400,
                    description: format!(
                        "{}: {}",
                        wire::open311_field(&f.field),
                        f.message.get(lang)
                    ),
                })
                .collect(),
        ),
        Error::Forbidden | Error::Unauthorized => error_response(
            format,
            err(
                StatusCode::FORBIDDEN,
                Text::new(
                    "该 api_key 无权在此处提交",
                    "this api_key may not report at this place",
                ),
                lang,
            ),
        ),
        Error::NotFound => error_response(
            format,
            err(
                StatusCode::NOT_FOUND,
                Text::new("未找到", "not found"),
                lang,
            ),
        ),
        Error::BadRequest(t) | Error::Conflict(t) => {
            error_response(format, err(StatusCode::BAD_REQUEST, t, lang))
        }
        e @ Error::Internal(_) => internal(format, lang, e),
        other => error_response(
            format,
            err(
                other.status(),
                Text::owned(other.to_string(), other.to_string()),
                lang,
            ),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Settings

/// Where requests without an `address_id` go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub default_node_id: Option<i64>,
    #[serde(default)]
    pub min_lat_e6: Option<i64>,
    #[serde(default)]
    pub max_lat_e6: Option<i64>,
    #[serde(default)]
    pub min_lng_e6: Option<i64>,
    #[serde(default)]
    pub max_lng_e6: Option<i64>,
}

impl Settings {
    /// The bounding box, when all four sides are set.
    pub fn bbox(&self) -> Option<(i64, i64, i64, i64)> {
        Some((
            self.min_lat_e6?,
            self.max_lat_e6?,
            self.min_lng_e6?,
            self.max_lng_e6?,
        ))
    }

    /// Whether a point is inside the box (always, without a box).
    pub fn contains(&self, lat: i64, lng: i64) -> bool {
        match self.bbox() {
            Some((a, b, c, d)) => (a..=b).contains(&lat) && (c..=d).contains(&lng),
            None => true,
        }
    }

    fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let sides = [
            self.min_lat_e6,
            self.max_lat_e6,
            self.min_lng_e6,
            self.max_lng_e6,
        ];
        let set = sides.iter().filter(|s| s.is_some()).count();
        if set != 0 && set != 4 {
            e.push(FieldError::new(
                "min_lat_e6",
                Text::new(
                    "范围须四边都填,或都不填",
                    "give all four sides of the box, or none",
                ),
            ));
        }
        if let Some((a, b, c, d)) = self.bbox() {
            if !(-90_000_000..=90_000_000).contains(&a)
                || !(-90_000_000..=90_000_000).contains(&b)
                || a >= b
            {
                e.push(FieldError::new(
                    "max_lat_e6",
                    Text::new(
                        "纬度范围无效(南边须小于北边)",
                        "invalid latitudes (south must be below north)",
                    ),
                ));
            }
            if !(-180_000_000..=180_000_000).contains(&c)
                || !(-180_000_000..=180_000_000).contains(&d)
                || c >= d
            {
                e.push(FieldError::new(
                    "max_lng_e6",
                    Text::new(
                        "经度范围无效(西边须小于东边)",
                        "invalid longitudes (west must be below east)",
                    ),
                ));
            }
        }
        e
    }
}

pub async fn settings(db: &Db, sid: i64) -> Result<Settings> {
    let row = sqlx::query(
        "SELECT default_node_id, min_lat_e6, max_lat_e6, min_lng_e6, max_lng_e6 \
         FROM open311_settings WHERE subdistrict_id = $1",
    )
    .bind(sid)
    .fetch_optional(db.read())
    .await?;
    Ok(row
        .map(|r| Settings {
            default_node_id: opt_i64(&r, "default_node_id"),
            min_lat_e6: opt_i64(&r, "min_lat_e6"),
            max_lat_e6: opt_i64(&r, "max_lat_e6"),
            min_lng_e6: opt_i64(&r, "min_lng_e6"),
            max_lng_e6: opt_i64(&r, "max_lng_e6"),
        })
        .unwrap_or_default())
}

fn is_intake_node(kind: crate::tree::NodeKind) -> bool {
    use crate::tree::NodeKind::*;
    matches!(kind, Grid | Building | Unit | VillageGroup)
}

/// Saves the settings (admins), audited, in one transaction.
pub async fn save_settings(db: &Db, actor: &Actor, s: &Settings) -> Result<Settings> {
    if !allows(actor, Action::Configure, Target::Subdistrict) {
        return Err(Error::Forbidden);
    }
    let sid = actor.subdistrict_id;
    let mut errors = s.check();
    if let Some(id) = s.default_node_id {
        match tree::node(db, sid, id).await {
            Ok(n) if is_intake_node(n.kind) => {}
            Ok(_) => errors.push(FieldError::new(
                "default_node_id",
                Text::new(
                    "请选择网格、楼栋、单元或村民小组",
                    "choose a grid, building, unit or village group",
                ),
            )),
            Err(Error::NotFound) => errors.push(FieldError::new(
                "default_node_id",
                Text::new("没有这个地点", "no such place"),
            )),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let before = settings(db, sid).await?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM open311_settings WHERE subdistrict_id = $1")
        .bind(sid)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO open311_settings (subdistrict_id, default_node_id, min_lat_e6, max_lat_e6, \
         min_lng_e6, max_lng_e6, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sid)
    .bind(s.default_node_id)
    .bind(s.min_lat_e6)
    .bind(s.max_lat_e6)
    .bind(s.min_lng_e6)
    .bind(s.max_lng_e6)
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(crate::clock::now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("open311.settings", "open311_settings", None)
            .label("open311")
            .before(json!(before))
            .after(json!(s)),
    )
    .await?;
    tx.commit().await?;
    Ok(s.clone())
}

/// `GET|PUT /open311/settings`, nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new().route(
        "/open311/settings",
        get(api_get_settings).put(api_put_settings),
    )
}

async fn api_get_settings(State(st): State<AppState>, actor: Actor) -> Result<Json<Settings>> {
    if !allows(&actor, Action::Configure, Target::Subdistrict) {
        return Err(Error::Forbidden);
    }
    Ok(Json(settings(&st.db, actor.subdistrict_id).await?))
}

async fn api_put_settings(
    State(st): State<AppState>,
    actor: Actor,
    JsonBody(s): JsonBody<Settings>,
) -> Result<Json<Settings>> {
    Ok(Json(save_settings(&st.db, &actor, &s).await?))
}

/// The admin page.
pub fn page_routes() -> Router<AppState> {
    Router::new().route("/admin/open311", get(settings_page).post(settings_submit))
}

fn degrees(e6: Option<i64>) -> String {
    e6.map(|v| format!("{:.6}", v as f64 / 1_000_000.0))
        .unwrap_or_default()
}

async fn render_settings(
    ctx: &Ctx,
    actor: &Actor,
    s: &Settings,
    errors: &[FieldError],
    saved: bool,
) -> Result<Markup> {
    let db = &ctx.state.db;
    let sid = actor.subdistrict_id;
    let rows = sqlx::query(
        "SELECT n.id, n.name, p.name AS parent_name FROM nodes n \
         LEFT JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
         WHERE n.subdistrict_id = $1 AND n.kind IN ('grid', 'village_group') ORDER BY n.path LIMIT 3000",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let targets: Vec<(i64, String)> = rows
        .iter()
        .map(|r| {
            let parent: Option<String> = r.try_get("parent_name").ok().flatten();
            let name: String = r.get("name");
            (
                r.get::<i64, _>("id"),
                parent.map(|p| format!("{p} / {name}")).unwrap_or(name),
            )
        })
        .collect();
    let body = html! {
        h1 { (ctx.t("Open311 接入", "Open311 intake")) }
        p.muted { (ctx.t(
            "Open311 客户端提交的诉求若未给出 address_id(地点编号),也无法按地址名称对上唯一的网格、楼栋、单元或村民小组,就放到这里设定的默认网格;设定了经纬度范围时,超出范围的坐标将被拒绝。",
            "An Open311 request without an address_id (a node id) whose address_string names no single grid, building, unit or village group goes to the default node set here; with a bounding box set, points outside it are refused."
        )) }
        p.muted { (ctx.t("接口地址:", "Endpoint: ")) code { "/open311/v2/discovery.json" } }
        @if saved { p.success role="status" { (ctx.t("已保存。", "Saved.")) } }
        @if !errors.is_empty() {
            ul.field-errors role="alert" { @for e in errors { li { (ctx.text(&e.message)) } } }
        }
        form.stack.card method="post" action="/admin/open311" {
            (csrf(ctx))
            label { (ctx.t("默认网格", "Default node"))
                select name="default_node_id" {
                    option value="" selected[s.default_node_id.is_none()] { (ctx.t("(无:必须给出地点)", "(none: a place is required)")) }
                    @for (id, label) in &targets { option value=(id) selected[s.default_node_id == Some(*id)] { (label) } }
                }
            }
            label { (ctx.t("南边纬度", "South latitude")) input type="text" inputmode="decimal" name="min_lat" value=(degrees(s.min_lat_e6)); }
            label { (ctx.t("北边纬度", "North latitude")) input type="text" inputmode="decimal" name="max_lat" value=(degrees(s.max_lat_e6)); }
            label { (ctx.t("西边经度", "West longitude")) input type="text" inputmode="decimal" name="min_lng" value=(degrees(s.min_lng_e6)); }
            label { (ctx.t("东边经度", "East longitude")) input type="text" inputmode="decimal" name="max_lng" value=(degrees(s.max_lng_e6)); }
            div { button type="submit" { (ctx.t("保存", "Save")) } }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("Open311 接入", "Open311 intake"),
        body,
    ))
}

#[derive(Deserialize, Default)]
struct SavedQ {
    saved: Option<String>,
}

async fn settings_page(
    p: Page,
    axum::extract::Query(q): axum::extract::Query<SavedQ>,
) -> Result<Markup> {
    if !allows(&p.actor, Action::Configure, Target::Subdistrict) {
        return Err(Error::Forbidden);
    }
    let s = settings(&p.ctx.state.db, p.actor.subdistrict_id).await?;
    render_settings(&p.ctx, &p.actor, &s, &[], q.saved.is_some()).await
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    default_node_id: String,
    #[serde(default)]
    min_lat: String,
    #[serde(default)]
    max_lat: String,
    #[serde(default)]
    min_lng: String,
    #[serde(default)]
    max_lng: String,
}

async fn settings_submit(p: Page, Form(f): Form<SettingsForm>) -> Result<Response> {
    if !allows(&p.actor, Action::Configure, Target::Subdistrict) {
        return Err(Error::Forbidden);
    }
    let mut errors = Vec::new();
    let mut deg = |field: &str, v: &str, max: i64| -> Option<i64> {
        if v.trim().is_empty() {
            return None;
        }
        let r = wire::degrees_e6(v, max);
        if r.is_none() {
            errors.push(FieldError::new(
                field,
                Text::new(
                    "须为十进制度数,如 31.15",
                    "must be decimal degrees, e.g. 31.15",
                ),
            ));
        }
        r
    };
    let s = Settings {
        default_node_id: None,
        min_lat_e6: deg("min_lat", &f.min_lat, 90),
        max_lat_e6: deg("max_lat", &f.max_lat, 90),
        min_lng_e6: deg("min_lng", &f.min_lng, 180),
        max_lng_e6: deg("max_lng", &f.max_lng, 180),
    };
    let s = Settings {
        default_node_id: match f.default_node_id.trim() {
            "" => None,
            v => match v.parse() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(
                        "default_node_id",
                        Text::new("须为地点编号", "must be a node id"),
                    ));
                    None
                }
            },
        },
        ..s
    };
    let result = if errors.is_empty() {
        save_settings(&p.ctx.state.db, &p.actor, &s).await
    } else {
        Err(Error::Invalid(errors))
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/open311?saved=1").into_response()),
        Err(Error::Invalid(errors)) => {
            let page = render_settings(&p.ctx, &p.actor, &s, &errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// POST requests

/// The form pairs of the query string and the body (the body wins for single fields).
fn pairs(uri: &Uri, body: &[u8]) -> Vec<(String, String)> {
    let q = uri.query().unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes())
        .chain(url::form_urlencoded::parse(body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The node a request is placed at, by the rule in the module documentation.
async fn place(
    db: &Db,
    sid: i64,
    p: &PostParams,
    point: Option<(i64, i64)>,
    lang: Lang,
) -> Result<std::result::Result<i64, Open311Error>> {
    let s = settings(db, sid).await?;
    if let Some((lat, lng)) = point {
        if !s.contains(lat, lng) {
            return Ok(Err(err(
                StatusCode::BAD_REQUEST,
                Text::new(
                    "lat/long 不在本街道范围内",
                    "lat/long is outside this jurisdiction",
                ),
                lang,
            )));
        }
    }
    if let Some(id) = &p.address_id {
        return Ok(id.parse::<i64>().map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                Text::new("address_id 须为地点编号", "address_id must be a node id"),
                lang,
            )
        }));
    }
    if let Some(a) = &p.address_string {
        let rows = sqlx::query(
            "SELECT id FROM nodes WHERE subdistrict_id = $1 AND name = $2 \
             AND kind IN ('grid', 'building', 'unit', 'village_group') LIMIT 2",
        )
        .bind(sid)
        .bind(a)
        .fetch_all(db.read())
        .await?;
        if rows.len() == 1 {
            return Ok(Ok(rows[0].get::<i64, _>(0)));
        }
    }
    match s.default_node_id {
        Some(id) => Ok(Ok(id)),
        None => Ok(Err(err(
            StatusCode::BAD_REQUEST,
            Text::new(
                "请提供 address_id(地点编号):本街道未设定默认受理网格",
                "address_id (a node id) is required: this jurisdiction has no default intake node",
            ),
            lang,
        ))),
    }
}

fn notice(number: &str, lang: Lang) -> String {
    Text::owned(
        format!("已收到您的诉求,编号 {number}。可凭编号查询办理进度。"),
        format!("Your request is received as {number}; follow it with this number."),
    )
    .get(lang)
    .to_string()
}

/// `POST requests.{json,xml}`.
pub(super) async fn post(
    st: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    body: Body,
    format: Format,
    lang: Lang,
) -> Response {
    let bytes = match axum::body::to_bytes(body, crate::web::BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                format,
                err(
                    StatusCode::BAD_REQUEST,
                    Text::new(
                        "请求体无法读取或过大",
                        "the body could not be read or is too large",
                    ),
                    lang,
                ),
            )
        }
    };
    let p = wire::parse_post(pairs(uri, &bytes));
    let bad_key = || {
        error_response(
            format,
            err(
                StatusCode::FORBIDDEN,
                Text::new(
                    "api_key 缺失或无效",
                    "api_key was not provided or is invalid",
                ),
                lang,
            ),
        )
    };
    let Some(key) = &p.api_key else {
        return bad_key();
    };
    let actor = match crate::auth::tokens::actor(&st.db, key).await {
        Ok(Some(a)) => a,
        Ok(None) => return bad_key(),
        Err(e) => return internal(format, lang, e),
    };
    let sid = actor.subdistrict_id;
    if let Some(code) = &p.jurisdiction_id {
        match tree::subdistrict_by_code(&st.db, code).await {
            Ok(Some(j)) if j.id == sid => {}
            Ok(Some(_)) => {
                return error_response(
                    format,
                    err(
                        StatusCode::FORBIDDEN,
                        Text::new(
                            "该 api_key 不属于这个 jurisdiction_id",
                            "this api_key is not valid for this jurisdiction_id",
                        ),
                        lang,
                    ),
                )
            }
            Ok(None) => {
                return error_response(
                    format,
                    err(
                        StatusCode::NOT_FOUND,
                        Text::owned(
                            format!("未知的 jurisdiction_id:{code}"),
                            format!("unknown jurisdiction_id: {code}"),
                        ),
                        lang,
                    ),
                )
            }
            Err(e) => return internal(format, lang, e),
        }
    }
    let mut errors = Vec::new();
    let categories = match crate::cases::category_store::offered(&st.db, sid).await {
        Ok(t) => t,
        Err(e) => return internal(format, lang, e),
    };
    let service = match &p.service_code {
        None => {
            errors.push(err(
                StatusCode::BAD_REQUEST,
                Text::new("缺少 service_code", "service_code is required"),
                lang,
            ));
            None
        }
        Some(code) => match categories.get(code).filter(|c| categories.is_leaf(&c.code)) {
            Some(c) => Some(c.clone()),
            None => {
                return error_response(
                    format,
                    err(
                        StatusCode::NOT_FOUND,
                        Text::owned(
                            format!("未知的服务代码:{code}"),
                            format!("unknown service_code: {code}"),
                        ),
                        lang,
                    ),
                )
            }
        },
    };
    let lat = p.lat.as_deref().map(|v| wire::degrees_e6(v, 90));
    let lng = p.long.as_deref().map(|v| wire::degrees_e6(v, 180));
    let point = match (lat, lng) {
        (None, None) => None,
        (Some(Some(a)), Some(Some(b))) => Some((a, b)),
        _ => {
            errors.push(err(
                StatusCode::BAD_REQUEST,
                Text::new(
                    "lat 与 long 须同时给出,且为十进制度数",
                    "lat and long must both be given, in decimal degrees",
                ),
                lang,
            ));
            None
        }
    };
    if point.is_none() && lat.is_none() && p.address_string.is_none() && p.address_id.is_none() {
        errors.push(err(
            StatusCode::BAD_REQUEST,
            Text::new(
                "须给出位置:lat/long、address_string 或 address_id",
                "a location is required: lat/long, address_string or address_id",
            ),
            lang,
        ));
    }
    if !errors.is_empty() {
        return errors_response(format, errors);
    }
    let Some(service) = service else {
        return errors_response(format, errors);
    };
    let node_id = match place(&st.db, sid, &p, point, lang).await {
        Ok(Ok(id)) => id,
        Ok(Err(e)) => return error_response(format, e),
        Err(e) => return internal(format, lang, e),
    };
    let mut description = p
        .description
        .clone()
        .unwrap_or_else(|| service.name_zh.clone());
    if let Some(m) = &p.media_url {
        description.push('\n');
        description.push_str(m);
    }
    let title: String = p
        .description
        .as_deref()
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| service.name_zh.clone())
        .chars()
        .take(30)
        .collect();
    let contact_name = [p.first_name.as_deref(), p.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let new = NewCase {
        category: service.code.clone(),
        node_id,
        title,
        description,
        lat_e6: point.map(|(a, _)| a),
        lng_e6: point.map(|(_, b)| b),
        address: p.address_string.clone().unwrap_or_default(),
        contact_name,
        contact_phone: p.phone.clone().unwrap_or_default(),
        attributes: p
            .attributes
            .iter()
            .map(|(k, v)| {
                let joined = v
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",");
                (k.clone(), joined)
            })
            .collect(),
        ..Default::default()
    };
    let key = match headers.get(IDEMPOTENCY_KEY).map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) => Some(k.to_string()),
        Some(Err(_)) => {
            return error_response(
                format,
                err(
                    StatusCode::BAD_REQUEST,
                    Text::new(
                        "Idempotency-Key 须为可见 ASCII 字符",
                        "Idempotency-Key must be visible ASCII characters",
                    ),
                    lang,
                ),
            )
        }
    };
    let opened = store::open_case_sealed(
        &st.db,
        Some(&st.seal),
        &actor,
        new,
        "open311",
        key.as_deref(),
    )
    .await;
    match opened {
        Ok(o) => {
            let number = o.case().number.clone();
            let c = Created {
                service_notice: notice(&number, lang),
                service_request_id: number,
                account_id: None,
            };
            let body = match format {
                Format::Json => json_body(&[&c]),
                Format::Xml => wire::created_xml(&c),
            };
            respond(StatusCode::OK, format, body)
        }
        Err(e) => store_error(format, lang, e),
    }
}

// ---------------------------------------------------------------------------------------
// GET requests

const LIST_COLS: &str = "number, category, node_id, description, state, lifecycle_json, \
    created_at, updated_at, address, lat_e6, lng_e6";

/// A node's name, looked up once per request.
async fn node_name(db: &Db, sid: i64, names: &mut HashMap<i64, String>, id: i64) -> Result<String> {
    if let Some(n) = names.get(&id) {
        return Ok(n.clone());
    }
    let n = match tree::node(db, sid, id).await {
        Ok(n) => n.name,
        Err(Error::NotFound) => String::new(),
        Err(e) => return Err(e),
    };
    names.insert(id, n.clone());
    Ok(n)
}

/// The public view of the rows, with node names looked up once each.
async fn to_public(
    db: &Db,
    sid: i64,
    rows: &[sqlx::any::AnyRow],
    lang: Lang,
) -> Result<Vec<ServiceRequest>> {
    let categories = crate::cases::category_store::tree(db, sid).await?;
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let state: String = r.get("state");
        let Some(status) = wire::status_of(&state) else {
            continue;
        };
        let l: Option<lifecycle::Case> =
            serde_json::from_str(&r.get::<String, _>("lifecycle_json")).ok();
        let node_id: i64 = r.get("node_id");
        let place = node_name(db, sid, &mut names, node_id).await?;
        let agency = match l.as_ref().and_then(|l| l.owner_unit) {
            Some(u) => node_name(db, sid, &mut names, u).await?,
            None => String::new(),
        };
        let category: String = r.get("category");
        let address: String = r.get("address");
        let state_label = l
            .as_ref()
            .map(|l| l.state.label().get(lang).to_string())
            .unwrap_or_default();
        out.push(ServiceRequest {
            service_request_id: r.get("number"),
            status: status.as_str(),
            status_notes: state_label,
            service_name: categories
                .get(&category)
                .map(|c| c.name().get(lang).to_string())
                .unwrap_or_else(|| category.clone()),
            service_code: category,
            description: r.get("description"),
            agency_responsible: agency,
            service_notice: String::new(),
            requested_datetime: wire::format_w3(r.get("created_at")),
            updated_datetime: wire::format_w3(r.get("updated_at")),
            expected_datetime: l.as_ref().and_then(|l| l.due_ms).map(wire::format_w3),
            address: if address.is_empty() { place } else { address },
            address_id: node_id.to_string(),
            zipcode: None,
            lat: opt_i64(r, "lat_e6").map(wire::coarse_degrees),
            long: opt_i64(r, "lng_e6").map(wire::coarse_degrees),
            media_url: None,
        });
    }
    Ok(out)
}

/// The requests of a jurisdiction matching a filter, newest first, at most 1000.
pub async fn list(db: &Db, sid: i64, f: &ListFilter, lang: Lang) -> Result<Vec<ServiceRequest>> {
    let mut sql =
        format!("SELECT {LIST_COLS} FROM cases WHERE subdistrict_id = $1 AND state <> 'draft'");
    let mut texts: Vec<String> = Vec::new();
    let placeholders = |texts: &mut Vec<String>, values: &[String]| -> String {
        values
            .iter()
            .map(|v| {
                texts.push(v.clone());
                format!("${}", texts.len() + 1)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let closed = wire::CLOSED_STATES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if !f.ids.is_empty() {
        let p = placeholders(&mut texts, &f.ids);
        sql.push_str(&format!(" AND number IN ({p})"));
    } else {
        if !f.service_codes.is_empty() {
            let p = placeholders(&mut texts, &f.service_codes);
            sql.push_str(&format!(" AND category IN ({p})"));
        }
        match f.statuses.as_slice() {
            [Status::Open] => sql.push_str(&format!(" AND state NOT IN ({closed})")),
            [Status::Closed] => sql.push_str(&format!(" AND state IN ({closed})")),
            _ => {}
        }
        let n = texts.len();
        sql.push_str(&format!(
            " AND created_at >= ${} AND created_at <= ${}",
            n + 2,
            n + 3
        ));
    }
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT {}",
        wire::MAX_RESULTS
    ));
    let mut q = sqlx::query(&sql).bind(sid);
    for t in &texts {
        q = q.bind(t);
    }
    if f.ids.is_empty() {
        q = q.bind(f.from_ms).bind(f.to_ms);
    }
    let rows = q.fetch_all(db.read()).await?;
    to_public(db, sid, &rows, lang).await
}

/// One request by its id (the case number), if public.
pub async fn one(db: &Db, sid: i64, id: &str, lang: Lang) -> Result<Option<ServiceRequest>> {
    let rows = sqlx::query(&format!(
        "SELECT {LIST_COLS} FROM cases WHERE subdistrict_id = $1 AND number = $2 AND state <> 'draft'"
    ))
    .bind(sid)
    .bind(id)
    .fetch_all(db.read())
    .await?;
    Ok(to_public(db, sid, &rows, lang).await?.into_iter().next())
}

/// `GET requests.{json,xml}`.
pub(super) async fn get_list(
    st: &AppState,
    j: &Subdistrict,
    uri: &Uri,
    format: Format,
    lang: Lang,
) -> Response {
    let q = uri.query().unwrap_or("");
    let pairs =
        url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()));
    let f = match wire::parse_list_query(pairs, crate::clock::now_ms(), lang) {
        Ok(f) => f,
        Err(errors) => return errors_response(format, errors),
    };
    match list(&st.db, j.id, &f, lang).await {
        Ok(list) => {
            let body = match format {
                Format::Json => json_body(&list),
                Format::Xml => wire::requests_xml(&list),
            };
            respond(StatusCode::OK, format, body)
        }
        Err(e) => internal(format, lang, e),
    }
}

fn unknown_request(format: Format, lang: Lang, id: &str) -> Response {
    error_response(
        format,
        err(
            StatusCode::NOT_FOUND,
            Text::owned(
                format!("未知的 service_request_id:{id}"),
                format!("unknown service_request_id: {id}"),
            ),
            lang,
        ),
    )
}

/// `GET requests/{id}.{json,xml}`: an array of one, as the spec says.
pub(super) async fn get_one(
    State(st): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let lang = super::request_lang(&headers);
    let (id, format) = split_file(&file);
    let Ok(format) = format else {
        return super::bad_format(lang);
    };
    let j = match super::jurisdiction(&st, &uri, format, lang).await {
        Ok(j) => j,
        Err(resp) => return resp,
    };
    match one(&st.db, j.id, id, lang).await {
        Ok(Some(r)) => {
            let list = [r];
            let body = match format {
                Format::Json => json_body(&list),
                Format::Xml => wire::requests_xml(&list),
            };
            respond(StatusCode::OK, format, body)
        }
        Ok(None) => unknown_request(format, lang, id),
        Err(e) => internal(format, lang, e),
    }
}

/// `GET tokens/{token}.{json,xml}`: requests are created at once, so a token is the
/// request's own id and answers with itself.
pub(super) async fn get_token(
    State(st): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let lang = super::request_lang(&headers);
    let (token, format) = split_file(&file);
    let Ok(format) = format else {
        return super::bad_format(lang);
    };
    let j = match super::jurisdiction(&st, &uri, format, lang).await {
        Ok(j) => j,
        Err(resp) => return resp,
    };
    match one(&st.db, j.id, token, lang).await {
        Ok(Some(r)) => {
            let t = TokenAnswer {
                service_request_id: r.service_request_id,
                token: token.to_string(),
            };
            let body = match format {
                Format::Json => json_body(&[&t]),
                Format::Xml => wire::token_xml(&t),
            };
            respond(StatusCode::OK, format, body)
        }
        Ok(None) => error_response(
            format,
            err(
                StatusCode::NOT_FOUND,
                Text::owned(
                    format!("未知的 token:{token}"),
                    format!("unknown token: {token}"),
                ),
                lang,
            ),
        ),
        Err(e) => internal(format, lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_needs_all_four_sides_in_order() {
        let none = Settings::default();
        assert!(none.check().is_empty());
        assert!(none.contains(1, 1));
        let s = Settings {
            min_lat_e6: Some(31_000_000),
            max_lat_e6: Some(31_300_000),
            min_lng_e6: Some(120_900_000),
            max_lng_e6: Some(121_300_000),
            ..Default::default()
        };
        assert!(s.check().is_empty());
        assert!(s.contains(31_150_000, 121_100_000));
        assert!(s.contains(31_000_000, 121_300_000), "edges are inside");
        assert!(!s.contains(30_999_999, 121_100_000));
        assert!(!s.contains(31_150_000, 121_300_001));
        let partial = Settings {
            min_lat_e6: Some(1),
            ..Default::default()
        };
        assert_eq!(partial.check().len(), 1);
        assert!(partial.contains(0, 0), "a partial box is no box");
        let flipped = Settings {
            min_lat_e6: Some(31_300_000),
            max_lat_e6: Some(31_000_000),
            ..s.clone()
        };
        assert_eq!(flipped.check()[0].field, "max_lat_e6");
        let wide = Settings {
            max_lng_e6: Some(181_000_000),
            ..s
        };
        assert_eq!(wide.check()[0].field, "max_lng_e6");
    }
}
