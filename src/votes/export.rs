//! The vote export (`redbutler-vote-export/1`): one JSON document with everything an outside
//! auditor needs to re-check a vote — its header, the electorate on the record date, every
//! ballot as chained in the box, and the head hash — and `verify`, which re-runs every check
//! and lists each one, passed or failed. Pure: bytes in, a report out.
//!
//! Areas are integer hundredths of m²; times are Unix ms; each voter counts as one owner.
//! The document is read and written with serde; JSON values inside (`form`, `thresholds`,
//! `scope`, `published_result`) are kept as given and compared as JSON values.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::i18n::{Lang, Text};
use crate::votes::chain::{self, BallotChannel, BallotRecord, ChainHeader};
use crate::votes::model::Matter;

/// The format tag of this version of the export.
pub const FORMAT: &str = "redbutler-vote-export/1";

/// The whole export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// Always `FORMAT`.
    pub format: String,
    pub header: ExportHeader,
    /// The voter units on the record date (each counts as one owner).
    pub electorate: Vec<Voter>,
    /// The ballot box, in chain order.
    pub ballots: Vec<BallotRecord>,
    /// The last ballot's hash (the header digest when no ballot was cast).
    pub head_hash: String,
}

/// What was put to the owners, and what was published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportHeader {
    pub vote_id: i64,
    pub subdistrict_code: String,
    pub title: String,
    pub matter: Matter,
    /// The ballot form (question, candidates or options, seats), as the rules describe it.
    pub form: Value,
    /// The thresholds as the rules describe them.
    pub thresholds: Value,
    /// The thresholds' canonical text, bound into the chain's genesis hash.
    pub thresholds_canonical: String,
    /// The scope (the whole estate, a building, a stairway unit).
    pub scope: Value,
    /// The record date (权益登记日), `YYYY-MM-DD`.
    pub record_date: String,
    pub period_start_ms: i64,
    pub period_end_ms: i64,
    /// `chain::electorate_digest` of `electorate`.
    pub electorate_digest: String,
    /// The result as published (`null` when none was published).
    pub published_result: Value,
}

impl ExportHeader {
    /// The part of the header the chain's genesis hash binds.
    pub fn chain_header(&self) -> ChainHeader {
        ChainHeader {
            vote_id: self.vote_id,
            title: self.title.clone(),
            matter: self.matter,
            thresholds: self.thresholds_canonical.clone(),
            record_date: self.record_date.clone(),
            electorate_digest: self.electorate_digest.clone(),
        }
    }
}

/// One voter unit: its key, the area that counts (the sum of its rooms'), and its rooms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voter {
    pub key: String,
    pub area: u64,
    pub rooms: Vec<VoterRoom>,
}

/// A room of a voter unit and its area that counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoterRoom {
    pub room_id: i64,
    pub area: u64,
}

impl Export {
    /// The electorate digest recomputed from `electorate`.
    pub fn computed_electorate_digest(&self) -> String {
        let rooms: Vec<Vec<i64>> = self
            .electorate
            .iter()
            .map(|v| v.rooms.iter().map(|r| r.room_id).collect())
            .collect();
        chain::electorate_digest(
            self.electorate
                .iter()
                .zip(rooms.iter())
                .map(|(v, r)| (v.key.as_str(), v.area, r.as_slice())),
        )
    }
}

/// The document as pretty JSON (fields in a fixed order, two-space indent, final newline).
pub fn to_json(export: &Export) -> String {
    // Serialising these types cannot fail: every map key is a string.
    let mut s = serde_json::to_string_pretty(export).unwrap_or_default();
    s.push('\n');
    s
}

/// Why a document could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportError {
    /// Not JSON, or JSON of the wrong shape, at this place (from 1).
    Malformed {
        line: usize,
        column: usize,
        message: String,
    },
    /// No `format` field: not a vote export.
    MissingFormat,
    /// Another format or version.
    UnsupportedFormat { found: String },
}

impl ExportError {
    /// A localised sentence.
    pub fn message(&self) -> Text {
        match self {
            ExportError::Malformed {
                line,
                column,
                message,
            } => Text::owned(
                format!("文件格式有误（第 {line} 行第 {column} 列）：{message}"),
                format!("malformed export at line {line}, column {column}: {message}"),
            ),
            ExportError::MissingFormat => Text::new(
                "这不是表决导出文件（缺少 format 字段）",
                "not a vote export (no \"format\" field)",
            ),
            ExportError::UnsupportedFormat { found } => Text::owned(
                format!("不支持的导出格式“{found}”，本程序读取 {FORMAT}"),
                format!("unsupported export format \"{found}\"; this program reads {FORMAT}"),
            ),
        }
    }
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().en)
    }
}

impl std::error::Error for ExportError {}

fn malformed(e: &serde_json::Error) -> ExportError {
    ExportError::Malformed {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// Read a document. The format tag is checked before the shape, so a later version is
/// reported as such rather than as a missing field.
pub fn from_json(text: &str) -> Result<Export, ExportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| malformed(&e))?;
    match value.get("format") {
        None => return Err(ExportError::MissingFormat),
        Some(Value::String(f)) if f == FORMAT => {}
        Some(Value::String(f)) => return Err(ExportError::UnsupportedFormat { found: f.clone() }),
        Some(other) => {
            return Err(ExportError::UnsupportedFormat {
                found: other.to_string(),
            })
        }
    }
    // Parse the text again (not the value) so shape errors keep their line and column.
    serde_json::from_str(text).map_err(|e| malformed(&e))
}

/// One check of the verification.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Stable machine name (`electorate_digest`, `chain`, …).
    pub name: &'static str,
    /// What is checked, in both languages.
    pub label: Text,
    pub ok: bool,
    /// What was found; on failure, where.
    pub detail: Text,
    /// The ballot (position in `ballots`, from 0) where the first failure lies, if any.
    pub at: Option<usize>,
}

/// The outcome of `verify`: every check, in a fixed order.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
    /// The first failed check.
    pub first_failure: Option<Check>,
}

impl Report {
    /// Text lines for a terminal, one per check, then a summary line.
    pub fn render(&self, lang: Lang) -> Vec<String> {
        let mut lines: Vec<String> = self
            .checks
            .iter()
            .map(|c| {
                let mark = if c.ok { "[ OK ]" } else { "[FAIL]" };
                let sep = lang.pick("：", ": ");
                format!("{mark} {}{sep}{}", c.label.get(lang), c.detail.get(lang))
            })
            .collect();
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        lines.push(if failed == 0 {
            lang.pick(
                "核验通过：全部检查项一致。",
                "Verified: every check passed.",
            )
            .to_owned()
        } else {
            match lang {
                Lang::Zh => format!("核验未通过：{failed} 项检查不一致。"),
                Lang::En => format!("NOT verified: {failed} check(s) failed."),
            }
        });
        lines
    }
}

fn check(name: &'static str, label: Text, result: Result<Text, (Text, Option<usize>)>) -> Check {
    match result {
        Ok(detail) => Check {
            name,
            label,
            ok: true,
            detail,
            at: None,
        },
        Err((detail, at)) => Check {
            name,
            label,
            ok: false,
            detail,
            at,
        },
    }
}

/// Re-check an export: its format, its electorate, the ballot chain and its head, that only
/// the electorate voted and each once, that paper and proxy ballots carry their checks, and
/// — through `recount`, which runs the real tally — that the result is the published one.
/// Every check runs, whatever failed before.
pub fn verify(export: &Export, recount: &dyn Fn(&Export) -> Result<Value, String>) -> Report {
    let header = export.header.chain_header();
    let checks = vec![
        check(
            "format",
            Text::new("格式版本", "format version"),
            check_format(export),
        ),
        check(
            "electorate_digest",
            Text::new("业主名册摘要", "electorate digest"),
            check_digest(export),
        ),
        check(
            "electorate_consistent",
            Text::new("业主名册自洽", "electorate consistency"),
            check_electorate(export),
        ),
        check(
            "chain",
            Text::new("选票哈希链", "ballot hash chain"),
            check_chain(&header, &export.ballots),
        ),
        check(
            "head_hash",
            Text::new("链尾哈希", "head hash"),
            check_head(&header, export),
        ),
        check(
            "voters_in_electorate",
            Text::new("投票人均在名册内", "voters are in the electorate"),
            check_voters_known(export),
        ),
        check(
            "one_ballot_per_voter",
            Text::new("每个投票单位至多一票", "at most one ballot per voter"),
            check_once(export),
        ),
        check(
            "ballot_channels",
            Text::new("纸质票复核与委托书", "paper checks and proxies"),
            check_channels(export),
        ),
        check(
            "result",
            Text::new("重新计票与公布结果", "recount against the published result"),
            check_result(export, recount),
        ),
    ];
    let first_failure = checks.iter().find(|c| !c.ok).cloned();
    Report {
        ok: first_failure.is_none(),
        checks,
        first_failure,
    }
}

type Outcome = Result<Text, (Text, Option<usize>)>;

fn fail(zh: String, en: String, at: Option<usize>) -> Outcome {
    Err((Text::owned(zh, en), at))
}

/// "第 3 张选票（序号 3）" / "ballot 3 (seq 3)".
fn ballot_at(index: usize, r: &BallotRecord) -> (String, String) {
    (
        format!("第 {} 张选票（序号 {}）", index + 1, r.seq),
        format!("ballot {} (seq {})", index + 1, r.seq),
    )
}

fn check_format(export: &Export) -> Outcome {
    if export.format == FORMAT {
        Ok(Text::owned(FORMAT.to_owned(), FORMAT.to_owned()))
    } else {
        fail(
            format!("格式为“{}”，应为 {FORMAT}", export.format),
            format!("format is \"{}\", expected {FORMAT}", export.format),
            None,
        )
    }
}

fn check_digest(export: &Export) -> Outcome {
    let computed = export.computed_electorate_digest();
    if computed == export.header.electorate_digest {
        Ok(Text::owned(
            format!("{} 个投票单位，摘要 {computed}", export.electorate.len()),
            format!("{} voter units, digest {computed}", export.electorate.len()),
        ))
    } else {
        fail(
            format!(
                "名册重算摘要为 {computed}，表头记载为 {}：名册已被改动",
                export.header.electorate_digest
            ),
            format!(
                "the electorate recomputes to {computed} but the header says {}: the electorate was changed",
                export.header.electorate_digest
            ),
            None,
        )
    }
}

fn check_electorate(export: &Export) -> Outcome {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut keys: HashSet<&str> = HashSet::new();
    let mut rooms: HashMap<i64, &str> = HashMap::new();
    for v in &export.electorate {
        if !keys.insert(&v.key) {
            problems.push((
                format!("投票单位 {} 重复列出", v.key),
                format!("voter unit {} is listed twice", v.key),
            ));
        }
        let sum = v
            .rooms
            .iter()
            .fold(0u128, |acc, r| acc + u128::from(r.area));
        if sum != u128::from(v.area) {
            problems.push((
                format!(
                    "投票单位 {} 的面积 {} 不等于其房屋面积之和 {sum}",
                    v.key, v.area
                ),
                format!(
                    "voter unit {} has area {} but its rooms sum to {sum}",
                    v.key, v.area
                ),
            ));
        }
        for r in &v.rooms {
            if let Some(first) = rooms.insert(r.room_id, &v.key) {
                problems.push((
                    format!("房屋 {} 同时列在 {first} 和 {} 名下", r.room_id, v.key),
                    format!(
                        "room {} is listed under both {first} and {}",
                        r.room_id, v.key
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        let area: u128 = export.electorate.iter().map(|v| u128::from(v.area)).sum();
        Ok(Text::owned(
            format!(
                "{} 个投票单位，{} 套房屋，专有面积合计 {area}（0.01 m²）",
                export.electorate.len(),
                rooms.len()
            ),
            format!(
                "{} voter units, {} rooms, exclusive area {area} (0.01 m²)",
                export.electorate.len(),
                rooms.len()
            ),
        ))
    } else {
        Err((join(&problems), None))
    }
}

/// The first problem, and how many more.
fn join(problems: &[(String, String)]) -> Text {
    let (zh, en) = &problems[0];
    let more = problems.len() - 1;
    if more == 0 {
        Text::owned(zh.clone(), en.clone())
    } else {
        Text::owned(
            format!("{zh}；另有 {more} 处问题"),
            format!("{en}; and {more} more"),
        )
    }
}

fn check_chain(header: &ChainHeader, ballots: &[BallotRecord]) -> Outcome {
    let breaks = chain::chain_breaks(header, ballots);
    match breaks.first() {
        None => Ok(Text::owned(
            format!("{} 张选票，链条完整", ballots.len()),
            format!("{} ballots, chain intact", ballots.len()),
        )),
        Some(b) => {
            let m = b.message();
            let more = breaks.len() - 1;
            let (zh, en) = if more == 0 {
                (m.zh.into_owned(), m.en.into_owned())
            } else {
                (
                    format!("{}；另有 {more} 处断裂", m.zh),
                    format!("{}; and {more} more breaks", m.en),
                )
            };
            fail(zh, en, Some(b.index))
        }
    }
}

fn check_head(header: &ChainHeader, export: &Export) -> Outcome {
    let head = chain::head(header, &export.ballots);
    if head == export.head_hash {
        Ok(Text::owned(head.clone(), head))
    } else {
        fail(
            format!(
                "最后一张选票的哈希为 {head}，文件记载的链尾为 {}：末尾的选票可能被删除或追加",
                export.head_hash
            ),
            format!(
                "the last ballot's hash is {head} but the export's head is {}: ballots may have been cut off or added at the end",
                export.head_hash
            ),
            export.ballots.len().checked_sub(1),
        )
    }
}

fn check_voters_known(export: &Export) -> Outcome {
    let keys: HashSet<&str> = export.electorate.iter().map(|v| v.key.as_str()).collect();
    let unknown: Vec<(String, String, usize)> = export
        .ballots
        .iter()
        .enumerate()
        .filter(|(_, r)| !keys.contains(r.voter_key.as_str()))
        .map(|(i, r)| {
            let (zh, en) = ballot_at(i, r);
            (
                format!("{zh}的投票单位 {} 不在名册内", r.voter_key),
                format!("{en}: voter unit {} is not in the electorate", r.voter_key),
                i,
            )
        })
        .collect();
    match unknown.first() {
        None => Ok(Text::new("是", "yes")),
        Some((_, _, at)) => {
            let p: Vec<(String, String)> = unknown
                .iter()
                .map(|(z, e, _)| (z.clone(), e.clone()))
                .collect();
            Err((join(&p), Some(*at)))
        }
    }
}

fn check_once(export: &Export) -> Outcome {
    let mut seen: HashMap<&str, u64> = HashMap::new();
    let mut problems = Vec::new();
    let mut first_at = None;
    for (i, r) in export.ballots.iter().enumerate() {
        if let Some(first) = seen.get(r.voter_key.as_str()) {
            let (zh, en) = ballot_at(i, r);
            problems.push((
                format!("{zh}：投票单位 {} 已于序号 {first} 投票", r.voter_key),
                format!(
                    "{en}: voter unit {} already voted in seq {first}",
                    r.voter_key
                ),
            ));
            first_at.get_or_insert(i);
        } else {
            seen.insert(&r.voter_key, r.seq);
        }
    }
    if problems.is_empty() {
        Ok(Text::owned(
            format!("{} 个投票单位参与投票", seen.len()),
            format!("{} voter units took part", seen.len()),
        ))
    } else {
        Err((join(&problems), first_at))
    }
}

fn check_channels(export: &Export) -> Outcome {
    let mut problems = Vec::new();
    let mut first_at = None;
    for (i, r) in export.ballots.iter().enumerate() {
        let (zh, en) = ballot_at(i, r);
        let problem = match r.channel {
            BallotChannel::Paper => match &r.confirmed_by {
                None => Some((
                    format!("{zh}为纸质票，但没有复核人"),
                    format!("{en} is a paper ballot with no second person checking it"),
                )),
                Some(c) if c.trim().is_empty() || *c == r.cast_by => Some((
                    format!("{zh}为纸质票，复核人须是录入人以外的另一人"),
                    format!("{en} is a paper ballot checked by the person who entered it"),
                )),
                Some(_) => None,
            },
            BallotChannel::Proxy => match &r.proxy_attachment_sha256 {
                Some(h) if chain::is_sha256_hex(h) => None,
                _ => Some((
                    format!("{zh}为委托投票，但没有有效的委托书摘要"),
                    format!("{en} is a proxy ballot without a valid proxy attachment digest"),
                )),
            },
            BallotChannel::Online => None,
        };
        if let Some(p) = problem {
            problems.push(p);
            first_at.get_or_insert(i);
        }
    }
    if problems.is_empty() {
        let n = |c| export.ballots.iter().filter(|r| r.channel == c).count();
        let (online, paper, proxy) = (
            n(BallotChannel::Online),
            n(BallotChannel::Paper),
            n(BallotChannel::Proxy),
        );
        Ok(Text::owned(
            format!("线上 {online} 张，纸质 {paper} 张（均经复核），委托 {proxy} 张（均附委托书）"),
            format!(
                "{online} online, {paper} paper (all checked), {proxy} proxy (all with a proxy attached)"
            ),
        ))
    } else {
        Err((join(&problems), first_at))
    }
}

fn check_result(export: &Export, recount: &dyn Fn(&Export) -> Result<Value, String>) -> Outcome {
    let published = &export.header.published_result;
    match recount(export) {
        Err(e) => fail(
            format!("无法重新计票：{e}"),
            format!("could not recount: {e}"),
            None,
        ),
        Ok(_) if published.is_null() => fail(
            "文件中没有公布的结果可供比对".to_owned(),
            "the export holds no published result to compare with".to_owned(),
            None,
        ),
        Ok(v) if &v == published => Ok(Text::new(
            "重新计票结果与公布结果一致",
            "the recount equals the published result",
        )),
        Ok(v) => {
            let (path, got, want) = first_difference(&v, published, String::new());
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            fail(
                format!("重新计票结果与公布结果不符：在 {path}，重算为 {got}，公布为 {want}"),
                format!(
                    "the recount differs from the published result at {path}: recomputed {got}, published {want}"
                ),
                None,
            )
        }
    }
}

/// The JSON pointer of the first place where `a` and `b` differ, and the two values there.
fn first_difference(a: &Value, b: &Value, path: String) -> (String, String, String) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) if u == v => {}
                    (Some(u), Some(v)) => return first_difference(u, v, p),
                    (u, v) => return (p, show(u), show(v)),
                }
            }
            (path, a.to_string(), b.to_string())
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let p = format!("{path}/{i}");
                match (x.get(i), y.get(i)) {
                    (Some(u), Some(v)) if u == v => {}
                    (Some(u), Some(v)) => return first_difference(u, v, p),
                    (u, v) => return (p, show(u), show(v)),
                }
            }
            (path, a.to_string(), b.to_string())
        }
        _ => (path, a.to_string(), b.to_string()),
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "∅".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::chain::{append_after, NewBallot};
    use crate::votes::model::Choice;
    use serde_json::json;

    /// A stand-in for the real tally: counts and areas per choice.
    fn toy_recount(e: &Export) -> Result<Value, String> {
        let area: HashMap<&str, u64> = e
            .electorate
            .iter()
            .map(|v| (v.key.as_str(), v.area))
            .collect();
        let (mut yes, mut no, mut other, mut yes_area) = (0u64, 0u64, 0u64, 0u64);
        for b in &e.ballots {
            match b.choice {
                Choice::Yes => {
                    yes += 1;
                    yes_area += area.get(b.voter_key.as_str()).copied().unwrap_or(0);
                }
                Choice::No => no += 1,
                _ => other += 1,
            }
        }
        Ok(json!({"yes": {"owners": yes, "area": yes_area}, "no": no, "other": other}))
    }

    fn sample(voters: u64, ballots: u64) -> Export {
        let electorate: Vec<Voter> = (0..voters)
            .map(|i| {
                let rooms: Vec<VoterRoom> = (0..(i % 3 + 1))
                    .map(|j| VoterRoom {
                        room_id: (i * 10 + j) as i64 + 1000,
                        area: 8000 + i * 7 + j,
                    })
                    .collect();
                Voter {
                    key: if i == 0 {
                        "developer".into()
                    } else {
                        format!("p:{i}")
                    },
                    area: rooms.iter().map(|r| r.area).sum(),
                    rooms,
                }
            })
            .collect();
        let mut e = Export {
            format: FORMAT.into(),
            header: ExportHeader {
                vote_id: 5,
                subdistrict_code: "xiayang".into(),
                title: "3 号楼加装电梯".into(),
                matter: Matter::Rebuild,
                form: json!({"kind": "yes_no", "question": "是否同意加装电梯？"}),
                thresholds: json!({"quorum": [2, 3], "approve": [3, 4]}),
                thresholds_canonical: "quorum>=2/3;approve>=3/4".into(),
                scope: json!({"building": 3}),
                record_date: "2026-11-01".into(),
                period_start_ms: 1_767_000_000_000,
                period_end_ms: 1_768_000_000_000,
                electorate_digest: String::new(),
                published_result: Value::Null,
            },
            electorate,
            ballots: Vec::new(),
            head_hash: String::new(),
        };
        e.header.electorate_digest = e.computed_electorate_digest();
        let h = e.header.chain_header();
        for i in 0..ballots {
            let key = e.electorate[i as usize].key.clone();
            let channel = match i % 4 {
                1 => BallotChannel::Paper,
                2 => BallotChannel::Proxy,
                _ => BallotChannel::Online,
            };
            let b = NewBallot {
                vote_id: 5,
                voter_key: key.clone(),
                choice: match i % 3 {
                    0 => Choice::Yes,
                    1 => Choice::No,
                    _ => Choice::Abstain,
                },
                channel,
                cast_by: if channel == BallotChannel::Paper {
                    "staff:3".into()
                } else {
                    key
                },
                confirmed_by: (channel == BallotChannel::Paper).then(|| "staff:4".into()),
                proxy_attachment_sha256: (channel == BallotChannel::Proxy)
                    .then(|| chain::sha256_hex(b"scan")),
                cast_at_ms: 1_767_000_100_000 + i as i64,
            };
            let r = append_after(&h, e.ballots.last(), b);
            e.ballots.push(r);
        }
        e.head_hash = chain::head(&h, &e.ballots);
        e.header.published_result = toy_recount(&e).unwrap_or_default();
        e
    }

    fn failed(r: &Report) -> Vec<&'static str> {
        r.checks.iter().filter(|c| !c.ok).map(|c| c.name).collect()
    }

    fn check_named<'a>(r: &'a Report, name: &str) -> &'a Check {
        r.checks
            .iter()
            .find(|c| c.name == name)
            .expect("check exists")
    }

    #[test]
    fn a_sound_export_verifies_and_lists_every_check() {
        let e = sample(30, 25);
        let r = verify(&e, &toy_recount);
        assert!(r.ok, "{:?}", r.render(Lang::En));
        assert_eq!(r.first_failure, None);
        assert_eq!(r.checks.len(), 9);
        let lines = r.render(Lang::Zh);
        assert_eq!(lines.len(), 10);
        assert!(lines.iter().take(9).all(|l| l.starts_with("[ OK ]")));
        assert!(lines[9].contains("核验通过"));
        assert!(r.render(Lang::En)[9].contains("Verified"));
    }

    #[test]
    fn an_empty_box_verifies_against_the_header_digest() {
        let e = sample(3, 0);
        assert_eq!(e.head_hash, e.header.chain_header().digest());
        assert!(verify(&e, &toy_recount).ok);
    }

    #[test]
    fn json_round_trips_and_is_stable() {
        let e = sample(12, 10);
        let text = to_json(&e);
        assert!(text.contains("\"format\": \"redbutler-vote-export/1\""));
        let back = from_json(&text).expect("reads back");
        assert_eq!(back, e);
        assert_eq!(to_json(&back), text);
        assert!(verify(&back, &toy_recount).ok);
    }

    #[test]
    fn malformed_json_says_line_and_column() {
        let err =
            from_json("{\n  \"format\": \"redbutler-vote-export/1\",\n  oops\n}").unwrap_err();
        match &err {
            ExportError::Malformed { line, column, .. } => assert_eq!((*line, *column), (3, 3)),
            other => panic!("{other:?}"),
        }
        assert!(err.message().zh.contains("第 3 行第 3 列"));
        assert!(err.to_string().contains("line 3, column 3"));
    }

    #[test]
    fn wrong_shape_says_line_and_column() {
        let e = sample(2, 1);
        let text = to_json(&e).replace("\"seq\": 1", "\"seq\": \"one\"");
        match from_json(&text).unwrap_err() {
            ExportError::Malformed { line, message, .. } => {
                assert!(line > 1);
                assert!(message.contains("invalid type"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_formats_are_refused_by_name() {
        assert_eq!(
            from_json("{\"format\": \"redbutler-vote-export/2\", \"x\": 1}").unwrap_err(),
            ExportError::UnsupportedFormat {
                found: "redbutler-vote-export/2".into()
            }
        );
        assert_eq!(from_json("{}").unwrap_err(), ExportError::MissingFormat);
        assert_eq!(from_json("[1]").unwrap_err(), ExportError::MissingFormat);
        let e = from_json("{\"format\": 2}").unwrap_err();
        assert!(e.message().en.contains("unsupported"));
    }

    #[test]
    fn a_changed_choice_in_the_file_fails_at_that_ballot() {
        let e = sample(20, 12);
        let mut text = to_json(&e);
        // Ballot 4 (index 3, seq 4) chose yes; make it say no.
        let at = text.find("\"seq\": 4,").expect("seq 4");
        let rel = text[at..].find("\"kind\": \"yes\"").expect("its choice");
        text.replace_range(at + rel..at + rel + 13, "\"kind\": \"no\"");
        let tampered = from_json(&text).expect("still well-formed");
        let r = verify(&tampered, &toy_recount);
        assert!(!r.ok);
        assert_eq!(failed(&r), ["chain", "result"]);
        let chain_check = check_named(&r, "chain");
        assert_eq!(chain_check.at, Some(3));
        assert!(chain_check.detail.en.contains("Ballot 4 (seq 4)"));
        assert!(chain_check.detail.en.contains("altered"));
        assert_eq!(r.first_failure.as_ref().map(|c| c.name), Some("chain"));
        let lines = r.render(Lang::En);
        assert!(lines
            .iter()
            .any(|l| l.starts_with("[FAIL] ballot hash chain")));
        assert!(lines[9].contains("2 check(s) failed"));
        let result = check_named(&r, "result");
        assert!(result.detail.en.contains("/no"), "{}", result.detail.en);
    }

    #[test]
    fn a_deleted_ballot_is_reported_at_its_position() {
        let mut e = sample(20, 12);
        e.ballots.remove(6);
        let r = verify(&e, &toy_recount);
        let c = check_named(&r, "chain");
        assert!(!c.ok);
        assert_eq!(c.at, Some(6));
        assert!(
            c.detail.zh.contains("第 7 张选票（序号 8）"),
            "{}",
            c.detail.zh
        );
        assert!(c.detail.zh.contains("另有 1 处断裂"));
        assert!(check_named(&r, "head_hash").ok);
    }

    #[test]
    fn a_cut_off_last_ballot_fails_the_head_hash() {
        let mut e = sample(20, 12);
        e.ballots.pop();
        e.header.published_result = toy_recount(&e).unwrap_or_default();
        let r = verify(&e, &toy_recount);
        assert_eq!(failed(&r), ["head_hash"]);
        assert_eq!(check_named(&r, "head_hash").at, Some(10));
    }

    #[test]
    fn reordered_ballots_fail() {
        let mut e = sample(20, 12);
        e.ballots.swap(2, 9);
        let r = verify(&e, &toy_recount);
        assert_eq!(failed(&r), ["chain"]);
        assert_eq!(check_named(&r, "chain").at, Some(2));
        // Moving the last ballot changes the head as well.
        let mut e = sample(20, 12);
        e.ballots.swap(0, 11);
        let r = verify(&e, &toy_recount);
        assert_eq!(failed(&r), ["chain", "head_hash"]);
        assert_eq!(check_named(&r, "chain").at, Some(0));
    }

    #[test]
    fn a_changed_area_fails_the_electorate_digest() {
        // The voter's area and its room's, changed together so the electorate stays
        // self-consistent: only the digest catches it.
        let mut e = sample(10, 5);
        e.electorate[4].area += 1;
        e.electorate[4].rooms[0].area += 1;
        let r = verify(&e, &toy_recount);
        assert_eq!(failed(&r), ["electorate_digest"]);
        assert!(check_named(&r, "electorate_digest")
            .detail
            .en
            .contains("changed"));

        // The voter's area alone: the digest and the sum of rooms both catch it.
        let mut e = sample(10, 5);
        e.electorate[2].area -= 1;
        let r = verify(&e, &toy_recount);
        assert_eq!(failed(&r), ["electorate_digest", "electorate_consistent"]);

        // A room moved to another voter.
        let mut e = sample(10, 5);
        let room = e.electorate[5].rooms[0].clone();
        e.electorate[5].rooms.push(room);
        e.electorate[5].area = e.electorate[5].rooms.iter().map(|r| r.area).sum();
        let r = verify(&e, &toy_recount);
        assert!(failed(&r).contains(&"electorate_consistent"));
        assert!(check_named(&r, "electorate_consistent")
            .detail
            .en
            .contains("listed under both"));
    }

    #[test]
    fn a_fixed_up_digest_still_breaks_the_chain() {
        // Someone edits an area and recomputes the digest: the genesis hash changes.
        let mut e = sample(10, 5);
        e.electorate[1].area += 100;
        e.electorate[1].rooms[0].area += 100;
        e.header.electorate_digest = e.computed_electorate_digest();
        let r = verify(&e, &toy_recount);
        assert!(check_named(&r, "electorate_digest").ok);
        let c = check_named(&r, "chain");
        assert_eq!(c.at, Some(0));
        assert!(c.detail.en.contains("previous hash"));
    }

    #[test]
    fn a_ballot_from_outside_the_electorate_or_twice_is_found() {
        let mut e = sample(10, 3);
        let h = e.header.chain_header();
        for key in ["p:99", "p:1"] {
            let b = NewBallot {
                vote_id: 5,
                voter_key: key.into(),
                choice: Choice::Abstain,
                channel: BallotChannel::Online,
                cast_by: key.into(),
                confirmed_by: None,
                proxy_attachment_sha256: None,
                cast_at_ms: 1_767_000_200_000,
            };
            let r = append_after(&h, e.ballots.last(), b);
            e.ballots.push(r);
        }
        e.head_hash = chain::head(&h, &e.ballots);
        e.header.published_result = toy_recount(&e).unwrap_or_default();
        let r = verify(&e, &toy_recount);
        assert_eq!(
            failed(&r),
            ["chain", "voters_in_electorate", "one_ballot_per_voter"]
        );
        assert_eq!(check_named(&r, "voters_in_electorate").at, Some(3));
        assert!(check_named(&r, "voters_in_electorate")
            .detail
            .en
            .contains("p:99"));
        assert_eq!(check_named(&r, "one_ballot_per_voter").at, Some(4));
        assert_eq!(check_named(&r, "chain").at, Some(4));
    }

    #[test]
    fn paper_ballots_need_a_second_person_and_proxies_an_attachment() {
        let mut e = sample(10, 0);
        let h = e.header.chain_header();
        let mk = |key: &str, channel, cast_by: &str, confirmed: Option<&str>, att: Option<&str>| {
            NewBallot {
                vote_id: 5,
                voter_key: key.into(),
                choice: Choice::Yes,
                channel,
                cast_by: cast_by.into(),
                confirmed_by: confirmed.map(str::to_owned),
                proxy_attachment_sha256: att.map(str::to_owned),
                cast_at_ms: 1_767_000_200_000,
            }
        };
        for b in [
            mk("p:1", BallotChannel::Online, "p:1", None, None),
            mk("p:2", BallotChannel::Paper, "staff:1", None, None),
            mk(
                "p:3",
                BallotChannel::Paper,
                "staff:1",
                Some("staff:1"),
                None,
            ),
            mk(
                "p:4",
                BallotChannel::Proxy,
                "p:40",
                None,
                Some("not-a-digest"),
            ),
        ] {
            let r = append_after(&h, e.ballots.last(), b);
            e.ballots.push(r);
        }
        e.head_hash = chain::head(&h, &e.ballots);
        e.header.published_result = toy_recount(&e).unwrap_or_default();
        let r = verify(&e, &toy_recount);
        assert_eq!(failed(&r), ["ballot_channels"]);
        let c = check_named(&r, "ballot_channels");
        assert_eq!(c.at, Some(1));
        assert!(c.detail.zh.contains("另有 2 处问题"), "{}", c.detail.zh);
    }

    #[test]
    fn the_recount_is_compared_with_the_published_result() {
        let mut e = sample(10, 6);
        e.header.published_result["yes"]["area"] = json!(1);
        let r = verify(&e, &toy_recount);
        assert_eq!(failed(&r), ["result"]);
        let d = &check_named(&r, "result").detail;
        assert!(d.en.contains("/yes/area"), "{}", d.en);

        let e = sample(10, 6);
        let r = verify(&e, &|_| Err("thresholds unreadable".into()));
        assert_eq!(failed(&r), ["result"]);
        assert!(check_named(&r, "result")
            .detail
            .zh
            .contains("thresholds unreadable"));

        let mut e = sample(10, 6);
        e.header.published_result = Value::Null;
        assert_eq!(failed(&verify(&e, &toy_recount)), ["result"]);
    }

    #[test]
    fn first_difference_names_the_json_pointer() {
        let a = json!({"a": [1, {"b/c": 2}], "z": 0});
        let b = json!({"a": [1, {"b/c": 3}], "z": 0});
        assert_eq!(
            first_difference(&a, &b, String::new()),
            ("/a/1/b~1c".to_owned(), "2".to_owned(), "3".to_owned())
        );
        let c = json!({"a": [1]});
        assert_eq!(first_difference(&c, &a, String::new()).0, "/a/1");
    }
}
