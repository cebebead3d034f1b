//! The troika's joint office (三驾马车合署办公): per estate, the fixed weekly on-site hours
//! of the residents' committee, the owners' committee and the property company; each party
//! checks in; a visitor log; matters raised there, settled there or raised as cases; and a
//! monthly report of attendance and matters handled.
//!
//! - `rules.rs`: pure — parties, weekly slots, sittings per period (holidays skipped by the
//!   working-day calendar), check-in timing, who checks in for which party, the report.
//! - `store.rs`: the tables of migration 17; every write one transaction with its audit entry.
//! - `web.rs`: `/office`, `/office/{id}`, `/office/{id}/report`.
//! - `api.rs`: `/api/v1/offices…`.

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
    let t = "joint office";
    let office = json!({ "type": "object", "required": ["name"], "properties": {
        "node_id": { "type": "integer", "description": "the estate: a community, grid or building" },
        "name": { "type": "string" }, "room": { "type": "string" },
        "residents_committee_id": { "type": "integer" }, "owners_committee_id": { "type": "integer" },
        "property_company_id": { "type": "integer" },
        "slots": { "type": "array", "items": { "type": "object", "properties": {
            "weekday": { "type": "string", "enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] },
            "start": { "type": "string", "example": "09:00" }, "end": { "type": "string", "example": "11:30" } } } },
        "skip_holidays": { "type": "boolean" }, "tolerance_minutes": { "type": "integer" },
        "version": { "type": "integer", "description": "for a change: the version it was made on" } } });
    let party = json!({ "type": "string", "enum": ["residents_committee", "owners_committee", "property_company"] });
    json!({
        "/offices": {
            "get": op("Joint offices the caller may read", t, json!([]), None),
            "post": op("Open a joint office at an estate", t, json!([]), Some(office.clone())),
        },
        "/offices/{id}": {
            "get": op("An office, its week of sittings with check-ins, open matters", t, json!([path_id("id"), query("week", "string")]), None),
            "put": op("Change an office (409 on a stale version)", t, json!([path_id("id")]), Some(office)),
        },
        "/offices/{id}/checkins": {
            "post": op("Check a party in at a sitting (staff may give the real time)", t, json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["day", "start", "party"], "properties": {
                    "day": { "type": "string", "format": "date" }, "start": { "type": "string" }, "party": party,
                    "at": { "type": "integer", "description": "Unix ms; staff only" } } }))),
        },
        "/offices/{id}/checkins/{checkin_id}/checkout": {
            "post": op("Check a party out", t, json!([path_id("id"), path_id("checkin_id")]), None),
        },
        "/offices/{id}/visitors": {
            "get": op("The visitor log (names masked)", t, json!([path_id("id"), query("from", "integer"), query("to", "integer")]), None),
            "post": op("Log a visitor", t, json!([path_id("id")]), Some(json!({ "type": "object", "required": ["name"], "properties": {
                "name": { "type": "string" }, "purpose": { "type": "string" }, "visited_at": { "type": "integer" } } }))),
        },
        "/offices/{id}/matters": {
            "get": op("Matters raised at the office", t, json!([path_id("id"), query("from", "integer"), query("to", "integer")]), None),
            "post": op("Record a matter, taken by one party", t, json!([path_id("id")]), Some(json!({ "type": "object", "required": ["body", "party"], "properties": {
                "body": { "type": "string" }, "party": party, "visitor_id": { "type": "integer" }, "raised_at": { "type": "integer" } } }))),
        },
        "/offices/{id}/matters/{matter_id}/done": {
            "post": op("Mark a matter settled at the office", t, json!([path_id("id"), path_id("matter_id")]),
                Some(json!({ "type": "object", "required": ["resolution"], "properties": { "resolution": { "type": "string" } } }))),
        },
        "/offices/{id}/matters/{matter_id}/case": {
            "post": op("Raise a matter as a case (channel visit_counter)", t, json!([path_id("id"), path_id("matter_id")]),
                Some(json!({ "type": "object", "required": ["category"], "properties": {
                    "category": { "type": "string" }, "node_id": { "type": "integer" }, "title": { "type": "string" },
                    "description": { "type": "string" }, "attributes": { "type": "object" } } }))),
        },
        "/offices/{id}/report": {
            "get": op("The monthly report: attendance per party (exact fractions and per-mille), visitors, matters", t,
                json!([path_id("id"), query("month", "string")]), None),
        },
    })
}
