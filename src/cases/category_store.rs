//! Categories stored per subdistrict, and their editor.

use axum::Router;

use super::category::CategoryTree;
use crate::error::Result;
use crate::storage::Db;
use crate::web::AppState;

/// The subdistrict's category tree: the stored one, else the seeded one.
pub async fn tree(_db: &Db, _sid: i64) -> Result<CategoryTree> {
    Ok(CategoryTree::seeded())
}

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    Router::new()
}
