//! Storage of subdistricts, nodes, rooms, organisations and venues.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::model::{self, NodeKind, Track};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub kind: NodeKind,
    pub track: Option<Track>,
    pub name: String,
    pub code: Option<String>,
    pub path: String,
    pub depth: i64,
}

const NODE_COLS: &str = "id, parent_id, kind, track, name, code, path, depth";

fn node_from(row: &AnyRow) -> Node {
    Node {
        id: row.get("id"),
        parent_id: opt_i64(row, "parent_id"),
        kind: NodeKind::parse(row.get::<String, _>("kind").as_str()).unwrap_or(NodeKind::Grid),
        track: row
            .try_get::<Option<String>, _>("track")
            .ok()
            .flatten()
            .and_then(|t| Track::parse(&t)),
        name: row.get("name"),
        code: row.try_get::<Option<String>, _>("code").ok().flatten(),
        path: row.get("path"),
        depth: row.get("depth"),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Subdistrict {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// Creates a tenant and its root node (whose id is the subdistrict's id).
pub async fn create_subdistrict(tx: &mut Tx, code: &str, name: &str) -> Result<Subdistrict> {
    let code = code.trim();
    let name = name.trim();
    if code.is_empty() || code.len() > 32 {
        return Err(Error::field(
            "code",
            Text::new("请填写1到32位代码", "give a code of 1 to 32 characters"),
        ));
    }
    if name.is_empty() {
        return Err(Error::field(
            "name",
            Text::new("请填写名称", "a name is required"),
        ));
    }
    let id = next_id();
    let now = crate::clock::now_ms();
    let r = sqlx::query(
        "INSERT INTO subdistricts (subdistrict_id, code, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(code)
    .bind(name)
    .bind(now)
    .execute(&mut **tx)
    .await;
    if let Err(e) = &r {
        if crate::storage::is_unique_violation(e) {
            return Err(Error::field(
                "code",
                Text::new("该代码已被使用", "this code is taken"),
            ));
        }
    }
    r?;
    sqlx::query(
        "INSERT INTO nodes (subdistrict_id, id, parent_id, kind, track, name, code, path, depth, sort_key, created_at) \
         VALUES ($1, $2, NULL, 'subdistrict', NULL, $3, $4, $5, 0, 0, $6)",
    )
    .bind(id)
    .bind(id)
    .bind(name)
    .bind(code)
    .bind(format!("/{id}/"))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Subdistrict {
        id,
        code: code.to_string(),
        name: name.to_string(),
    })
}

pub async fn subdistricts(db: &Db) -> Result<Vec<Subdistrict>> {
    let rows = sqlx::query("SELECT subdistrict_id, code, name FROM subdistricts ORDER BY code")
        .fetch_all(db.read())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Subdistrict {
            id: r.get(0),
            code: r.get(1),
            name: r.get(2),
        })
        .collect())
}

pub async fn subdistrict_by_code(db: &Db, code: &str) -> Result<Option<Subdistrict>> {
    let row = sqlx::query("SELECT subdistrict_id, code, name FROM subdistricts WHERE code = $1")
        .bind(code)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(|r| Subdistrict {
        id: r.get(0),
        code: r.get(1),
        name: r.get(2),
    }))
}

pub async fn subdistrict(db: &Db, id: i64) -> Result<Subdistrict> {
    let r = sqlx::query(
        "SELECT subdistrict_id, code, name FROM subdistricts WHERE subdistrict_id = $1",
    )
    .bind(id)
    .fetch_one(db.read())
    .await?;
    Ok(Subdistrict {
        id: r.get(0),
        code: r.get(1),
        name: r.get(2),
    })
}

pub async fn node(db: &Db, sid: i64, id: i64) -> Result<Node> {
    node_with(db.read(), sid, id).await
}

/// [`node`], cached (see `storage::memo`; renaming a node calls `memo::changed`). For the
/// hot paths that only need a place's kind and path, which never change.
pub async fn node_shared(db: &Db, sid: i64, id: i64) -> Result<Node> {
    let memo = db.memo::<Nodes>();
    if let Some(n) = memo.0.get(&(sid, id)) {
        return Ok(n);
    }
    let began = crate::storage::memo::Generation::now();
    let n = node(db, sid, id).await?;
    memo.0.put(began, (sid, id), n.clone());
    Ok(n)
}

struct Nodes(crate::storage::memo::Cache<(i64, i64), Node>);

impl Default for Nodes {
    fn default() -> Self {
        Nodes(crate::storage::memo::Cache::new(100_000))
    }
}

pub async fn node_in_tx(tx: &mut Tx, sid: i64, id: i64) -> Result<Node> {
    node_with(&mut **tx, sid, id).await
}

async fn node_with<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    sid: i64,
    id: i64,
) -> Result<Node> {
    let row = sqlx::query(&format!(
        "SELECT {NODE_COLS} FROM nodes WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(ex)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(node_from(&row))
}

/// The nodes on a path, root first (for breadcrumbs).
pub async fn ancestors(db: &Db, sid: i64, path: &str) -> Result<Vec<Node>> {
    let ids = model::path_ids(path);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(&format!(
        "SELECT {NODE_COLS} FROM nodes WHERE subdistrict_id = $1 AND id IN ({list}) ORDER BY depth"
    ))
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(node_from).collect())
}

/// A child node with the counts shown in the tree browser.
#[derive(Debug, Clone, Serialize)]
pub struct ChildSummary {
    #[serde(flatten)]
    pub node: Node,
    pub children: i64,
}

pub async fn children(db: &Db, sid: i64, parent_id: i64) -> Result<Vec<ChildSummary>> {
    let rows = sqlx::query(&format!(
        "SELECT {NODE_COLS}, (SELECT COUNT(*) FROM nodes c WHERE c.subdistrict_id = n.subdistrict_id AND c.parent_id = n.id) AS n_children \
         FROM nodes n WHERE subdistrict_id = $1 AND parent_id = $2 ORDER BY sort_key, name"
    ))
    .bind(sid)
    .bind(parent_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| ChildSummary {
            node: node_from(r),
            children: r.get("n_children"),
        })
        .collect())
}

/// Counts in a subtree, for dashboards and node pages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SubtreeCounts {
    pub communities: i64,
    pub villages: i64,
    pub grids: i64,
    pub buildings: i64,
    pub village_groups: i64,
    pub rooms: i64,
    pub households: i64,
    pub residents: i64,
}

pub async fn subtree_counts(db: &Db, sid: i64, path: &str) -> Result<SubtreeCounts> {
    let like = format!("{path}%");
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) FROM nodes WHERE subdistrict_id = $1 AND path LIKE $2 AND path <> $3 GROUP BY kind",
    )
    .bind(sid)
    .bind(&like)
    .bind(path)
    .fetch_all(db.read())
    .await?;
    let mut c = SubtreeCounts::default();
    for r in rows {
        let n: i64 = r.get(1);
        match r.get::<String, _>(0).as_str() {
            "community" => c.communities = n,
            "village" => c.villages = n,
            "grid" => c.grids = n,
            "building" => c.buildings = n,
            "village_group" => c.village_groups = n,
            _ => {}
        }
    }
    c.rooms = sqlx::query(
        "SELECT COUNT(*) FROM rooms r JOIN nodes n ON n.subdistrict_id = r.subdistrict_id AND n.id = r.node_id \
         WHERE r.subdistrict_id = $1 AND n.path LIKE $2",
    )
    .bind(sid)
    .bind(&like)
    .fetch_one(db.read())
    .await?
    .get(0);
    let hh = sqlx::query(
        "SELECT COUNT(DISTINCT h.id), COUNT(m.person_id) FROM households h \
         JOIN nodes n ON n.subdistrict_id = h.subdistrict_id AND n.id = h.node_id \
         LEFT JOIN household_members m ON m.subdistrict_id = h.subdistrict_id AND m.household_id = h.id \
         WHERE h.subdistrict_id = $1 AND n.path LIKE $2",
    )
    .bind(sid)
    .bind(&like)
    .fetch_one(db.read())
    .await?;
    c.households = hh.get(0);
    c.residents = hh.get(1);
    Ok(c)
}

/// Creates a node under `parent_id`, checking the tree's shape.
pub async fn create_node(
    tx: &mut Tx,
    sid: i64,
    parent_id: i64,
    kind: NodeKind,
    name: &str,
    code: Option<&str>,
) -> Result<Node> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::field(
            "name",
            Text::new(
                "请填写名称(不超过100字)",
                "give a name of at most 100 characters",
            ),
        ));
    }
    let parent = node_in_tx(tx, sid, parent_id).await.map_err(|e| match e {
        Error::NotFound => Error::field(
            "parent_id",
            Text::new("上级节点不存在", "the parent node does not exist"),
        ),
        e => e,
    })?;
    let track =
        model::check_child(parent.kind, parent.track, kind).map_err(|t| Error::field("kind", t))?;
    let id = next_id();
    let path = model::child_path(&parent.path, id);
    let r = sqlx::query(
        "INSERT INTO nodes (subdistrict_id, id, parent_id, kind, track, name, code, path, depth, sort_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(sid)
    .bind(id)
    .bind(parent.id)
    .bind(kind.as_str())
    .bind(track.map(Track::as_str))
    .bind(name)
    .bind(code)
    .bind(&path)
    .bind(parent.depth + 1)
    .bind(0_i64)
    .bind(crate::clock::now_ms())
    .execute(&mut **tx)
    .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => Err(Error::field(
            "name",
            Text::new(
                "同一上级下已有同名节点",
                "a sibling with this name exists already",
            ),
        )),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(Node {
            id,
            parent_id: Some(parent.id),
            kind,
            track,
            name: name.to_string(),
            code: code.map(str::to_string),
            path,
            depth: parent.depth + 1,
        }),
    }
}

/// The columns of `nodes`, in the order bulk loads fill them.
pub const NODE_COLUMNS: [&str; 11] = [
    "subdistrict_id",
    "id",
    "parent_id",
    "kind",
    "track",
    "name",
    "code",
    "path",
    "depth",
    "sort_key",
    "created_at",
];

/// The columns of `rooms`, in the order bulk loads fill them.
pub const ROOM_COLUMNS: [&str; 10] = [
    "subdistrict_id",
    "id",
    "node_id",
    "number",
    "floor",
    "registered_area",
    "surveyed_area",
    "contract_area",
    "developer_unsold",
    "created_at",
];

#[derive(Debug, Clone, Serialize)]
pub struct Room {
    pub id: i64,
    pub node_id: i64,
    pub number: String,
    pub floor: Option<i64>,
    pub registered_area: Option<i64>,
    pub surveyed_area: Option<i64>,
    pub contract_area: Option<i64>,
    pub developer_unsold: bool,
}

impl Room {
    pub fn effective_area(&self) -> Option<i64> {
        super::area::effective(self.registered_area, self.surveyed_area, self.contract_area)
    }
}

const ROOM_COLS: &str =
    "id, node_id, number, floor, registered_area, surveyed_area, contract_area, developer_unsold";

fn room_from(r: &AnyRow) -> Room {
    Room {
        id: r.get("id"),
        node_id: r.get("node_id"),
        number: r.get("number"),
        floor: opt_i64(r, "floor"),
        registered_area: opt_i64(r, "registered_area"),
        surveyed_area: opt_i64(r, "surveyed_area"),
        contract_area: opt_i64(r, "contract_area"),
        developer_unsold: r.get::<i64, _>("developer_unsold") != 0,
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewRoom {
    pub number: String,
    pub floor: Option<i64>,
    pub registered_area: Option<i64>,
    pub surveyed_area: Option<i64>,
    pub contract_area: Option<i64>,
    #[serde(default)]
    pub developer_unsold: bool,
}

/// A new or corrected room's fields, checked all at once.
fn check_room(new: &NewRoom) -> Result<()> {
    let number = new.number.trim();
    let mut errors = Vec::new();
    if number.is_empty() || number.chars().count() > 32 {
        errors.push(crate::error::FieldError::new(
            "number",
            Text::new(
                "请填写室号(不超过32字)",
                "give a room number of at most 32 characters",
            ),
        ));
    }
    for (f, v) in [
        ("registered_area", new.registered_area),
        ("surveyed_area", new.surveyed_area),
        ("contract_area", new.contract_area),
    ] {
        if v.is_some_and(|v| !(0..=super::area::MAX).contains(&v)) {
            errors.push(crate::error::FieldError::new(
                f,
                Text::new("面积超出范围", "the area is out of range"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

pub async fn create_room(tx: &mut Tx, sid: i64, node_id: i64, new: &NewRoom) -> Result<Room> {
    check_room(new)?;
    let number = new.number.trim();
    let node = node_in_tx(tx, sid, node_id).await.map_err(|e| match e {
        Error::NotFound => Error::field(
            "node_id",
            Text::new("楼栋或小组不存在", "the building or group does not exist"),
        ),
        e => e,
    })?;
    if !node.kind.holds_rooms() {
        return Err(Error::field(
            "node_id",
            Text::new(
                "房屋只能建在楼栋、单元或村民小组下",
                "rooms belong to a building, unit or village group",
            ),
        ));
    }
    let id = next_id();
    let r = sqlx::query(
        "INSERT INTO rooms (subdistrict_id, id, node_id, number, floor, registered_area, surveyed_area, contract_area, developer_unsold, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(sid)
    .bind(id)
    .bind(node_id)
    .bind(number)
    .bind(new.floor)
    .bind(new.registered_area)
    .bind(new.surveyed_area)
    .bind(new.contract_area)
    .bind(i64::from(new.developer_unsold))
    .bind(crate::clock::now_ms())
    .execute(&mut **tx)
    .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => Err(Error::field(
            "number",
            Text::new("该室号已存在", "this room number exists already"),
        )),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(Room {
            id,
            node_id,
            number: number.to_string(),
            floor: new.floor,
            registered_area: new.registered_area,
            surveyed_area: new.surveyed_area,
            contract_area: new.contract_area,
            developer_unsold: new.developer_unsold,
        }),
    }
}

pub async fn room(db: &Db, sid: i64, id: i64) -> Result<Room> {
    let r = sqlx::query(&format!(
        "SELECT {ROOM_COLS} FROM rooms WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok(room_from(&r))
}

/// Rooms directly on a node (a building, unit or village group), in number order.
pub async fn rooms_on(db: &Db, sid: i64, node_id: i64) -> Result<Vec<Room>> {
    let rows = sqlx::query(&format!(
        "SELECT {ROOM_COLS} FROM rooms WHERE subdistrict_id = $1 AND node_id = $2 ORDER BY floor, number"
    ))
    .bind(sid)
    .bind(node_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(room_from).collect())
}

/// An organisation on the tree.
#[derive(Debug, Clone, Serialize)]
pub struct Org {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub node_id: Option<i64>,
}

pub async fn create_org(
    tx: &mut Tx,
    sid: i64,
    kind: &str,
    name: &str,
    node_id: Option<i64>,
) -> Result<Org> {
    let id = next_id();
    sqlx::query("INSERT INTO orgs (subdistrict_id, id, kind, name, node_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(sid)
        .bind(id)
        .bind(kind)
        .bind(name)
        .bind(node_id)
        .bind(crate::clock::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(Org {
        id,
        kind: kind.to_string(),
        name: name.to_string(),
        node_id,
    })
}

/// Finds an organisation by kind and name, creating it when missing.
pub async fn org_by_name(tx: &mut Tx, sid: i64, kind: &str, name: &str) -> Result<Org> {
    let row = sqlx::query(
        "SELECT id, node_id FROM orgs WHERE subdistrict_id = $1 AND kind = $2 AND name = $3",
    )
    .bind(sid)
    .bind(kind)
    .bind(name)
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some(r) => Ok(Org {
            id: r.get(0),
            kind: kind.into(),
            name: name.into(),
            node_id: opt_i64(&r, "node_id"),
        }),
        None => create_org(tx, sid, kind, name, None).await,
    }
}

/// Organisations hanging on the nodes of a path (a node and its ancestors).
pub async fn orgs_on(db: &Db, sid: i64, node_ids: &[i64]) -> Result<Vec<Org>> {
    if node_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = node_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows = sqlx::query(&format!(
        "SELECT id, kind, name, node_id FROM orgs WHERE subdistrict_id = $1 AND node_id IN ({list}) ORDER BY kind, name"
    ))
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Org {
            id: r.get(0),
            kind: r.get(1),
            name: r.get(2),
            node_id: opt_i64(r, "node_id"),
        })
        .collect())
}

/// A service venue.
#[derive(Debug, Clone, Serialize)]
pub struct Venue {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub node_id: i64,
    pub address: String,
    pub hours: String,
}

pub async fn venues_under(db: &Db, sid: i64, path: &str) -> Result<Vec<Venue>> {
    let rows = sqlx::query(
        "SELECT v.id, v.kind, v.name, v.node_id, v.address, v.hours FROM venues v \
         JOIN nodes n ON n.subdistrict_id = v.subdistrict_id AND n.id = v.node_id \
         WHERE v.subdistrict_id = $1 AND n.path LIKE $2 ORDER BY v.kind, v.name",
    )
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Venue {
            id: r.get(0),
            kind: r.get(1),
            name: r.get(2),
            node_id: r.get(3),
            address: r.get(4),
            hours: r.get(5),
        })
        .collect())
}

/// Renames a node (and sets its code). Returns the node before and after.
pub async fn rename_node(
    tx: &mut Tx,
    sid: i64,
    id: i64,
    name: &str,
    code: Option<&str>,
) -> Result<(Node, Node)> {
    crate::storage::memo::changed();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::field(
            "name",
            Text::new(
                "请填写名称(不超过100字)",
                "give a name of at most 100 characters",
            ),
        ));
    }
    let before = node_in_tx(tx, sid, id).await?;
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    let r =
        sqlx::query("UPDATE nodes SET name = $1, code = $2 WHERE subdistrict_id = $3 AND id = $4")
            .bind(name)
            .bind(code)
            .bind(sid)
            .bind(id)
            .execute(&mut **tx)
            .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => Err(Error::field(
            "name",
            Text::new(
                "同一上级下已有同名节点",
                "a sibling with this name exists already",
            ),
        )),
        Err(e) => Err(e.into()),
        Ok(_) => {
            if before.kind == NodeKind::Subdistrict {
                sqlx::query("UPDATE subdistricts SET name = $1 WHERE subdistrict_id = $2")
                    .bind(name)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            let after = Node {
                name: name.to_string(),
                code: code.map(str::to_string),
                ..before.clone()
            };
            Ok((before, after))
        }
    }
}

/// Corrects a room's number, floor, areas and sale state. Returns it before and after.
pub async fn update_room(tx: &mut Tx, sid: i64, id: i64, new: &NewRoom) -> Result<(Room, Room)> {
    let row = sqlx::query(&format!(
        "SELECT {ROOM_COLS} FROM rooms WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(Error::NotFound)?;
    let before = room_from(&row);
    check_room(new)?;
    let number = new.number.trim();
    let r = sqlx::query(
        "UPDATE rooms SET number = $1, floor = $2, registered_area = $3, surveyed_area = $4, contract_area = $5, developer_unsold = $6 \
         WHERE subdistrict_id = $7 AND id = $8",
    )
    .bind(number)
    .bind(new.floor)
    .bind(new.registered_area)
    .bind(new.surveyed_area)
    .bind(new.contract_area)
    .bind(i64::from(new.developer_unsold))
    .bind(sid)
    .bind(id)
    .execute(&mut **tx)
    .await;
    match r {
        Err(e) if crate::storage::is_unique_violation(&e) => Err(Error::field(
            "number",
            Text::new("该室号已存在", "this room number exists already"),
        )),
        Err(e) => Err(e.into()),
        Ok(_) => {
            let after = Room {
                number: number.to_string(),
                floor: new.floor,
                registered_area: new.registered_area,
                surveyed_area: new.surveyed_area,
                contract_area: new.contract_area,
                developer_unsold: new.developer_unsold,
                ..before.clone()
            };
            Ok((before, after))
        }
    }
}
