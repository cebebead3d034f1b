-- Migration 16: owners' committees (业主委员会) and their re-elections (换届).
--
-- owners_committees: one committee per estate node (a community, grid or building; `node_path`
-- copies its tree path). `org_id` is its row in `orgs` (kind 'owners_committee').
-- `running_reelection_id` is the re-election in progress, if any: starting one is a
-- conditional UPDATE on it (… WHERE running_reelection_id IS NULL), so two starts at once
-- make one process. `version` is bumped by every change to the membership, which locks the
-- row while the seats are counted.
CREATE TABLE owners_committees (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    org_id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    name TEXT NOT NULL,
    running_reelection_id {int},
    version {int} NOT NULL DEFAULT 0,
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX owners_committees_node ON owners_committees (subdistrict_id, node_id);
CREATE UNIQUE INDEX owners_committees_org ON owners_committees (subdistrict_id, org_id);
CREATE INDEX owners_committees_path ON owners_committees (subdistrict_id, node_path);

-- committee_terms: the committee's successive terms (届), numbered from 1. `seats` is the
-- size elected (odd, at least 5; 3 for small estates), `term_years` 3 to 5; `starts_on` and
-- `ends_on` (the term's last day, Civil Code art. 202) are Shanghai dates 'YYYY-MM-DD';
-- `ended_on` is set when the next term takes over. `reelection_id` is the process that
-- elected it (none for the first term recorded). The current term is the highest number.
-- `alerted_at`: when the subdistrict was told the term ends (once per term, set by a
-- conditional UPDATE so two sweeps never tell it twice).
CREATE TABLE committee_terms (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    committee_id {int} NOT NULL,
    number {int} NOT NULL,
    seats {int} NOT NULL,
    term_years {int} NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    ended_on TEXT,
    reelection_id {int},
    alerted_at {int},
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX committee_terms_number ON committee_terms (subdistrict_id, committee_id, number);

-- committee_members: who sits on a term, with an office (chair, vice_chair, member) and
-- dates. A member who leaves keeps the row: `ends_on`, `end_reason` (resigned, removed, died,
-- term_ended, other) and a note. `person_id` links the registry's person when known; `name`
-- is the name as announced. `chair_key` is the committee id while the member is the sitting
-- chair and NULL otherwise: its unique index keeps one chair at a time on both engines.
CREATE TABLE committee_members (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    committee_id {int} NOT NULL,
    term_id {int} NOT NULL,
    person_id {int},
    name TEXT NOT NULL,
    office TEXT NOT NULL,
    chair_key {int},
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    end_reason TEXT,
    end_note TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    ended_by {int},
    ended_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX committee_members_committee ON committee_members (subdistrict_id, committee_id);
CREATE UNIQUE INDEX committee_members_chair ON committee_members (subdistrict_id, chair_key);

-- committee_activities: what the committee did (a meeting held, a decision taken, other), on a
-- Shanghai date; the latest one is what the six-months-inactive trigger looks at.
CREATE TABLE committee_activities (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    committee_id {int} NOT NULL,
    kind TEXT NOT NULL,
    held_on TEXT NOT NULL,
    title TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    recorded_by {int},
    recorded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX committee_activities_committee ON committee_activities (subdistrict_id, committee_id, held_on);

-- committee_reelections: one re-election process. `trigger_kind`: term_end, few_members,
-- inactive, other. `status`: running → completed (filing recorded), or cancelled (with its
-- reason; the period ends then too).
-- `period_id` is the `reelection_periods` row it opened (which refuses company-selection and
-- fee votes while it lasts). `vote_id` is the election vote, `new_term_id` the term it made.
CREATE TABLE committee_reelections (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    committee_id {int} NOT NULL,
    trigger_kind TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    term_years {int} NOT NULL,
    status TEXT NOT NULL,
    started_on TEXT NOT NULL,
    period_id {int} NOT NULL,
    vote_id {int},
    elected TEXT NOT NULL DEFAULT '[]',
    seats {int},
    new_term_id {int},
    completed_on TEXT,
    created_by {int},
    created_at {int} NOT NULL,
    completed_at {int},
    cancel_reason TEXT NOT NULL DEFAULT '',
    cancelled_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX committee_reelections_committee ON committee_reelections (subdistrict_id, committee_id);
CREATE INDEX committee_reelections_started ON committee_reelections (subdistrict_id, created_at);

-- reelection_steps: the steps recorded (renewal_group, candidates, election, handover,
-- filing), each once: the primary key refuses a second record of the same step.
CREATE TABLE reelection_steps (
    subdistrict_id {int} NOT NULL,
    reelection_id {int} NOT NULL,
    step TEXT NOT NULL,
    done_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    done_by {int},
    done_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, reelection_id, step)
){strict};

-- The re-election period (migration 14) a process opened: while it runs, `ends_on` is '' and
-- `ends_at` the largest instant; recording the filing ends it.
ALTER TABLE reelection_periods ADD COLUMN committee_id {int};
ALTER TABLE reelection_periods ADD COLUMN reelection_id {int};
