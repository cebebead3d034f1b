//! The special maintenance fund (专项维修资金): one account per building, split per room.
//!
//! Pure first: `apportion` (a cost over rooms by area, to the fen, largest remainder),
//! `ledger` (postings, the refusal rules, balances, the 30 % low-balance rule), `chain`
//! (SHA-256 chain per building fund), `export` (`redbutler-fund-export/2`, a line per posting, and `verify`),
//! `cli` (`redbutler ledger verify FILE`).

use axum::Router;

use crate::web::AppState;

pub mod api;
pub mod apportion;
pub mod chain;
pub mod cli;
pub mod export;
pub mod ledger;
pub mod publish;
pub mod rules;
pub mod seed;
pub mod store;
pub mod web;

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
