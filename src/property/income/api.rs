//! The public income API under `/api/v1`. Money in integer fen, areas in hundredths of m²,
//! times Unix ms, dates `YYYY-MM-DD` (Shanghai), quarters `2026Q3`.
//!
//! - `GET /income/estates` → `{"estates": [...]}`: the accounts in reach with balance, this
//!   quarter's and the last quarter's figures (compliance, shortfall) and the publication flag.
//! - `GET /income/estates/{id}` → the account, its entries, quarters, publications, the
//!   publication flag and what the actor may do (staff and readers of the estate).
//! - `GET /income/estates/{id}/entries?from=&to=` → the entries with value dates in the range.
//! - `POST /income/estates/{id}/entries` `{kind, source?, amount?, counterparty?, note?,
//!   vote_id?, decision_id?, for_quarter?, reverses?, value_date?}` → 201 with the entry; 422
//!   with field errors (an expense without an approved vote or committee decision, bad
//!   amounts, dates); 409 when the balance would go negative or an entry is reversed again.
//! - `POST /income/estates/{id}/top-up-preview` `{amount}` → `{"shares": [...], "total"}`: the
//!   apportionment over the estate's building funds by area; nothing written.
//! - `GET /income/estates/{id}/verify` → `{"ok", "head_hash" | "break_at"}`: the chain re-checked.
//! - `POST /income/estates/{id}/publications` `{quarter?}` → 201: an ended quarter's notice
//!   (to the owners' inboxes) and XLSX; 409 when published already.
//! - `GET /income/estates/{id}/notices` → the published quarters (owners of a room under the
//!   estate, staff, readers); `GET /income/publications/{id}` and `…/{id}/xlsx`.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::store::{self, NewEntry};
use crate::access::Actor;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::errors::Json as Body;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/income/estates", get(list))
        .route("/income/estates/{id}", get(show))
        .route("/income/estates/{id}/entries", get(between).post(create))
        .route("/income/estates/{id}/top-up-preview", post(preview))
        .route("/income/estates/{id}/verify", get(verify))
        .route("/income/estates/{id}/publications", post(publish))
        .route("/income/estates/{id}/notices", get(notices))
        .route("/income/publications/{id}", get(publication))
        .route("/income/publications/{id}/xlsx", get(publication_xlsx))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn list(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    let estates = store::overview(&st.db, &actor, now_ms()).await?;
    Ok(Json(json!({ "estates": estates })))
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (e, s) = store::readable(&st.db, &actor, id).await?;
    let sid = actor.subdistrict_id;
    let sum = store::summary(&st.db, sid, &e, now_ms()).await?;
    let entries = store::entries(&st.db, sid, e.id).await?;
    let quarters = store::quarters_of(&entries);
    let pubs = store::publications(&st.db, sid, e.id).await?;
    Ok(Json(json!({
        "account": sum.account, "quarter": sum.quarter, "last_quarter": sum.last_quarter,
        "publication_flag": sum.publication, "entries": entries, "quarters": quarters,
        "publications": pubs, "may": { "post": s.staff, "publish": s.staff, "read": s.reader || s.staff },
    })))
}

#[derive(serde::Deserialize)]
struct RangeQ {
    from: Option<String>,
    to: Option<String>,
}

async fn between(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<RangeQ>,
) -> Result<Json<Value>> {
    let (e, _) = store::readable(&st.db, &actor, id).await?;
    let from = q.from.unwrap_or_else(|| "0000-01-01".into());
    let to = q.to.unwrap_or_else(|| "9999-12-31".into());
    for (f, v) in [("from", &from), ("to", &to)] {
        if super::schedule::Period::quarter_of(v).is_none()
            && v != "0000-01-01"
            && v != "9999-12-31"
        {
            return Err(Error::field(
                f,
                Text::new("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
            ));
        }
    }
    let entries = store::entries_between(&st.db, actor.subdistrict_id, e.id, &from, &to).await?;
    Ok(Json(json!({ "entries": entries })))
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(n): Body<NewEntry>,
) -> Result<(StatusCode, Json<Value>)> {
    let e = store::post(&st.db, &actor, id, n, now_ms()).await?;
    let parts = store::fund_parts(&st.db, actor.subdistrict_id, e.id).await?;
    let mut v = to_json(&e);
    v["fund_postings"] = to_json(&parts);
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(serde::Deserialize, Default)]
struct PreviewReq {
    #[serde(default)]
    amount: i64,
}

async fn preview(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(r): Body<PreviewReq>,
) -> Result<Json<Value>> {
    let (e, s) = store::readable(&st.db, &actor, id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    super::rules::check_amount(r.amount).map_err(|x| Error::field("amount", x.text))?;
    let shares = store::shares(&st.db, actor.subdistrict_id, &e, r.amount).await?;
    let total: i64 = shares.iter().map(|s| s.amount).sum();
    Ok(Json(json!({ "shares": shares, "total": total })))
}

async fn verify(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (e, _) = store::readable(&st.db, &actor, id).await?;
    Ok(Json(
        match store::verify(&st.db, actor.subdistrict_id, e.id).await? {
            Ok(h) => json!({ "ok": true, "head_hash": h.hex() }),
            Err(b) => json!({ "ok": false, "break_at": b.at, "what": b.what }),
        },
    ))
}

#[derive(serde::Deserialize, Default)]
struct PublishReq {
    #[serde(default)]
    quarter: Option<String>,
}

async fn publish(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(r): Body<PublishReq>,
) -> Result<(StatusCode, Json<Value>)> {
    let p = store::publish(&st.db, &actor, id, r.quarter.as_deref(), now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p))))
}

async fn notices(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (e, ps) = store::notices(&st.db, &actor, id).await?;
    Ok(Json(
        json!({ "estate": { "id": e.id, "name": e.name }, "publications": ps }),
    ))
}

async fn publication(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (p, _) = store::publication(&st.db, &actor, id).await?;
    Ok(Json(to_json(&p)))
}

/// The XLSX of a publication.
pub async fn xlsx_response(st: &AppState, actor: &Actor, id: i64) -> Result<Response> {
    let (p, file) = store::publication(&st.db, actor, id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"income-{}-{}.xlsx\"",
                    p.estate_id, p.quarter
                ),
            ),
        ],
        file,
    )
        .into_response())
}

async fn publication_xlsx(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response> {
    xlsx_response(&st, &actor, id).await
}

/// The OpenAPI entries.
pub fn openapi_paths() -> Value {
    use crate::api::openapi::{op, path_id, query};
    let tag = "income";
    let entry = json!({ "type": "object", "required": ["kind"], "properties": {
        "kind": { "type": "string", "enum": ["income", "expense", "top_up", "reversal"] },
        "source": { "type": "string", "enum": ["advertising", "parking", "venue", "other"], "description": "income only" },
        "amount": { "type": "integer", "description": "fen, positive (not for reversals)" },
        "counterparty": { "type": "string", "description": "income: the payer" },
        "note": { "type": "string", "description": "income: contract or note; expense: purpose; reversal: reason" },
        "vote_id": { "type": "integer", "description": "expense: an approved owners' vote (matter 8 or 9) covering the estate" },
        "decision_id": { "type": "integer", "description": "expense: a recorded decision of the estate's owners' committee" },
        "for_quarter": { "type": "string", "description": "top-up: the quarter it is for, e.g. 2026Q3" },
        "reverses": { "type": "integer", "description": "reversal: the seq undone" },
        "value_date": { "type": "string", "format": "date" } } });
    json!({
        "/income/estates": {
            "get": op("Public income accounts in reach (balance, quarter figures, compliance, publication flag)", tag, json!([]), None),
        },
        "/income/estates/{id}": {
            "get": op("An estate's public income account: entries, quarters, publications", tag, json!([path_id("id")]), None),
        },
        "/income/estates/{id}/entries": {
            "get": op("Entries with value dates in a range (inclusive)", tag, json!([path_id("id"), query("from", "string"), query("to", "string")]), None),
            "post": op("Post an entry (income, expense with its authority, top-up of the building funds, reversal)", tag, json!([path_id("id")]), Some(entry)),
        },
        "/income/estates/{id}/top-up-preview": {
            "post": op("Preview a top-up's shares over the estate's building funds by area, writing nothing", tag, json!([path_id("id")]), Some(json!({ "type": "object", "properties": { "amount": { "type": "integer" } } }))),
        },
        "/income/estates/{id}/verify": {
            "get": op("Re-check the account's hash chain", tag, json!([path_id("id")]), None),
        },
        "/income/estates/{id}/publications": {
            "post": op("Publish an ended quarter (notice to the owners, XLSX), once per quarter", tag, json!([path_id("id")]), Some(json!({ "type": "object", "properties": {
                "quarter": { "type": "string", "description": "2026Q3; default the last ended quarter" } } }))),
        },
        "/income/estates/{id}/notices": {
            "get": op("The published quarters (for the estate's owners)", tag, json!([path_id("id")]), None),
        },
        "/income/publications/{id}": {
            "get": op("A quarterly publication", tag, json!([path_id("id")]), None),
        },
        "/income/publications/{id}/xlsx": {
            "get": op("A quarterly publication's XLSX", tag, json!([path_id("id")]), None),
        },
    })
}
