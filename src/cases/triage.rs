//! Triage (分拣与立案): staff accept (register) or reject what came in — drafts relayed from
//! group chats and submitted reports — after correcting its category and place if need be,
//! and merge duplicates into the case they repeat. Nothing is deleted: a merged case stays
//! readable, points at its target, and its reporter follows the target from then on.
//!
//! - [`queue`]: drafts and submitted cases within the actor's triage reach, oldest first,
//!   each with its merge suggestions. Candidates (live or recently closed cases of the same
//!   subdistrict created in the time window around the queue) are loaded with one query and
//!   scored by [`super::dedupe`].
//! - [`merge`]: one transaction writes both cases with their optimistic versions
//!   (`lifecycle::apply(Merge)` on the duplicate, `lifecycle::absorb` on the target), appends
//!   both timelines' events, audits, keeps the measures and tells the duplicate's reporter.
//! - [`reclassify`]: corrects category (a leaf of the subdistrict's tree) and place (a grid or
//!   below within reach) before registration, as a staff-only timeline event.
//! - [`follows_merged`]: whether a user reported a case that was merged (perhaps over several
//!   merges) into a given case; `store::readable` treats them as its reporter.
//!
//! Pages are in `triage/web.rs` (`/triage`), the API in `triage/api.rs`; the pure rules in
//! `triage/rules.rs`.

pub mod api;
pub mod rules;
pub mod web;

use std::collections::HashMap;

use axum::Router;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::dedupe::{self, GeoPoint, Reason, Report};
use super::lifecycle::{self, ActorKind, Event, Refusal, RefusalKind};
use super::store::{self, CaseRecord, Visibility};
use crate::access::{allows, Action as Access, Actor, Role};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{opt_i64, Db, Tx};
use crate::tree::model::within;
use crate::tree::{store as tree, NodeKind};
use crate::web::AppState;

/// At most this many reports are shown in the queue at once (the oldest).
pub const QUEUE_LIMIT: i64 = 200;

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    api::routes()
}

/// A case as triage lists and compares it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub node_id: i64,
    /// The place's name.
    pub place: String,
    #[serde(skip)]
    pub path: String,
    pub state: String,
    pub version: i64,
    pub reporter_name: String,
    pub channel: String,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip)]
    pub grid_id: i64,
    #[serde(skip)]
    pub building_id: Option<i64>,
    #[serde(skip)]
    pub point: Option<GeoPoint>,
}

/// One merge suggestion, with the candidate's summary and the reasons.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: String,
    pub place: String,
    pub created_at: i64,
    pub score: f64,
    pub similarity: f64,
    pub distance_m: Option<u32>,
    pub reasons: Vec<Reason>,
}

/// A report awaiting triage and its merge suggestions.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    #[serde(flatten)]
    pub entry: Entry,
    pub suggestions: Vec<Duplicate>,
}

/// Both cases as a merge left them.
#[derive(Debug, Clone)]
pub struct Merged {
    pub duplicate: CaseRecord,
    pub target: CaseRecord,
}

const ENTRY_COLS: &str = "c.id, c.number, c.title, c.description, c.category, c.node_id, \
    c.state, c.version, c.reporter_name, c.channel, c.created_at, c.updated_at, c.lat_e6, c.lng_e6, \
    n.name AS place, n.path AS path, n.kind AS node_kind";

fn entry_from(row: &AnyRow) -> Option<Entry> {
    let path: String = row.get("path");
    let kind = NodeKind::parse(&row.get::<String, _>("node_kind"))?;
    let (grid_id, building_id) = rules::grid_and_building(kind, &path)?;
    let point = match (opt_i64(row, "lat_e6"), opt_i64(row, "lng_e6")) {
        (Some(lat), Some(lng)) => GeoPoint::new(
            i32::try_from(lat).ok()?, // out of range: no point rather than a wrong one
            i32::try_from(lng).ok()?,
        ),
        _ => None,
    };
    Some(Entry {
        id: row.get("id"),
        number: row.get("number"),
        title: row.get("title"),
        description: row.get("description"),
        category: row.get("category"),
        node_id: row.get("node_id"),
        place: row.get("place"),
        path,
        state: row.get("state"),
        version: row.get("version"),
        reporter_name: row.get("reporter_name"),
        channel: row.get("channel"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        grid_id,
        building_id,
        point,
    })
}

/// The paths under which the actor's roles reach cases (every staff or grid grant where they
/// may see the tree), the ones covered by another left out.
pub fn reach_paths(actor: &Actor) -> Vec<String> {
    let mut paths: Vec<String> = actor
        .grants
        .iter()
        .filter(|g| !g.path.is_empty() && !matches!(g.role, Role::Resident | Role::Owner))
        .filter(|g| {
            allows(
                actor,
                Access::ReadTree,
                crate::access::Target::Node { path: &g.path },
            )
        })
        .map(|g| g.path.clone())
        .collect();
    paths.sort();
    paths.dedup();
    let all = paths.clone();
    paths.retain(|p| !all.iter().any(|q| q != p && within(p, q)));
    paths
}

/// The paths under which the actor triages: their reach where the rules see them as staff
/// or the operations centre.
pub fn triage_paths(actor: &Actor) -> Vec<String> {
    reach_paths(actor)
        .into_iter()
        .filter(|p| rules::is_triage_staff(&store::actor_kind(actor, p, None)))
        .collect()
}

fn in_reach(paths: &[String], path: &str) -> bool {
    paths.iter().any(|p| within(path, p))
}

fn report(e: &Entry, categories: &mut HashMap<String, i64>) -> Report {
    let next = categories.len() as i64 + 1;
    let category_id = *categories.entry(e.category.clone()).or_insert(next);
    Report {
        id: e.id,
        category_id,
        grid_id: e.grid_id,
        building_id: e.building_id,
        point: e.point,
        text: format!("{} {}", e.title, e.description),
        created_at_ms: e.created_at,
    }
}

/// Live and recently closed cases created between `from` and `to`, within `paths`.
async fn candidates(
    db: &Db,
    sid: i64,
    paths: &[String],
    from: i64,
    to: i64,
    now: i64,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM cases c \
         JOIN nodes n ON n.subdistrict_id = c.subdistrict_id AND n.id = c.node_id \
         WHERE c.subdistrict_id = $1 AND c.created_at >= $2 AND c.created_at <= $3 \
         AND c.state NOT IN ('rejected', 'withdrawn', 'merged') \
         AND (c.state <> 'closed' OR c.updated_at >= $4) \
         ORDER BY c.created_at, c.id"
    ))
    .bind(sid)
    .bind(from)
    .bind(to)
    .bind(now.saturating_sub(rules::RECENTLY_CLOSED_MS))
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter_map(entry_from)
        .filter(|e| rules::is_candidate(&e.state, e.updated_at, now) && in_reach(paths, &e.path))
        .collect())
}

/// Scores `pool` against each of `items` (one shared category numbering).
fn suggest_all(items: &[Entry], pool: &[Entry], cfg: &dedupe::Config) -> Vec<Vec<Duplicate>> {
    let mut categories = HashMap::new();
    let reports: Vec<Report> = pool.iter().map(|e| report(e, &mut categories)).collect();
    let by_id: HashMap<i64, &Entry> = pool.iter().map(|e| (e.id, e)).collect();
    items
        .iter()
        .map(|item| {
            let new = report(item, &mut categories);
            dedupe::suggest(&new, &reports, cfg)
                .into_iter()
                .filter_map(|s| {
                    let c = by_id.get(&s.id)?;
                    Some(Duplicate {
                        id: c.id,
                        number: c.number.clone(),
                        title: c.title.clone(),
                        state: c.state.clone(),
                        place: c.place.clone(),
                        created_at: c.created_at,
                        score: s.score,
                        similarity: s.similarity,
                        distance_m: s.distance_m,
                        reasons: s.reasons,
                    })
                })
                .collect()
        })
        .collect()
}

/// The triage queue of `actor`: drafts and submitted cases in their triage reach, oldest
/// first, each with its merge suggestions. Forbidden for anyone who triages nowhere.
pub async fn queue(db: &Db, actor: &Actor) -> Result<Vec<QueueItem>> {
    let sid = actor.subdistrict_id;
    let paths = triage_paths(actor);
    if paths.is_empty() {
        return Err(Error::Forbidden);
    }
    // $1 subdistrict, $2 limit, then the paths.
    let reach: Vec<String> = (0..paths.len())
        .map(|i| format!("n.path LIKE ${}", i + 3))
        .collect();
    let sql = format!(
        "SELECT {ENTRY_COLS} FROM cases c \
         JOIN nodes n ON n.subdistrict_id = c.subdistrict_id AND n.id = c.node_id \
         WHERE c.subdistrict_id = $1 AND c.state IN ('draft', 'submitted') AND ({}) \
         ORDER BY c.created_at, c.id LIMIT $2",
        reach.join(" OR ")
    );
    let mut q = sqlx::query(&sql).bind(sid).bind(QUEUE_LIMIT);
    for p in &paths {
        q = q.bind(format!("{p}%"));
    }
    let items: Vec<Entry> = q
        .fetch_all(db.read())
        .await?
        .iter()
        .filter_map(entry_from)
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Ok(Vec::new());
    };
    let cfg = dedupe::Config::default();
    let (from, _) = cfg.candidate_window(first.created_at);
    let (_, to) = cfg.candidate_window(last.created_at);
    let now = crate::clock::now_ms();
    let pool = candidates(db, sid, &reach_paths(actor), from, to, now).await?;
    let suggestions = suggest_all(&items, &pool, &cfg);
    Ok(items
        .into_iter()
        .zip(suggestions)
        .map(|(entry, suggestions)| QueueItem { entry, suggestions })
        .collect())
}

/// The merge suggestions for one case the actor sees as staff.
pub async fn duplicates(db: &Db, actor: &Actor, case_id: i64) -> Result<Vec<Duplicate>> {
    let sid = actor.subdistrict_id;
    let (c, _, vis) = store::readable(db, actor, case_id).await?;
    if vis != Visibility::Staff {
        return Err(Error::Forbidden);
    }
    let row = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM cases c \
         JOIN nodes n ON n.subdistrict_id = c.subdistrict_id AND n.id = c.node_id \
         WHERE c.subdistrict_id = $1 AND c.id = $2"
    ))
    .bind(sid)
    .bind(c.id)
    .fetch_one(db.read())
    .await?;
    let Some(item) = entry_from(&row) else {
        return Ok(Vec::new());
    };
    let cfg = dedupe::Config::default();
    let (from, to) = cfg.candidate_window(item.created_at);
    let now = crate::clock::now_ms();
    let pool = candidates(db, sid, &reach_paths(actor), from, to, now).await?;
    Ok(suggest_all(std::slice::from_ref(&item), &pool, &cfg)
        .pop()
        .unwrap_or_default())
}

/// The case with this number in the actor's subdistrict.
pub async fn id_by_number(db: &Db, sid: i64, number: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT id FROM cases WHERE subdistrict_id = $1 AND number = $2")
            .bind(sid)
            .bind(number.trim())
            .fetch_optional(db.read())
            .await?
            .map(|r| r.get::<i64, _>(0)),
    )
}

/// The same message as `store::act` gives for a stale version (the pages recognise it).
fn conflict() -> Error {
    Error::Conflict(Text::new(
        "该事项已被他人修改,请刷新后重试",
        "the case was changed by someone else; reload",
    ))
}

fn into_error(message: Text) -> Error {
    Error::Invalid(vec![FieldError::new("into", message)])
}

/// A refusal about the target of a merge names the `into` field; the actor's own refusals
/// stay what they are.
fn target_refusal(r: Refusal) -> Error {
    match r.kind {
        RefusalKind::Actor => Error::Forbidden,
        RefusalKind::State | RefusalKind::Input => into_error(r.reason),
    }
}

/// Writes `after` over `before` if nobody changed it since; false when the version moved.
async fn write_case(
    tx: &mut Tx,
    sid: i64,
    before: &CaseRecord,
    after: &CaseRecord,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE cases SET state = $1, version = $2, lifecycle_json = $3, updated_at = $4, \
         category = $5, node_id = $6 \
         WHERE subdistrict_id = $7 AND id = $8 AND version = $9",
    )
    .bind(&after.state)
    .bind(after.version)
    .bind(serde_json::to_string(&after.lifecycle).map_err(|e| Error::Internal(e.into()))?)
    .bind(after.updated_at)
    .bind(&after.category)
    .bind(after.node_id)
    .bind(sid)
    .bind(before.id)
    .bind(before.version)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn append_events(tx: &mut Tx, actor: &Actor, case_id: i64, events: &[Event]) -> Result<()> {
    let sid = actor.subdistrict_id;
    let last: i64 = sqlx::query(
        "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM case_events \
         WHERE subdistrict_id = $1 AND case_id = $2",
    )
    .bind(sid)
    .bind(case_id)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    for (i, e) in events.iter().enumerate() {
        sqlx::query(
            "INSERT INTO case_events (subdistrict_id, case_id, seq, at, actor, kind, public, data_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(sid)
        .bind(case_id)
        .bind(last + 1 + i as i64)
        .bind(e.at_ms)
        .bind(actor.label())
        .bind(e.kind().as_str())
        .bind(i64::from(e.public))
        .bind(serde_json::to_string(e).map_err(|e| Error::Internal(e.into()))?)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn advanced(c: &CaseRecord, next: lifecycle::Case, now: i64) -> CaseRecord {
    CaseRecord {
        state: next.state.code().to_string(),
        version: next.version,
        lifecycle: next,
        updated_at: now,
        ..c.clone()
    }
}

/// Merges case `dup_id` (at `expected_version`) into case `into`, in one transaction: both
/// cases written with their optimistic versions (either stale: 409 and nothing written),
/// both timelines, the audit entry, the measures, and a notice to the duplicate's reporter.
/// A target that is the case itself, missing, of another subdistrict, out of reach, or that
/// cannot absorb (closed, merged, …) is refused naming `into`.
pub async fn merge(
    db: &Db,
    actor: &Actor,
    dup_id: i64,
    expected_version: i64,
    into: i64,
) -> Result<Merged> {
    let sid = actor.subdistrict_id;
    let (dup, dup_path, _) = store::readable(db, actor, dup_id).await?;
    if dup.version != expected_version {
        return Err(conflict());
    }
    if into == dup.id {
        return Err(into_error(Text::new(
            "不能合并到自身",
            "a case cannot be merged into itself",
        )));
    }
    let (target, target_path, _) = match store::readable(db, actor, into).await {
        Ok(t) => t,
        Err(Error::NotFound) => {
            return Err(into_error(Text::new("没有这个事项", "no such case")));
        }
        Err(Error::Forbidden) => {
            return Err(into_error(Text::new(
                "该事项不在您的管辖范围内",
                "that case is outside your reach",
            )));
        }
        Err(e) => return Err(e),
    };
    let now = crate::clock::now_ms();
    let kind = store::actor_kind(actor, &dup_path, dup.reporter_user_id);
    let t_dup = lifecycle::apply(
        &dup.lifecycle,
        &kind,
        &lifecycle::Action::Merge { into: target.id },
        now,
    )?;
    let target_kind: ActorKind = store::actor_kind(actor, &target_path, target.reporter_user_id);
    let t_target =
        lifecycle::absorb(&target.lifecycle, dup.id, &target_kind, now).map_err(target_refusal)?;
    let dup_after = advanced(&dup, t_dup.next, now);
    let target_after = advanced(&target, t_target.next, now);

    let mut tx = db.begin().await?;
    // Lower id first, so two merges of the same pair in opposite directions cannot deadlock.
    let mut writes = [(&dup, &dup_after), (&target, &target_after)];
    writes.sort_by_key(|(b, _)| b.id);
    for (before, after) in writes {
        if !write_case(&mut tx, sid, before, after).await? {
            return Err(conflict());
        }
    }
    append_events(&mut tx, actor, dup.id, &t_dup.events).await?;
    append_events(&mut tx, actor, target.id, &t_target.events).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("case.merge", "case", Some(dup.id))
            .label(&dup.number)
            .before(json!({ "state": dup.state, "version": dup.version }))
            .after(
                json!({ "state": dup_after.state, "version": dup_after.version,
                "into": target.id, "into_number": target.number,
                "target_version": target_after.version }),
            ),
    )
    .await?;
    super::measures::record_change(&mut tx, sid, Some(&dup), &dup_after).await?;
    super::measures::record_change(&mut tx, sid, Some(&target), &target_after).await?;
    if let Some(uid) = dup.reporter_user_id.filter(|u| *u != 0) {
        let notice = crate::notify::Notice {
            kind: "case.merged".into(),
            case_id: Some(target.id),
            title_zh: format!("您反映的事项 {} 已合并办理", dup.number),
            title_en: format!("Your report {} was merged", dup.number),
            body_zh: format!(
                "经核实,您反映的问题与事项 {}「{}」相同,已合并办理。今后请在该事项查看办理进展。",
                target.number, target.title
            ),
            body_en: format!(
                "Your report concerns the same problem as case {} \"{}\" and was merged into it. \
                 Follow that case for progress.",
                target.number, target.title
            ),
            link: format!("/cases/{}", target.id),
        };
        crate::notify::notify_users(&mut tx, sid, &[uid], &notice).await?;
    }
    tx.commit().await?;
    Ok(Merged {
        duplicate: dup_after,
        target: target_after,
    })
}

/// Corrects the category and/or the place of a draft or submitted case before registration:
/// the category must be a leaf of the subdistrict's tree, the place a grid or below that
/// the actor triages. One transaction with a staff-only timeline event and the audit entry.
pub async fn reclassify(
    db: &Db,
    actor: &Actor,
    case_id: i64,
    expected_version: i64,
    category: Option<&str>,
    node_id: Option<i64>,
) -> Result<CaseRecord> {
    let sid = actor.subdistrict_id;
    let (c, path, _) = store::readable(db, actor, case_id).await?;
    if c.version != expected_version {
        return Err(conflict());
    }
    let kind = store::actor_kind(actor, &path, c.reporter_user_id);
    rules::may_reclassify(&c.lifecycle, &kind)?;
    let mut errors = Vec::new();
    let to_category = category
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&c.category)
        .to_string();
    if to_category != c.category {
        let categories = super::category_store::tree(db, sid).await?;
        match categories.get(&to_category) {
            None => errors.push(FieldError::new(
                "category",
                Text::new("没有这个事项类别", "no such category"),
            )),
            Some(_) if !categories.is_leaf(&to_category) => errors.push(FieldError::new(
                "category",
                Text::new(
                    "请选择具体的小类",
                    "choose a category without subcategories",
                ),
            )),
            Some(_) => {}
        }
    }
    let to_node = node_id.unwrap_or(c.node_id);
    if to_node != c.node_id {
        match tree::node(db, sid, to_node).await {
            Ok(n) => {
                let grid_or_below = matches!(
                    n.kind,
                    NodeKind::Grid | NodeKind::Building | NodeKind::Unit | NodeKind::VillageGroup
                );
                if !grid_or_below {
                    errors.push(FieldError::new(
                        "node_id",
                        Text::new(
                            "请选择网格、楼栋、单元或村民小组",
                            "choose a grid, building, unit or village group",
                        ),
                    ));
                } else if !in_reach(&triage_paths(actor), &n.path) {
                    errors.push(FieldError::new(
                        "node_id",
                        Text::new(
                            "该地点不在您的管辖范围内",
                            "that place is outside your reach",
                        ),
                    ));
                }
            }
            Err(Error::NotFound) => errors.push(FieldError::new(
                "node_id",
                Text::new("没有这个地点", "no such place"),
            )),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let now = crate::clock::now_ms();
    let t = rules::reclassify(
        &c.lifecycle,
        &kind,
        (&c.category, c.node_id),
        (&to_category, to_node),
        now,
    )?;
    let after = CaseRecord {
        category: to_category.clone(),
        node_id: to_node,
        ..advanced(&c, t.next, now)
    };
    let mut tx = db.begin().await?;
    if !write_case(&mut tx, sid, &c, &after).await? {
        return Err(conflict());
    }
    append_events(&mut tx, actor, c.id, &t.events).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("case.reclassify", "case", Some(c.id))
            .label(&c.number)
            .before(json!({ "category": c.category, "node_id": c.node_id, "version": c.version }))
            .after(json!({ "category": after.category, "node_id": after.node_id, "version": after.version })),
    )
    .await?;
    super::measures::record_change(&mut tx, sid, Some(&c), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// How many merges a chain may have before following it stops (a merged case never changes
/// again, so chains are short and acyclic; this only bounds the work).
const MAX_CHAIN: usize = 16;

/// Whether the actor reported a case that was merged, directly or over a chain of merges,
/// into case `case_id`.
pub async fn follows_merged(db: &Db, actor: &Actor, case_id: i64) -> Result<bool> {
    if actor.user_id == 0 {
        return Ok(false);
    }
    let sid = actor.subdistrict_id;
    let rows = sqlx::query(
        "SELECT lifecycle_json FROM cases \
         WHERE subdistrict_id = $1 AND reporter_user_id = $2 AND state = 'merged'",
    )
    .bind(sid)
    .bind(actor.user_id)
    .fetch_all(db.read())
    .await?;
    let parse = |json: &str| serde_json::from_str::<lifecycle::Case>(json).ok();
    let mut starts: Vec<i64> = rows
        .iter()
        .filter_map(|r| parse(&r.get::<String, _>(0)))
        .filter_map(|c| c.merged_into)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    for start in starts {
        let mut cur = start;
        for _ in 0..MAX_CHAIN {
            if cur == case_id {
                return Ok(true);
            }
            let next = sqlx::query(
                "SELECT lifecycle_json FROM cases \
                 WHERE subdistrict_id = $1 AND id = $2 AND state = 'merged'",
            )
            .bind(sid)
            .bind(cur)
            .fetch_optional(db.read())
            .await?
            .and_then(|r| parse(&r.get::<String, _>(0)))
            .and_then(|c| c.merged_into);
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
    }
    Ok(false)
}
