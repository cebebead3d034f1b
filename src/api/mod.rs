//! The JSON API under `/api/v1/`, described by the OpenAPI document at
//! `/api/v1/openapi.json`. Errors are RFC 9457 problem JSON. Each domain folder brings its
//! own `api` routes; this module assembles them and answers `/me`.

pub mod openapi;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::access::Actor;
use crate::error::{Error, Result};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/me", get(me))
        .merge(crate::tree::api::routes())
        .merge(crate::people::api::routes())
        .merge(crate::access::api::routes())
        .merge(crate::audit::api::routes())
        .merge(crate::registry::api::routes())
        .merge(crate::cases::calendar_admin::api_routes())
        .merge(crate::cases::api::routes())
        .merge(crate::cases::attachments::api_routes())
        .merge(crate::cases::category_store::api_routes())
        .merge(crate::cases::chat_relay::api_routes())
        .merge(crate::cases::intake::api_routes())
        .merge(crate::cases::measures::api_routes())
        .merge(crate::cases::routing::api_routes())
        .merge(crate::cases::triage::api_routes())
        .merge(crate::cases::watch::api_routes())
        .merge(crate::deliberation::halls::api_routes())
        .merge(crate::deliberation::meetings::api_routes())
        .merge(crate::votes::desk::api_routes())
        .merge(crate::property::office::api_routes())
        .merge(crate::property::committees::api_routes())
        .merge(crate::property::companies::api_routes())
        .merge(crate::property::fund::api_routes())
        .merge(crate::property::mediation::api_routes())
        .merge(crate::property::income::api_routes())
        .merge(crate::property::audits::api_routes())
        .merge(crate::notify::api_routes())
        .fallback(|| async { Error::NotFound })
}

async fn me(actor: Actor) -> Result<Json<Value>> {
    Ok(Json(json!({
        "user_id": actor.user_id,
        "subdistrict_id": actor.subdistrict_id,
        "username": actor.username,
        "display_name": actor.display_name,
        "person_id": actor.person_id,
        "grants": actor.grants,
    })))
}

/// Paging parameters shared by list endpoints.
#[derive(Debug, Clone, Copy, serde::Deserialize, Default)]
pub struct Paging {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Paging {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
    pub fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }
}
