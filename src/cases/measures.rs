//! The case measures (DOMAIN part 10): response, resolution, satisfaction, closure and
//! on-time closure rates, the rework rate and the average handling time, for any grid,
//! community, category, owning unit and period.
//!
//! - `facts.rs` (pure): what one case contributes — integer counters — and the measures as
//!   exact fractions of them; `period.rs` (pure): report days, presets, months and weeks.
//! - `store.rs`: the rollups (per day and node, per month and grid, per day and grid, per
//!   month and grid without filters, per day and category), kept true by [`record_change`] in
//!   every transaction that writes a case, and the aggregate queries over the cheapest one
//!   that answers a view; `recompute` rebuilds them from the cases.
//! - `web.rs`: `/measures` (the dashboard: big numbers, trend chart, grid tiles) and
//!   `/measures.xlsx`; `api.rs`: `GET /api/v1/measures`, `/measures/series`,
//!   `/measures/grids`; `chart.rs` draws the trend as inline SVG.
//!
//! Who may see them: anyone whose grants let them see the tree at the scope
//! (`access::allows(ReadTree)`), so staff, grid roles, building leaders, the owners' committee,
//! property staff, auditors and other third parties at their node. The measures are counts
//! with no personal data; residents and owners (no tree reach) may not.

pub mod api;
pub mod chart;
pub mod facts;
pub mod period;
pub mod store;
pub mod web;
pub mod xlsx;

use axum::Router;
use serde::Deserialize;

use self::facts::MeasureKind;
use self::period::Preset;
use self::store::Filter;
use super::store::CaseRecord;
use crate::access::{allows, Action as Access, Actor, Role, Target};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{Db, Tx};
use crate::tree::model::within;
use crate::tree::{store as tree, NodeKind};
use crate::web::AppState;

pub use self::store::recompute;

/// Keeps the measures' rollup true: called inside every transaction that writes a case, with
/// the case as it was (`None` when new) and as it is now.
pub async fn record_change(
    tx: &mut Tx,
    sid: i64,
    before: Option<&CaseRecord>,
    after: &CaseRecord,
) -> Result<()> {
    store::record_change(tx, sid, before, after).await
}

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    api::routes()
}

/// The filters as a page or an API request sends them (all optional, as text so that a
/// bad value becomes a field error rather than a rejection).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    pub node_id: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub owner_unit: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub measure: String,
    #[serde(default)]
    pub bucket: String,
}

/// The filters checked: the scope the actor may see, and the query's [`Filter`].
#[derive(Debug, Clone)]
pub struct Resolved {
    pub node: tree::Node,
    pub preset: Preset,
    pub filter: Filter,
    pub measure: MeasureKind,
}

/// The longest period a view may span, in days (a bound on the work of one request).
pub const MAX_DAYS: i64 = 3 * 366;

/// The paths under which the actor may see measures: their tree-reaching grants, nested
/// ones left out, widest first.
pub fn reach_paths(actor: &Actor) -> Vec<String> {
    let mut paths: Vec<String> = actor
        .grants
        .iter()
        .filter(|g| !g.path.is_empty() && !matches!(g.role, Role::Resident | Role::Owner))
        .filter(|g| allows(actor, Access::ReadTree, Target::Node { path: &g.path }))
        .map(|g| g.path.clone())
        .collect();
    paths.sort_by_key(|p| (p.len(), p.clone()));
    paths.dedup();
    let all = paths.clone();
    paths.retain(|p| !all.iter().any(|q| q != p && within(p, q)));
    paths
}

/// Checks the filters and the actor's reach; `today` picks the presets' days.
pub async fn resolve(db: &Db, actor: &Actor, p: &Params, today: i64) -> Result<Resolved> {
    let sid = actor.subdistrict_id;
    let mut errors: Vec<FieldError> = Vec::new();
    let node = match p.node_id.trim() {
        "" => {
            let Some(path) = reach_paths(actor).into_iter().next() else {
                return Err(Error::Forbidden);
            };
            let id = crate::tree::model::path_ids(&path)
                .last()
                .copied()
                .ok_or(Error::Forbidden)?;
            Some(tree::node(db, sid, id).await?)
        }
        s => match s.parse::<i64>() {
            Ok(id) => match tree::node(db, sid, id).await {
                Ok(n) => Some(n),
                Err(Error::NotFound) => {
                    errors.push(FieldError::new(
                        "node_id",
                        Text::new("没有这个地点", "no such place"),
                    ));
                    None
                }
                Err(e) => return Err(e),
            },
            Err(_) => {
                errors.push(FieldError::new(
                    "node_id",
                    Text::new("地点编号应为整数", "must be a whole number"),
                ));
                None
            }
        },
    };
    if let Some(n) = &node {
        if !allows(actor, Access::ReadTree, Target::Node { path: &n.path }) {
            return Err(Error::Forbidden);
        }
    }
    let categories = crate::cases::category_store::tree(db, actor.subdistrict_id).await?;
    let category = match p.category.trim() {
        "" => None,
        c if categories.get(c).is_some() => Some(c.to_string()),
        _ => {
            errors.push(FieldError::new(
                "category",
                Text::new("没有这个事项类别", "no such category"),
            ));
            None
        }
    };
    let owner_unit = match p.owner_unit.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => {
                errors.push(FieldError::new(
                    "owner_unit",
                    Text::new("承办单位编号应为整数", "must be a whole number"),
                ));
                None
            }
        },
    };
    let measure = match p.measure.trim() {
        "" => MeasureKind::Response,
        m => MeasureKind::from_code(m).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "measure",
                Text::new("没有这个指标", "no such measure"),
            ));
            MeasureKind::Response
        }),
    };
    let custom = !p.from.trim().is_empty() || !p.to.trim().is_empty();
    let preset = match p.period.trim() {
        "" if custom => Preset::Custom,
        "" => Preset::ThisMonth,
        s => Preset::from_code(s).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "period",
                Text::new("没有这个时间段", "no such period"),
            ));
            Preset::ThisMonth
        }),
    };
    let today_date = period::date_of(today).unwrap_or(time::macros::date!(2026 - 01 - 01));
    let (from, to) = match preset.range(today_date) {
        Some(r) => r,
        None => {
            let mut day = |field: &str, s: &str| match period::parse_day(s) {
                Some(d) => d,
                None => {
                    errors.push(FieldError::new(
                        field,
                        Text::new("请填写日期(年-月-日)", "enter a date (YYYY-MM-DD)"),
                    ));
                    today
                }
            };
            let from = day("from", &p.from);
            let to = day("to", &p.to);
            (from, to)
        }
    };
    if from > to {
        errors.push(FieldError::new(
            "to",
            Text::new(
                "结束日期不能早于开始日期",
                "the end cannot be before the start",
            ),
        ));
    } else if let (Some(f), Some(t)) = (period::date_of(from), period::date_of(to)) {
        if (t - f).whole_days() >= MAX_DAYS {
            errors.push(FieldError::new(
                "to",
                Text::new("时间段最长三年", "a period spans at most three years"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let node = node.ok_or(Error::Forbidden)?;
    let whole = node.kind == NodeKind::Subdistrict;
    let below_grid = !matches!(
        node.kind,
        NodeKind::Subdistrict | NodeKind::Community | NodeKind::Village | NodeKind::Grid
    );
    Ok(Resolved {
        filter: Filter {
            scope_path: (!whole).then(|| node.path.clone()),
            below_grid,
            category,
            owner_unit,
            from,
            to,
        },
        node,
        preset,
        measure,
    })
}

/// Today in Shanghai, as `yyyymmdd`.
pub fn today() -> i64 {
    period::day_of(crate::clock::now_ms())
}

/// Gives a database error back to writers whose transactions speak `sqlx::Error`
/// (`cases::store::intake_batch`): what [`record_change`] fails with is the driver's error.
pub fn into_sqlx(e: Error) -> sqlx::Error {
    match e {
        Error::Internal(a) => a
            .downcast::<sqlx::Error>()
            .unwrap_or_else(|a| sqlx::Error::Protocol(a.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}
