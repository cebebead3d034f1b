-- Migration 24: third-party audit engagements (第三方审计). Not the audit LOG (`audit_log`,
-- migration 2): these are engagements of an outside audit firm to examine an estate's accounts.
--
-- audit_engagements: an audit firm (orgs.kind 'audit_firm') engaged to audit one estate (a
-- community, grid or building; `node_path` copies its tree path). `kind` annual / term_end /
-- special. `accounts` is the set audited, comma-separated codes in a fixed order
-- ('maintenance_fund', 'public_income'). `period_from`..`period_to` bound the records' value
-- dates; `starts_on`..`ends_on` is the auditors' access window. All dates 'YYYY-MM-DD',
-- Asia/Shanghai, both ends included. `version` guards the report steps.
CREATE TABLE audit_engagements (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    firm_id {int} NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    accounts TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    version {int} NOT NULL DEFAULT 1,
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX audit_engagements_path ON audit_engagements (subdistrict_id, node_path);
CREATE INDEX audit_engagements_firm ON audit_engagements (subdistrict_id, firm_id);

-- audit_engagement_auditors: the auditors named on an engagement (users holding the auditor
-- role for the engagement's firm when named).
CREATE TABLE audit_engagement_auditors (
    subdistrict_id {int} NOT NULL,
    engagement_id {int} NOT NULL,
    user_id {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, engagement_id, user_id)
){strict};
CREATE INDEX audit_engagement_auditors_user ON audit_engagement_auditors (subdistrict_id, user_id);

-- audit_engagement_findings: what an auditor found. `severity` advisory / moderate / significant / critical;
-- `account` the account concerned; `building_id` + `posting_seq` optionally the fund posting.
-- `status` open → responded → closed (the auditor closes, with `close_note`); `version` guards
-- concurrent steps.
CREATE TABLE audit_engagement_findings (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    engagement_id {int} NOT NULL,
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    severity TEXT NOT NULL,
    account TEXT NOT NULL,
    building_id {int},
    posting_seq {int},
    status TEXT NOT NULL,
    close_note TEXT NOT NULL DEFAULT '',
    closed_by {int},
    closed_at {int},
    version {int} NOT NULL DEFAULT 1,
    created_by {int} NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX audit_engagement_findings_by_engagement ON audit_engagement_findings (subdistrict_id, engagement_id, created_at);

-- audit_engagement_responses: answers to a finding. `side` committee / company / staff says in what
-- capacity the user answered.
CREATE TABLE audit_engagement_responses (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    finding_id {int} NOT NULL,
    engagement_id {int} NOT NULL,
    side TEXT NOT NULL,
    body TEXT NOT NULL,
    user_id {int} NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX audit_engagement_responses_by_finding ON audit_engagement_responses (subdistrict_id, finding_id, created_at);

-- audit_engagement_reports: the report of an engagement (one; the primary key makes a second submission
-- racing the first a conflict). An optional document (`doc_*`, its type sniffed from the
-- bytes). `published_on` is the Shanghai date staff published it: owners of the estate read it
-- from that day through `published_on` + 30 days.
CREATE TABLE audit_engagement_reports (
    subdistrict_id {int} NOT NULL,
    engagement_id {int} NOT NULL,
    summary TEXT NOT NULL,
    doc_name TEXT NOT NULL DEFAULT '',
    doc_type TEXT NOT NULL DEFAULT '',
    doc_size {int} NOT NULL DEFAULT 0,
    doc_sha256 TEXT NOT NULL DEFAULT '',
    doc_bytes {blob} NOT NULL,
    submitted_by {int} NOT NULL,
    submitted_at {int} NOT NULL,
    published_by {int},
    published_at {int},
    published_on TEXT,
    PRIMARY KEY (subdistrict_id, engagement_id)
){strict};
