//! Notifications: each user's in-app inbox and outbound group-chat robot webhooks through a
//! durable outbox.
//!
//! The rules are pure: `formats` (each robot's JSON, signatures, how a robot says "no" in a
//! 200), `backoff` (when a failed delivery is tried again), `subscription` (which webhooks a
//! notice goes to). `store` writes and reads the tables (migration 7), `worker` delivers the
//! outbox, `web` and `api` are the pages and the JSON around them.

pub mod api;
pub mod backoff;
pub mod formats;
pub mod store;
pub mod subscription;
pub mod web;
pub mod worker;

use std::sync::OnceLock;

use axum::Router;

use crate::error::Result;
use crate::storage::{Db, Tx};
use crate::web::AppState;

pub use worker::deliver_due;

/// What to tell people. Texts in both languages; `link` is a site path such as `/cases/42`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// A stable code, e.g. `case.dispatched`, `case.due_soon`, `case.overdue`, `case.escalated`.
    pub kind: String,
    pub case_id: Option<i64>,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
}

/// Puts `notice` in the inbox of each of `user_ids`, inside the caller's transaction.
pub async fn notify_users(tx: &mut Tx, sid: i64, user_ids: &[i64], notice: &Notice) -> Result<()> {
    store::insert_inbox(tx, sid, user_ids, notice, crate::clock::now_ms()).await?;
    Ok(())
}

/// Tells a unit (a node id or an organisation id): the inbox of every user holding a grant at
/// that node or organisation, and every group-chat webhook subscribed to it (queued in the
/// outbox, delivered after commit), inside the caller's transaction.
pub async fn notify_unit(tx: &mut Tx, sid: i64, unit_id: i64, notice: &Notice) -> Result<()> {
    let now = crate::clock::now_ms();
    let users = store::unit_users(tx, sid, unit_id).await?;
    store::insert_inbox(tx, sid, &users, notice, now).await?;
    store::enqueue_for_unit(tx, sid, unit_id, notice, now).await?;
    Ok(())
}

/// How many of a user's notices are unread (the badge in the page shell).
pub async fn unread_count(db: &Db, sid: i64, user_id: i64) -> Result<i64> {
    store::unread_count(db, sid, user_id).await
}

/// The site's public address (`REDBUTLER_PUBLIC_URL`, e.g. `https://rb.example.cn`), so the
/// links in group-chat messages can be absolute; without it they are site paths.
pub fn site_url() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        std::env::var("REDBUTLER_PUBLIC_URL")
            .ok()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    })
    .clone()
}

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    api::routes()
}

/// Starts the background delivery of the outbox (called once by `serve`).
pub fn spawn_worker(state: AppState) {
    worker::spawn(state);
}
