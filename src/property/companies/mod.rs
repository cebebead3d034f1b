//! Property companies (物业服务企业): the registry, their contracts per estate (term, fee
//! standard in fen per m² per month, fixed-fee 包干制 or commission 酬金制), dismissal (60 days'
//! notice) and non-renewal (90), the selection process (选聘) with bids and owners' votes, and
//! the fee adjustment process (物业费调价). An estate is a community or grid node.
//!
//! - `rules.rs`: pure — contract terms, notice periods, the monthly fee of a room, what a vote
//!   must say before a step may rely on it, the selection and fee adjustment state machines.
//! - `store.rs`: the tables of migration 19; every write one transaction with its audit entry
//!   and its timeline event; `governance_counts` for the subdistrict dashboard.
//! - `web.rs`: `/companies…`, `/property`, `/property/estates/{id}`, `/property/selections/{id}`,
//!   `/property/fees/{id}`.
//! - `api.rs`: the same under `/api/v1`.
//! - `seed.rs`: the demo's history (16 selections, 8 fee adjustments in two years).
//!
//! A step that needs an owners' vote links a vote run on `/votes` (closed or published,
//! approving); during an owners' committee re-election period such steps are refused with
//! `votes::rules::REELECTION_REFUSAL`.

use axum::Router;
use serde_json::json;

use crate::api::openapi::{op, path_id, query};
use crate::web::AppState;

pub mod api;
pub mod rules;
pub mod seed;
pub mod store;
pub mod web;

pub use store::{governance_counts, GovernanceCounts};

/// The pages.
pub fn routes() -> Router<AppState> {
    web::routes()
}

/// The JSON API, nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    api::routes()
}

/// This part's entries for the OpenAPI document's `paths`.
pub fn openapi_paths() -> serde_json::Value {
    let t = "property companies";
    let s = |props: serde_json::Value, req: &[&str]| {
        Some(json!({ "type": "object", "required": req, "properties": props }))
    };
    let company = json!({ "name": { "type": "string" }, "credit_code": { "type": "string", "description": "unified social credit code, 18 characters" },
        "licence": { "type": "string" }, "contact_name": { "type": "string" }, "hotline": { "type": "string" },
        "address": { "type": "string" }, "note": { "type": "string" }, "node_id": { "type": "integer" } });
    let date = json!({ "type": "string", "format": "date" });
    let int = json!({ "type": "integer" });
    json!({
        "/companies": {
            "get": op("The property company registry", t, json!([]), None),
            "post": op("Register a property company", t, json!([]), s(company.clone(), &["name"]))
        },
        "/companies/{id}": {
            "get": op("A company with the contracts the caller may read", t, json!([path_id("id")]), None),
            "patch": op("Correct a company's name and details", t, json!([path_id("id")]), s(company, &["name"]))
        },
        "/property/estates": { "get": op("Estates in reach with their contract in force", t, json!([]), None) },
        "/property/estates/{id}": { "get": op("An estate's contracts, selections, fee adjustments and re-election status", t, json!([path_id("id")]), None) },
        "/property/estates/{id}/contracts": { "post": op("Record a contract (fee standard in fen per m² per month)", t, json!([path_id("id")]),
            s(json!({ "company_id": int, "starts_on": date, "ends_on": date, "fee_standard": int,
                "model": { "type": "string", "enum": ["fixed_fee", "commission"] }, "commission_bp": int, "note": { "type": "string" } }),
              &["company_id", "starts_on", "ends_on", "fee_standard", "model"])) },
        "/property/contracts/{id}": { "get": op("A contract with its status today and its timeline", t, json!([path_id("id")]), None) },
        "/property/contracts/{id}/notices": { "post": op("Give a dismissal (approving matter-4 vote, 60 days) or non-renewal (90 days before the end) notice", t, json!([path_id("id")]),
            s(json!({ "kind": { "type": "string", "enum": ["dismissal", "non_renewal"] }, "given_on": date, "effective_on": date,
                "vote_id": int, "by": { "type": "string", "enum": ["company", "owners"] }, "note": { "type": "string" } }), &["kind", "given_on"])) },
        "/property/estates/{id}/selections": { "post": op("Start a selection: the plan is drafted", t, json!([path_id("id")]),
            s(json!({ "title": { "type": "string" }, "plan_summary": { "type": "string" } }), &["title", "plan_summary"])) },
        "/property/selections/{id}": { "get": op("A selection with its bids and timeline", t, json!([path_id("id")]), None) },
        "/property/selections/{id}/bids": { "post": op("Record a bid while bidding is open", t, json!([path_id("id")]),
            s(json!({ "company_id": int, "fee_standard": int, "model": { "type": "string" }, "commission_bp": int,
                "plan_summary": { "type": "string" }, "received_on": date }), &["company_id", "fee_standard", "model", "received_on"])) },
        "/property/selections/{id}/steps": { "post": op("Move a selection: approve_plan, invite_bids, close_bids, select, sign_contract, cancel", t, json!([path_id("id")]),
            s(json!({ "action": { "type": "string", "enum": ["approve_plan", "invite_bids", "close_bids", "select", "sign_contract", "cancel"] },
                "vote_id": int, "invited_on": date, "closes_on": date, "bid_id": int, "starts_on": date, "ends_on": date,
                "note": { "type": "string" }, "version": int }), &["action"])) },
        "/property/estates/{id}/fees": { "post": op("Start a fee adjustment of the contract in force", t, json!([path_id("id")]),
            s(json!({ "new_fee": int, "reason": { "type": "string" } }), &["new_fee", "reason"])) },
        "/property/fees/{id}": { "get": op("A fee adjustment with its timeline", t, json!([path_id("id")]), None) },
        "/property/fees/{id}/steps": { "post": op("Move a fee adjustment: publish_report, record_vote, take_effect, cancel", t, json!([path_id("id")]),
            s(json!({ "action": { "type": "string", "enum": ["publish_report", "record_vote", "take_effect", "cancel"] },
                "report_kind": { "type": "string", "enum": ["audited_cost_report", "third_party_assessment"] }, "report_ref": { "type": "string" },
                "report_base64": { "type": "string" }, "published_on": date, "publicity_days": int, "vote_id": int,
                "effective_on": date, "note": { "type": "string" }, "version": int }), &["action"])) },
        "/property/fees/{id}/report": { "get": op("The uploaded cost report or assessment", t, json!([path_id("id")]), None) },
        "/property/counts": { "get": op("Fee adjustments and selections completed in a period (Unix ms; default the last two years)", t,
            json!([query("from", "integer"), query("to", "integer")]), None) },
        "/property/rooms/{id}/fee": { "get": op("A room's monthly property fee under the contract in force (fen, rounded half up)", t, json!([path_id("id")]), None) }
    })
}
