//! API tokens for integrations and scripts: `Authorization: Bearer rbt_<subdistrict>_<secret>`.
//! Only the digest is stored; a token is shown once, when made, and can be revoked.

use serde::Serialize;
use sqlx::Row;

use crate::access::{Actor, Via};
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Makes a token for `user_id`; returns its id and the token text (shown once).
pub async fn create(tx: &mut Tx, actor: &Actor, user_id: i64, name: &str) -> Result<(i64, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::field(
            "name",
            Text::new(
                "请为令牌起名(不超过100字)",
                "give the token a name of at most 100 characters",
            ),
        ));
    }
    let sid = actor.subdistrict_id;
    let exists = sqlx::query("SELECT username FROM users WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound)?;
    let username: String = exists.get(0);
    let secret = super::random_secret();
    let token = format!("rbt_{sid}_{secret}");
    let id = next_id();
    sqlx::query("INSERT INTO api_tokens (subdistrict_id, id, user_id, name, token_digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(sid)
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(super::digest(&secret))
        .bind(crate::clock::now_ms())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        actor,
        Change::new("token.create", "user", Some(user_id))
            .label(&username)
            .after(serde_json::json!({ "token_id": id, "name": name })),
    )
    .await?;
    Ok((id, token))
}

pub async fn revoke(tx: &mut Tx, actor: &Actor, token_id: i64) -> Result<()> {
    crate::storage::memo::changed();
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE subdistrict_id = $2 AND id = $3 AND revoked_at IS NULL")
        .bind(crate::clock::now_ms())
        .bind(actor.subdistrict_id)
        .bind(token_id)
        .execute(&mut **tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    audit::record(
        tx,
        actor,
        Change::new("token.revoke", "api_token", Some(token_id)),
    )
    .await?;
    Ok(())
}

/// The user a token belongs to, if the token belongs to `user_id` (or to anyone, when None).
pub async fn owner(db: &Db, sid: i64, token_id: i64) -> Result<i64> {
    let r = sqlx::query("SELECT user_id FROM api_tokens WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(token_id)
        .fetch_optional(db.read())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(r.get(0))
}

pub async fn list(db: &Db, sid: i64, user_id: i64) -> Result<Vec<TokenInfo>> {
    let rows = sqlx::query("SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE subdistrict_id = $1 AND user_id = $2 ORDER BY id DESC")
        .bind(sid)
        .bind(user_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows
        .iter()
        .map(|r| TokenInfo {
            id: r.get(0),
            user_id: r.get(1),
            name: r.get(2),
            created_at: r.get(3),
            revoked_at: opt_i64(r, "revoked_at"),
        })
        .collect())
}

/// The actor of a live token.
pub async fn actor(db: &Db, token: &str) -> Result<Option<Actor>> {
    let Some(rest) = token.strip_prefix("rbt_") else {
        return Ok(None);
    };
    let Some((sid, secret)) = rest.split_once('_') else {
        return Ok(None);
    };
    let Ok(sid) = sid.parse::<i64>() else {
        return Ok(None);
    };
    let digest = super::digest(secret);
    let memo = db.memo::<TokenActors>();
    if let Some(a) = memo.0.get(&(sid, digest.clone())) {
        return Ok(Some(a));
    }
    let began = crate::storage::memo::Generation::now();
    let row = sqlx::query(
        "SELECT t.id, t.user_id, u.username, u.display_name, u.person_id, u.disabled FROM api_tokens t \
         JOIN users u ON u.subdistrict_id = t.subdistrict_id AND u.id = t.user_id \
         WHERE t.subdistrict_id = $1 AND t.token_digest = $2 AND t.revoked_at IS NULL",
    )
    .bind(sid)
    .bind(&digest)
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let via = Via::Token {
        token_id: r.get("id"),
    };
    let actor = super::actor_from_row(db, sid, &r, via).await?;
    if let Some(a) = &actor {
        memo.0.put(began, (sid, digest), a.clone());
    }
    Ok(actor)
}

/// Live tokens' actors, by subdistrict and token digest (see `storage::memo`): revoking a
/// token or changing a grant calls `memo::changed`.
pub(crate) struct TokenActors(crate::storage::memo::Cache<(i64, String), Actor>);

impl Default for TokenActors {
    fn default() -> Self {
        TokenActors(crate::storage::memo::Cache::new(10_000))
    }
}
