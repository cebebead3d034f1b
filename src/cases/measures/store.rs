//! The measures' rollups in the database: kept true inside every case write
//! ([`record_change`]), rebuilt from the cases when needed ([`recompute`]), and read for a
//! scope and period — totals, a series by month or week, and one row per grid — each with one
//! aggregate query over the cheapest rollup that can answer it ([`plan`]): the whole
//! subdistrict from `case_rollup_whole` (per day and category), grids and communities without
//! a category or unit filter from `case_rollup_grid` (per day and grid) and
//! `case_rollup_grid_month` (per month and grid), other filters from
//! `case_rollup_month` (per month, grid, category and unit) for whole months and
//! `case_rollup` (per day, node, category and unit) for the days at the edges and for scopes
//! below a grid; without filters, whole months of grids come from `case_rollup_grid_month`.
//! All five hold the same counters, updated together.

use std::collections::HashMap;

use sqlx::Row;

use super::facts::{Facts, COUNTERS};
use super::period;
use crate::cases::lifecycle;
use crate::cases::store::CaseRecord;
use crate::error::{Error, Result};
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{Db, Dialect, Tx};
use crate::tree::model::path_ids;

/// Where a case's contribution is summed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub day: i64,
    pub node_id: i64,
    pub category: String,
    pub owner_unit: i64,
}

impl Key {
    pub fn of(c: &CaseRecord) -> Key {
        Key::for_case(&c.lifecycle, c.node_id, &c.category)
    }

    pub fn for_case(l: &lifecycle::Case, node_id: i64, category: &str) -> Key {
        Key {
            day: period::day_of(l.reported_ms),
            node_id,
            category: category.to_string(),
            owner_unit: l.owner_unit.unwrap_or(0),
        }
    }
}

/// The grid of a node from its path (`/subdistrict/community-or-village/grid/…`): the third
/// id, or the node itself above the grids.
pub fn grid_of_path(path: &str, node_id: i64) -> i64 {
    path_ids(path).get(2).copied().unwrap_or(node_id)
}

async fn grid_in_tx(tx: &mut Tx, sid: i64, node_id: i64) -> Result<i64> {
    let path: Option<String> =
        sqlx::query("SELECT path FROM nodes WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(node_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.get(0));
    Ok(path.map_or(node_id, |p| grid_of_path(&p, node_id)))
}

fn upsert_sql(table: &str, key_cols: &[&str], extra: &[&str]) -> String {
    let cols: Vec<&str> = ["subdistrict_id"]
        .iter()
        .chain(key_cols)
        .chain(extra)
        .chain(COUNTERS.iter())
        .copied()
        .collect();
    let params: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
    let mut sets: Vec<String> = extra
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sets.extend(
        COUNTERS
            .iter()
            .map(|c| format!("{c} = {table}.{c} + excluded.{c}")),
    );
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT (subdistrict_id, {}) DO UPDATE SET {}",
        cols.join(", "),
        params.join(", "),
        key_cols.join(", "),
        sets.join(", ")
    )
}

/// Adds `delta` to the day row of `key` and to its month row.
async fn add(tx: &mut Tx, sid: i64, key: &Key, delta: &Facts) -> Result<()> {
    if delta.is_zero() {
        return Ok(());
    }
    let grid = grid_in_tx(tx, sid, key.node_id).await?;
    let day_sql = upsert_sql(
        "case_rollup",
        &["day", "node_id", "category", "owner_unit"],
        &["grid_id"],
    );
    let mut q = sqlx::query(&day_sql)
        .bind(sid)
        .bind(key.day)
        .bind(key.node_id)
        .bind(key.category.clone())
        .bind(key.owner_unit)
        .bind(grid);
    for v in delta.to_array() {
        q = q.bind(v);
    }
    q.execute(&mut **tx).await?;
    let month_sql = upsert_sql(
        "case_rollup_month",
        &["month", "grid_id", "category", "owner_unit"],
        &[],
    );
    let mut q = sqlx::query(&month_sql)
        .bind(sid)
        .bind(key.day / 100)
        .bind(grid)
        .bind(key.category.clone())
        .bind(key.owner_unit);
    for v in delta.to_array() {
        q = q.bind(v);
    }
    q.execute(&mut **tx).await?;
    let grid_sql = upsert_sql("case_rollup_grid", &["grid_id", "day"], &[]);
    let mut q = sqlx::query(&grid_sql).bind(sid).bind(grid).bind(key.day);
    for v in delta.to_array() {
        q = q.bind(v);
    }
    q.execute(&mut **tx).await?;
    let grid_month_sql = upsert_sql("case_rollup_grid_month", &["grid_id", "month"], &[]);
    let mut q = sqlx::query(&grid_month_sql)
        .bind(sid)
        .bind(grid)
        .bind(key.day / 100);
    for v in delta.to_array() {
        q = q.bind(v);
    }
    q.execute(&mut **tx).await?;
    let whole_sql = upsert_sql("case_rollup_whole", &["day", "category"], &[]);
    let mut q = sqlx::query(&whole_sql)
        .bind(sid)
        .bind(key.day)
        .bind(key.category.clone());
    for v in delta.to_array() {
        q = q.bind(v);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Keeps the rollups true: subtracts what `before` contributed and adds what `after` does,
/// in the caller's transaction.
pub async fn record_change(
    tx: &mut Tx,
    sid: i64,
    before: Option<&CaseRecord>,
    after: &CaseRecord,
) -> Result<()> {
    let (ka, fa) = (Key::of(after), Facts::of(&after.lifecycle));
    match before {
        None => add(tx, sid, &ka, &fa).await,
        Some(b) => {
            let (kb, fb) = (Key::of(b), Facts::of(&b.lifecycle));
            if kb == ka {
                add(tx, sid, &ka, &fa.minus(fb)).await
            } else {
                add(tx, sid, &kb, &Facts::default().minus(fb)).await?;
                add(tx, sid, &ka, &fa).await
            }
        }
    }
}

/// Rebuilds both rollups of a subdistrict from its cases in one transaction (an
/// administrator's repair after the tree changed, and the tests' yardstick). Returns the
/// number of cases read.
pub async fn recompute(db: &Db, sid: i64) -> Result<u64> {
    let mut tx = db.begin().await?;
    if db.dialect() == Dialect::Postgres {
        // Case writes wait until the rebuild commits, then apply their change on top of it.
        sqlx::query(
            "LOCK TABLE case_rollup, case_rollup_month, case_rollup_grid, \
             case_rollup_grid_month, case_rollup_whole IN EXCLUSIVE MODE",
        )
        .execute(&mut *tx)
        .await?;
    }
    for t in ROLLUPS {
        sqlx::query(&format!("DELETE FROM {t} WHERE subdistrict_id = $1"))
            .bind(sid)
            .execute(&mut *tx)
            .await?;
    }
    let grids: HashMap<i64, i64> =
        sqlx::query("SELECT id, path FROM nodes WHERE subdistrict_id = $1")
            .bind(sid)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                let id: i64 = r.get(0);
                (id, grid_of_path(&r.get::<String, _>(1), id))
            })
            .collect();
    let mut sums = Rollups::default();
    let (mut last, mut read) = (i64::MIN, 0u64);
    loop {
        let rows = sqlx::query(
            "SELECT id, node_id, category, lifecycle_json FROM cases \
             WHERE subdistrict_id = $1 AND id > $2 ORDER BY id LIMIT 5000",
        )
        .bind(sid)
        .bind(last)
        .fetch_all(&mut *tx)
        .await?;
        let Some(r) = rows.last() else { break };
        last = r.get(0);
        for r in &rows {
            let l: lifecycle::Case = serde_json::from_str(&r.get::<String, _>(3))
                .map_err(|e| Error::Internal(anyhow::anyhow!("stored case does not parse: {e}")))?;
            let node_id: i64 = r.get(1);
            let key = Key::for_case(&l, node_id, &r.get::<String, _>(2));
            let f = Facts::of(&l);
            read += 1;
            if f.is_zero() {
                continue;
            }
            let grid = grids.get(&node_id).copied().unwrap_or(node_id);
            sums.add(key, grid, f);
        }
    }
    sums.write(&mut tx, db.dialect(), sid).await?;
    tx.commit().await?;
    Ok(read)
}

/// The sums a set of cases contributes to each rollup, built in memory and written with bulk
/// inserts into empty rollups (`recompute`, and the benchmark's million cases).
#[derive(Debug, Default)]
pub struct Rollups {
    pub days: HashMap<Key, (i64, Facts)>,
    pub months: HashMap<(i64, i64, String, i64), Facts>,
    pub by_grid: HashMap<(i64, i64), Facts>,
    pub by_grid_month: HashMap<(i64, i64), Facts>,
    pub whole: HashMap<(i64, String), Facts>,
}

impl Rollups {
    /// Adds what a newly opened case contributes (its grid taken from its path).
    pub fn add_new(&mut self, c: &CaseRecord) {
        let f = Facts::of(&c.lifecycle);
        if !f.is_zero() {
            self.add(Key::of(c), grid_of_path(&c.node_path, c.node_id), f);
        }
    }

    /// Adds one case's contribution under its key; `grid` is the grid of its place.
    pub fn add(&mut self, key: Key, grid: i64, f: Facts) {
        let m = (key.day / 100, grid, key.category.clone(), key.owner_unit);
        let e = self.months.entry(m).or_default();
        *e = e.plus(f);
        let e = self.by_grid.entry((grid, key.day)).or_default();
        *e = e.plus(f);
        let e = self.by_grid_month.entry((grid, key.day / 100)).or_default();
        *e = e.plus(f);
        let e = self
            .whole
            .entry((key.day, key.category.clone()))
            .or_default();
        *e = e.plus(f);
        let e = self.days.entry(key).or_insert((grid, Facts::default()));
        e.1 = e.1.plus(f);
    }

    /// Inserts every sum into the (empty) rollup tables of `sid`.
    pub async fn write(self, tx: &mut Tx, d: Dialect, sid: i64) -> Result<()> {
        self.write_as(tx, d, sid, false).await
    }

    /// Adds every sum to the rollup tables of `sid`, creating the rows that are missing: one
    /// statement per table (and per chunk) for a whole batch of case writes.
    pub async fn add_to(self, tx: &mut Tx, d: Dialect, sid: i64) -> Result<()> {
        self.write_as(tx, d, sid, true).await
    }

    async fn write_as(self, tx: &mut Tx, d: Dialect, sid: i64, add: bool) -> Result<()> {
        let table = |name: &str, cols: &[&str], keys: &[&str], extra: &[&str]| {
            let ins = Inserter::for_db(d, name, cols);
            if !add {
                return ins;
            }
            let mut sets: Vec<String> = extra
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            sets.extend(
                COUNTERS
                    .iter()
                    .map(|c| format!("{c} = {name}.{c} + excluded.{c}")),
            );
            ins.on_conflict(&format!(
                "ON CONFLICT (subdistrict_id, {}) DO UPDATE SET {}",
                keys.join(", "),
                sets.join(", ")
            ))
        };
        let mut cols = vec![
            "subdistrict_id",
            "day",
            "node_id",
            "category",
            "owner_unit",
            "grid_id",
        ];
        cols.extend(COUNTERS);
        let mut ins = table(
            "case_rollup",
            &cols,
            &["day", "node_id", "category", "owner_unit"],
            &["grid_id"],
        );
        for (k, (grid, f)) in self.days {
            let mut row: Vec<Cell> = vec![
                sid.into(),
                k.day.into(),
                k.node_id.into(),
                k.category.into(),
                k.owner_unit.into(),
                grid.into(),
            ];
            row.extend(f.to_array().map(Cell::Int));
            ins.push(&mut *tx, row).await?;
        }
        ins.flush(&mut *tx).await?;
        let mut cols = vec![
            "subdistrict_id",
            "month",
            "grid_id",
            "category",
            "owner_unit",
        ];
        cols.extend(COUNTERS);
        let mut ins = table(
            "case_rollup_month",
            &cols,
            &["month", "grid_id", "category", "owner_unit"],
            &[],
        );
        for ((month, grid, category, owner), f) in self.months {
            let mut row: Vec<Cell> = vec![
                sid.into(),
                month.into(),
                grid.into(),
                category.into(),
                owner.into(),
            ];
            row.extend(f.to_array().map(Cell::Int));
            ins.push(&mut *tx, row).await?;
        }
        ins.flush(&mut *tx).await?;
        let mut cols = vec!["subdistrict_id", "grid_id", "day"];
        cols.extend(COUNTERS);
        let mut ins = table("case_rollup_grid", &cols, &["grid_id", "day"], &[]);
        for ((grid, day), f) in self.by_grid {
            let mut row: Vec<Cell> = vec![sid.into(), grid.into(), day.into()];
            row.extend(f.to_array().map(Cell::Int));
            ins.push(&mut *tx, row).await?;
        }
        ins.flush(&mut *tx).await?;
        let mut cols = vec!["subdistrict_id", "grid_id", "month"];
        cols.extend(COUNTERS);
        let mut ins = table("case_rollup_grid_month", &cols, &["grid_id", "month"], &[]);
        for ((grid, month), f) in self.by_grid_month {
            let mut row: Vec<Cell> = vec![sid.into(), grid.into(), month.into()];
            row.extend(f.to_array().map(Cell::Int));
            ins.push(&mut *tx, row).await?;
        }
        ins.flush(&mut *tx).await?;
        let mut cols = vec!["subdistrict_id", "day", "category"];
        cols.extend(COUNTERS);
        let mut ins = table("case_rollup_whole", &cols, &["day", "category"], &[]);
        for ((day, category), f) in self.whole {
            let mut row: Vec<Cell> = vec![sid.into(), day.into(), category.into()];
            row.extend(f.to_array().map(Cell::Int));
            ins.push(&mut *tx, row).await?;
        }
        ins.flush(&mut *tx).await?;
        Ok(())
    }
}

/// The rollup tables, finest first.
pub const ROLLUPS: [&str; 5] = [
    "case_rollup",
    "case_rollup_month",
    "case_rollup_grid",
    "case_rollup_grid_month",
    "case_rollup_whole",
];

/// What a view measures: a scope, optional category and unit, and a day range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The scope's path; `None` for the whole subdistrict (no join with the tree).
    pub scope_path: Option<String>,
    /// The scope lies below the grids (a building, unit or village group): the monthly
    /// rollup, kept per grid, cannot answer it.
    pub below_grid: bool,
    /// A category code; its subcategories are included.
    pub category: Option<String>,
    pub owner_unit: Option<i64>,
    /// Inclusive `yyyymmdd`.
    pub from: i64,
    pub to: i64,
}

impl Filter {
    pub fn whole(from: i64, to: i64) -> Filter {
        Filter {
            scope_path: None,
            below_grid: false,
            category: None,
            owner_unit: None,
            from,
            to,
        }
    }
}

enum Arg {
    Int(i64),
    Text(String),
}

/// Builds the statement and its arguments; `$1` is always the subdistrict.
struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    fn int(&mut self, v: i64) -> String {
        self.args.push(Arg::Int(v));
        format!("${}", self.args.len() + 1)
    }
    fn text(&mut self, v: String) -> String {
        self.args.push(Arg::Text(v));
        format!("${}", self.args.len() + 1)
    }
}

/// What each part of a view groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Nothing,
    Month,
    Day,
    Grid,
}

fn sums(outer: bool) -> String {
    COUNTERS
        .iter()
        .map(|c| {
            if outer {
                format!("CAST(COALESCE(SUM(u.{c}), 0) AS BIGINT) AS {c}")
            } else {
                format!("CAST(SUM(r.{c}) AS BIGINT) AS {c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rollup a part of a view reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `case_rollup`: any filter.
    Day,
    /// `case_rollup_month`: whole months, scopes from the grid up.
    Month,
    /// `case_rollup_grid`: scopes from the grid up, no category or unit filter.
    Grid,
    /// `case_rollup_grid_month`: the same, whole months.
    GridMonth,
    /// `case_rollup_whole`: the whole subdistrict, no unit filter.
    Whole,
}

/// One part of a view: one rollup over some ranges (of days, or of months for `Month`).
fn part(sql: &mut Sql, f: &Filter, src: Source, ranges: &[(i64, i64)], by: By) -> String {
    let table = match src {
        Source::Day => "case_rollup",
        Source::Month => "case_rollup_month",
        Source::Grid => "case_rollup_grid",
        Source::GridMonth => "case_rollup_grid_month",
        Source::Whole => "case_rollup_whole",
    };
    let monthly = matches!(src, Source::Month | Source::GridMonth);
    let bucket = match (by, monthly) {
        (By::Nothing, _) => "0",
        (By::Month, true) => "r.month",
        (By::Month, false) => "r.day / 100",
        (By::Day, _) => "r.day",
        (By::Grid, _) => "r.grid_id",
    };
    let mut join = String::new();
    let mut filter = String::new();
    if let Some(p) = &f.scope_path {
        let like = sql.text(format!("{p}%"));
        match src {
            Source::Day => {
                join = format!(
                    " JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id AND n.path LIKE {like}"
                )
            }
            Source::Month | Source::Grid | Source::GridMonth => filter.push_str(&format!(
                " AND r.grid_id IN (SELECT g.id FROM nodes g WHERE g.subdistrict_id = $1 AND g.path LIKE {like})"
            )),
            // Never chosen with a scope.
            Source::Whole => filter.push_str(" AND 1 = 0"),
        }
    }
    let col = if monthly { "r.month" } else { "r.day" };
    let mut conds = Vec::new();
    for (a, b) in ranges {
        let (a, b) = (sql.int(*a), sql.int(*b));
        conds.push(format!("{col} BETWEEN {a} AND {b}"));
    }
    if let Some(c) = &f.category {
        let (exact, below) = (sql.text(c.clone()), sql.text(format!("{c}.%")));
        filter.push_str(&format!(
            " AND (r.category = {exact} OR r.category LIKE {below})"
        ));
    }
    if let Some(u) = f.owner_unit {
        let u = sql.int(u);
        filter.push_str(&format!(" AND r.owner_unit = {u}"));
    }
    // A constant would read as a column number in GROUP BY.
    let group = if by == By::Nothing {
        String::new()
    } else {
        format!(" GROUP BY {bucket}")
    };
    format!(
        "SELECT {bucket} AS b, {} FROM {table} r{join} WHERE r.subdistrict_id = $1 AND ({}){filter}{group}",
        sums(false),
        conds.join(" OR ")
    )
}

/// The cheapest rollups that answer a view, with their ranges.
fn plan(f: &Filter, by: By) -> Vec<(Source, Vec<(i64, i64)>)> {
    let all = vec![(f.from, f.to)];
    let unfiltered = f.owner_unit.is_none();
    if f.scope_path.is_none() && unfiltered && by != By::Grid {
        return vec![(Source::Whole, all)];
    }
    let per_grid = !f.below_grid && unfiltered && f.category.is_none();
    if f.below_grid || by == By::Day {
        let src = if per_grid { Source::Grid } else { Source::Day };
        return vec![(src, all)];
    }
    let (months, days) = if per_grid {
        (Source::GridMonth, Source::Grid)
    } else {
        (Source::Month, Source::Day)
    };
    let split = period::split(f.from, f.to);
    let mut out = Vec::new();
    if let Some(m) = split.months {
        out.push((months, vec![m]));
    }
    let edges: Vec<(i64, i64)> = [split.head, split.tail].into_iter().flatten().collect();
    if !edges.is_empty() {
        out.push((days, edges));
    }
    out
}

/// The one aggregate query of a view: rows of (bucket, counters).
async fn query(db: &Db, sid: i64, f: &Filter, by: By) -> Result<Vec<(i64, Facts)>> {
    if f.from > f.to {
        return Ok(Vec::new());
    }
    let mut sql = Sql { args: Vec::new() };
    let parts: Vec<String> = plan(f, by)
        .iter()
        .map(|(src, ranges)| part(&mut sql, f, *src, ranges, by))
        .collect();
    let text = format!(
        "SELECT u.b AS b, {} FROM ({}) u GROUP BY u.b ORDER BY u.b",
        sums(true),
        parts.join(" UNION ALL ")
    );
    let mut q = sqlx::query(&text).bind(sid);
    for a in sql.args {
        q = match a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
        };
    }
    let rows = q.fetch_all(db.read()).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let b: i64 = r.get("b");
            let a: [i64; 15] = std::array::from_fn(|i| r.get::<i64, _>(COUNTERS[i]));
            (b, Facts::from_array(a))
        })
        .collect())
}

/// The counters of a scope and period.
pub async fn totals(db: &Db, sid: i64, f: &Filter) -> Result<Facts> {
    Ok(query(db, sid, f, By::Nothing)
        .await?
        .into_iter()
        .fold(Facts::default(), |acc, (_, x)| acc.plus(x)))
}

/// How a series is bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// `yyyymm`.
    Month,
    /// The Monday of the ISO week, `yyyymmdd`.
    Week,
}

/// The counters of each month or week of the period, in order, empty buckets included.
pub async fn series(db: &Db, sid: i64, f: &Filter, bucket: Bucket) -> Result<Vec<(i64, Facts)>> {
    match bucket {
        Bucket::Month => {
            let got: HashMap<i64, Facts> =
                query(db, sid, f, By::Month).await?.into_iter().collect();
            Ok(period::months_between(f.from / 100, f.to / 100)
                .into_iter()
                .map(|m| (m, got.get(&m).copied().unwrap_or_default()))
                .collect())
        }
        Bucket::Week => {
            let mut weeks: Vec<(i64, Facts)> = Vec::new();
            let days = query(db, sid, f, By::Day).await?;
            let mut day = f.from;
            let mut i = 0;
            // Walk every day of the range so that empty weeks show too.
            let mut guard = 0;
            while day <= f.to && guard < 4000 {
                guard += 1;
                let w = period::week_start(day);
                if weeks.last().is_none_or(|(k, _)| *k != w) {
                    weeks.push((w, Facts::default()));
                }
                while i < days.len() && days[i].0 <= day {
                    if days[i].0 == day {
                        if let Some(last) = weeks.last_mut() {
                            last.1 = last.1.plus(days[i].1);
                        }
                    }
                    i += 1;
                }
                let Some(next) = period::date_of(day).and_then(|d| d.next_day()) else {
                    break;
                };
                day = period::day_int(next);
            }
            Ok(weeks)
        }
    }
}

/// The counters of each grid of the scope that has any (by grid id).
pub async fn by_grid(db: &Db, sid: i64, f: &Filter) -> Result<HashMap<i64, Facts>> {
    Ok(query(db, sid, f, By::Grid).await?.into_iter().collect())
}

/// A grid of the scope, with the community or village it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridInfo {
    pub id: i64,
    pub name: String,
    pub parent_id: i64,
    pub parent_name: String,
}

/// The grids of a scope in tree order: every grid under it, or for a scope below the grids
/// the one grid holding it.
pub async fn grids_under(db: &Db, sid: i64, path: &str, below_grid: bool) -> Result<Vec<GridInfo>> {
    let base = "SELECT g.id, g.name, p.id AS parent_id, p.name AS parent_name FROM nodes g \
         JOIN nodes p ON p.subdistrict_id = g.subdistrict_id AND p.id = g.parent_id \
         WHERE g.subdistrict_id = $1 AND g.kind = 'grid' AND ";
    let sql = if below_grid {
        format!("{base} g.id = $2")
    } else {
        format!("{base} g.path LIKE $2 ORDER BY p.sort_key, p.name, g.sort_key, g.name")
    };
    let q = sqlx::query(&sql).bind(sid);
    let q = if below_grid {
        q.bind(grid_of_path(path, 0))
    } else {
        q.bind(format!("{path}%"))
    };
    Ok(q.fetch_all(db.read())
        .await?
        .iter()
        .map(|r| GridInfo {
            id: r.get("id"),
            name: r.get("name"),
            parent_id: r.get("parent_id"),
            parent_name: r.get("parent_name"),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_the_third_id_on_the_path() {
        assert_eq!(grid_of_path("/1/10/100/1000/", 1000), 100);
        assert_eq!(grid_of_path("/1/10/100/", 100), 100);
        assert_eq!(grid_of_path("/1/10/", 10), 10);
        assert_eq!(grid_of_path("/1/", 1), 1);
    }

    #[test]
    fn each_view_reads_the_cheapest_rollup_that_answers_it() {
        let year = Filter::whole(20260101, 20261231);
        assert_eq!(
            plan(&year, By::Nothing),
            [(Source::Whole, vec![(20260101, 20261231)])]
        );
        assert_eq!(plan(&year, By::Month)[0].0, Source::Whole);
        assert_eq!(
            plan(&year, By::Grid),
            [(Source::GridMonth, vec![(202601, 202612)])]
        );
        let community = Filter {
            scope_path: Some("/1/10/".into()),
            ..year.clone()
        };
        assert_eq!(plan(&community, By::Nothing)[0].0, Source::GridMonth);
        let edges = Filter {
            from: 20260110,
            ..community.clone()
        };
        assert_eq!(
            plan(&edges, By::Grid),
            [
                (Source::GridMonth, vec![(202602, 202612)]),
                (Source::Grid, vec![(20260110, 20260131)])
            ]
        );
        assert_eq!(
            plan(&edges, By::Day),
            [(Source::Grid, vec![(20260110, 20261231)])]
        );
        let category = Filter {
            category: Some("env".into()),
            ..year.clone()
        };
        assert_eq!(plan(&category, By::Nothing)[0].0, Source::Whole);
        assert_eq!(
            plan(&category, By::Grid),
            [(Source::Month, vec![(202601, 202612)])]
        );
        let unit = Filter {
            owner_unit: Some(7),
            from: 20260115,
            ..year.clone()
        };
        assert_eq!(
            plan(&unit, By::Nothing),
            [
                (Source::Month, vec![(202602, 202612)]),
                (Source::Day, vec![(20260115, 20260131)])
            ]
        );
        assert_eq!(
            plan(
                &Filter {
                    owner_unit: Some(7),
                    ..year.clone()
                },
                By::Day
            )[0]
            .0,
            Source::Day
        );
        let building = Filter {
            scope_path: Some("/1/10/100/1000/".into()),
            below_grid: true,
            ..year.clone()
        };
        assert_eq!(plan(&building, By::Grid)[0].0, Source::Day);
    }

    #[test]
    fn the_upsert_adds_to_every_counter() {
        let s = upsert_sql("case_rollup", &["day", "node_id"], &["grid_id"]);
        assert!(s.starts_with(
            "INSERT INTO case_rollup (subdistrict_id, day, node_id, grid_id, reported"
        ));
        assert!(s.contains("ON CONFLICT (subdistrict_id, day, node_id) DO UPDATE SET grid_id = excluded.grid_id, reported = case_rollup.reported + excluded.reported"));
        assert!(s.contains("$19"));
        assert!(!s.contains("$20"));
    }
}
