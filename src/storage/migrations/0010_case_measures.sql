-- Migration 10: the measures' rollups (cases::measures). Each row holds the summed counters of
-- `cases::measures::facts::Facts` for the cases reported on one day (Shanghai time, yyyymmdd)
-- at one node, in one category, owned by one unit (0 = none yet). Every case write adds the
-- case's new contribution and subtracts its old one in the same transaction; rows are never
-- deleted (a row may sum to zero). `grid_id` is the node's grid (the node itself when it has
-- no grid above it), copied so that per-grid views need no walk up the tree.
CREATE TABLE case_rollup (
    subdistrict_id {int} NOT NULL,
    day {int} NOT NULL,
    node_id {int} NOT NULL,
    category TEXT NOT NULL,
    owner_unit {int} NOT NULL,
    grid_id {int} NOT NULL,
    reported {int} NOT NULL DEFAULT 0,
    dispatched {int} NOT NULL DEFAULT 0,
    responded {int} NOT NULL DEFAULT 0,
    responded_on_time {int} NOT NULL DEFAULT 0,
    due {int} NOT NULL DEFAULT 0,
    closed {int} NOT NULL DEFAULT 0,
    closed_on_time {int} NOT NULL DEFAULT 0,
    resolvable {int} NOT NULL DEFAULT 0,
    resolved {int} NOT NULL DEFAULT 0,
    handled {int} NOT NULL DEFAULT 0,
    with_rework {int} NOT NULL DEFAULT 0,
    rated {int} NOT NULL DEFAULT 0,
    satisfied {int} NOT NULL DEFAULT 0,
    handling_ms {int} NOT NULL DEFAULT 0,
    handling_count {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (subdistrict_id, day, node_id, category, owner_unit)
){strict};

-- The same counters per month (yyyymm) and grid: whole months of a period are read here,
-- so a year of a whole subdistrict is a few hundred thousand rows at most, not millions.
CREATE TABLE case_rollup_month (
    subdistrict_id {int} NOT NULL,
    month {int} NOT NULL,
    grid_id {int} NOT NULL,
    category TEXT NOT NULL,
    owner_unit {int} NOT NULL,
    reported {int} NOT NULL DEFAULT 0,
    dispatched {int} NOT NULL DEFAULT 0,
    responded {int} NOT NULL DEFAULT 0,
    responded_on_time {int} NOT NULL DEFAULT 0,
    due {int} NOT NULL DEFAULT 0,
    closed {int} NOT NULL DEFAULT 0,
    closed_on_time {int} NOT NULL DEFAULT 0,
    resolvable {int} NOT NULL DEFAULT 0,
    resolved {int} NOT NULL DEFAULT 0,
    handled {int} NOT NULL DEFAULT 0,
    with_rework {int} NOT NULL DEFAULT 0,
    rated {int} NOT NULL DEFAULT 0,
    satisfied {int} NOT NULL DEFAULT 0,
    handling_ms {int} NOT NULL DEFAULT 0,
    handling_count {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (subdistrict_id, grid_id, month, category, owner_unit)
){strict};

-- Two coarser rollups for the common views, read instead of the above when a filter allows:
-- per day and grid (no category or unit filter: the grid tiles, a community's totals), and per
-- day and category for the whole subdistrict (no scope or unit filter). A year of a whole
-- subdistrict is then 365 × categories rows, whatever the number of cases.
CREATE TABLE case_rollup_grid (
    subdistrict_id {int} NOT NULL,
    grid_id {int} NOT NULL,
    day {int} NOT NULL,
    reported {int} NOT NULL DEFAULT 0,
    dispatched {int} NOT NULL DEFAULT 0,
    responded {int} NOT NULL DEFAULT 0,
    responded_on_time {int} NOT NULL DEFAULT 0,
    due {int} NOT NULL DEFAULT 0,
    closed {int} NOT NULL DEFAULT 0,
    closed_on_time {int} NOT NULL DEFAULT 0,
    resolvable {int} NOT NULL DEFAULT 0,
    resolved {int} NOT NULL DEFAULT 0,
    handled {int} NOT NULL DEFAULT 0,
    with_rework {int} NOT NULL DEFAULT 0,
    rated {int} NOT NULL DEFAULT 0,
    satisfied {int} NOT NULL DEFAULT 0,
    handling_ms {int} NOT NULL DEFAULT 0,
    handling_count {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (subdistrict_id, grid_id, day)
){strict};
CREATE INDEX case_rollup_grid_day ON case_rollup_grid (subdistrict_id, day);

CREATE TABLE case_rollup_whole (
    subdistrict_id {int} NOT NULL,
    day {int} NOT NULL,
    category TEXT NOT NULL,
    reported {int} NOT NULL DEFAULT 0,
    dispatched {int} NOT NULL DEFAULT 0,
    responded {int} NOT NULL DEFAULT 0,
    responded_on_time {int} NOT NULL DEFAULT 0,
    due {int} NOT NULL DEFAULT 0,
    closed {int} NOT NULL DEFAULT 0,
    closed_on_time {int} NOT NULL DEFAULT 0,
    resolvable {int} NOT NULL DEFAULT 0,
    resolved {int} NOT NULL DEFAULT 0,
    handled {int} NOT NULL DEFAULT 0,
    with_rework {int} NOT NULL DEFAULT 0,
    rated {int} NOT NULL DEFAULT 0,
    satisfied {int} NOT NULL DEFAULT 0,
    handling_ms {int} NOT NULL DEFAULT 0,
    handling_count {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (subdistrict_id, day, category)
){strict};

-- Per month and grid: whole months of the views `case_rollup_grid` answers.
CREATE TABLE case_rollup_grid_month (
    subdistrict_id {int} NOT NULL,
    grid_id {int} NOT NULL,
    month {int} NOT NULL,
    reported {int} NOT NULL DEFAULT 0,
    dispatched {int} NOT NULL DEFAULT 0,
    responded {int} NOT NULL DEFAULT 0,
    responded_on_time {int} NOT NULL DEFAULT 0,
    due {int} NOT NULL DEFAULT 0,
    closed {int} NOT NULL DEFAULT 0,
    closed_on_time {int} NOT NULL DEFAULT 0,
    resolvable {int} NOT NULL DEFAULT 0,
    resolved {int} NOT NULL DEFAULT 0,
    handled {int} NOT NULL DEFAULT 0,
    with_rework {int} NOT NULL DEFAULT 0,
    rated {int} NOT NULL DEFAULT 0,
    satisfied {int} NOT NULL DEFAULT 0,
    handling_ms {int} NOT NULL DEFAULT 0,
    handling_count {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (subdistrict_id, grid_id, month)
){strict};
