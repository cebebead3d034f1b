//! Third-party audit (第三方审计): engagements of an audit firm with a scope (an estate, the
//! accounts, a period), auditors who read exactly that scope for exactly the engagement's dates,
//! findings with their severity, responses, and the report published for 30 days.
//!
//! Not to be confused with `crate::audit`, the audit LOG of every change: this part is about
//! outside auditors examining an estate's accounts (and every read they make is written to that
//! log).
//!
//! - `rules.rs`: pure — kinds, accounts, severities, the scope rule (`auditor_may_read`) and the
//!   30-day publication rule (`publicly_visible`).
//! - `store.rs`: the tables of migration 24; every write one transaction with its audit entry.
//! - `web.rs`: `/audits`, `/audits/new`, `/audits/{id}`, `/audits/{id}/fund[/{building_id}]`,
//!   `/audits/{id}/income`,
//!   `/audits/{id}/report`.
//! - `api.rs`: `/api/v1/audits/…`.

pub mod api;
pub mod rules;
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
    use crate::api::openapi::{op, path_id};
    use serde_json::json;
    let t = "audits";
    let id = || json!([path_id("id")]);
    let id_fid = || json!([path_id("id"), path_id("fid")]);
    let date = || json!({ "type": "string", "format": "date" });
    json!({
        "/audits": {
            "get": op("Audit engagements the caller may see (an auditor: only theirs)", t, json!([]), None),
            "post": op("Engage an audit firm for an estate, accounts and a period, naming its auditors", t, json!([]), Some(json!({
                "type": "object",
                "required": ["firm_id", "kind", "node_id", "accounts", "period_from", "period_to", "starts_on", "ends_on", "auditor_ids"],
                "properties": {
                    "firm_id": { "type": "integer" },
                    "kind": { "type": "string", "enum": ["annual", "term_end", "special"] },
                    "title": { "type": "string" },
                    "node_id": { "type": "integer" },
                    "accounts": { "type": "array", "items": { "type": "string", "enum": ["maintenance_fund", "public_income"] } },
                    "period_from": date(), "period_to": date(), "starts_on": date(), "ends_on": date(),
                    "auditor_ids": { "type": "array", "items": { "type": "integer" } },
                    "note": { "type": "string" } } }))),
        },
        "/audits/{id}": { "get": op("An engagement: scope, dates, auditors, findings with responses, the report's facts", t, id(), None) },
        "/audits/{id}/fund": { "get": op("The maintenance fund of the buildings in scope over the audited period (read-only)", t, id(), None) },
        "/audits/{id}/fund/{building_id}": { "get": op("One building's fund postings and room accounts in the audited period (read-only)", t,
            json!([path_id("id"), path_id("building_id")]), None) },
        "/audits/{id}/income": { "get": op("Public income entries of the accounts in scope over the audited period (read-only)", t, id(), None) },
        "/audits/{id}/findings": { "post": op("Record a finding (a named auditor, during the engagement)", t, id(), Some(json!({
            "type": "object", "required": ["title", "detail", "severity", "account"], "properties": {
                "title": { "type": "string" }, "detail": { "type": "string" },
                "severity": { "type": "string", "enum": ["advisory", "moderate", "significant", "critical"] },
                "account": { "type": "string", "enum": ["maintenance_fund", "public_income"] },
                "building_id": { "type": "integer" }, "posting_seq": { "type": "integer" } } }))) },
        "/audits/{id}/findings/{fid}/responses": { "post": op("Respond to a finding (owners' committee, property company or staff)", t, id_fid(),
            Some(json!({ "type": "object", "required": ["body"], "properties": { "body": { "type": "string" }, "version": { "type": "integer" } } }))) },
        "/audits/{id}/findings/{fid}/close": { "post": op("Close a finding (a named auditor)", t, id_fid(),
            Some(json!({ "type": "object", "properties": { "note": { "type": "string" }, "version": { "type": "integer" } } }))) },
        "/audits/{id}/report": {
            "get": op("The report (owners of the estate: for 30 days after publication)", t, id(), None),
            "post": op("Submit the report, with an optional document as base64", t, id(), Some(json!({
                "type": "object", "required": ["summary"], "properties": {
                    "summary": { "type": "string" }, "file_name": { "type": "string" }, "file_base64": { "type": "string" } } }))),
        },
        "/audits/{id}/report/publish": { "post": op("Publish the submitted report (staff of the place)", t, id(), None) },
        "/audits/{id}/report/document": { "get": op("The report's document", t, id(), None) },
    })
}
