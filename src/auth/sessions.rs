//! Browser sessions. The cookie holds `subdistrict.secret`; the database keeps only the
//! secret's digest. Sessions last 12 hours and end on logout or password change.

use sqlx::Row;

use crate::access::{Actor, Via};
use crate::error::Result;
use crate::storage::Db;

pub const COOKIE: &str = "rb_session";
pub const LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// Starts a session; returns the cookie value.
pub async fn create(db: &Db, sid: i64, user_id: i64, csrf: &str) -> Result<String> {
    let secret = super::random_secret();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM sessions WHERE subdistrict_id = $1 AND user_id = $2 AND expires_at < $3",
    )
    .bind(sid)
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO sessions (subdistrict_id, token_digest, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(sid)
        .bind(super::digest(&secret))
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(now + LIFETIME_MS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(format!("{sid}.{secret}"))
}

fn split(cookie: &str) -> Option<(i64, &str)> {
    let (sid, secret) = cookie.split_once('.')?;
    Some((sid.parse().ok()?, secret))
}

/// The actor of a live session.
pub async fn actor(db: &Db, cookie: &str) -> Result<Option<Actor>> {
    let Some((sid, secret)) = split(cookie) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT s.user_id, s.csrf, u.username, u.display_name, u.person_id, u.disabled FROM sessions s \
         JOIN users u ON u.subdistrict_id = s.subdistrict_id AND u.id = s.user_id \
         WHERE s.subdistrict_id = $1 AND s.token_digest = $2 AND s.expires_at > $3",
    )
    .bind(sid)
    .bind(super::digest(secret))
    .bind(crate::clock::now_ms())
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let via = Via::Session {
        csrf: r.get("csrf"),
    };
    super::actor_from_row(db, sid, &r, via).await
}

/// Ends one session.
pub async fn end(db: &Db, cookie: &str) -> Result<()> {
    if let Some((sid, secret)) = split(cookie) {
        sqlx::query("DELETE FROM sessions WHERE subdistrict_id = $1 AND token_digest = $2")
            .bind(sid)
            .bind(super::digest(secret))
            .execute(db.write())
            .await?;
    }
    Ok(())
}
