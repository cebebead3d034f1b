//! Routing storage: the subdistrict's rules (added and removed with their audit entries), the
//! units a case can go to, and the suggestion for one case — the I/O around `rules`.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::rules::{self, Choice, OrgUnit, PlaceNode, Route, Rule, Unit, ORG_KINDS};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::cases::category::OwnerUnit;
use crate::cases::store::CaseRecord;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db};
use crate::tree::{store as tree, NodeKind};

/// The highest priority a rule may carry (and minus it the lowest).
pub const MAX_PRIORITY: i64 = 1000;

/// A unit by id: a node that can own cases, or an organisation of a kind that can.
pub async fn unit(db: &Db, sid: i64, id: i64) -> Result<Option<Unit>> {
    match tree::node(db, sid, id).await {
        Ok(n) if rules::node_is_unit(n.kind) => {
            return Ok(Some(Unit {
                id,
                kind: n.kind.as_str().to_string(),
                name: n.name,
            }))
        }
        Ok(_) => return Ok(None),
        Err(Error::NotFound) => {}
        Err(e) => return Err(e),
    }
    let row = sqlx::query("SELECT kind, name FROM orgs WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row
        .map(|r| Unit {
            id,
            kind: r.get(0),
            name: r.get(1),
        })
        .filter(|u| ORG_KINDS.contains(&u.kind.as_str())))
}

fn no_such_unit(field: &str) -> Error {
    Error::field(
        field,
        Text::new(
            "没有这个承办单位(须为本街道的网格、居委会/村委会、街道或单位组织)",
            "no such unit (a grid, committee, the subdistrict or an organisation of this subdistrict)",
        ),
    )
}

/// Checks that `id` names a unit of this subdistrict; else 422 naming `field`.
pub async fn check_unit(db: &Db, sid: i64, field: &'static str, id: i64) -> Result<i64> {
    match unit(db, sid, id).await? {
        Some(_) => Ok(id),
        None => Err(no_such_unit(field)),
    }
}

/// The nodes on a path, root first, as routing sees them.
pub async fn place(db: &Db, sid: i64, path: &str) -> Result<Vec<PlaceNode>> {
    Ok(tree::ancestors(db, sid, path)
        .await?
        .into_iter()
        .map(|n| PlaceNode {
            id: n.id,
            kind: n.kind,
            name: n.name,
            path: n.path,
        })
        .collect())
}

fn org_from(o: tree::Org) -> OrgUnit {
    OrgUnit {
        id: o.id,
        kind: o.kind,
        name: o.name,
        node_id: o.node_id,
    }
}

/// Organisations serving a node of the subtree at `path`.
async fn orgs_under(db: &Db, sid: i64, path: &str) -> Result<Vec<OrgUnit>> {
    let rows = sqlx::query(
        "SELECT o.id, o.kind, o.name, o.node_id FROM orgs o \
         JOIN nodes n ON n.subdistrict_id = o.subdistrict_id AND n.id = o.node_id \
         WHERE o.subdistrict_id = $1 AND n.path LIKE $2 ORDER BY o.kind, o.name",
    )
    .bind(sid)
    .bind(format!("{path}%"))
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| OrgUnit {
            id: r.get(0),
            kind: r.get(1),
            name: r.get(2),
            node_id: opt_i64(r, "node_id"),
        })
        .collect())
}

/// A stored rule as lists and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: i64,
    pub category_prefix: String,
    pub node_id: Option<i64>,
    pub node_name: Option<String>,
    pub unit_id: i64,
    pub unit_name: Option<String>,
    pub unit_kind: Option<String>,
    pub priority: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    #[serde(skip)]
    node_path: Option<String>,
}

/// The subdistrict's rules, most recent first.
pub async fn list(db: &Db, sid: i64) -> Result<Vec<RuleView>> {
    let rows = sqlx::query(
        "SELECT r.id, r.category_prefix, r.node_id, r.unit_id, r.priority, r.created_by, r.created_at, \
         rn.name AS node_name, rn.path AS node_path, \
         COALESCE(un.name, uo.name) AS unit_name, COALESCE(un.kind, uo.kind) AS unit_kind \
         FROM routing_rules r \
         LEFT JOIN nodes rn ON rn.subdistrict_id = r.subdistrict_id AND rn.id = r.node_id \
         LEFT JOIN nodes un ON un.subdistrict_id = r.subdistrict_id AND un.id = r.unit_id \
         LEFT JOIN orgs uo ON uo.subdistrict_id = r.subdistrict_id AND uo.id = r.unit_id \
         WHERE r.subdistrict_id = $1 ORDER BY r.created_at DESC, r.id DESC",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let text = |r: &sqlx::any::AnyRow, c: &str| r.try_get::<Option<String>, _>(c).ok().flatten();
    Ok(rows
        .iter()
        .map(|r| RuleView {
            id: r.get("id"),
            category_prefix: r.get("category_prefix"),
            node_id: opt_i64(r, "node_id"),
            node_name: text(r, "node_name"),
            unit_id: r.get("unit_id"),
            unit_name: text(r, "unit_name"),
            unit_kind: text(r, "unit_kind"),
            priority: r.get("priority"),
            created_by: opt_i64(r, "created_by"),
            created_at: r.get("created_at"),
            node_path: text(r, "node_path"),
        })
        .collect())
}

/// The rules as the pure routing sees them: a rule whose place or unit is gone is left out.
async fn rules_for_routing(db: &Db, sid: i64) -> Result<Vec<Rule>> {
    Ok(list(db, sid)
        .await?
        .into_iter()
        .filter(|r| r.node_id.is_none() || r.node_path.is_some())
        .filter_map(|r| {
            Some(Rule {
                id: r.id,
                category_prefix: r.category_prefix,
                node_path: r.node_path,
                unit: Unit {
                    id: r.unit_id,
                    kind: r.unit_kind?,
                    name: r.unit_name?,
                },
                priority: r.priority,
            })
        })
        .collect())
}

/// What a request sends to add a rule.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewRule {
    #[serde(default)]
    pub category_prefix: String,
    #[serde(default)]
    pub node_id: Option<i64>,
    pub unit_id: Option<i64>,
    #[serde(default)]
    pub priority: i64,
}

fn require_configure(actor: &Actor) -> Result<()> {
    if allows(actor, Action::Configure, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Adds a rule (subdistrict admins): the category exists (or is empty for all), the place is
/// a node of this subdistrict, the unit a unit of it. One transaction with its audit entry.
pub async fn add(db: &Db, actor: &Actor, new: NewRule) -> Result<RuleView> {
    require_configure(actor)?;
    let sid = actor.subdistrict_id;
    let prefix = new.category_prefix.trim().to_string();
    let mut errors = Vec::new();
    let cats = crate::cases::category_store::tree(db, sid).await?;
    if !prefix.is_empty() && cats.get(&prefix).is_none() {
        errors.push(FieldError::new(
            "category_prefix",
            Text::new("没有这个事项类别", "no such category"),
        ));
    }
    if let Some(n) = new.node_id {
        match tree::node(db, sid, n).await {
            Ok(_) => {}
            Err(Error::NotFound) => errors.push(FieldError::new(
                "node_id",
                Text::new("没有这个地点", "no such place"),
            )),
            Err(e) => return Err(e),
        }
    }
    let unit = match new.unit_id {
        Some(u) => unit(db, sid, u).await?,
        None => None,
    };
    if unit.is_none() {
        if let Error::Invalid(mut e) = no_such_unit("unit_id") {
            errors.append(&mut e);
        }
    }
    if new.priority.abs() > MAX_PRIORITY {
        errors.push(FieldError::new(
            "priority",
            Text::owned(
                format!("优先级须在 -{MAX_PRIORITY} 到 {MAX_PRIORITY} 之间"),
                format!("the priority must be between -{MAX_PRIORITY} and {MAX_PRIORITY}"),
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let unit = unit.ok_or_else(|| no_such_unit("unit_id"))?;
    let id = next_id();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO routing_rules (subdistrict_id, id, category_prefix, node_id, unit_id, priority, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(&prefix)
    .bind(new.node_id)
    .bind(unit.id)
    .bind(new.priority)
    .bind((actor.user_id != 0).then_some(actor.user_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let label = format!(
        "{} → {}",
        if prefix.is_empty() { "*" } else { &prefix },
        unit.name
    );
    audit::record(
        &mut tx,
        actor,
        Change::new("routing.rule_add", "routing_rule", Some(id))
            .label(&label)
            .after(json!({ "category_prefix": prefix, "node_id": new.node_id,
                "unit_id": unit.id, "priority": new.priority })),
    )
    .await?;
    tx.commit().await?;
    list(db, sid)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(Error::NotFound)
}

/// Removes a rule (subdistrict admins), with its audit entry.
pub async fn remove(db: &Db, actor: &Actor, id: i64) -> Result<()> {
    require_configure(actor)?;
    let sid = actor.subdistrict_id;
    let before = list(db, sid)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(Error::NotFound)?;
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM routing_rules WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    let label = format!(
        "{} → {}",
        if before.category_prefix.is_empty() {
            "*"
        } else {
            &before.category_prefix
        },
        before.unit_name.clone().unwrap_or_default()
    );
    audit::record(
        &mut tx,
        actor,
        Change::new("routing.rule_remove", "routing_rule", Some(id))
            .label(&label)
            .before(serde_json::to_value(&before).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The suggestion for a case at `path`, with the place it was computed on.
pub async fn suggest(
    db: &Db,
    sid: i64,
    c: &CaseRecord,
    path: &str,
) -> Result<(Option<Route>, Vec<PlaceNode>)> {
    let place = place(db, sid, path).await?;
    let ids: Vec<i64> = place.iter().map(|n| n.id).collect();
    let orgs: Vec<OrgUnit> = tree::orgs_on(db, sid, &ids)
        .await?
        .into_iter()
        .map(org_from)
        .collect();
    let owner = crate::cases::category_store::tree(db, sid)
        .await?
        .resolve(&c.category)
        .map_or(OwnerUnit::Committee, |r| r.owner);
    let rules_ = rules_for_routing(db, sid).await?;
    Ok((
        rules::route(&c.category, owner, &place, &orgs, &rules_),
        place,
    ))
}

/// What the dispatch and transfer forms offer for a case.
#[derive(Debug, Clone, Default)]
pub struct Dispatchable {
    pub choices: Vec<Choice>,
    pub reason: Option<Text>,
}

/// The suggestion and the units of the case's community or village, then the subdistrict.
pub async fn dispatchable(db: &Db, sid: i64, c: &CaseRecord, path: &str) -> Result<Dispatchable> {
    let (route, place) = suggest(db, sid, c, path).await?;
    let community = place
        .iter()
        .rev()
        .find(|n| matches!(n.kind, NodeKind::Community | NodeKind::Village));
    let (grids, orgs) = match community {
        Some(cm) => {
            let grids: Vec<Unit> = tree::children(db, sid, cm.id)
                .await?
                .into_iter()
                .filter(|k| k.node.kind == NodeKind::Grid)
                .map(|k| Unit {
                    id: k.node.id,
                    kind: k.node.kind.as_str().to_string(),
                    name: k.node.name,
                })
                .collect();
            (grids, orgs_under(db, sid, &cm.path).await?)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Dispatchable {
        choices: rules::choices(route.as_ref().map(|r| &r.unit), &place, &grids, &orgs),
        reason: route.map(|r| r.reason),
    })
}

/// Every unit of the subdistrict, for the rule form: its nodes that own cases, then its
/// organisations of the kinds that can.
pub async fn all_units(db: &Db, sid: i64) -> Result<Vec<Unit>> {
    let nodes = sqlx::query(
        "SELECT id, kind, name FROM nodes WHERE subdistrict_id = $1 \
         AND kind IN ('subdistrict', 'community', 'village', 'grid') ORDER BY path",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    let orgs = sqlx::query(
        "SELECT id, kind, name FROM orgs WHERE subdistrict_id = $1 ORDER BY kind, name",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(nodes
        .iter()
        .chain(orgs.iter())
        .map(|r| Unit {
            id: r.get(0),
            kind: r.get(1),
            name: r.get(2),
        })
        .filter(|u| NodeKind::parse(&u.kind).is_some() || ORG_KINDS.contains(&u.kind.as_str()))
        .collect())
}
