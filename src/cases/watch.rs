//! The deadline watcher: warnings before the due time, escalation of overdue cases up the tree.

use axum::Router;

use crate::web::AppState;

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    Router::new()
}

/// Starts the background deadline watcher (called once by `serve`).
pub fn spawn(_state: AppState) {}
