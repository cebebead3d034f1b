//! Import of the registry sheet: read the file (CSV or XLSX), validate every row and the
//! rows against each other and against what is stored, then either report (dry run, or any
//! bad row: nothing is written) or write everything in one transaction.
//!
//! Re-importing a file changes nothing the second time: nodes are found by name under their
//! parent, rooms by node and number, persons by ID number (without one: by name within the
//! same household or among the room's owners), households by room and label.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row as _};

use super::format::{self, CellError, Column, Header, Relation, Row, CHAIN_COLUMNS};
use super::jobs::Jobs;
use crate::access::{self, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::{Lang, Text};
use crate::people::store::{person_cells, seal_person, CheckedPerson, PERSON_COLUMNS};
use crate::pii::{mask, Seal};
use crate::storage::bulk::{Cell, Inserter};
use crate::storage::{next_id, opt_i64, Db, Dialect};
use crate::tree::model::{self, NodeKind, Track};
use crate::tree::store::Node;

/// The file formats read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Xlsx,
}

pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl FileFormat {
    /// `csv` / `xlsx`, a file name ending so, or a content type.
    pub fn parse(s: &str) -> Option<FileFormat> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.split(';').next().unwrap_or("").trim();
        if s == "csv" || s.ends_with(".csv") || s == "text/csv" || s == "application/csv" {
            Some(FileFormat::Csv)
        } else if s == "xlsx"
            || s == "xls"
            || s.ends_with(".xlsx")
            || s.ends_with(".xls")
            || s == XLSX_MIME
            || s == "application/vnd.ms-excel"
        {
            Some(FileFormat::Xlsx)
        } else {
            None
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => XLSX_MIME,
        }
    }
}

/// A sheet's rows as text, each with its row number as the spreadsheet shows it.
pub type Table = Vec<(u64, Vec<String>)>;

fn not_utf8() -> Error {
    Error::BadRequest(Text::new(
        "文件不是UTF-8编码。请在Excel中另存为“CSV UTF-8(逗号分隔)”或XLSX格式后再上传。",
        "The file is not UTF-8 text. Save as UTF-8 CSV or XLSX and upload again.",
    ))
}

/// Reads a file into rows of text. The format is taken from the bytes (a ZIP or OLE
/// file is a workbook), else from the hint; anything else is read as CSV.
pub fn read_table(bytes: &[u8], hint: Option<FileFormat>) -> Result<(FileFormat, Table)> {
    let workbook = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if workbook {
        return Ok((FileFormat::Xlsx, read_xlsx(bytes)?));
    }
    if hint == Some(FileFormat::Xlsx) && !bytes.is_empty() {
        return Err(Error::BadRequest(Text::new(
            "文件不是有效的XLSX工作簿。请另存为XLSX或UTF-8 CSV后再上传。",
            "The file is not a valid XLSX workbook. Save as XLSX or UTF-8 CSV and upload again.",
        )));
    }
    Ok((FileFormat::Csv, read_csv(bytes)?))
}

fn read_csv(bytes: &[u8]) -> Result<Table> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| not_utf8())?;
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if !first_line.contains(',') && first_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    // Spreadsheets show a blank line as a row and a quoted multi-line cell as one row.
    let mut extra_lines = 0u64;
    let mut newlines = 0u64;
    let mut counted_to = 0usize;
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(i as u64 + 1);
            Error::BadRequest(Text::owned(
                format!("第{line}行无法读取:{e}"),
                format!("line {line} cannot be read: {e}"),
            ))
        })?;
        // The line the record starts on: skip the blank lines before it.
        let mut start = rec
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(counted_to);
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > counted_to {
            newlines += text.as_bytes()[counted_to..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = start;
        }
        let line = newlines + 1;
        out.push((line - extra_lines, rec.iter().map(str::to_string).collect()));
        extra_lines += rec
            .iter()
            .map(|f| f.matches('\n').count() as u64)
            .sum::<u64>();
    }
    Ok(out)
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                // Spreadsheets store 85.55 as the nearest double; print the shortest form.
                let s = format!("{f}");
                match s.split_once('.') {
                    Some((_, frac)) if frac.len() > 6 => format!("{f:.2}"),
                    _ => s,
                }
            }
        }
        Data::Bool(b) => format::yes_no(*b).to_string(),
        other => other.to_string(),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table> {
    use calamine::Reader;
    let bad = |e: String| {
        Error::BadRequest(Text::owned(
            format!("无法读取工作簿:{e}。请另存为XLSX或UTF-8 CSV后再上传。"),
            format!(
                "the workbook cannot be read: {e}. Save as XLSX or UTF-8 CSV and upload again."
            ),
        ))
    };
    let mut wb =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let range = match wb.worksheet_range_at(0) {
        Some(r) => r.map_err(|e| bad(e.to_string()))?,
        None => return Ok(Vec::new()),
    };
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let pad: Vec<String> = vec![String::new(); col0 as usize];
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut v = pad.clone();
            v.extend(cells.iter().map(cell_text));
            (u64::from(row0) + i as u64 + 1, v)
        })
        .collect())
}

/// One problem of the report: a row (1 is the header) and the column it is in.
#[derive(Debug, Clone)]
pub struct RowError {
    pub row: u64,
    pub column: Option<Column>,
    pub message: Text,
}

impl RowError {
    pub fn to_json(&self, lang: Lang) -> Value {
        json!({
            "row": self.row,
            "column": self.column.map(Column::key),
            "column_label": self.column.map(|c| c.label().get(lang).to_string()),
            "message": self.message.get(lang),
        })
    }
}

/// What an import created (or, in a dry run, would create).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub communities: u64,
    pub villages: u64,
    pub grids: u64,
    pub buildings: u64,
    pub village_groups: u64,
    pub units: u64,
    pub rooms: u64,
    pub rooms_updated: u64,
    pub persons: u64,
    pub persons_reused: u64,
    pub households: u64,
    pub members: u64,
    pub owners: u64,
    pub developers: u64,
}

impl Counts {
    /// The counts with their labels, for pages.
    pub fn labelled(&self) -> Vec<(Text, u64)> {
        vec![
            (Text::new("新社区", "new communities"), self.communities),
            (Text::new("新村", "new villages"), self.villages),
            (Text::new("新网格", "new grids"), self.grids),
            (Text::new("新楼栋", "new buildings"), self.buildings),
            (
                Text::new("新村民小组", "new village groups"),
                self.village_groups,
            ),
            (Text::new("新单元", "new units"), self.units),
            (Text::new("新房屋", "new rooms"), self.rooms),
            (Text::new("更新的房屋", "rooms updated"), self.rooms_updated),
            (Text::new("新人员", "new persons"), self.persons),
            (
                Text::new("已登记的人员", "persons already registered"),
                self.persons_reused,
            ),
            (Text::new("新户", "new households"), self.households),
            (
                Text::new("新增户成员", "new household members"),
                self.members,
            ),
            (Text::new("新增产权人", "new owners"), self.owners),
            (Text::new("新开发商", "new developers"), self.developers),
        ]
    }
}

/// Errors kept in a report; the rest are counted.
pub const MAX_ERRORS: usize = 1000;

/// The outcome of an import or a dry run.
#[derive(Debug, Clone)]
pub struct Report {
    /// No bad row (and, unless a dry run, everything was written).
    pub ok: bool,
    pub dry_run: bool,
    pub node_id: i64,
    pub format: FileFormat,
    /// Data rows read (blank rows skipped).
    pub rows: u64,
    pub errors: Vec<RowError>,
    pub errors_total: u64,
    pub counts: Counts,
    pub ignored_columns: Vec<String>,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn to_json(&self, lang: Lang) -> Value {
        json!({
            "ok": self.ok,
            "dry_run": self.dry_run,
            "node_id": self.node_id,
            "format": self.format,
            "rows": self.rows,
            "errors": self.errors.iter().map(|e| e.to_json(lang)).collect::<Vec<_>>(),
            "errors_total": self.errors_total,
            "counts": self.counts,
            "ignored_columns": self.ignored_columns,
            "elapsed_ms": self.elapsed_ms,
        })
    }
}

/// Where progress goes: a job of [`Jobs`], or nowhere.
#[derive(Clone, Copy)]
pub struct Hook<'a> {
    pub jobs: Option<(&'a Jobs, i64)>,
}

impl<'a> Hook<'a> {
    pub const NONE: Hook<'static> = Hook { jobs: None };

    pub fn job(jobs: &'a Jobs, id: i64) -> Hook<'a> {
        Hook {
            jobs: Some((jobs, id)),
        }
    }

    fn report(&self, phase: Text, done: u64, total: u64) {
        if let Some((j, id)) = self.jobs {
            j.set_progress(id, phase, done, total);
        }
    }
}

const PHASE_CHECK: Text = Text::new("正在检查", "checking rows");
const PHASE_WRITE: Text = Text::new("正在写入", "writing");

// ---------------------------------------------------------------------------------------
// What is stored already.

#[derive(Debug, Clone)]
struct NodeRef {
    id: i64,
    kind: NodeKind,
    track: Option<Track>,
    path: String,
    depth: i64,
}

#[derive(Default)]
struct Existing {
    /// (parent id, name) → node, for every node of the subdistrict.
    nodes: HashMap<(i64, String), NodeRef>,
    rooms: HashMap<(i64, String), (i64, [Option<i64>; 5])>,
    /// ID digest → (person id, name).
    persons: HashMap<String, (i64, String)>,
    households: HashMap<(i64, String), i64>,
    members: HashMap<(i64, i64), String>,
    heads: HashMap<i64, i64>,
    /// (household, name) → person without ID number.
    member_names: HashMap<(i64, String), i64>,
    owners: HashSet<(i64, i64, i64)>,
    /// (room, name) → owning person without ID number.
    owner_names: HashMap<(i64, String), i64>,
    developers: HashMap<String, i64>,
}

/// A query bound to the subdistrict and, when given, the path prefix `$2`.
fn scoped<'q>(
    sql: &'q str,
    sid: i64,
    like: &Option<String>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let q = sqlx::query(sql).bind(sid);
    match like {
        Some(l) => q.bind(l.clone()),
        None => q,
    }
}

async fn load(conn: &mut AnyConnection, sid: i64, target: &Node) -> Result<Existing> {
    // The whole subdistrict needs no path filter (and its plans are much faster).
    let like = target.parent_id.map(|_| format!("{}%", target.path));
    let filter = if like.is_some() {
        "AND n.path LIKE $2"
    } else {
        ""
    };
    let mut ex = Existing::default();
    for r in sqlx::query(
        "SELECT id, parent_id, kind, track, name, path, depth FROM nodes WHERE subdistrict_id = $1",
    )
    .bind(sid)
    .fetch_all(&mut *conn)
    .await?
    {
        let Some(parent) = opt_i64(&r, "parent_id") else {
            continue;
        };
        let kind = NodeKind::parse(&r.get::<String, _>("kind")).unwrap_or(NodeKind::Grid);
        let track = r
            .try_get::<Option<String>, _>("track")
            .ok()
            .flatten()
            .and_then(|t| Track::parse(&t));
        ex.nodes.insert(
            (parent, r.get("name")),
            NodeRef {
                id: r.get("id"),
                kind,
                track,
                path: r.get("path"),
                depth: r.get("depth"),
            },
        );
    }
    for r in scoped(
        &format!(
        "SELECT r.id, r.node_id, r.number, r.floor, r.registered_area, r.surveyed_area, r.contract_area, r.developer_unsold \
         FROM rooms r JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE r.subdistrict_id = $1 {filter}"),
        sid,
        &like,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let vals = [
            opt_i64(&r, "floor"),
            opt_i64(&r, "registered_area"),
            opt_i64(&r, "surveyed_area"),
            opt_i64(&r, "contract_area"),
            Some(r.get::<i64, _>("developer_unsold")),
        ];
        ex.rooms
            .insert((r.get("node_id"), r.get("number")), (r.get("id"), vals));
    }
    for r in sqlx::query(
        "SELECT id, name, id_digest FROM persons WHERE subdistrict_id = $1 AND id_digest IS NOT NULL",
    )
    .bind(sid)
    .fetch_all(&mut *conn)
    .await?
    {
        ex.persons
            .insert(r.get("id_digest"), (r.get("id"), r.get("name")));
    }
    for r in scoped(
        &format!(
            "SELECT h.id, h.room_id, h.label FROM households h \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         WHERE h.subdistrict_id = $1 AND h.room_id IS NOT NULL {filter}"
        ),
        sid,
        &like,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        ex.households
            .insert((r.get("room_id"), r.get("label")), r.get("id"));
    }
    for r in scoped(
        &format!(
        "SELECT m.household_id, m.person_id, m.relation, p.name, p.id_digest FROM household_members m \
         JOIN households h ON h.subdistrict_id = m.subdistrict_id AND h.id = m.household_id \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         JOIN persons p ON p.subdistrict_id = m.subdistrict_id AND p.id = m.person_id \
         WHERE m.subdistrict_id = $1 {filter}"),
        sid,
        &like,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let hh: i64 = r.get("household_id");
        let pid: i64 = r.get("person_id");
        let rel: String = r.get("relation");
        if rel == "head" {
            ex.heads.insert(hh, pid);
        }
        ex.members.insert((hh, pid), rel);
        let digest: Option<String> = r.try_get("id_digest").ok().flatten();
        if digest.is_none() {
            ex.member_names.insert((hh, r.get("name")), pid);
        }
    }
    for r in scoped(
        &format!(
            "SELECT o.room_id, o.person_id, o.org_id, p.name, p.id_digest FROM room_owners o \
         JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         LEFT JOIN persons p ON p.subdistrict_id = o.subdistrict_id AND p.id = o.person_id \
         WHERE o.subdistrict_id = $1 {filter}"
        ),
        sid,
        &like,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let room: i64 = r.get("room_id");
        let pid: i64 = r.get("person_id");
        ex.owners.insert((room, pid, r.get("org_id")));
        let name: Option<String> = r.try_get("name").ok().flatten();
        let digest: Option<String> = r.try_get("id_digest").ok().flatten();
        if let (Some(name), None, true) = (name, digest, pid != 0) {
            ex.owner_names.insert((room, name), pid);
        }
    }
    for r in
        sqlx::query("SELECT id, name FROM orgs WHERE subdistrict_id = $1 AND kind = 'developer'")
            .bind(sid)
            .fetch_all(&mut *conn)
            .await?
    {
        ex.developers.insert(r.get("name"), r.get("id"));
    }
    Ok(ex)
}

// ---------------------------------------------------------------------------------------
// The plan: every row checked against the others and against what is stored.

struct NewNode {
    id: i64,
    parent_id: i64,
    kind: NodeKind,
    track: Option<Track>,
    name: String,
    path: String,
    depth: i64,
}

/// The room columns that rows of one room must agree on, in `vals` order.
const ROOM_FIELDS: [Column; 5] = [
    Column::Floor,
    Column::RegisteredArea,
    Column::SurveyedArea,
    Column::ContractArea,
    Column::DeveloperUnsold,
];

struct RoomPlan {
    id: i64,
    node_id: i64,
    number: String,
    /// The stored values, for rooms that exist.
    stored: Option<[Option<i64>; 5]>,
    vals: [Option<i64>; 5],
    set_by: [Option<u64>; 5],
    developer: Option<(String, u64)>,
}

#[derive(Default)]
struct Plan {
    errors: Vec<RowError>,
    counts: Counts,
    new_nodes: Vec<NewNode>,
    rooms: Vec<RoomPlan>,
    room_index: HashMap<(i64, String), usize>,
    new_persons: Vec<(i64, CheckedPerson)>,
    by_digest: HashMap<String, (i64, String, u64)>,
    by_name_phone: HashMap<(String, String), i64>,
    by_scope_name: HashMap<(char, i64, String), i64>,
    reused: HashSet<i64>,
    households: HashMap<(i64, String), i64>,
    new_households: Vec<(i64, i64, i64, String)>,
    members: HashMap<(i64, i64), (Relation, u64)>,
    new_members: Vec<(i64, i64, Relation)>,
    heads: HashMap<i64, (i64, u64)>,
    owners: HashSet<(i64, i64)>,
    new_owners: Vec<(i64, i64)>,
    org_owners: HashSet<(i64, String)>,
    new_org_owners: Vec<(i64, String)>,
    new_developers: HashSet<String>,
}

impl Plan {
    fn err(&mut self, row: u64, column: Column, message: Text) {
        self.errors.push(RowError {
            row,
            column: Some(column),
            message,
        });
    }
}

fn kind_text(kind: NodeKind) -> Text {
    kind.label()
}

/// Finds the child `name` of `parent` (stored or planned), or plans it.
fn child(
    ex: &mut Existing,
    plan: &mut Plan,
    parent: &NodeRef,
    name: &str,
    want: NodeKind,
    accept: &[NodeKind],
) -> std::result::Result<NodeRef, Text> {
    if let Some(n) = ex.nodes.get(&(parent.id, name.to_string())) {
        if accept.contains(&n.kind) {
            return Ok(n.clone());
        }
        return Err(Text::owned(
            format!(
                "“{name}”已登记为{},不能作为{}",
                kind_text(n.kind).zh,
                kind_text(want).zh
            ),
            format!(
                "“{name}” is registered as a {}, not a {}",
                kind_text(n.kind).en,
                kind_text(want).en
            ),
        ));
    }
    let track = model::check_child(parent.kind, parent.track, want)?;
    let id = next_id();
    let n = NodeRef {
        id,
        kind: want,
        track,
        path: model::child_path(&parent.path, id),
        depth: parent.depth + 1,
    };
    plan.new_nodes.push(NewNode {
        id,
        parent_id: parent.id,
        kind: want,
        track,
        name: name.to_string(),
        path: n.path.clone(),
        depth: n.depth,
    });
    let c = &mut plan.counts;
    match want {
        NodeKind::Community => c.communities += 1,
        NodeKind::Village => c.villages += 1,
        NodeKind::Grid => c.grids += 1,
        NodeKind::Building => c.buildings += 1,
        NodeKind::VillageGroup => c.village_groups += 1,
        NodeKind::Unit => c.units += 1,
        NodeKind::Subdistrict => {}
    }
    ex.nodes.insert((parent.id, name.to_string()), n.clone());
    Ok(n)
}

fn track_name(t: Track) -> Text {
    match t {
        Track::Urban => Text::new("城市", "urban"),
        Track::Rural => Text::new("农村", "rural"),
    }
}

/// The rows after the header, parsed.
pub struct Parsed {
    pub header_row: u64,
    pub rows: Vec<(u64, std::result::Result<Row, Vec<CellError>>)>,
    pub header_errors: Vec<CellError>,
    pub ignored: Vec<String>,
}

/// Finds the header (the first non-blank row) and parses every row after it.
pub fn parse_table(table: &Table) -> Parsed {
    let mut it = table.iter().filter(|(_, cells)| !format::is_blank(cells));
    let Some((header_row, head)) = it.next() else {
        return Parsed {
            header_row: 1,
            rows: Vec::new(),
            header_errors: vec![CellError {
                column: None,
                message: Text::new(
                    "文件是空的:第一行应为表头",
                    "the file is empty: the first row is the header",
                ),
            }],
            ignored: Vec::new(),
        };
    };
    match Header::parse(head) {
        Err(e) => Parsed {
            header_row: *header_row,
            rows: Vec::new(),
            header_errors: e,
            ignored: Vec::new(),
        },
        Ok(h) => Parsed {
            header_row: *header_row,
            rows: it
                .map(|(n, cells)| (*n, format::parse_row(&h, cells)))
                .collect(),
            header_errors: Vec::new(),
            ignored: h.ignored.clone(),
        },
    }
}

fn build_plan(
    seal: &Seal,
    root: &NodeRef,
    target_chain: &[(String, NodeKind)],
    target_name: &str,
    mut ex: Existing,
    parsed: &Parsed,
    hook: Hook<'_>,
) -> Plan {
    let mut plan = Plan::default();
    let total = parsed.rows.len() as u64;
    for e in &parsed.header_errors {
        plan.errors.push(RowError {
            row: parsed.header_row,
            column: e.column,
            message: e.message.clone(),
        });
    }
    // Pre-pass: the track of each community/village, and which rural buildings have units.
    let mut tracks: HashMap<&str, (Track, u64)> = HashMap::new();
    let mut with_units: HashSet<(&str, &str, &str)> = HashSet::new();
    let mut skip: HashSet<u64> = HashSet::new();
    for (n, r) in &parsed.rows {
        let Ok(r) = r else { continue };
        if r.unit.is_some() {
            with_units.insert((&r.community, &r.grid, &r.building));
        }
        let Some(t) = r.track else { continue };
        match tracks.get(r.community.as_str()) {
            Some((t0, first)) if *t0 != t => {
                plan.err(
                    *n,
                    Column::Track,
                    Text::owned(
                        format!(
                            "“{}”在第{first}行的轨道是{},此处是{}",
                            r.community,
                            track_name(*t0).zh,
                            track_name(t).zh
                        ),
                        format!(
                            "“{}” is {} on row {first} but {} here",
                            r.community,
                            track_name(*t0).en,
                            track_name(t).en
                        ),
                    ),
                );
                skip.insert(*n);
            }
            Some(_) => {}
            None => {
                tracks.insert(&r.community, (t, *n));
            }
        }
    }
    for (i, (n, r)) in parsed.rows.iter().enumerate() {
        if i % 2000 == 0 {
            hook.report(PHASE_CHECK, i as u64, total);
        }
        let n = *n;
        let r = match r {
            Ok(r) => r,
            Err(errs) => {
                for e in errs {
                    plan.errors.push(RowError {
                        row: n,
                        column: e.column,
                        message: e.message.clone(),
                    });
                }
                continue;
            }
        };
        if skip.contains(&n) {
            continue;
        }
        // Inside the import's target?
        let chain = r.chain();
        if let Some((level, (name, _))) = target_chain
            .iter()
            .enumerate()
            .find(|(level, (name, _))| chain.get(*level) != Some(&name.as_str()))
        {
            plan.err(
                n,
                CHAIN_COLUMNS[level],
                Text::owned(
                    format!("此行不在本次导入的范围“{target_name}”内(应为“{name}”)"),
                    format!("this row is outside the import's target “{target_name}” (expected “{name}”)"),
                ),
            );
            continue;
        }
        // Level 1: the community or village, with its track.
        let stored = ex.nodes.get(&(root.id, r.community.clone())).cloned();
        let l1 = match stored {
            Some(node) => {
                if !matches!(node.kind, NodeKind::Community | NodeKind::Village) {
                    plan.err(
                        n,
                        Column::Community,
                        Text::new(
                            "该名称已被其他类型的节点使用",
                            "this name belongs to another kind of node",
                        ),
                    );
                    continue;
                }
                let stored_track = node.kind.own_track().unwrap_or(Track::Urban);
                if let Some(t) = r.track {
                    if t != stored_track {
                        plan.err(
                            n,
                            Column::Track,
                            Text::owned(
                                format!(
                                    "“{}”已登记为{},轨道应为“{}”",
                                    r.community,
                                    node.kind.label().zh,
                                    track_name(stored_track).zh
                                ),
                                format!(
                                    "“{}” is registered as a {}: its track is {}",
                                    r.community,
                                    node.kind.label().en,
                                    track_name(stored_track).en
                                ),
                            ),
                        );
                        continue;
                    }
                }
                node
            }
            None => {
                let Some((t, _)) = tracks.get(r.community.as_str()) else {
                    plan.err(
                        n,
                        Column::Track,
                        Text::owned(
                            format!("新的社区/村“{}”须填写轨道(城市或农村)", r.community),
                            format!(
                                "the new community/village “{}” needs a track (urban or rural)",
                                r.community
                            ),
                        ),
                    );
                    continue;
                };
                let kind = match t {
                    Track::Urban => NodeKind::Community,
                    Track::Rural => NodeKind::Village,
                };
                match child(&mut ex, &mut plan, root, &r.community, kind, &[kind]) {
                    Ok(node) => node,
                    Err(t) => {
                        plan.err(n, Column::Community, t);
                        continue;
                    }
                }
            }
        };
        let l2 = match child(
            &mut ex,
            &mut plan,
            &l1,
            &r.grid,
            NodeKind::Grid,
            &[NodeKind::Grid],
        ) {
            Ok(node) => node,
            Err(t) => {
                plan.err(n, Column::Grid, t);
                continue;
            }
        };
        let want3 = if l1.track == Some(Track::Rural)
            && !with_units.contains(&(r.community.as_str(), r.grid.as_str(), r.building.as_str()))
        {
            NodeKind::VillageGroup
        } else {
            NodeKind::Building
        };
        let l3 = match child(
            &mut ex,
            &mut plan,
            &l2,
            &r.building,
            want3,
            &[NodeKind::Building, NodeKind::VillageGroup],
        ) {
            Ok(node) => node,
            Err(t) => {
                plan.err(n, Column::Building, t);
                continue;
            }
        };
        let holder = match &r.unit {
            None => l3,
            Some(u) => match child(
                &mut ex,
                &mut plan,
                &l3,
                u,
                NodeKind::Unit,
                &[NodeKind::Unit],
            ) {
                Ok(node) => node,
                Err(t) => {
                    plan.err(n, Column::Unit, t);
                    continue;
                }
            },
        };
        // The room, its values agreed by all its rows.
        let key = (holder.id, r.room.clone());
        let idx = match plan.room_index.get(&key) {
            Some(&i) => i,
            None => {
                let (id, stored) = match ex.rooms.get(&key) {
                    Some((id, vals)) => (*id, Some(*vals)),
                    None => (next_id(), None),
                };
                plan.rooms.push(RoomPlan {
                    id,
                    node_id: holder.id,
                    number: r.room.clone(),
                    stored,
                    vals: stored.unwrap_or([None, None, None, None, Some(0)]),
                    set_by: [None; 5],
                    developer: None,
                });
                plan.room_index.insert(key, plan.rooms.len() - 1);
                plan.rooms.len() - 1
            }
        };
        let given = [
            r.floor,
            r.registered_area,
            r.surveyed_area,
            r.contract_area,
            r.developer_unsold.map(i64::from),
        ];
        let mut room_ok = true;
        for (f, v) in given.iter().enumerate() {
            let Some(v) = *v else { continue };
            let rp = &mut plan.rooms[idx];
            match rp.set_by[f] {
                Some(first) if rp.vals[f] != Some(v) => {
                    let c = ROOM_FIELDS[f];
                    plan.err(
                        n,
                        c,
                        Text::owned(
                            format!("同一房屋在第{first}行的“{}”与此行不同", c.header()),
                            format!("the same room has a different {} on row {first}", c.key()),
                        ),
                    );
                    room_ok = false;
                }
                Some(_) => {}
                None => {
                    rp.vals[f] = Some(v);
                    rp.set_by[f] = Some(n);
                }
            }
        }
        if !room_ok {
            continue;
        }
        let room_id = plan.rooms[idx].id;
        if let Some(dev) = &r.developer {
            match &plan.rooms[idx].developer {
                Some((d0, first)) if d0 != dev => {
                    let first = *first;
                    plan.err(
                        n,
                        Column::Developer,
                        Text::owned(
                            format!("同一房屋在第{first}行的开发商与此行不同"),
                            format!("the same room has another developer on row {first}"),
                        ),
                    );
                    continue;
                }
                Some(_) => {}
                None => {
                    plan.rooms[idx].developer = Some((dev.clone(), n));
                    let org = ex.developers.get(dev).copied();
                    if org.is_none() && plan.new_developers.insert(dev.clone()) {
                        plan.counts.developers += 1;
                    }
                    let stored = org.is_some_and(|o| ex.owners.contains(&(room_id, 0, o)));
                    if !stored && plan.org_owners.insert((room_id, dev.clone())) {
                        plan.new_org_owners.push((room_id, dev.clone()));
                        plan.counts.owners += 1;
                    }
                }
            }
        }
        // The person.
        let Some(res) = &r.resident else { continue };
        let p = &res.person;
        let household = res.relation.map(|_| {
            let hkey = (room_id, r.household.clone());
            if let Some(&h) = ex.households.get(&hkey) {
                (h, false)
            } else if let Some(&h) = plan.households.get(&hkey) {
                (h, false)
            } else {
                let h = next_id();
                plan.households.insert(hkey, h);
                plan.new_households
                    .push((h, holder.id, room_id, r.household.clone()));
                plan.counts.households += 1;
                (h, true)
            }
        });
        let pid = match &p.id_number {
            Some(idn) => {
                let d = seal.digest(idn);
                if let Some((pid, name, first)) = plan.by_digest.get(&d) {
                    if *name != p.name {
                        let first = *first;
                        plan.err(
                            n,
                            Column::IdNumber,
                            Text::owned(
                                format!("与第{first}行的身份证号相同,但姓名不同"),
                                format!("the same ID number as row {first} with a different name"),
                            ),
                        );
                        continue;
                    }
                    *pid
                } else if let Some((pid, name)) = ex.persons.get(&d) {
                    if *name != p.name {
                        plan.err(
                            n,
                            Column::IdNumber,
                            Text::owned(
                                format!("该身份证号已登记在另一姓名({})下", mask::name(name)),
                                format!(
                                    "this ID number is registered under another name ({})",
                                    mask::name(name)
                                ),
                            ),
                        );
                        continue;
                    }
                    let pid = *pid;
                    plan.by_digest.insert(d, (pid, p.name.clone(), n));
                    if plan.reused.insert(pid) {
                        plan.counts.persons_reused += 1;
                    }
                    pid
                } else {
                    let pid = next_id();
                    plan.by_digest.insert(d, (pid, p.name.clone(), n));
                    plan.new_persons.push((pid, p.clone()));
                    plan.counts.persons += 1;
                    pid
                }
            }
            None => {
                let scope = match household {
                    Some((h, _)) => ('h', h),
                    None => ('r', room_id),
                };
                let scope_key = (scope.0, scope.1, p.name.clone());
                let in_file = match &p.phone {
                    Some(ph) => plan
                        .by_name_phone
                        .get(&(p.name.clone(), ph.clone()))
                        .copied(),
                    None => None,
                }
                .or_else(|| plan.by_scope_name.get(&scope_key).copied());
                let stored = match scope.0 {
                    'h' => ex.member_names.get(&(scope.1, p.name.clone())).copied(),
                    _ => ex.owner_names.get(&(scope.1, p.name.clone())).copied(),
                }
                .or_else(|| ex.owner_names.get(&(room_id, p.name.clone())).copied());
                let pid = match (in_file, stored) {
                    (Some(pid), _) => pid,
                    (None, Some(pid)) => {
                        if plan.reused.insert(pid) {
                            plan.counts.persons_reused += 1;
                        }
                        pid
                    }
                    (None, None) => {
                        let pid = next_id();
                        plan.new_persons.push((pid, p.clone()));
                        plan.counts.persons += 1;
                        pid
                    }
                };
                if let Some(ph) = &p.phone {
                    plan.by_name_phone.insert((p.name.clone(), ph.clone()), pid);
                }
                plan.by_scope_name.insert(scope_key, pid);
                pid
            }
        };
        if let (Some((h, _)), Some(rel)) = (household, res.relation) {
            if rel == Relation::Head {
                let other = plan
                    .heads
                    .get(&h)
                    .map(|(p, row)| (*p, Some(*row)))
                    .or_else(|| ex.heads.get(&h).map(|p| (*p, None)));
                if let Some((other, row)) = other.filter(|(o, _)| *o != pid) {
                    let _ = other;
                    let (zh, en) = match row {
                        Some(row) => (
                            format!("该户已有户主(第{row}行)"),
                            format!("the household has a head already (row {row})"),
                        ),
                        None => (
                            "该户已登记了另一位户主".to_string(),
                            "another head of this household is registered".to_string(),
                        ),
                    };
                    plan.err(n, Column::Relation, Text::owned(zh, en));
                    continue;
                }
                plan.heads.insert(h, (pid, n));
            }
            match plan.members.get(&(h, pid)) {
                Some((r0, first)) if *r0 != rel => {
                    let first = *first;
                    plan.err(
                        n,
                        Column::Relation,
                        Text::owned(
                            format!("此人在第{first}行的与户主关系不同"),
                            format!("this person has another relation on row {first}"),
                        ),
                    );
                    continue;
                }
                Some(_) => {}
                None => {
                    plan.members.insert((h, pid), (rel, n));
                    if !ex.members.contains_key(&(h, pid)) {
                        plan.new_members.push((h, pid, rel));
                        plan.counts.members += 1;
                    }
                }
            }
        }
        if res.owner
            && !ex.owners.contains(&(room_id, pid, 0))
            && plan.owners.insert((room_id, pid))
        {
            plan.new_owners.push((room_id, pid));
            plan.counts.owners += 1;
        }
    }
    // Rooms: new ones, and stored ones whose values the file changes.
    for rp in &plan.rooms {
        match rp.stored {
            None => plan.counts.rooms += 1,
            Some(s) if s != rp.vals => plan.counts.rooms_updated += 1,
            Some(_) => {}
        }
    }
    hook.report(PHASE_CHECK, total, total);
    plan.errors.sort_by_key(|e| e.row);
    plan
}

// ---------------------------------------------------------------------------------------
// Running an import.

/// The target node of an import, checked: in the actor's subdistrict and editable by them.
pub async fn target(db: &Db, actor: &Actor, node_id: i64) -> Result<Node> {
    let node = crate::tree::store::node(db, actor.subdistrict_id, node_id)
        .await
        .map_err(|e| match e {
            Error::NotFound => Error::field(
                "node_id",
                Text::new("导入的目标节点不存在", "the target node does not exist"),
            ),
            e => e,
        })?;
    if !access::allows(
        actor,
        Action::EditRegistry,
        Target::Node { path: &node.path },
    ) {
        return Err(Error::Forbidden);
    }
    if !matches!(
        node.kind,
        NodeKind::Subdistrict
            | NodeKind::Community
            | NodeKind::Village
            | NodeKind::Grid
            | NodeKind::Building
            | NodeKind::VillageGroup
            | NodeKind::Unit
    ) {
        return Err(Error::Forbidden);
    }
    Ok(node)
}

/// Imports a table into the subtree of `node_id`: checks everything, and unless a dry run
/// or a row is bad, writes it all in one transaction with one audit entry.
pub async fn run(
    db: &Db,
    seal: &Seal,
    actor: &Actor,
    node_id: i64,
    format: FileFormat,
    table: &Table,
    dry_run: bool,
    hook: Hook<'_>,
) -> Result<Report> {
    crate::storage::memo::changed();
    let started = Instant::now();
    let sid = actor.subdistrict_id;
    let node = target(db, actor, node_id).await?;
    let parsed = parse_table(table);
    let ancestors = crate::tree::store::ancestors(db, sid, &node.path).await?;
    let root_node = ancestors
        .iter()
        .find(|n| n.kind == NodeKind::Subdistrict)
        .ok_or(Error::NotFound)?;
    let root = NodeRef {
        id: root_node.id,
        kind: NodeKind::Subdistrict,
        track: None,
        path: root_node.path.clone(),
        depth: root_node.depth,
    };
    let chain: Vec<(String, NodeKind)> = ancestors
        .iter()
        .filter(|n| n.kind != NodeKind::Subdistrict)
        .map(|n| (n.name.clone(), n.kind))
        .collect();
    let rows = parsed.rows.len() as u64;
    let finish = |plan: &Plan, ok: bool| Report {
        ok,
        dry_run,
        node_id,
        format,
        rows,
        errors_total: plan.errors.len() as u64,
        errors: plan.errors.iter().take(MAX_ERRORS).cloned().collect(),
        counts: plan.counts.clone(),
        ignored_columns: parsed.ignored.clone(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    if dry_run {
        let mut conn = db.read().acquire().await?;
        let ex = load(&mut conn, sid, &node).await?;
        drop(conn);
        let plan = build_plan(seal, &root, &chain, &node.name, ex, &parsed, hook);
        let ok = plan.errors.is_empty();
        return Ok(finish(&plan, ok));
    }
    let mut tx = db.begin().await?;
    let ex = load(&mut tx, sid, &node).await?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "registry import loaded"
    );
    let plan = build_plan(seal, &root, &chain, &node.name, ex, &parsed, hook);
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "registry import planned"
    );
    if !plan.errors.is_empty() {
        tx.rollback().await?;
        return Ok(finish(&plan, false));
    }
    match write(db.dialect(), &mut tx, seal, actor, &node, &plan, rows, hook).await {
        Ok(()) => {}
        Err(Error::Internal(e)) if is_unique(&e) => {
            return Err(Error::Conflict(Text::new(
                "导入期间台账被同时修改,请重新导入",
                "the registry changed while importing; import again",
            )))
        }
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    Ok(finish(&plan, true))
}

fn is_unique(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>()
        .is_some_and(crate::storage::is_unique_violation)
}

async fn write(
    db_dialect: Dialect,
    tx: &mut crate::storage::Tx,
    seal: &Seal,
    actor: &Actor,
    node: &Node,
    plan: &Plan,
    rows: u64,
    hook: Hook<'_>,
) -> Result<()> {
    let sid = actor.subdistrict_id;
    let dialect = db_dialect;
    let now = crate::clock::now_ms();
    let total = (plan.new_nodes.len()
        + plan.rooms.len()
        + plan.new_persons.len()
        + plan.new_households.len()
        + plan.new_members.len()
        + plan.new_owners.len()
        + plan.new_org_owners.len()) as u64;
    let mut done = 0u64;
    let mut tick = |n: u64| {
        let before = done / 5000;
        done += n;
        if done / 5000 != before {
            hook.report(PHASE_WRITE, done, total);
        }
    };
    hook.report(PHASE_WRITE, 0, total);
    let t0 = Instant::now();
    // Developers first: owners refer to them.
    let mut orgs: HashMap<&str, i64> = HashMap::new();
    for (_, name) in &plan.new_org_owners {
        if !orgs.contains_key(name.as_str()) {
            let org = crate::tree::store::org_by_name(tx, sid, "developer", name).await?;
            orgs.insert(name, org.id);
        }
    }
    let mut ins = Inserter::for_db(dialect, "nodes", &crate::tree::store::NODE_COLUMNS);
    for n in &plan.new_nodes {
        ins.push(
            tx,
            vec![
                sid.into(),
                n.id.into(),
                n.parent_id.into(),
                n.kind.as_str().into(),
                n.track.map(|t| t.as_str().to_string()).into(),
                n.name.clone().into(),
                Cell::NullText,
                n.path.clone().into(),
                n.depth.into(),
                0i64.into(),
                now.into(),
            ],
        )
        .await?;
        tick(1);
    }
    ins.flush(tx).await?;
    tracing::debug!(
        step = 1,
        ms = t0.elapsed().as_millis() as u64,
        "registry import write"
    );
    let mut ins = Inserter::for_db(dialect, "rooms", &crate::tree::store::ROOM_COLUMNS);
    for r in &plan.rooms {
        match r.stored {
            None => {
                ins.push(
                    tx,
                    vec![
                        sid.into(),
                        r.id.into(),
                        r.node_id.into(),
                        r.number.clone().into(),
                        r.vals[0].into(),
                        r.vals[1].into(),
                        r.vals[2].into(),
                        r.vals[3].into(),
                        r.vals[4].unwrap_or(0).into(),
                        now.into(),
                    ],
                )
                .await?;
            }
            Some(s) if s != r.vals => {
                sqlx::query(
                    "UPDATE rooms SET floor = $1, registered_area = $2, surveyed_area = $3, contract_area = $4, \
                     developer_unsold = $5 WHERE subdistrict_id = $6 AND id = $7",
                )
                .bind(r.vals[0])
                .bind(r.vals[1])
                .bind(r.vals[2])
                .bind(r.vals[3])
                .bind(r.vals[4].unwrap_or(0))
                .bind(sid)
                .bind(r.id)
                .execute(&mut **tx)
                .await?;
            }
            Some(_) => {}
        }
        tick(1);
    }
    ins.flush(tx).await?;
    tracing::debug!(
        step = 2,
        ms = t0.elapsed().as_millis() as u64,
        "registry import write"
    );
    let mut ins = Inserter::for_db(dialect, "persons", &PERSON_COLUMNS);
    for (id, p) in &plan.new_persons {
        let sealed = seal_person(seal, p);
        ins.push(tx, person_cells(sid, *id, p, sealed, now)).await?;
        tick(1);
    }
    ins.flush(tx).await?;
    tracing::debug!(
        step = 3,
        ms = t0.elapsed().as_millis() as u64,
        "registry import write"
    );
    let mut ins = Inserter::for_db(
        dialect,
        "households",
        &crate::people::store::HOUSEHOLD_COLUMNS,
    );
    for (id, node_id, room_id, label) in &plan.new_households {
        ins.push(
            tx,
            vec![
                sid.into(),
                (*id).into(),
                (*node_id).into(),
                (*room_id).into(),
                label.clone().into(),
                now.into(),
            ],
        )
        .await?;
        tick(1);
    }
    ins.flush(tx).await?;
    tracing::debug!(
        step = 4,
        ms = t0.elapsed().as_millis() as u64,
        "registry import write"
    );
    let mut ins = Inserter::for_db(
        dialect,
        "household_members",
        &crate::people::store::MEMBER_COLUMNS,
    );
    for (h, p, rel) in &plan.new_members {
        ins.push(
            tx,
            vec![sid.into(), (*h).into(), (*p).into(), rel.as_str().into()],
        )
        .await?;
        tick(1);
    }
    ins.flush(tx).await?;
    tracing::debug!(
        step = 5,
        ms = t0.elapsed().as_millis() as u64,
        "registry import write"
    );
    let mut ins = Inserter::for_db(dialect, "room_owners", &crate::people::store::OWNER_COLUMNS);
    for (room, p) in &plan.new_owners {
        ins.push(
            tx,
            vec![sid.into(), (*room).into(), (*p).into(), 0i64.into()],
        )
        .await?;
        tick(1);
    }
    for (room, name) in &plan.new_org_owners {
        let org = orgs.get(name.as_str()).copied().unwrap_or(0);
        ins.push(
            tx,
            vec![sid.into(), (*room).into(), 0i64.into(), org.into()],
        )
        .await?;
        tick(1);
    }
    ins.flush(tx).await?;
    tracing::debug!(
        step = 6,
        ms = t0.elapsed().as_millis() as u64,
        "registry import write"
    );
    audit::record(
        tx,
        actor,
        Change::new("registry.import", "node", Some(node.id))
            .label(&node.name)
            .after(json!({ "rows": rows, "counts": plan.counts })),
    )
    .await?;
    hook.report(PHASE_WRITE, total, total);
    Ok(())
}

/// Reads the file off the async threads, then runs the import.
#[allow(clippy::too_many_arguments)]
pub async fn run_bytes(
    db: &Db,
    seal: &Seal,
    actor: &Actor,
    node_id: i64,
    bytes: std::sync::Arc<super::jobs::Upload>,
    dry_run: bool,
    hook: Hook<'_>,
) -> Result<Report> {
    let hint = Some(bytes.format);
    let (format, table) = tokio::task::spawn_blocking(move || read_table(&bytes.bytes, hint))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("reading the upload: {e}")))??;
    run(db, seal, actor, node_id, format, &table, dry_run, hook).await
}

/// Starts an import in the background; its progress and report are in `state.imports`.
pub fn spawn(
    state: crate::web::AppState,
    actor: Actor,
    node: &Node,
    upload: std::sync::Arc<super::jobs::Upload>,
    dry_run: bool,
) -> i64 {
    let job = super::jobs::Job::new(
        actor.subdistrict_id,
        actor.user_id,
        node.id,
        &node.name,
        dry_run,
        upload.clone(),
    );
    let id = state.imports.insert(job);
    let node_id = node.id;
    tokio::spawn(async move {
        let hook = Hook::job(&state.imports, id);
        let r = run_bytes(
            &state.db,
            &state.seal,
            &actor,
            node_id,
            upload,
            dry_run,
            hook,
        )
        .await;
        let result = r.map_err(|e| {
            if let Error::Internal(err) = &e {
                tracing::error!(error = format!("{err:#}"), "registry import failed");
            }
            let p = e.problem(Lang::Zh);
            let pe = e.problem(Lang::En);
            Text::owned(
                format!("{}:{}", p.title, p.detail),
                format!("{}: {}", pe.title, pe.detail),
            )
        });
        state.imports.finish(id, result);
    });
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_quotes_is_read_with_row_numbers() {
        let t = read_csv(
            "\u{feff}社区/村,室号\n\"A,1\",101\n\n B ,102\n\"x\ny\",103\nC,104\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(t[0], (1, vec!["社区/村".to_string(), "室号".to_string()]));
        assert_eq!(t[1].1[0], "A,1");
        assert_eq!(t[2].0, 4, "blank lines keep the numbering");
        assert_eq!(t[3].0, 5);
        assert_eq!(t[4].0, 6, "a multi-line cell is one row");
    }

    #[test]
    fn tab_separated_text_is_read_too() {
        let t = read_csv("社区/村\t室号\nA\t101\n".as_bytes()).unwrap();
        assert_eq!(t[1].1, vec!["A".to_string(), "101".to_string()]);
    }

    #[test]
    fn non_utf8_text_asks_for_utf8_csv_or_xlsx() {
        // "社区" in GBK.
        let gbk = [0xC9u8, 0xE7, 0xC7, 0xF8, b',', b'1', b'\n'];
        let e = read_table(&gbk, None).unwrap_err();
        match e {
            Error::BadRequest(t) => assert!(t.en.contains("UTF-8 CSV or XLSX"), "{}", t.en),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_file_claimed_as_xlsx_that_is_not_is_refused() {
        assert!(read_table(b"a,b\n", Some(FileFormat::Xlsx)).is_err());
        assert!(read_table(b"PK\x03\x04garbage", None).is_err());
    }

    #[test]
    fn formats_are_recognised_by_name_extension_and_type() {
        assert_eq!(FileFormat::parse("CSV"), Some(FileFormat::Csv));
        assert_eq!(FileFormat::parse("台账.xlsx"), Some(FileFormat::Xlsx));
        assert_eq!(
            FileFormat::parse("text/csv; charset=utf-8"),
            Some(FileFormat::Csv)
        );
        assert_eq!(FileFormat::parse(XLSX_MIME), Some(FileFormat::Xlsx));
        assert_eq!(FileFormat::parse("application/json"), None);
    }

    #[test]
    fn spreadsheet_numbers_read_as_text_people_typed() {
        use calamine::Data;
        assert_eq!(cell_text(&Data::Float(13812341234.0)), "13812341234");
        assert_eq!(cell_text(&Data::Float(85.5)), "85.5");
        assert_eq!(cell_text(&Data::Float(85.55)), "85.55");
        assert_eq!(cell_text(&Data::Int(5)), "5");
        assert_eq!(cell_text(&Data::Bool(true)), "是");
        assert_eq!(cell_text(&Data::Empty), "");
    }

    #[test]
    fn the_header_is_the_first_non_blank_row() {
        let t: Table = vec![
            (1, vec!["".into()]),
            (
                2,
                vec![
                    "社区/村".into(),
                    "网格".into(),
                    "楼栋/村民小组".into(),
                    "室号".into(),
                ],
            ),
            (3, vec!["A".into(), "G".into(), "B".into(), "1".into()]),
        ];
        let p = parse_table(&t);
        assert_eq!(p.header_row, 2);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].0, 3);
        assert!(p.header_errors.is_empty());
        let p = parse_table(&Vec::new());
        assert_eq!(p.header_errors.len(), 1);
    }
}
