//! The demo subdistrict: a deterministic, Xiayang-like generator (夏阳街道, Qingpu district,
//! Shanghai; code 310118003) and its loader.
//!
//! [`generate::generate`] builds the same plan on every run from a fixed seed: 24
//! communities and 9 villages with 307 micro-grids, buildings with stairway units and
//! rooms, village groups with houses, about 90,000 residents in households, owners
//! (including buyers of several rooms and developers holding unsold rooms), the
//! organisations of the article and its service venues. [`load`] writes it, one
//! transaction per subdistrict; `--scale N` writes N copies (codes 310118003,
//! 310118004, …), each with the demo accounts.

pub mod generate;
pub mod load;
pub mod names;

use std::sync::Arc;

use crate::pii::Seal;
use crate::storage::Db;

pub const PASSWORD: &str = "Demo-2024";

/// The first subdistrict's code; copies count up from it.
pub const CODE: &str = "310118003";
pub const NAME: &str = "夏阳街道";

#[derive(Debug, Default, Clone)]
pub struct Report {
    pub subdistricts: u64,
    pub grids: u64,
    pub rooms: u64,
    pub people: u64,
    pub accounts: Vec<(String, String)>,
}

/// The demo accounts (user name, what it shows), created in every demo subdistrict.
pub const ACCOUNTS: [(&str, &str); 15] = [
    ("admin", "街道管理员 subdistrict admin: the whole tree"),
    ("staff", "街道工作人员 subdistrict staff"),
    ("zhangbang", "村居工作人员 community staff of 章浜居民区"),
    ("jinmi", "村居工作人员 village staff of 金米村"),
    ("gridleader", "网格长 grid leader of 章浜一网格"),
    ("gridmember", "网格员 grid member of 章浜一网格"),
    ("buildingleader", "楼长 building leader of 城中东路311号"),
    ("groupleader", "村民小组长 leader of 金米村第一村民小组"),
    (
        "resident",
        "居民/业主 resident and owner of 城中东路311号1单元502室",
    ),
    ("owners", "业委会成员 owners' committee member of 章浜新村"),
    ("property", "物业人员 property company staff at 章浜新村"),
    ("auditor", "审计人员 auditor of 上海青信会计师事务所"),
    ("lawyer", "律师 lawyer of 上海淀山湖律师事务所"),
    ("socialorg", "社会组织 美勤社区服务中心"),
    ("pairing", "结对单位 pairing unit of 章浜居民区"),
];

/// The code and name of the `k`-th demo subdistrict (0-based).
pub fn subdistrict_name(k: u32) -> (String, String) {
    let base: u64 = CODE.parse().unwrap_or(310_118_003);
    let code = (base + u64::from(k)).to_string();
    let name = if k == 0 {
        NAME.to_string()
    } else {
        format!("{NAME}({})", k + 1)
    };
    (code, name)
}

/// Loads `scale` copies of the demo subdistrict (at least one) into an empty database.
/// Password hashing, generation and sealing run on the blocking pool while the
/// previous copy is written.
pub async fn load(db: &Db, seal: &Seal, scale: u32) -> anyhow::Result<Report> {
    let scale = scale.max(1);
    let started = std::time::Instant::now();
    // One hash per account, in parallel, reused by every copy.
    let mut hashes = load::Hashes::start(PASSWORD, ACCOUNTS.len());
    let plan = Arc::new(tokio::task::spawn_blocking(generate::generate).await?);
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "demo plan generated"
    );
    let mut report = Report::default();
    for k in 0..scale {
        // Sealing runs on the other cores while the tree and the rooms are written.
        let sealing = {
            let (plan, seal) = (plan.clone(), seal.clone());
            tokio::task::spawn_blocking(move || load::seal_all(&plan, &seal))
        };
        let (code, name) = subdistrict_name(k);
        let loaded = load::load_one(db, &plan, sealing, &code, &name, &mut hashes).await?;
        tracing::info!(code = %code, subdistrict_id = loaded.subdistrict_id, "loaded demo subdistrict");
        report.subdistricts += 1;
        report.grids += loaded.grids;
        report.rooms += loaded.rooms;
        report.people += loaded.people;
    }
    db.analyze().await?;
    if db.dialect() == crate::storage::Dialect::Sqlite {
        // The load went through the write-ahead log; empty it so the file alone holds it.
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(db.write())
            .await?;
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "demo analysed");
    report.accounts = accounts();
    Ok(report)
}

/// The demo accounts and what each shows.
pub fn accounts() -> Vec<(String, String)> {
    ACCOUNTS
        .iter()
        .map(|(u, d)| (u.to_string(), d.to_string()))
        .collect()
}
