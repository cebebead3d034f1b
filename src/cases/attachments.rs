//! Case attachments (photos): checked, resized, stripped of location metadata, stored in the database.

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
