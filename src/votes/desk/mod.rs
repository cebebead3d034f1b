//! Owners' votes in the database, on pages and in the API, around the pure rules of
//! `crate::votes` (matters and thresholds, the frozen electorate, the tally, the hash-chained
//! ballot box and its export).
//!
//! - `store.rs`: the tables of migration 14; opening freezes the electorate; every ballot is
//!   appended to the chain under the vote's row lock (the voter key's unique index makes a
//!   second ballot of one voter fail with 409); paper ballots wait for a second staff user's
//!   check; close → tally → publish; the export. The frozen electorate is parsed once per
//!   process (`Frozen`, keyed by its digest).
//! - `ballot_batch.rs`: online ballots share the group commit: each batch appends every vote's
//!   ballots to its chain in arrival order with one multi-row insert.
//! - `web.rs`: `/votes`, `/votes/new`, `/votes/{id}` (details, tracker, ballot form, staff
//!   actions), `/votes/{id}/paper`, `/votes/{id}/receipts`, `/votes/{id}/notice`,
//!   `/votes/reelections`.
//! - `api.rs`: `/api/v1/votes…`.

use axum::Router;

use crate::web::AppState;

pub mod api;
mod ballot_batch;
pub mod store;
pub mod web;

/// The votes' pages.
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// The votes' JSON API, nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    api::routes()
}
