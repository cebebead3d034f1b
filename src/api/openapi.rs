//! The OpenAPI 3.1 document of `/api/v1/`, written by hand next to the routes it describes.

use serde_json::{json, Value};

pub(crate) fn problem_responses() -> Value {
    json!({
        "400": { "$ref": "#/components/responses/Problem" },
        "401": { "$ref": "#/components/responses/Problem" },
        "403": { "$ref": "#/components/responses/Problem" },
        "404": { "$ref": "#/components/responses/Problem" },
        "422": { "$ref": "#/components/responses/Problem" }
    })
}

pub(crate) fn op(summary: &str, tag: &str, params: Value, body: Option<Value>) -> Value {
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

pub(crate) fn path_id(name: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } })
}

pub(crate) fn query(name: &str, ty: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": ty } })
}

pub fn document() -> Value {
    let mut doc = base();
    for extra in [
        crate::property::office::openapi_paths(),
        crate::property::committees::openapi_paths(),
        crate::property::companies::openapi_paths(),
        crate::property::fund::openapi_paths(),
        crate::property::mediation::openapi_paths(),
        crate::property::income::openapi_paths(),
        crate::property::audits::openapi_paths(),
    ] {
        if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), extra) {
            paths.extend(more);
        }
    }
    doc
}

fn base() -> Value {
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
            "/inbox": { "get": op("The caller's notices, newest first, with the unread count; `unread=true` for unread only", "notify", json!([query("unread", "boolean"), paging[0], paging[1]]), None) },
            "/inbox/read-all": { "post": op("Mark all the caller's notices read; answers how many were unread", "notify", json!([]), None) },
            "/inbox/{id}/read": { "post": op("Mark one of the caller's notices read (again is fine)", "notify", json!([path_id("id")]), None) },
            "/webhooks": {
                "get": op("The group-chat robots (admins); URLs and secrets masked", "notify", json!([]), None),
                "post": op("Add a group-chat robot (admins): format wecom|dingtalk|feishu|generic, an http(s) URL, an optional signing secret (not WeCom), node_id (a subtree; default the whole subdistrict) or org_id, kinds (list; empty = all; `case.*` = a prefix)", "notify", json!([]),
                    Some(json!({ "type": "object", "required": ["name", "format", "url"], "properties": {
                        "name": { "type": "string" }, "format": { "type": "string", "enum": ["wecom", "dingtalk", "feishu", "generic"] },
                        "url": { "type": "string" }, "secret": { "type": "string" }, "node_id": { "type": "integer" }, "org_id": { "type": "integer" },
                        "kinds": { "type": "array", "items": { "type": "string" } }, "enabled": { "type": "boolean" } } })))
            },
            "/webhooks/{id}": { "put": op("Change a robot (admins); a missing URL or secret keeps the stored one, `clear_secret: true` removes the secret", "notify", json!([path_id("id")]),
                Some(json!({ "type": "object", "properties": { "name": { "type": "string" }, "format": { "type": "string" }, "url": { "type": "string" },
                    "secret": { "type": "string" }, "clear_secret": { "type": "boolean" }, "node_id": { "type": "integer" }, "org_id": { "type": "integer" },
                    "kinds": { "type": "array", "items": { "type": "string" } }, "enabled": { "type": "boolean" } } }))) },
            "/webhooks/{id}/test": { "post": op("Queue a test message to a robot (admins); 202 with the delivery", "notify", json!([path_id("id")]), None) },
            "/outbox": { "get": op("Deliveries to robots, newest first, with counts per state (admins); nothing is ever deleted", "notify", json!([query("state", "string"), query("webhook_id", "integer"), paging[0], paging[1]]), None) },
            "/outbox/{id}/retry": { "post": op("Send a failed delivery again with a fresh round of attempts, or a waiting one now (admins); 409 when delivered", "notify", json!([path_id("id")]), None) },
            "/calendar": { "get": op("The working-day calendar's years: shipped or entered, days off and make-up days (admins)", "calendar", json!([]), None) },
            "/calendar/{year}": {
                "get": op("One year's calendar text and its days (admins)", "calendar", json!([path_id("year")]), None),
                "put": op("Enter or replace a year's calendar text (admins); `dry_run=true` only checks. Errors name their line.", "calendar", json!([path_id("year"), query("dry_run", "boolean")]),
                    Some(json!({ "type": "object", "required": ["text"], "properties": { "text": { "type": "string", "description": "`year 2027` then lines like `2027-01-01 holiday 元旦`, `2027-02-06..2027-02-12 holiday 春节`, `2027-02-14 workday 春节调休`" } } })))
            },
            "/categories": {
                "get": op("The subdistrict's case category tree: `version` (0 = the shipped tree), `offered` (codes new cases may use), `categories` (owner, deadlines, anonymity, urgency, attributes, `retired`)", "categories", json!([]), None),
                "put": op("Replace the whole tree (admins): `{version, categories}` or `{version, toml}`; `dry_run=true` only checks. Categories are never deleted (retire them); a stale version answers 409, an invalid tree 422 with errors by field.", "categories", json!([query("dry_run", "boolean")]),
                    Some(json!({ "type": "object", "required": ["version"], "properties": { "version": { "type": "integer" }, "categories": { "type": "array", "items": { "type": "object" } }, "toml": { "type": "string" } } }))),
                "post": op("Add one category (admins): `{version, code, name_zh, name_en, parent, owner, deadlines, anonymous_allowed, urgent, keywords, fields}`; answers 201 with the tree", "categories", json!([]),
                    Some(json!({ "type": "object", "required": ["version", "code", "name_zh", "name_en"], "properties": { "version": { "type": "integer" }, "code": { "type": "string" }, "parent": { "type": "string" } } })))
            },
            "/categories/{code}": {
                "patch": op("Change one category (admins): `{version, …fields to change}` merged into it (`null` clears an inherited setting, `retired: true` retires it); its code cannot change", "categories",
                    json!([{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }]),
                    Some(json!({ "type": "object", "required": ["version"], "properties": { "version": { "type": "integer" }, "retired": { "type": "boolean" } } })))
            },
            "/cases": {
                "post": op("Open a case (category code, node_id of a grid or below, title, description). Send `Idempotency-Key` so a retried request creates nothing new: a replay answers 200 with the same case; the same key with another body is refused.", "cases",
                    json!([{ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string" } },
                        { "name": "channel", "in": "query", "required": false, "description": "the intake channel (default `api`): web, mobile, grid_quick, visit_reception, visit_home, visit_counter, phone, chat, api, open311",
                          "schema": { "type": "string" } }]),
                    Some(json!({ "type": "object", "required": ["category", "node_id", "title", "description"], "properties": {
                        "category": { "type": "string" }, "node_id": { "type": "integer" }, "title": { "type": "string" }, "description": { "type": "string" },
                        "anonymous": { "type": "boolean", "description": "keep and show no name or phone; refused (422 on `anonymous`) unless the category allows anonymous reports" },
                        "lat_e6": { "type": "integer", "description": "map point latitude in microdegrees (WGS-84); with lng_e6 or not at all" },
                        "lng_e6": { "type": "integer", "description": "map point longitude in microdegrees" },
                        "address": { "type": "string", "description": "free-text place or landmark, at most 200 characters" },
                        "occurred_at": { "type": "integer", "description": "when an offline contact really happened, Unix ms: not in the future, at most 30 days ago" },
                        "contact_name": { "type": "string", "description": "who spoke (staff entry), optional" },
                        "contact_phone": { "type": "string", "description": "their mobile, optional; sealed at rest, only the mask is shown" },
                        "attributes": { "type": "object", "additionalProperties": { "type": "string" }, "description": "the category's extra fields by code (its Open311 attributes); several values of a list joined by `,`" },
                        "draft": { "type": "boolean", "description": "open as a staff-only draft for triage (chat relay)" },
                        "source_ref": { "type": "string", "description": "where it came from outside (chat message, Open311 request), at most 200 characters" } } })))
            },
            "/cases/{id}": { "get": op("A case with its timeline (staff see every event, others the public ones)", "cases", json!([path_id("id")]), None) },
            "/cases/{id}/attachments": {
                "get": op("A case's photos the caller may see (staff also staff-only ones), oldest first, each with `urls` of its variants: GET /cases/{id}/attachments/{aid}/thumb|display|original (display and thumb are JPEGs without metadata; the original, as uploaded, for staff only)", "cases", json!([path_id("id")]), None),
                "post": {
                    "summary": "Add photos to a case (staff, the units and grids acting on it, its reporter): multipart/form-data with 1 to 9 `photo` parts (JPEG, PNG or WebP, 10 MiB each; the type is read from the bytes), optional `public` (1: visible to non-staff readers; what non-staff add is always public) and `event_seq` (the timeline event it belongs to). 201 with the list; the same bytes again answer with the stored photo. Refusals: 422 naming `photo`, 413 over 100 MiB.",
                    "tags": ["cases"],
                    "parameters": [path_id("id")],
                    "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": { "type": "object", "required": ["photo"], "properties": {
                        "photo": { "type": "array", "items": { "type": "string", "format": "binary" } },
                        "public": { "type": "string" }, "event_seq": { "type": "integer" } } } } } },
                    "responses": problem_responses()
                }
            },
            "/cases/{id}/actions": {
                "post": op("Act on a case: {version, action: {kind, …}} (register, reject, withdraw, merge `{kind: merge, into: case id}`, dispatch, transfer, dispute, first_contact, note, pause, resume, report_handled, verify, close, evaluate, reopen). Deadlines are computed by the server. A stale version answers 409.", "cases", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["version", "action"], "properties": {
                        "version": { "type": "integer" }, "action": { "type": "object", "required": ["kind"], "properties": { "kind": { "type": "string" } } } } })))
            },
            "/triage": { "get": op("The triage queue: drafts and submitted cases in the caller's reach, oldest first, each with merge `suggestions` (score, reasons with labels). Register, reject or merge (`{kind: merge, into: id}`) through /cases/{id}/actions.", "cases", json!([]), None) },
            "/cases/{id}/route": { "get": op("The unit routing suggests for a case (a routing rule, else the category's owning unit type on the case's place), why, and the units a dispatch may pick", "routing", json!([path_id("id")]), None) },
            "/routing/rules": {
                "get": op("The subdistrict's routing rules (admins)", "routing", json!([]), None),
                "post": op("Add a routing rule (admins): cases of a category (and its subcategories; empty = all) in a place's subtree (none = everywhere) go to a unit; the most specific rule wins, then the priority", "routing", json!([]),
                    Some(json!({ "type": "object", "required": ["unit_id"], "properties": {
                        "category_prefix": { "type": "string" }, "node_id": { "type": "integer" },
                        "unit_id": { "type": "integer", "description": "a grid, community, village or subdistrict node, or an organisation" },
                        "priority": { "type": "integer", "minimum": -1000, "maximum": 1000 } } })))
            },
            "/routing/rules/{id}": { "delete": op("Remove a routing rule (admins); 204", "routing", json!([path_id("id")]), None) },
            "/cases/{id}/duplicates": { "get": op("Merge suggestions for a case (same place, category, similar text, time window), best first, with reasons", "cases", json!([path_id("id")]), None) },
            "/cases/{id}/reclassify": {
                "post": op("Correct the category (a leaf) and/or the place (a grid or below) of a draft or submitted case before registration; a staff-only timeline event. A stale version answers 409.", "cases", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["version"], "properties": {
                        "version": { "type": "integer" }, "category": { "type": "string" }, "node_id": { "type": "integer" } } })))
            },
            "/measures": { "get": op("Case measures of a scope and period: counters, and each measure (response, resolution, satisfaction, closure, on_time_closure, rework, handling_time) as numerator, denominator and percent (one decimal, null when the denominator is 0). Cases count by their report day (Shanghai). `period` is this_month (default), last_month, this_quarter, this_year; or give `from`/`to` (YYYY-MM-DD).", "measures",
                json!([query("node_id", "integer"), query("category", "string"), query("owner_unit", "integer"), query("period", "string"), query("from", "string"), query("to", "string")]), None) },
            "/measures/series": { "get": op("The measures per month or ISO week of the period (`bucket` = month or week)", "measures",
                json!([query("node_id", "integer"), query("category", "string"), query("owner_unit", "integer"), query("period", "string"), query("from", "string"), query("to", "string"), query("bucket", "string")]), None) },
            "/measures/grids": { "get": op("The measures of each grid of the scope (grids without cases included)", "measures",
                json!([query("node_id", "integer"), query("category", "string"), query("owner_unit", "integer"), query("period", "string"), query("from", "string"), query("to", "string")]), None) },
            "/five-step/schedules/{node}": {
                "get": op("The five-step schedules of a community or village: weekly meeting, monthly consultation, quarterly review, annual evaluation (daily contact has none)", "five-step", json!([path_id("node")]), None),
                "put": op("Save one schedule `{kind: weekly|monthly|quarterly|annual, rule: {repeat, start, duration_minutes, non_working_day}, place}` (staff of the place)", "five-step", json!([path_id("node")]),
                    Some(json!({ "type": "object", "required": ["kind", "rule"], "properties": { "kind": { "type": "string" }, "rule": { "type": "object" }, "place": { "type": "string" } } }))),
            },
            "/five-step/schedules/{node}/plan": { "post": op("Materialise the schedules' meetings for `from`..`to` (YYYY-MM-DD, default the next 90 days); idempotent, answers `{created, meetings}`", "five-step", json!([path_id("node")]),
                Some(json!({ "type": "object", "properties": { "from": { "type": "string", "format": "date" }, "to": { "type": "string", "format": "date" } } }))) },
            "/five-step/scorecard/{node}": { "get": op("The annual evaluation's scorecard of each grid and of the community for `year`, from the case measures", "five-step", json!([path_id("node"), query("year", "integer")]), None) },
            "/meetings": { "get": op("Meetings the actor may read (`node_id`, `from`/`to` Unix ms)", "five-step", json!([query("node_id", "integer"), query("from", "integer"), query("to", "integer")]), None) },
            "/meetings/{id}": {
                "get": op("A meeting with its agenda, attendance, minutes, decisions and their follow-up actions", "five-step", json!([path_id("id")]), None),
                "patch": op("Change a meeting's place, times or minutes `{place?, start_ms?, end_ms?, minutes?}` (staff)", "five-step", json!([path_id("id")]),
                    Some(json!({ "type": "object", "properties": { "place": { "type": "string" }, "start_ms": { "type": "integer" }, "end_ms": { "type": "integer" }, "minutes": { "type": "string" } } }))),
            },
            "/meetings/{id}/status": { "post": op("Mark a meeting held or cancelled `{status: held|cancelled, reason}`; a cancelled meeting stays in the calendar feeds as STATUS:CANCELLED", "five-step", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["status"], "properties": { "status": { "type": "string" }, "reason": { "type": "string" } } }))) },
            "/meetings/{id}/agenda/draft": { "post": op("Draft the agenda from live data: open actions of earlier meetings, the place's overdue cases, hall topics awaiting a decision, the three rates", "five-step", json!([path_id("id")]), None) },
            "/meetings/{id}/agenda/items": { "post": op("Add an agenda item `{title, detail}`", "five-step", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["title"], "properties": { "title": { "type": "string" }, "detail": { "type": "string" } } }))) },
            "/meetings/{id}/agenda/items/{item}": { "delete": op("Remove an agenda item; 204", "five-step", json!([path_id("id"), path_id("item")]), None) },
            "/meetings/{id}/agenda/items/{item}/move": { "post": op("Move an agenda item `{up: true|false}`", "five-step", json!([path_id("id"), path_id("item")]),
                Some(json!({ "type": "object", "properties": { "up": { "type": "boolean" } } }))) },
            "/meetings/{id}/attendance": { "post": op("Record an attendee `{user_id?, name, status: present|absent|excused}`", "five-step", json!([path_id("id")]),
                Some(json!({ "type": "object", "properties": { "user_id": { "type": "integer" }, "name": { "type": "string" }, "status": { "type": "string" } } }))) },
            "/meetings/{id}/attendance/{aid}": { "delete": op("Remove an attendance record; 204", "five-step", json!([path_id("id"), path_id("aid")]), None) },
            "/meetings/{id}/decisions": { "post": op("Record a decision `{body}`", "five-step", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["body"], "properties": { "body": { "type": "string" } } }))) },
            "/meetings/{id}/decisions/{did}/actions": { "post": op("Add a follow-up action to a decision `{title, owner_unit_id?, owner_user_id?, owner_name, due_on: YYYY-MM-DD}`", "five-step", json!([path_id("id"), path_id("did")]),
                Some(json!({ "type": "object", "required": ["title", "due_on"], "properties": { "title": { "type": "string" }, "owner_unit_id": { "type": "integer" }, "owner_user_id": { "type": "integer" }, "owner_name": { "type": "string" }, "due_on": { "type": "string", "format": "date" } } }))) },
            "/meeting-actions/{id}/done": { "post": op("Mark a follow-up action done", "five-step", json!([path_id("id")]), None) },
            "/meeting-actions/{id}/case": { "post": op("Turn a follow-up action into a case `{category, node_id?, title?, description?}`; the action links the case", "five-step", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["category"], "properties": { "category": { "type": "string" }, "node_id": { "type": "integer" }, "title": { "type": "string" }, "description": { "type": "string" } } }))) },
            "/contacts": {
                "get": op("The daily contact log the actor may read (`node_id`, `user_id`, `from`/`to` Unix ms)", "five-step", json!([query("node_id", "integer"), query("user_id", "integer"), query("from", "integer"), query("to", "integer")]), None),
                "post": op("Record a daily contact `{node_id, occurred_at?, whom, household_id?, person_id?, place, heard, tags}` (grid members and staff)", "five-step", json!([]),
                    Some(json!({ "type": "object", "required": ["node_id", "whom", "heard"], "properties": { "node_id": { "type": "integer" }, "occurred_at": { "type": "integer" }, "whom": { "type": "string" }, "household_id": { "type": "integer" }, "person_id": { "type": "integer" }, "place": { "type": "string" }, "heard": { "type": "string" }, "tags": { "type": "array", "items": { "type": "string" } } } }))),
            },
            "/contacts/{id}": { "get": op("One daily contact", "five-step", json!([path_id("id")]), None) },
            "/contacts/{id}/case": { "post": op("Raise a case from a daily contact `{category, node_id?, title?, description?}`", "five-step", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["category"], "properties": { "category": { "type": "string" }, "node_id": { "type": "integer" }, "title": { "type": "string" }, "description": { "type": "string" } } }))) },
            "/calendar-feed/reset": { "post": op("Issue a new secret for the actor's personal iCalendar feed (`/calendars/me.ics?token=…`); the old address stops working", "five-step", json!([]), None) },
            "/halls": {
                "get": op("Deliberation halls the actor may read (`status` = open, closed or all)", "halls", json!([query("status", "string")]), None),
                "post": op("Open a deliberation hall for a place and a topic (staff reaching the place)", "halls", json!([]),
                    Some(json!({ "type": "object", "required": ["name", "topic", "node_id"], "properties": {
                        "name": { "type": "string" }, "topic": { "type": "string" }, "node_id": { "type": "integer" }, "host_unit_id": { "type": ["integer", "null"] } } })))
            },
            "/halls/pending": { "get": op("Hall topics awaiting a decision under a place: open halls, open questions, unanswered feedback, unsettled mediations, unfinished errands", "halls", json!([query("node_id", "integer")]), None) },
            "/halls/{id}": { "get": op("A hall with its members, its contributions of the five functions with their answers, and what the actor may do", "halls", json!([path_id("id")]), None) },
            "/halls/{id}/close": { "post": op("Close a hall with its outcome (staff)", "halls", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["outcome"], "properties": { "outcome": { "type": "string" } } }))) },
            "/halls/{id}/members": { "post": op("Add a member: a user or an organisation (or a named person) with a role in the hall (staff)", "halls", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["role"], "properties": {
                    "user_id": { "type": ["integer", "null"] }, "org_id": { "type": ["integer", "null"] }, "name": { "type": "string" }, "role": { "type": "string" }, "label": { "type": "string" } } }))) },
            "/halls/{id}/members/{member_id}": { "delete": op("Remove a member (staff); 204", "halls", json!([path_id("id"), path_id("member_id")]), None) },
            "/halls/{id}/items": {
                "get": op("Contributions of one function (`function` = consultation, mediation, feedback, publicity, errand)", "halls", json!([path_id("id"), query("function", "string")]), None),
                "post": op("Add a contribution: a question, a mediation session, an opinion, a notice or an errand request. Staff may record an offline one (`channel` counter, visit, phone, meeting) for a named `speaker` with the time it happened (`occurred_at`, Unix ms)", "halls", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["function"], "properties": {
                        "function": { "type": "string" }, "channel": { "type": "string" }, "speaker": { "type": "string" }, "occurred_at": { "type": ["integer", "null"] } } })))
            },
            "/halls/{id}/items/{item_id}/answers": { "post": op("Answer a question or an opinion (hall members and staff)", "halls", json!([path_id("id"), path_id("item_id")]),
                Some(json!({ "type": "object", "required": ["body"], "properties": { "body": { "type": "string" }, "member_id": { "type": ["integer", "null"] } } }))) },
            "/halls/{id}/items/{item_id}/steps": { "post": op("An errand's next status (accepted, in_progress, done, declined) or a mediation's outcome (agreed with `agreement`, not_agreed, adjourned); a step the state does not allow is 409 with the reason", "halls", json!([path_id("id"), path_id("item_id")]),
                Some(json!({ "type": "object", "required": ["status"], "properties": { "status": { "type": "string" }, "note": { "type": "string" }, "agreement": { "type": "string" } } }))) },
            "/votes": {
                "get": op("Owners' votes the actor may read (`status` filters), each with what the actor may do", "votes", json!([query("status", "string")]), None),
                "post": op("Draft an owners' vote (staff): a scope node (estate, building or stairway unit), one of the nine matters of Civil Code art. 278 (rules_of_procedure, management_covenant, owners_committee, property_company, use_fund, raise_fund, rebuild, change_use, other_major), the form (yes_no, election with seats and candidates, options), labels, thresholds (default from the matter), the voting period and the publicity days. Refused for property_company or a fee change while a re-election period covers the scope.", "votes", json!([]),
                    Some(json!({ "type": "object", "required": ["scope_node_id", "title", "matter", "closes_at"], "properties": {
                        "scope_node_id": { "type": "integer" }, "title": { "type": "string" }, "description": { "type": "string" }, "matter": { "type": "string" },
                        "is_fee_change": { "type": "boolean" }, "form": { "type": "object" }, "labels": { "type": "array", "items": { "type": "string" } },
                        "thresholds": { "type": "object" }, "opens_at": { "type": "integer" }, "closes_at": { "type": "integer" }, "publicity_days": { "type": "integer" } } })))
            },
            "/votes/reelection-periods": {
                "get": op("Owners' committee re-election periods", "votes", json!([]), None),
                "post": op("Record a re-election period on a place (staff); votes on property companies and fee changes in it are refused", "votes", json!([]),
                    Some(json!({ "type": "object", "required": ["node_id", "starts_on", "ends_on"], "properties": {
                        "node_id": { "type": "integer" }, "starts_on": { "type": "string", "format": "date" }, "ends_on": { "type": "string", "format": "date" }, "note": { "type": "string" } } })))
            },
            "/votes/{id}": { "get": op("A vote, what the actor may do, the live tracker (participation, what the quorum still needs in area and owners) and, for staff, the running tally", "votes", json!([path_id("id")]), None) },
            "/votes/{id}/open": { "post": op("Open the vote: freeze the electorate from the registry (refused while the registry has problems unless `override_problems` with a `reason`)", "votes", json!([path_id("id")]),
                Some(json!({ "type": "object", "properties": { "override_problems": { "type": "boolean" }, "reason": { "type": "string" } } }))) },
            "/votes/{id}/ballots": { "post": op("Cast an owner's ballot online; 201 with the receipt; 409 for a second ballot of the same voter or outside the period; 403 for a non-owner; 422 for a choice that does not fit the form", "votes", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["choice"], "properties": { "voter_key": { "type": "string" }, "choice": { "type": "object" } } }))) },
            "/votes/{id}/receipts": { "get": op("The public list of ballot receipts (no voter, no choice)", "votes", json!([path_id("id")]), None) },
            "/votes/{id}/paper": {
                "get": op("Paper and proxy ballots entered and awaiting a second person's check (staff)", "votes", json!([path_id("id")]), None),
                "post": op("Enter a paper ballot, or a written proxy with its scanned authorisation (base64), for a voter (staff); it counts once another staff user confirms it", "votes", json!([path_id("id")]),
                    Some(json!({ "type": "object", "required": ["voter_key", "choice"], "properties": { "voter_key": { "type": "string" }, "choice": { "type": "object" }, "proxy_holder": { "type": "string" }, "proxy_file_base64": { "type": "string" } } })))
            },
            "/votes/{id}/paper/{pid}/confirm": { "post": op("Confirm a paper ballot entered by someone else; 201 with its receipt", "votes", json!([path_id("id"), path_id("pid")]), None) },
            "/votes/{id}/paper/{pid}/reject": { "post": op("Reject a paper ballot entry with a note", "votes", json!([path_id("id"), path_id("pid")]),
                Some(json!({ "type": "object", "properties": { "note": { "type": "string" } } }))) },
            "/votes/{id}/close": { "post": op("Close the vote after its period and count it", "votes", json!([path_id("id")]), None) },
            "/votes/{id}/publish": { "post": op("Publish the result as a notice for the publicity period", "votes", json!([path_id("id")]), None) },
            "/votes/{id}/cancel": { "post": op("Cancel a vote with a reason", "votes", json!([path_id("id")]),
                Some(json!({ "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string" } } }))) },
            "/votes/{id}/notice": { "get": op("The published result notice", "votes", json!([path_id("id")]), None) },
            "/votes/{id}/export": { "get": op("The vote's export (redbutler-vote-export/1): header, frozen electorate, hash-chained ballots, published result; check it offline with `redbutler vote verify FILE`", "votes", json!([path_id("id")]), None) },
            "/relay/messages": {
                "post": op("Group-chat relay webhook: one relayed message. Authenticate with the API token of the relay bot user (a subdistrict staff or admin grant). Every message is kept in the relay log; a bound group's message becomes a draft case (chit-chat is only kept); a re-sent message (same group_id and message_id) answers 200 with the stored row and makes nothing new; a new one answers 201.", "relay", json!([]),
                    Some(json!({ "type": "object", "required": ["group_id", "message_id", "text", "sent_at"], "properties": {
                        "group_id": { "type": "string" }, "group_name": { "type": "string" }, "sender_id": { "type": "string" }, "sender_name": { "type": "string" },
                        "text": { "type": "string" }, "sent_at": { "type": "integer", "description": "Unix ms" }, "message_id": { "type": "string" },
                        "images": { "type": "array", "items": { "type": "string", "format": "uri" } } } }))),
                "get": op("The relay log, newest first (admins); `outcome` is draft, chit_chat, unbound or failed", "relay", json!([query("group_id", "string"), query("outcome", "string"), query("limit", "integer")]), None)
            },
            "/relay/groups": { "get": op("Chat groups the relay has heard from, with their bindings (admins)", "relay", json!([]), None) },
            "/relay/groups/{group_id}": {
                "put": op("Bind a chat group to a grid, building, unit or village group (`node_id`), or unbind it (`null`); binding turns the group's kept messages into drafts (admins)", "relay",
                    json!([{ "name": "group_id", "in": "path", "required": true, "schema": { "type": "string" } }]),
                    Some(json!({ "type": "object", "required": ["node_id"], "properties": { "node_id": { "type": ["integer", "null"] } } })))
            },
            "/open311/settings": {
                "get": op("Open311 intake settings: the default node for requests without an address_id, and the bounding box (microdegrees) lat/long must fall in (admins). Open311 itself is served at /open311/v2/ (discovery.json).", "open311", json!([]), None),
                "put": op("Set the Open311 intake settings (admins); the box needs all four sides or none", "open311", json!([]),
                    Some(json!({ "type": "object", "properties": {
                        "default_node_id": { "type": ["integer", "null"] }, "min_lat_e6": { "type": ["integer", "null"] }, "max_lat_e6": { "type": ["integer", "null"] },
                        "min_lng_e6": { "type": ["integer", "null"] }, "max_lng_e6": { "type": ["integer", "null"] } } })))
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
