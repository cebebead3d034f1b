//! Notifications: each user's in-app inbox and outbound group-chat robot webhooks through a
//! durable outbox.

use axum::Router;

use crate::error::Result;
use crate::storage::Tx;
use crate::web::AppState;

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
pub async fn notify_users(_tx: &mut Tx, _sid: i64, _user_ids: &[i64], _notice: &Notice) -> Result<()> {
    Ok(())
}

/// Tells a unit (a node id or an organisation id): the inbox of every user holding a grant at
/// that node or organisation, and every group-chat webhook subscribed to it (queued in the
/// outbox, delivered after commit), inside the caller's transaction.
pub async fn notify_unit(_tx: &mut Tx, _sid: i64, _unit_id: i64, _notice: &Notice) -> Result<()> {
    Ok(())
}

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    Router::new()
}

/// Starts the background delivery of the outbox (called once by `serve`).
pub fn spawn_worker(_state: AppState) {}
