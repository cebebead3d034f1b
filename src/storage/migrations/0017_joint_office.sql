-- Migration 17: the troika's joint office (三驾马车合署办公).
--
-- joint_offices: one office per estate place (a community, grid or building node; `node_path`
-- copies the place's tree path so lists filter a subtree by prefix) with its three parties (the
-- residents' committee, the owners' committee and the property company, as org ids; a party may
-- be missing while, say, an owners' committee is not yet formed), its fixed weekly hours
-- (`slots`: a JSON list of {"weekday": "tuesday", "start": "09:00", "end": "11:30"}), whether
-- sessions falling on a holiday of the working-day calendar are skipped (`skip_holidays` 0/1),
-- and the check-in tolerance in minutes. `version` guards concurrent edits.
CREATE TABLE joint_offices (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    name TEXT NOT NULL,
    room TEXT NOT NULL DEFAULT '',
    residents_committee_id {int},
    owners_committee_id {int},
    property_company_id {int},
    slots TEXT NOT NULL DEFAULT '[]',
    skip_holidays {int} NOT NULL DEFAULT 1,
    tolerance_minutes {int} NOT NULL DEFAULT 15,
    created_by {int},
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    version {int} NOT NULL DEFAULT 1,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX joint_offices_name ON joint_offices (subdistrict_id, node_id, name);
CREATE INDEX joint_offices_path ON joint_offices (subdistrict_id, node_path);

-- joint_office_sessions: one sitting of the office, materialised when first needed (a check-in,
-- a visitor or a matter recorded against it). The unique key (office, day, start) makes the
-- materialisation idempotent; `day` is 'YYYY-MM-DD' in Asia/Shanghai, `start_min`/`end_min`
-- the slot's minutes after midnight, `start_at`/`end_at` the same as Unix ms.
CREATE TABLE joint_office_sessions (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    office_id {int} NOT NULL,
    day TEXT NOT NULL,
    start_min {int} NOT NULL,
    end_min {int} NOT NULL,
    start_at {int} NOT NULL,
    end_at {int} NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX joint_office_sessions_key
    ON joint_office_sessions (subdistrict_id, office_id, day, start_min);

-- joint_office_checkins: a party present at a session, once per party (unique key). `at` is
-- when it checked in, `late_minutes` how far past the start plus tolerance (0 when on time),
-- `left_at` an optional check-out and `left_early` whether it was before the end minus the
-- tolerance. `user_id` is who checked in; `recorded_by` differs when staff recorded it for them.
CREATE TABLE joint_office_checkins (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    office_id {int} NOT NULL,
    session_id {int} NOT NULL,
    party TEXT NOT NULL,
    user_id {int},
    at {int} NOT NULL,
    late_minutes {int} NOT NULL DEFAULT 0,
    left_at {int},
    left_early {int} NOT NULL DEFAULT 0,
    recorded_by {int},
    recorded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX joint_office_checkins_party
    ON joint_office_checkins (subdistrict_id, session_id, party);
CREATE INDEX joint_office_checkins_office ON joint_office_checkins (subdistrict_id, office_id, at);

-- joint_office_visitors: the visitor log. The name is personal data: lists show it masked
-- (张**); no phone is kept (a matter raised as a case carries the contact there).
CREATE TABLE joint_office_visitors (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    office_id {int} NOT NULL,
    session_id {int},
    visited_at {int} NOT NULL,
    name TEXT NOT NULL,
    purpose TEXT NOT NULL DEFAULT '',
    recorded_by {int},
    recorded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX joint_office_visitors_office ON joint_office_visitors (subdistrict_id, office_id, visited_at);

-- joint_office_matters: matters raised at the office, the party that takes each one
-- (`party`), and its status: open → case (raised as a case, `case_id`) or done (settled there,
-- `resolution`).
CREATE TABLE joint_office_matters (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    office_id {int} NOT NULL,
    session_id {int},
    visitor_id {int},
    raised_at {int} NOT NULL,
    body TEXT NOT NULL,
    party TEXT NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT NOT NULL DEFAULT '',
    case_id {int},
    recorded_by {int},
    recorded_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX joint_office_matters_office ON joint_office_matters (subdistrict_id, office_id, raised_at);
