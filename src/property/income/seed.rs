//! Demo data: the public income accounts of the estates whose buildings have a seeded fund
//! (last quarter's income, its top-up of the fund with more than half, its publication, and
//! this quarter's first income), and one annual audit engagement of the demo audit firm over
//! the first of them, with the demo auditor named.
//!
//! Written after the demo's load transaction commits, through the ordinary stores (a top-up
//! posts into the building funds, which `store::post` does in its own transaction), so every
//! rule is checked exactly as for an entry made at the desk.

use sqlx::Row;

use super::schedule::{quarter_now, Period};
use super::store::{self, NewEntry};
use crate::access::Actor;
use crate::error::Result;
use crate::property::audits::store::{self as audits, NewEngagement};
use crate::storage::Db;

const DAY_MS: i64 = 86_400_000;

/// What [`seed_income`] wrote.
#[derive(Debug, Default)]
pub struct Seeded {
    pub accounts: usize,
    pub entries: usize,
    pub publications: usize,
    pub engagements: usize,
}

fn day(now: i64, days: i64) -> String {
    crate::votes::desk::store::local_date(now + days * DAY_MS)
}

fn income(source: &str, amount: i64, payer: &str, note: &str, date: &str) -> NewEntry {
    NewEntry {
        kind: "income".into(),
        source: source.into(),
        amount,
        counterparty: payer.into(),
        note: note.into(),
        value_date: Some(date.into()),
        ..Default::default()
    }
}

/// Writes the demo's public income accounts and audit engagement.
pub async fn seed_income(db: &Db, actor: &Actor, sid: i64, now: i64) -> Result<Seeded> {
    let mut out = Seeded::default();
    let today = day(now, 0);
    let Some(this) = quarter_now(&today) else {
        return Ok(out);
    };
    let last = this.previous();
    // The estates: the micro-grids holding the seeded building funds, first two.
    let rows = sqlx::query(
        "SELECT DISTINCT n.parent_id FROM fund_heads h JOIN nodes n \
         ON n.subdistrict_id = h.subdistrict_id AND n.id = h.building_id \
         WHERE h.subdistrict_id = $1 AND n.parent_id IS NOT NULL ORDER BY n.parent_id",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let estates: Vec<i64> = rows.iter().map(|r| r.get::<i64, _>(0)).take(2).collect();
    let (q_first, q_last) = (last.first_day(), last.last_day());
    let in_last = |offset: i64| -> String {
        // A day inside last quarter, `offset` days after its first day.
        let first = time::Date::parse(
            &q_first,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .expect("a quarter's first day parses");
        let d = first + time::Duration::days(offset);
        let s = d.to_string();
        if s > q_last {
            q_last.clone()
        } else {
            s
        }
    };
    for (i, &estate) in estates.iter().enumerate() {
        let k = i as i64 + 1;
        let entries = [
            income(
                "advertising",
                360_000 * k,
                "青浦电梯广告传媒有限公司",
                "电梯轿厢广告合同 2026-01",
                &in_last(5),
            ),
            income(
                "parking",
                1_280_000 * k,
                "小区停车管理",
                "地面停车位临时停车费",
                &in_last(40),
            ),
            income(
                "venue",
                48_000,
                "业主活动室租用",
                "活动室场地使用费",
                &in_last(70),
            ),
        ];
        let total: i64 = entries.iter().map(|e| e.amount).sum();
        for e in entries {
            store::post(db, actor, estate, e, now).await?;
            out.entries += 1;
        }
        // More than half of last quarter's income into the building funds: 60 %.
        let top_up = NewEntry {
            kind: "top_up".into(),
            amount: total * 6 / 10,
            note: format!("{} 公共收益补充维修资金", last.code()),
            for_quarter: Some(last.code()),
            value_date: Some(std::cmp::min(today.clone(), in_last(85))),
            ..Default::default()
        };
        store::post(db, actor, estate, top_up, now).await?;
        out.entries += 1;
        store::publish(db, actor, estate, Some(&last.code()), now).await?;
        out.publications += 1;
        // This quarter's first income, still to be published.
        let this_first = this.first_day();
        let date = std::cmp::max(this_first, day(now, -3));
        store::post(
            db,
            actor,
            estate,
            income(
                "parking",
                420_000 * k,
                "小区停车管理",
                "地面停车位临时停车费",
                &date,
            ),
            now,
        )
        .await?;
        out.entries += 1;
        out.accounts += 1;
    }
    // The annual audit of the first estate's accounts, by the demo audit firm.
    if let Some(&estate) = estates.first() {
        if let Some((firm_id, _)) = audits::firms(db, sid).await?.into_iter().next() {
            let auditors = audits::firm_auditors(db, sid, firm_id).await?;
            if !auditors.is_empty() {
                let year_first = Period::parse(&format!("{}Q1", &q_first[..4]))
                    .map(|p| p.first_day())
                    .unwrap_or_else(|| q_first.clone());
                let n = NewEngagement {
                    firm_id: Some(firm_id),
                    kind: "annual".into(),
                    title: format!("{} 年度专项维修资金与公共收益审计", &q_first[..4]),
                    node_id: Some(estate),
                    accounts: vec!["maintenance_fund".into(), "public_income".into()],
                    period_from: year_first,
                    period_to: q_last.clone(),
                    starts_on: day(now, -7),
                    ends_on: day(now, 30),
                    auditor_ids: auditors.iter().map(|a| a.user_id).collect(),
                    note: "街道聘请第三方审计机构".into(),
                };
                audits::engage(db, actor, n, now).await?;
                out.engagements += 1;
            }
        }
    }
    Ok(out)
}
