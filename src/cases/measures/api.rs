//! The measures API under `/api/v1` (bearer token or session; the same filters as the page):
//!
//! - `GET /measures?node_id=&category=&owner_unit=&period=|from=&to=` → the scope, the
//!   period, the counters and each measure as `{numerator, denominator, percent}` (`percent`
//!   is a string with one decimal, or null when the denominator is 0);
//! - `GET /measures/series?…&bucket=month|week` → one such entry per month or ISO week;
//! - `GET /measures/grids?…` → one per grid of the scope (grids without cases included).
//!
//! `from`/`to` are `YYYY-MM-DD` (Shanghai days, both included; cases count by the day they
//! were reported); without them `period` picks a preset (default `this_month`).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::facts::{hours_text, Facts, COUNTERS};
use super::period::{day_text, Preset};
use super::store::{self, Bucket};
use super::{resolve, today, Params, Resolved};
use crate::access::Actor;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/measures", get(totals))
        .route("/measures/series", get(series))
        .route("/measures/grids", get(grids))
}

/// Counters and measures as JSON.
pub fn facts_json(f: &Facts) -> Value {
    let counters: Map<String, Value> = COUNTERS
        .iter()
        .zip(f.to_array())
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut measures = Map::new();
    for m in f.measures() {
        let label = m.kind.label();
        let mut v = json!({
            "name": { "zh": label.zh, "en": label.en },
            "numerator": m.ratio.numerator,
            "denominator": m.ratio.denominator,
        });
        if m.kind.is_rate() {
            v["percent"] = json!(m.ratio.percent_tenths().map(|_| m
                .ratio
                .percent_text()
                .trim_end_matches('%')
                .to_string()));
        } else {
            let avg = m.ratio.rounded();
            v["average_ms"] = json!(avg);
            v["hours"] = json!(avg.map(hours_text));
        }
        measures.insert(m.kind.code().to_string(), v);
    }
    json!({ "counters": counters, "measures": measures })
}

fn head(r: &Resolved) -> Value {
    json!({
        "scope": { "node_id": r.node.id, "name": r.node.name, "kind": r.node.kind, "path": r.node.path },
        "period": {
            "preset": if r.preset == Preset::Custom { Value::Null } else { json!(r.preset.code()) },
            "from": day_text(r.filter.from),
            "to": day_text(r.filter.to),
        },
        "category": r.filter.category,
        "owner_unit": r.filter.owner_unit,
    })
}

async fn totals(
    State(st): State<AppState>,
    actor: Actor,
    Query(p): Query<Params>,
) -> Result<Json<Value>> {
    let r = resolve(&st.db, &actor, &p, today()).await?;
    let f = store::totals(&st.db, actor.subdistrict_id, &r.filter).await?;
    let mut v = head(&r);
    if let (Some(o), Value::Object(m)) = (v.as_object_mut(), facts_json(&f)) {
        o.extend(m);
    }
    Ok(Json(v))
}

/// The bucket of a series request: month unless told otherwise.
pub fn bucket(p: &Params) -> Result<Bucket> {
    match p.bucket.trim() {
        "" | "month" => Ok(Bucket::Month),
        "week" => Ok(Bucket::Week),
        _ => Err(Error::field(
            "bucket",
            Text::new("应为 month 或 week", "must be month or week"),
        )),
    }
}

async fn series(
    State(st): State<AppState>,
    actor: Actor,
    Query(p): Query<Params>,
) -> Result<Json<Value>> {
    let b = bucket(&p)?;
    let r = resolve(&st.db, &actor, &p, today()).await?;
    let points = store::series(&st.db, actor.subdistrict_id, &r.filter, b).await?;
    let mut v = head(&r);
    v["bucket"] = json!(match b {
        Bucket::Month => "month",
        Bucket::Week => "week",
    });
    v["points"] = points
        .iter()
        .map(|(k, f)| {
            let mut e = facts_json(f);
            e["period"] = json!(match b {
                Bucket::Month => format!("{:04}-{:02}", k / 100, k % 100),
                Bucket::Week => day_text(*k),
            });
            e
        })
        .collect();
    Ok(Json(v))
}

async fn grids(
    State(st): State<AppState>,
    actor: Actor,
    Query(p): Query<Params>,
) -> Result<Json<Value>> {
    let r = resolve(&st.db, &actor, &p, today()).await?;
    let sid = actor.subdistrict_id;
    let list = store::grids_under(&st.db, sid, &r.node.path, r.filter.below_grid).await?;
    let by = store::by_grid(&st.db, sid, &r.filter).await?;
    let mut v = head(&r);
    v["grids"] = list
        .iter()
        .map(|g| {
            let mut e = facts_json(&by.get(&g.id).copied().unwrap_or_default());
            e["grid"] = json!({ "id": g.id, "name": g.name, "parent_id": g.parent_id, "parent_name": g.parent_name });
            e
        })
        .collect();
    Ok(Json(v))
}
