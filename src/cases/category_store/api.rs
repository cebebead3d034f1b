//! The category API under `/api/v1`:
//!
//! - `GET /categories` → `{version, source, updated_at, updated_by, offered, categories}`
//!   (any logged-in user: the tree is what every report form offers).
//! - `PUT /categories` `{version, categories: [...]}` or `{version, toml: "..."}` replaces the
//!   whole tree (`?dry_run=true` only checks).
//! - `POST /categories` `{version, code, name_zh, name_en, parent, ...}` adds one → 201.
//! - `PATCH /categories/{code}` `{version, ...the fields to change}` (a JSON merge patch of
//!   the category; `null` clears an inherited setting; `"retired": true` retires it).
//!
//! Changes are for subdistrict administrators (403 otherwise); a stale `version` → 409, an
//! invalid tree → 422 with an `errors` list by field.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    add, check, current, require_admin, save, set_retired, stale, update, ChangeKind, Stored,
};
use crate::access::Actor;
use crate::cases::category::{Category, CategoryTree};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/categories", get(read).put(replace).post(create))
        .route("/categories/{code}", patch(change))
}

/// The JSON view of a stored tree.
pub fn view(s: &Stored) -> Value {
    let offered: Vec<&str> = s
        .tree
        .categories
        .iter()
        .filter(|c| s.tree.is_offered(&c.code))
        .map(|c| c.code.as_str())
        .collect();
    json!({
        "version": s.version,
        "source": if s.version == 0 { "seeded" } else { "stored" },
        "updated_at": s.updated_at,
        "updated_by": s.updated_by,
        "offered": offered,
        "categories": s.tree.categories,
    })
}

async fn read(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    Ok(Json(view(&current(&st.db, actor.subdistrict_id).await?)))
}

fn version_of(body: &mut Map<String, Value>) -> Result<i64> {
    match body.remove("version") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|v| v >= 0) => {
            Ok(n.as_i64().unwrap_or_default())
        }
        _ => Err(Error::field(
            "version",
            Text::new(
                "请提供所编辑的版本号(version)",
                "send the version you edited (`version`, a whole number)",
            ),
        )),
    }
}

fn object(v: Value) -> Result<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(Error::BadRequest(Text::new(
            "请提交一个 JSON 对象",
            "send a JSON object",
        ))),
    }
}

fn category_from(v: Value, field: &str) -> Result<Category> {
    serde_json::from_value(v).map_err(|e| {
        Error::field(
            field,
            Text::owned(
                format!("类别格式有误:{e}"),
                format!("the category is malformed: {e}"),
            ),
        )
    })
}

#[derive(Deserialize, Default)]
struct DryRun {
    #[serde(default)]
    dry_run: bool,
}

async fn replace(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<DryRun>,
    Body(body): Body<Value>,
) -> Result<Json<Value>> {
    require_admin(&actor)?;
    let mut body = object(body)?;
    let expected = version_of(&mut body)?;
    let tree: CategoryTree = match (body.remove("categories"), body.remove("toml")) {
        (Some(list), None) => serde_json::from_value(json!({ "category": list })).map_err(|e| {
            Error::field(
                "categories",
                Text::owned(
                    format!("类别列表格式有误:{e}"),
                    format!("the category list is malformed: {e}"),
                ),
            )
        })?,
        (None, Some(Value::String(text))) => {
            CategoryTree::from_toml(&text).map_err(|t| Error::field("toml", t))?
        }
        _ => {
            return Err(Error::field(
                "categories",
                Text::new(
                    "请提交 categories(类别列表)或 toml(文本)之一",
                    "send either `categories` (a list) or `toml` (text)",
                ),
            ))
        }
    };
    if q.dry_run {
        let live = current(&st.db, actor.subdistrict_id).await?;
        if live.version != expected {
            return Err(stale(expected, live.version));
        }
        check(&live.tree, &tree)?;
        return Ok(Json(
            json!({ "dry_run": true, "version": live.version, "valid": true }),
        ));
    }
    let saved = save(&st.db, &actor, expected, tree, ChangeKind::Replace, "").await?;
    Ok(Json(view(&saved)))
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<Value>)> {
    require_admin(&actor)?;
    let mut body = object(body)?;
    let expected = version_of(&mut body)?;
    let category = category_from(Value::Object(body), "category")?;
    let saved = add(&st.db, &actor, expected, category).await?;
    Ok((StatusCode::CREATED, Json(view(&saved))))
}

async fn change(
    State(st): State<AppState>,
    actor: Actor,
    Path(code): Path<String>,
    Body(body): Body<Value>,
) -> Result<Json<Value>> {
    require_admin(&actor)?;
    let mut body = object(body)?;
    let expected = version_of(&mut body)?;
    let live = current(&st.db, actor.subdistrict_id).await?;
    let existing = live.tree.get(&code).ok_or(Error::NotFound)?;
    if let Some(c) = body.get("code") {
        if c.as_str() != Some(code.as_str()) {
            return Err(Error::field(
                "code",
                Text::new("类别代码不能修改", "a category's code cannot be changed"),
            ));
        }
    }
    // Retiring alone is its own kind of change in the audit log.
    if body.len() == 1 {
        if let Some(Value::Bool(r)) = body.get("retired") {
            let saved = set_retired(&st.db, &actor, expected, &code, *r).await?;
            return Ok(Json(view(&saved)));
        }
    }
    let mut merged = object(json!(existing))?;
    for (k, v) in body {
        merged.insert(k, v);
    }
    let category = category_from(Value::Object(merged), "category")?;
    let saved = update(&st.db, &actor, expected, &code, category).await?;
    Ok(Json(view(&saved)))
}
