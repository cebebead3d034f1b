//! The OpenAPI 3.1 document of `/api/v1/`, written by hand next to the routes it describes.

use serde_json::{json, Value};

fn problem_responses() -> Value {
    json!({
        "400": { "$ref": "#/components/responses/Problem" },
        "401": { "$ref": "#/components/responses/Problem" },
        "403": { "$ref": "#/components/responses/Problem" },
        "404": { "$ref": "#/components/responses/Problem" },
        "422": { "$ref": "#/components/responses/Problem" }
    })
}

fn op(summary: &str, tag: &str, params: Value, body: Option<Value>) -> Value {
    let mut responses = problem_responses();
    responses["200"] = json!({ "description": "OK", "content": { "application/json": { "schema": { "type": "object" } } } });
    let mut o =
        json!({ "summary": summary, "tags": [tag], "parameters": params, "responses": responses });
    if let Some(b) = body {
        o["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": b } } });
    }
    o
}

fn path_id(name: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } })
}

fn query(name: &str, ty: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": ty } })
}

pub fn document() -> Value {
    let paging = [query("limit", "integer"), query("offset", "integer")];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Red Butler (红管家) API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Grassroots community governance. Authenticate with `Authorization: Bearer TOKEN` (make tokens on the account page or with `redbutler token create`). Errors are RFC 9457 problem JSON with an `errors` list naming invalid fields. Send `Accept-Language: en` for English messages (zh-CN by default)."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "paths": {
            "/me": { "get": op("The caller: user, person and role grants", "auth", json!([]), None) },
            "/nodes/{id}": {
                "get": op("A node of the org tree with its children and counts", "tree", json!([path_id("id")]), None),
                "patch": op("Rename a node (and set its code)", "tree", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["name"], "properties": { "name": { "type": "string" }, "code": { "type": "string" } } })))
            },
            "/nodes/{id}/children": {
                "post": op("Create a child node (community, village, grid, building, unit, village group)", "tree", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["kind", "name"], "properties": {
                        "kind": { "type": "string", "enum": ["community", "village", "grid", "building", "unit", "village_group"] },
                        "name": { "type": "string" }, "code": { "type": "string" } } })))
            },
            "/nodes/{id}/rooms": {
                "get": op("Rooms on a building, unit or village group", "tree", json!([path_id("id")]), None),
                "post": op("Create a room (areas in hundredths of m²)", "tree", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["number"], "properties": {
                        "number": { "type": "string" }, "floor": { "type": "integer" },
                        "registered_area": { "type": "integer", "description": "hundredths of m²" },
                        "surveyed_area": { "type": "integer" }, "contract_area": { "type": "integer" },
                        "developer_unsold": { "type": "boolean" } } })))
            },
            "/nodes/{id}/households": { "get": op("Households of a subtree with their members (masked)", "people", json!([path_id("id"), paging[0], paging[1]]), None) },
            "/nodes/{id}/people": { "get": op("People of a subtree (masked); `q` filters by name prefix", "people", json!([path_id("id"), query("q", "string"), paging[0], paging[1]]), None) },
            "/rooms/{id}": {
                "get": op("A room with its areas, owners and households", "tree", json!([path_id("id")]), None),
                "put": op("Correct a room: number, floor, areas (hundredths of m²), developer_unsold", "tree", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["number"], "properties": {
                        "number": { "type": "string" }, "floor": { "type": "integer" }, "registered_area": { "type": "integer" },
                        "surveyed_area": { "type": "integer" }, "contract_area": { "type": "integer" }, "developer_unsold": { "type": "boolean" } } })))
            },
            "/people": {
                "post": op("Register a person, optionally into a household", "people", json!([]),
                    Some(json!({ "type": "object", "required": ["name"], "properties": {
                        "name": { "type": "string" }, "gender": { "type": "string", "enum": ["M", "F"] },
                        "id_number": { "type": "string" }, "phone": { "type": "string" }, "address": { "type": "string" },
                        "household_id": { "type": "integer" }, "relation": { "type": "string" } } })))
            },
            "/people/{id}": {
                "get": op("A person (masked), with households and rooms", "people", json!([path_id("id")]), None),
                "patch": op("Correct a person; fields left out or blank stay as they are", "people", json!([path_id("id")]),
                    Some(json!({ "type": "object", "properties": {
                        "name": { "type": "string" }, "gender": { "type": "string", "enum": ["M", "F"] }, "id_number": { "type": "string" },
                        "phone": { "type": "string" }, "address": { "type": "string" } } })))
            },
            "/people/{id}/reveal": {
                "post": op("Open one field in full; the opening is logged with its reason", "people", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["field", "reason"], "properties": {
                        "field": { "type": "string", "enum": ["phone", "id_number", "address"] }, "reason": { "type": "string" } } })))
            },
            "/users": {
                "get": op("Users of the subdistrict with their grants (admins); `q` filters by user name prefix", "access", json!([query("q", "string"), query("limit", "integer")]), None),
                "post": op("Create a user (admins)", "access", json!([]),
                    Some(json!({ "type": "object", "required": ["username", "display_name", "password"], "properties": {
                        "username": { "type": "string" }, "display_name": { "type": "string" }, "password": { "type": "string" },
                        "person_id": { "type": "integer" } } })))
            },
            "/users/{id}/grants": {
                "get": op("A user's role grants (admins)", "access", json!([path_id("id")]), None),
                "post": op("Grant a role at a node, room or organisation (admins)", "access", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["role"], "properties": {
                        "role": { "type": "string" }, "node_id": { "type": "integer" }, "room_id": { "type": "integer" }, "org_id": { "type": "integer" } } })))
            },
            "/users/{id}/password": {
                "post": op("Set a user's password (admins); ends that user's sessions; 204", "access", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["password"], "properties": { "password": { "type": "string" } } })))
            },
            "/users/{id}/grants/{grant_id}": { "delete": op("Revoke a grant (admins)", "access", json!([path_id("id"), path_id("grant_id")]), None) },
            "/calendar": { "get": op("The working-day calendar's years: shipped or entered, days off and make-up days (admins)", "calendar", json!([]), None) },
            "/calendar/{year}": {
                "get": op("One year's calendar text and its days (admins)", "calendar", json!([path_id("year")]), None),
                "put": op("Enter or replace a year's calendar text (admins); `dry_run=true` only checks. Errors name their line.", "calendar", json!([path_id("year"), query("dry_run", "boolean")]),
                    Some(json!({ "type": "object", "required": ["text"], "properties": { "text": { "type": "string", "description": "`year 2027` then lines like `2027-01-01 holiday 元旦`, `2027-02-06..2027-02-12 holiday 春节`, `2027-02-14 workday 春节调休`" } } })))
            },
            "/cases": {
                "post": op("Open a case (category code, node_id of a grid or below, title, description). Send `Idempotency-Key` so a retried request creates nothing new: a replay answers 200 with the same case; the same key with another body is refused.", "cases",
                    json!([{ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string" } }]),
                    Some(json!({ "type": "object", "required": ["category", "node_id", "title", "description"], "properties": {
                        "category": { "type": "string" }, "node_id": { "type": "integer" }, "title": { "type": "string" }, "description": { "type": "string" } } })))
            },
            "/cases/{id}": { "get": op("A case with its timeline (staff see every event, others the public ones)", "cases", json!([path_id("id")]), None) },
            "/cases/{id}/actions": {
                "post": op("Act on a case: {version, action: {kind, …}} (register, reject, withdraw, dispatch, transfer, dispute, first_contact, note, pause, resume, report_handled, verify, close, evaluate, reopen). Deadlines are computed by the server. A stale version answers 409.", "cases", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["version", "action"], "properties": {
                        "version": { "type": "integer" }, "action": { "type": "object", "required": ["kind"], "properties": { "kind": { "type": "string" } } } } })))
            },
            "/audit": { "get": op("The audit log, newest first (admins)", "audit", json!([
                query("actor", "string"), query("action", "string"), query("subject_type", "string"), query("subject_id", "integer"),
                query("from", "string"), query("to", "string"), query("before", "integer"), query("limit", "integer")]), None) },
            "/registry/template": { "get": op("The registry template (CSV or XLSX by `format`)", "registry", json!([query("format", "string")]), None) },
            "/registry/export": { "get": op("Export the registry of a subtree (`node_id`, `format`)", "registry", json!([query("node_id", "integer"), query("format", "string")]), None) },
            "/registry/jobs/{id}": { "get": op("Progress and, when finished, the report of a background import (202 answers give its id)", "registry", json!([path_id("id")]), None) },
            "/registry/import": { "post": {
                "summary": "Import a registry file (CSV or XLSX body); `dry_run=true` only reports. Nothing is imported when any row is bad (422 with an `errors` list of row, column and message). Large files (over 4 MiB) or `background=true` answer 202 with a job id.",
                "tags": ["registry"],
                "parameters": [query("node_id", "integer"), query("dry_run", "boolean"), query("format", "string"), query("background", "boolean")],
                "requestBody": { "required": true, "content": {
                    "text/csv": { "schema": { "type": "string" } },
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } } } },
                "responses": problem_responses()
            } }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details",
                    "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
                }
            },
            "schemas": {
                "Problem": { "type": "object", "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                    "detail": { "type": "string" },
                    "errors": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } }
                } }
            }
        }
    })
}
