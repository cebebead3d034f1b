//! Deliberation halls (议事厅): a standing forum for one topic at one place, run by a hosting
//! unit with its members, and its five functions — consultation (questions and official
//! answers), mediation (sessions with parties, mediator and outcome), feedback (opinions, each
//! answered), policy publicity (documents and notices) and errand proxy (tasks done on a
//! resident's behalf). Every contribution records its channel: online, or offline entered by
//! staff on behalf of a named person with when it really happened.
//!
//! - `rules.rs`: pure — functions, roles, channels, who may do what, status transitions.
//! - `store.rs`: the tables of migration 12; every write one transaction with its audit entry;
//!   `pending_topics` for meeting agendas.
//! - `documents.rs`: files attached to policy publicity (migration 21), sniffed from their bytes.
//! - `web.rs`: `/halls`, `/halls/new`, `/halls/{id}` and its forms.
//! - `api.rs`: `/api/v1/halls…`.

use axum::Router;

use crate::web::AppState;

pub mod api;
pub mod documents;
pub mod rules;
pub mod store;
pub mod web;

pub use store::{pending_topics, PendingTopic};

/// The halls' pages.
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// The halls' JSON API, nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    api::routes()
}
