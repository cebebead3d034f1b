//! Vote storage (migration 14): votes and their labels, the ballot box (`ballots`, one row per
//! chained `BallotRecord`), paper and proxy ballots waiting for their second check, the
//! scanned proxies, and owners' committee re-election periods. Every write asks who the actor
//! is first and is one transaction with its audit entry; the pages and the API both call these.
//! `now` comes in as a parameter (the handlers pass `clock::now_ms()`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::clock::{format_local, parse_local_date};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db};
use crate::tree::{store as tree, NodeKind};
use crate::votes::chain::{self, BallotChannel, BallotRecord, ChainHeader, NewBallot, Receipt};
use crate::votes::electorate::{Electorate, OwnerRef, RoomInput, Voter};
use crate::votes::export::{self, Export, ExportHeader, VoterRoom};
use crate::votes::model::{Choice, Matter};
use crate::votes::rules::{self, Thresholds};
use crate::votes::tally::{self, Form, Tally};

/// A day in Unix ms.
const DAY_MS: i64 = 86_400_000;
/// The largest scanned proxy accepted.
pub const MAX_PROXY_BYTES: usize = 10 * 1024 * 1024;

/// A vote as pages and the API show it (the frozen electorate is kept aside, unserialised).
#[derive(Debug, Clone, Serialize)]
pub struct Vote {
    pub id: i64,
    pub scope_node_id: i64,
    pub scope_path: String,
    pub scope_kind: String,
    pub scope_name: String,
    pub title: String,
    pub description: String,
    pub matter: Matter,
    pub is_fee_change: bool,
    pub form: Form,
    pub labels: Vec<String>,
    pub thresholds: Thresholds,
    /// `serde_json::to_string(&thresholds)` as stored: the text the genesis hash binds.
    pub thresholds_canonical: String,
    pub below_statute: Vec<&'static str>,
    pub record_date: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub publicity_days: i64,
    pub status: String,
    pub electorate_digest: Option<String>,
    pub header_digest: Option<String>,
    pub chain_head: Option<String>,
    pub ballot_count: i64,
    pub total_area: Option<u64>,
    pub total_owners: Option<u64>,
    /// The final tally, from close on.
    pub result: Option<Tally>,
    pub publicity_until: Option<i64>,
    pub created_at: i64,
    pub opened_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub published_at: Option<i64>,
    #[serde(skip)]
    pub electorate: Option<Arc<Frozen>>,
}

/// A vote's electorate as frozen at opening, with who may cast for whom indexed. It never
/// changes once written, so it is read and parsed once per process ([`frozen`]).
#[derive(Debug)]
pub struct Frozen {
    pub electorate: Electorate,
    /// Person id → indices into `electorate.voters` (in key order).
    by_person: HashMap<i64, Vec<usize>>,
}

impl Frozen {
    pub fn new(electorate: Electorate) -> Frozen {
        let mut by_person: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, v) in electorate.voters.iter().enumerate() {
            for &p in &v.persons {
                by_person.entry(p).or_default().push(i);
            }
        }
        Frozen {
            electorate,
            by_person,
        }
    }

    /// The voters this person may cast for, in key order (as `Electorate::voter_for_person`).
    pub fn voters_of_person(&self, person_id: i64) -> impl Iterator<Item = &Voter> {
        self.by_person
            .get(&person_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.electorate.voters[i])
    }
}

impl std::ops::Deref for Frozen {
    type Target = Electorate;
    fn deref(&self) -> &Electorate {
        &self.electorate
    }
}

/// Parsed electorates by (subdistrict, vote, digest). The digest names the frozen text, and a
/// vote's electorate is written once, so an entry never goes stale: no generation needed.
#[derive(Default)]
struct FrozenCache(Mutex<HashMap<(i64, i64, String), Arc<Frozen>>>);

/// Most electorates kept parsed (each is a few MB for a large estate).
const FROZEN_KEPT: usize = 64;

/// The frozen electorate of a vote, parsed once per process.
async fn frozen(db: &Db, sid: i64, vote_id: i64, digest: &str) -> Result<Arc<Frozen>> {
    let memo = db.memo::<FrozenCache>();
    let key = (sid, vote_id, digest.to_string());
    if let Some(f) = memo.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(f);
    }
    let text: Option<String> = sqlx::query_scalar::<_, String>(
        "SELECT electorate FROM vote_electorates WHERE subdistrict_id = $1 AND vote_id = $2 AND digest = $3",
    )
    .bind(sid)
    .bind(vote_id)
    .bind(digest)
    .fetch_optional(db.read())
    .await?;
    let text = text.ok_or_else(|| internal("electorate", "missing for its digest"))?;
    let parsed = tokio::task::spawn_blocking(move || serde_json::from_str::<Electorate>(&text))
        .await
        .map_err(|e| internal("electorate", e))?
        .map_err(|e| internal("electorate", e))?;
    let f = Arc::new(Frozen::new(parsed));
    if let Ok(mut m) = memo.0.lock() {
        if m.len() >= FROZEN_KEPT {
            m.clear();
        }
        m.insert(key, f.clone());
    }
    Ok(f)
}

impl Vote {
    /// Whether ballots are taken at `now`: open, and `opens_at ≤ now < closes_at`.
    pub fn in_period(&self, now: i64) -> bool {
        self.status == "open" && self.opens_at <= now && now < self.closes_at
    }

    /// The genesis header, as bound at opening.
    pub fn chain_header(&self) -> Option<ChainHeader> {
        Some(ChainHeader {
            vote_id: self.id,
            title: self.title.clone(),
            matter: self.matter,
            thresholds: self.thresholds_canonical.clone(),
            record_date: self.record_date.clone(),
            electorate_digest: self.electorate_digest.clone()?,
        })
    }

    /// The label of candidate / option `n` (from 1).
    pub fn label(&self, n: u32) -> String {
        self.labels
            .get((n as usize).wrapping_sub(1))
            .cloned()
            .unwrap_or_else(|| format!("#{n}"))
    }
}

/// What the actor is in one vote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Standing {
    /// Runs the vote: opens, enters and checks paper ballots, closes, publishes
    /// (`allows(EditRegistry)` at the scope: subdistrict and community staff).
    pub staff: bool,
    /// May watch it (`allows(ReadTree)` at the scope: grid staff, auditors, lawyers, …).
    pub observer: bool,
    /// The voter keys the actor's person may cast for (frozen electorate).
    pub voters: Vec<String>,
}

impl Standing {
    /// Whether the actor may see the vote at all.
    pub fn reads(&self, status: &str) -> bool {
        self.staff || (status != "draft" && (self.observer || !self.voters.is_empty()))
    }

    /// Whether the running yes/no counts are shown while the vote is open: staff only.
    pub fn sees_running_result(&self) -> bool {
        self.staff
    }

    /// Whether the export (every ballot with its voter key and choice) may be downloaded.
    pub fn exports(&self) -> bool {
        self.staff || self.observer
    }
}

/// Status names.
pub fn status_label(s: &str) -> Text {
    match s {
        "draft" => Text::new("草稿", "draft"),
        "open" => Text::new("表决中", "open"),
        "closed" => Text::new("已计票", "counted"),
        "published" => Text::new("已公示", "published"),
        "cancelled" => Text::new("已取消", "cancelled"),
        _ => Text::owned(s.to_string(), s.to_string()),
    }
}

/// The nine matters' names.
pub fn matter_label(m: Matter) -> Text {
    match m {
        Matter::RulesOfProcedure => Text::new("制定和修改业主大会议事规则", "rules of procedure"),
        Matter::ManagementCovenant => Text::new("制定和修改管理规约", "management covenant"),
        Matter::OwnersCommittee => Text::new(
            "选举业主委员会或者更换业主委员会成员",
            "owners' committee election",
        ),
        Matter::PropertyCompany => Text::new(
            "选聘和解聘物业服务企业或者其他管理人",
            "hiring or dismissing the property company",
        ),
        Matter::UseFund => Text::new(
            "使用建筑物及其附属设施的维修资金",
            "using the maintenance fund",
        ),
        Matter::RaiseFund => Text::new(
            "筹集建筑物及其附属设施的维修资金",
            "raising the maintenance fund",
        ),
        Matter::Rebuild => Text::new(
            "改建、重建建筑物及其附属设施",
            "rebuilding or reconstruction",
        ),
        Matter::ChangeUse => Text::new(
            "改变共有部分的用途或者利用共有部分从事经营活动",
            "changing the use of common parts",
        ),
        Matter::OtherMajor => {
            Text::new("有关共有和共同管理权利的其他重大事项", "other major matter")
        }
    }
}

pub fn parse_matter(s: &str) -> Option<Matter> {
    serde_json::from_value(Value::String(s.trim().to_string())).ok()
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("{what}: {e}"))
}

fn text(r: &AnyRow, c: &str) -> Option<String> {
    r.try_get::<Option<String>, _>(c).ok().flatten()
}

const VOTE_COLS: &str = "id, scope_node_id, scope_path, scope_kind, scope_name, title, description, \
    matter, is_fee_change, form, thresholds, record_date, opens_at, closes_at, publicity_days, status, \
    electorate_digest, header_digest, chain_head, ballot_count, result, publicity_until, \
    created_at, opened_at, closed_at, published_at";

fn vote_from(r: &AnyRow, labels: Vec<String>) -> Result<Vote> {
    let matter_code: String = r.get("matter");
    let matter = parse_matter(&matter_code).ok_or_else(|| internal("matter", &matter_code))?;
    let form: Form =
        serde_json::from_str(&r.get::<String, _>("form")).map_err(|e| internal("form", e))?;
    let thresholds_canonical: String = r.get("thresholds");
    let thresholds: Thresholds =
        serde_json::from_str(&thresholds_canonical).map_err(|e| internal("thresholds", e))?;
    let result: Option<Tally> = match text(r, "result") {
        Some(s) => Some(serde_json::from_str(&s).map_err(|e| internal("result", e))?),
        None => None,
    };
    Ok(Vote {
        id: r.get("id"),
        scope_node_id: r.get("scope_node_id"),
        scope_path: r.get("scope_path"),
        scope_kind: r.get("scope_kind"),
        scope_name: r.get("scope_name"),
        title: r.get("title"),
        description: r.get("description"),
        matter,
        is_fee_change: r.get::<i64, _>("is_fee_change") != 0,
        form,
        labels,
        below_statute: thresholds.below_statute(matter),
        thresholds,
        thresholds_canonical,
        record_date: r.get("record_date"),
        opens_at: r.get("opens_at"),
        closes_at: r.get("closes_at"),
        publicity_days: r.get("publicity_days"),
        status: r.get("status"),
        electorate_digest: text(r, "electorate_digest"),
        header_digest: text(r, "header_digest"),
        chain_head: text(r, "chain_head"),
        ballot_count: r.get("ballot_count"),
        total_area: None,
        total_owners: None,
        result,
        publicity_until: opt_i64(r, "publicity_until"),
        created_at: r.get("created_at"),
        opened_at: opt_i64(r, "opened_at"),
        closed_at: opt_i64(r, "closed_at"),
        published_at: opt_i64(r, "published_at"),
        electorate: None,
    })
}

/// Fills in the frozen electorate of an opened vote.
async fn with_electorate(db: &Db, sid: i64, mut v: Vote) -> Result<Vote> {
    if let Some(d) = v.electorate_digest.clone() {
        let f = frozen(db, sid, v.id, &d).await?;
        v.total_area = Some(f.total_area);
        v.total_owners = Some(f.total_owners);
        v.electorate = Some(f);
    }
    Ok(v)
}

async fn labels_of(db: &Db, sid: i64, vote_id: Option<i64>) -> Result<HashMap<i64, Vec<String>>> {
    let rows = sqlx::query(
        "SELECT vote_id, number, label FROM vote_labels WHERE subdistrict_id = $1 \
         AND ($2 = 0 OR vote_id = $2) ORDER BY vote_id, number",
    )
    .bind(sid)
    .bind(vote_id.unwrap_or(0))
    .fetch_all(db.read())
    .await?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for r in &rows {
        out.entry(r.get("vote_id"))
            .or_default()
            .push(r.get("label"));
    }
    Ok(out)
}

/// One vote (no access check: see [`readable`]).
pub async fn vote(db: &Db, sid: i64, id: i64) -> Result<Vote> {
    let row = sqlx::query(&format!(
        "SELECT {VOTE_COLS} FROM votes WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    let labels = labels_of(db, sid, Some(id))
        .await?
        .remove(&id)
        .unwrap_or_default();
    with_electorate(db, sid, vote_from(&row, labels)?).await
}

/// What the actor is in this vote.
pub fn standing(actor: &Actor, v: &Vote) -> Standing {
    let place = Target::Node {
        path: &v.scope_path,
    };
    let voters = match (&v.electorate, actor.person_id) {
        (Some(e), Some(pid)) => e.voters_of_person(pid).map(|v| v.key.clone()).collect(),
        _ => Vec::new(),
    };
    Standing {
        staff: allows(actor, Action::EditRegistry, place),
        observer: allows(actor, Action::ReadTree, place),
        voters,
    }
}

/// Loads a vote the actor may read: 404 when it does not exist, 403 when out of reach.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(Vote, Standing)> {
    let v = vote(db, actor.subdistrict_id, id).await?;
    let s = standing(actor, &v);
    if !s.reads(&v.status) {
        return Err(Error::Forbidden);
    }
    Ok((v, s))
}

fn staff_only(s: &Standing) -> Result<()> {
    if s.staff {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The votes the actor may read, newest first (`status` filters when given).
pub async fn list(db: &Db, actor: &Actor, status: Option<&str>) -> Result<Vec<(Vote, Standing)>> {
    let sid = actor.subdistrict_id;
    let rows = sqlx::query(&format!(
        "SELECT {VOTE_COLS} FROM votes WHERE subdistrict_id = $1 AND ($2 = '' OR status = $2) \
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(sid)
    .bind(status.unwrap_or(""))
    .fetch_all(db.read())
    .await?;
    let mut labels = labels_of(db, sid, None).await?;
    let mut out = Vec::new();
    for r in &rows {
        let id: i64 = r.get("id");
        let v = with_electorate(
            db,
            sid,
            vote_from(r, labels.remove(&id).unwrap_or_default())?,
        )
        .await?;
        let s = standing(actor, &v);
        if s.reads(&v.status) {
            out.push((v, s));
        }
    }
    Ok(out)
}

/// Whether the actor may start a vote anywhere (staff somewhere).
pub fn runs_any(actor: &Actor) -> bool {
    actor.grants.iter().any(|g| {
        !g.path.is_empty() && allows(actor, Action::EditRegistry, Target::Node { path: &g.path })
    })
}

/// The places a vote may be scoped to that the actor runs: communities and grids (an
/// estate), buildings and stairway units, in tree order.
pub async fn scopes(db: &Db, actor: &Actor) -> Result<Vec<(i64, String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT id, kind, name, path, depth FROM nodes WHERE subdistrict_id = $1 \
         AND kind IN ('community', 'grid', 'building', 'unit') ORDER BY path",
    )
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter(|r| {
            let path: String = r.get("path");
            allows(actor, Action::EditRegistry, Target::Node { path: &path })
        })
        .map(|r| (r.get("id"), r.get("kind"), r.get("name"), r.get("depth")))
        .collect())
}

/// A new vote, as typed (a draft until opened).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct NewVote {
    #[serde(default)]
    pub scope_node_id: Option<i64>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub matter: String,
    #[serde(default)]
    pub is_fee_change: bool,
    /// `tally::Form` JSON; for an election or options, `labels` give the names and their count
    /// (`candidates` / `count` are taken from it when left out).
    #[serde(default)]
    pub form: Option<Value>,
    #[serde(default)]
    pub labels: Vec<String>,
    /// `Thresholds` JSON; the matter's statutory thresholds when left out.
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
    #[serde(default)]
    pub opens_at: Option<i64>,
    #[serde(default)]
    pub closes_at: Option<i64>,
    #[serde(default)]
    pub publicity_days: Option<i64>,
}

fn tx_field(field: &str, zh: &'static str, en: &'static str) -> FieldError {
    FieldError::new(field, Text::new(zh, en))
}

/// Builds the form from what was typed, filling the count from the labels.
fn form_of(n: &NewVote, labels: &[String], errors: &mut Vec<FieldError>) -> Option<Form> {
    let count = u32::try_from(labels.len()).unwrap_or(u32::MAX);
    let raw = n.form.clone().unwrap_or(json!({ "kind": "yes_no" }));
    let mut raw = match raw {
        Value::String(s) => json!({ "kind": s }),
        v => v,
    };
    if let Some(o) = raw.as_object_mut() {
        match o.get("kind").and_then(Value::as_str) {
            Some("election") => {
                o.entry("candidates").or_insert(json!(count));
            }
            Some("options") => {
                o.entry("count").or_insert(json!(count));
            }
            _ => {}
        }
    }
    let form: Form = match serde_json::from_value(raw) {
        Ok(f) => f,
        Err(_) => {
            errors.push(tx_field(
                "form",
                "表决形式须为 yes_no、election 或 options",
                "the form is yes_no, election or options",
            ));
            return None;
        }
    };
    if let Err(mut e) = form.validate() {
        errors.append(&mut e);
        return None;
    }
    let wanted = match form {
        Form::YesNo => 0,
        Form::Election { candidates, .. } => candidates,
        Form::Options { count } => count,
    };
    if wanted != count {
        errors.push(FieldError::new(
            "labels",
            Text::owned(
                format!("需要 {wanted} 个候选人或选项名称(每行一个),现有 {count} 个"),
                format!(
                    "{wanted} candidate or option names are needed (one a line); {count} given"
                ),
            ),
        ));
        return None;
    }
    Some(form)
}

/// Whether an owners' committee re-election period covers the scope at `now`: a period on
/// the scope, on a place above it (its estate) or on a place inside it.
pub async fn reelection_covers(db: &Db, sid: i64, scope_path: &str, now: i64) -> Result<bool> {
    let rows = sqlx::query(
        "SELECT node_path FROM reelection_periods WHERE subdistrict_id = $1 \
         AND starts_at <= $2 AND $2 < ends_at",
    )
    .bind(sid)
    .bind(now)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().any(|r| {
        let p: String = r.get(0);
        scope_path.starts_with(&p) || p.starts_with(scope_path)
    }))
}

async fn check_reelection(
    db: &Db,
    sid: i64,
    path: &str,
    m: Matter,
    fee: bool,
    now: i64,
) -> Result<()> {
    if rules::refused_during_reelection(m, fee) && reelection_covers(db, sid, path, now).await? {
        return Err(Error::Conflict(rules::REELECTION_REFUSAL));
    }
    Ok(())
}

/// Creates a draft vote.
pub async fn create(db: &Db, actor: &Actor, n: NewVote, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let title = n.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(tx_field(
            "title",
            "请填写标题(不超过 200 字)",
            "a title of up to 200 characters is needed",
        ));
    }
    if n.description.chars().count() > 5000 {
        errors.push(tx_field(
            "description",
            "说明不超过 5000 字",
            "the description is at most 5000 characters",
        ));
    }
    let node = match n.scope_node_id {
        Some(id) => match tree::node(db, sid, id).await {
            Ok(node) => Some(node),
            Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let node = match node {
        Some(node)
            if matches!(
                node.kind,
                NodeKind::Community | NodeKind::Grid | NodeKind::Building | NodeKind::Unit
            ) =>
        {
            Some(node)
        }
        _ => {
            errors.push(tx_field(
                "scope_node_id",
                "请选择表决范围:小区(居民区或网格)、楼栋或单元",
                "choose the scope: an estate (community or grid), a building or a stairway unit",
            ));
            None
        }
    };
    if let Some(node) = &node {
        if !allows(
            actor,
            Action::EditRegistry,
            Target::Node { path: &node.path },
        ) {
            return Err(Error::Forbidden);
        }
    }
    let matter = parse_matter(&n.matter);
    if matter.is_none() {
        errors.push(tx_field("matter", "请选择表决事项", "choose the matter"));
    }
    let labels: Vec<String> = n
        .labels
        .iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.iter().any(|l| l.chars().count() > 100) {
        errors.push(tx_field(
            "labels",
            "每个名称不超过 100 字",
            "each name is at most 100 characters",
        ));
    }
    let form = form_of(&n, &labels, &mut errors);
    let thresholds = match (n.thresholds, matter) {
        (Some(t), _) => Some(t),
        (None, Some(m)) => Some(Thresholds::for_matter(m)),
        (None, None) => None,
    };
    if let Some(t) = &thresholds {
        if let Err(mut e) = t.validate() {
            errors.append(&mut e);
        }
    }
    let opens_at = n.opens_at.unwrap_or(now);
    let closes_at = match n.closes_at {
        Some(c) => c,
        None => {
            errors.push(tx_field(
                "closes_at",
                "请填写截止时间",
                "the closing time is needed",
            ));
            0
        }
    };
    if n.closes_at.is_some() && closes_at <= opens_at {
        errors.push(tx_field(
            "closes_at",
            "截止时间须晚于开始时间",
            "the vote must close after it opens",
        ));
    }
    if n.closes_at.is_some() && closes_at <= now {
        errors.push(tx_field(
            "closes_at",
            "截止时间须在将来",
            "the closing time must be in the future",
        ));
    }
    let publicity_days = n.publicity_days.unwrap_or(7);
    if !(1..=90).contains(&publicity_days) {
        errors.push(tx_field(
            "publicity_days",
            "公示期为 1 到 90 天",
            "the publicity period is 1 to 90 days",
        ));
    }
    let (Some(node), Some(matter), Some(form), Some(thresholds), true) =
        (node, matter, form, thresholds, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    check_reelection(db, sid, &node.path, matter, n.is_fee_change, now).await?;
    let id = next_id();
    let form_json = serde_json::to_string(&form).map_err(|e| internal("form", e))?;
    let canonical = serde_json::to_string(&thresholds).map_err(|e| internal("thresholds", e))?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO votes (subdistrict_id, id, scope_node_id, scope_path, scope_kind, scope_name, \
         title, description, matter, is_fee_change, form, thresholds, opens_at, closes_at, \
         publicity_days, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'draft', $16, $17)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(node.kind.as_str())
    .bind(&node.name)
    .bind(&title)
    .bind(n.description.trim())
    .bind(chain::matter_code(matter))
    .bind(i64::from(n.is_fee_change))
    .bind(&form_json)
    .bind(&canonical)
    .bind(opens_at)
    .bind(closes_at)
    .bind(publicity_days)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (i, l) in labels.iter().enumerate() {
        sqlx::query(
            "INSERT INTO vote_labels (subdistrict_id, vote_id, number, label) VALUES ($1, $2, $3, $4)",
        )
        .bind(sid)
        .bind(id)
        .bind(i as i64 + 1)
        .bind(l)
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.create", "vote", Some(id))
            .label(&title)
            .after(json!({
                "scope_node_id": node.id, "matter": chain::matter_code(matter),
                "is_fee_change": n.is_fee_change, "form": form, "labels": labels,
                "thresholds": thresholds, "below_statute": thresholds.below_statute(matter),
                "opens_at": opens_at, "closes_at": closes_at, "publicity_days": publicity_days,
            })),
    )
    .await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

/// The rooms under a path with their owners of record, as the registry holds them now.
pub async fn rooms_in_scope(db: &Db, sid: i64, path: &str) -> Result<Vec<RoomInput>> {
    let end = crate::cases::web::subtree_end(path);
    let rows = sqlx::query(
        "SELECT r.id, r.registered_area, r.surveyed_area, r.contract_area, r.developer_unsold \
         FROM rooms r JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE r.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3 ORDER BY r.id",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    let owners = sqlx::query(
        "SELECT o.room_id, o.person_id, o.org_id FROM room_owners o \
         JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE o.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    let mut by_room: HashMap<i64, Vec<OwnerRef>> = HashMap::new();
    for o in &owners {
        let (p, g): (i64, i64) = (o.get("person_id"), o.get("org_id"));
        let owner = if p != 0 {
            OwnerRef::Person(p)
        } else {
            OwnerRef::Org(g)
        };
        by_room.entry(o.get("room_id")).or_default().push(owner);
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            RoomInput {
                room_id: id,
                registered_area: opt_i64(r, "registered_area"),
                surveyed_area: opt_i64(r, "surveyed_area"),
                contract_area: opt_i64(r, "contract_area"),
                developer_unsold: r.get::<i64, _>("developer_unsold") != 0,
                owners: by_room.remove(&id).unwrap_or_default(),
            }
        })
        .collect())
}

/// Room numbers and their places, for showing voters (`room id → "城中东路311号 502"`).
pub async fn room_names(db: &Db, sid: i64, path: &str) -> Result<HashMap<i64, String>> {
    let end = crate::cases::web::subtree_end(path);
    let rows = sqlx::query(
        "SELECT r.id, r.number, n.name FROM rooms r \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE r.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (n, place): (String, String) = (r.get("number"), r.get("name"));
            (r.get("id"), format!("{place} {n}"))
        })
        .collect())
}

/// What opening would freeze now (for the page before the vote opens).
pub async fn preview_electorate(db: &Db, v: &Vote, sid: i64) -> Result<Electorate> {
    Ok(Electorate::freeze(
        &rooms_in_scope(db, sid, &v.scope_path).await?,
    ))
}

/// The Shanghai date `YYYY-MM-DD` of an instant.
pub fn local_date(ms: i64) -> String {
    format_local(ms).chars().take(10).collect()
}

/// Opens a draft: freezes the electorate from the registry as it is now (the record date is
/// the opening's Shanghai date) and binds the genesis hash. Refused while the registry has
/// problems unless `override_problems` (recorded in the audit entry), and for property-company
/// or fee matters during a re-election period.
pub async fn open(
    db: &Db,
    actor: &Actor,
    id: i64,
    override_problems: bool,
    reason: &str,
    now: i64,
) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if v.status != "draft" {
        return Err(Error::Conflict(Text::new(
            "只有草稿可以开启表决",
            "only a draft can be opened",
        )));
    }
    if now >= v.closes_at {
        return Err(Error::Conflict(Text::new(
            "截止时间已过,请新建表决",
            "the closing time has passed; create a new vote",
        )));
    }
    check_reelection(db, sid, &v.scope_path, v.matter, v.is_fee_change, now).await?;
    let e = preview_electorate(db, &v, sid).await?;
    if e.voters.is_empty() {
        return Err(Error::field(
            "scope_node_id",
            Text::new("表决范围内没有房屋", "there are no rooms in the scope"),
        ));
    }
    if !e.is_clean() && !override_problems {
        let zh = e
            .problems
            .iter()
            .take(5)
            .map(|p| p.text().zh.into_owned())
            .collect::<Vec<_>>()
            .join(";");
        let en = e
            .problems
            .iter()
            .take(5)
            .map(|p| p.text().en.into_owned())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::field(
            "override_problems",
            Text::owned(
                format!(
                    "房屋登记有 {} 个问题:{zh}。请先更正,或勾选“仍然开启”",
                    e.problems.len()
                ),
                format!(
                    "the registry has {} problems: {en}. Fix them, or tick \"open anyway\"",
                    e.problems.len()
                ),
            ),
        ));
    }
    let rooms: Vec<Vec<i64>> = e
        .voters
        .iter()
        .map(|v| v.rooms.iter().map(|r| r.0).collect())
        .collect();
    let digest = chain::electorate_digest(
        e.voters
            .iter()
            .zip(&rooms)
            .map(|(v, r)| (v.key.as_str(), v.area, r.as_slice())),
    );
    let record_date = local_date(now);
    let header = ChainHeader {
        vote_id: v.id,
        title: v.title.clone(),
        matter: v.matter,
        thresholds: v.thresholds_canonical.clone(),
        record_date: record_date.clone(),
        electorate_digest: digest.clone(),
    };
    let genesis = header.digest();
    let e_json = serde_json::to_string(&e).map_err(|x| internal("electorate", x))?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'open', electorate_digest = $3, \
         header_digest = $4, chain_head = $4, record_date = $5, opened_by = $6, opened_at = $7 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'draft'",
    )
    .bind(sid)
    .bind(id)
    .bind(&digest)
    .bind(&genesis)
    .bind(&record_date)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "表决已被他人开启",
            "the vote was opened meanwhile",
        )));
    }
    sqlx::query(
        "INSERT INTO vote_electorates (subdistrict_id, vote_id, digest, electorate) VALUES ($1, $2, $3, $4)",
    )
    .bind(sid)
    .bind(id)
    .bind(&digest)
    .bind(&e_json)
    .execute(&mut *tx)
    .await?;
    let problems: Vec<String> = e
        .problems
        .iter()
        .map(|p| p.text().en.into_owned())
        .collect();
    let mut change = Change::new("vote.open", "vote", Some(id))
        .label(&v.title)
        .before(json!({ "status": "draft" }))
        .after(json!({
            "status": "open", "record_date": record_date, "electorate_digest": digest,
            "header_digest": genesis, "total_area": e.total_area, "total_owners": e.total_owners,
            "problems": problems, "override_problems": override_problems && !e.is_clean(),
        }));
    if override_problems && !e.is_clean() && !reason.trim().is_empty() {
        change = change.reason(reason.trim());
    }
    audit::record(&mut tx, actor, change).await?;
    let notice = crate::notify::Notice {
        kind: "vote.opened".into(),
        case_id: None,
        title_zh: format!("请参加业主表决:{}", v.title),
        title_en: format!("Please vote: {}", v.title),
        body_zh: format!(
            "{} 的业主表决已开始,截止 {}(北京时间)。",
            v.scope_name,
            format_local(v.closes_at)
        ),
        body_en: format!(
            "The owners' vote of {} is open until {} (Shanghai time).",
            v.scope_name,
            format_local(v.closes_at)
        ),
        link: format!("/votes/{id}"),
    };
    tell_voters(&mut tx, sid, &e, &notice, now).await?;
    crate::notify::notify_unit(&mut tx, sid, v.scope_node_id, &notice).await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

/// Puts `notice` in the inbox of every user who may cast a ballot in `e` (a user linked to an
/// owner person of record), with multi-row inserts: an estate's owners at once.
async fn tell_voters(
    tx: &mut crate::storage::Tx,
    sid: i64,
    e: &Electorate,
    notice: &crate::notify::Notice,
    now: i64,
) -> Result<usize> {
    let persons: std::collections::HashSet<i64> = e
        .voters
        .iter()
        .flat_map(|v| v.persons.iter().copied())
        .collect();
    if persons.is_empty() {
        return Ok(0);
    }
    let users: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, person_id FROM users WHERE subdistrict_id = $1 AND disabled = 0 AND person_id IS NOT NULL",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?;
    let mut rows = crate::storage::bulk::Inserter::for_db(
        crate::storage::dialect_of(tx),
        "inbox",
        &[
            "subdistrict_id",
            "id",
            "user_id",
            "kind",
            "case_id",
            "title_zh",
            "title_en",
            "body_zh",
            "body_en",
            "link",
            "created_at",
        ],
    );
    let mut n = 0;
    for (uid, _) in users.iter().filter(|(_, p)| persons.contains(p)) {
        rows.push(
            tx,
            vec![
                sid.into(),
                next_id().into(),
                (*uid).into(),
                notice.kind.as_str().into(),
                None::<i64>.into(),
                notice.title_zh.as_str().into(),
                notice.title_en.as_str().into(),
                notice.body_zh.as_str().into(),
                notice.body_en.as_str().into(),
                notice.link.as_str().into(),
                now.into(),
            ],
        )
        .await?;
        n += 1;
    }
    rows.flush(tx).await?;
    Ok(n)
}

/// Checks that a choice fits the form; candidates come back sorted (their order on a ballot
/// carries no meaning).
pub fn check_choice(form: &Form, choice: Choice) -> Result<Choice> {
    let bad = |zh: &'static str, en: &'static str| Err(Error::field("choice", Text::new(zh, en)));
    match (*form, choice) {
        (Form::YesNo, c @ (Choice::Yes | Choice::No | Choice::Abstain)) => Ok(c),
        (Form::Election { seats, candidates }, Choice::Candidates { mut ids }) => {
            ids.sort_unstable();
            if ids.len() > seats as usize {
                return bad(
                    "选择的候选人多于应选名额",
                    "more candidates chosen than there are seats",
                );
            }
            if ids.iter().any(|&c| c == 0 || c > candidates) {
                return bad("没有这个候选人", "no such candidate");
            }
            if ids.windows(2).any(|w| w[0] == w[1]) {
                return bad("同一候选人只能选一次", "a candidate can be chosen once");
            }
            Ok(Choice::Candidates { ids })
        }
        (Form::Options { count }, Choice::Option { id }) => match id {
            Some(o) if o == 0 || o > count => bad("没有这个选项", "no such option"),
            _ => Ok(Choice::Option { id }),
        },
        (Form::YesNo, _) => bad("请选择同意、反对或弃权", "choose yes, no or abstain"),
        (Form::Election { .. }, _) => bad("请选择候选人", "choose candidates"),
        (Form::Options { .. }, _) => bad("请选择一个选项或弃权", "choose an option or abstain"),
    }
}

pub(super) fn already_voted() -> Error {
    Error::Conflict(Text::new(
        "该房屋(业主)已经投过票,每户只能投一票",
        "this room/owner has already voted; each owner casts one ballot",
    ))
}

pub(super) fn period_refusal(v: &Vote, now: i64) -> Option<Error> {
    if v.status != "open" {
        return Some(Error::Conflict(Text::owned(
            format!("表决不在进行中(当前状态:{})", status_label(&v.status).zh),
            format!(
                "the vote is not open (it is {})",
                status_label(&v.status).en
            ),
        )));
    }
    if now < v.opens_at {
        return Some(Error::Conflict(Text::owned(
            format!(
                "投票尚未开始,开始时间 {}(北京时间)",
                format_local(v.opens_at)
            ),
            format!(
                "voting has not started; it opens at {} (Shanghai time)",
                format_local(v.opens_at)
            ),
        )));
    }
    if now >= v.closes_at {
        return Some(Error::Conflict(Text::owned(
            format!("投票已于 {}(北京时间)截止", format_local(v.closes_at)),
            format!(
                "voting closed at {} (Shanghai time)",
                format_local(v.closes_at)
            ),
        )));
    }
    None
}

/// Beside the chain: who the ballot is from in our own records.
struct Aside {
    cast_user_id: Option<i64>,
    entered_by: Option<i64>,
    proxy_holder: String,
    /// The paper entry this ballot confirms.
    paper_id: Option<i64>,
}

/// The open votes in which the actor may still cast a ballot for someone (their home page).
pub async fn awaiting(db: &Db, actor: &Actor, now: i64) -> Result<Vec<Vote>> {
    if actor.person_id.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (v, s) in list(db, actor, Some("open")).await? {
        if !v.in_period(now) || s.voters.is_empty() {
            continue;
        }
        let mut open = false;
        for k in &s.voters {
            if !has_ballot(db, actor.subdistrict_id, v.id, k).await? {
                open = true;
                break;
            }
        }
        if open {
            out.push(v);
        }
    }
    Ok(out)
}

async fn has_ballot(db: &Db, sid: i64, vote_id: i64, key: &str) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT seq FROM ballots WHERE subdistrict_id = $1 AND vote_id = $2 AND voter_key = $3",
    )
    .bind(sid)
    .bind(vote_id)
    .bind(key)
    .fetch_optional(db.write())
    .await?
    .is_some())
}

/// Appends one ballot to the box, serialised per vote: one transaction locks the vote's row,
/// reads the head, inserts with seq = last + 1 (the voter key's unique index refuses a second
/// ballot of the same voter: 409) and moves the head, with its audit entry (which never holds
/// the choice). A lost race on `seq` is retried.
async fn seal(
    db: &Db,
    actor: &Actor,
    v: &Vote,
    nb: NewBallot,
    aside: Aside,
    now: i64,
) -> Result<BallotRecord> {
    let sid = actor.subdistrict_id;
    let choice_json = serde_json::to_string(&nb.choice).map_err(|e| internal("choice", e))?;
    for _attempt in 0..8 {
        let mut tx = db.begin().await?;
        // Takes the row lock on PostgreSQL (SQLite has one writer): ballots of one vote queue here.
        let locked = sqlx::query(
            "UPDATE votes SET ballot_count = ballot_count WHERE subdistrict_id = $1 AND id = $2 \
             AND status = 'open' AND opens_at <= $3 AND $3 < closes_at",
        )
        .bind(sid)
        .bind(v.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() == 0 {
            return Err(period_refusal(v, now).unwrap_or_else(|| {
                Error::Conflict(Text::new("表决已结束", "the vote is no longer open"))
            }));
        }
        let last = sqlx::query(
            "SELECT seq, hash FROM ballots WHERE subdistrict_id = $1 AND vote_id = $2 \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(sid)
        .bind(v.id)
        .fetch_optional(&mut *tx)
        .await?;
        let (prev, seq) = match &last {
            Some(r) => (r.get::<String, _>("hash"), r.get::<i64, _>("seq") + 1),
            None => (
                v.header_digest
                    .clone()
                    .ok_or_else(|| internal("vote", "no genesis"))?,
                1,
            ),
        };
        let rec = chain::append(&prev, u64::try_from(seq).unwrap_or(1), nb.clone());
        let mut ins = super::ballot_batch::inserter(crate::storage::dialect_of(&mut tx));
        let row = super::ballot_batch::row(
            sid,
            &rec,
            &choice_json,
            aside.cast_user_id,
            aside.entered_by,
            &aside.proxy_holder,
        );
        ins.push(&mut tx, row).await?;
        let inserted = ins.flush(&mut tx).await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                if has_ballot(db, sid, v.id, &nb.voter_key).await? {
                    return Err(already_voted());
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        sqlx::query(
            "UPDATE votes SET chain_head = $3, ballot_count = $4 WHERE subdistrict_id = $1 AND id = $2",
        )
        .bind(sid)
        .bind(v.id)
        .bind(&rec.hash)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        if let Some(pid) = aside.paper_id {
            let done = sqlx::query(
                "UPDATE paper_ballots SET status = 'confirmed', decided_by = $3, decided_at = $4, \
                 ballot_seq = $5 WHERE subdistrict_id = $1 AND id = $2 AND status = 'pending'",
            )
            .bind(sid)
            .bind(pid)
            .bind(actor.user_id)
            .bind(now)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(Error::Conflict(Text::new(
                    "这张纸质选票已被处理",
                    "this paper ballot was handled meanwhile",
                )));
            }
        }
        audit::record(
            &mut tx,
            actor,
            super::ballot_batch::audit_change(&v.title, &rec, aside.paper_id),
        )
        .await?;
        tx.commit().await?;
        return Ok(rec);
    }
    Err(Error::Conflict(Text::new(
        "投票的人太多,请稍后重试",
        "too many ballots at once; please try again",
    )))
}

/// An online ballot.
#[derive(Debug, Clone, Deserialize)]
pub struct NewOnline {
    /// Which owner unit, when the actor's person may cast for several.
    #[serde(default)]
    pub voter_key: Option<String>,
    pub choice: Choice,
}

/// Casts an owner's own ballot. 403 when the actor is no owner of record in the frozen
/// electorate; 409 outside the period or for a second ballot; 422 for a choice that does
/// not fit the form or a voter key that is not the actor's.
pub async fn cast_online(
    db: &Db,
    actor: &Actor,
    id: i64,
    b: NewOnline,
    now: i64,
) -> Result<Receipt> {
    let (v, s) = readable(db, actor, id).await?;
    let (Some(pid), false) = (actor.person_id, s.voters.is_empty()) else {
        return Err(Error::Forbidden);
    };
    if let Some(e) = period_refusal(&v, now) {
        return Err(e);
    }
    let key = match b
        .voter_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        Some(k) if s.voters.iter().any(|x| x == k) => k.to_string(),
        Some(_) => {
            return Err(Error::field(
                "voter_key",
                Text::new(
                    "您不能代表这个房屋投票",
                    "you cannot vote for this owner unit",
                ),
            ))
        }
        None if s.voters.len() == 1 => s.voters[0].clone(),
        None => {
            return Err(Error::field(
                "voter_key",
                Text::new(
                    "您名下有多处房屋,请选择为哪一处投票",
                    "you own several units: choose which one this ballot is for",
                ),
            ))
        }
    };
    let choice = check_choice(&v.form, b.choice)?;
    let nb = NewBallot {
        vote_id: v.id,
        voter_key: key,
        choice,
        channel: BallotChannel::Online,
        cast_by: format!("p:{pid}"),
        confirmed_by: None,
        proxy_attachment_sha256: None,
        cast_at_ms: now,
    };
    // Online ballots share their commit with the others arriving at the same moment.
    let choice_json = serde_json::to_string(&nb.choice).map_err(|e| internal("choice", e))?;
    let pending = super::ballot_batch::Pending {
        actor: actor.clone(),
        vote: Arc::new(v),
        ballot: nb,
        choice_json,
        now,
    };
    let rec = db
        .grouped_bulk::<super::ballot_batch::BallotBatch>(pending)
        .await??;
    Ok(chain::receipt(&rec))
}

/// The box in chain order.
pub async fn ballots(db: &Db, sid: i64, vote_id: i64) -> Result<Vec<BallotRecord>> {
    let rows = sqlx::query(
        "SELECT seq, voter_key, choice, channel, cast_by, confirmed_by, proxy_sha256, cast_at, prev_hash, hash \
         FROM ballots WHERE subdistrict_id = $1 AND vote_id = $2 ORDER BY seq",
    )
    .bind(sid)
    .bind(vote_id)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            let channel: BallotChannel = serde_json::from_value(Value::String(r.get("channel")))
                .map_err(|e| internal("channel", e))?;
            Ok(BallotRecord {
                seq: u64::try_from(r.get::<i64, _>("seq")).unwrap_or(0),
                vote_id,
                voter_key: r.get("voter_key"),
                choice: serde_json::from_str(&r.get::<String, _>("choice"))
                    .map_err(|e| internal("choice", e))?,
                channel,
                cast_by: r.get("cast_by"),
                confirmed_by: text(r, "confirmed_by"),
                proxy_attachment_sha256: text(r, "proxy_sha256"),
                cast_at_ms: r.get("cast_at"),
                prev_hash: r.get("prev_hash"),
                hash: r.get("hash"),
            })
        })
        .collect()
}

/// The count of the box as it is now (the running tally while open, the final one after).
pub fn count(v: &Vote, box_: &[BallotRecord]) -> Option<Tally> {
    let e = v.electorate.as_ref()?;
    let list: Vec<(&str, Choice)> = box_
        .iter()
        .map(|b| (b.voter_key.as_str(), b.choice.clone()))
        .collect();
    Some(tally::tally(e, &v.form, &v.thresholds, &list))
}

/// What everyone in the vote may see while it is open: participation against the totals and
/// what the quorum still needs. No yes/no counts.
#[derive(Debug, Clone, Serialize)]
pub struct Tracker {
    pub ballots: i64,
    pub participating_area: u64,
    pub participating_owners: u64,
    pub total_area: u64,
    pub total_owners: u64,
    pub quorum_met: bool,
    pub quorum_area_needed: Option<u64>,
    pub quorum_owners_needed: Option<u64>,
    pub pending_paper: i64,
}

pub fn tracker(t: &Tally, ballots: i64, pending_paper: i64) -> Tracker {
    Tracker {
        ballots,
        participating_area: t.participating.area,
        participating_owners: t.participating.owners,
        total_area: t.total.area,
        total_owners: t.total.owners,
        quorum_met: t.quorum.met,
        quorum_area_needed: t.quorum.still_needed.area,
        quorum_owners_needed: t.quorum.still_needed.owners,
        pending_paper,
    }
}

/// A paper or proxy ballot entered by staff, waiting for (or after) its second check.
#[derive(Debug, Clone, Serialize)]
pub struct Paper {
    pub id: i64,
    pub vote_id: i64,
    pub voter_key: String,
    pub choice: Choice,
    pub channel: String,
    pub proxy_holder: String,
    pub proxy_sha256: Option<String>,
    pub entered_by: i64,
    pub entered_by_name: String,
    pub entered_at: i64,
    pub status: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub ballot_seq: Option<i64>,
    pub note: String,
}

/// The paper entries of a vote (`pending` only, or all), oldest first.
pub async fn papers(db: &Db, sid: i64, vote_id: i64, pending_only: bool) -> Result<Vec<Paper>> {
    let rows = sqlx::query(
        "SELECT p.*, u.display_name FROM paper_ballots p \
         LEFT JOIN users u ON u.subdistrict_id = p.subdistrict_id AND u.id = p.entered_by \
         WHERE p.subdistrict_id = $1 AND p.vote_id = $2 AND ($3 = 0 OR p.status = 'pending') \
         ORDER BY p.entered_at, p.id",
    )
    .bind(sid)
    .bind(vote_id)
    .bind(i64::from(pending_only))
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Paper {
                id: r.get("id"),
                vote_id,
                voter_key: r.get("voter_key"),
                choice: serde_json::from_str(&r.get::<String, _>("choice"))
                    .map_err(|e| internal("choice", e))?,
                channel: r.get("channel"),
                proxy_holder: r.get("proxy_holder"),
                proxy_sha256: text(r, "proxy_sha256"),
                entered_by: r.get("entered_by"),
                entered_by_name: text(r, "display_name").unwrap_or_default(),
                entered_at: r.get("entered_at"),
                status: r.get("status"),
                decided_by: opt_i64(r, "decided_by"),
                decided_at: opt_i64(r, "decided_at"),
                ballot_seq: opt_i64(r, "ballot_seq"),
                note: r.get("note"),
            })
        })
        .collect()
}

/// A scanned written proxy as uploaded.
#[derive(Debug, Clone)]
pub struct ProxyFile {
    pub bytes: Vec<u8>,
}

/// The type of a scanned proxy from its first bytes: JPEG, PNG, WebP or PDF.
pub fn sniff_proxy(bytes: &[u8]) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(Error::field(
            "proxy_file",
            Text::new("授权委托书文件是空的", "the proxy file is empty"),
        ));
    }
    if bytes.len() > MAX_PROXY_BYTES {
        return Err(Error::field(
            "proxy_file",
            Text::new(
                "授权委托书文件不能超过 10 MB",
                "the proxy file must be at most 10 MiB",
            ),
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok("application/pdf");
    }
    match crate::cases::attachments::image::sniff(bytes) {
        Ok(k) => Ok(k.content_type()),
        Err(_) => Err(Error::field(
            "proxy_file",
            Text::new(
                "授权委托书请上传 JPEG、PNG、WebP 图片或 PDF",
                "upload the proxy as a JPEG, PNG or WebP image or a PDF",
            ),
        )),
    }
}

/// A paper ballot as staff type it in.
#[derive(Debug, Clone, Deserialize)]
pub struct NewPaper {
    pub voter_key: String,
    pub choice: Choice,
    /// For a written proxy: who holds it (the file is required then).
    #[serde(default)]
    pub proxy_holder: Option<String>,
}

/// Enters a paper ballot (or a proxy's, with its scanned authorisation) to wait for a second
/// staff user's check. Nothing enters the box yet.
pub async fn enter_paper(
    db: &Db,
    actor: &Actor,
    id: i64,
    p: NewPaper,
    proxy: Option<ProxyFile>,
    now: i64,
) -> Result<Paper> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if let Some(e) = period_refusal(&v, now) {
        return Err(e);
    }
    let key = p.voter_key.trim().to_string();
    let castable = v
        .electorate
        .as_ref()
        .and_then(|e| e.voter(&key))
        .is_some_and(|x| x.castable());
    if !castable {
        return Err(Error::field(
            "voter_key",
            Text::new(
                "表决范围内没有这个业主",
                "no such owner in this vote's scope",
            ),
        ));
    }
    let choice = check_choice(&v.form, p.choice)?;
    let holder = p
        .proxy_holder
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let (channel, file) = match (holder.is_empty(), proxy) {
        (true, None) => ("paper", None),
        (false, Some(f)) => {
            let ct = sniff_proxy(&f.bytes)?;
            ("proxy", Some((chain::sha256_hex(&f.bytes), ct, f.bytes)))
        }
        (false, None) => {
            return Err(Error::field(
                "proxy_file",
                Text::new(
                    "委托投票须附书面授权委托书",
                    "a proxy ballot needs the written authorisation attached",
                ),
            ))
        }
        (true, Some(_)) => {
            return Err(Error::field(
                "proxy_holder",
                Text::new("请填写受托人姓名", "name the proxy holder"),
            ))
        }
    };
    if holder.chars().count() > 50 {
        return Err(Error::field(
            "proxy_holder",
            Text::new("姓名不超过 50 字", "at most 50 characters"),
        ));
    }
    if has_ballot(db, sid, v.id, &key).await? {
        return Err(already_voted());
    }
    let waiting = sqlx::query(
        "SELECT id FROM paper_ballots WHERE subdistrict_id = $1 AND vote_id = $2 AND voter_key = $3 \
         AND status = 'pending'",
    )
    .bind(sid)
    .bind(v.id)
    .bind(&key)
    .fetch_optional(db.write())
    .await?;
    if waiting.is_some() {
        return Err(Error::Conflict(Text::new(
            "该业主已有一张纸质选票等待复核",
            "a paper ballot of this owner is already waiting for its check",
        )));
    }
    let pid = next_id();
    let choice_json = serde_json::to_string(&choice).map_err(|e| internal("choice", e))?;
    let mut tx = db.begin().await?;
    if let Some((sha, ct, bytes)) = &file {
        let exists = sqlx::query(
            "SELECT sha256 FROM vote_proxy_files WHERE subdistrict_id = $1 AND vote_id = $2 AND sha256 = $3",
        )
        .bind(sid)
        .bind(v.id)
        .bind(sha)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            sqlx::query(
                "INSERT INTO vote_proxy_files (subdistrict_id, vote_id, sha256, content_type, size, data, \
                 uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(sid)
            .bind(v.id)
            .bind(sha)
            .bind(*ct)
            .bind(bytes.len() as i64)
            .bind(bytes.clone())
            .bind(actor.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    let sha = file.as_ref().map(|f| f.0.clone());
    sqlx::query(
        "INSERT INTO paper_ballots (subdistrict_id, id, vote_id, voter_key, choice, channel, proxy_holder, \
         proxy_sha256, entered_by, entered_at, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",
    )
    .bind(sid)
    .bind(pid)
    .bind(v.id)
    .bind(&key)
    .bind(&choice_json)
    .bind(channel)
    .bind(&holder)
    .bind(sha.as_deref())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.paper_enter", "vote", Some(v.id))
            .label(&v.title)
            .after(json!({
                "paper_ballot_id": pid, "channel": channel, "proxy_sha256": sha,
            })),
    )
    .await?;
    tx.commit().await?;
    papers(db, sid, v.id, false)
        .await?
        .into_iter()
        .find(|x| x.id == pid)
        .ok_or(Error::NotFound)
}

async fn pending_paper(db: &Db, sid: i64, vote_id: i64, paper_id: i64) -> Result<Paper> {
    papers(db, sid, vote_id, true)
        .await?
        .into_iter()
        .find(|x| x.id == paper_id)
        .ok_or_else(|| {
            Error::Conflict(Text::new(
                "没有等待复核的这张纸质选票",
                "no such paper ballot waiting for its check",
            ))
        })
}

/// A second staff user checks a paper entry: it is sealed into the box (channel paper or
/// proxy, cast by the user who entered it, confirmed by this one).
pub async fn confirm_paper(
    db: &Db,
    actor: &Actor,
    id: i64,
    paper_id: i64,
    now: i64,
) -> Result<Receipt> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    let p = pending_paper(db, sid, v.id, paper_id).await?;
    if p.entered_by == actor.user_id {
        return Err(Error::Conflict(Text::new(
            "录入人不能复核自己录入的选票,请由另一名工作人员复核",
            "whoever entered a paper ballot cannot check it; another staff member must",
        )));
    }
    if let Some(e) = period_refusal(&v, now) {
        return Err(e);
    }
    let channel = if p.channel == "proxy" {
        BallotChannel::Proxy
    } else {
        BallotChannel::Paper
    };
    let nb = NewBallot {
        vote_id: v.id,
        voter_key: p.voter_key.clone(),
        choice: p.choice.clone(),
        channel,
        cast_by: format!("user:{}", p.entered_by),
        confirmed_by: Some(format!("user:{}", actor.user_id)),
        proxy_attachment_sha256: p.proxy_sha256.clone(),
        cast_at_ms: now,
    };
    let aside = Aside {
        cast_user_id: None,
        entered_by: Some(p.entered_by),
        proxy_holder: p.proxy_holder.clone(),
        paper_id: Some(p.id),
    };
    let rec = seal(db, actor, &v, nb, aside, now).await?;
    Ok(chain::receipt(&rec))
}

/// Rejects a paper entry (a typing mistake, an invalid paper): it never enters the box.
pub async fn reject_paper(
    db: &Db,
    actor: &Actor,
    id: i64,
    paper_id: i64,
    note: &str,
    now: i64,
) -> Result<()> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    pending_paper(db, sid, v.id, paper_id).await?;
    let note: String = note.trim().chars().take(500).collect();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE paper_ballots SET status = 'rejected', decided_by = $3, decided_at = $4, note = $5 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(sid)
    .bind(paper_id)
    .bind(actor.user_id)
    .bind(now)
    .bind(&note)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "这张纸质选票已被处理",
            "this paper ballot was handled meanwhile",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.paper_reject", "vote", Some(v.id))
            .label(&v.title)
            .after(json!({ "paper_ballot_id": paper_id, "note": note })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The scanned proxy with this SHA-256 (staff and observers).
pub async fn proxy_file(db: &Db, actor: &Actor, id: i64, sha: &str) -> Result<(String, Vec<u8>)> {
    let (v, s) = readable(db, actor, id).await?;
    if !s.exports() {
        return Err(Error::Forbidden);
    }
    let r = sqlx::query(
        "SELECT content_type, data FROM vote_proxy_files WHERE subdistrict_id = $1 AND vote_id = $2 AND sha256 = $3",
    )
    .bind(actor.subdistrict_id)
    .bind(v.id)
    .bind(sha)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok((r.get("content_type"), r.get("data")))
}

/// Closes the box after the period and stores the final tally. Refused while paper ballots
/// wait for their check, or before `closes_at` (a vote is not cut short).
pub async fn close(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if v.status != "open" {
        return Err(Error::Conflict(Text::new(
            "只有表决中的投票可以计票",
            "only an open vote can be closed",
        )));
    }
    if now < v.closes_at {
        return Err(Error::Conflict(Text::owned(
            format!(
                "投票期至 {}(北京时间)截止,截止后才能计票",
                format_local(v.closes_at)
            ),
            format!(
                "the voting period runs to {} (Shanghai time); the count comes after it",
                format_local(v.closes_at)
            ),
        )));
    }
    let pending = papers(db, sid, v.id, true).await?.len();
    if pending > 0 {
        return Err(Error::Conflict(Text::owned(
            format!("还有 {pending} 张纸质选票等待复核,请先复核或退回"),
            format!(
                "{pending} paper ballots are waiting for their check; confirm or reject them first"
            ),
        )));
    }
    let box_ = ballots(db, sid, v.id).await?;
    let header = v
        .chain_header()
        .ok_or_else(|| internal("vote", "no header"))?;
    if let Err(b) = chain::verify_chain(&header, &box_) {
        return Err(internal("ballot chain broken", b));
    }
    let t = count(&v, &box_).ok_or_else(|| internal("vote", "no electorate"))?;
    let result = serde_json::to_string(&t).map_err(|e| internal("result", e))?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'closed', result = $3, closed_by = $4, closed_at = $5 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'open'",
    )
    .bind(sid)
    .bind(id)
    .bind(&result)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "表决已被他人结束",
            "the vote was closed meanwhile",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.close", "vote", Some(id))
            .label(&v.title)
            .before(json!({ "status": "open" }))
            .after(json!({
                "status": "closed", "ballots": box_.len(), "head": header_head(&header, &box_),
                "outcome": t.outcome, "summary": t.summary().en,
            })),
    )
    .await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

fn header_head(h: &ChainHeader, b: &[BallotRecord]) -> String {
    chain::head(h, b)
}

/// Publishes the counted result as a notice for `publicity_days`.
pub async fn publish(db: &Db, actor: &Actor, id: i64, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    if v.status != "closed" {
        return Err(Error::Conflict(Text::new(
            "只有已计票的表决可以公示",
            "only a counted vote can be published",
        )));
    }
    let until = now.saturating_add(v.publicity_days.saturating_mul(DAY_MS));
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'published', published_by = $3, published_at = $4, publicity_until = $5 \
         WHERE subdistrict_id = $1 AND id = $2 AND status = 'closed'",
    )
    .bind(sid)
    .bind(id)
    .bind(actor.user_id)
    .bind(now)
    .bind(until)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "表决已被他人公示",
            "the vote was published meanwhile",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.publish", "vote", Some(id))
            .label(&v.title)
            .before(json!({ "status": "closed" }))
            .after(json!({ "status": "published", "publicity_until": until })),
    )
    .await?;
    if let Some(e) = &v.electorate {
        let outcome = v.result.as_ref().map(|t| t.summary());
        let notice = crate::notify::Notice {
            kind: "vote.published".into(),
            case_id: None,
            title_zh: format!("表决结果公示:{}", v.title),
            title_en: format!("Vote result published: {}", v.title),
            body_zh: outcome
                .as_ref()
                .map(|t| t.zh.to_string())
                .unwrap_or_default(),
            body_en: outcome
                .as_ref()
                .map(|t| t.en.to_string())
                .unwrap_or_default(),
            link: format!("/votes/{id}/notice"),
        };
        tell_voters(&mut tx, sid, e, &notice, now).await?;
        crate::notify::notify_unit(&mut tx, sid, v.scope_node_id, &notice).await?;
    }
    tx.commit().await?;
    vote(db, sid, id).await
}

/// Cancels a draft or an open vote, with a reason (its ballots stay in the box, uncounted).
pub async fn cancel(db: &Db, actor: &Actor, id: i64, reason: &str, now: i64) -> Result<Vote> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    staff_only(&s)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::field(
            "reason",
            Text::new("请填写取消原因", "give the reason for cancelling"),
        ));
    }
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE votes SET status = 'cancelled', cancelled_at = $3 \
         WHERE subdistrict_id = $1 AND id = $2 AND status IN ('draft', 'open')",
    )
    .bind(sid)
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(Text::new(
            "只有草稿或表决中的投票可以取消",
            "only a draft or open vote can be cancelled",
        )));
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.cancel", "vote", Some(id))
            .label(&v.title)
            .before(json!({ "status": v.status }))
            .after(json!({ "status": "cancelled" }))
            .reason(reason),
    )
    .await?;
    tx.commit().await?;
    vote(db, sid, id).await
}

/// The export document (`redbutler-vote-export/1`) of an opened vote: staff and observers.
/// `published_result` is `serde_json::to_value(&Tally)` of the final tally (null before close).
pub async fn export(db: &Db, actor: &Actor, id: i64) -> Result<Export> {
    let sid = actor.subdistrict_id;
    let (v, s) = readable(db, actor, id).await?;
    if !s.exports() {
        return Err(Error::Forbidden);
    }
    let (Some(e), Some(header)) = (&v.electorate, v.chain_header()) else {
        return Err(Error::Conflict(Text::new(
            "表决尚未开启,没有可导出的票箱",
            "the vote has not opened; there is no box to export",
        )));
    };
    let box_ = ballots(db, sid, v.id).await?;
    let code = tree::subdistricts(db)
        .await?
        .into_iter()
        .find(|x| x.id == sid)
        .map(|x| x.code)
        .unwrap_or_default();
    let result = match &v.result {
        Some(t) => serde_json::to_value(t).map_err(|x| internal("result", x))?,
        None => Value::Null,
    };
    Ok(Export {
        format: export::FORMAT.to_string(),
        head_hash: chain::head(&header, &box_),
        header: ExportHeader {
            vote_id: v.id,
            subdistrict_code: code,
            title: v.title.clone(),
            matter: v.matter,
            form: serde_json::to_value(v.form).map_err(|x| internal("form", x))?,
            thresholds: serde_json::to_value(v.thresholds)
                .map_err(|x| internal("thresholds", x))?,
            thresholds_canonical: v.thresholds_canonical.clone(),
            scope: json!({ "node_id": v.scope_node_id, "kind": v.scope_kind, "name": v.scope_name, "path": v.scope_path }),
            record_date: v.record_date.clone(),
            period_start_ms: v.opens_at,
            period_end_ms: v.closes_at,
            electorate_digest: header.electorate_digest.clone(),
            published_result: result,
        },
        electorate: e
            .voters
            .iter()
            .map(|x| export::Voter {
                key: x.key.clone(),
                area: x.area,
                rooms: x
                    .rooms
                    .iter()
                    .map(|&(room_id, area)| VoterRoom { room_id, area })
                    .collect(),
            })
            .collect(),
        ballots: box_,
    })
}

/// An owners' committee re-election period.
#[derive(Debug, Clone, Serialize)]
pub struct Reelection {
    pub id: i64,
    pub node_id: i64,
    pub node_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub note: String,
    pub created_at: i64,
    /// Set when an owners' committee's re-election process drives the period
    /// (`property::committees`); its end is then the filing, `ends_on` empty until then.
    pub committee_id: Option<i64>,
}

/// A re-election period as typed: Shanghai dates, both days included.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct NewReelection {
    #[serde(default)]
    pub node_id: Option<i64>,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub note: String,
}

/// Records a re-election period (staff at the place).
pub async fn add_reelection(
    db: &Db,
    actor: &Actor,
    n: NewReelection,
    now: i64,
) -> Result<Reelection> {
    let sid = actor.subdistrict_id;
    let mut errors = Vec::new();
    let node = match n.node_id {
        Some(id) => tree::node(db, sid, id).await.ok(),
        None => None,
    };
    if node.is_none() {
        errors.push(tx_field("node_id", "请选择地点", "choose the place"));
    }
    let start = parse_local_date(&n.starts_on);
    let end = parse_local_date(&n.ends_on);
    if start.is_none() {
        errors.push(tx_field(
            "starts_on",
            "日期格式为 YYYY-MM-DD",
            "a date is YYYY-MM-DD",
        ));
    }
    if end.is_none() {
        errors.push(tx_field(
            "ends_on",
            "日期格式为 YYYY-MM-DD",
            "a date is YYYY-MM-DD",
        ));
    }
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            errors.push(tx_field(
                "ends_on",
                "结束日期不能早于开始日期",
                "the end cannot be before the start",
            ));
        }
    }
    let (Some(node), Some(start), Some(end), true) = (node, start, end, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    if !allows(
        actor,
        Action::EditRegistry,
        Target::Node { path: &node.path },
    ) {
        return Err(Error::Forbidden);
    }
    let id = next_id();
    let note: String = n.note.trim().chars().take(500).collect();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO reelection_periods (subdistrict_id, id, node_id, node_path, starts_on, ends_on, \
         starts_at, ends_at, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sid)
    .bind(id)
    .bind(node.id)
    .bind(&node.path)
    .bind(n.starts_on.trim())
    .bind(n.ends_on.trim())
    .bind(start)
    .bind(end + DAY_MS)
    .bind(&note)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("vote.reelection_period", "node", Some(node.id)).label(&node.name).after(json!({
            "id": id, "starts_on": n.starts_on.trim(), "ends_on": n.ends_on.trim(), "note": note,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Reelection {
        id,
        node_id: node.id,
        node_name: node.name,
        starts_on: n.starts_on.trim().to_string(),
        ends_on: n.ends_on.trim().to_string(),
        note,
        created_at: now,
        committee_id: None,
    })
}

/// The re-election periods at places the actor may read, latest first.
pub async fn reelections(db: &Db, actor: &Actor) -> Result<Vec<Reelection>> {
    let rows = sqlx::query(
        "SELECT p.id, p.node_id, p.node_path, p.starts_on, p.ends_on, p.note, p.created_at, n.name, \
         p.committee_id FROM reelection_periods p LEFT JOIN nodes n ON n.subdistrict_id = p.subdistrict_id AND n.id = p.node_id \
         WHERE p.subdistrict_id = $1 ORDER BY p.starts_at DESC, p.id DESC",
    )
    .bind(actor.subdistrict_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter(|r| {
            let path: String = r.get("node_path");
            allows(actor, Action::ReadTree, Target::Node { path: &path })
        })
        .map(|r| Reelection {
            id: r.get("id"),
            node_id: r.get("node_id"),
            node_name: text(r, "name").unwrap_or_default(),
            starts_on: r.get("starts_on"),
            ends_on: r.get("ends_on"),
            note: r.get("note"),
            created_at: r.get("created_at"),
            committee_id: opt_i64(r, "committee_id"),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<Choice>) -> String {
        match r {
            Err(Error::Invalid(e)) => e[0].field.clone(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn yes_no_takes_yes_no_abstain_only() {
        for c in [Choice::Yes, Choice::No, Choice::Abstain] {
            assert_eq!(check_choice(&Form::YesNo, c.clone()).ok(), Some(c));
        }
        assert_eq!(
            field_of(check_choice(&Form::YesNo, Choice::Option { id: Some(1) })),
            "choice"
        );
        assert_eq!(
            field_of(check_choice(
                &Form::YesNo,
                Choice::Candidates { ids: vec![] }
            )),
            "choice"
        );
    }

    #[test]
    fn election_sorts_and_bounds_candidates() {
        let f = Form::Election {
            seats: 2,
            candidates: 3,
        };
        assert_eq!(
            check_choice(&f, Choice::Candidates { ids: vec![3, 1] }).ok(),
            Some(Choice::Candidates { ids: vec![1, 3] })
        );
        assert!(
            check_choice(&f, Choice::Candidates { ids: vec![] }).is_ok(),
            "blank ballot"
        );
        for bad in [vec![1, 2, 3], vec![0], vec![4], vec![2, 2]] {
            assert_eq!(
                field_of(check_choice(&f, Choice::Candidates { ids: bad })),
                "choice"
            );
        }
        assert_eq!(field_of(check_choice(&f, Choice::Yes)), "choice");
    }

    #[test]
    fn options_take_one_option_or_abstain() {
        let f = Form::Options { count: 2 };
        assert!(check_choice(&f, Choice::Option { id: None }).is_ok());
        assert!(check_choice(&f, Choice::Option { id: Some(2) }).is_ok());
        for bad in [0, 3] {
            assert_eq!(
                field_of(check_choice(&f, Choice::Option { id: Some(bad) })),
                "choice"
            );
        }
        assert_eq!(field_of(check_choice(&f, Choice::No)), "choice");
    }

    #[test]
    fn standing_hides_drafts_and_the_running_count() {
        let owner = Standing {
            staff: false,
            observer: false,
            voters: vec!["p:1".into()],
        };
        assert!(!owner.reads("draft"));
        assert!(owner.reads("open") && owner.reads("published"));
        assert!(!owner.sees_running_result() && !owner.exports());
        let watcher = Standing {
            staff: false,
            observer: true,
            voters: vec![],
        };
        assert!(!watcher.reads("draft") && watcher.reads("open") && watcher.exports());
        assert!(!watcher.sees_running_result());
        let staff = Standing {
            staff: true,
            observer: true,
            voters: vec![],
        };
        assert!(staff.reads("draft") && staff.sees_running_result());
        assert!(!Standing::default().reads("open"));
    }

    #[test]
    fn proxies_are_sniffed() {
        assert_eq!(sniff_proxy(b"%PDF-1.7\n...").ok(), Some("application/pdf"));
        assert_eq!(
            sniff_proxy(&[0xFF, 0xD8, 0xFF, 0xE0]).ok(),
            Some("image/jpeg")
        );
        assert!(sniff_proxy(b"").is_err());
        assert!(sniff_proxy(b"hello").is_err());
        assert!(sniff_proxy(&vec![0xFF; MAX_PROXY_BYTES + 1]).is_err());
    }

    #[test]
    fn matters_parse_from_their_codes() {
        for m in Matter::ALL {
            assert_eq!(parse_matter(chain::matter_code(m)), Some(m));
        }
        assert_eq!(parse_matter("nonsense"), None);
    }
}
