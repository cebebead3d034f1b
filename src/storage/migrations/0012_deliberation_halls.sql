-- Migration 12: deliberation halls (议事厅) and their five functions.
--
-- deliberation_halls: a standing forum for one topic at one place (a community, grid, building
-- or unit; `node_path` copies the place's tree path so lists filter a subtree by prefix), hosted
-- by a unit (`host_unit_id`: a node that owns cases or an organisation, as routing knows units).
-- `status` is 'open' or 'closed'; a closed hall carries its outcome summary.
CREATE TABLE deliberation_halls (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    name TEXT NOT NULL,
    topic TEXT NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    host_unit_id {int},
    status TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    closed_by {int},
    closed_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX deliberation_halls_path ON deliberation_halls (subdistrict_id, node_path);

-- hall_members: who takes part, with a role from a fixed set (host, participant_unit,
-- resident_rep, mediator, lawyer, expert, other) and a free label ("加装电梯第三方").
-- A member is a user (`user_id`), an organisation (`org_id`), or only a name. Removed members
-- keep their row (`removed_at`), so answers keep naming who gave them.
CREATE TABLE hall_members (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    hall_id {int} NOT NULL,
    user_id {int},
    org_id {int},
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    added_by {int},
    added_at {int} NOT NULL,
    removed_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX hall_members_hall ON hall_members (subdistrict_id, hall_id);

-- hall_items: one row per contribution to one of the five functions (`func`):
--   consultation  a question; status open → answered (by an answer in hall_replies)
--   feedback      an opinion, `stance` support / oppose / suggestion; status open → answered
--   publicity     a document or notice: title, body, optional link; status published
--   mediation     a session: title (the dispute), `parties` (JSON list of labels),
--                 `mediator_member_id` / `mediator_name`, `scheduled_at`, `venue`, status
--                 pending → agreed / not_agreed / adjourned, `agreement` text
--   errand        a task done for `on_behalf_of`: status requested → accepted → in_progress
--                 → done, or declined; each step is a row in hall_replies
-- Provenance, for every function: `channel` is 'online' (the person themselves, `author_user_id`)
-- or an offline way (counter, visit, phone, meeting) entered by staff (`recorded_by`) on behalf
-- of the named `speaker`, with `occurred_at` the time it really happened.
CREATE TABLE hall_items (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    hall_id {int} NOT NULL,
    func TEXT NOT NULL,
    status TEXT NOT NULL,
    stance TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    parties TEXT NOT NULL DEFAULT '[]',
    mediator_member_id {int},
    mediator_name TEXT NOT NULL DEFAULT '',
    scheduled_at {int},
    venue TEXT NOT NULL DEFAULT '',
    agreement TEXT NOT NULL DEFAULT '',
    on_behalf_of TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    speaker TEXT NOT NULL DEFAULT '',
    author_user_id {int},
    recorded_by {int},
    occurred_at {int} NOT NULL,
    recorded_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    version {int} NOT NULL DEFAULT 1,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX hall_items_hall ON hall_items (subdistrict_id, hall_id, func, status);

-- hall_replies: the answers to a consultation or a feedback (`kind` 'answer', by a member or
-- staff, `member_id` naming the member it speaks for), and the steps of an errand or the
-- outcomes of a mediation (`kind` 'step', `status_to` the status it moved to, the note in
-- `body`). Same provenance columns as hall_items.
CREATE TABLE hall_replies (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    hall_id {int} NOT NULL,
    item_id {int} NOT NULL,
    kind TEXT NOT NULL,
    status_to TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    member_id {int},
    channel TEXT NOT NULL,
    speaker TEXT NOT NULL DEFAULT '',
    author_user_id {int},
    recorded_by {int},
    occurred_at {int} NOT NULL,
    recorded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX hall_replies_item ON hall_replies (subdistrict_id, item_id, recorded_at);
