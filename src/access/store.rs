//! Role grants: stored per user, loaded with the path each one reaches.

use sqlx::Row;

use super::roles::Anchor;
use super::{Actor, Grant, Role};
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db, Tx};

/// The grants of a user, each with the path it reaches.
pub async fn grants_of(db: &Db, sid: i64, user_id: i64) -> Result<Vec<Grant>> {
    let rows = sqlx::query(
        "SELECT g.id, g.role, g.node_id, g.room_id, g.org_id, COALESCE(n.path, rn.path, '') AS path \
         FROM role_grants g \
         LEFT JOIN nodes n ON n.subdistrict_id = g.subdistrict_id AND n.id = g.node_id \
         LEFT JOIN rooms r ON r.subdistrict_id = g.subdistrict_id AND r.id = g.room_id \
         LEFT JOIN nodes rn ON rn.subdistrict_id = r.subdistrict_id AND rn.id = r.node_id \
         WHERE g.subdistrict_id = $1 AND g.user_id = $2 ORDER BY g.id",
    )
    .bind(sid)
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(Grant {
                id: r.get("id"),
                role: Role::parse(&r.get::<String, _>("role"))?,
                node_id: opt_i64(r, "node_id"),
                path: r.get("path"),
                room_id: opt_i64(r, "room_id"),
                org_id: opt_i64(r, "org_id"),
            })
        })
        .collect())
}

/// Where a new grant is made.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub struct At {
    pub node_id: Option<i64>,
    pub room_id: Option<i64>,
    pub org_id: Option<i64>,
}

/// Grants `role` to `user_id` at `at`, checking the role's anchor. One transaction with its audit entry.
pub async fn grant(tx: &mut Tx, actor: &Actor, user_id: i64, role: Role, at: At) -> Result<i64> {
    crate::storage::memo::changed();
    let sid = actor.subdistrict_id;
    let user = sqlx::query("SELECT username FROM users WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound)?;
    let username: String = user.get(0);
    match role.anchor() {
        Anchor::Node(kinds) => {
            let node_id = at.node_id.ok_or_else(|| {
                Error::field(
                    "node_id",
                    Text::new("请选择授权的节点", "choose the node the role is granted at"),
                )
            })?;
            let node = crate::tree::store::node_in_tx(tx, sid, node_id)
                .await
                .map_err(|e| match e {
                    Error::NotFound => Error::field(
                        "node_id",
                        Text::new("节点不存在", "the node does not exist"),
                    ),
                    e => e,
                })?;
            if !kinds.is_empty() && !kinds.contains(&node.kind) {
                return Err(Error::field(
                    "node_id",
                    Text::owned(
                        format!("{}不能授予在{}上", role.label().zh, node.kind.label().zh),
                        format!(
                            "a {} is not granted at a {}",
                            role.label().en,
                            node.kind.label().en
                        ),
                    ),
                ));
            }
        }
        Anchor::Room => {
            let room_id = at.room_id.ok_or_else(|| {
                Error::field("room_id", Text::new("请选择房屋", "choose the room"))
            })?;
            let exists = sqlx::query("SELECT 1 FROM rooms WHERE subdistrict_id = $1 AND id = $2")
                .bind(sid)
                .bind(room_id)
                .fetch_optional(&mut **tx)
                .await?;
            if exists.is_none() {
                return Err(Error::field(
                    "room_id",
                    Text::new("房屋不存在", "the room does not exist"),
                ));
            }
        }
        Anchor::Person => {}
    }
    let id = next_id();
    sqlx::query(
        "INSERT INTO role_grants (subdistrict_id, id, user_id, role, node_id, room_id, org_id, granted_by, granted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(sid)
    .bind(id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(at.node_id)
    .bind(at.room_id)
    .bind(at.org_id)
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(crate::clock::now_ms())
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        Change::new("role.grant", "user", Some(user_id)).label(&username).after(serde_json::json!({
            "grant_id": id, "role": role.as_str(), "node_id": at.node_id, "room_id": at.room_id, "org_id": at.org_id
        })),
    )
    .await?;
    Ok(id)
}

/// Revokes one grant of `user_id`.
pub async fn revoke(tx: &mut Tx, actor: &Actor, user_id: i64, grant_id: i64) -> Result<()> {
    crate::storage::memo::changed();
    let sid = actor.subdistrict_id;
    let row = sqlx::query(
        "SELECT g.role, g.node_id, g.room_id, u.username FROM role_grants g JOIN users u \
         ON u.subdistrict_id = g.subdistrict_id AND u.id = g.user_id \
         WHERE g.subdistrict_id = $1 AND g.id = $2 AND g.user_id = $3",
    )
    .bind(sid)
    .bind(grant_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(Error::NotFound)?;
    let role: String = row.get(0);
    let username: String = row.get(3);
    sqlx::query("DELETE FROM role_grants WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(grant_id)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        actor,
        Change::new("role.revoke", "user", Some(user_id)).label(&username).before(serde_json::json!({
            "grant_id": grant_id, "role": role, "node_id": opt_i64(&row, "node_id"), "room_id": opt_i64(&row, "room_id")
        })),
    )
    .await?;
    Ok(())
}

/// Who holds roles at a node: (user id, display name, role), for the node's page.
pub async fn holders_at(db: &Db, sid: i64, node_id: i64) -> Result<Vec<(i64, String, Role)>> {
    let rows = sqlx::query(
        "SELECT u.id, u.display_name, g.role FROM role_grants g JOIN users u ON u.subdistrict_id = g.subdistrict_id AND u.id = g.user_id \
         WHERE g.subdistrict_id = $1 AND g.node_id = $2 ORDER BY g.role, u.display_name",
    )
    .bind(sid)
    .bind(node_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((r.get(0), r.get(1), Role::parse(&r.get::<String, _>(2))?)))
        .collect())
}
