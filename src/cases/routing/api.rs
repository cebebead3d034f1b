//! The routing API under `/api/v1`.
//!
//! - `GET /routing/rules` → `{"rules": [...]}`; `POST /routing/rules`
//!   `{category_prefix, node_id?, unit_id, priority?}` → 201 with the rule;
//!   `DELETE /routing/rules/{id}` → 204 (subdistrict admins).
//! - `GET /cases/{id}/route` → the suggested unit, the rule that chose it and why, and the
//!   units a dispatch may pick from (staff and grid roles at the case's place).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::rules::Unit;
use super::store::{self, NewRule};
use crate::access::{allows, Action, Actor, Target};
use crate::cases::store::{self as cases, Visibility};
use crate::error::{Error, Result};
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/routing/rules", get(list).post(add))
        .route("/routing/rules/{id}", delete(remove))
        .route("/cases/{id}/route", get(route))
}

fn require_configure(actor: &Actor) -> Result<()> {
    if allows(actor, Action::Configure, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

async fn list(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    require_configure(&actor)?;
    let rules = store::list(&st.db, actor.subdistrict_id).await?;
    Ok(Json(json!({ "rules": rules })))
}

async fn add(
    State(st): State<AppState>,
    actor: Actor,
    Body(new): Body<NewRule>,
) -> Result<(StatusCode, Json<Value>)> {
    let rule = store::add(&st.db, &actor, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(rule).unwrap_or_default()),
    ))
}

async fn remove(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    store::remove(&st.db, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn unit_json(u: &Unit) -> Value {
    let l = u.kind_label();
    json!({ "id": u.id, "kind": u.kind, "name": u.name, "kind_label": { "zh": l.zh, "en": l.en } })
}

async fn route(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (c, path, vis) = cases::readable(&st.db, &actor, id).await?;
    let acts_for_unit = cases::actor_kind(&actor, &path, c.reporter_user_id)
        .unit()
        .is_some();
    if vis != Visibility::Staff && !acts_for_unit {
        return Err(Error::Forbidden);
    }
    let sid = actor.subdistrict_id;
    let (route, _) = store::suggest(&st.db, sid, &c, &path).await?;
    let d = store::dispatchable(&st.db, sid, &c, &path).await?;
    let choices: Vec<Value> = d
        .choices
        .iter()
        .map(|ch| {
            let mut v = unit_json(&ch.unit);
            v["suggested"] = json!(ch.suggested);
            v
        })
        .collect();
    Ok(Json(match route {
        Some(r) => json!({
            "case_id": c.id,
            "category": c.category,
            "unit": unit_json(&r.unit),
            "rule_id": r.rule_id,
            "reason": { "zh": r.reason.zh, "en": r.reason.en },
            "choices": choices,
        }),
        None => json!({ "case_id": c.id, "category": c.category, "unit": null,
            "rule_id": null, "reason": null, "choices": choices }),
    }))
}
