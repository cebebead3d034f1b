//! The demo plan: a Xiayang-like subdistrict generated from a fixed seed, so every run
//! yields the same content. Pure: no ids, no database; [`super::load`] writes a plan.
//! Everything refers to other parts of the plan by index.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::names::{self, numeral};
use crate::people::store::CheckedPerson;
use crate::tree::model::{NodeKind, Track};

/// The seed of the demo: change it and every name changes.
pub const SEED: u64 = 0x3130_3131_3830_3033;

/// How many micro-grids the subdistrict has (the article's figure).
pub const GRIDS: usize = 307;

#[derive(Debug, Clone)]
pub struct NodePlan {
    /// `None`: the subdistrict root.
    pub parent: Option<usize>,
    pub kind: NodeKind,
    pub track: Track,
    pub name: String,
    /// Statistical division code (communities and villages).
    pub code_suffix: Option<String>,
    pub sort_key: i64,
    pub depth: i64,
}

#[derive(Debug, Clone)]
pub struct OrgPlan {
    pub kind: &'static str,
    pub name: String,
    /// `None`: hangs on the subdistrict root.
    pub node: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct VenuePlan {
    pub kind: &'static str,
    pub name: String,
    pub node: Option<usize>,
    pub address: String,
    pub hours: &'static str,
}

#[derive(Debug, Clone)]
pub struct RoomPlan {
    pub node: usize,
    pub number: String,
    pub floor: Option<i64>,
    pub registered_area: Option<i64>,
    pub surveyed_area: Option<i64>,
    pub contract_area: Option<i64>,
    pub developer_unsold: bool,
}

#[derive(Debug, Clone)]
pub struct HouseholdPlan {
    pub node: usize,
    pub room: Option<usize>,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Person(usize),
    Org(usize),
}

/// The parts of the plan the demo accounts are granted at.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    pub zhangbang: usize,
    pub zhangbang_grid: usize,
    pub building_311: usize,
    pub jinmi: usize,
    pub jinmi_group: usize,
    pub resident_person: usize,
    pub resident_room: usize,
    pub owners_committee: usize,
    pub property_company: usize,
    pub audit_firm: usize,
    pub law_firm: usize,
    pub social_org: usize,
    pub pairing_unit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub nodes: Vec<NodePlan>,
    pub orgs: Vec<OrgPlan>,
    pub venues: Vec<VenuePlan>,
    pub rooms: Vec<RoomPlan>,
    pub persons: Vec<CheckedPerson>,
    pub households: Vec<HouseholdPlan>,
    /// (household, person, relation: head, spouse, child, parent)
    pub members: Vec<(usize, usize, &'static str)>,
    pub owners: Vec<(usize, Owner)>,
    pub anchors: Anchors,
}

impl Plan {
    pub fn count(&self, kind: NodeKind) -> usize {
        self.nodes.iter().filter(|n| n.kind == kind).count()
    }

    /// A digest of the content (names, numbers, areas, people, links by position), to
    /// show that two generations are the same.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        let mut line = |s: String| {
            h.update(s.as_bytes());
            h.update(b"\n");
        };
        for n in &self.nodes {
            line(format!(
                "n|{:?}|{}|{}|{:?}|{:?}|{}",
                n.parent,
                n.kind.as_str(),
                n.name,
                n.code_suffix,
                n.track,
                n.sort_key
            ));
        }
        for o in &self.orgs {
            line(format!("o|{}|{}|{:?}", o.kind, o.name, o.node));
        }
        for v in &self.venues {
            line(format!(
                "v|{}|{}|{:?}|{}|{}",
                v.kind, v.name, v.node, v.address, v.hours
            ));
        }
        for r in &self.rooms {
            line(format!(
                "r|{}|{}|{:?}|{:?}|{:?}|{:?}|{}",
                r.node,
                r.number,
                r.floor,
                r.registered_area,
                r.surveyed_area,
                r.contract_area,
                r.developer_unsold
            ));
        }
        for p in &self.persons {
            line(format!(
                "p|{}|{}|{:?}|{:?}|{:?}|{:?}",
                p.name, p.gender, p.birth_year, p.id_number, p.phone, p.address
            ));
        }
        for x in &self.households {
            line(format!("h|{}|{:?}|{}", x.node, x.room, x.label));
        }
        for m in &self.members {
            line(format!("m|{m:?}"));
        }
        for o in &self.owners {
            line(format!("w|{o:?}"));
        }
        hex::encode(h.finalize())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Older estates: buildings numbered along a road ("城中东路311号"), 5-7 floors.
    Street,
    /// Newer estates: "12号楼", 11-18 floors.
    Numbered,
}

struct Estate {
    name: String,
    style: Style,
    road: &'static str,
    lane: u32,
    next_number: u32,
    developer: Option<usize>,
}

struct Gen {
    rng: ChaCha8Rng,
    plan: Plan,
    ids: HashSet<u64>,
    /// Owners who bought several rooms (person indices).
    investors: Vec<usize>,
    outside_owners: usize,
}

/// Generates the demo plan. Deterministic.
pub fn generate() -> Plan {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(SEED),
        plan: Plan::default(),
        ids: HashSet::new(),
        investors: Vec::new(),
        outside_owners: 0,
    };
    g.run();
    g.plan
}

/// Splits `total` into `parts` counts around the mean, each at least `min`.
fn spread(rng: &mut ChaCha8Rng, total: usize, parts: usize, min: usize) -> Vec<usize> {
    let mut v = vec![total / parts; parts];
    for x in v.iter_mut().take(total % parts) {
        *x += 1;
    }
    for _ in 0..parts * 2 {
        let a = rng.gen_range(0..parts);
        let b = rng.gen_range(0..parts);
        if a != b && v[a] > min {
            v[a] -= 1;
            v[b] += 1;
        }
    }
    v
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

const ACCEPT_HOURS: &str = "周一至周五 8:30-11:30, 13:30-17:00";
const AGENCY_HOURS: &str = "周一至周五 9:00-16:30";
const STATION_HOURS: &str = "周一至周六 9:00-17:00";

impl Gen {
    fn node(
        &mut self,
        parent: Option<usize>,
        kind: NodeKind,
        track: Track,
        name: String,
        sort_key: i64,
    ) -> usize {
        let depth = parent.map_or(1, |p| self.plan.nodes[p].depth + 1);
        self.plan.nodes.push(NodePlan {
            parent,
            kind,
            track,
            name,
            code_suffix: None,
            sort_key,
            depth,
        });
        self.plan.nodes.len() - 1
    }

    fn org(&mut self, kind: &'static str, name: String, node: Option<usize>) -> usize {
        self.plan.orgs.push(OrgPlan { kind, name, node });
        self.plan.orgs.len() - 1
    }

    fn run(&mut self) {
        self.org("party_committee", names::PARTY_COMMITTEE.into(), None);
        let social: Vec<usize> = names::SOCIAL_ORGS
            .iter()
            .map(|n| self.org("social_org", (*n).into(), None))
            .collect();
        self.plan.anchors.social_org = social[0];
        self.plan.anchors.audit_firm = self.org("audit_firm", names::AUDIT_FIRM.into(), None);
        self.plan.anchors.law_firm = self.org("law_firm", names::LAW_FIRM.into(), None);
        let developers: Vec<usize> = names::DEVELOPERS
            .iter()
            .map(|n| self.org("developer", (*n).into(), None))
            .collect();
        self.plan.venues.push(VenuePlan {
            kind: "acceptance_point",
            name: "夏阳街道社区事务受理服务中心".into(),
            node: None,
            address: "上海市青浦区青松路88号".into(),
            hours: ACCEPT_HOURS,
        });

        let village_grids = spread(&mut self.rng, 63, names::VILLAGES.len(), 5);
        let community_grids = spread(&mut self.rng, GRIDS - 63, names::COMMUNITIES.len(), 7);
        // Newer estates where the developer still holds unsold rooms: (community, developer).
        let developer_estates = [(1usize, 0usize), (6, 1), (14, 2)];
        let mut brand = 0usize;
        let mut communities = Vec::new();
        for (ci, (name, short)) in names::COMMUNITIES.iter().enumerate() {
            let c = self.node(
                None,
                NodeKind::Community,
                Track::Urban,
                (*name).into(),
                ci as i64,
            );
            self.plan.nodes[c].code_suffix = Some(format!("{:03}", ci + 1));
            communities.push(c);
            self.org("residents_committee", format!("{name}居民委员会"), Some(c));
            let n_estates = if ci == 0 {
                1
            } else {
                1 + usize::from(self.rng.gen_bool(0.5))
            };
            let mut suffixes = names::ESTATE_SUFFIXES.to_vec();
            suffixes.shuffle(&mut self.rng);
            if ci == 0 {
                suffixes[0] = "新村";
            }
            let mut estates = Vec::new();
            for (e, suffix) in suffixes.iter().enumerate().take(n_estates) {
                let developer = developer_estates
                    .iter()
                    .find(|(k, _)| *k == ci && e == 0)
                    .map(|(_, d)| developers[*d]);
                let style = if ci == 0 {
                    Style::Street
                } else if developer.is_some() || self.rng.gen_bool(0.5) {
                    Style::Numbered
                } else {
                    Style::Street
                };
                let road = if ci == 0 {
                    "城中东路"
                } else {
                    names::ROADS[(ci + e * 7) % names::ROADS.len()]
                };
                let estate = Estate {
                    name: format!("{short}{}", suffix),
                    style,
                    road,
                    lane: self.rng.gen_range(1..=30) * 10 + 8,
                    next_number: if ci == 0 {
                        311
                    } else if style == Style::Numbered {
                        0
                    } else {
                        self.rng.gen_range(50..=200) * 2 + 1
                    },
                    developer,
                };
                let committee = self.org(
                    "owners_committee",
                    format!("{}业主委员会", estate.name),
                    Some(c),
                );
                let suffix = ["物业管理有限公司", "物业服务有限公司", "物业有限公司"]
                    [(brand / names::PROPERTY_BRANDS.len()) % 3];
                let company = self.org(
                    "property_company",
                    format!(
                        "上海{}{suffix}",
                        names::PROPERTY_BRANDS[brand % names::PROPERTY_BRANDS.len()]
                    ),
                    Some(c),
                );
                brand += 1;
                if ci == 0 {
                    self.plan.anchors.zhangbang = c;
                    self.plan.anchors.owners_committee = committee;
                    self.plan.anchors.property_company = company;
                }
                estates.push(estate);
            }
            let grids = community_grids[ci];
            for gi in 0..grids {
                let e = gi * estates.len() / grids;
                let grid = self.node(
                    Some(c),
                    NodeKind::Grid,
                    Track::Urban,
                    format!("{short}{}网格", numeral(gi + 1)),
                    gi as i64,
                );
                if ci == 0 && gi == 0 {
                    self.plan.anchors.zhangbang_grid = grid;
                }
                self.urban_grid(grid, &mut estates[e], ci == 0 && gi == 0);
            }
            self.plan.venues.push(VenuePlan {
                kind: "service_station",
                name: format!("{short}“红管家”服务点"),
                node: Some(c),
                address: format!("上海市青浦区{}{}号", estates[0].road, estates[0].lane),
                hours: STATION_HOURS,
            });
            if ci % 3 == 0 {
                self.plan.venues.push(VenuePlan {
                    kind: "living_room",
                    name: format!("{short}社区“小客厅”"),
                    node: Some(c),
                    address: format!("上海市青浦区{}{}弄", estates[0].road, estates[0].lane),
                    hours: STATION_HOURS,
                });
            }
        }

        let mut villages = Vec::new();
        let mut group_total = 0;
        for (vi, (name, short)) in names::VILLAGES.iter().enumerate() {
            let v = self.node(
                None,
                NodeKind::Village,
                Track::Rural,
                (*name).into(),
                (names::COMMUNITIES.len() + vi) as i64,
            );
            self.plan.nodes[v].code_suffix = Some(format!("{:03}", 200 + vi + 1));
            villages.push(v);
            self.org("village_committee", format!("{name}村民委员会"), Some(v));
            if vi == 0 {
                self.plan.anchors.jinmi = v;
            }
            let mut group_no = 0;
            for gi in 0..village_grids[vi] {
                let grid = self.node(
                    Some(v),
                    NodeKind::Grid,
                    Track::Rural,
                    format!("{short}{}网格", numeral(gi + 1)),
                    gi as i64,
                );
                let groups = self.rng.gen_range(2..=4);
                for _ in 0..groups {
                    group_no += 1;
                    group_total += 1;
                    let group = self.node(
                        Some(grid),
                        NodeKind::VillageGroup,
                        Track::Rural,
                        format!("第{}村民小组", numeral(group_no)),
                        group_no as i64,
                    );
                    if vi == 0 && group_no == 1 {
                        self.plan.anchors.jinmi_group = group;
                    }
                    self.village_group(group, name, group_no);
                }
            }
            self.plan.venues.push(VenuePlan {
                kind: "parlour",
                name: format!("{short}村“平心·客堂间”"),
                node: Some(v),
                address: format!("上海市青浦区夏阳街道{name}1组1号"),
                hours: STATION_HOURS,
            });
        }
        debug_assert!(group_total > 0);

        // 11 more acceptance points (12 with the centre), 4 agency points, the 24-hour point.
        for (i, &c) in communities.iter().enumerate().take(8) {
            let short = names::COMMUNITIES[i].1;
            let road = names::ROADS[i % names::ROADS.len()];
            self.plan.venues.push(VenuePlan {
                kind: "acceptance_point",
                name: format!("{short}受理网点"),
                node: Some(c),
                address: format!("上海市青浦区{road}{}号", 101 + 20 * i),
                hours: ACCEPT_HOURS,
            });
        }
        for (i, &v) in villages.iter().enumerate() {
            let (name, short) = names::VILLAGES[i];
            let (kind, label, hours) = if i < 3 {
                ("acceptance_point", "受理网点", ACCEPT_HOURS)
            } else if i < 7 {
                ("agency_point", "代理网点", AGENCY_HOURS)
            } else {
                continue;
            };
            self.plan.venues.push(VenuePlan {
                kind,
                name: format!("{short}村{label}"),
                node: Some(v),
                address: format!("上海市青浦区夏阳街道{name}村委会"),
                hours,
            });
        }
        self.plan.venues.push(VenuePlan {
            kind: "self_service_24h",
            name: "东方社区24小时自助服务点".into(),
            node: Some(communities[1]),
            address: "上海市青浦区公园东路1号".into(),
            hours: "24小时",
        });

        for (i, (name, community)) in names::PAIRING_UNITS.iter().enumerate() {
            let o = self.org(
                "pairing_unit",
                (*name).into(),
                Some(communities[*community]),
            );
            if i == 0 {
                self.plan.anchors.pairing_unit = o;
            }
        }
    }

    fn urban_grid(&mut self, grid: usize, estate: &mut Estate, first: bool) {
        let target = self.rng.gen_range(60..=115);
        let mut rooms = 0;
        let mut k = 0;
        while rooms < target {
            let (name, address_base) = match estate.style {
                Style::Street => {
                    let n = estate.next_number;
                    estate.next_number += 2;
                    (
                        format!("{}{n}号", estate.road),
                        format!("上海市青浦区{}{n}号", estate.road),
                    )
                }
                Style::Numbered => {
                    let n = estate.next_number + 1;
                    estate.next_number = n;
                    (
                        format!("{n}号楼"),
                        format!(
                            "上海市青浦区{}{}弄{}{n}号楼",
                            estate.road, estate.lane, estate.name
                        ),
                    )
                }
            };
            let special = first && k == 0;
            let building = self.node(Some(grid), NodeKind::Building, Track::Urban, name, k);
            if special {
                self.plan.anchors.building_311 = building;
            }
            let (floors, units, per_floor) = match (special, estate.style) {
                (true, _) => (6, 3, 2),
                (false, Style::Street) => (
                    self.rng.gen_range(5..=7),
                    self.rng.gen_range(1..=3),
                    if self.rng.gen_bool(0.1) { 3 } else { 2 },
                ),
                (false, Style::Numbered) => (
                    self.rng.gen_range(11..=18),
                    self.rng.gen_range(1..=2),
                    self.rng.gen_range(2..=4),
                ),
            };
            let (lo, hi) = match estate.style {
                Style::Street => (4_500, 9_500),
                Style::Numbered => (7_000, 14_000),
            };
            let layouts: Vec<i64> = (0..per_floor)
                .map(|_| self.rng.gen_range(lo..=hi))
                .collect();
            for u in 1..=units {
                let unit = self.node(
                    Some(building),
                    NodeKind::Unit,
                    Track::Urban,
                    format!("{u}单元"),
                    u,
                );
                for floor in 1..=floors {
                    for (p, &area) in layouts.iter().enumerate() {
                        let number = format!("{}{:02}", floor, p + 1);
                        let address = format!("{address_base}{u}单元{number}室");
                        let unsold = estate.developer.is_some() && self.rng.gen_bool(0.15);
                        let room = self.room(unit, number.clone(), Some(floor), area, unsold);
                        rooms += 1;
                        if unsold {
                            let dev = estate.developer.unwrap_or_default();
                            self.plan.owners.push((room, Owner::Org(dev)));
                            continue;
                        }
                        let label = format!("{number}室");
                        if special && u == 1 && number == "502" {
                            let (head, _) = self.household(unit, room, label, &address, false);
                            self.plan.owners.push((room, Owner::Person(head)));
                            self.plan.anchors.resident_person = head;
                            self.plan.anchors.resident_room = room;
                            continue;
                        }
                        self.occupy(unit, room, label, &address, false);
                    }
                }
            }
            k += 1;
        }
    }

    fn village_group(&mut self, group: usize, village: &str, group_no: usize) {
        let houses = self.rng.gen_range(22..=40);
        for h in 1..=houses {
            let number = format!("{h}号");
            let area = self.rng.gen_range(10_000..=26_000);
            let room = self.room(group, number.clone(), None, area, false);
            let address = format!("上海市青浦区夏阳街道{village}{group_no}组{h}号");
            self.occupy(group, room, number, &address, true);
        }
    }

    /// A room with one registered area (most), or only a surveyed or a contract area.
    fn room(
        &mut self,
        node: usize,
        number: String,
        floor: Option<i64>,
        area: i64,
        unsold: bool,
    ) -> usize {
        // Rooms of one layout differ a little between floors after survey.
        let area = area + self.rng.gen_range(-30..=30);
        let r: f64 = self.rng.gen();
        let (registered, surveyed, contract) = if unsold {
            if r < 0.6 {
                (None, Some(area), None)
            } else {
                (None, None, Some(area + self.rng.gen_range(0..=150)))
            }
        } else if r < 0.50 {
            (Some(area), None, None)
        } else if r < 0.86 {
            (Some(area), Some(area + self.rng.gen_range(-20..=20)), None)
        } else if r < 0.94 || floor.is_none() {
            (None, Some(area), None)
        } else {
            (None, None, Some(area + self.rng.gen_range(0..=150)))
        };
        self.plan.rooms.push(RoomPlan {
            node,
            number,
            floor,
            registered_area: registered,
            surveyed_area: surveyed,
            contract_area: contract,
            developer_unsold: unsold,
        });
        self.plan.rooms.len() - 1
    }

    /// Who lives in a room and who owns it: mostly its own household; some rooms stand
    /// empty or are let, owned by a buyer of several rooms or by someone living elsewhere.
    fn occupy(&mut self, node: usize, room: usize, label: String, address: &str, rural: bool) {
        let r: f64 = self.rng.gen();
        let (vacant, let_out) = if rural {
            (r < 0.04, false)
        } else {
            (r < 0.05, (0.05..0.09).contains(&r))
        };
        if vacant || let_out {
            let owner = if !rural && !self.investors.is_empty() && self.rng.gen_bool(0.6) {
                self.investors[self.rng.gen_range(0..self.investors.len())]
            } else {
                self.outside_owner()
            };
            self.plan.owners.push((room, Owner::Person(owner)));
            if let_out {
                self.household(node, room, label, address, rural);
            }
            return;
        }
        let (head, spouse) = self.household(node, room, label, address, rural);
        self.plan.owners.push((room, Owner::Person(head)));
        if let Some(s) = spouse {
            if self.rng.gen_bool(0.35) {
                self.plan.owners.push((room, Owner::Person(s)));
            }
        }
        if !rural && self.rng.gen_bool(0.02) {
            self.investors.push(head);
        }
    }

    fn outside_owner(&mut self) -> usize {
        self.outside_owners += 1;
        let male = self.rng.gen_bool(0.55);
        let year = self.rng.gen_range(1955..=1990);
        let surname = self.surname();
        let street =
            names::OUTSIDE_ADDRESSES[self.rng.gen_range(0..names::OUTSIDE_ADDRESSES.len())];
        let address = format!(
            "{street}{}号{}室",
            self.rng.gen_range(1..=800),
            self.rng.gen_range(1..=20) * 100 + self.rng.gen_range(1..=4)
        );
        self.person(surname, male, year, &address, false)
    }

    /// A household: a head, often a spouse, children and sometimes parents. Returns the
    /// head and the spouse.
    fn household(
        &mut self,
        node: usize,
        room: usize,
        label: String,
        address: &str,
        rural: bool,
    ) -> (usize, Option<usize>) {
        let weights: [f64; 6] = if rural {
            [0.08, 0.22, 0.25, 0.23, 0.15, 0.07]
        } else {
            [0.14, 0.32, 0.30, 0.15, 0.07, 0.02]
        };
        let mut x: f64 = self.rng.gen();
        let mut size = 1;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                size = i + 1;
                break;
            }
            x -= w;
            size = i + 1;
        }
        self.plan.households.push(HouseholdPlan {
            node,
            room: Some(room),
            label,
        });
        let hh = self.plan.households.len() - 1;
        let head_male = self.rng.gen_bool(0.7);
        let head_year: u32 = if size == 1 {
            self.rng.gen_range(1940..=2000)
        } else {
            self.rng.gen_range(1945..=1995)
        };
        let local = rural || self.rng.gen_bool(0.55);
        let head_surname = self.surname();
        let head = self.person(head_surname, head_male, head_year, address, local);
        self.plan.members.push((hh, head, "head"));
        let mut left = size - 1;
        let mut spouse = None;
        let mut spouse_surname = head_surname;
        if left > 0 && (size >= 3 || self.rng.gen_bool(0.8)) {
            let year = (head_year as i32 + self.rng.gen_range(-3..=5)).clamp(1938, 2000) as u32;
            spouse_surname = self.surname();
            let spouse_local = local || self.rng.gen_bool(0.5);
            let s = self.person(spouse_surname, !head_male, year, address, spouse_local);
            self.plan.members.push((hh, s, "spouse"));
            spouse = Some(s);
            left -= 1;
        }
        let family = if head_male || spouse.is_none() {
            head_surname
        } else {
            spouse_surname
        };
        let mut parents = 0;
        while left > 0 {
            let child_year = head_year + self.rng.gen_range(24..=34);
            let can_parent = head_year >= 1962 && parents < 2;
            if can_parent && (child_year > 2023 || self.rng.gen_bool(0.3)) {
                let year = head_year - self.rng.gen_range(24..=30);
                // The first parent is the mother more often (widowed parents moving in).
                let male = parents == 1 || !self.rng.gen_bool(0.6);
                let surname = if male { head_surname } else { self.surname() };
                let p = self.person(surname, male, year, address, local);
                self.plan.members.push((hh, p, "parent"));
                parents += 1;
            } else {
                let male = self.rng.gen_bool(0.5);
                let c = self.person(family, male, child_year.min(2023), address, true);
                self.plan.members.push((hh, c, "child"));
            }
            left -= 1;
        }
        (head, spouse)
    }

    fn surname(&mut self) -> &'static str {
        // Zipf-like: the first surnames are far more common.
        let u: f64 = self.rng.gen();
        names::SURNAMES[((u * u) * names::SURNAMES.len() as f64) as usize % names::SURNAMES.len()]
    }

    fn given_name(&mut self, male: bool, year: u32) -> String {
        let pool: &[&str] = match (male, year >= 1985) {
            (true, false) => &names::OLDER_MALE,
            (false, false) => &names::OLDER_FEMALE,
            (true, true) => &names::YOUNGER_MALE,
            (false, true) => &names::YOUNGER_FEMALE,
        };
        let first = pool[self.rng.gen_range(0..pool.len())];
        if self.rng.gen_bool(0.35) {
            return first.to_string();
        }
        let mut second = pool[self.rng.gen_range(0..pool.len())];
        if second == first && !self.rng.gen_bool(0.3) {
            second = pool[self.rng.gen_range(0..pool.len())];
        }
        format!("{first}{second}")
    }

    fn person(
        &mut self,
        surname: &str,
        male: bool,
        year: u32,
        address: &str,
        local: bool,
    ) -> usize {
        let name = format!("{surname}{}", self.given_name(male, year));
        let region = if year >= 2000 || (local && self.rng.gen_bool(0.75)) {
            if year < 1999 && self.rng.gen_bool(0.4) {
                "310229"
            } else {
                "310118"
            }
        } else if self.rng.gen_bool(0.35) {
            names::REGIONS_SHANGHAI[self.rng.gen_range(0..names::REGIONS_SHANGHAI.len())]
        } else {
            names::REGIONS_ELSEWHERE[self.rng.gen_range(0..names::REGIONS_ELSEWHERE.len())]
        };
        let id = self.id_number(region, year, male);
        let phone = (year <= 2010).then(|| {
            let prefix =
                names::MOBILE_PREFIXES[self.rng.gen_range(0..names::MOBILE_PREFIXES.len())];
            format!("{prefix}{:08}", self.rng.gen_range(0..100_000_000u32))
        });
        self.plan.persons.push(CheckedPerson {
            name,
            gender: if male { "M" } else { "F" }.into(),
            birth_year: Some(i64::from(year)),
            id_number: Some(id),
            phone,
            address: Some(address.to_string()),
        });
        self.plan.persons.len() - 1
    }

    /// A valid, unused 18-character ID number: region, birth date, sequence (odd for
    /// men), check character.
    fn id_number(&mut self, region: &str, year: u32, male: bool) -> String {
        loop {
            let month = self.rng.gen_range(1..=12);
            let day = self.rng.gen_range(1..=days_in_month(year, month));
            let seq = self.rng.gen_range(0..500) * 2 + u32::from(male);
            let body = format!("{region}{year:04}{month:02}{day:02}{seq:03}");
            let key: u64 = body.parse().unwrap_or_default();
            if !self.ids.insert(key) {
                continue;
            }
            let mut digits = [0u32; 17];
            for (d, c) in digits.iter_mut().zip(body.chars()) {
                *d = c.to_digit(10).unwrap_or(0);
            }
            return format!("{body}{}", crate::pii::validate::id_check_char(&digits));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::validate;

    #[test]
    fn two_generations_are_identical() {
        let a = generate();
        let b = generate();
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.persons.len(), b.persons.len());
    }

    #[test]
    fn the_plan_has_xiayang_proportions() {
        let p = generate();
        assert_eq!(p.count(NodeKind::Grid), GRIDS);
        assert_eq!(p.count(NodeKind::Community), 24);
        assert_eq!(p.count(NodeKind::Village), 9);
        let rooms = p.rooms.len();
        assert!((30_000..=40_000).contains(&rooms), "{rooms} rooms");
        let people = p.members.len();
        assert!((80_000..=100_000).contains(&people), "{people} residents");
        let kinds = |k: &str| p.venues.iter().filter(|v| v.kind == k).count();
        assert_eq!(kinds("acceptance_point"), 12);
        assert_eq!(kinds("agency_point"), 4);
        assert_eq!(kinds("self_service_24h"), 1);
        assert!(p.rooms.iter().any(|r| r.developer_unsold));
        assert!(p
            .rooms
            .iter()
            .any(|r| r.registered_area.is_none() && r.surveyed_area.is_some()));
        assert!(p
            .rooms
            .iter()
            .any(|r| r.registered_area.is_none() && r.contract_area.is_some()));
        let a = &p.anchors;
        assert_eq!(p.nodes[a.building_311].name, "城中东路311号");
        assert_eq!(p.nodes[a.zhangbang].name, "章浜居民区");
        assert_eq!(p.rooms[a.resident_room].number, "502");
    }

    #[test]
    fn every_person_is_valid_and_unique() {
        let p = generate();
        let mut seen = HashSet::new();
        for person in &p.persons {
            let id = person.id_number.as_deref().unwrap();
            assert_eq!(validate::id_number(id).as_deref(), Ok(id), "{id}");
            assert_eq!(validate::gender(id), Some(person.gender.as_str()));
            assert_eq!(validate::birth_year(id), person.birth_year);
            assert!(seen.insert(id.to_string()), "duplicate {id}");
            if let Some(phone) = &person.phone {
                assert!(validate::mobile(phone).is_ok(), "{phone}");
            }
            let n = person.name.chars().count();
            assert!((2..=3).contains(&n), "{}", person.name);
        }
    }

    #[test]
    fn sibling_names_and_room_numbers_are_unique() {
        let p = generate();
        let mut names = HashSet::new();
        for n in &p.nodes {
            assert!(names.insert((n.parent, n.name.clone())), "{}", n.name);
        }
        let mut rooms = HashSet::new();
        for r in &p.rooms {
            assert!(rooms.insert((r.node, r.number.clone())), "{}", r.number);
        }
        let mut orgs = HashSet::new();
        for o in &p.orgs {
            assert!(orgs.insert((o.kind, o.name.clone())), "{}", o.name);
        }
    }
}
