-- Migration 13: the five-step method (五步工作法): schedules, meetings with their agenda,
-- attendance, decisions and follow-up actions, the daily contact log, and calendar feed tokens.
--
-- meeting_schedules: one rule per community or village and meeting kind (weekly_meeting,
-- monthly_consultation, quarterly_review, annual_evaluation); `rule_json` is a
-- `deliberation::cadence::Rule`.
CREATE TABLE meeting_schedules (
    subdistrict_id {int} NOT NULL,
    node_id {int} NOT NULL,
    kind TEXT NOT NULL,
    rule_json TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    updated_by {int},
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, node_id, kind)
){strict};

-- meetings: one occurrence, materialised from its schedule. `occurs_on` is the local date as
-- yyyymmdd; the unique key (node, kind, date) makes planning idempotent. `status` is planned,
-- held or cancelled (`cancel_reason`). `sequence` is the iCalendar SEQUENCE, raised when the
-- time changes or the meeting is cancelled.
CREATE TABLE meetings (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurs_on {int} NOT NULL,
    start_ms {int} NOT NULL,
    end_ms {int} NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    cancel_reason TEXT NOT NULL DEFAULT '',
    minutes TEXT NOT NULL DEFAULT '',
    sequence {int} NOT NULL DEFAULT 0,
    agenda_drafted_at {int},
    created_by {int},
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX meetings_occurrence ON meetings (subdistrict_id, node_id, kind, occurs_on);
CREATE INDEX meetings_path ON meetings (subdistrict_id, node_path, start_ms);

-- meeting_agenda_items: the agenda, a snapshot of `agenda::draft` when staff drafted it, then
-- edited (items added and removed). `source_kind` case | hall_topic | action | grid, with ids.
CREATE TABLE meeting_agenda_items (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    meeting_id {int} NOT NULL,
    position {int} NOT NULL,
    section TEXT NOT NULL,
    item_kind TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    detail_zh TEXT NOT NULL DEFAULT '',
    detail_en TEXT NOT NULL DEFAULT '',
    source_kind TEXT NOT NULL DEFAULT '',
    source_id {int},
    source_id2 {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX meeting_agenda_items_meeting ON meeting_agenda_items (subdistrict_id, meeting_id, position);

-- meeting_attendance: a user or a free name, present | absent | excused.
CREATE TABLE meeting_attendance (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    meeting_id {int} NOT NULL,
    user_id {int},
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX meeting_attendance_name ON meeting_attendance (subdistrict_id, meeting_id, name);
CREATE INDEX meeting_attendance_user ON meeting_attendance (subdistrict_id, user_id);

CREATE TABLE meeting_decisions (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    meeting_id {int} NOT NULL,
    body TEXT NOT NULL,
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX meeting_decisions_meeting ON meeting_decisions (subdistrict_id, meeting_id);

-- meeting_actions: follow-up of a decision. The owner is a unit (node or organisation,
-- `owner_unit_id`), a user, or a free name (`owner_name` always holds the name shown).
-- `due_on` yyyymmdd. `status` open → done, or → case (`case_id`, opened through the case store).
-- `node_id`/`kind` copy the meeting's, so the next agenda finds open actions in one query.
CREATE TABLE meeting_actions (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    meeting_id {int} NOT NULL,
    decision_id {int} NOT NULL,
    node_id {int} NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    owner_unit_id {int},
    owner_user_id {int},
    owner_name TEXT NOT NULL DEFAULT '',
    due_on {int},
    status TEXT NOT NULL,
    case_id {int},
    done_at {int},
    created_by {int},
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX meeting_actions_meeting ON meeting_actions (subdistrict_id, meeting_id);
CREATE INDEX meeting_actions_open ON meeting_actions (subdistrict_id, node_id, kind, status);

-- contact_logs: the daily contact log (日常联系). `node_path` copies the place's path.
-- `whom` is a free name; `household_id`/`person_id` optional references. `tags` is a
-- comma-separated list. `case_id` is set when a case was raised from it.
CREATE TABLE contact_logs (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    occurred_at {int} NOT NULL,
    whom TEXT NOT NULL,
    household_id {int},
    person_id {int},
    place TEXT NOT NULL DEFAULT '',
    heard TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    recorded_by {int},
    recorded_at {int} NOT NULL,
    case_id {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX contact_logs_path ON contact_logs (subdistrict_id, node_path, occurred_at);
CREATE INDEX contact_logs_user ON contact_logs (subdistrict_id, recorded_by, occurred_at);

-- calendar_feed_tokens: one secret per user for the iCalendar feeds (calendar apps cannot log
-- in); only the digest is kept. Resetting replaces the row.
CREATE TABLE calendar_feed_tokens (
    subdistrict_id {int} NOT NULL,
    user_id {int} NOT NULL,
    token_digest TEXT NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, user_id)
){strict};
CREATE UNIQUE INDEX calendar_feed_tokens_digest ON calendar_feed_tokens (subdistrict_id, token_digest);
