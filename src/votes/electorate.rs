//! Freezing the electorate of one vote: from the rooms in scope (a building's rooms, a
//! stairway unit's rooms, a whole estate — the scope is just the room set) to the voters,
//! each casting ONE ballot, with their exclusive area, and the totals the thresholds are
//! measured against. No I/O: the caller loads the rooms and stores the result.
//!
//! The rules are those of the Supreme People's Court interpretation on building
//! condominium ownership (最高人民法院关于审理建筑物区分所有权纠纷案件适用法律若干问题的解释):
//! - art. 8, area: the registered area, else the surveyed area, else the contract area;
//!   the total is the sum over all exclusive units;
//! - art. 9, owner count: one owner per exclusive unit, except that all units the developer
//!   has not sold or not delivered count as one owner together, and the units of one buyer
//!   count as one owner; the total is the sum of that count.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::i18n::Text;
use crate::tree::area;

/// Who owns a room: a person or an organisation (an org id, e.g. a company).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum OwnerRef {
    Person(i64),
    Org(i64),
}

impl OwnerRef {
    fn key(&self) -> String {
        match self {
            OwnerRef::Person(id) => format!("p:{id}"),
            OwnerRef::Org(id) => format!("o:{id}"),
        }
    }
}

/// One exclusive unit (room) in the vote's scope, as the registry holds it. Areas are in
/// integer hundredths of m².
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoomInput {
    pub room_id: i64,
    pub registered_area: Option<i64>,
    pub surveyed_area: Option<i64>,
    pub contract_area: Option<i64>,
    /// Not yet sold, or sold but not yet delivered, by the developer (SPC interpretation
    /// art. 9): all such rooms count as one owner, the developer.
    pub developer_unsold: bool,
    /// The room's owners of record (co-owners of one room count as one owner).
    pub owners: Vec<OwnerRef>,
}

/// The key of the developer's one voter.
pub const DEVELOPER_KEY: &str = "developer";

/// The unit that casts one ballot: one owner in the sense of SPC interpretation art. 9.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voter {
    /// Stable and derived from the registry only, so a re-freeze gives the same keys:
    /// `developer`; the sorted owner set, e.g. `p:12+p:40` or `o:3+p:7`; or `room:<id>` for
    /// a room with no owner of record, for which nobody can cast.
    pub key: String,
    /// The rooms this voter holds, sorted by room id, each with the area that counts.
    pub rooms: Vec<(i64, u64)>,
    /// The sum of `rooms`' areas, hundredths of m².
    pub area: u64,
    /// Persons who may cast this voter's ballot (sorted, unique).
    pub persons: Vec<i64>,
    /// Organisations that may cast this voter's ballot (sorted, unique).
    pub orgs: Vec<i64>,
}

impl Voter {
    /// Whether anybody of record can cast this ballot.
    pub fn castable(&self) -> bool {
        !self.persons.is_empty() || !self.orgs.is_empty()
    }
}

/// Something wrong in the registry that an officer should fix before the vote opens.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// No registered, surveyed or contract area: the room counts as an owner but with 0
    /// area until fixed.
    NoArea { room_id: i64 },
    /// The area that counts is 0 or negative: counted as 0 until fixed.
    BadArea { room_id: i64, area: i64 },
    /// A room with no owner of record and not the developer's: it stays in the totals
    /// (the law counts every exclusive unit) as voter `room:<id>`, for which nobody can cast.
    NoOwner { room_id: i64 },
    /// Unsold rooms exist but no owner of record for them (the developer's organisation)
    /// was given, so nobody can cast the developer's ballot.
    DeveloperWithoutOwner,
    /// The same room id appeared more than once; the first by `RoomInput`'s order was kept.
    DuplicateRoom { room_id: i64 },
}

impl Problem {
    /// The problem in both languages, for the freeze page.
    pub fn text(&self) -> Text {
        match self {
            Problem::NoArea { room_id } => Text::owned(
                format!("房屋 {room_id} 没有登记、实测或合同面积"),
                format!("room {room_id} has no registered, surveyed or contract area"),
            ),
            Problem::BadArea { room_id, area: a } => Text::owned(
                format!("房屋 {room_id} 的面积 {} 无效", area::format(*a)),
                format!("room {room_id} has an invalid area {}", area::format(*a)),
            ),
            Problem::NoOwner { room_id } => Text::owned(
                format!("房屋 {room_id} 没有登记业主,计入总面积和总人数,但无人可投票"),
                format!(
                    "room {room_id} has no owner of record; it counts in the totals but nobody can vote for it"
                ),
            ),
            Problem::DeveloperWithoutOwner => Text::new(
                "有未售出的房屋,但没有登记建设单位,无人可代表其投票",
                "there are unsold rooms but no developer of record to vote for them",
            ),
            Problem::DuplicateRoom { room_id } => Text::owned(
                format!("房屋 {room_id} 重复出现,只计一次"),
                format!("room {room_id} appears more than once and is counted once"),
            ),
        }
    }
}

/// The rooms (with counted area) and owners gathered under one voter key.
type Group = (Vec<(i64, u64)>, Vec<OwnerRef>);

/// The frozen electorate of one vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Electorate {
    /// Sorted by key.
    pub voters: Vec<Voter>,
    /// The exclusive area of all rooms in scope (SPC interpretation art. 8), hundredths of m².
    pub total_area: u64,
    /// The owner count (SPC interpretation art. 9): the number of voters.
    pub total_owners: u64,
    /// Sorted; a vote should not open while this is not empty (see [`Electorate::is_clean`]).
    pub problems: Vec<Problem>,
}

impl Electorate {
    /// Freezes the electorate of the given rooms. Deterministic: the result does not depend
    /// on the order of `rooms` or of their owners.
    ///
    /// Decisions where the law says nothing about a defective registry:
    /// - a room with no area counts as one unit with area 0, and is reported;
    /// - a room with no owner (and not the developer's) keeps its area in `total_area` and
    ///   its place in `total_owners` — art. 8–9 total over *all* exclusive units, and
    ///   dropping it would lower the quorum — as voter `room:<id>` that nobody can cast
    ///   for, and is reported.
    pub fn freeze(rooms: &[RoomInput]) -> Electorate {
        // Owners normalised first, so that which copy of a duplicated room is kept does not
        // depend on the order its owners were listed in.
        let mut sorted: Vec<RoomInput> = rooms
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.owners.sort();
                r.owners.dedup();
                r
            })
            .collect();
        sorted.sort();
        let mut problems = Vec::new();
        // key → (rooms, owners)
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut developer_rooms = false;
        let mut last_room: Option<i64> = None;
        for room in sorted {
            if last_room == Some(room.room_id) {
                problems.push(Problem::DuplicateRoom {
                    room_id: room.room_id,
                });
                continue;
            }
            last_room = Some(room.room_id);
            let counted =
                match area::effective(room.registered_area, room.surveyed_area, room.contract_area)
                {
                    None => {
                        problems.push(Problem::NoArea {
                            room_id: room.room_id,
                        });
                        0
                    }
                    Some(a) if a <= 0 => {
                        problems.push(Problem::BadArea {
                            room_id: room.room_id,
                            area: a,
                        });
                        0
                    }
                    Some(a) => a.unsigned_abs(),
                };
            let owners = room.owners;
            let key = if room.developer_unsold {
                developer_rooms = true;
                DEVELOPER_KEY.to_string()
            } else if owners.is_empty() {
                problems.push(Problem::NoOwner {
                    room_id: room.room_id,
                });
                format!("room:{}", room.room_id)
            } else {
                owners
                    .iter()
                    .map(OwnerRef::key)
                    .collect::<Vec<_>>()
                    .join("+")
            };
            let entry = groups.entry(key).or_default();
            entry.0.push((room.room_id, counted));
            entry.1.extend(owners);
        }
        let voters: Vec<Voter> = groups
            .into_iter()
            .map(|(key, (rooms, mut owners))| {
                owners.sort();
                owners.dedup();
                let (mut persons, mut orgs) = (Vec::new(), Vec::new());
                for o in owners {
                    match o {
                        OwnerRef::Person(id) => persons.push(id),
                        OwnerRef::Org(id) => orgs.push(id),
                    }
                }
                Voter {
                    key,
                    area: rooms.iter().map(|r| r.1).sum(),
                    rooms,
                    persons,
                    orgs,
                }
            })
            .collect();
        if developer_rooms
            && voters
                .iter()
                .any(|v| v.key == DEVELOPER_KEY && !v.castable())
        {
            problems.push(Problem::DeveloperWithoutOwner);
        }
        problems.sort();
        problems.dedup();
        Electorate {
            total_area: voters.iter().map(|v| v.area).sum(),
            total_owners: voters.len() as u64,
            voters,
            problems,
        }
    }

    /// Whether the registry had nothing to report.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The voter with this key (binary search: `voters` is sorted by key).
    pub fn voter(&self, key: &str) -> Option<&Voter> {
        self.voters
            .binary_search_by(|v| v.key.as_str().cmp(key))
            .ok()
            .and_then(|i| self.voters.get(i))
    }

    /// Every voter this person may cast for (a person may own one room alone and another
    /// with someone else: those are two voters), in key order.
    pub fn voter_for_person(&self, person_id: i64) -> Vec<&Voter> {
        self.voters
            .iter()
            .filter(|v| v.persons.binary_search(&person_id).is_ok())
            .collect()
    }

    /// Every voter this organisation may cast for, in key order.
    pub fn voter_for_org(&self, org_id: i64) -> Vec<&Voter> {
        self.voters
            .iter()
            .filter(|v| v.orgs.binary_search(&org_id).is_ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn room(id: i64, area: i64, owners: &[OwnerRef]) -> RoomInput {
        RoomInput {
            room_id: id,
            registered_area: Some(area),
            surveyed_area: None,
            contract_area: None,
            developer_unsold: false,
            owners: owners.to_vec(),
        }
    }

    fn unsold(id: i64, area: i64) -> RoomInput {
        RoomInput {
            developer_unsold: true,
            owners: vec![OwnerRef::Org(900)],
            ..room(id, area, &[])
        }
    }

    use OwnerRef::{Org, Person as P};

    #[test]
    fn one_owner_per_room() {
        let e = Electorate::freeze(&[room(1, 8000, &[P(1)]), room(2, 9000, &[P(2)])]);
        assert_eq!(e.total_owners, 2);
        assert_eq!(e.total_area, 17000);
        assert!(e.is_clean());
        assert_eq!(e.voters[0].key, "p:1");
        assert_eq!(e.voters[0].rooms, [(1, 8000)]);
    }

    #[test]
    fn developer_rooms_count_as_one_owner() {
        let e = Electorate::freeze(&[
            unsold(1, 8000),
            unsold(2, 9000),
            unsold(3, 10000),
            room(4, 7000, &[P(5)]),
        ]);
        assert_eq!(e.total_owners, 2);
        assert_eq!(e.total_area, 34000);
        let dev = e.voter(DEVELOPER_KEY).unwrap();
        assert_eq!(dev.rooms, [(1, 8000), (2, 9000), (3, 10000)]);
        assert_eq!(dev.area, 27000);
        assert_eq!(dev.orgs, [900]);
        assert!(e.is_clean());
        assert_eq!(e.voter_for_org(900).len(), 1);
    }

    #[test]
    fn developer_without_an_owner_of_record_is_reported() {
        let mut r = unsold(1, 8000);
        r.owners.clear();
        let e = Electorate::freeze(&[r]);
        assert_eq!(e.total_owners, 1);
        assert_eq!(e.problems, [Problem::DeveloperWithoutOwner]);
        assert!(!e.voters[0].castable());
    }

    #[test]
    fn multi_room_buyer_counts_as_one_owner() {
        let e = Electorate::freeze(&[
            room(1, 8000, &[P(7)]),
            room(2, 9000, &[P(7)]),
            room(3, 7000, &[P(8)]),
        ]);
        assert_eq!(e.total_owners, 2);
        assert_eq!(e.total_area, 24000);
        let buyer = e.voter("p:7").unwrap();
        assert_eq!(buyer.rooms, [(1, 8000), (2, 9000)]);
        assert_eq!(buyer.area, 17000);
    }

    #[test]
    fn co_owners_of_one_room_count_as_one_and_order_does_not_matter() {
        let e = Electorate::freeze(&[
            room(1, 8000, &[P(40), P(12)]),
            room(2, 9000, &[P(12), P(40), P(12)]),
        ]);
        assert_eq!(e.total_owners, 1);
        let v = &e.voters[0];
        assert_eq!(v.key, "p:12+p:40");
        assert_eq!(v.persons, [12, 40]);
        assert_eq!(v.area, 17000);
    }

    #[test]
    fn same_person_in_two_owner_sets_is_two_voters() {
        let e = Electorate::freeze(&[
            room(1, 8000, &[P(1)]),
            room(2, 9000, &[P(1), P(2)]),
            room(3, 5000, &[P(1), Org(3)]),
        ]);
        assert_eq!(e.total_owners, 3);
        let keys: Vec<&str> = e
            .voter_for_person(1)
            .iter()
            .map(|v| v.key.as_str())
            .collect();
        assert_eq!(keys, ["p:1", "p:1+o:3", "p:1+p:2"]);
        assert_eq!(e.voter_for_person(2).len(), 1);
        assert!(e.voter_for_person(99).is_empty());
    }

    #[test]
    fn area_prefers_registered_then_surveyed_then_contract() {
        let mut a = room(1, 8000, &[P(1)]);
        a.surveyed_area = Some(8100);
        a.contract_area = Some(8200);
        let b = RoomInput {
            registered_area: None,
            surveyed_area: Some(8100),
            contract_area: Some(8200),
            ..room(2, 0, &[P(2)])
        };
        let c = RoomInput {
            registered_area: None,
            contract_area: Some(8200),
            ..room(3, 0, &[P(3)])
        };
        let missing = RoomInput {
            registered_area: None,
            ..room(4, 0, &[P(4)])
        };
        let e = Electorate::freeze(&[a, b, c, missing]);
        let areas: Vec<u64> = e.voters.iter().map(|v| v.area).collect();
        assert_eq!(areas, [8000, 8100, 8200, 0]);
        assert_eq!(e.total_area, 24300);
        assert_eq!(e.total_owners, 4);
        assert_eq!(e.problems, [Problem::NoArea { room_id: 4 }]);
        assert!(e.problems[0].text().en.contains("room 4"));
    }

    #[test]
    fn a_zero_or_negative_area_is_reported() {
        let e = Electorate::freeze(&[room(1, 0, &[P(1)]), room(2, -5, &[P(2)])]);
        assert_eq!(
            e.problems,
            [
                Problem::BadArea {
                    room_id: 1,
                    area: 0
                },
                Problem::BadArea {
                    room_id: 2,
                    area: -5
                }
            ]
        );
        assert_eq!(e.total_area, 0);
    }

    #[test]
    fn an_ownerless_room_stays_in_the_totals_but_nobody_casts_for_it() {
        let e = Electorate::freeze(&[room(1, 8000, &[P(1)]), room(2, 9000, &[])]);
        assert_eq!(e.total_owners, 2);
        assert_eq!(e.total_area, 17000);
        let v = e.voter("room:2").unwrap();
        assert!(!v.castable());
        assert_eq!(e.problems, [Problem::NoOwner { room_id: 2 }]);
    }

    #[test]
    fn a_duplicate_room_is_counted_once() {
        let e = Electorate::freeze(&[
            room(1, 8000, &[P(1)]),
            room(1, 8000, &[P(1)]),
            room(1, 8000, &[P(1)]),
        ]);
        assert_eq!(e.total_area, 8000);
        assert_eq!(e.problems, [Problem::DuplicateRoom { room_id: 1 }]);
    }

    #[test]
    fn the_scope_is_just_the_room_set() {
        // Two buildings; a vote scoped to building A takes only A's rooms, and the buyer who
        // also owns a flat in B counts in A only with A's room.
        let a = [room(101, 8000, &[P(1)]), room(102, 8000, &[P(2)])];
        let b = [room(201, 9000, &[P(1)])];
        let whole: Vec<RoomInput> = a.iter().chain(b.iter()).cloned().collect();
        let ea = Electorate::freeze(&a);
        assert_eq!((ea.total_area, ea.total_owners), (16000, 2));
        assert_eq!(ea.voter("p:1").unwrap().rooms, [(101, 8000)]);
        let ew = Electorate::freeze(&whole);
        assert_eq!((ew.total_area, ew.total_owners), (25000, 2));
    }

    #[test]
    fn electorate_round_trips_through_json() {
        let e = Electorate::freeze(&[
            unsold(1, 8000),
            room(2, 9000, &[P(1), Org(2)]),
            room(3, 1, &[]),
        ]);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Electorate>(&json).unwrap(), e);
        assert_eq!(
            serde_json::to_string(&P(3)).unwrap(),
            r#"{"kind":"person","id":3}"#
        );
    }

    fn rooms() -> impl Strategy<Value = Vec<RoomInput>> {
        let owner = prop_oneof![(1i64..6).prop_map(P), (1i64..3).prop_map(Org)];
        let one = (
            0i64..30,
            proptest::option::of(1i64..20_000),
            proptest::option::of(1i64..20_000),
            proptest::option::of(1i64..20_000),
            proptest::bool::weighted(0.2),
            proptest::collection::vec(owner, 0..3),
        )
            .prop_map(|(room_id, r, s, c, d, owners)| RoomInput {
                room_id,
                registered_area: r,
                surveyed_area: s,
                contract_area: c,
                developer_unsold: d,
                owners,
            });
        proptest::collection::vec(one, 0..25)
    }

    proptest! {
        #[test]
        fn freeze_does_not_depend_on_input_order(rs in rooms().prop_shuffle(), seed in any::<u64>()) {
            let mut other = rs.clone();
            // A different order, and owners listed in another order.
            let shift = if other.is_empty() { 0 } else { (seed as usize) % other.len() };
            other.rotate_left(shift);
            for r in &mut other { r.owners.reverse(); }
            prop_assert_eq!(Electorate::freeze(&rs), Electorate::freeze(&other));
        }

        #[test]
        fn totals_are_over_every_distinct_room(rs in rooms()) {
            let e = Electorate::freeze(&rs);
            let mut ids: Vec<i64> = rs.iter().map(|r| r.room_id).collect();
            ids.sort();
            ids.dedup();
            let rooms_in: usize = e.voters.iter().map(|v| v.rooms.len()).sum();
            prop_assert_eq!(rooms_in, ids.len());
            prop_assert_eq!(e.total_area, e.voters.iter().map(|v| v.area).sum::<u64>());
            prop_assert_eq!(e.total_owners as usize, e.voters.len());
            prop_assert!(e.voters.windows(2).all(|w| w[0].key < w[1].key));
            prop_assert!(e.total_owners as usize <= ids.len());
        }
    }
}
