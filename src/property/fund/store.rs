//! Fund storage (migration 15): the building funds' heads, the room accounts, the journal and
//! its lines, emergency approvals and publications. Every write asks who the actor is first,
//! then runs as one transaction with its audit entry. A posting locks its fund's head row and
//! moves it conditionally (`WHERE head_hash = old`), so two postings racing for one building
//! serialise and the second is checked against the balances the first left. `now` comes in
//! as a parameter.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::chain::{self, Hash32, NewPosting, Posting};
use super::export::{self, Approval, Export, FundHeader};
use super::ledger::{self, Accounts, Kind, Line, Reference, Refusal, Undone};
use super::rules::{self, RoomFacts, VoteFacts};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{is_unique_violation, next_id, opt_i64, Db, Tx};
use crate::tree::{area, store as tree, NodeKind};
use crate::votes::tally::Outcome;

/// A building's fund as lists and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct Fund {
    pub building_id: i64,
    pub building_name: String,
    pub building_path: String,
    pub seq: i64,
    pub balance: i64,
    pub first_deposit_total: i64,
    /// Below 30 % of the first deposits: must be topped up.
    pub low_balance: bool,
    /// Fen needed to reach 30 % again.
    pub top_up_needed: i64,
    pub head_hash: String,
}

/// One room account.
#[derive(Debug, Clone, Serialize)]
pub struct RoomAccount {
    pub room_id: i64,
    /// "1单元 502".
    pub label: String,
    pub node_path: String,
    /// The area that counts, hundredths of m² (0 when the registry has none).
    pub area: i64,
    pub balance: i64,
    pub first_deposit: i64,
    pub low_balance: bool,
}

/// What the actor may do with one fund.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Standing {
    /// Posts entries, records emergencies, publishes (`EditRegistry` at the building).
    pub staff: bool,
    /// Reads the whole fund (`ReadAccounts` at the building: grid staff, the troika; never a
    /// third party — auditors read through their engagement, `property::audits`).
    pub reader: bool,
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("{what}: {e}"))
}

/// The building node, 404 when the id is no building.
pub async fn building(db: &Db, sid: i64, id: i64) -> Result<tree::Node> {
    let n = tree::node(db, sid, id).await?;
    if n.kind != NodeKind::Building {
        return Err(Error::NotFound);
    }
    Ok(n)
}

pub fn standing(actor: &Actor, path: &str) -> Standing {
    let place = Target::Node { path };
    Standing {
        staff: allows(actor, Action::EditRegistry, place),
        reader: allows(actor, Action::ReadAccounts, place),
    }
}

/// The building and what the actor may do there; 403 for someone who may not read it.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(tree::Node, Standing)> {
    let b = building(db, actor.subdistrict_id, id).await?;
    let s = standing(actor, &b.path);
    if !s.reader {
        return Err(Error::Forbidden);
    }
    Ok((b, s))
}

fn fund_from(b: &tree::Node, head: Option<&AnyRow>, genesis: Hash32) -> Fund {
    let (seq, balance, first, hash) = head.map_or((0, 0, 0, genesis.hex()), |r| {
        (
            r.get::<i64, _>("seq"),
            r.get::<i64, _>("balance"),
            r.get::<i64, _>("first_deposit_total"),
            r.get::<String, _>("head_hash"),
        )
    });
    Fund {
        building_id: b.id,
        building_name: b.name.clone(),
        building_path: b.path.clone(),
        seq,
        balance,
        first_deposit_total: first,
        low_balance: ledger::low_balance(balance, first),
        top_up_needed: ledger::top_up_needed(balance, first),
        head_hash: hash,
    }
}

async fn code(db: &Db, sid: i64) -> Result<String> {
    Ok(tree::subdistrict(db, sid).await?.code)
}

/// One building's fund figures (no access check).
pub async fn fund(db: &Db, sid: i64, b: &tree::Node) -> Result<Fund> {
    let head = sqlx::query(
        "SELECT seq, balance, first_deposit_total, head_hash FROM fund_heads \
         WHERE subdistrict_id = $1 AND building_id = $2",
    )
    .bind(sid)
    .bind(b.id)
    .fetch_optional(db.read())
    .await?;
    let g = chain::genesis(&code(db, sid).await?, b.id);
    Ok(fund_from(b, head.as_ref(), g))
}

/// The buildings the actor may read, with their funds (a building without postings shows 0).
pub async fn funds(db: &Db, actor: &Actor) -> Result<Vec<Fund>> {
    let sid = actor.subdistrict_id;
    let rows = sqlx::query(
        "SELECT n.id, n.parent_id, n.kind, n.track, n.name, n.code, n.path, n.depth, \
         h.seq, h.balance, h.first_deposit_total, h.head_hash \
         FROM nodes n LEFT JOIN fund_heads h ON h.subdistrict_id = n.subdistrict_id AND h.building_id = n.id \
         WHERE n.subdistrict_id = $1 AND n.kind = 'building' ORDER BY n.path",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let code = code(db, sid).await?;
    let mut out = Vec::new();
    for r in &rows {
        let path: String = r.get("path");
        if !allows(actor, Action::ReadAccounts, Target::Node { path: &path }) {
            continue;
        }
        let b = tree::Node {
            id: r.get("id"),
            parent_id: opt_i64(r, "parent_id"),
            kind: NodeKind::Building,
            track: None,
            name: r.get("name"),
            code: None,
            path,
            depth: r.get("depth"),
        };
        let has = opt_i64(r, "seq").is_some();
        let g = chain::genesis(&code, b.id);
        out.push(fund_from(&b, if has { Some(r) } else { None }, g));
    }
    Ok(out)
}

/// The rooms of a building (under its path) with their accounts; read on the writer inside
/// a posting's transaction.
async fn rooms_with<'e, E>(ex: E, sid: i64, path: &str) -> Result<Vec<RoomAccount>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let end = crate::cases::web::subtree_end(path);
    let rows = sqlx::query(
        "SELECT r.id, r.number, r.registered_area, r.surveyed_area, r.contract_area, n.path, n.name, n.kind, \
         a.balance, a.first_deposit \
         FROM rooms r JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         LEFT JOIN fund_rooms a ON a.subdistrict_id = r.subdistrict_id AND a.room_id = r.id \
         WHERE r.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3 ORDER BY n.path, r.number, r.id",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let kind: String = r.get("kind");
            let number: String = r.get("number");
            let label = if kind == "unit" {
                format!("{} {number}", r.get::<String, _>("name"))
            } else {
                number
            };
            let balance = opt_i64(r, "balance").unwrap_or(0);
            let first = opt_i64(r, "first_deposit").unwrap_or(0);
            RoomAccount {
                room_id: r.get("id"),
                label,
                node_path: r.get("path"),
                area: area::effective(
                    opt_i64(r, "registered_area"),
                    opt_i64(r, "surveyed_area"),
                    opt_i64(r, "contract_area"),
                )
                .unwrap_or(0),
                balance,
                first_deposit: first,
                low_balance: ledger::low_balance(balance, first),
            }
        })
        .collect())
}

/// The rooms of a building with their accounts.
pub async fn rooms(db: &Db, sid: i64, b: &tree::Node) -> Result<Vec<RoomAccount>> {
    rooms_with(db.read(), sid, &b.path).await
}

fn posting_from(r: &AnyRow, lines: Vec<Line>) -> Result<Posting> {
    let h = |c: &str| {
        Hash32::parse(&r.get::<String, _>(c)).ok_or_else(|| internal("fund hash", c.to_owned()))
    };
    let reference = match (
        r.get::<String, _>("ref_kind").as_str(),
        r.get::<i64, _>("ref_id"),
    ) {
        ("vote", id) => Some(Reference::Vote(id)),
        ("emergency", id) => Some(Reference::Emergency(id)),
        _ => None,
    };
    Ok(Posting {
        seq: u64::try_from(r.get::<i64, _>("seq")).unwrap_or(0),
        kind: Kind::from_code(&r.get::<String, _>("kind"))
            .ok_or_else(|| internal("fund kind", "unknown"))?,
        amount: r.get("amount"),
        reference,
        reverses: opt_i64(r, "reverses_seq").and_then(|s| u64::try_from(s).ok()),
        cost_review: r.get("cost_review"),
        memo: r.get("memo"),
        value_date: r.get("value_date"),
        posted_by: r.get("posted_by"),
        posted_at_ms: r.get("posted_at"),
        lines,
        prev_hash: h("prev_hash")?,
        hash: h("hash")?,
    })
}

const POSTING_COLS: &str = "seq, kind, amount, ref_kind, ref_id, reverses_seq, cost_review, memo, \
     value_date, posted_by, posted_at, prev_hash, hash";

/// Every posting of a building, in chain order, with its lines.
pub async fn postings(db: &Db, sid: i64, building_id: i64) -> Result<Vec<Posting>> {
    let rows = sqlx::query(&format!(
        "SELECT {POSTING_COLS} FROM fund_postings WHERE subdistrict_id = $1 AND building_id = $2 \
         ORDER BY seq"
    ))
    .bind(sid)
    .bind(building_id)
    .fetch_all(db.read())
    .await?;
    let lines = sqlx::query(
        "SELECT seq, room_id, amount FROM fund_lines WHERE subdistrict_id = $1 AND building_id = $2 \
         ORDER BY seq, n",
    )
    .bind(sid)
    .bind(building_id)
    .fetch_all(db.read())
    .await?;
    let mut by_seq: HashMap<i64, Vec<Line>> = HashMap::new();
    for l in &lines {
        by_seq.entry(l.get("seq")).or_default().push(Line {
            room_id: l.get("room_id"),
            amount: l.get("amount"),
        });
    }
    rows.iter()
        .map(|r| {
            posting_from(
                r,
                by_seq.remove(&r.get::<i64, _>("seq")).unwrap_or_default(),
            )
        })
        .collect()
}

async fn posting_in_tx(
    tx: &mut Tx,
    sid: i64,
    building_id: i64,
    seq: i64,
) -> Result<Option<(Posting, bool)>> {
    let Some(r) = sqlx::query(&format!(
        "SELECT {POSTING_COLS} FROM fund_postings WHERE subdistrict_id = $1 AND building_id = $2 AND seq = $3"
    ))
    .bind(sid)
    .bind(building_id)
    .bind(seq)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let lines = sqlx::query(
        "SELECT room_id, amount FROM fund_lines WHERE subdistrict_id = $1 AND building_id = $2 \
         AND seq = $3 ORDER BY n",
    )
    .bind(sid)
    .bind(building_id)
    .bind(seq)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|l| Line {
        room_id: l.get("room_id"),
        amount: l.get("amount"),
    })
    .collect();
    let reversed = sqlx::query(
        "SELECT seq FROM fund_postings WHERE subdistrict_id = $1 AND building_id = $2 AND reverses_seq = $3",
    )
    .bind(sid)
    .bind(building_id)
    .bind(seq)
    .fetch_optional(&mut **tx)
    .await?
    .is_some();
    Ok(Some((posting_from(&r, lines)?, reversed)))
}

/// A request to post, from a form or the API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NewEntry {
    /// `first_deposit`, `deposit`, `interest`, `top_up`, `withdrawal` or `reversal`.
    pub kind: String,
    /// Fen, positive (a withdrawal's cost; ignored for first deposits and reversals).
    #[serde(default)]
    pub amount: i64,
    /// First deposits: the rate in fen per m².
    #[serde(default)]
    pub rate_fen_per_m2: i64,
    /// The building or a unit of it whose rooms share the amount (default: the building).
    #[serde(default)]
    pub over_node_id: Option<i64>,
    /// Withdrawals: the approved owners' vote, or the emergency approval.
    #[serde(default)]
    pub vote_id: Option<i64>,
    #[serde(default)]
    pub emergency_id: Option<i64>,
    #[serde(default)]
    pub cost_review: String,
    /// What it is for; a reversal's reason.
    #[serde(default)]
    pub memo: String,
    /// Reversals: the seq of the entry undone.
    #[serde(default)]
    pub reverses: Option<u64>,
    /// `YYYY-MM-DD`; default: today in Shanghai.
    #[serde(default)]
    pub value_date: Option<String>,
}

fn field_of(r: &Refusal) -> &'static str {
    match r.code {
        "unauthorised" | "reference_not_allowed" => "vote_id",
        "no_cost_review" => "cost_review",
        "no_reason" => "memo",
        "reversal_target" | "reversal_of_reversal" | "already_reversed" | "reversal_mismatch" => {
            "reverses"
        }
        _ => "amount",
    }
}

fn refused(r: Refusal) -> Error {
    if matches!(r.code, "short" | "already_reversed") {
        Error::Conflict(r.text)
    } else {
        Error::Invalid(vec![FieldError::new(field_of(&r), r.text)])
    }
}

fn facts(rooms: &[RoomAccount]) -> Vec<RoomFacts> {
    rooms
        .iter()
        .map(|r| RoomFacts {
            room_id: r.room_id,
            area: r.area,
            path: r.node_path.clone(),
            balance: r.balance,
            first_deposit: r.first_deposit,
        })
        .collect()
}

/// What was checked before the transaction: the kind, the place charged, the authority.
struct Checked {
    kind: Kind,
    over_path: String,
    reference: Option<Reference>,
    value_date: String,
}

async fn precheck(
    db: &Db,
    actor: &Actor,
    b: &tree::Node,
    n: &NewEntry,
    now: i64,
) -> Result<Checked> {
    let sid = actor.subdistrict_id;
    let kind = Kind::from_code(n.kind.trim())
        .ok_or_else(|| Error::field("kind", Text::new("未知的分录类型", "unknown entry kind")))?;
    let value_date = match n
        .value_date
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(d) if rules::is_date(d) => d.to_owned(),
        Some(_) => {
            return Err(Error::field(
                "value_date",
                Text::new("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
            ))
        }
        None => crate::votes::desk::store::local_date(now),
    };
    let over_path = match n.over_node_id.filter(|&id| id != b.id) {
        None => b.path.clone(),
        Some(id) => {
            let node = tree::node(db, sid, id).await?;
            if !node.path.starts_with(&b.path) {
                return Err(Error::field(
                    "over_node_id",
                    Text::new(
                        "分摊范围应在本楼栋内",
                        "the rooms charged must be in this building",
                    ),
                ));
            }
            node.path
        }
    };
    let reference = match (kind, n.vote_id, n.emergency_id) {
        (Kind::Withdrawal, Some(_), Some(_)) => {
            return Err(Error::field(
                "vote_id",
                Text::new(
                    "表决与应急审批只能择一",
                    "name a vote or an emergency approval, not both",
                ),
            ))
        }
        (Kind::Withdrawal, Some(v), None) => {
            let vote = crate::votes::desk::store::vote(db, sid, v)
                .await
                .map_err(|e| match e {
                    Error::NotFound => {
                        Error::field("vote_id", Text::new("表决不存在", "no such vote"))
                    }
                    e => e,
                })?;
            let approved = vote
                .result
                .as_ref()
                .is_some_and(|t| t.outcome == Outcome::Approved);
            rules::vote_authorises(
                &VoteFacts {
                    matter: vote.matter,
                    status: &vote.status,
                    approved,
                    scope_path: &vote.scope_path,
                },
                &over_path,
            )
            .map_err(|t| Error::field("vote_id", t))?;
            Some(Reference::Vote(v))
        }
        (Kind::Withdrawal, None, Some(e)) => {
            let em = emergency(db, sid, e).await.map_err(|e| match e {
                Error::NotFound => Error::field(
                    "emergency_id",
                    Text::new("应急审批不存在", "no such emergency approval"),
                ),
                e => e,
            })?;
            if em.building_id != b.id {
                return Err(Error::field(
                    "emergency_id",
                    Text::new(
                        "应急审批不属于本楼栋",
                        "the emergency approval is for another building",
                    ),
                ));
            }
            if em.used_seq.is_some() {
                return Err(Error::field(
                    "emergency_id",
                    Text::new(
                        "该应急审批已使用过",
                        "this emergency approval has been used",
                    ),
                ));
            }
            rules::emergency_usable(&em.approved_on, &value_date)
                .map_err(|t| Error::field("emergency_id", t))?;
            Some(Reference::Emergency(e))
        }
        (_, None, None) => None,
        (_, _, _) => {
            return Err(Error::field(
                "vote_id",
                Text::new(
                    "只有维修使用分录引用表决或应急审批",
                    "only a withdrawal names a vote or an emergency approval",
                ),
            ))
        }
    };
    Ok(Checked {
        kind,
        over_path,
        reference,
        value_date,
    })
}

/// The lines a request would post, against the balances as they are now (the preview).
pub async fn preview(
    db: &Db,
    actor: &Actor,
    building_id: i64,
    n: &NewEntry,
    now: i64,
) -> Result<Vec<Line>> {
    let (b, s) = readable(db, actor, building_id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let c = precheck(db, actor, &b, n, now).await?;
    let rooms = rooms(db, actor.subdistrict_id, &b).await?;
    if c.kind == Kind::Reversal {
        let all = postings(db, actor.subdistrict_id, b.id).await?;
        let seq = n.reverses.unwrap_or(0);
        let p = all.iter().find(|p| p.seq == seq).ok_or_else(|| {
            Error::field("reverses", Text::new("被冲正的分录不存在", "no such entry"))
        })?;
        return Ok(ledger::negated(&p.lines));
    }
    rules::plan(
        c.kind,
        n.amount,
        n.rate_fen_per_m2,
        &c.over_path,
        &facts(&rooms),
    )
    .map_err(|t| Error::field("amount", t))
}

/// Posts one entry: checks the actor, the authority and the rules, then appends it to the
/// building's chain in one transaction that locks the fund's head.
pub async fn post(
    db: &Db,
    actor: &Actor,
    building_id: i64,
    n: NewEntry,
    now: i64,
) -> Result<Posting> {
    let sid = actor.subdistrict_id;
    let (b, s) = readable(db, actor, building_id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let c = precheck(db, actor, &b, &n, now).await?;
    let genesis = chain::genesis(&code(db, sid).await?, b.id);
    for _attempt in 0..8 {
        let mut tx = db.begin().await?;
        match append_in(&mut tx, actor, &b, genesis, &c, &n, now).await? {
            Some(p) => {
                tx.commit().await?;
                return Ok(p);
            }
            // Dropping the transaction rolls it back; the next attempt starts afresh.
            None => continue,
        }
    }
    Err(Error::Conflict(Text::new(
        "同时记账的人太多,请稍后重试",
        "too many entries at once; please try again",
    )))
}

/// Posts a top-up (公共收益补充) of `amount` fen over the rooms of building `b` by area, or
/// with `reverses` the reversal of such a posting, inside the caller's transaction (the public
/// income account writes its own entry in the same one). No access check: the caller checks.
/// 409 when the fund's head moved meanwhile (the caller may retry).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn top_up_in(
    tx: &mut Tx,
    actor: &Actor,
    subdistrict_code: &str,
    b: &tree::Node,
    amount: i64,
    reverses: Option<u64>,
    memo: &str,
    value_date: &str,
    now: i64,
) -> Result<Posting> {
    let kind = if reverses.is_some() {
        Kind::Reversal
    } else {
        Kind::TopUp
    };
    let c = Checked {
        kind,
        over_path: b.path.clone(),
        reference: None,
        value_date: value_date.to_owned(),
    };
    let n = NewEntry {
        kind: kind.code().to_owned(),
        amount,
        memo: memo.to_owned(),
        reverses,
        value_date: Some(value_date.to_owned()),
        ..NewEntry::default()
    };
    let genesis = chain::genesis(subdistrict_code, b.id);
    append_in(tx, actor, b, genesis, &c, &n, now)
        .await?
        .ok_or_else(|| {
            Error::Conflict(Text::new(
                "维修资金账户正在记账,请稍后重试",
                "the maintenance fund is being posted to; please try again",
            ))
        })
}

/// Appends one checked posting to building `b`'s chain inside the caller's transaction: locks
/// the fund's head (creating it on first use), plans the lines against the balances as they
/// are, checks the ledger rules, writes, and records the audit entry. `None` when the head
/// moved or was created meanwhile: the caller drops the transaction and retries.
async fn append_in(
    tx: &mut Tx,
    actor: &Actor,
    b: &tree::Node,
    genesis: Hash32,
    c: &Checked,
    n: &NewEntry,
    now: i64,
) -> Result<Option<Posting>> {
    let sid = actor.subdistrict_id;
    // The head row, created on first use; a twin creating it at once collides on the key.
    let locked = sqlx::query(
        "UPDATE fund_heads SET seq = seq WHERE subdistrict_id = $1 AND building_id = $2",
    )
    .bind(sid)
    .bind(b.id)
    .execute(&mut **tx)
    .await?;
    if locked.rows_affected() == 0 {
        let made = sqlx::query(
            "INSERT INTO fund_heads (subdistrict_id, building_id, building_path, genesis_hash, head_hash, \
             seq, balance, first_deposit_total, created_at) VALUES ($1, $2, $3, $4, $4, 0, 0, 0, $5)",
        )
        .bind(sid)
        .bind(b.id)
        .bind(&b.path)
        .bind(genesis.hex())
        .bind(now)
        .execute(&mut **tx)
        .await;
        match made {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let head = sqlx::query(
        "SELECT seq, head_hash FROM fund_heads WHERE subdistrict_id = $1 AND building_id = $2",
    )
    .bind(sid)
    .bind(b.id)
    .fetch_one(&mut **tx)
    .await?;
    let last_seq: i64 = head.get("seq");
    let old_head: String = head.get("head_hash");
    let prev = Hash32::parse(&old_head).ok_or_else(|| internal("fund head", &old_head))?;
    let rooms = rooms_with(&mut **tx, sid, &b.path).await?;
    let acc = Accounts::with_balances(
        &rooms
            .iter()
            .map(|r| (r.room_id, r.balance, r.first_deposit))
            .collect::<Vec<_>>(),
    );
    let undone = match (c.kind, n.reverses) {
        (Kind::Reversal, Some(seq)) => {
            posting_in_tx(tx, sid, b.id, i64::try_from(seq).unwrap_or(0)).await?
        }
        _ => None,
    };
    let lines = match (&undone, c.kind) {
        (Some((p, _)), Kind::Reversal) => ledger::negated(&p.lines),
        (None, Kind::Reversal) => {
            return Err(Error::field(
                "reverses",
                Text::new("被冲正的分录不存在", "the entry to reverse does not exist"),
            ))
        }
        _ => rules::plan(
            c.kind,
            n.amount,
            n.rate_fen_per_m2,
            &c.over_path,
            &facts(&rooms),
        )
        .map_err(|t| Error::field("amount", t))?,
    };
    let seq = u64::try_from(last_seq + 1).unwrap_or(1);
    let p = chain::append(
        prev,
        seq,
        NewPosting {
            kind: c.kind,
            amount: lines.iter().map(|l| l.amount).sum(),
            reference: c.reference,
            reverses: if c.kind == Kind::Reversal {
                n.reverses
            } else {
                None
            },
            cost_review: n.cost_review.trim().to_owned(),
            memo: n.memo.trim().to_owned(),
            value_date: c.value_date.clone(),
            posted_by: format!("user:{} {}", actor.user_id, actor.display_name),
            posted_at_ms: now,
            lines,
        },
    );
    let u = undone.as_ref().map(|(t, reversed)| Undone {
        seq: t.seq,
        kind: t.kind,
        amount: t.amount,
        lines: &t.lines,
        already_reversed: *reversed,
    });
    acc.check(&p.entry(), u.as_ref()).map_err(refused)?;
    let undone_kind = undone.as_ref().map(|(t, _)| t.kind);
    match write(tx, sid, b.id, &p, actor, &old_head, undone_kind).await {
        Ok(true) => {}
        Ok(false) => {
            return Ok(None);
        }
        Err(Error::Internal(e)) => {
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(is_unique_violation)
            {
                // A reversal raced another of the same entry, or a seq was taken.
                return Ok(None);
            }
            return Err(Error::Internal(e));
        }
        Err(e) => return Err(e),
    }
    if let Some(Reference::Emergency(e)) = c.reference {
        let used = sqlx::query(
            "UPDATE fund_emergencies SET used_seq = $3 WHERE subdistrict_id = $1 AND id = $2 \
             AND used_seq IS NULL",
        )
        .bind(sid)
        .bind(e)
        .bind(last_seq + 1)
        .execute(&mut **tx)
        .await?;
        if used.rows_affected() == 0 {
            return Err(Error::Conflict(Text::new(
                "该应急审批已被使用",
                "this emergency approval was used meanwhile",
            )));
        }
    }
    audit::record(
        tx,
        actor,
        Change::new("fund.post", "building", Some(b.id))
            .label(&b.name)
            .after(json!({
                "seq": p.seq, "kind": p.kind.code(), "amount": p.amount,
                "reference": p.reference, "reverses": p.reverses, "lines": p.lines.len(),
                "memo": p.memo, "hash": p.hash.hex(),
            })),
    )
    .await?;
    Ok(Some(p))
}

/// Writes the posting, its lines, the room accounts and moves the head; false when the head
/// moved meanwhile (the caller retries).
async fn write(
    tx: &mut Tx,
    sid: i64,
    building_id: i64,
    p: &Posting,
    actor: &Actor,
    old_head: &str,
    undone_kind: Option<Kind>,
) -> Result<bool> {
    let seq = i64::try_from(p.seq).unwrap_or(i64::MAX);
    let (ref_kind, ref_id) = match p.reference {
        None => ("", 0),
        Some(Reference::Vote(id)) => ("vote", id),
        Some(Reference::Emergency(id)) => ("emergency", id),
    };
    let first_delta = if p.kind == Kind::FirstDeposit
        || (p.kind == Kind::Reversal && undone_kind == Some(Kind::FirstDeposit))
    {
        p.amount
    } else {
        0
    };
    let moved = sqlx::query(
        "UPDATE fund_heads SET seq = $3, head_hash = $4, balance = balance + $5, \
         first_deposit_total = first_deposit_total + $6 \
         WHERE subdistrict_id = $1 AND building_id = $2 AND head_hash = $7 AND seq = $8",
    )
    .bind(sid)
    .bind(building_id)
    .bind(seq)
    .bind(p.hash.hex())
    .bind(p.amount)
    .bind(first_delta)
    .bind(old_head)
    .bind(seq - 1)
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO fund_postings (subdistrict_id, building_id, seq, id, kind, amount, ref_kind, ref_id, \
         reverses_seq, cost_review, memo, value_date, posted_by, posted_user_id, posted_at, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(sid)
    .bind(building_id)
    .bind(seq)
    .bind(next_id())
    .bind(p.kind.code())
    .bind(p.amount)
    .bind(ref_kind)
    .bind(ref_id)
    .bind(p.reverses.and_then(|s| i64::try_from(s).ok()))
    .bind(&p.cost_review)
    .bind(&p.memo)
    .bind(&p.value_date)
    .bind(&p.posted_by)
    .bind(actor.user_id)
    .bind(p.posted_at_ms)
    .bind(p.prev_hash.hex())
    .bind(p.hash.hex())
    .execute(&mut **tx)
    .await
    .map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
    // Lines in chunks of 200 rows (6 parameters each), well under both engines' limits.
    for (c, chunk) in p.lines.chunks(200).enumerate() {
        let mut sql = String::from(
            "INSERT INTO fund_lines (subdistrict_id, building_id, seq, n, room_id, amount) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 6;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            ));
        }
        let mut q = sqlx::query(&sql);
        for (i, l) in chunk.iter().enumerate() {
            q = q
                .bind(sid)
                .bind(building_id)
                .bind(seq)
                .bind(i64::try_from(c * 200 + i).unwrap_or(0))
                .bind(l.room_id)
                .bind(l.amount);
        }
        q.execute(&mut **tx).await?;
    }
    for l in &p.lines {
        let first = if first_delta != 0 { l.amount } else { 0 };
        let up = sqlx::query(
            "UPDATE fund_rooms SET balance = balance + $3, first_deposit = first_deposit + $4 \
             WHERE subdistrict_id = $1 AND room_id = $2",
        )
        .bind(sid)
        .bind(l.room_id)
        .bind(l.amount)
        .bind(first)
        .execute(&mut **tx)
        .await?;
        if up.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO fund_rooms (subdistrict_id, room_id, building_id, balance, first_deposit) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(sid)
            .bind(l.room_id)
            .bind(building_id)
            .bind(l.amount)
            .bind(first)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(true)
}

/// An emergency repair approval.
#[derive(Debug, Clone, Serialize)]
pub struct Emergency {
    pub id: i64,
    pub building_id: i64,
    pub approver: String,
    pub reason: String,
    pub approved_on: String,
    pub recorded_at: i64,
    pub used_seq: Option<i64>,
}

fn emergency_from(r: &AnyRow) -> Emergency {
    Emergency {
        id: r.get("id"),
        building_id: r.get("building_id"),
        approver: r.get("approver"),
        reason: r.get("reason"),
        approved_on: r.get("approved_on"),
        recorded_at: r.get("recorded_at"),
        used_seq: opt_i64(r, "used_seq"),
    }
}

const EMERGENCY_COLS: &str =
    "id, building_id, approver, reason, approved_on, recorded_at, used_seq";

pub async fn emergency(db: &Db, sid: i64, id: i64) -> Result<Emergency> {
    let r = sqlx::query(&format!(
        "SELECT {EMERGENCY_COLS} FROM fund_emergencies WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok(emergency_from(&r))
}

pub async fn emergencies(db: &Db, sid: i64, building_id: i64) -> Result<Vec<Emergency>> {
    let rows = sqlx::query(&format!(
        "SELECT {EMERGENCY_COLS} FROM fund_emergencies WHERE subdistrict_id = $1 AND building_id = $2 \
         ORDER BY approved_on DESC, id DESC"
    ))
    .bind(sid)
    .bind(building_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(emergency_from).collect())
}

/// A request to record an emergency approval.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewEmergency {
    pub approver: String,
    pub reason: String,
    pub approved_on: String,
}

/// Records an emergency repair approval (staff of the building).
pub async fn record_emergency(
    db: &Db,
    actor: &Actor,
    building_id: i64,
    n: NewEmergency,
    now: i64,
) -> Result<Emergency> {
    let sid = actor.subdistrict_id;
    let (b, s) = readable(db, actor, building_id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let mut errs = Vec::new();
    let (approver, reason, on) = (n.approver.trim(), n.reason.trim(), n.approved_on.trim());
    if approver.is_empty() || approver.chars().count() > 100 {
        errs.push(FieldError::new(
            "approver",
            Text::new(
                "请填写审批人(1–100 字)",
                "name who approved (1–100 characters)",
            ),
        ));
    }
    if reason.is_empty() || reason.chars().count() > 2000 {
        errs.push(FieldError::new(
            "reason",
            Text::new(
                "请填写应急维修原因",
                "give the reason for the emergency repair",
            ),
        ));
    }
    if !rules::is_date(on) {
        errs.push(FieldError::new(
            "approved_on",
            Text::new("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
        ));
    } else if on > crate::votes::desk::store::local_date(now).as_str() {
        errs.push(FieldError::new(
            "approved_on",
            Text::new(
                "审批日期不能晚于今天",
                "the approval date cannot be in the future",
            ),
        ));
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let id = next_id();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO fund_emergencies (subdistrict_id, id, building_id, approver, reason, approved_on, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(b.id)
    .bind(approver)
    .bind(reason)
    .bind(on)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("fund.emergency", "building", Some(b.id))
            .label(&b.name)
            .after(json!({"id": id, "approver": approver, "reason": reason, "approved_on": on})),
    )
    .await?;
    tx.commit().await?;
    emergency(db, sid, id).await
}

/// One line of a room's statement.
#[derive(Debug, Clone, Serialize)]
pub struct StatementLine {
    pub seq: i64,
    pub kind: Kind,
    pub value_date: String,
    pub memo: String,
    pub amount: i64,
    /// The room's balance after this entry.
    pub balance: i64,
}

/// A room's statement (分户账).
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub room_id: i64,
    pub label: String,
    pub building_id: i64,
    pub building_name: String,
    pub area: i64,
    pub balance: i64,
    pub first_deposit: i64,
    pub low_balance: bool,
    pub lines: Vec<StatementLine>,
}

/// Whether the actor's person is an owner of record of the room.
async fn owns(db: &Db, actor: &Actor, room_id: i64) -> Result<bool> {
    let Some(pid) = actor.person_id else {
        return Ok(false);
    };
    Ok(sqlx::query(
        "SELECT room_id FROM room_owners WHERE subdistrict_id = $1 AND room_id = $2 AND person_id = $3",
    )
    .bind(actor.subdistrict_id)
    .bind(room_id)
    .bind(pid)
    .fetch_optional(db.read())
    .await?
    .is_some())
}

/// A room's statement: its owners (of record, or by an owner grant) and readers of the place.
pub async fn statement(db: &Db, actor: &Actor, room_id: i64) -> Result<Statement> {
    let sid = actor.subdistrict_id;
    let room = tree::room(db, sid, room_id).await?;
    let node = tree::node(db, sid, room.node_id).await?;
    let may = allows(
        actor,
        Action::ReadAccounts,
        Target::Room {
            room_id,
            path: &node.path,
        },
    ) || owns(db, actor, room_id).await?;
    if !may {
        return Err(Error::Forbidden);
    }
    let building = if node.kind == NodeKind::Building {
        node.clone()
    } else {
        let b = tree::ancestors(db, sid, &node.path)
            .await?
            .into_iter()
            .find(|n| n.kind == NodeKind::Building)
            .ok_or(Error::NotFound)?;
        b
    };
    let rows = sqlx::query(
        "SELECT p.seq, p.kind, p.value_date, p.memo, l.amount FROM fund_lines l \
         JOIN fund_postings p ON p.subdistrict_id = l.subdistrict_id AND p.building_id = l.building_id \
         AND p.seq = l.seq WHERE l.subdistrict_id = $1 AND l.room_id = $2 AND l.building_id = $3 \
         ORDER BY l.seq",
    )
    .bind(sid)
    .bind(room_id)
    .bind(building.id)
    .fetch_all(db.read())
    .await?;
    let mut balance = 0i64;
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        let amount: i64 = r.get("amount");
        balance += amount;
        lines.push(StatementLine {
            seq: r.get("seq"),
            kind: Kind::from_code(&r.get::<String, _>("kind")).unwrap_or(Kind::Deposit),
            value_date: r.get("value_date"),
            memo: r.get("memo"),
            amount,
            balance,
        });
    }
    let first = sqlx::query(
        "SELECT first_deposit FROM fund_rooms WHERE subdistrict_id = $1 AND room_id = $2",
    )
    .bind(sid)
    .bind(room_id)
    .fetch_optional(db.read())
    .await?
    .map_or(0, |r| r.get::<i64, _>("first_deposit"));
    let label = if node.kind == NodeKind::Unit {
        format!("{} {}", node.name, room.number)
    } else {
        room.number.clone()
    };
    Ok(Statement {
        room_id,
        label,
        building_id: building.id,
        building_name: building.name.clone(),
        area: area::effective(room.registered_area, room.surveyed_area, room.contract_area)
            .unwrap_or(0),
        balance,
        first_deposit: first,
        low_balance: ledger::low_balance(balance, first),
        lines,
    })
}

/// The building's fund for its export (`export::to_json` writes `redbutler-fund-export/2`;
/// readers of the building).
pub async fn export(db: &Db, actor: &Actor, building_id: i64, now: i64) -> Result<Export> {
    let sid = actor.subdistrict_id;
    let (b, _) = readable(db, actor, building_id).await?;
    let code = code(db, sid).await?;
    let ps = postings(db, sid, b.id).await?;
    let rooms = rooms(db, sid, &b).await?;
    let mut approvals = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &ps {
        let Some(r) = p.reference else { continue };
        if !seen.insert(r) {
            continue;
        }
        approvals.push(match r {
            Reference::Vote(id) => {
                let v = crate::votes::desk::store::vote(db, sid, id).await?;
                Approval {
                    reference: r,
                    title: v.title.clone(),
                    date: v
                        .closed_at
                        .map(crate::votes::desk::store::local_date)
                        .unwrap_or_default(),
                }
            }
            Reference::Emergency(id) => {
                let e = emergency(db, sid, id).await?;
                Approval {
                    reference: r,
                    title: format!("{}({})", e.reason, e.approver),
                    date: e.approved_on,
                }
            }
        });
    }
    let mut x = export::seal(
        FundHeader {
            subdistrict_code: code.clone(),
            building_id: b.id,
            building_name: b.name.clone(),
            genesis_hash: chain::genesis(&code, b.id),
            exported_at_ms: now,
        },
        rooms
            .iter()
            .map(|r| (r.room_id, r.label.clone(), r.area))
            .collect(),
        approvals,
        ps,
    );
    // State what the database holds, not the replay: verify then compares the two.
    let by_room: HashMap<i64, &RoomAccount> = rooms.iter().map(|r| (r.room_id, r)).collect();
    for r in &mut x.rooms {
        if let Some(s) = by_room.get(&r.room_id) {
            r.balance = s.balance;
            r.first_deposit = s.first_deposit;
        }
    }
    let f = fund(db, sid, &b).await?;
    x.balance = f.balance;
    x.first_deposit_total = f.first_deposit_total;
    x.low_balance = f.low_balance;
    if let Some(h) = Hash32::parse(&f.head_hash) {
        x.head_hash = h;
    }
    Ok(x)
}

/// A half-yearly publication.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    pub id: i64,
    pub building_id: i64,
    pub period: String,
    pub through_seq: i64,
    pub head_hash: String,
    pub balance: i64,
    pub first_deposit_total: i64,
    pub notice: String,
    pub published_at: i64,
}

const PUBLICATION_COLS: &str =
    "id, building_id, period, through_seq, head_hash, balance, first_deposit_total, notice, published_at";

fn publication_from(r: &AnyRow) -> Publication {
    Publication {
        id: r.get("id"),
        building_id: r.get("building_id"),
        period: r.get("period"),
        through_seq: r.get("through_seq"),
        head_hash: r.get("head_hash"),
        balance: r.get("balance"),
        first_deposit_total: r.get("first_deposit_total"),
        notice: r.get("notice"),
        published_at: r.get("published_at"),
    }
}

/// A building's publications, newest first.
pub async fn publications(db: &Db, sid: i64, building_id: i64) -> Result<Vec<Publication>> {
    let rows = sqlx::query(&format!(
        "SELECT {PUBLICATION_COLS} FROM fund_publications WHERE subdistrict_id = $1 AND building_id = $2 \
         ORDER BY period DESC"
    ))
    .bind(sid)
    .bind(building_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(publication_from).collect())
}

/// Whether the actor owns a room under `path`: by an owner grant for a room there, or as an
/// owner of record (`room_owners`) through their person. The one test of "an owner of this
/// estate" for the fund, the public income account and the audit reports.
pub(crate) async fn owns_under(db: &Db, actor: &Actor, path: &str) -> Result<bool> {
    let by_grant = actor.grants.iter().any(|g| {
        g.role == crate::access::Role::Owner
            && g.room_id.is_some()
            && !g.path.is_empty()
            && crate::tree::model::within(&g.path, path)
    });
    if by_grant {
        return Ok(true);
    }
    let Some(pid) = actor.person_id else {
        return Ok(false);
    };
    let end = crate::cases::web::subtree_end(path);
    Ok(sqlx::query(
        "SELECT o.room_id FROM room_owners o JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE o.subdistrict_id = $1 AND o.person_id = $2 AND n.path >= $3 AND n.path < $4 LIMIT 1",
    )
    .bind(actor.subdistrict_id)
    .bind(pid)
    .bind(path)
    .bind(&end)
    .fetch_optional(db.read())
    .await?
    .is_some())
}

/// One publication with its XLSX: for readers of the building and the owners of its rooms
/// (publication is to the owners).
pub async fn publication(db: &Db, actor: &Actor, id: i64) -> Result<(Publication, Vec<u8>)> {
    let sid = actor.subdistrict_id;
    let r = sqlx::query(&format!(
        "SELECT {PUBLICATION_COLS}, xlsx FROM fund_publications WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    let p = publication_from(&r);
    let b = building(db, sid, p.building_id).await?;
    if !standing(actor, &b.path).reader && !owns_under(db, actor, &b.path).await? {
        return Err(Error::Forbidden);
    }
    Ok((p, r.get::<Vec<u8>, _>("xlsx")))
}

/// Publishes the building's accounts for a half-year (`2026-H1`; default: the current one):
/// the notice and the XLSX, fixed at the chain head of this moment. Once per period (409).
pub async fn publish(
    db: &Db,
    actor: &Actor,
    building_id: i64,
    period: Option<&str>,
    now: i64,
) -> Result<Publication> {
    let sid = actor.subdistrict_id;
    let (b, s) = readable(db, actor, building_id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let today = crate::votes::desk::store::local_date(now);
    let period = match period.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) if rules::is_period(p) => p.to_owned(),
        Some(_) => {
            return Err(Error::field(
                "period",
                Text::new(
                    "期间格式应为 2026-H1 或 2026-H2",
                    "a period is 2026-H1 or 2026-H2",
                ),
            ))
        }
        None => rules::half_year(&today).unwrap_or_default(),
    };
    let f = fund(db, sid, &b).await?;
    let rooms = rooms(db, sid, &b).await?;
    let ps = postings(db, sid, b.id).await?;
    let notice = super::publish::notice(&f, &rooms, &period, &today);
    let file = super::publish::xlsx(&f, &rooms, &ps, &period)?;
    let id = next_id();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO fund_publications (subdistrict_id, id, building_id, period, through_seq, head_hash, \
         balance, first_deposit_total, notice, xlsx, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(sid)
    .bind(id)
    .bind(b.id)
    .bind(&period)
    .bind(f.seq)
    .bind(&f.head_hash)
    .bind(f.balance)
    .bind(f.first_deposit_total)
    .bind(&notice)
    .bind(file)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await;
    match done {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::Conflict(Text::owned(
                format!("{period} 的账目已公示过"),
                format!("the accounts of {period} have been published already"),
            )))
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        actor,
        Change::new("fund.publish", "building", Some(b.id))
            .label(&b.name)
            .after(
                json!({"id": id, "period": period, "through_seq": f.seq, "head_hash": f.head_hash}),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(Publication {
        id,
        building_id: b.id,
        period,
        through_seq: f.seq,
        head_hash: f.head_hash,
        balance: f.balance,
        first_deposit_total: f.first_deposit_total,
        notice,
        published_at: now,
    })
}
