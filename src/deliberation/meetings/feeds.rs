//! iCalendar feeds of the meetings. Calendar apps cannot log in, so each user has one secret
//! feed token (`rbf_<subdistrict>_<secret>`, only its digest stored) that goes in the URL:
//! `/calendars/node/{id}.ics?token=…` (a community's meetings, for staff reaching it) and
//! `/calendars/me.ics?token=…` (the meetings of every community the user's staff roles reach,
//! and those they are listed as attending). The token acts as its user, with their grants as
//! they are now; resetting it replaces the old one.

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::rules;
use super::store::{self, Meeting};
use crate::access::{Actor, Via};
use crate::audit::{self, Change};
use crate::deliberation::ical::{self, Calendar, Event, Status};
use crate::error::{Error, Result};
use crate::storage::{opt_i64, Db};

/// How far back a feed reaches.
pub const FEED_PAST_MS: i64 = 180 * 86_400_000;
/// How far ahead.
pub const FEED_AHEAD_MS: i64 = 400 * 86_400_000;

/// Makes (or replaces) the user's feed token; the clear token is returned only now.
pub async fn reset_token(db: &Db, actor: &Actor) -> Result<String> {
    if actor.user_id == 0 {
        return Err(Error::Forbidden);
    }
    let secret = hex::encode(rand::random::<[u8; 20]>());
    let token = rules::feed_token(actor.subdistrict_id, &secret);
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM calendar_feed_tokens WHERE subdistrict_id = $1 AND user_id = $2")
        .bind(actor.subdistrict_id)
        .bind(actor.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO calendar_feed_tokens (subdistrict_id, user_id, token_digest, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(actor.subdistrict_id)
    .bind(actor.user_id)
    .bind(crate::auth::digest(&secret))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("calendar_feed.reset", "user", Some(actor.user_id))
            .label(&actor.username)
            .after(json!({ "created_at": now })),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// When the user's current token was made, if they have one.
pub async fn token_created(db: &Db, actor: &Actor) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "SELECT created_at FROM calendar_feed_tokens WHERE subdistrict_id = $1 AND user_id = $2",
    )
    .bind(actor.subdistrict_id)
    .bind(actor.user_id)
    .fetch_optional(db.read())
    .await?
    .map(|r| r.get::<i64, _>(0)))
}

/// The user a feed token stands for, with their grants; `None` for an unknown token or a
/// disabled user.
pub async fn actor_of_token(db: &Db, token: &str) -> Result<Option<Actor>> {
    let Some((sid, secret)) = rules::parse_feed_token(token) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.person_id, u.disabled FROM calendar_feed_tokens t \
         JOIN users u ON u.subdistrict_id = t.subdistrict_id AND u.id = t.user_id \
         WHERE t.subdistrict_id = $1 AND t.token_digest = $2",
    )
    .bind(sid)
    .bind(crate::auth::digest(secret))
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else { return Ok(None) };
    if r.get::<i64, _>("disabled") != 0 {
        return Ok(None);
    }
    let user_id: i64 = r.get("id");
    Ok(Some(Actor {
        subdistrict_id: sid,
        user_id,
        username: r.get("username"),
        display_name: r.get("display_name"),
        person_id: opt_i64(&r, "person_id"),
        grants: crate::access::store::grants_of(db, sid, user_id).await?,
        via: Via::Token { token_id: 0 },
    }))
}

/// A feed's body, its ETag and its last change (Unix ms).
pub struct Feed {
    pub body: String,
    pub etag: String,
    pub last_modified_ms: i64,
}

fn event(m: &Meeting, agenda: &[store::AgendaRow]) -> Event {
    let kind = m.kind_label();
    let mut description = format!("{} / {}", kind.zh, kind.en);
    if m.status == "cancelled" && !m.cancel_reason.is_empty() {
        description.push_str(&format!("\n取消原因 / cancelled: {}", m.cancel_reason));
    }
    for (i, a) in agenda.iter().enumerate() {
        description.push_str(&format!("\n{}. {}", i + 1, a.title_zh));
    }
    Event {
        uid: format!("meeting-{}-{}@redbutler", m.node_id, m.id),
        start_ms: m.start_ms,
        end_ms: m.end_ms,
        summary: format!("{} {}", m.node_name, kind.zh),
        description,
        location: m.place.clone(),
        status: if m.status == "cancelled" {
            Status::Cancelled
        } else {
            Status::Confirmed
        },
        sequence: u32::try_from(m.sequence).unwrap_or(0),
        last_modified_ms: m.updated_at,
        url: String::new(),
    }
}

async fn feed(db: &Db, sid: i64, name: String, meetings: &[Meeting]) -> Result<Feed> {
    let mut events = Vec::with_capacity(meetings.len());
    for m in meetings {
        let agenda = store::agenda_items(db, sid, m.id).await?;
        events.push(event(m, &agenda));
    }
    let body = ical::write(&Calendar { name, events });
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    );
    Ok(Feed {
        body,
        etag,
        last_modified_ms: meetings.iter().map(|m| m.updated_at).max().unwrap_or(0),
    })
}

/// A community's meetings, for a token whose user runs it.
pub async fn node_feed(db: &Db, actor: &Actor, node_id: i64) -> Result<Feed> {
    let node = crate::tree::store::node(db, actor.subdistrict_id, node_id).await?;
    if !store::staff(actor, &node.path) {
        // A feed URL does not tell strangers what exists.
        return Err(Error::NotFound);
    }
    let now = crate::clock::now_ms();
    let meetings = store::list_meetings(
        db,
        actor.subdistrict_id,
        Some(&node.path),
        now - FEED_PAST_MS,
        now + FEED_AHEAD_MS,
    )
    .await?;
    feed(
        db,
        actor.subdistrict_id,
        format!("{} 五步工作法", node.name),
        &meetings,
    )
    .await
}

/// The user's own calendar.
pub async fn my_feed(db: &Db, actor: &Actor) -> Result<Feed> {
    let now = crate::clock::now_ms();
    let meetings = store::my_meetings(db, actor, now - FEED_PAST_MS, now + FEED_AHEAD_MS).await?;
    feed(
        db,
        actor.subdistrict_id,
        format!("{} 的会议", actor.display_name),
        &meetings,
    )
    .await
}

/// An HTTP date (`Tue, 01 Dec 2026 12:00:00 GMT`).
pub fn http_date(ms: i64) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&f)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_gmt() {
        assert_eq!(
            http_date(1_767_225_600_000),
            "Thu, 01 Jan 2026 00:00:00 GMT"
        );
    }
}
