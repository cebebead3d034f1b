//! The public income account (公共收益): income from the common parts of an estate (advertising,
//! parking, venues, …) and its use, the quarterly top-up of the maintenance fund with more than
//! half of it, and the quarterly publication.
//!
//! Pure first: `rules` (kinds, refusals, the quarterly more-than-half rule and its shortfall),
//! `schedule` (when quarterly and half-yearly publications are due and overdue; the fund's
//! pages use it too), `chain` (SHA-256 chain per estate). Then `store` (SQL, access, the
//! top-up posting on every building fund in one transaction), `publish` (notice and XLSX),
//! `api` and `web`.

use axum::Router;

use crate::web::AppState;

pub mod api;
pub mod chain;
pub mod publish;
pub mod rules;
pub mod schedule;
pub mod seed;
pub mod store;
pub mod web;

pub use store::{entries_between, Entry};

/// The pages.
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// The JSON API, nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    api::routes()
}

/// This part's entries for the OpenAPI document's `paths` (see `crate::api::openapi`: build them
/// with its `op`, `path_id` and `query`).
pub fn openapi_paths() -> serde_json::Value {
    api::openapi_paths()
}
