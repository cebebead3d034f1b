//! Public income storage (migration 23): the account head per estate, the entries on their
//! chain, the fund shares of top-ups, the quarterly publications. Every write checks the actor
//! first, then runs as one transaction with its audit entry; an entry locks its account's head
//! row and moves it conditionally, so two entries racing for one account serialise and the
//! second is checked against the balance the first left. A top-up posts to every building fund
//! of the estate in the same transaction. `now` comes in as a parameter.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::chain::{self, Sealed};
use super::rules::{self, DecisionFacts, Flow, Kind, Quarter, Refusal, Source, Undone, VoteFacts};
use super::schedule::{self, Flag, Period};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::property::fund::apportion::{apportion, Weight};
use crate::property::fund::chain::Hash32;
use crate::property::fund::store::{self as fund, owns_under};
use crate::storage::{is_unique_violation, next_id, opt_i64, Db, Tx};
use crate::tree::{store as tree, NodeKind};
use crate::votes::tally::Outcome;

/// One entry of an estate's public income account.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub estate_id: i64,
    pub seq: i64,
    pub kind: Kind,
    /// Income: where it came from.
    pub source: Option<Source>,
    /// Positive fen.
    pub amount: i64,
    /// The signed change of the balance.
    pub effect: i64,
    /// Income: the payer (advertiser, parking operator, venue hirer…).
    pub counterparty: String,
    /// Income: the contract or note; an expense: its purpose; a top-up: its memo; a
    /// reversal: its reason.
    pub note: String,
    /// An expense's authority: an approved owners' vote…
    pub vote_id: Option<i64>,
    /// …or a recorded decision of the owners' committee (`committee_activities.id`).
    pub decision_id: Option<i64>,
    /// A top-up: the quarter it is for (`2026Q3`).
    pub for_quarter: Option<String>,
    /// A reversal: the seq it undoes.
    pub reverses: Option<i64>,
    /// `YYYY-MM-DD`, Shanghai; decides the quarter.
    pub value_date: String,
    pub quarter: String,
    pub posted_by: String,
    pub posted_at: i64,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    fn sealed(&self) -> Option<(Sealed<'_>, Hash32)> {
        Some((
            Sealed {
                seq: u64::try_from(self.seq).ok()?,
                kind: self.kind.code(),
                source: self.source.map_or("", Source::code),
                amount: self.amount,
                effect: self.effect,
                counterparty: &self.counterparty,
                note: &self.note,
                vote_id: self.vote_id,
                decision_id: self.decision_id,
                for_quarter: self.for_quarter.as_deref().unwrap_or(""),
                reverses: self.reverses,
                value_date: &self.value_date,
                posted_by: &self.posted_by,
                posted_at_ms: self.posted_at,
                prev_hash: Hash32::parse(&self.prev_hash)?,
            },
            Hash32::parse(&self.hash)?,
        ))
    }

    fn flow(&self) -> Option<Flow> {
        Some(Flow {
            seq: u64::try_from(self.seq).ok()?,
            kind: self.kind,
            amount: self.amount,
            quarter: Period::parse(&self.quarter)?,
            for_quarter: self.for_quarter.as_deref().and_then(Period::parse),
            reverses: self.reverses.and_then(|s| u64::try_from(s).ok()),
        })
    }
}

/// An estate's account as lists and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub estate_id: i64,
    pub estate_name: String,
    pub estate_path: String,
    pub estate_kind: NodeKind,
    pub seq: i64,
    pub balance: i64,
    pub head_hash: String,
}

/// What the actor may do with an estate's account.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Standing {
    /// Posts entries and publishes (`EditRegistry` at the estate).
    pub staff: bool,
    /// Reads the running account (`ReadTree` at the estate).
    pub reader: bool,
    /// Owns a room under the estate: reads the publications.
    pub owner: bool,
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("{what}: {e}"))
}

/// The estate node (a community, grid or building); 404 otherwise.
pub async fn estate(db: &Db, sid: i64, id: i64) -> Result<tree::Node> {
    let n = tree::node(db, sid, id).await?;
    if !matches!(
        n.kind,
        NodeKind::Community | NodeKind::Grid | NodeKind::Building
    ) {
        return Err(Error::NotFound);
    }
    Ok(n)
}

/// What the actor is for the estate.
pub async fn standing(db: &Db, actor: &Actor, e: &tree::Node) -> Result<Standing> {
    let place = Target::Node { path: &e.path };
    let staff = allows(actor, Action::EditRegistry, place);
    let reader = allows(actor, Action::ReadAccounts, place);
    let owner = if staff || reader {
        false
    } else {
        owns_under(db, actor, &e.path).await?
    };
    Ok(Standing {
        staff,
        reader,
        owner,
    })
}

/// The estate and the actor's standing, for the running account: 403 unless staff or reader.
pub async fn readable(db: &Db, actor: &Actor, id: i64) -> Result<(tree::Node, Standing)> {
    let e = estate(db, actor.subdistrict_id, id).await?;
    let s = standing(db, actor, &e).await?;
    if !s.reader && !s.staff {
        return Err(Error::Forbidden);
    }
    Ok((e, s))
}

async fn code(db: &Db, sid: i64) -> Result<String> {
    Ok(tree::subdistrict(db, sid).await?.code)
}

/// The account's figures (no access check; an estate without entries shows 0).
pub async fn account(db: &Db, sid: i64, e: &tree::Node) -> Result<Account> {
    let head = sqlx::query(
        "SELECT seq, balance, head_hash FROM income_heads WHERE subdistrict_id = $1 AND estate_id = $2",
    )
    .bind(sid)
    .bind(e.id)
    .fetch_optional(db.read())
    .await?;
    let (seq, balance, hash) = match head {
        Some(r) => (r.get("seq"), r.get("balance"), r.get("head_hash")),
        None => (0, 0, chain::genesis(&code(db, sid).await?, e.id).hex()),
    };
    Ok(Account {
        estate_id: e.id,
        estate_name: e.name.clone(),
        estate_path: e.path.clone(),
        estate_kind: e.kind,
        seq,
        balance,
        head_hash: hash,
    })
}

const ENTRY_COLS: &str = "id, estate_id, seq, kind, source, amount, effect, counterparty, note, \
     vote_id, decision_id, for_quarter, reverses_seq, value_date, quarter, posted_by, posted_at, \
     prev_hash, hash";

fn entry_from(r: &AnyRow) -> Result<Entry> {
    let fq: String = r.get("for_quarter");
    Ok(Entry {
        id: r.get("id"),
        estate_id: r.get("estate_id"),
        seq: r.get("seq"),
        kind: Kind::from_code(&r.get::<String, _>("kind"))
            .ok_or_else(|| internal("income kind", "unknown"))?,
        source: Source::from_code(&r.get::<String, _>("source")),
        amount: r.get("amount"),
        effect: r.get("effect"),
        counterparty: r.get("counterparty"),
        note: r.get("note"),
        vote_id: opt_i64(r, "vote_id"),
        decision_id: opt_i64(r, "decision_id"),
        for_quarter: Some(fq).filter(|s| !s.is_empty()),
        reverses: opt_i64(r, "reverses_seq"),
        value_date: r.get("value_date"),
        quarter: r.get("quarter"),
        posted_by: r.get("posted_by"),
        posted_at: r.get("posted_at"),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    })
}

/// Every entry of an estate's account in chain order (no access check).
pub async fn entries(db: &Db, sid: i64, estate_id: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM income_entries WHERE subdistrict_id = $1 AND estate_id = $2 ORDER BY seq"
    ))
    .bind(sid)
    .bind(estate_id)
    .fetch_all(db.read())
    .await?;
    rows.iter().map(entry_from).collect()
}

/// The entries of an estate's account whose value dates lie in `from..=to` (`YYYY-MM-DD`,
/// both inclusive), in chain order. No access check: the caller checks (the audit
/// engagements call it).
pub async fn entries_between(
    db: &Db,
    sid: i64,
    estate_id: i64,
    from: &str,
    to: &str,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM income_entries WHERE subdistrict_id = $1 AND estate_id = $2 \
         AND value_date >= $3 AND value_date <= $4 ORDER BY seq"
    ))
    .bind(sid)
    .bind(estate_id)
    .bind(from.trim())
    .bind(to.trim())
    .fetch_all(db.read())
    .await?;
    rows.iter().map(entry_from).collect()
}

/// The quarters' figures of an account's entries.
pub fn quarters_of(entries: &[Entry]) -> Vec<Quarter> {
    let flows: Vec<Flow> = entries.iter().filter_map(Entry::flow).collect();
    rules::quarters(&flows)
}

/// The figures of one quarter (zeros when it has no entries).
pub fn quarter_of(entries: &[Entry], quarter: &str) -> Quarter {
    quarters_of(entries)
        .into_iter()
        .find(|q| q.quarter == quarter)
        .unwrap_or(Quarter {
            quarter: quarter.to_owned(),
            income: 0,
            expense: 0,
            top_up: 0,
            compliant: true,
            shortfall: 0,
        })
}

/// Re-checks an account's chain from its genesis: the head hash, or where it breaks.
pub async fn verify(
    db: &Db,
    sid: i64,
    estate_id: i64,
) -> Result<std::result::Result<Hash32, chain::Break>> {
    let es = entries(db, sid, estate_id).await?;
    let g = chain::genesis(&code(db, sid).await?, estate_id);
    let mut sealed = Vec::with_capacity(es.len());
    for (at, e) in es.iter().enumerate() {
        match e.sealed() {
            Some(s) => sealed.push(s),
            None => return Ok(Err(chain::Break { at, what: "hash" })),
        }
    }
    Ok(chain::check(g, &sealed))
}

/// One building's share of a top-up.
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub building_id: i64,
    pub building_name: String,
    /// The area that counts of its rooms, hundredths of m².
    pub area: i64,
    pub rooms: usize,
    /// Fen.
    pub amount: i64,
}

/// The buildings of the estate (the estate itself when it is one) with their rooms' area.
pub async fn buildings(db: &Db, sid: i64, e: &tree::Node) -> Result<Vec<(tree::Node, i64, usize)>> {
    let nodes = if e.kind == NodeKind::Building {
        vec![e.clone()]
    } else {
        let end = crate::cases::web::subtree_end(&e.path);
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM nodes WHERE subdistrict_id = $1 AND kind = 'building' AND path >= $2 AND path < $3 \
             ORDER BY path",
        )
        .bind(sid)
        .bind(&e.path)
        .bind(&end)
        .fetch_all(db.read())
        .await?
        .iter()
        .map(|r| r.get::<i64, _>("id"))
        .collect();
        let mut v = Vec::with_capacity(ids.len());
        for id in ids {
            v.push(tree::node(db, sid, id).await?);
        }
        v
    };
    let mut out = Vec::with_capacity(nodes.len());
    for b in nodes {
        let rooms = fund::rooms(db, sid, &b).await?;
        let area: i64 = rooms.iter().map(|r| r.area).sum();
        out.push((b, area, rooms.len()));
    }
    Ok(out)
}

/// How a top-up of `amount` fen is shared over the estate's building funds: by area, to the
/// fen, largest remainder (as `fund::apportion` shares over rooms).
pub async fn shares(db: &Db, sid: i64, e: &tree::Node, amount: i64) -> Result<Vec<Share>> {
    let bs = buildings(db, sid, e).await?;
    if bs.is_empty() {
        return Err(Error::field(
            "amount",
            Text::new(
                "本小区没有楼栋,无法补充维修资金",
                "the estate has no buildings whose funds could be topped up",
            ),
        ));
    }
    let weights: Vec<Weight> = bs
        .iter()
        .map(|(b, area, _)| Weight {
            room_id: b.id,
            weight: *area,
        })
        .collect();
    let parts = apportion(amount, &weights).map_err(|t| Error::field("amount", t))?;
    Ok(bs
        .into_iter()
        .zip(parts)
        .map(|((b, area, rooms), amount)| Share {
            building_id: b.id,
            building_name: b.name,
            area,
            rooms,
            amount,
        })
        .collect())
}

/// A request for an entry, from a form or the API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NewEntry {
    /// `income`, `expense`, `top_up` or `reversal`.
    pub kind: String,
    /// Income: `advertising`, `parking`, `venue` or `other`.
    #[serde(default)]
    pub source: String,
    /// Positive fen (not for reversals).
    #[serde(default)]
    pub amount: i64,
    /// Income: the payer.
    #[serde(default)]
    pub counterparty: String,
    /// Income: the contract or note; expense: the purpose; reversal: the reason.
    #[serde(default)]
    pub note: String,
    /// Expense: an approved owners' vote (matter 8 or 9)…
    #[serde(default)]
    pub vote_id: Option<i64>,
    /// …or a recorded decision of the estate's owners' committee.
    #[serde(default)]
    pub decision_id: Option<i64>,
    /// Top-up: the quarter it is for (default: the value date's).
    #[serde(default)]
    pub for_quarter: Option<String>,
    /// Reversal: the seq undone.
    #[serde(default)]
    pub reverses: Option<i64>,
    /// `YYYY-MM-DD`; default today in Shanghai; not in the future.
    #[serde(default)]
    pub value_date: Option<String>,
}

fn field_of(code: &'static str) -> &'static str {
    match code {
        "short" | "already_reversed" => "amount",
        c => c,
    }
}

fn refused(r: Refusal) -> Error {
    match r.code {
        "short" | "already_reversed" => Error::Conflict(r.text),
        c => Error::Invalid(vec![FieldError::new(field_of(c), r.text)]),
    }
}

/// What was checked before the transaction.
struct Checked {
    kind: Kind,
    source: Option<Source>,
    amount: i64,
    counterparty: String,
    note: String,
    vote_id: Option<i64>,
    decision_id: Option<i64>,
    for_quarter: Option<Period>,
    reverses: Option<i64>,
    value_date: String,
    shares: Vec<Share>,
    /// The building nodes of `shares`, in the same order.
    nodes: Vec<tree::Node>,
}

fn text_field(
    errs: &mut Vec<FieldError>,
    field: &'static str,
    v: &str,
    max: usize,
    needed: Option<Text>,
) -> String {
    let v = v.trim();
    if v.chars().count() > max {
        errs.push(FieldError::new(
            field,
            Text::owned(
                format!("不超过 {max} 字"),
                format!("at most {max} characters"),
            ),
        ));
    } else if v.is_empty() {
        if let Some(t) = needed {
            errs.push(FieldError::new(field, t));
        }
    }
    v.to_owned()
}

async fn precheck(
    db: &Db,
    actor: &Actor,
    e: &tree::Node,
    n: &NewEntry,
    now: i64,
) -> Result<Checked> {
    let sid = actor.subdistrict_id;
    let mut errs = Vec::new();
    let kind = Kind::from_code(&n.kind);
    if kind.is_none() {
        errs.push(FieldError::new(
            "kind",
            Text::new("未知的分录类型", "unknown entry kind"),
        ));
    }
    let today = crate::votes::desk::store::local_date(now);
    let value_date = match n
        .value_date
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => today.clone(),
        Some(d) if Period::quarter_of(d).is_none() => {
            errs.push(FieldError::new(
                "value_date",
                Text::new("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
            ));
            today.clone()
        }
        Some(d) if d > today.as_str() => {
            errs.push(FieldError::new(
                "value_date",
                Text::new("日期不能晚于今天", "the date cannot be in the future"),
            ));
            today.clone()
        }
        Some(d) => d.to_owned(),
    };
    let Some(kind) = kind else {
        return Err(Error::Invalid(errs));
    };
    if kind != Kind::Reversal {
        if let Err(r) = rules::check_amount(n.amount) {
            errs.push(FieldError::new("amount", r.text));
        }
    }
    let mut source = None;
    let mut counterparty = String::new();
    let mut vote_id = None;
    let mut decision_id = None;
    let mut for_quarter = None;
    let mut reverses = None;
    let note;
    match kind {
        Kind::Income => {
            source = Source::from_code(&n.source);
            if source.is_none() {
                errs.push(FieldError::new(
                    "source",
                    Text::new(
                        "请选择收入来源(广告、停车、场地或其他)",
                        "choose the source (advertising, parking, venue or other)",
                    ),
                ));
            }
            counterparty = text_field(
                &mut errs,
                "counterparty",
                &n.counterparty,
                200,
                Some(Text::new("请填写付款方", "name the payer")),
            );
            note = text_field(
                &mut errs,
                "note",
                &n.note,
                2000,
                Some(Text::new(
                    "请填写合同编号或说明",
                    "give the contract or a note",
                )),
            );
        }
        Kind::Expense => {
            note = text_field(
                &mut errs,
                "note",
                &n.note,
                2000,
                Some(Text::new(
                    "请写明支出用途",
                    "state the purpose of the expense",
                )),
            );
            counterparty = text_field(&mut errs, "counterparty", &n.counterparty, 200, None);
            match (n.vote_id, n.decision_id) {
                (Some(_), Some(_)) => errs.push(FieldError::new(
                    "vote_id",
                    Text::new(
                        "业主表决与业委会决定只能择一",
                        "name a vote or a committee decision, not both",
                    ),
                )),
                (None, None) => errs.push(FieldError::new(
                    "vote_id",
                    Text::new(
                        "公共收益的使用须经业主大会表决通过或业委会决定,请填写表决或决定编号",
                        "using public income needs an approved owners' vote or a recorded committee decision: name one",
                    ),
                )),
                (Some(v), None) => match crate::votes::desk::store::vote(db, sid, v).await {
                    Ok(vote) => {
                        let approved = vote
                            .result
                            .as_ref()
                            .is_some_and(|t| t.outcome == Outcome::Approved);
                        match rules::vote_authorises(
                            &VoteFacts {
                                matter: vote.matter,
                                status: &vote.status,
                                approved,
                                scope_path: &vote.scope_path,
                            },
                            &e.path,
                        ) {
                            Ok(()) => vote_id = Some(v),
                            Err(r) => errs.push(FieldError::new("vote_id", r.text)),
                        }
                    }
                    Err(Error::NotFound) => errs.push(FieldError::new(
                        "vote_id",
                        Text::new("表决不存在", "no such vote"),
                    )),
                    Err(err) => return Err(err),
                },
                (None, Some(d)) => {
                    let row = sqlx::query(
                        "SELECT a.kind, a.held_on, c.node_path FROM committee_activities a \
                         JOIN owners_committees c ON c.subdistrict_id = a.subdistrict_id AND c.id = a.committee_id \
                         WHERE a.subdistrict_id = $1 AND a.id = $2",
                    )
                    .bind(sid)
                    .bind(d)
                    .fetch_optional(db.read())
                    .await?;
                    match row {
                        None => errs.push(FieldError::new(
                            "decision_id",
                            Text::new("业委会决定不存在", "no such committee decision"),
                        )),
                        Some(r) => {
                            let (k, on, path): (String, String, String) =
                                (r.get("kind"), r.get("held_on"), r.get("node_path"));
                            match rules::decision_authorises(
                                &DecisionFacts {
                                    kind: &k,
                                    committee_path: &path,
                                    held_on: &on,
                                },
                                &e.path,
                                &value_date,
                            ) {
                                Ok(()) => decision_id = Some(d),
                                Err(r) => errs.push(FieldError::new("decision_id", r.text)),
                            }
                        }
                    }
                }
            }
        }
        Kind::TopUp => {
            note = text_field(&mut errs, "note", &n.note, 2000, None);
            let fq = n
                .for_quarter
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .or_else(|| Period::quarter_of(&value_date).map(Period::code))
                .unwrap_or_default();
            match rules::check_for_quarter(&fq, &value_date) {
                Ok(p) => for_quarter = Some(p),
                Err(r) => errs.push(FieldError::new("for_quarter", r.text)),
            }
        }
        Kind::Reversal => {
            note = text_field(
                &mut errs,
                "note",
                &n.note,
                2000,
                Some(Text::new("冲正须写明原因", "a reversal needs its reason")),
            );
            match n.reverses {
                Some(s) if s > 0 => reverses = Some(s),
                _ => errs.push(FieldError::new(
                    "reverses",
                    Text::new("请填写被冲正的分录编号", "name the entry to reverse (#)"),
                )),
            }
        }
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let (shares, nodes) = if kind == Kind::TopUp {
        let sh = shares(db, sid, e, n.amount).await?;
        let mut nodes = Vec::with_capacity(sh.len());
        for x in &sh {
            nodes.push(tree::node(db, sid, x.building_id).await?);
        }
        (sh, nodes)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Checked {
        kind,
        source,
        amount: n.amount,
        counterparty,
        note,
        vote_id,
        decision_id,
        for_quarter,
        reverses,
        value_date,
        shares,
        nodes,
    })
}

/// A top-up's (or its reversal's) posting on one building fund.
#[derive(Debug, Clone, Serialize)]
pub struct FundPart {
    pub entry_id: i64,
    pub building_id: i64,
    pub fund_seq: i64,
    pub amount: i64,
}

/// The fund postings made by an entry.
pub async fn fund_parts(db: &Db, sid: i64, entry_id: i64) -> Result<Vec<FundPart>> {
    let rows = sqlx::query(
        "SELECT entry_id, building_id, fund_seq, amount FROM income_fund_parts \
         WHERE subdistrict_id = $1 AND entry_id = $2 ORDER BY building_id",
    )
    .bind(sid)
    .bind(entry_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| FundPart {
            entry_id: r.get("entry_id"),
            building_id: r.get("building_id"),
            fund_seq: r.get("fund_seq"),
            amount: r.get("amount"),
        })
        .collect())
}

/// Posts one entry (staff of the estate). A top-up posts its share on every building fund of
/// the estate in the same transaction; reversing a top-up reverses those postings.
pub async fn post(db: &Db, actor: &Actor, estate_id: i64, n: NewEntry, now: i64) -> Result<Entry> {
    let sid = actor.subdistrict_id;
    let (e, s) = readable(db, actor, estate_id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let c = precheck(db, actor, &e, &n, now).await?;
    let code = code(db, sid).await?;
    let genesis = chain::genesis(&code, e.id);
    for _attempt in 0..8 {
        let mut tx = db.begin().await?;
        match append(&mut tx, actor, &e, &code, genesis, &c, now).await? {
            Some(entry) => {
                tx.commit().await?;
                return Ok(entry);
            }
            None => continue,
        }
    }
    Err(Error::Conflict(Text::new(
        "同时记账的人太多,请稍后重试",
        "too many entries at once; please try again",
    )))
}

async fn undone_in(
    tx: &mut Tx,
    sid: i64,
    estate_id: i64,
    seq: i64,
) -> Result<Option<(Entry, bool)>> {
    let Some(r) = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM income_entries WHERE subdistrict_id = $1 AND estate_id = $2 AND seq = $3"
    ))
    .bind(sid)
    .bind(estate_id)
    .bind(seq)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let reversed = sqlx::query(
        "SELECT seq FROM income_entries WHERE subdistrict_id = $1 AND estate_id = $2 AND reverses_seq = $3",
    )
    .bind(sid)
    .bind(estate_id)
    .bind(seq)
    .fetch_optional(&mut **tx)
    .await?
    .is_some();
    Ok(Some((entry_from(&r)?, reversed)))
}

/// One attempt inside a transaction; `None` when the head moved meanwhile.
async fn append(
    tx: &mut Tx,
    actor: &Actor,
    e: &tree::Node,
    code: &str,
    genesis: Hash32,
    c: &Checked,
    now: i64,
) -> Result<Option<Entry>> {
    let sid = actor.subdistrict_id;
    let locked = sqlx::query(
        "UPDATE income_heads SET seq = seq WHERE subdistrict_id = $1 AND estate_id = $2",
    )
    .bind(sid)
    .bind(e.id)
    .execute(&mut **tx)
    .await?;
    if locked.rows_affected() == 0 {
        let made = sqlx::query(
            "INSERT INTO income_heads (subdistrict_id, estate_id, estate_path, genesis_hash, head_hash, seq, \
             balance, created_at) VALUES ($1, $2, $3, $4, $4, 0, 0, $5)",
        )
        .bind(sid)
        .bind(e.id)
        .bind(&e.path)
        .bind(genesis.hex())
        .bind(now)
        .execute(&mut **tx)
        .await;
        match made {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => return Ok(None),
            Err(err) => return Err(err.into()),
        }
    }
    let head = sqlx::query(
        "SELECT seq, balance, head_hash FROM income_heads WHERE subdistrict_id = $1 AND estate_id = $2",
    )
    .bind(sid)
    .bind(e.id)
    .fetch_one(&mut **tx)
    .await?;
    let last_seq: i64 = head.get("seq");
    let balance: i64 = head.get("balance");
    let old_head: String = head.get("head_hash");
    let prev = Hash32::parse(&old_head).ok_or_else(|| internal("income head", &old_head))?;
    let (amount, effect, undone) = match c.kind {
        Kind::Reversal => {
            let seq = c.reverses.unwrap_or(0);
            let Some((u, reversed)) = undone_in(tx, sid, e.id, seq).await? else {
                return Err(Error::field(
                    "reverses",
                    Text::new("被冲正的分录不存在", "the entry to reverse does not exist"),
                ));
            };
            let effect = rules::reversal_effect(
                &Undone {
                    kind: u.kind,
                    effect: u.effect,
                    already_reversed: reversed,
                },
                &c.note,
            )
            .map_err(refused)?;
            (u.amount, effect, Some(u))
        }
        k => (c.amount, k.sign() * c.amount, None),
    };
    let after = rules::balance_after(balance, effect).map_err(refused)?;
    let seq = last_seq + 1;
    let posted_by = format!("user:{} {}", actor.user_id, actor.display_name);
    let quarter = Period::quarter_of(&c.value_date)
        .map(Period::code)
        .unwrap_or_default();
    let for_quarter = c.for_quarter.map(Period::code).unwrap_or_default();
    let sealed = Sealed {
        seq: u64::try_from(seq).unwrap_or(0),
        kind: c.kind.code(),
        source: c.source.map_or("", Source::code),
        amount,
        effect,
        counterparty: &c.counterparty,
        note: &c.note,
        vote_id: c.vote_id,
        decision_id: c.decision_id,
        for_quarter: &for_quarter,
        reverses: c.reverses,
        value_date: &c.value_date,
        posted_by: &posted_by,
        posted_at_ms: now,
        prev_hash: prev,
    };
    let hash = chain::hash(&sealed);
    let moved = sqlx::query(
        "UPDATE income_heads SET seq = $3, head_hash = $4, balance = $5 \
         WHERE subdistrict_id = $1 AND estate_id = $2 AND seq = $6 AND head_hash = $7",
    )
    .bind(sid)
    .bind(e.id)
    .bind(seq)
    .bind(hash.hex())
    .bind(after)
    .bind(last_seq)
    .bind(&old_head)
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(None);
    }
    let id = next_id();
    let inserted = sqlx::query(&format!(
        "INSERT INTO income_entries (subdistrict_id, {ENTRY_COLS}, posted_user_id) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
    ))
    .bind(sid)
    .bind(id)
    .bind(e.id)
    .bind(seq)
    .bind(c.kind.code())
    .bind(c.source.map_or("", Source::code))
    .bind(amount)
    .bind(effect)
    .bind(&c.counterparty)
    .bind(&c.note)
    .bind(c.vote_id)
    .bind(c.decision_id)
    .bind(&for_quarter)
    .bind(c.reverses)
    .bind(&c.value_date)
    .bind(&quarter)
    .bind(&posted_by)
    .bind(now)
    .bind(prev.hex())
    .bind(hash.hex())
    .bind(actor.user_id)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(Error::Conflict(Text::new(
                "该分录已冲正过",
                "this entry has been reversed already",
            )))
        }
        Err(err) => return Err(err.into()),
    }
    // The fund side: a top-up's shares, or the reversal of a top-up's postings.
    let mut parts: Vec<(tree::Node, i64, Option<u64>)> = Vec::new();
    match (&undone, c.kind) {
        (None, Kind::TopUp) => {
            for (sh, b) in c.shares.iter().zip(&c.nodes).filter(|(s, _)| s.amount > 0) {
                parts.push((b.clone(), sh.amount, None));
            }
        }
        (Some(u), Kind::Reversal) if u.kind == Kind::TopUp => {
            let rows = sqlx::query(
                "SELECT p.building_id, p.fund_seq, p.amount, n.name, n.path, n.parent_id, n.depth \
                 FROM income_fund_parts p JOIN nodes n ON n.subdistrict_id = p.subdistrict_id AND n.id = p.building_id \
                 WHERE p.subdistrict_id = $1 AND p.entry_id = $2 ORDER BY p.building_id",
            )
            .bind(sid)
            .bind(u.id)
            .fetch_all(&mut **tx)
            .await?;
            for r in &rows {
                let b = tree::Node {
                    id: r.get("building_id"),
                    parent_id: opt_i64(r, "parent_id"),
                    kind: NodeKind::Building,
                    track: None,
                    name: r.get("name"),
                    code: None,
                    path: r.get("path"),
                    depth: r.get("depth"),
                };
                let fseq = u64::try_from(r.get::<i64, _>("fund_seq")).unwrap_or(0);
                parts.push((b, -r.get::<i64, _>("amount"), Some(fseq)));
            }
        }
        _ => {}
    }
    let memo = match c.kind {
        Kind::TopUp => format!(
            "公共收益补充 {}(公共收益分录 #{seq}){}{}",
            for_quarter,
            if c.note.is_empty() { "" } else { " " },
            c.note
        ),
        _ => format!("冲正公共收益补充(公共收益分录 #{seq}):{}", c.note),
    };
    let mut fund_postings = Vec::new();
    for (b, amount, reverses) in &parts {
        let p = fund::top_up_in(
            tx,
            actor,
            code,
            b,
            amount.abs(),
            *reverses,
            &memo,
            &c.value_date,
            now,
        )
        .await
        .map_err(|err| match err {
            Error::Conflict(t) => Error::Conflict(Text::owned(
                format!("{}:{}", b.name, t.zh),
                format!("{}: {}", b.name, t.en),
            )),
            err => err,
        })?;
        sqlx::query(
            "INSERT INTO income_fund_parts (subdistrict_id, id, entry_id, estate_id, building_id, fund_seq, amount) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(sid)
        .bind(next_id())
        .bind(id)
        .bind(e.id)
        .bind(b.id)
        .bind(i64::try_from(p.seq).unwrap_or(0))
        .bind(*amount)
        .execute(&mut **tx)
        .await?;
        fund_postings.push(json!({"building_id": b.id, "seq": p.seq, "amount": p.amount}));
    }
    audit::record(
        tx,
        actor,
        Change::new("income.post", "node", Some(e.id))
            .label(&e.name)
            .after(json!({
                "id": id, "seq": seq, "kind": c.kind.code(), "source": c.source.map(Source::code),
                "amount": amount, "effect": effect, "vote_id": c.vote_id, "decision_id": c.decision_id,
                "for_quarter": for_quarter, "reverses": c.reverses, "value_date": c.value_date,
                "note": c.note, "hash": hash.hex(), "fund_postings": fund_postings,
            })),
    )
    .await?;
    Ok(Some(Entry {
        id,
        estate_id: e.id,
        seq,
        kind: c.kind,
        source: c.source,
        amount,
        effect,
        counterparty: c.counterparty.clone(),
        note: c.note.clone(),
        vote_id: c.vote_id,
        decision_id: c.decision_id,
        for_quarter: Some(for_quarter).filter(|s| !s.is_empty()),
        reverses: c.reverses,
        value_date: c.value_date.clone(),
        quarter,
        posted_by,
        posted_at: now,
        prev_hash: prev.hex(),
        hash: hash.hex(),
    }))
}

/// A quarterly publication.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    pub id: i64,
    pub estate_id: i64,
    pub quarter: String,
    pub through_seq: i64,
    pub head_hash: String,
    pub balance: i64,
    pub income: i64,
    pub expense: i64,
    pub top_up: i64,
    pub compliant: bool,
    pub shortfall: i64,
    pub notice: String,
    pub published_at: i64,
}

const PUBLICATION_COLS: &str = "id, estate_id, quarter, through_seq, head_hash, balance, income, \
     expense, top_up, compliant, shortfall, notice, published_at";

fn publication_from(r: &AnyRow) -> Publication {
    Publication {
        id: r.get("id"),
        estate_id: r.get("estate_id"),
        quarter: r.get("quarter"),
        through_seq: r.get("through_seq"),
        head_hash: r.get("head_hash"),
        balance: r.get("balance"),
        income: r.get("income"),
        expense: r.get("expense"),
        top_up: r.get("top_up"),
        compliant: r.get::<i64, _>("compliant") != 0,
        shortfall: r.get("shortfall"),
        notice: r.get("notice"),
        published_at: r.get("published_at"),
    }
}

/// An estate's publications, newest quarter first (no access check).
pub async fn publications(db: &Db, sid: i64, estate_id: i64) -> Result<Vec<Publication>> {
    let rows = sqlx::query(&format!(
        "SELECT {PUBLICATION_COLS} FROM income_publications WHERE subdistrict_id = $1 AND estate_id = $2 \
         ORDER BY quarter DESC"
    ))
    .bind(sid)
    .bind(estate_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(publication_from).collect())
}

/// The publications of an estate for someone who may read them: staff, readers and the owners
/// of rooms under the estate (publication is to the owners); 403 for anyone else.
pub async fn notices(
    db: &Db,
    actor: &Actor,
    estate_id: i64,
) -> Result<(tree::Node, Vec<Publication>)> {
    let e = estate(db, actor.subdistrict_id, estate_id).await?;
    let s = standing(db, actor, &e).await?;
    if !s.staff && !s.reader && !s.owner {
        return Err(Error::Forbidden);
    }
    let ps = publications(db, actor.subdistrict_id, e.id).await?;
    Ok((e, ps))
}

/// One publication with its XLSX, for the same people as [`notices`].
pub async fn publication(db: &Db, actor: &Actor, id: i64) -> Result<(Publication, Vec<u8>)> {
    let sid = actor.subdistrict_id;
    let r = sqlx::query(&format!(
        "SELECT {PUBLICATION_COLS}, xlsx FROM income_publications WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    let p = publication_from(&r);
    let e = estate(db, sid, p.estate_id).await?;
    let s = standing(db, actor, &e).await?;
    if !s.staff && !s.reader && !s.owner {
        return Err(Error::Forbidden);
    }
    Ok((p, r.get::<Vec<u8>, _>("xlsx")))
}

/// The users whose persons own a room under `path`.
async fn owner_users(tx: &mut Tx, sid: i64, path: &str) -> Result<Vec<i64>> {
    let end = crate::cases::web::subtree_end(path);
    Ok(sqlx::query(
        "SELECT DISTINCT u.id FROM users u JOIN room_owners o ON o.subdistrict_id = u.subdistrict_id AND o.person_id = u.person_id \
         JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE u.subdistrict_id = $1 AND u.disabled = 0 AND n.path >= $2 AND n.path < $3 ORDER BY u.id",
    )
    .bind(sid)
    .bind(path)
    .bind(&end)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect())
}

/// The entries a quarter's publication lists: those dated in the quarter, and top-ups for it
/// dated later.
pub fn entries_of_quarter<'a>(entries: &'a [Entry], quarter: &str) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| e.quarter == quarter || e.for_quarter.as_deref() == Some(quarter))
        .collect()
}

/// Publishes an ended quarter (`2026Q3`; default: the last ended one): the notice to the owners'
/// inboxes and the XLSX, fixed at the chain head of this moment. Once per quarter (409).
pub async fn publish(
    db: &Db,
    actor: &Actor,
    estate_id: i64,
    quarter: Option<&str>,
    now: i64,
) -> Result<Publication> {
    let sid = actor.subdistrict_id;
    let (e, s) = readable(db, actor, estate_id).await?;
    if !s.staff {
        return Err(Error::Forbidden);
    }
    let today = crate::votes::desk::store::local_date(now);
    let current = Period::quarter_of(&today).ok_or_else(|| internal("today", &today))?;
    let q = match quarter.map(str::trim).filter(|s| !s.is_empty()) {
        None => current.previous(),
        Some(t) => match Period::parse(t) {
            Some(p @ Period::Quarter(..)) => p,
            _ => {
                return Err(Error::field(
                    "quarter",
                    Text::new("季度格式应为 2026Q3", "a quarter is written 2026Q3"),
                ))
            }
        },
    };
    if q >= current {
        return Err(Error::field(
            "quarter",
            Text::owned(
                format!("{} 尚未结束,季度结束后再公示", q.code()),
                format!(
                    "{} has not ended yet; publish it after its last day",
                    q.code()
                ),
            ),
        ));
    }
    let qc = q.code();
    let acc = account(db, sid, &e).await?;
    let all = entries(db, sid, e.id).await?;
    let figures = quarter_of(&all, &qc);
    let listed = entries_of_quarter(&all, &qc);
    let notice = super::publish::notice(&acc, &figures, listed.len(), &today);
    let file = super::publish::xlsx(&acc, &figures, &listed)?;
    let id = next_id();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO income_publications (subdistrict_id, id, estate_id, quarter, through_seq, head_hash, balance, \
         income, expense, top_up, compliant, shortfall, notice, xlsx, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(sid)
    .bind(id)
    .bind(e.id)
    .bind(&qc)
    .bind(acc.seq)
    .bind(&acc.head_hash)
    .bind(acc.balance)
    .bind(figures.income)
    .bind(figures.expense)
    .bind(figures.top_up)
    .bind(i64::from(figures.compliant))
    .bind(figures.shortfall)
    .bind(&notice)
    .bind(file)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await;
    match done {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(Error::Conflict(Text::owned(
                format!("{qc} 的公共收益已公示过"),
                format!("the public income of {qc} has been published already"),
            )))
        }
        Err(err) => return Err(err.into()),
    }
    let users = owner_users(&mut tx, sid, &e.path).await?;
    let (zh, en) = notice.split_once("\n\n").unwrap_or((&notice, &notice));
    let told = crate::notify::store::insert_inbox(
        &mut tx,
        sid,
        &users,
        &crate::notify::Notice {
            kind: "income.published".into(),
            case_id: None,
            title_zh: format!("{} 公共收益公示({qc})", e.name),
            title_en: format!("Public income of {} ({qc})", e.name),
            body_zh: zh.to_owned(),
            body_en: en.to_owned(),
            link: format!("/income/{}/notices", e.id),
        },
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("income.publish", "node", Some(e.id))
            .label(&e.name)
            .after(json!({
                "id": id, "quarter": qc, "through_seq": acc.seq, "head_hash": acc.head_hash,
                "income": figures.income, "top_up": figures.top_up, "compliant": figures.compliant,
                "owners_told": told,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(Publication {
        id,
        estate_id: e.id,
        quarter: qc,
        through_seq: acc.seq,
        head_hash: acc.head_hash,
        balance: acc.balance,
        income: figures.income,
        expense: figures.expense,
        top_up: figures.top_up,
        compliant: figures.compliant,
        shortfall: figures.shortfall,
        notice,
        published_at: now,
    })
}

/// One estate's line on the `/income` list.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub account: Account,
    pub quarter: Quarter,
    /// The last ended quarter's figures (what the compliance flag is about).
    pub last_quarter: Quarter,
    /// The quarterly publication flag.
    pub publication: Option<Flag>,
}

/// The quarterly publication flag of an account on `today`.
pub fn income_flag(entries: &[Entry], pubs: &[Publication], today: &str) -> Option<Flag> {
    let current = Period::quarter_of(today)?;
    let first = entries.iter().map(|e| e.value_date.as_str()).min();
    let published: Vec<String> = pubs.iter().map(|p| p.quarter.clone()).collect();
    schedule::flag(current, first, &published, today)
}

/// An estate's summary (no access check).
pub async fn summary(db: &Db, sid: i64, e: &tree::Node, now: i64) -> Result<Summary> {
    let today = crate::votes::desk::store::local_date(now);
    let current = Period::quarter_of(&today).ok_or_else(|| internal("today", &today))?;
    let acc = account(db, sid, e).await?;
    let all = entries(db, sid, e.id).await?;
    let pubs = publications(db, sid, e.id).await?;
    Ok(Summary {
        quarter: quarter_of(&all, &current.code()),
        last_quarter: quarter_of(&all, &current.previous().code()),
        publication: income_flag(&all, &pubs, &today),
        account: acc,
    })
}

/// The estates whose accounts the actor may read: those with an account, and those with an
/// owners' committee, in tree order.
pub async fn overview(db: &Db, actor: &Actor, now: i64) -> Result<Vec<Summary>> {
    let sid = actor.subdistrict_id;
    let rows = sqlx::query(
        "SELECT estate_id AS id FROM income_heads WHERE subdistrict_id = $1 \
         UNION SELECT node_id AS id FROM owners_committees WHERE subdistrict_id = $1",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let mut nodes = Vec::new();
    for r in &rows {
        let id: i64 = r.get("id");
        let Ok(n) = estate(db, sid, id).await else {
            continue;
        };
        if allows(actor, Action::ReadAccounts, Target::Node { path: &n.path }) {
            nodes.push(n);
        }
    }
    nodes.sort_by(|a, b| a.path.cmp(&b.path));
    nodes.dedup_by_key(|n| n.id);
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes.iter().take(500) {
        out.push(summary(db, sid, n, now).await?);
    }
    Ok(out)
}

/// The estates with publications under which the actor owns a room (the owner's way in).
pub async fn owned_estates(db: &Db, actor: &Actor) -> Result<Vec<tree::Node>> {
    let sid = actor.subdistrict_id;
    let rows =
        sqlx::query("SELECT DISTINCT estate_id FROM income_publications WHERE subdistrict_id = $1")
            .bind(sid)
            .fetch_all(db.read())
            .await?;
    let mut out = Vec::new();
    for r in &rows {
        let Ok(e) = estate(db, sid, r.get::<i64, _>(0)).await else {
            continue;
        };
        if owns_under(db, actor, &e.path).await? {
            out.push(e);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The places where the actor may keep an account (communities, grids, buildings their staff
/// roles reach), for the "open an estate" picker.
pub async fn places(db: &Db, actor: &Actor) -> Result<Vec<(i64, String, i64)>> {
    Ok(crate::property::committees::store::places(db, actor)
        .await?
        .into_iter()
        .map(|(id, _kind, name, depth)| (id, name, depth))
        .collect())
}

/// The fund's half-yearly publication flag of a building on `today` (the fund pages show it).
pub async fn fund_flag(db: &Db, sid: i64, building_id: i64, today: &str) -> Result<Option<Flag>> {
    let first: Option<String> = sqlx::query(
        "SELECT MIN(value_date) AS d FROM fund_postings WHERE subdistrict_id = $1 AND building_id = $2",
    )
    .bind(sid)
    .bind(building_id)
    .fetch_one(db.read())
    .await?
    .try_get::<Option<String>, _>("d")
    .unwrap_or(None);
    let pubs: Vec<String> = fund::publications(db, sid, building_id)
        .await?
        .into_iter()
        .map(|p| p.period)
        .collect();
    let Some(current) = Period::half_of(today) else {
        return Ok(None);
    };
    Ok(schedule::flag(current, first.as_deref(), &pubs, today))
}
