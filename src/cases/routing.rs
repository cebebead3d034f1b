//! Routing and dispatch (派单): which unit owns a case by its category and place, the rules an
//! administrator keeps for it, and the units offered when dispatching or transferring.
//!
//! - `rules.rs`: pure — the route (a stored rule, else the category's owning unit type placed
//!   on the case's path), its reason, the dispatch choices and the escalation targets.
//! - `store.rs`: the `routing_rules` table (migration 9), unit lookup and validation, the
//!   suggestion for one case.
//! - `web.rs`: `/admin/routing` (subdistrict admins: list, add, remove rules).
//! - `api.rs`: `GET|POST /api/v1/routing/rules`, `DELETE /api/v1/routing/rules/{id}`,
//!   `GET /api/v1/cases/{id}/route`.
//!
//! Dispatch itself is a case action (`cases::store::act`); the store checks its unit with
//! [`check_unit`].

use axum::Router;

use crate::web::AppState;

pub mod api;
pub mod rules;
pub mod store;
pub mod web;

pub use store::{check_unit, dispatchable, Dispatchable};

/// Pages (merged into the site router).
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// JSON API routes (nested under `/api/v1`).
pub fn api_routes() -> Router<AppState> {
    api::routes()
}
