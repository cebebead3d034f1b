//! The demo's history of property governance: company selections that ended with a signed
//! contract and fee adjustments in force, spread over the two years before `now`, so the
//! subdistrict dashboard has the figures the source reports (16 selections, 8 fee
//! adjustments in two years). Deterministic: the same tree gives the same rows. Historical
//! records carry no vote links (the votes predate the platform).

use serde_json::json;
use sqlx::Row;

use super::rules::{self, add_days, fmt_date};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::Result;
use crate::storage::{next_id, Tx};

/// Selections in the source's two years.
pub const SELECTIONS: usize = 16;
/// Fee adjustments in the source's two years.
pub const FEE_ADJUSTMENTS: usize = 8;

const DAY_MS: i64 = 86_400_000;

/// What [`seed_history`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub selections: usize,
    pub fee_adjustments: usize,
}

/// Writes the history into subdistrict `sid` inside the caller's transaction: one selection
/// each on the first 16 urban grids (in tree order) that have no contract yet, and one fee
/// adjustment each on the next 8, among the subdistrict's property companies in turn. Writes
/// less when the tree has fewer grids, and nothing without a property company.
pub async fn seed_history(tx: &mut Tx, actor: &Actor, sid: i64, now: i64) -> Result<Seeded> {
    let companies: Vec<i64> = sqlx::query(
        "SELECT id FROM orgs WHERE subdistrict_id = $1 AND kind = 'property_company' ORDER BY name, id",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect();
    if companies.is_empty() {
        return Ok(Seeded::default());
    }
    let estates: Vec<(i64, String)> = sqlx::query(
        "SELECT n.id, n.path FROM nodes n JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
         WHERE n.subdistrict_id = $1 AND n.kind = 'grid' AND p.kind = 'community' \
         AND NOT EXISTS (SELECT 1 FROM property_contracts k WHERE k.subdistrict_id = n.subdistrict_id AND k.node_id = n.id) \
         ORDER BY n.path LIMIT 24",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
    .collect();
    let today = rules::day_of(now);
    let mut out = Seeded::default();
    for (i, (node_id, path)) in estates.iter().enumerate() {
        let company = companies[i % companies.len()];
        let fee = 150 + 10 * (i as i64 % 8);
        if i < SELECTIONS {
            // Completed every 40 days from 700 days ago; the contract starts the next day.
            let done_on = add_days(today, -700 + 40 * i as i64);
            let done_at = now - (700 - 40 * i as i64) * DAY_MS;
            let kid = insert_contract(
                tx,
                sid,
                *node_id,
                path,
                company,
                add_days(done_on, 1),
                fee,
                done_at,
            )
            .await?;
            let id = next_id();
            sqlx::query(
                "INSERT INTO property_selections (subdistrict_id, id, node_id, node_path, title, plan_summary, step, \
                 invited_on, bids_close_on, contract_id, created_at, updated_at, completed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'contract_signed', $7, $8, $9, $10, $11, $11)",
            )
            .bind(sid)
            .bind(id)
            .bind(*node_id)
            .bind(path)
            .bind("物业服务企业选聘(历史记录)")
            .bind("公开招标,综合评分(历史记录导入)")
            .bind(fmt_date(add_days(done_on, -60)))
            .bind(fmt_date(add_days(done_on, -30)))
            .bind(kid)
            .bind(done_at - 90 * DAY_MS)
            .bind(done_at)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "UPDATE property_contracts SET selection_id = $3 WHERE subdistrict_id = $1 AND id = $2",
            )
            .bind(sid)
            .bind(kid)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            out.selections += 1;
        } else if i < SELECTIONS + FEE_ADJUSTMENTS {
            let j = (i - SELECTIONS) as i64;
            let start = add_days(today, -1000);
            let kid = insert_contract(
                tx,
                sid,
                *node_id,
                path,
                company,
                start,
                fee,
                now - 1000 * DAY_MS,
            )
            .await?;
            let effective_on = add_days(today, -600 + 70 * j);
            let done_at = now - (600 - 70 * j) * DAY_MS;
            sqlx::query(
                "INSERT INTO property_fee_adjustments (subdistrict_id, id, node_id, node_path, contract_id, old_fee, \
                 new_fee, reason, step, report_kind, report_ref, published_on, publicity_days, effective_on, \
                 created_at, updated_at, completed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'effective', 'audited_cost_report', $9, $10, 15, $11, $12, $13, $13)",
            )
            .bind(sid)
            .bind(next_id())
            .bind(*node_id)
            .bind(path)
            .bind(kid)
            .bind(fee)
            .bind(fee + 20)
            .bind("人工和能耗成本上涨(历史记录导入)")
            .bind(format!("成本审计报告 {}", j + 1))
            .bind(fmt_date(add_days(effective_on, -60)))
            .bind(fmt_date(effective_on))
            .bind(done_at - 90 * DAY_MS)
            .bind(done_at)
            .execute(&mut **tx)
            .await?;
            out.fee_adjustments += 1;
        }
    }
    audit::record(
        tx,
        actor,
        Change::new("property.seed", "subdistrict", Some(sid)).after(json!({
            "selections": out.selections, "fee_adjustments": out.fee_adjustments })),
    )
    .await?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn insert_contract(
    tx: &mut Tx,
    sid: i64,
    node_id: i64,
    path: &str,
    company: i64,
    starts_on: time::Date,
    fee: i64,
    at: i64,
) -> Result<i64> {
    let id = next_id();
    sqlx::query(
        "INSERT INTO property_contracts (subdistrict_id, id, node_id, node_path, company_id, starts_on, ends_on, \
         fee_standard, model, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'fixed_fee', $9)",
    )
    .bind(sid)
    .bind(id)
    .bind(node_id)
    .bind(path)
    .bind(company)
    .bind(fmt_date(starts_on))
    .bind(fmt_date(add_days(starts_on, 3 * 365 - 1)))
    .bind(fee)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}
