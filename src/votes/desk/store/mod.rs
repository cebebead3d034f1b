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

mod ballots;
mod closing;
mod create;
mod paper;
mod reelections;

pub use ballots::*;
pub use closing::*;
pub use create::*;
pub use paper::*;
pub use reelections::*;

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
