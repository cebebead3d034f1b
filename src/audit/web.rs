//! Placeholder routes (filled in by this folder's owner).

use axum::Router;

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
