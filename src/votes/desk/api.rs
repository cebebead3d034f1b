//! The votes' API under `/api/v1`. Times are Unix ms; areas hundredths of m².
//!
//! - `GET /votes?status=` → `{"votes": [...]}` (the votes the actor may read, with `may`);
//!   `POST /votes` `{scope_node_id, title, description?, matter, is_fee_change?, form?, labels?,
//!   thresholds?, opens_at?, closes_at, publicity_days?}` → 201 with the draft.
//! - `GET /votes/{id}` → the vote, what the actor may do, the tracker (participation and what
//!   the quorum still needs) and, for staff only, the running tally.
//! - `POST /votes/{id}/open` `{override_problems?, reason?}` freezes the electorate.
//! - `POST /votes/{id}/ballots` `{voter_key?, choice}` → 201 `{"receipt": …}`; 403 for a
//!   non-owner, 409 outside the period or for a second ballot of the same voter, 422 for a
//!   choice that does not fit the form.
//! - `GET /votes/{id}/receipts` → the public receipts list (no voter, no choice).
//! - `GET|POST /votes/{id}/paper` `{voter_key, choice, proxy_holder?, proxy_file_base64?}`:
//!   staff enter a paper (or proxy) ballot → 201; `POST /votes/{id}/paper/{pid}/confirm` by
//!   another staff user → 201 with the receipt; `POST /votes/{id}/paper/{pid}/reject {note}`.
//! - `POST /votes/{id}/close`, `/publish`, `/cancel {reason}`.
//! - `GET /votes/{id}/notice` → the published result; `GET /votes/{id}/export` → the
//!   `redbutler-vote-export/1` document; `GET /votes/{id}/proxies/{sha256}` → a scanned proxy.
//! - `GET|POST /votes/reelection-periods` `{node_id, starts_on, ends_on, note?}`.

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use super::store::{self, NewOnline, NewPaper, NewReelection, NewVote, ProxyFile, Standing, Vote};
use crate::access::Actor;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::storage::Db;
use crate::votes::export;
use crate::web::errors::Json as Body;
use crate::web::AppState;

/// A paper ballot with a base64 proxy scan of up to 10 MiB.
const PAPER_LIMIT: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/votes", get(list).post(create))
        .route(
            "/votes/reelection-periods",
            get(reelections).post(add_reelection),
        )
        .route("/votes/{id}", get(show))
        .route("/votes/{id}/open", post(open))
        .route("/votes/{id}/ballots", post(cast))
        .route("/votes/{id}/receipts", get(receipts))
        .route(
            "/votes/{id}/paper",
            get(papers).merge(post(enter_paper).layer(DefaultBodyLimit::max(PAPER_LIMIT))),
        )
        .route("/votes/{id}/paper/{pid}/confirm", post(confirm_paper))
        .route("/votes/{id}/paper/{pid}/reject", post(reject_paper))
        .route("/votes/{id}/close", post(close))
        .route("/votes/{id}/publish", post(publish))
        .route("/votes/{id}/cancel", post(cancel))
        .route("/votes/{id}/notice", get(notice))
        .route("/votes/{id}/export", get(export_doc))
        .route("/votes/{id}/proxies/{sha}", get(proxy))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

fn may(v: &Vote, s: &Standing, now: i64) -> Value {
    json!({
        "run": s.staff,
        "vote": !s.voters.is_empty() && v.in_period(now),
        "voter_keys": s.voters,
        "see_running_result": s.sees_running_result(),
        "export": s.exports() && v.electorate.is_some(),
    })
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    status: Option<String>,
}

async fn list(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<ListQ>,
) -> Result<Json<Value>> {
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") | Some("all") => None,
        Some(s @ ("draft" | "open" | "closed" | "published" | "cancelled")) => Some(s),
        Some(_) => {
            return Err(Error::field(
                "status",
                Text::new(
                    "状态须为 draft、open、closed、published 或 cancelled",
                    "status is draft, open, closed, published or cancelled",
                ),
            ))
        }
    };
    let now = now_ms();
    let votes = store::list(&st.db, &actor, status).await?;
    let out: Vec<Value> = votes
        .iter()
        .map(|(v, s)| {
            let mut j = to_json(v);
            j["may"] = may(v, s, now);
            j
        })
        .collect();
    Ok(Json(json!({ "votes": out })))
}

async fn create(
    State(st): State<AppState>,
    actor: Actor,
    Body(n): Body<NewVote>,
) -> Result<(StatusCode, Json<Value>)> {
    let v = store::create(&st.db, &actor, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&v))))
}

/// The vote with its tracker, as the detail page shows it.
pub async fn detail(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Value> {
    let (v, s) = store::readable(db, actor, id).await?;
    let sid = actor.subdistrict_id;
    let mut out = json!({ "vote": v, "may": may(&v, &s, now) });
    if v.electorate.is_some() {
        let box_ = store::ballots(db, sid, v.id).await?;
        let pending = if s.staff {
            store::papers(db, sid, v.id, true).await?
        } else {
            Vec::new()
        };
        if let Some(t) = store::count(&v, &box_) {
            out["tracker"] = to_json(&store::tracker(&t, box_.len() as i64, pending.len() as i64));
            if s.sees_running_result() || v.status == "closed" || v.status == "published" {
                out["running"] = to_json(&t);
            }
        }
        if s.staff {
            out["pending_paper"] = to_json(&pending);
        }
    } else if s.staff {
        let e = store::preview_electorate(db, &v, sid).await?;
        out["preview"] = json!({
            "total_area": e.total_area, "total_owners": e.total_owners,
            "problems": e.problems.iter().map(|p| json!({ "problem": p, "zh": p.text().zh, "en": p.text().en })).collect::<Vec<_>>(),
        });
    }
    Ok(out)
}

async fn show(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(detail(&st.db, &actor, id, now_ms()).await?))
}

#[derive(Deserialize, Default)]
struct OpenBody {
    #[serde(default)]
    override_problems: bool,
    #[serde(default)]
    reason: String,
}

async fn open(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<OpenBody>,
) -> Result<Json<Value>> {
    let v = store::open(&st.db, &actor, id, b.override_problems, &b.reason, now_ms()).await?;
    Ok(Json(to_json(&v)))
}

async fn cast(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<NewOnline>,
) -> Result<(StatusCode, Json<Value>)> {
    let r = store::cast_online(&st.db, &actor, id, b, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "receipt": r }))))
}

async fn receipts(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (v, _) = store::readable(&st.db, &actor, id).await?;
    let box_ = store::ballots(&st.db, actor.subdistrict_id, v.id).await?;
    Ok(Json(json!({
        "vote_id": v.id, "chain_head": v.chain_head, "receipts": crate::votes::chain::receipts(&box_),
    })))
}

async fn papers(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (v, s) = store::readable(&st.db, &actor, id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let list = store::papers(&st.db, actor.subdistrict_id, v.id, false).await?;
    Ok(Json(json!({ "paper_ballots": list })))
}

#[derive(Deserialize)]
struct PaperBody {
    #[serde(flatten)]
    paper: NewPaper,
    #[serde(default)]
    proxy_file_base64: Option<String>,
}

async fn enter_paper(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<PaperBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let file = match b
        .proxy_file_base64
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(ProxyFile {
            bytes: base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| {
                    Error::field(
                        "proxy_file_base64",
                        Text::new("文件编码有误(应为 base64)", "the file is not valid base64"),
                    )
                })?,
        }),
        None => None,
    };
    let p = store::enter_paper(&st.db, &actor, id, b.paper, file, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p))))
}

async fn confirm_paper(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, pid)): Path<(i64, i64)>,
) -> Result<(StatusCode, Json<Value>)> {
    let r = store::confirm_paper(&st.db, &actor, id, pid, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "receipt": r }))))
}

#[derive(Deserialize, Default)]
struct NoteBody {
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
}

async fn reject_paper(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, pid)): Path<(i64, i64)>,
    Body(b): Body<NoteBody>,
) -> Result<StatusCode> {
    store::reject_paper(&st.db, &actor, id, pid, &b.note, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn close(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::close(&st.db, &actor, id, now_ms()).await?,
    )))
}

async fn publish(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::publish(&st.db, &actor, id, now_ms()).await?,
    )))
}

async fn cancel(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Body(b): Body<NoteBody>,
) -> Result<Json<Value>> {
    Ok(Json(to_json(
        &store::cancel(&st.db, &actor, id, &b.reason, now_ms()).await?,
    )))
}

async fn notice(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let (v, _) = store::readable(&st.db, &actor, id).await?;
    let Some(t) = v.result.clone().filter(|_| v.status == "published") else {
        return Err(Error::NotFound);
    };
    Ok(Json(json!({
        "vote": v, "result": t, "summary": { "zh": t.summary().zh, "en": t.summary().en },
        "publicity_until": v.publicity_until,
    })))
}

async fn export_doc(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response> {
    let e = store::export(&st.db, &actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"vote-{id}.json\""),
            ),
        ],
        export::to_json(&e),
    )
        .into_response())
}

async fn proxy(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, sha)): Path<(i64, String)>,
) -> Result<Response> {
    let (ct, bytes) = store::proxy_file(&st.db, &actor, id, &sha).await?;
    Ok(([(header::CONTENT_TYPE, ct)], bytes).into_response())
}

async fn reelections(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    Ok(Json(
        json!({ "reelection_periods": store::reelections(&st.db, &actor).await? }),
    ))
}

async fn add_reelection(
    State(st): State<AppState>,
    actor: Actor,
    Body(n): Body<NewReelection>,
) -> Result<(StatusCode, Json<Value>)> {
    let r = store::add_reelection(&st.db, &actor, n, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(to_json(&r))))
}
