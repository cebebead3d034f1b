//! Export of a subtree in exactly the import format (CSV with BOM, or XLSX), with the
//! personal data opened in full; and the template (header plus one example row).

use std::collections::HashMap;

use serde_json::json;
use sqlx::Row as _;

use super::format::{self, OutRow, Relation};
use super::import::FileFormat;
use crate::access::{self, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::pii::Seal;
use crate::storage::{opt_i64, Db};
use crate::tree::model::{NodeKind, Track};
use crate::tree::store::Node;

/// A CSV file: UTF-8 with a BOM (so Excel reads it as UTF-8), CRLF line ends.
pub fn to_csv(rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(format::header_row())
            .map_err(|e| Error::Internal(e.into()))?;
        for r in rows {
            w.write_record(r).map_err(|e| Error::Internal(e.into()))?;
        }
        w.flush().map_err(|e| Error::Internal(e.into()))?;
    }
    Ok(out)
}

/// An XLSX workbook with one sheet; every cell is text (ID and phone numbers stay exact).
pub fn to_xlsx(rows: &[Vec<String>]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| Error::Internal(anyhow::anyhow!("writing XLSX: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("台账").map_err(x)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in format::header_row().iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(x)?;
        let width = match format::COLUMNS[c] {
            format::Column::IdNumber => 21.0,
            format::Column::Address | format::Column::Community | format::Column::Building => 18.0,
            format::Column::Phone | format::Column::Developer => 14.0,
            _ => 10.0,
        };
        ws.set_column_width(c as u16, width).map_err(x)?;
        ws.set_column_format(c as u16, &text).map_err(x)?;
    }
    ws.set_freeze_panes(1, 0).map_err(x)?;
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string((i + 1) as u32, c as u16, v).map_err(x)?;
            }
        }
    }
    wb.save_to_buffer().map_err(x)
}

pub fn encode(format: FileFormat, rows: &[Vec<String>]) -> Result<Vec<u8>> {
    match format {
        FileFormat::Csv => to_csv(rows),
        FileFormat::Xlsx => to_xlsx(rows),
    }
}

/// The template: the header row and one example row.
pub fn template(format: FileFormat) -> Result<Vec<u8>> {
    encode(format, &[format::example_row().cells()])
}

struct NodeInfo {
    parent_id: Option<i64>,
    kind: NodeKind,
    track: Option<Track>,
    name: String,
}

#[derive(Clone, Default)]
struct Opened {
    name: String,
    gender: String,
    id_number: String,
    phone: String,
    address: String,
}

fn open(seal: &Seal, v: Option<Vec<u8>>) -> Result<String> {
    match v {
        Some(b) => seal.open(&b).map_err(Error::Internal),
        None => Ok(String::new()),
    }
}

fn remember(people: &mut HashMap<i64, Opened>, seal: &Seal, r: &sqlx::any::AnyRow) -> Result<i64> {
    let pid: i64 = r.get("pid");
    if !people.contains_key(&pid) {
        people.insert(
            pid,
            Opened {
                name: r.get("pname"),
                gender: r.get("gender"),
                phone: open(seal, r.try_get("phone_sealed").ok().flatten())?,
                id_number: open(seal, r.try_get("id_sealed").ok().flatten())?,
                address: open(seal, r.try_get("address_sealed").ok().flatten())?,
            },
        );
    }
    Ok(pid)
}

/// The rows of a subtree, sorted by place and room; one row per resident, owners living
/// elsewhere as rows without relation, and a row without person for an empty room.
pub async fn rows(db: &Db, seal: &Seal, sid: i64, node: &Node) -> Result<Vec<OutRow>> {
    let like = format!("{}%", node.path);
    let mut nodes: HashMap<i64, NodeInfo> = HashMap::new();
    for r in
        sqlx::query("SELECT id, parent_id, kind, track, name FROM nodes WHERE subdistrict_id = $1")
            .bind(sid)
            .fetch_all(db.read())
            .await?
    {
        nodes.insert(
            r.get("id"),
            NodeInfo {
                parent_id: opt_i64(&r, "parent_id"),
                kind: NodeKind::parse(&r.get::<String, _>("kind")).unwrap_or(NodeKind::Grid),
                track: r
                    .try_get::<Option<String>, _>("track")
                    .ok()
                    .flatten()
                    .and_then(|t| Track::parse(&t)),
                name: r.get("name"),
            },
        );
    }
    let person_cols =
        "p.id AS pid, p.name AS pname, p.gender, p.phone_sealed, p.id_sealed, p.address_sealed";
    let mut people: HashMap<i64, Opened> = HashMap::new();
    // Members by room, then households.
    let mut members: HashMap<i64, Vec<(String, Relation, i64)>> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT h.room_id, h.label, m.relation, {person_cols} FROM household_members m \
         JOIN households h ON h.subdistrict_id = m.subdistrict_id AND h.id = m.household_id \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         JOIN persons p ON p.subdistrict_id = m.subdistrict_id AND p.id = m.person_id \
         WHERE m.subdistrict_id = $1 AND n.path LIKE $2 AND h.room_id IS NOT NULL"
    ))
    .bind(sid)
    .bind(&like)
    .fetch_all(db.read())
    .await?
    {
        let pid = remember(&mut people, seal, &r)?;
        let rel = Relation::parse(&r.get::<String, _>("relation")).unwrap_or(Relation::Other);
        members
            .entry(r.get("room_id"))
            .or_default()
            .push((r.get("label"), rel, pid));
    }
    let mut owners: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut developers: HashMap<i64, String> = HashMap::new();
    for r in sqlx::query(
        "SELECT o.room_id, o.person_id, o.org_id, g.name AS org_name FROM room_owners o \
         JOIN rooms r ON r.subdistrict_id = o.subdistrict_id AND r.id = o.room_id \
         JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         LEFT JOIN orgs g ON g.subdistrict_id = o.subdistrict_id AND g.id = o.org_id \
         WHERE o.subdistrict_id = $1 AND n.path LIKE $2",
    )
    .bind(sid)
    .bind(&like)
    .fetch_all(db.read())
    .await?
    {
        let room: i64 = r.get("room_id");
        let pid: i64 = r.get("person_id");
        if pid != 0 {
            owners.entry(room).or_default().push(pid);
        } else if let Some(name) = r.try_get::<Option<String>, _>("org_name").ok().flatten() {
            developers.entry(room).or_insert(name);
        }
    }
    // Owners who are not members of the room's households: their data too.
    let member_ids: std::collections::HashSet<i64> = people.keys().copied().collect();
    let missing: Vec<i64> = owners
        .values()
        .flatten()
        .copied()
        .filter(|p| !member_ids.contains(p))
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in missing.chunks(500) {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        for r in sqlx::query(&format!(
            "SELECT {person_cols} FROM persons p WHERE p.subdistrict_id = $1 AND p.id IN ({list})"
        ))
        .bind(sid)
        .fetch_all(db.read())
        .await?
        {
            remember(&mut people, seal, &r)?;
        }
    }
    let rooms = sqlx::query(
        "SELECT r.id, r.node_id, r.number, r.floor, r.registered_area, r.surveyed_area, r.contract_area, r.developer_unsold \
         FROM rooms r JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE r.subdistrict_id = $1 AND n.path LIKE $2",
    )
    .bind(sid)
    .bind(&like)
    .fetch_all(db.read())
    .await?;
    let mut out: Vec<(Vec<String>, i64, String, u8, OutRow)> = Vec::new();
    for r in rooms {
        let room_id: i64 = r.get("id");
        let node_id: i64 = r.get("node_id");
        // The chain of names from the community down.
        let mut chain: Vec<&NodeInfo> = Vec::new();
        let mut cur = nodes.get(&node_id);
        while let Some(n) = cur {
            if n.kind == NodeKind::Subdistrict {
                break;
            }
            chain.push(n);
            cur = n.parent_id.and_then(|p| nodes.get(&p));
        }
        chain.reverse();
        if !(3..=4).contains(&chain.len()) {
            continue;
        }
        let unsold = r.get::<i64, _>("developer_unsold") != 0;
        let base = OutRow {
            community: chain[0].name.clone(),
            track: chain[0].track.or(chain[0].kind.own_track()),
            grid: chain[1].name.clone(),
            building: chain[2].name.clone(),
            unit: chain.get(3).map(|n| n.name.clone()).unwrap_or_default(),
            room: r.get("number"),
            floor: opt_i64(&r, "floor"),
            registered_area: opt_i64(&r, "registered_area"),
            surveyed_area: opt_i64(&r, "surveyed_area"),
            contract_area: opt_i64(&r, "contract_area"),
            developer_unsold: unsold,
            developer: if unsold {
                developers.get(&room_id).cloned().unwrap_or_default()
            } else {
                String::new()
            },
            ..Default::default()
        };
        let names: Vec<String> = chain.iter().map(|n| n.name.clone()).collect();
        let room_owners = owners.get(&room_id).cloned().unwrap_or_default();
        let person_row = |pid: i64, household: String, relation: Option<Relation>| {
            let p = people.get(&pid).cloned().unwrap_or_default();
            OutRow {
                household,
                name: p.name,
                gender: p.gender,
                id_number: p.id_number,
                phone: p.phone,
                address: p.address,
                relation,
                owner: Some(room_owners.contains(&pid)),
                ..base.clone()
            }
        };
        let mut rows_here = Vec::new();
        let mut listed = std::collections::HashSet::new();
        if let Some(ms) = members.get(&room_id) {
            let mut ms = ms.clone();
            ms.sort_by_key(|(label, rel, pid)| {
                (label.clone(), *rel != Relation::Head, rel.as_str(), *pid)
            });
            for (label, rel, pid) in ms {
                listed.insert(pid);
                rows_here.push(person_row(pid, label, Some(rel)));
            }
        }
        for pid in &room_owners {
            if listed.insert(*pid) {
                rows_here.push(person_row(*pid, String::new(), None));
            }
        }
        if rows_here.is_empty() {
            rows_here.push(base.clone());
        }
        let floor_key = base.floor.unwrap_or(i64::MIN);
        for (i, row) in rows_here.into_iter().enumerate() {
            let mut key = names.clone();
            key.push(format!("{:>12}", floor_key + (1 << 40)));
            out.push((key, 0, base.room.clone(), i.min(255) as u8, row));
        }
    }
    out.sort_by(|a, b| {
        (&a.0, a.1, natural(&a.2), &a.2, a.3).cmp(&(&b.0, b.1, natural(&b.2), &b.2, b.3))
    });
    Ok(out.into_iter().map(|(.., r)| r).collect())
}

/// Sorts room numbers like people do: `2` before `10`.
fn natural(s: &str) -> (u64, usize) {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u64::MAX), s.len())
}

/// The export of a subtree: checks the right, opens the data, logs the export.
pub async fn export(
    db: &Db,
    seal: &Seal,
    actor: &Actor,
    node_id: i64,
    format: FileFormat,
) -> Result<(Vec<u8>, String)> {
    let sid = actor.subdistrict_id;
    let node = crate::tree::store::node(db, sid, node_id).await?;
    if !access::allows(
        actor,
        Action::ExportRegistry,
        Target::Node { path: &node.path },
    ) {
        return Err(Error::Forbidden);
    }
    let rows = rows(db, seal, sid, &node).await?;
    let cells: Vec<Vec<String>> = rows.iter().map(OutRow::cells).collect();
    let n = cells.len();
    let bytes = tokio::task::spawn_blocking(move || encode(format, &cells))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("encoding the export: {e}")))??;
    let mut tx = db.begin().await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("registry.export", "node", Some(node.id))
            .label(&node.name)
            .after(json!({ "format": format.ext(), "rows": n }))
            .reason("export"),
    )
    .await?;
    tx.commit().await?;
    let date = crate::clock::format_local(crate::clock::now_ms());
    let date = date.get(..10).unwrap_or("").replace('-', "");
    Ok((bytes, format!("台账-{}-{date}.{}", node.name, format.ext())))
}

/// A `Content-Disposition` value for a download with a (non-ASCII) file name.
pub fn disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The error for an unknown `format` value.
pub fn bad_format() -> Error {
    Error::field(
        "format",
        Text::new("格式应为 csv 或 xlsx", "format is csv or xlsx"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::format::{parse_row, Header};
    use crate::registry::import::read_table;

    #[test]
    fn both_templates_parse_back_to_the_example_row() {
        for f in [FileFormat::Csv, FileFormat::Xlsx] {
            let bytes = template(f).unwrap();
            let (got, table) = read_table(&bytes, Some(f)).unwrap();
            assert_eq!(got, f);
            assert_eq!(table.len(), 2, "{f:?}");
            let h = Header::parse(&table[0].1).unwrap();
            let row = parse_row(&h, &table[1].1).unwrap();
            assert_eq!(row.room, "601");
            assert_eq!(row.registered_area, Some(8550));
            assert_eq!(
                row.resident.unwrap().person.id_number,
                Some(format::example_row().id_number)
            );
        }
    }

    #[test]
    fn csv_starts_with_a_bom() {
        assert!(template(FileFormat::Csv)
            .unwrap()
            .starts_with(b"\xEF\xBB\xBF"));
    }

    #[test]
    fn download_names_survive_non_ascii() {
        let d = disposition("台账-A.csv");
        assert!(d.contains("filename=\"__-A.csv\""), "{d}");
        assert!(d.contains("UTF-8''%E5%8F%B0"), "{d}");
    }

    #[test]
    fn room_numbers_sort_naturally() {
        let mut v = vec!["10", "2", "1", "B1"];
        v.sort_by_key(|s| natural(s));
        assert_eq!(v, vec!["1", "2", "10", "B1"]);
    }
}
