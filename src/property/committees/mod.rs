//! Owners' committees (业主委员会) and their re-elections (换届).
//!
//! - `rules.rs`: pure — the size rule, terms, the alert day, the re-election steps with their
//!   deadlines, the early triggers, the alerts.
//! - `store.rs`: the tables of migration 16; every write one transaction with its audit entry;
//!   a re-election opens and ends its `reelection_periods` row (migration 14), so the votes
//!   refuse company-selection and fee votes exactly while it runs.
//! - `web.rs`: `/committees`, `/committees/{id}` and its forms.
//! - `api.rs`: `/api/v1/committees…`.

use axum::Router;

use crate::web::AppState;

pub mod api;
pub mod rules;
pub mod seed;
pub mod store;
pub mod web;

pub use store::{reelection_counts, ReelectionCounts};

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

/// Starts the term-end alert sweep (called once by `serve`): every hour, for each subdistrict,
/// one notice per committee term whose alert day (5 months before its end) has come.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let subs = match crate::tree::store::subdistricts(&state.db).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "term alert sweep: listing subdistricts failed");
                    continue;
                }
            };
            for s in subs {
                match store::sweep_term_alerts(&state.db, s.id, crate::clock::now_ms()).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(subdistrict = s.id, alerts = n, "committee term alerts")
                    }
                    Err(e) => tracing::warn!(error = %e, "committee term alert sweep failed"),
                }
            }
        }
    });
}
