//! The five-step method's API under `/api/v1`. Times are Unix ms; dates `yyyy-mm-dd`.
//!
//! - `GET /five-step/schedules/{node}` → the community's rules; `PUT` `{kind, rule, place?}`
//!   sets one kind's rule (a `cadence::Rule` as JSON).
//! - `POST /five-step/schedules/{node}/plan` `{from?, to?}` (dates; default today and 8 weeks
//!   on) → `{created, meetings}`; idempotent.
//! - `GET /five-step/scorecard/{node}?year=` → the community's and each grid's measures.
//! - `GET /meetings?node_id=&from=&to=` (ms); `GET /meetings/{id}` → meeting, agenda,
//!   attendance, decisions with actions; `PATCH /meetings/{id}` `{place?, start_ms?, end_ms?,
//!   minutes?}`; `POST /meetings/{id}/status` `{status, reason?}`.
//! - `POST /meetings/{id}/agenda/draft`; `POST /meetings/{id}/agenda/items` `{title, detail?}`;
//!   `DELETE /meetings/{id}/agenda/items/{item}`; `POST /meetings/{id}/agenda/items/{item}/move`
//!   `{up}`.
//! - `POST /meetings/{id}/attendance` `{user_id?, name?, status}`;
//!   `DELETE /meetings/{id}/attendance/{aid}`.
//! - `POST /meetings/{id}/decisions` `{body}`; `POST /meetings/{id}/decisions/{did}/actions`
//!   `{title, owner_unit_id?, owner_user_id?, owner_name?, due_on?}`.
//! - `POST /meeting-actions/{id}/done`; `POST /meeting-actions/{id}/case` `{category, node_id,
//!   title?, description?}` → 201 `{action, case}`.
//! - `GET /contacts?node_id=&user_id=&from=&to=`; `POST /contacts` `{node_id, occurred_at?,
//!   whom, household_id?, person_id?, place?, heard, tags?}`; `GET /contacts/{id}`;
//!   `POST /contacts/{id}/case` `{category, node_id?, title?, description?}`.
//! - `POST /calendar-feed/reset` → `{token, me, nodes}` (the feed URLs, shown this once).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::contacts::{self, ContactFilter, NewContact};
use super::store::{self, MeetingPatch, NewAction, NewAttendee, NewSchedule, ToCase};
use super::{feeds, rules};
use crate::access::Actor;
use crate::cases::calendar::deadline::local_date;
use crate::cases::measures::facts::Facts;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/five-step/schedules/{node}",
            get(schedules).put(save_schedule),
        )
        .route("/five-step/schedules/{node}/plan", post(plan))
        .route("/five-step/scorecard/{node}", get(scorecard))
        .route("/meetings", get(list))
        .route("/meetings/{id}", get(show).patch(update))
        .route("/meetings/{id}/status", post(status))
        .route("/meetings/{id}/agenda/draft", post(draft))
        .route("/meetings/{id}/agenda/items", post(add_item))
        .route("/meetings/{id}/agenda/items/{item}", delete(remove_item))
        .route("/meetings/{id}/agenda/items/{item}/move", post(move_item))
        .route("/meetings/{id}/attendance", post(attend))
        .route("/meetings/{id}/attendance/{aid}", delete(unattend))
        .route("/meetings/{id}/decisions", post(decide))
        .route("/meetings/{id}/decisions/{did}/actions", post(add_action))
        .route("/meeting-actions/{id}/done", post(action_done))
        .route("/meeting-actions/{id}/case", post(action_case))
        .route("/contacts", get(contacts_list).post(contact_create))
        .route("/contacts/{id}", get(contact_show))
        .route("/contacts/{id}/case", post(contact_case))
        .route("/calendar-feed/reset", post(feed_reset))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn schedules(
    State(st): State<AppState>,
    actor: Actor,
    Path(node): Path<i64>,
) -> Result<Json<Value>> {
    let n = store::running_node(&st.db, &actor, node).await?;
    let list = store::schedules(&st.db, actor.subdistrict_id, n.id).await?;
    Ok(Json(json!({ "node_id": n.id, "schedules": list })))
}

async fn save_schedule(
    State(st): State<AppState>,
    actor: Actor,
    Path(node): Path<i64>,
    Body(s): Body<NewSchedule>,
) -> Result<Json<Value>> {
    let s = store::save_schedule(&st.db, &actor, node, s).await?;
    Ok(Json(to_json(&s)))
}

#[derive(Deserialize, Default)]
struct PlanBody {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

fn date_field(field: &str, s: Option<&str>) -> Result<Option<time::Date>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => crate::clock::parse_local_date(v)
            .map(|ms| Some(local_date(ms)))
            .ok_or_else(|| {
                Error::field(
                    field,
                    Text::new("日期格式应为 2026-03-01", "a date like 2026-03-01"),
                )
            }),
    }
}

async fn plan(
    State(st): State<AppState>,
    actor: Actor,
    Path(node): Path<i64>,
    Body(b): Body<PlanBody>,
) -> Result<Json<Value>> {
    let today = local_date(crate::clock::now_ms());
    let from = date_field("from", b.from.as_deref())?.unwrap_or(today);
    let to = date_field("to", b.to.as_deref())?.unwrap_or(from + time::Duration::weeks(8));
    let p = store::plan(&st.db, &actor, node, from, to).await?;
    Ok(Json(to_json(&p)))
}

#[derive(Deserialize, Default)]
struct YearQ {
    #[serde(default)]
    year: Option<i32>,
}

/// The seven measures of some counters, each as value text, fraction and tenths.
pub fn measures_json(f: &Facts) -> Value {
    let mut out = serde_json::Map::new();
    for m in f.measures() {
        out.insert(
            m.kind.code().to_string(),
            json!({ "value": m.value_text(), "numerator": m.ratio.numerator,
                "denominator": m.ratio.denominator, "tenths": m.tenths() }),
        );
    }
    Value::Object(out)
}

async fn scorecard(
    State(st): State<AppState>,
    actor: Actor,
    Path(node): Path<i64>,
    Query(q): Query<YearQ>,
) -> Result<Json<Value>> {
    let year = q
        .year
        .unwrap_or_else(|| local_date(crate::clock::now_ms()).year());
    let (n, community, grids) = store::scorecard(&st.db, &actor, node, year).await?;
    Ok(Json(json!({
        "node_id": n.id, "year": year,
        "community": { "id": community.id, "name": community.name, "cases": community.facts.reported,
            "measures": measures_json(&community.facts) },
        "grids": grids.iter().map(|g| json!({ "id": g.id, "name": g.name, "cases": g.facts.reported,
            "measures": measures_json(&g.facts) })).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    node_id: Option<i64>,
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

async fn list(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<ListQ>,
) -> Result<Json<Value>> {
    let now = crate::clock::now_ms();
    let from = q.from.unwrap_or(now - 30 * 86_400_000);
    let to = q.to.unwrap_or(now + 90 * 86_400_000);
    let meetings = match q.node_id {
        Some(id) => {
            let n = store::running_node(&st.db, &actor, id).await?;
            store::list_meetings(&st.db, actor.subdistrict_id, Some(&n.path), from, to).await?
        }
        None => store::my_meetings(&st.db, &actor, from, to).await?,
    };
    Ok(Json(json!({ "meetings": meetings })))
}

/// The whole meeting as the API shows it.
pub async fn meeting_json(st: &AppState, actor: &Actor, id: i64) -> Result<Value> {
    let (m, runs) = store::readable(&st.db, actor, id).await?;
    let sid = actor.subdistrict_id;
    Ok(json!({
        "meeting": m,
        "agenda": store::agenda_items(&st.db, sid, id).await?,
        "attendance": store::attendance(&st.db, sid, id).await?,
        "decisions": store::decisions(&st.db, sid, id).await?,
        "may_run": runs,
    }))
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(meeting_json(&st, &actor, id).await?))
}

async fn update(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(p): Body<MeetingPatch>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(&store::update(&st.db, &actor, id, p).await?)))
}

#[derive(Deserialize, Default)]
struct StatusBody {
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
}

async fn status(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<StatusBody>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::set_status(&st.db, &actor, id, &b.status, &b.reason).await?,
    )))
}

async fn draft(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let items = store::draft_agenda(&st.db, &actor, id).await?;
    Ok(Json(json!({ "agenda": items })))
}

#[derive(Deserialize, Default)]
struct ItemBody {
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
}

async fn add_item(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<ItemBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let it = store::add_agenda_item(&st.db, &actor, id, &b.title, &b.detail).await?;
    Ok((StatusCode::CREATED, Json(to_json(&it))))
}

async fn remove_item(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, item)): Path<(i64, i64)>,
) -> Result<StatusCode> {
    store::remove_agenda_item(&st.db, &actor, id, item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
struct MoveBody {
    #[serde(default)]
    up: bool,
}

async fn move_item(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, item)): Path<(i64, i64)>,
    Body(b): Body<MoveBody>,
) -> Result<Json<Value>> {
    store::move_agenda_item(&st.db, &actor, id, item, b.up).await?;
    Ok(Json(
        json!({ "agenda": store::agenda_items(&st.db, actor.subdistrict_id, id).await? }),
    ))
}

async fn attend(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(a): Body<NewAttendee>,
) -> Result<(StatusCode, Json<Value>)> {
    let a = store::set_attendance(&st.db, &actor, id, a).await?;
    Ok((StatusCode::CREATED, Json(to_json(&a))))
}

async fn unattend(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<StatusCode> {
    store::remove_attendee(&st.db, &actor, id, aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
struct DecisionBody {
    #[serde(default)]
    body: String,
}

async fn decide(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<DecisionBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let d = store::add_decision(&st.db, &actor, id, &b.body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&d))))
}

async fn add_action(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, did)): Path<(i64, i64)>,
    Body(a): Body<NewAction>,
) -> Result<(StatusCode, Json<Value>)> {
    let a = store::add_action(&st.db, &actor, id, did, a).await?;
    Ok((StatusCode::CREATED, Json(to_json(&a))))
}

async fn action_done(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::action_done(&st.db, &actor, id).await?,
    )))
}

async fn action_case(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(t): Body<ToCase>,
) -> Result<(StatusCode, Json<Value>)> {
    let (a, c) = store::action_to_case(&st.db, &actor, id, t).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "action": a, "case": { "id": c.id, "number": c.number, "state": c.state } })),
    ))
}

#[derive(Deserialize, Default)]
struct ContactsQ {
    #[serde(default)]
    node_id: Option<i64>,
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

async fn contacts_list(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<ContactsQ>,
) -> Result<Json<Value>> {
    let f = ContactFilter {
        node_id: q.node_id,
        user_id: q.user_id,
        from: q.from,
        to: q.to,
    };
    Ok(Json(
        json!({ "contacts": contacts::list(&st.db, &actor, &f).await? }),
    ))
}

async fn contact_create(
    State(st): State<AppState>,
    actor: Actor,
    Body(c): Body<NewContact>,
) -> Result<(StatusCode, Json<Value>)> {
    let c = contacts::create(&st.db, &actor, c).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c))))
}

async fn contact_show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &contacts::readable(&st.db, &actor, id).await?,
    )))
}

async fn contact_case(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(t): Body<ToCase>,
) -> Result<(StatusCode, Json<Value>)> {
    let (c, case) = contacts::raise_case(&st.db, &actor, id, t).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "contact": c, "case": { "id": case.id, "number": case.number, "state": case.state } }),
        ),
    ))
}

async fn feed_reset(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let token = feeds::reset_token(&st.db, &actor).await?;
    let nodes = store::my_places(&st.db, &actor).await?;
    Ok(Json(json!({
        "token": token,
        "me": format!("/calendars/me.ics?token={token}"),
        "nodes": nodes.iter().map(|n| json!({ "node_id": n.id, "name": n.name,
            "url": format!("/calendars/node/{}.ics?token={token}", n.id) })).collect::<Vec<_>>(),
        "valid": rules::parse_feed_token(&token).is_some(),
    })))
}
