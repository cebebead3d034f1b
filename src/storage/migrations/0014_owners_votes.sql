-- Migration 14: owners' votes (业主共同决定), Civil Code art. 278.
--
-- votes: one vote on one scope (a tree node: an estate's community or grid node, a building,
-- a stairway unit; `scope_path` copies its path, so the rooms in scope are the rooms under it).
-- `matter` is one of the nine matters (`chain::matter_code`); `form` is the serde JSON of
-- `tally::Form`; `thresholds` is `serde_json::to_string(&Thresholds)` — the canonical text
-- bound into the chain's genesis hash, never rewritten once the vote is open.
-- `status`: draft → open → closed → published, or cancelled (from draft or open).
-- Opening freezes `electorate` (serde JSON of `electorate::Electorate`), its digest, the
-- record date (the Shanghai date of the opening) and `header_digest` (the genesis hash).
-- `chain_head`/`ballot_count` follow every ballot; `result` is the tally's JSON, fixed at close.
CREATE TABLE votes (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    scope_node_id {int} NOT NULL,
    scope_path TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_name TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    matter TEXT NOT NULL,
    is_fee_change {int} NOT NULL DEFAULT 0,
    form TEXT NOT NULL,
    thresholds TEXT NOT NULL,
    record_date TEXT NOT NULL DEFAULT '',
    opens_at {int} NOT NULL,
    closes_at {int} NOT NULL,
    publicity_days {int} NOT NULL DEFAULT 7,
    status TEXT NOT NULL,
    electorate TEXT,
    electorate_digest TEXT,
    header_digest TEXT,
    chain_head TEXT,
    ballot_count {int} NOT NULL DEFAULT 0,
    result TEXT,
    publicity_until {int},
    created_by {int},
    created_at {int} NOT NULL,
    opened_by {int},
    opened_at {int},
    closed_by {int},
    closed_at {int},
    published_by {int},
    published_at {int},
    cancelled_at {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX votes_scope ON votes (subdistrict_id, scope_path);

-- vote_labels: the candidates' or options' names, numbered from 1 as the ballots name them.
CREATE TABLE vote_labels (
    subdistrict_id {int} NOT NULL,
    vote_id {int} NOT NULL,
    number {int} NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, vote_id, number)
){strict};

-- ballots: the ballot box, one row per `chain::BallotRecord` (every field of the hash), in
-- chain order. The primary key on `seq` and the unique index on `voter_key` are what make
-- "two phones at once: exactly one counts" hold on both engines. `choice` is the serde JSON
-- of `model::Choice`. `cast_user_id`/`proxy_holder` are kept beside the chain, not in it.
CREATE TABLE ballots (
    subdistrict_id {int} NOT NULL,
    vote_id {int} NOT NULL,
    seq {int} NOT NULL,
    voter_key TEXT NOT NULL,
    choice TEXT NOT NULL,
    channel TEXT NOT NULL,
    cast_by TEXT NOT NULL,
    cast_user_id {int},
    entered_by {int},
    confirmed_by TEXT,
    proxy_sha256 TEXT,
    proxy_holder TEXT NOT NULL DEFAULT '',
    cast_at {int} NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, vote_id, seq)
){strict};
CREATE UNIQUE INDEX ballots_voter ON ballots (subdistrict_id, vote_id, voter_key);

-- paper_ballots: paper and proxy ballots as entered by one staff user, waiting for a second
-- one to check them. Only a confirmed entry goes into the box (`ballot_seq`).
-- `status`: pending → confirmed | rejected.
CREATE TABLE paper_ballots (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    vote_id {int} NOT NULL,
    voter_key TEXT NOT NULL,
    choice TEXT NOT NULL,
    channel TEXT NOT NULL,
    proxy_holder TEXT NOT NULL DEFAULT '',
    proxy_sha256 TEXT,
    entered_by {int} NOT NULL,
    entered_at {int} NOT NULL,
    status TEXT NOT NULL,
    decided_by {int},
    decided_at {int},
    ballot_seq {int},
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX paper_ballots_vote ON paper_ballots (subdistrict_id, vote_id, status);

-- vote_proxy_files: the scanned written proxies (JPEG, PNG, WebP or PDF; type sniffed from
-- the bytes; at most 10 MiB), stored once per vote and SHA-256.
CREATE TABLE vote_proxy_files (
    subdistrict_id {int} NOT NULL,
    vote_id {int} NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size {int} NOT NULL,
    data {blob} NOT NULL,
    uploaded_by {int} NOT NULL,
    uploaded_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, vote_id, sha256)
){strict};

-- reelection_periods: an owners' committee's re-election period (换届期间) on a tree node,
-- from `starts_at` (inclusive) to `ends_at` (exclusive), Unix ms from Shanghai dates.
-- Minimal: issue 5 extends it.
CREATE TABLE reelection_periods (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    node_id {int} NOT NULL,
    node_path TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    starts_at {int} NOT NULL,
    ends_at {int} NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by {int},
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX reelection_periods_path ON reelection_periods (subdistrict_id, node_path);
