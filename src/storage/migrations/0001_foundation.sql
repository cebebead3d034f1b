-- Foundation schema: tenants, the org tree, rooms, people, accounts, roles, audit.
-- Written once for both engines. The runner replaces {int} (INTEGER / BIGINT),
-- {blob} (BLOB / BYTEA) and {strict} (STRICT on SQLite, nothing on PostgreSQL).
-- Every table leads its primary and unique keys with subdistrict_id, the tenant key.
-- Times are Unix milliseconds (UTC); areas are hundredths of a square metre.

CREATE TABLE subdistricts (
    subdistrict_id {int} NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id)
){strict};
CREATE UNIQUE INDEX subdistricts_code ON subdistricts (code);

-- The org tree. kind: subdistrict, community, village, grid, building, unit, village_group.
-- path is the materialised path of ids, "/root/.../self/", so a subtree is a prefix.
CREATE TABLE nodes (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    parent_id {int},
    kind TEXT NOT NULL,
    track TEXT,
    name TEXT NOT NULL,
    code TEXT,
    path TEXT NOT NULL,
    depth {int} NOT NULL,
    sort_key {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX nodes_parent ON nodes (subdistrict_id, parent_id, sort_key);
CREATE INDEX nodes_path ON nodes (subdistrict_id, path);
CREATE UNIQUE INDEX nodes_sibling_name ON nodes (subdistrict_id, parent_id, name);

-- Organisations hanging on the tree: developer, property_company, owners_committee,
-- residents_committee, village_committee, party_committee, pairing_unit, social_org,
-- audit_firm, law_firm.
CREATE TABLE orgs (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    node_id {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX orgs_kind_name ON orgs (subdistrict_id, kind, name);

-- Service venues on the tree: acceptance_point, agency_point, self_service_24h,
-- service_station, parlour, living_room.
CREATE TABLE venues (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    node_id {int} NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX venues_node ON venues (subdistrict_id, node_id);

-- Rooms (exclusive units) under a building, unit or village group node.
CREATE TABLE rooms (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    number TEXT NOT NULL,
    floor {int},
    registered_area {int},
    surveyed_area {int},
    contract_area {int},
    developer_unsold {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX rooms_number ON rooms (subdistrict_id, node_id, number);

-- People. Sensitive fields are sealed (AES-256-GCM); the masks are stored for lists;
-- id_digest is a keyed hash of the ID number, to find the same person again.
CREATE TABLE persons (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    name TEXT NOT NULL,
    gender TEXT NOT NULL DEFAULT '',
    birth_year {int},
    phone_sealed {blob},
    phone_mask TEXT NOT NULL DEFAULT '',
    id_sealed {blob},
    id_mask TEXT NOT NULL DEFAULT '',
    id_digest TEXT,
    address_sealed {blob},
    address_mask TEXT NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX persons_id_digest ON persons (subdistrict_id, id_digest);

-- Owners of a room: a person or an organisation (the developer for unsold rooms).
CREATE TABLE room_owners (
    subdistrict_id {int} NOT NULL,
    room_id {int} NOT NULL,
    person_id {int} NOT NULL DEFAULT 0,
    org_id {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (subdistrict_id, room_id, person_id, org_id)
){strict};
CREATE INDEX room_owners_person ON room_owners (subdistrict_id, person_id);

CREATE TABLE households (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    room_id {int},
    label TEXT NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX households_node ON households (subdistrict_id, node_id);
CREATE INDEX households_room ON households (subdistrict_id, room_id);

CREATE TABLE household_members (
    subdistrict_id {int} NOT NULL,
    household_id {int} NOT NULL,
    person_id {int} NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, household_id, person_id)
){strict};
CREATE INDEX household_members_person ON household_members (subdistrict_id, person_id);

CREATE TABLE users (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    person_id {int},
    disabled {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL,
    password_changed_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX users_username ON users (subdistrict_id, username);

-- Role grants: role at a node (reaching its subtree), or at a room or an organisation.
CREATE TABLE role_grants (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    user_id {int} NOT NULL,
    role TEXT NOT NULL,
    node_id {int},
    room_id {int},
    org_id {int},
    granted_by {int},
    granted_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX role_grants_user ON role_grants (subdistrict_id, user_id);
CREATE INDEX role_grants_node ON role_grants (subdistrict_id, node_id);

CREATE TABLE sessions (
    subdistrict_id {int} NOT NULL,
    token_digest TEXT NOT NULL,
    user_id {int} NOT NULL,
    csrf TEXT NOT NULL,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, token_digest)
){strict};
CREATE INDEX sessions_user ON sessions (subdistrict_id, user_id);

CREATE TABLE api_tokens (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    user_id {int} NOT NULL,
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL,
    created_at {int} NOT NULL,
    revoked_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX api_tokens_digest ON api_tokens (subdistrict_id, token_digest);

-- Failed logins per user name (also for names that do not exist, so the answer
-- does not tell which accounts exist).
CREATE TABLE login_failures (
    subdistrict_id {int} NOT NULL,
    username TEXT NOT NULL,
    failures {int} NOT NULL,
    last_failure_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, username)
){strict};

-- Append-only: triggers in the dialect-specific migration refuse UPDATE and DELETE.
CREATE TABLE audit_log (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    at {int} NOT NULL,
    actor_user_id {int},
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id {int},
    subject_label TEXT NOT NULL DEFAULT '',
    before_json TEXT,
    after_json TEXT,
    reason TEXT,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX audit_log_at ON audit_log (subdistrict_id, at);
CREATE INDEX audit_log_subject ON audit_log (subdistrict_id, subject_type, subject_id);
CREATE INDEX audit_log_actor ON audit_log (subdistrict_id, actor_user_id, at);
