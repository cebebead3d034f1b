//! The delivery of the outbox. One pass ([`deliver_due`]) claims the due pending rows of
//! every subdistrict, posts each to its webhook and records what happened; `spawn` runs a
//! pass every few seconds.
//!
//! Claiming moves a row's `next_attempt_at` into the future (the lease) and writes a fresh
//! claim token, with `UPDATE … WHERE state = 'pending' AND next_attempt_at <= now`, so of two
//! workers only one gets a row; the outcome is written only while the claim is still ours.
//! A worker that dies mid-delivery leaves a lease that simply expires: the row is due again
//! and is sent again (delivery is at least once). Nothing is deleted: a row ends delivered,
//! or failed after `backoff::MAX_ATTEMPTS` attempts, and stays visible.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use sqlx::Row;

use super::backoff::{self, Next};
use super::formats::{self, Format};
use crate::error::Result;
use crate::storage::Db;
use crate::web::AppState;

/// How long a claim lasts: longer than a request may take.
pub const LEASE_MS: i64 = 60_000;
/// Rows claimed per subdistrict and pass.
pub const BATCH: i64 = 32;
/// The request timeout.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The pause between passes.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    /// Failed attempts that will be tried again.
    pub retrying: usize,
    /// Deliveries that used their last attempt.
    pub failed: usize,
}

fn client() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("redbutler/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| tracing::error!(error = %e, "building the webhook HTTP client"))
                .ok()
        })
        .as_ref()
}

/// One claimed row and what is needed to send it.
struct Claimed {
    sid: i64,
    id: i64,
    claim: String,
    attempts: i64,
    format: Format,
    url: String,
    secret: Option<String>,
    payload: Value,
}

/// Claims up to [`BATCH`] due rows of one subdistrict.
async fn claim(db: &Db, sid: i64, now: i64) -> Result<Vec<Claimed>> {
    let due = sqlx::query(
        "SELECT o.id FROM outbox o \
         JOIN webhooks w ON w.subdistrict_id = o.subdistrict_id AND w.id = o.webhook_id \
         WHERE o.subdistrict_id = $1 AND o.state = 'pending' AND o.next_attempt_at <= $2 AND w.enabled = 1 \
         ORDER BY o.next_attempt_at, o.id LIMIT $3",
    )
    .bind(sid)
    .bind(now)
    .bind(BATCH)
    .fetch_all(db.write())
    .await?;
    let mut out = Vec::new();
    for r in &due {
        let id: i64 = r.get(0);
        let token = crate::auth::random_secret();
        let took = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $3, claim = $4 \
             WHERE subdistrict_id = $1 AND id = $2 AND state = 'pending' AND next_attempt_at <= $5",
        )
        .bind(sid)
        .bind(id)
        .bind(now + LEASE_MS)
        .bind(&token)
        .bind(now)
        .execute(db.write())
        .await?;
        if took.rows_affected() != 1 {
            continue;
        }
        let row = sqlx::query(
            "SELECT o.attempts, o.payload, w.format, w.url, w.secret FROM outbox o \
             JOIN webhooks w ON w.subdistrict_id = o.subdistrict_id AND w.id = o.webhook_id \
             WHERE o.subdistrict_id = $1 AND o.id = $2 AND o.claim = $3",
        )
        .bind(sid)
        .bind(id)
        .bind(&token)
        .fetch_optional(db.write())
        .await?;
        let Some(row) = row else { continue };
        let format = Format::parse(&row.get::<String, _>("format")).unwrap_or(Format::Generic);
        let payload = serde_json::from_str(&row.get::<String, _>("payload")).unwrap_or(Value::Null);
        out.push(Claimed {
            sid,
            id,
            claim: token,
            attempts: row.get("attempts"),
            format,
            url: row.get("url"),
            secret: row.try_get::<Option<String>, _>("secret").ok().flatten(),
            payload,
        });
    }
    Ok(out)
}

/// Posts one claimed row; answers the HTTP status (if any answer came) and the outcome.
async fn post(c: &Claimed, now: i64) -> (Option<i64>, std::result::Result<(), String>) {
    let Some(http) = client() else {
        return (None, Err("no HTTP client".into()));
    };
    let req = formats::request(c.format, &c.url, &c.payload, c.secret.as_deref(), now);
    let mut b = http.post(&req.url).body(req.body);
    for (k, v) in &req.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    match b.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            (
                Some(i64::from(status)),
                formats::judge(c.format, status, &body),
            )
        }
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                format!("could not connect: {e}")
            } else {
                e.to_string()
            };
            (None, Err(formats::truncate_bytes(&what, 300)))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    Retrying,
    Failed,
}

/// Writes the outcome of one attempt, if the claim is still ours.
async fn record(
    db: &Db,
    c: &Claimed,
    now: i64,
    status: Option<i64>,
    result: std::result::Result<(), String>,
) -> Result<Outcome> {
    let attempts = c.attempts + 1;
    let (state, next_at, error, outcome) = match &result {
        Ok(()) => ("delivered", now, None, Outcome::Delivered),
        Err(e) => match backoff::after_failure(attempts, rand::random::<u16>() as i64 % 1001) {
            Next::RetryIn(ms) => ("pending", now + ms, Some(e.clone()), Outcome::Retrying),
            Next::Fail => ("failed", now, Some(e.clone()), Outcome::Failed),
        },
    };
    sqlx::query(
        "UPDATE outbox SET state = $4, attempts = $5, next_attempt_at = $6, last_attempt_at = $7, last_status = $8, \
         last_error = $9, delivered_at = $10, claim = NULL \
         WHERE subdistrict_id = $1 AND id = $2 AND claim = $3",
    )
    .bind(c.sid)
    .bind(c.id)
    .bind(&c.claim)
    .bind(state)
    .bind(attempts)
    .bind(next_at)
    .bind(now)
    .bind(status)
    .bind(error.clone())
    .bind((outcome == Outcome::Delivered).then_some(now))
    .execute(db.write())
    .await?;
    match outcome {
        Outcome::Delivered => {
            tracing::info!(outbox.id = c.id, attempts, "webhook delivered")
        }
        Outcome::Retrying => {
            tracing::info!(
                outbox.id = c.id,
                attempts,
                error = error.as_deref().unwrap_or(""),
                "webhook attempt failed; will retry"
            )
        }
        Outcome::Failed => {
            tracing::warn!(
                outbox.id = c.id,
                attempts,
                error = error.as_deref().unwrap_or(""),
                "webhook delivery failed after its last attempt"
            )
        }
    }
    Ok(outcome)
}

/// One pass over every subdistrict: claims what is due at `now`, sends it, records the
/// outcomes. Tests call it with a chosen `now` instead of waiting.
pub async fn deliver_due(db: &Db, now: i64) -> Result<Pass> {
    let mut pass = Pass::default();
    for s in crate::tree::store::subdistricts(db).await? {
        let claimed = claim(db, s.id, now).await?;
        if claimed.is_empty() {
            continue;
        }
        let mut set = tokio::task::JoinSet::new();
        for c in claimed {
            set.spawn(async move {
                let (status, result) = post(&c, now).await;
                (c, status, result)
            });
        }
        while let Some(joined) = set.join_next().await {
            let Ok((c, status, result)) = joined else {
                continue;
            };
            match record(db, &c, now, status, result).await? {
                Outcome::Delivered => pass.delivered += 1,
                Outcome::Retrying => pass.retrying += 1,
                Outcome::Failed => pass.failed += 1,
            }
        }
    }
    Ok(pass)
}

/// Runs [`deliver_due`] every [`INTERVAL`] for as long as the process lives.
pub fn spawn(state: AppState) {
    let db = state.db.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&db, crate::clock::now_ms()).await {
                tracing::warn!(error = %e, "webhook delivery pass failed");
            }
            tokio::time::sleep(INTERVAL).await;
        }
    });
}
