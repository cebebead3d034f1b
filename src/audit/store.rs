//! Reading the audit log, newest first, with filters.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::Result;
use crate::storage::{opt_i64, Db};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<i64>,
    /// Shanghai dates, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Entries older than this id (the next page).
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub at_local: String,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    pub subject_label: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
}

pub async fn list(db: &Db, sid: i64, f: &Filter) -> Result<Vec<Entry>> {
    let mut sql = String::from(
        "SELECT id, at, actor_user_id, actor, action, subject_type, subject_id, subject_label, before_json, after_json, reason \
         FROM audit_log WHERE subdistrict_id = $1",
    );
    let mut texts: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    // Build the clause with numbered placeholders; texts first, then integers.
    let mut n = 1;
    let mut clause = |sql: &mut String, cond: &str| {
        n += 1;
        sql.push_str(&cond.replace('?', &format!("${n}")));
    };
    if let Some(a) = f.actor.as_deref().filter(|s| !s.trim().is_empty()) {
        clause(&mut sql, " AND actor = ?");
        texts.push(a.trim().to_string());
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.trim().is_empty()) {
        clause(&mut sql, " AND action LIKE ?");
        texts.push(format!("{}%", a.trim()));
    }
    if let Some(a) = f.subject_type.as_deref().filter(|s| !s.trim().is_empty()) {
        clause(&mut sql, " AND subject_type = ?");
        texts.push(a.trim().to_string());
    }
    if let Some(id) = f.subject_id {
        clause(&mut sql, " AND subject_id = ?");
        ints.push(id);
    }
    if let Some(ms) = f.from.as_deref().and_then(crate::clock::parse_local_date) {
        clause(&mut sql, " AND at >= ?");
        ints.push(ms);
    }
    if let Some(ms) = f.to.as_deref().and_then(crate::clock::parse_local_date) {
        clause(&mut sql, " AND at < ?");
        ints.push(ms + 86_400_000);
    }
    if let Some(b) = f.before {
        clause(&mut sql, " AND id < ?");
        ints.push(b);
    }
    let limit = f.limit.unwrap_or(50).clamp(1, 500);
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
    let mut q = sqlx::query(&sql).bind(sid);
    for t in texts {
        q = q.bind(t);
    }
    for i in ints {
        q = q.bind(i);
    }
    let rows = q.fetch_all(db.read()).await?;
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(rows
        .iter()
        .map(|r| {
            let at: i64 = r.get("at");
            Entry {
                id: r.get("id"),
                at,
                at_local: crate::clock::format_local(at),
                actor_user_id: opt_i64(r, "actor_user_id"),
                actor: r.get("actor"),
                action: r.get("action"),
                subject_type: r.get("subject_type"),
                subject_id: opt_i64(r, "subject_id"),
                subject_label: r.get("subject_label"),
                before: json(r.get("before_json")),
                after: json(r.get("after_json")),
                reason: r.get("reason"),
            }
        })
        .collect())
}
