//! The demo subdistrict: a deterministic, Xiayang-like generator (placeholder).

use crate::pii::Seal;
use crate::storage::Db;

pub const PASSWORD: &str = "Demo-2024";

#[derive(Debug, Default, Clone)]
pub struct Report {
    pub subdistricts: u64,
    pub grids: u64,
    pub rooms: u64,
    pub people: u64,
    pub accounts: Vec<(String, String)>,
}

pub async fn load(_db: &Db, _seal: &Seal, _scale: u32) -> anyhow::Result<Report> {
    anyhow::bail!("the demo generator is not built yet")
}

/// The demo accounts and what each shows.
pub fn accounts() -> Vec<(String, String)> {
    Vec::new()
}
