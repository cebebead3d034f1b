//! The routing rules (派单规则), pure: which unit a case goes to by its category and place.
//!
//! A unit is a node of the tree (a grid, a community or village — its committee — or the
//! subdistrict, which stands for its operations centre and offices) or an organisation on the
//! tree (property company, pairing unit, …) serving a node. Node and organisation ids come from
//! one id space, so a unit is named by its id alone.
//!
//! [`route`] picks, in order:
//! 1. the most specific stored [`Rule`] that applies — a rule applies when its category prefix
//!    covers the case's category (at a `.` boundary: `lift` covers `lift.fault`, not `lifter`;
//!    an empty prefix covers every category) and the case's place lies in the rule's subtree
//!    (a rule without a place applies everywhere). More category segments win, then a deeper
//!    place, then the higher priority, then the older rule (the lower id);
//! 2. else the default for the category's owning unit type ([`OwnerUnit`]): the grid → the case's
//!    grid; the committee → its community or village; the property company → the organisation of
//!    kind `property_company` serving the nearest node on the case's path; the subdistrict office
//!    → the subdistrict; the pairing unit → the `pairing_unit` serving the nearest node on the
//!    path (normally the community);
//! 3. when that unit does not exist (no property company serves the estate, say), the
//!    community or village, and failing that the subdistrict.
//!
//! Every answer carries its reason, in both languages. No I/O: the store loads the place, the
//! organisations and the rules and passes them in.

use serde::Serialize;

use crate::cases::category::OwnerUnit;
use crate::i18n::Text;
use crate::tree::model::within;
use crate::tree::NodeKind;

/// Organisation kinds routing knows by name.
pub const PROPERTY_COMPANY: &str = "property_company";
pub const PAIRING_UNIT: &str = "pairing_unit";

/// The organisation kinds that can own cases (others — developers, audit firms — cannot).
pub const ORG_KINDS: [&str; 6] = [
    PROPERTY_COMPANY,
    PAIRING_UNIT,
    "residents_committee",
    "village_committee",
    "owners_committee",
    "social_org",
];

/// A node on the case's path, root (the subdistrict) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceNode {
    pub id: i64,
    pub kind: NodeKind,
    pub name: String,
    pub path: String,
}

/// An organisation and the node it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub node_id: Option<i64>,
}

/// A unit a case can be dispatched to. `kind` is the node kind (`grid`, `community`,
/// `village`, `subdistrict`) or the organisation kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub id: i64,
    pub kind: String,
    pub name: String,
}

impl Unit {
    pub fn of_node(n: &PlaceNode) -> Unit {
        Unit {
            id: n.id,
            kind: n.kind.as_str().to_string(),
            name: n.name.clone(),
        }
    }

    pub fn of_org(o: &OrgUnit) -> Unit {
        Unit {
            id: o.id,
            kind: o.kind.clone(),
            name: o.name.clone(),
        }
    }

    /// What kind of unit this is, for people.
    pub fn kind_label(&self) -> Text {
        kind_label(&self.kind)
    }
}

/// A unit kind for people.
pub fn kind_label(kind: &str) -> Text {
    match kind {
        "grid" => Text::new("网格", "grid"),
        "community" => Text::new("居委会", "residents' committee"),
        "village" => Text::new("村委会", "village committee"),
        "subdistrict" => Text::new("街道城运中心", "subdistrict operations centre"),
        PROPERTY_COMPANY => Text::new("物业服务企业", "property company"),
        PAIRING_UNIT => Text::new("结对单位", "pairing unit"),
        "residents_committee" => Text::new("居委会", "residents' committee"),
        "village_committee" => Text::new("村委会", "village committee"),
        "owners_committee" => Text::new("业委会", "owners' committee"),
        "social_org" => Text::new("社会组织", "social organisation"),
        _ => Text::new("单位", "unit"),
    }
}

/// Whether a node of this kind can own cases.
pub fn node_is_unit(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Grid | NodeKind::Community | NodeKind::Village | NodeKind::Subdistrict
    )
}

/// A stored routing rule, with its place's path (`None`: everywhere) and its unit resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub category_prefix: String,
    pub node_path: Option<String>,
    pub unit: Unit,
    pub priority: i64,
}

/// The answer: the unit, the rule that chose it (if one did) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub unit: Unit,
    pub rule_id: Option<i64>,
    pub reason: Text,
}

/// Whether the category prefix covers `code` (at a `.` boundary; empty covers all).
pub fn category_covers(prefix: &str, code: &str) -> bool {
    prefix.is_empty()
        || code == prefix
        || (code.starts_with(prefix) && code[prefix.len()..].starts_with('.'))
}

/// Whether `rule` applies to a case of `category` at `path`.
pub fn applies(rule: &Rule, category: &str, path: &str) -> bool {
    category_covers(&rule.category_prefix, category)
        && rule.node_path.as_deref().is_none_or(|p| within(path, p))
}

/// How specific a rule is: category segments, place depth, priority, and the older rule first.
fn rank(rule: &Rule) -> (usize, usize, i64, std::cmp::Reverse<i64>) {
    let segments = if rule.category_prefix.is_empty() {
        0
    } else {
        rule.category_prefix.split('.').count()
    };
    let depth = rule
        .node_path
        .as_deref()
        .map_or(0, |p| p.split('/').filter(|s| !s.is_empty()).count());
    (segments, depth, rule.priority, std::cmp::Reverse(rule.id))
}

/// The rule that decides for a case of `category` at `path`, if any.
pub fn best_rule<'a>(rules: &'a [Rule], category: &str, path: &str) -> Option<&'a Rule> {
    rules
        .iter()
        .filter(|r| applies(r, category, path))
        .max_by_key(|r| rank(r))
}

fn nearest<'a>(place: &'a [PlaceNode], kinds: &[NodeKind]) -> Option<&'a PlaceNode> {
    place.iter().rev().find(|n| kinds.contains(&n.kind))
}

/// The organisation of `kind` serving the nearest node of the path (deepest first; by name
/// among several at one node).
fn serving<'a>(place: &[PlaceNode], orgs: &'a [OrgUnit], kind: &str) -> Option<&'a OrgUnit> {
    place.iter().rev().find_map(|n| {
        orgs.iter()
            .filter(|o| o.kind == kind && o.node_id == Some(n.id))
            .min_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)))
    })
}

/// The community or village on the path, else the subdistrict, as the fallback owner.
fn fallback(place: &[PlaceNode], why_zh: &str, why_en: &str) -> Option<Route> {
    if let Some(c) = nearest(place, &[NodeKind::Community, NodeKind::Village]) {
        return Some(Route {
            unit: Unit::of_node(c),
            rule_id: None,
            reason: Text::owned(
                format!("{why_zh},由{}承办", c.name),
                format!("{why_en}; {} takes it", c.name),
            ),
        });
    }
    let s = place.first()?;
    Some(Route {
        unit: Unit::of_node(s),
        rule_id: None,
        reason: Text::owned(
            format!("{why_zh},由街道城运中心承办"),
            format!("{why_en}; the subdistrict operations centre takes it"),
        ),
    })
}

/// Picks the unit for a case of `category` (owned by `owner` units) at `place` (its path,
/// root first, ending with the case's node). `orgs` are the organisations serving nodes on
/// the path; `rules` the subdistrict's rules. `None` only for an empty place.
pub fn route(
    category: &str,
    owner: OwnerUnit,
    place: &[PlaceNode],
    orgs: &[OrgUnit],
    rules: &[Rule],
) -> Option<Route> {
    let here = place.last()?;
    if let Some(r) = best_rule(rules, category, &here.path) {
        let scope = match &r.node_path {
            Some(p) => place
                .iter()
                .find(|n| n.path == *p)
                .map(|n| n.name.clone())
                .unwrap_or_default(),
            None => String::new(),
        };
        let cat = if r.category_prefix.is_empty() {
            Text::new("所有", "all")
        } else {
            Text::owned(
                format!("“{}”", r.category_prefix),
                format!("“{}”", r.category_prefix),
            )
        };
        let (where_zh, where_en) = if scope.is_empty() {
            ("全街道".to_string(), "anywhere".to_string())
        } else {
            (scope.clone(), format!("in {scope}"))
        };
        return Some(Route {
            unit: r.unit.clone(),
            rule_id: Some(r.id),
            reason: Text::owned(
                format!(
                    "按派单规则 #{}:{where_zh}的{}类事项由{}承办",
                    r.id, cat.zh, r.unit.name
                ),
                format!(
                    "routing rule #{}: {} cases {where_en} go to {}",
                    r.id, cat.en, r.unit.name
                ),
            ),
        });
    }
    let label = owner.label();
    match owner {
        OwnerUnit::Grid => match nearest(place, &[NodeKind::Grid]) {
            Some(g) => Some(Route {
                unit: Unit::of_node(g),
                rule_id: None,
                reason: Text::owned(
                    format!("该类事项由网格承办:事发地所在网格为{}", g.name),
                    format!(
                        "this category is handled by the grid: the case is in {}",
                        g.name
                    ),
                ),
            }),
            None => fallback(place, "事发地不在任何网格内", "the place is in no grid"),
        },
        OwnerUnit::Committee => fallback(
            place,
            "该类事项由居委会/村委会承办",
            "this category is handled by the committee",
        ),
        OwnerUnit::PropertyCompany | OwnerUnit::PairingUnit => {
            let kind = if owner == OwnerUnit::PropertyCompany {
                PROPERTY_COMPANY
            } else {
                PAIRING_UNIT
            };
            match serving(place, orgs, kind) {
                Some(o) => {
                    let served = place
                        .iter()
                        .find(|n| Some(n.id) == o.node_id)
                        .map(|n| n.name.clone())
                        .unwrap_or_default();
                    Some(Route {
                        unit: Unit::of_org(o),
                        rule_id: None,
                        reason: Text::owned(
                            format!("该类事项由{}承办:{}服务{}", label.zh, o.name, served),
                            format!(
                                "this category is handled by the {}: {} serves {}",
                                label.en, o.name, served
                            ),
                        ),
                    })
                }
                None => fallback(
                    place,
                    &format!("没有服务事发地的{}", label.zh),
                    &format!("no {} serves the place", label.en),
                ),
            }
        }
        OwnerUnit::SubdistrictOffice => {
            let s = place.first()?;
            Some(Route {
                unit: Unit::of_node(s),
                rule_id: None,
                reason: Text::new(
                    "该类事项由街道办事处承办",
                    "this category is handled by the subdistrict office",
                ),
            })
        }
    }
}

/// One option of the dispatch select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub unit: Unit,
    pub suggested: bool,
}

/// The units offered when dispatching or transferring: the suggestion first, then the grids
/// of the case's community or village, the community or village itself, the organisations
/// serving its subtree, then the subdistrict — each once.
pub fn choices(
    suggested: Option<&Unit>,
    place: &[PlaceNode],
    grids: &[Unit],
    orgs: &[OrgUnit],
) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    let mut push = |u: Unit, suggested: bool| {
        if !out.iter().any(|c| c.unit.id == u.id) {
            out.push(Choice { unit: u, suggested });
        }
    };
    if let Some(s) = suggested {
        push(s.clone(), true);
    }
    for g in grids {
        push(g.clone(), false);
    }
    if let Some(c) = nearest(place, &[NodeKind::Community, NodeKind::Village]) {
        push(Unit::of_node(c), false);
    }
    let mut orgs: Vec<&OrgUnit> = orgs
        .iter()
        .filter(|o| ORG_KINDS.contains(&o.kind.as_str()))
        .collect();
    orgs.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.name.cmp(&b.name)));
    for o in orgs {
        push(Unit::of_org(o), false);
    }
    if let Some(s) = place.first() {
        push(Unit::of_node(s), false);
    }
    out
}

/// Where an overdue case goes at escalation `level` (1: the community or village, 2: the
/// subdistrict), always above the owner: a case the committee owns goes straight to the
/// subdistrict, the subdistrict's own cases nowhere. An owner that is not a node of the path
/// (an organisation, a unit elsewhere) counts as at the place. `None` when there is nowhere
/// further up.
pub fn escalation_target(place: &[PlaceNode], owner: Option<i64>, level: u8) -> Option<i64> {
    let owner_at = owner
        .and_then(|o| place.iter().position(|n| n.id == o))
        .unwrap_or(place.len());
    let above = |kinds: &[NodeKind]| {
        place[..owner_at]
            .iter()
            .rev()
            .find(|n| kinds.contains(&n.kind))
            .map(|n| n.id)
    };
    let subdistrict = above(&[NodeKind::Subdistrict]);
    match level {
        1 => above(&[NodeKind::Community, NodeKind::Village]).or(subdistrict),
        2 => subdistrict,
        _ => None,
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
