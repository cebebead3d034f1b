-- Migration 18: lawyer mediation (律师调解) of property disputes.
--
-- law_firm_engagements: a law firm (orgs.kind 'law_firm') engaged for a place (a community or
-- village, or the subdistrict; `node_path` copies its tree path) from `starts_on` to `ends_on`
-- ('YYYY-MM-DD', Asia/Shanghai, both included). Mediation cases at a place are assigned to
-- lawyers of a firm engaged there on the day of assignment.
CREATE TABLE law_firm_engagements (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    firm_id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX law_firm_engagements_path ON law_firm_engagements (subdistrict_id, node_path);

-- mediation_cases: one property dispute. `kind` fee_arrears / repairs / noise / parking / leaks /
-- other; `status` filed → assigned → in_session → agreement_reached | no_agreement | withdrawn
-- → follow_up_done. The assigned lawyer is a user holding the lawyer role for `firm_id`, under
-- `engagement_id`. `outcome` holds the agreement text or why none was reached (or the
-- withdrawal's reason). `version` guards concurrent steps.
CREATE TABLE mediation_cases (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL,
    firm_id {int},
    engagement_id {int},
    lawyer_user_id {int},
    outcome TEXT NOT NULL DEFAULT '',
    filed_by {int},
    filed_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    version {int} NOT NULL DEFAULT 1,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX mediation_cases_path ON mediation_cases (subdistrict_id, node_path);
CREATE INDEX mediation_cases_lawyer ON mediation_cases (subdistrict_id, lawyer_user_id);

-- mediation_parties: the applicants and respondents. A party is a person (`person_id`), an
-- organisation (`org_id`, e.g. the property company), or only a name; `name` is what lists show
-- (a person's name is masked there).
CREATE TABLE mediation_parties (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    case_id {int} NOT NULL,
    side TEXT NOT NULL,
    person_id {int},
    org_id {int},
    name TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX mediation_parties_case ON mediation_parties (subdistrict_id, case_id);

-- mediation_sessions: when and where the parties met, who attended, the notes.
CREATE TABLE mediation_sessions (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    case_id {int} NOT NULL,
    held_at {int} NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    attendees TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    recorded_by {int},
    recorded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX mediation_sessions_case ON mediation_sessions (subdistrict_id, case_id, held_at);

-- mediation_followups: what is checked after the outcome (payment made, repair done): a due
-- date, then done (`done_at`, `note`) or raised as a case (`raised_case_id`).
CREATE TABLE mediation_followups (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    case_id {int} NOT NULL,
    due_on TEXT NOT NULL,
    what TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    raised_case_id {int},
    done_at {int},
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX mediation_followups_case ON mediation_followups (subdistrict_id, case_id);
