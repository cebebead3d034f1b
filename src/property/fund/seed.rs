//! The demo's maintenance fund (专项维修资金): the buildings of the first few estates with
//! their first deposits about two years ago, yearly interest by balance, a top-up from public
//! income, and on every third building an emergency repair paid within its 7 days — each
//! posting apportioned by the fund's own rules (`rules::plan`), checked by the ledger
//! (`Accounts::check`) and appended to the building's SHA-256 chain (`chain::append`), so the
//! export of a seeded building verifies (`redbutler ledger verify`).
//!
//! The rows are the ones `store::post` writes (heads, postings, lines, room accounts), but
//! written inside the demo's load transaction and in bulk: a building's postings are planned
//! in memory and each table gets its rows in multi-row inserts. The first building is
//! 城中东路311号, so the demo resident's room has a statement.

use std::collections::HashMap;

use serde_json::json;
use sqlx::Row;

use super::chain::{self, NewPosting};
use super::ledger::{Accounts, Kind, Line, Reference};
use super::rules::{self, RoomFacts};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::clock::parse_local_date;
use crate::error::{Error, Result};
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{dialect_of, next_id, opt_i64, Tx};
use crate::tree::area;

/// How many buildings get a fund (in tree order, starting with 城中东路311号's grid).
pub const BUILDINGS: usize = 12;
/// Grids whose buildings are seeded (the first grid of each of the first communities).
const GRIDS: i64 = 3;

const DAY_MS: i64 = 86_400_000;

/// What [`seed_funds`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub buildings: usize,
    pub postings: usize,
    pub lines: usize,
}

/// One posting before planning: what the desk would have typed.
struct Step {
    kind: Kind,
    amount: i64,
    rate: i64,
    days_ago: i64,
    memo: &'static str,
    cost_review: &'static str,
    emergency: bool,
}

fn date_days_ago(now: i64, days: i64) -> String {
    crate::votes::desk::store::local_date(now - days * DAY_MS)
}

/// Writes the funds into subdistrict `sid` inside the caller's transaction. Buildings that
/// already have a fund are skipped.
pub async fn seed_funds(tx: &mut Tx, actor: &Actor, sid: i64, now: i64) -> Result<Seeded> {
    let code: String = sqlx::query("SELECT code FROM subdistricts WHERE subdistrict_id = $1")
        .bind(sid)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    // The first grid of each of the first communities, in tree order.
    let grids: Vec<String> = sqlx::query(
        "SELECT n.path FROM nodes n JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
         WHERE n.subdistrict_id = $1 AND n.kind = 'grid' AND p.kind = 'community' \
         AND n.id = (SELECT MIN(g.id) FROM nodes g WHERE g.subdistrict_id = n.subdistrict_id \
            AND g.parent_id = n.parent_id AND g.kind = 'grid') \
         ORDER BY p.path LIMIT $2",
    )
    .bind(sid)
    .bind(GRIDS)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let mut buildings: Vec<(i64, String, String)> = Vec::new();
    for g in &grids {
        let rows = sqlx::query(
            "SELECT n.id, n.path, n.name FROM nodes n WHERE n.subdistrict_id = $1 AND n.kind = 'building' \
             AND n.path >= $2 AND n.path < $3 \
             AND NOT EXISTS (SELECT 1 FROM fund_heads h WHERE h.subdistrict_id = n.subdistrict_id AND h.building_id = n.id) \
             ORDER BY n.path",
        )
        .bind(sid)
        .bind(g)
        .bind(crate::cases::web::subtree_end(g))
        .fetch_all(&mut **tx)
        .await?;
        buildings.extend(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))));
    }
    // 城中东路311号 first, so the resident's room is always among them.
    if let Some(k) = buildings.iter().position(|b| b.2 == "城中东路311号") {
        let b = buildings.remove(k);
        buildings.insert(0, b);
    }
    buildings.truncate(BUILDINGS);

    let d = dialect_of(tx);
    let mut heads = Inserter::for_db(
        d,
        "fund_heads",
        &[
            "subdistrict_id",
            "building_id",
            "building_path",
            "genesis_hash",
            "head_hash",
            "seq",
            "balance",
            "first_deposit_total",
            "created_at",
        ],
    );
    let mut postings = Inserter::for_db(
        d,
        "fund_postings",
        &[
            "subdistrict_id",
            "building_id",
            "seq",
            "id",
            "kind",
            "amount",
            "ref_kind",
            "ref_id",
            "reverses_seq",
            "cost_review",
            "memo",
            "value_date",
            "posted_by",
            "posted_user_id",
            "posted_at",
            "prev_hash",
            "hash",
        ],
    );
    let mut lines_ins = Inserter::for_db(
        d,
        "fund_lines",
        &[
            "subdistrict_id",
            "building_id",
            "seq",
            "n",
            "room_id",
            "amount",
        ],
    );
    let mut room_ins = Inserter::for_db(
        d,
        "fund_rooms",
        &[
            "subdistrict_id",
            "room_id",
            "building_id",
            "balance",
            "first_deposit",
        ],
    );
    let mut emergencies = Inserter::for_db(
        d,
        "fund_emergencies",
        &[
            "subdistrict_id",
            "id",
            "building_id",
            "approver",
            "reason",
            "approved_on",
            "recorded_by",
            "recorded_at",
            "used_seq",
        ],
    );
    let posted_by = format!("user:{} {}", actor.user_id, actor.display_name);
    let mut out = Seeded::default();
    for (bi, (building_id, path, name)) in buildings.iter().enumerate() {
        let rows = sqlx::query(
            "SELECT r.id, r.registered_area, r.surveyed_area, r.contract_area, n.path FROM rooms r \
             JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
             WHERE r.subdistrict_id = $1 AND n.path >= $2 AND n.path < $3 ORDER BY n.path, r.number, r.id",
        )
        .bind(sid)
        .bind(path)
        .bind(crate::cases::web::subtree_end(path))
        .fetch_all(&mut **tx)
        .await?;
        let mut facts: Vec<RoomFacts> = rows
            .iter()
            .map(|r| RoomFacts {
                room_id: r.get(0),
                area: area::effective(
                    opt_i64(r, "registered_area"),
                    opt_i64(r, "surveyed_area"),
                    opt_i64(r, "contract_area"),
                )
                .unwrap_or(0),
                path: r.get(4),
                balance: 0,
                first_deposit: 0,
            })
            .collect();
        if facts.iter().all(|f| f.area == 0) {
            continue;
        }
        let bi64 = bi as i64;
        // Shanghai's first deposits were set per m² of floor area; vary them per building.
        let rate = 12_000 + 500 * (bi64 % 6);
        let mut plan = vec![
            Step {
                kind: Kind::FirstDeposit,
                amount: 0,
                rate,
                days_ago: 700 - 3 * bi64,
                memo: "首期归集",
                cost_review: "",
                emergency: false,
            },
            Step {
                kind: Kind::Interest,
                amount: 0,
                rate: 0,
                days_ago: 520,
                memo: "存款利息(年度结息)",
                cost_review: "",
                emergency: false,
            },
            Step {
                kind: Kind::TopUp,
                amount: 180_000 + 25_000 * (bi64 % 5),
                rate: 0,
                days_ago: 380 - bi64,
                memo: "公共收益转入(停车及广告收益)",
                cost_review: "",
                emergency: false,
            },
        ];
        if bi % 3 == 0 {
            plan.push(Step {
                kind: Kind::Withdrawal,
                amount: 2_860_000 + 137_500 * (bi64 % 4),
                rate: 0,
                days_ago: 240 - 5 * bi64,
                memo: "二次供水水泵故障应急维修",
                cost_review: "应急维修审价单(街道房管办复核)",
                emergency: true,
            });
        }
        plan.push(Step {
            kind: Kind::Interest,
            amount: 0,
            rate: 0,
            days_ago: 155,
            memo: "存款利息(半年结息)",
            cost_review: "",
            emergency: false,
        });

        let mut acc = Accounts::new(facts.iter().map(|f| f.room_id).collect());
        let mut prev = chain::genesis(&code, *building_id);
        let genesis = prev;
        let mut seq = 0u64;
        let mut first_total = 0i64;
        for s in &plan {
            let value_date = date_days_ago(now, s.days_ago);
            let posted_at = parse_local_date(&value_date).unwrap_or(now) + 10 * 3_600_000;
            // Interest at 1.35 % a year on the balance (half a year: half of it).
            let total: i64 = facts.iter().map(|f| f.balance).sum();
            let amount = match (s.kind, s.memo.contains("半年")) {
                (Kind::Interest, false) => total * 135 / 10_000,
                (Kind::Interest, true) => total * 135 / 20_000,
                // A repair never takes more than a fifth of what the building holds.
                (Kind::Withdrawal, _) => s.amount.min(total / 5),
                _ => s.amount,
            };
            let lines: Vec<Line> =
                rules::plan(s.kind, amount, s.rate, path, &facts).map_err(|t| {
                    Error::Internal(anyhow::anyhow!("demo fund plan for {name}: {}", t.en))
                })?;
            let reference = if s.emergency {
                let id = next_id();
                let approved_on = date_days_ago(now, s.days_ago + 2);
                emergencies
                    .push(
                        tx,
                        vec![
                            sid.into(),
                            id.into(),
                            (*building_id).into(),
                            "街道房管办 王**".into(),
                            "水泵烧毁,高层住户停水".into(),
                            approved_on.into(),
                            actor.user_id.into(),
                            (posted_at - 2 * DAY_MS).into(),
                            i64::try_from(seq + 1).unwrap_or(0).into(),
                        ],
                    )
                    .await?;
                Some(Reference::Emergency(id))
            } else {
                None
            };
            seq += 1;
            let p = chain::append(
                prev,
                seq,
                NewPosting {
                    kind: s.kind,
                    amount: lines.iter().map(|l| l.amount).sum(),
                    reference,
                    reverses: None,
                    cost_review: s.cost_review.to_owned(),
                    memo: s.memo.to_owned(),
                    value_date: value_date.clone(),
                    posted_by: posted_by.clone(),
                    posted_at_ms: posted_at,
                    lines,
                },
            );
            acc.check(&p.entry(), None).map_err(|r| {
                Error::Internal(anyhow::anyhow!(
                    "demo fund posting for {name}: {}",
                    r.text.en
                ))
            })?;
            acc.apply(&p.entry(), None);
            let by_room: HashMap<i64, i64> =
                p.lines.iter().map(|l| (l.room_id, l.amount)).collect();
            for f in facts.iter_mut() {
                if let Some(a) = by_room.get(&f.room_id) {
                    f.balance += a;
                    if s.kind == Kind::FirstDeposit {
                        f.first_deposit += a;
                    }
                }
            }
            if s.kind == Kind::FirstDeposit {
                first_total += p.amount;
            }
            let (ref_kind, ref_id) = match p.reference {
                None => ("", 0),
                Some(Reference::Vote(id)) => ("vote", id),
                Some(Reference::Emergency(id)) => ("emergency", id),
            };
            let seq_i = i64::try_from(p.seq).unwrap_or(0);
            postings
                .push(
                    tx,
                    vec![
                        sid.into(),
                        (*building_id).into(),
                        seq_i.into(),
                        next_id().into(),
                        p.kind.code().into(),
                        p.amount.into(),
                        ref_kind.into(),
                        ref_id.into(),
                        Cell::NullInt,
                        p.cost_review.as_str().into(),
                        p.memo.as_str().into(),
                        p.value_date.as_str().into(),
                        p.posted_by.as_str().into(),
                        actor.user_id.into(),
                        p.posted_at_ms.into(),
                        p.prev_hash.hex().into(),
                        p.hash.hex().into(),
                    ],
                )
                .await?;
            for (n, l) in p.lines.iter().enumerate() {
                lines_ins
                    .push(
                        tx,
                        vec![
                            sid.into(),
                            (*building_id).into(),
                            seq_i.into(),
                            (n as i64).into(),
                            l.room_id.into(),
                            l.amount.into(),
                        ],
                    )
                    .await?;
                out.lines += 1;
            }
            prev = p.hash;
            out.postings += 1;
        }
        for f in &facts {
            if f.balance != 0 || f.first_deposit != 0 {
                room_ins
                    .push(
                        tx,
                        vec![
                            sid.into(),
                            f.room_id.into(),
                            (*building_id).into(),
                            f.balance.into(),
                            f.first_deposit.into(),
                        ],
                    )
                    .await?;
            }
        }
        heads
            .push(
                tx,
                vec![
                    sid.into(),
                    (*building_id).into(),
                    path.as_str().into(),
                    genesis.hex().into(),
                    prev.hex().into(),
                    i64::try_from(seq).unwrap_or(0).into(),
                    acc.total().into(),
                    first_total.into(),
                    (now - 700 * DAY_MS).into(),
                ],
            )
            .await?;
        out.buildings += 1;
    }
    // Heads first: nothing references them, but a reader never sees lines without a head.
    heads.flush(tx).await?;
    emergencies.flush(tx).await?;
    postings.flush(tx).await?;
    lines_ins.flush(tx).await?;
    room_ins.flush(tx).await?;
    audit::record(
        tx,
        actor,
        Change::new("fund.seed", "subdistrict", Some(sid)).after(json!({
            "buildings": out.buildings, "postings": out.postings, "lines": out.lines })),
    )
    .await?;
    Ok(out)
}
