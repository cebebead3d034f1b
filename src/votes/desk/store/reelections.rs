//! Re-election periods: while one covers a scope, company and fee votes there are refused.

use super::*;

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
