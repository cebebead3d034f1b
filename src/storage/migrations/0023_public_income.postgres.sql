-- Migration 23: the public income account (公共收益) of an estate (a community, grid or
-- building node). Append-only entries on a SHA-256 chain per estate; the head row moves with
-- each entry (locked by the writer, moved conditionally); the top-up's shares per building;
-- the quarterly publications (one per estate and quarter). The triggers below refuse UPDATE
-- and DELETE (the SQLite twin is 0023_public_income.sqlite.sql).

CREATE TABLE income_heads (
    subdistrict_id BIGINT NOT NULL,
    estate_id BIGINT NOT NULL,
    estate_path TEXT NOT NULL,
    genesis_hash TEXT NOT NULL,
    head_hash TEXT NOT NULL,
    seq BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (subdistrict_id, estate_id)
);
CREATE INDEX income_heads_path ON income_heads (subdistrict_id, estate_path);

-- kind: income | expense | top_up | reversal. amount: positive fen; effect: the signed change
-- of the balance (income +, expense and top-up −, a reversal the opposite of its entry).
-- source (income): advertising | parking | venue | other. vote_id / decision_id: an expense's
-- authority. for_quarter: the quarter a top-up is for (2026Q3). quarter: the value date's.
CREATE TABLE income_entries (
    subdistrict_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    estate_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    amount BIGINT NOT NULL,
    effect BIGINT NOT NULL,
    counterparty TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    vote_id BIGINT,
    decision_id BIGINT,
    for_quarter TEXT NOT NULL DEFAULT '',
    reverses_seq BIGINT,
    value_date TEXT NOT NULL,
    quarter TEXT NOT NULL,
    posted_by TEXT NOT NULL,
    posted_user_id BIGINT,
    posted_at BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
);
CREATE UNIQUE INDEX income_entries_seq ON income_entries (subdistrict_id, estate_id, seq);
-- An entry is reversed at most once (NULLs are distinct on both engines).
CREATE UNIQUE INDEX income_entries_reversal ON income_entries (subdistrict_id, estate_id, reverses_seq);
CREATE INDEX income_entries_date ON income_entries (subdistrict_id, estate_id, value_date);

-- A top-up's (or its reversal's) share per building fund and the fund posting it made.
CREATE TABLE income_fund_parts (
    subdistrict_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    entry_id BIGINT NOT NULL,
    estate_id BIGINT NOT NULL,
    building_id BIGINT NOT NULL,
    fund_seq BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
);
CREATE INDEX income_fund_parts_entry ON income_fund_parts (subdistrict_id, entry_id);

-- The quarterly publication: the figures and the XLSX fixed at the chain head of that moment.
CREATE TABLE income_publications (
    subdistrict_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    estate_id BIGINT NOT NULL,
    quarter TEXT NOT NULL,
    through_seq BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    balance BIGINT NOT NULL,
    income BIGINT NOT NULL,
    expense BIGINT NOT NULL,
    top_up BIGINT NOT NULL,
    compliant BIGINT NOT NULL,
    shortfall BIGINT NOT NULL,
    notice TEXT NOT NULL,
    xlsx BYTEA NOT NULL,
    published_by BIGINT,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (subdistrict_id, id)
);
CREATE UNIQUE INDEX income_publications_quarter ON income_publications (subdistrict_id, estate_id, quarter);

-- The account's entries, fund shares and publications are append-only (fund_refuse() is
-- migration 22's).
CREATE TRIGGER income_entries_no_update BEFORE UPDATE OR DELETE ON income_entries
FOR EACH ROW EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER income_entries_no_truncate BEFORE TRUNCATE ON income_entries
FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER income_fund_parts_no_update BEFORE UPDATE OR DELETE ON income_fund_parts
FOR EACH ROW EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER income_fund_parts_no_truncate BEFORE TRUNCATE ON income_fund_parts
FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER income_publications_no_update BEFORE UPDATE OR DELETE ON income_publications
FOR EACH ROW EXECUTE FUNCTION fund_refuse();
CREATE TRIGGER income_publications_no_truncate BEFORE TRUNCATE ON income_publications
FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse();
