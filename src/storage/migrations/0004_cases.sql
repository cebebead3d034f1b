-- The closed case loop (说事/办事): cases, their timelines, and the idempotency keys of the
-- requests that opened them. `lifecycle_json` is the whole `cases::lifecycle::Case` (serde)
-- so nothing the rules keep is lost; `state` and `version` are copied out of it for queries
-- and for optimistic concurrency (`UPDATE … WHERE version = $expected`).
CREATE TABLE cases (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    number TEXT NOT NULL,
    category TEXT NOT NULL,
    node_id {int} NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    reporter_user_id {int},
    reporter_name TEXT NOT NULL DEFAULT '',
    reporter_phone_mask TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    version {int} NOT NULL,
    lifecycle_json TEXT NOT NULL,
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX cases_number ON cases (subdistrict_id, number);
CREATE INDEX cases_node ON cases (subdistrict_id, node_id);
CREATE INDEX cases_state ON cases (subdistrict_id, state);
CREATE INDEX cases_reporter ON cases (subdistrict_id, reporter_user_id);

-- The timeline: append-only, numbered from 1 per case.
CREATE TABLE case_events (
    subdistrict_id {int} NOT NULL,
    case_id {int} NOT NULL,
    seq {int} NOT NULL,
    at {int} NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    public {int} NOT NULL,
    data_json TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, case_id, seq)
){strict};

-- One row per (user, Idempotency-Key): the digest of the request body and the answer given,
-- so a replay gets the same answer and a second concurrent request loses on the primary key.
CREATE TABLE idempotency_keys (
    subdistrict_id {int} NOT NULL,
    user_id {int} NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    case_id {int} NOT NULL,
    response_json TEXT NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, user_id, idempotency_key)
){strict};
