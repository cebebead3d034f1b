-- Migration 15: the special maintenance fund (专项维修资金), one account per building split
-- per room, kept as a hash-chained ledger (see `property::fund::chain` for the encoding).
--
-- fund_heads: one row per building fund: the chain's genesis and head, the last seq, and the
-- building's balance and first-deposit total (always the sums of `fund_rooms`). A posting
-- takes this row first (`UPDATE … WHERE head_hash = old`), so two postings to one building
-- serialise and the second sees the first's balances.
CREATE TABLE fund_heads (
    subdistrict_id {int} NOT NULL,
    building_id {int} NOT NULL,
    building_path TEXT NOT NULL,
    genesis_hash TEXT NOT NULL,
    head_hash TEXT NOT NULL,
    seq {int} NOT NULL DEFAULT 0,
    balance {int} NOT NULL DEFAULT 0,
    first_deposit_total {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, building_id)
){strict};

-- fund_rooms: the room accounts (分户账): balance and first deposit, moved by every posting
-- in the same transaction (the sums of the room's `fund_lines`).
CREATE TABLE fund_rooms (
    subdistrict_id {int} NOT NULL,
    room_id {int} NOT NULL,
    building_id {int} NOT NULL,
    balance {int} NOT NULL DEFAULT 0,
    first_deposit {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (subdistrict_id, room_id)
){strict};
CREATE INDEX fund_rooms_building ON fund_rooms (subdistrict_id, building_id);

-- fund_postings: the journal, append-only (never updated or deleted; a mistake is a reversal).
-- `amount` is signed fen (the effect on the building's balance); `ref_kind` is '' / 'vote' /
-- 'emergency' with `ref_id`; `reverses_seq` names the posting a reversal undoes, and its
-- unique index is what makes "reversed at most once" hold when two people reverse at once
-- (NULLs do not collide on either engine).
CREATE TABLE fund_postings (
    subdistrict_id {int} NOT NULL,
    building_id {int} NOT NULL,
    seq {int} NOT NULL,
    id {int} NOT NULL,
    kind TEXT NOT NULL,
    amount {int} NOT NULL,
    ref_kind TEXT NOT NULL DEFAULT '',
    ref_id {int} NOT NULL DEFAULT 0,
    reverses_seq {int},
    cost_review TEXT NOT NULL DEFAULT '',
    memo TEXT NOT NULL DEFAULT '',
    value_date TEXT NOT NULL,
    posted_by TEXT NOT NULL,
    posted_user_id {int} NOT NULL,
    posted_at {int} NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, building_id, seq)
){strict};
CREATE UNIQUE INDEX fund_postings_reverses ON fund_postings (subdistrict_id, building_id, reverses_seq);
CREATE UNIQUE INDEX fund_postings_id ON fund_postings (subdistrict_id, id);

-- fund_lines: one row per room and posting, in the posting's line order (`n` from 0).
CREATE TABLE fund_lines (
    subdistrict_id {int} NOT NULL,
    building_id {int} NOT NULL,
    seq {int} NOT NULL,
    n {int} NOT NULL,
    room_id {int} NOT NULL,
    amount {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, building_id, seq, n)
){strict};
CREATE INDEX fund_lines_room ON fund_lines (subdistrict_id, room_id, building_id, seq);

-- fund_emergencies: an emergency repair approval (应急维修审批) recorded by staff: who
-- approved, why, on which date; it authorises one withdrawal within 7 days of that date
-- (`used_seq` is set by that withdrawal, conditionally, so it is used once).
CREATE TABLE fund_emergencies (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    building_id {int} NOT NULL,
    approver TEXT NOT NULL,
    reason TEXT NOT NULL,
    approved_on TEXT NOT NULL,
    recorded_by {int} NOT NULL,
    recorded_at {int} NOT NULL,
    used_seq {int},
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE INDEX fund_emergencies_building ON fund_emergencies (subdistrict_id, building_id);

-- fund_publications: the half-yearly publication (公示) of a building's accounts: the period
-- (`2026-H1`), the chain head and balance it covers, the notice text and the XLSX file.
CREATE TABLE fund_publications (
    subdistrict_id {int} NOT NULL,
    id {int} NOT NULL,
    building_id {int} NOT NULL,
    period TEXT NOT NULL,
    through_seq {int} NOT NULL,
    head_hash TEXT NOT NULL,
    balance {int} NOT NULL,
    first_deposit_total {int} NOT NULL,
    notice TEXT NOT NULL,
    xlsx {blob} NOT NULL,
    published_by {int} NOT NULL,
    published_at {int} NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
){strict};
CREATE UNIQUE INDEX fund_publications_period ON fund_publications (subdistrict_id, building_id, period);
