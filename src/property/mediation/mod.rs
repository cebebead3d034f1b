//! Lawyer mediation (律师调解) of property disputes: fee arrears, repairs, noise, parking,
//! leaks and others as mediation cases, with their parties, the lawyer assigned from a law
//! firm engaged for the place, sessions, the agreement reached or not, and follow-ups (done,
//! or raised as a case).
//!
//! - `rules.rs`: pure — kinds, sides, the status machine and who may take each step.
//! - `store.rs`: the tables of migration 18; every write one transaction with its audit entry.
//! - `web.rs`: `/mediation`, `/mediation/new`, `/mediation/engagements`, `/mediation/{id}`.
//! - `api.rs`: `/api/v1/mediation/…`.

pub mod api;
pub mod rules;
pub mod seed;
pub mod store;
pub mod web;

use axum::Router;

use crate::web::AppState;

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
    use crate::api::openapi::{op, path_id, query};
    use serde_json::json;
    let t = "mediation";
    let id = || json!([path_id("id")]);
    let id_fid = || json!([path_id("id"), path_id("fid")]);
    json!({
        "/mediation/engagements": {
            "get": op("Law firm engagements the caller may see", t, json!([]), None),
            "post": op("Engage a law firm for a place and a period", t, json!([]), Some(json!({ "type": "object",
                "required": ["firm_id", "node_id", "starts_on", "ends_on"], "properties": {
                "firm_id": { "type": "integer" }, "node_id": { "type": "integer" },
                "starts_on": { "type": "string", "format": "date" }, "ends_on": { "type": "string", "format": "date" },
                "note": { "type": "string" } } }))),
        },
        "/mediation/cases": {
            "get": op("Mediation cases the caller may read", t, json!([query("status", "string")]), None),
            "post": op("File a property dispute", t, json!([]), Some(json!({ "type": "object",
                "required": ["node_id", "kind", "summary", "parties"], "properties": {
                "node_id": { "type": "integer" },
                "kind": { "type": "string", "enum": ["fee_arrears", "repairs", "noise", "parking", "leaks", "other"] },
                "summary": { "type": "string" },
                "parties": { "type": "array", "items": { "type": "object", "properties": {
                    "side": { "type": "string", "enum": ["applicant", "respondent"] }, "person_id": { "type": "integer" },
                    "org_id": { "type": "integer" }, "name": { "type": "string" } } } } } }))),
        },
        "/mediation/cases/{id}": { "get": op("A mediation case with parties, sessions, follow-ups and what the caller may do", t, id(), None) },
        "/mediation/cases/{id}/assign": { "post": op("Assign a lawyer of a firm engaged for the place", t, id(),
            Some(json!({ "type": "object", "required": ["lawyer_user_id"], "properties": { "lawyer_user_id": { "type": "integer" } } }))) },
        "/mediation/cases/{id}/sessions": { "post": op("Record a session", t, id(), Some(json!({ "type": "object", "required": ["attendees"],
            "properties": { "held_at": { "type": "integer" }, "place": { "type": "string" }, "attendees": { "type": "string" }, "notes": { "type": "string" } } }))) },
        "/mediation/cases/{id}/outcome": { "post": op("Record the outcome or a withdrawal", t, id(), Some(json!({ "type": "object",
            "required": ["status", "text"], "properties": {
            "status": { "type": "string", "enum": ["agreement_reached", "no_agreement", "withdrawn"] }, "text": { "type": "string" } } }))) },
        "/mediation/cases/{id}/followups": { "post": op("Add a follow-up", t, id(), Some(json!({ "type": "object", "required": ["due_on", "what"],
            "properties": { "due_on": { "type": "string", "format": "date" }, "what": { "type": "string" } } }))) },
        "/mediation/cases/{id}/followups/{fid}/done": { "post": op("Mark a follow-up done", t, id_fid(),
            Some(json!({ "type": "object", "required": ["note"], "properties": { "note": { "type": "string" } } }))) },
        "/mediation/cases/{id}/followups/{fid}/case": { "post": op("Raise a follow-up as a case", t, id_fid(),
            Some(json!({ "type": "object", "required": ["category"], "properties": { "category": { "type": "string" },
                "node_id": { "type": "integer" }, "title": { "type": "string" }, "description": { "type": "string" } } }))) },
        "/mediation/cases/{id}/finish": { "post": op("Finish the case once every follow-up is checked", t, id(), None) },
    })
}
