//! The property companies' API under `/api/v1`.
//!
//! - `GET /companies` → `{"companies": [...]}`; `POST /companies` `{name, credit_code?, licence?,
//!   contact_name?, hotline?, address?, note?, node_id?}` → 201; `GET /companies/{id}` → the
//!   company and the contracts the caller may read; `PATCH /companies/{id}` (same body).
//! - `GET /property/estates` → the estates in reach with their contract in force;
//!   `GET /property/estates/{id}` → the estate's contracts, selections and fee adjustments,
//!   and whether a re-election period covers it.
//! - `POST /property/estates/{id}/contracts` `{company_id, starts_on, ends_on, fee_standard,
//!   model, commission_bp?, note?}` → 201; `GET /property/contracts/{id}` (with its timeline);
//!   `POST /property/contracts/{id}/notices` `{kind: dismissal|non_renewal, given_on,
//!   effective_on?, vote_id?, by?, note?}`.
//! - `POST /property/estates/{id}/selections` `{title, plan_summary}` → 201;
//!   `GET /property/selections/{id}`; `POST /property/selections/{id}/bids` `{company_id,
//!   fee_standard, model, commission_bp?, plan_summary?, received_on}` → 201;
//!   `POST /property/selections/{id}/steps` `{action, vote_id?, invited_on?, closes_on?, bid_id?,
//!   starts_on?, ends_on?, note?, version?}`.
//! - `POST /property/estates/{id}/fees` `{new_fee, reason}` → 201; `GET /property/fees/{id}`;
//!   `POST /property/fees/{id}/steps` `{action, report_kind?, report_ref?, report_base64?,
//!   published_on?, publicity_days?, vote_id?, effective_on?, note?, version?}`;
//!   `GET /property/fees/{id}/report` (the uploaded file).
//! - `GET /property/counts?from=&to=` (Unix ms) → fee adjustments and selections completed.
//! - `GET /property/rooms/{id}/fee` → the room's monthly fee under the contract in force.
//!
//! Refused steps are 409 with the reason (also the re-election refusal); bad fields 422.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{
    self, FeeStepIn, NewBid, NewCompany, NewContract, NewFee, NewNotice, NewSelection,
    SelectionStepIn,
};
use crate::access::{allows, Action, Actor, Target};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/companies", get(list_companies).post(create_company))
        .route("/companies/{id}", get(show_company).patch(update_company))
        .route("/property/estates", get(estates))
        .route("/property/estates/{id}", get(show_estate))
        .route("/property/estates/{id}/contracts", post(create_contract))
        .route("/property/estates/{id}/selections", post(create_selection))
        .route("/property/estates/{id}/fees", post(create_fee))
        .route("/property/contracts/{id}", get(show_contract))
        .route("/property/contracts/{id}/notices", post(give_notice))
        .route("/property/selections/{id}", get(show_selection))
        .route("/property/selections/{id}/bids", post(add_bid))
        .route("/property/selections/{id}/steps", post(selection_step))
        .route("/property/fees/{id}", get(show_fee))
        .route("/property/fees/{id}/steps", post(fee_step))
        .route("/property/fees/{id}/report", get(fee_report))
        .route("/property/counts", get(counts))
        .route("/property/rooms/{id}/fee", get(room_fee))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn list_companies(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    if !store::reads_registry(&actor) {
        return Err(Error::Forbidden);
    }
    let list = store::companies(&st.db, actor.subdistrict_id).await?;
    Ok(Json(json!({ "companies": list })))
}

async fn create_company(
    State(st): State<AppState>,
    actor: Actor,
    Body(n): Body<NewCompany>,
) -> Result<(StatusCode, Json<Value>)> {
    let c = store::create_company(&st.db, &actor, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c))))
}

async fn show_company(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let c = store::readable_company(&st.db, &actor, id).await?;
    let sid = actor.subdistrict_id;
    let contracts: Vec<_> =
        store::contracts_under(&st.db, sid, &format!("/{sid}/"), Some(id), now_ms())
            .await?
            .into_iter()
            .filter(|k| {
                allows(
                    &actor,
                    Action::ReadTree,
                    Target::Node { path: &k.node_path },
                )
            })
            .collect();
    Ok(Json(json!({ "company": c, "contracts": contracts })))
}

async fn update_company(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewCompany>,
) -> Result<Json<Value>> {
    let c = store::update_company(&st.db, &actor, id, n, now_ms()).await?;
    Ok(Json(to_json(&c)))
}

async fn estates(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let list = store::estates(&st.db, &actor, now_ms()).await?;
    Ok(Json(json!({ "estates": list })))
}

async fn show_estate(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let node = store::estate(&st.db, &actor, id, Action::ReadTree).await?;
    let sid = actor.subdistrict_id;
    let now = now_ms();
    let contracts = store::contracts_at(&st.db, sid, &node, now).await?;
    let current = store::current(&contracts).cloned();
    let selections: Vec<_> = store::selections_under(&st.db, sid, &node.path)
        .await?
        .into_iter()
        .filter(|s| s.node_id == node.id)
        .collect();
    let fees: Vec<_> = store::fees_under(&st.db, sid, &node.path)
        .await?
        .into_iter()
        .filter(|f| f.node_id == node.id)
        .collect();
    Ok(Json(json!({
        "estate": { "id": node.id, "name": node.name, "kind": node.kind.as_str(), "path": node.path },
        "current": current,
        "contracts": contracts,
        "selections": selections,
        "fee_adjustments": fees,
        "in_reelection": store::in_reelection(&st.db, sid, &node.path, now).await?,
        "may_edit": allows(&actor, Action::EditRegistry, Target::Node { path: &node.path }),
    })))
}

async fn create_contract(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewContract>,
) -> Result<(StatusCode, Json<Value>)> {
    let c = store::create_contract(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c))))
}

async fn show_contract(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let c = store::readable_contract(&st.db, &actor, id, now_ms()).await?;
    let events = store::events(&st.db, actor.subdistrict_id, "contract", id).await?;
    let mut v = to_json(&c);
    v["events"] = to_json(&events);
    Ok(Json(v))
}

async fn give_notice(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewNotice>,
) -> Result<Json<Value>> {
    let c = store::give_notice(&st.db, &actor, id, n, now_ms()).await?;
    Ok(Json(to_json(&c)))
}

async fn create_selection(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewSelection>,
) -> Result<(StatusCode, Json<Value>)> {
    let s = store::create_selection(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&s))))
}

async fn selection_json(st: &AppState, actor: &Actor, s: &store::Selection) -> Result<Value> {
    let sid = actor.subdistrict_id;
    let mut v = to_json(s);
    v["bids"] = to_json(&store::bids(&st.db, sid, s.id).await?);
    v["events"] = to_json(&store::events(&st.db, sid, "selection", s.id).await?);
    v["in_reelection"] = json!(store::in_reelection(&st.db, sid, &s.node_path, now_ms()).await?);
    v["awaits_vote"] = json!(s.step().awaits_vote());
    Ok(v)
}

async fn show_selection(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let s = store::readable_selection(&st.db, &actor, id).await?;
    Ok(Json(selection_json(&st, &actor, &s).await?))
}

async fn add_bid(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewBid>,
) -> Result<(StatusCode, Json<Value>)> {
    let b = store::add_bid(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&b))))
}

async fn selection_step(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<SelectionStepIn>,
) -> Result<Json<Value>> {
    let s = store::selection_step(&st.db, &actor, id, n, now_ms()).await?;
    Ok(Json(selection_json(&st, &actor, &s).await?))
}

async fn create_fee(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewFee>,
) -> Result<(StatusCode, Json<Value>)> {
    let f = store::create_fee(&st.db, &actor, id, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&f))))
}

async fn fee_json(st: &AppState, actor: &Actor, f: &store::FeeAdjustment) -> Result<Value> {
    let sid = actor.subdistrict_id;
    let mut v = to_json(f);
    v["events"] = to_json(&store::events(&st.db, sid, "fee", f.id).await?);
    v["in_reelection"] = json!(store::in_reelection(&st.db, sid, &f.node_path, now_ms()).await?);
    v["awaits_vote"] = json!(f.step().awaits_vote());
    Ok(v)
}

async fn show_fee(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let f = store::readable_fee(&st.db, &actor, id).await?;
    Ok(Json(fee_json(&st, &actor, &f).await?))
}

async fn fee_step(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<FeeStepIn>,
) -> Result<Json<Value>> {
    let f = store::fee_step(&st.db, &actor, id, n, None, now_ms()).await?;
    Ok(Json(fee_json(&st, &actor, &f).await?))
}

async fn fee_report(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (ct, bytes) = store::report_file(&st.db, &actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, "attachment".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
struct CountsQ {
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

/// The dashboard counts; readers of the whole subdistrict only.
async fn counts(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<CountsQ>,
) -> Result<Json<Value>> {
    let sid = actor.subdistrict_id;
    if !allows(
        &actor,
        Action::ReadTree,
        Target::Node {
            path: &format!("/{sid}/"),
        },
    ) {
        return Err(Error::Forbidden);
    }
    let to = q.to.unwrap_or_else(now_ms);
    let from = q.from.unwrap_or(to - 2 * 365 * 86_400_000);
    let c = store::governance_counts(&st.db, sid, from, to).await?;
    Ok(Json(
        json!({ "from": from, "to": to, "fee_adjustments": c.fee_adjustments, "selections": c.selections }),
    ))
}

async fn room_fee(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let f = store::room_fee(&st.db, &actor, id, now_ms()).await?;
    Ok(Json(to_json(&f)))
}
