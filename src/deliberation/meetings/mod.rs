//! The five-step method (五步工作法) for every community and village: the daily contact log,
//! and the weekly meeting, monthly consultation, quarterly review and annual evaluation.
//! Schedules recur (`deliberation::cadence`); meetings are materialised from them on demand,
//! get an agenda drafted from live data (`deliberation::agenda`), then attendance, minutes,
//! decisions and follow-up actions tracked to done or turned into cases. The annual
//! evaluation's scorecard comes from the case measures; calendars are iCalendar feeds
//! (`deliberation::ical`) behind a per-user feed token.
//!
//! - `rules.rs`: pure — statuses, text and tag checks, feed token shape, review periods.
//! - `store.rs`: schedules, meetings, agenda, attendance, decisions, actions, scorecard.
//! - `contacts.rs`: the daily contact log and raising a case from it.
//! - `feeds.rs`: feed tokens and the `.ics` bodies.
//! - `web.rs`: `/five-step…`, `/meetings/{id}…`, `/contacts…`, `/calendars/…`.
//! - `api.rs`: `/api/v1/five-step/…`, `/api/v1/meetings…`, `/api/v1/contacts…`.

use axum::Router;

use crate::web::AppState;

pub mod api;
pub mod contacts;
pub mod feeds;
pub mod rules;
pub mod store;
pub mod web;

/// The five-step method's pages.
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// The five-step method's JSON API, nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    api::routes()
}
