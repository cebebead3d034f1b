-- Migration 19: property companies (物业服务企业), their contracts per estate, the selection
-- process (选聘) with its bids, and the fee adjustment process (物业费调价).
-- Dates are 'YYYY-MM-DD' in Asia/Shanghai; money in fen; fee standards in fen per m² per month.

-- property_companies: the details of an `orgs` row of kind 'property_company'.
-- credit_code is the unified social credit code (NULL when not known: NULLs never collide).
CREATE TABLE property_companies (
    subdistrict_id {int} NOT NULL,
    org_id {int} NOT NULL,
    credit_code TEXT,
    licence TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    hotline TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, org_id)
){strict};
CREATE UNIQUE INDEX property_companies_credit ON property_companies (subdistrict_id, credit_code);

-- property_estates: one row per estate (a community or grid node) that has contracts; every
-- contract write moves `version` with `UPDATE … WHERE version = seen`, so two writes racing on
-- one estate cannot both pass the overlap check.
CREATE TABLE property_estates (
    subdistrict_id {int} NOT NULL,
    node_id {int} NOT NULL,
    version {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, node_id)
){strict};

-- property_contracts: a company's contract for an estate. `model` is 'fixed_fee' (包干制) or
-- 'commission' (酬金制, with `commission_bp`). The status is computed from the dates and the
-- notice (rules::status_on): upcoming, active, ended, dismissed, not_renewed.
-- A notice (`notice_kind` 'dismissal' | 'non_renewal', '' for none) is given at most once:
-- dismissal with the owners' vote (`notice_vote_id`) and `notice_effective_on` at least 60 days
-- after `notice_given_on`; non-renewal at least 90 days before `ends_on` (`notice_by` company
-- or owners). `selection_id` names the selection that led to it.
CREATE TABLE property_contracts (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    company_id {int} NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    fee_standard {int} NOT NULL,
    model TEXT NOT NULL,
    commission_bp {int},
    selection_id {int},
    note TEXT NOT NULL DEFAULT '',
    notice_kind TEXT NOT NULL DEFAULT '',
    notice_by TEXT NOT NULL DEFAULT '',
    notice_given_on TEXT NOT NULL DEFAULT '',
    notice_effective_on TEXT NOT NULL DEFAULT '',
    notice_vote_id {int},
    notice_note TEXT NOT NULL DEFAULT '',
    notice_at {int},
    created_by {int},
    created_at {int} NOT NULL,
    version {int} NOT NULL DEFAULT 1,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX property_contracts_path ON property_contracts (subdistrict_id, node_path);
CREATE INDEX property_contracts_company ON property_contracts (subdistrict_id, company_id);

-- property_selections: a selection process at an estate. `step` follows
-- rules::SelectionStep: plan_drafted → plan_approved (plan_vote_id) → bids_invited
-- (invited_on, bids_close_on) → bids_received → selected (selection_vote_id, winning_bid_id)
-- → contract_signed (contract_id, completed_at); or cancelled (cancel_reason).
CREATE TABLE property_selections (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    title TEXT NOT NULL,
    plan_summary TEXT NOT NULL DEFAULT '',
    step TEXT NOT NULL,
    plan_vote_id {int},
    invited_on TEXT NOT NULL DEFAULT '',
    bids_close_on TEXT NOT NULL DEFAULT '',
    selection_vote_id {int},
    winning_bid_id {int},
    contract_id {int},
    cancel_reason TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    completed_at {int},
    version {int} NOT NULL DEFAULT 1,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX property_selections_path ON property_selections (subdistrict_id, node_path);
CREATE INDEX property_selections_done ON property_selections (subdistrict_id, step, completed_at);

-- property_bids: one bid per company and selection: the offered fee standard and model, and
-- the service plan's summary.
CREATE TABLE property_bids (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    selection_id {int} NOT NULL,
    company_id {int} NOT NULL,
    fee_standard {int} NOT NULL,
    model TEXT NOT NULL,
    commission_bp {int},
    plan_summary TEXT NOT NULL DEFAULT '',
    received_on TEXT NOT NULL,
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX property_bids_company ON property_bids (subdistrict_id, selection_id, company_id);

-- property_fee_adjustments: a fee adjustment of an estate's contract. `step` follows
-- rules::FeeStep: drafted → report_published (report_kind, report_ref and/or an uploaded file
-- in property_fee_reports, published_on, publicity_days) → voted (vote_id) → effective
-- (effective_on, completed_at); or cancelled.
CREATE TABLE property_fee_adjustments (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    contract_id {int} NOT NULL,
    old_fee {int} NOT NULL,
    new_fee {int} NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    step TEXT NOT NULL,
    report_kind TEXT NOT NULL DEFAULT '',
    report_ref TEXT NOT NULL DEFAULT '',
    published_on TEXT NOT NULL DEFAULT '',
    publicity_days {int},
    vote_id {int},
    effective_on TEXT NOT NULL DEFAULT '',
    cancel_reason TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    completed_at {int},
    version {int} NOT NULL DEFAULT 1,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX property_fee_adjustments_path ON property_fee_adjustments (subdistrict_id, node_path);
CREATE INDEX property_fee_adjustments_done ON property_fee_adjustments (subdistrict_id, step, completed_at);
CREATE INDEX property_fee_adjustments_contract ON property_fee_adjustments (subdistrict_id, contract_id);

-- property_fee_reports: the uploaded cost report or assessment of an adjustment (PDF, JPEG,
-- PNG or WebP, sniffed; at most 10 MiB), one per adjustment.
CREATE TABLE property_fee_reports (
    subdistrict_id {int} NOT NULL,
    adjustment_id {int} NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size {int} NOT NULL,
    data {blob} NOT NULL,
    uploaded_by {int},
    uploaded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, adjustment_id)
){strict};

-- property_events: the timeline of contracts, selections and fee adjustments
-- (`process` 'contract' | 'selection' | 'fee'), one row per step with its note and details.
CREATE TABLE property_events (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    process TEXT NOT NULL,
    process_id {int} NOT NULL,
    step TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}',
    actor_user_id {int},
    actor TEXT NOT NULL,
    at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX property_events_process ON property_events (subdistrict_id, process, process_id, at);

-- property_vote_links: each owners' vote backs at most one step of one process (the primary
-- key refuses a second link, also when two requests race).
CREATE TABLE property_vote_links (
    subdistrict_id {int} NOT NULL,
    vote_id {int} NOT NULL,
    process TEXT NOT NULL,
    process_id {int} NOT NULL,
    purpose TEXT NOT NULL,
    linked_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, vote_id)
){strict};
