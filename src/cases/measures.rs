//! The case measures (response, resolution, satisfaction, closure, on-time closure, rework rates,
//! average handling time).

use axum::Router;

use super::store::CaseRecord;
use crate::error::Result;
use crate::storage::Tx;
use crate::web::AppState;

/// Keeps the measures' rollup true: called inside every transaction that writes a case, with
/// the case as it was (`None` when new) and as it is now.
pub async fn record_change(
    _tx: &mut Tx,
    _sid: i64,
    _before: Option<&CaseRecord>,
    _after: &CaseRecord,
) -> Result<()> {
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
