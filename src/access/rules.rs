//! The one place that decides. Pure: an actor, an action and a target in, yes or no out.

use super::{Actor, Grant, Role};
use crate::pii::Field;
use crate::tree::model::within;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the tree's structure, rooms and their areas; no people.
    ReadTree,
    /// See people (masked) and households.
    ReadPeople,
    /// Open one sensitive field in full (the opening is logged).
    RevealPii(Field),
    /// Create or change nodes, rooms, people; import the registry.
    EditRegistry,
    /// Export the registry (with full personal data) or download it.
    ExportRegistry,
    /// Add users, set passwords, grant and revoke roles.
    ManageUsers,
    /// Browse the audit log.
    ReadAudit,
    /// Change the subdistrict's settings (the working-day calendar, …).
    Configure,
    /// Read a place's money accounts (the maintenance fund, the public income account) through
    /// the ordinary pages. Third parties never do: an auditor reads exactly an engagement's
    /// scope through `property::audits`, nothing through their role.
    ReadAccounts,
}

/// What an action is about.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A node, by its materialised path.
    Node { path: &'a str },
    /// A room, by its node's path.
    Room { room_id: i64, path: &'a str },
    /// A person: the paths of the places they live or own, and whether they share a
    /// household with the actor.
    Person {
        person_id: i64,
        paths: &'a [String],
        housemate_of_actor: bool,
    },
    /// The subdistrict as a whole (users, audit).
    Subdistrict,
}

/// What a role may do inside its reach.
fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match role {
        SubdistrictAdmin => true,
        SubdistrictStaff | CommunityStaff => {
            matches!(
                action,
                ReadTree | ReadPeople | RevealPii(_) | EditRegistry | ExportRegistry | ReadAccounts
            )
        }
        GridLeader | GridMember => {
            matches!(
                action,
                ReadTree
                    | ReadPeople
                    | RevealPii(Field::Phone)
                    | RevealPii(Field::Address)
                    | ReadAccounts
            )
        }
        BuildingLeader | VillageGroupLeader => {
            matches!(action, ReadTree | ReadPeople | ReadAccounts)
        }
        // The troika's other two parties keep the estate's books with the residents' committee.
        OwnersCommitteeMember | PropertyStaff => matches!(action, ReadTree | ReadAccounts),
        Auditor | Lawyer | SocialOrg | PairingUnit => matches!(action, ReadTree),
        // Residents and owners act on their own records only (see `allows`).
        Resident | Owner => false,
    }
}

fn reaches(grant: &Grant, path: &str) -> bool {
    !grant.path.is_empty() && within(path, &grant.path)
}

/// Decides whether `actor` may do `action` on `target`.
pub fn allows(actor: &Actor, action: Action, target: Target<'_>) -> bool {
    // Node-anchored roles: the grant must reach the target's place.
    let by_place = actor.grants.iter().any(|g| {
        if matches!(g.role, Role::Resident | Role::Owner) || !role_allows(g.role, action) {
            return false;
        }
        match target {
            Target::Subdistrict => g.role == Role::SubdistrictAdmin && is_root(&g.path),
            Target::Node { path } | Target::Room { path, .. } => reaches(g, path),
            Target::Person { paths, .. } => paths.iter().any(|p| reaches(g, p)),
        }
    });
    if by_place {
        return true;
    }
    // A person's own records: themselves and their household, their own rooms.
    match (action, target) {
        (
            Action::ReadPeople,
            Target::Person {
                person_id,
                housemate_of_actor,
                ..
            },
        ) => actor.person_id == Some(person_id) || housemate_of_actor,
        (Action::RevealPii(_), Target::Person { person_id, .. }) => {
            actor.person_id == Some(person_id)
        }
        (
            Action::ReadTree | Action::ReadPeople | Action::ReadAccounts,
            Target::Room { room_id, .. },
        ) => actor
            .grants
            .iter()
            .any(|g| g.role == Role::Owner && g.room_id == Some(room_id)),
        _ => false,
    }
}

/// A root path has exactly one id: `/123/`.
fn is_root(path: &str) -> bool {
    path.len() > 2 && path.matches('/').count() == 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Via;

    const ROOT: &str = "/1/";
    const COMMUNITY_A: &str = "/1/10/";
    const GRID_A: &str = "/1/10/100/";
    const GRID_B: &str = "/1/10/101/";
    const BUILDING_A: &str = "/1/10/100/1000/";
    const COMMUNITY_B: &str = "/1/11/";

    fn actor(role: Role, path: &str) -> Actor {
        Actor {
            subdistrict_id: 1,
            user_id: 5,
            username: "u".into(),
            display_name: "u".into(),
            person_id: Some(77),
            grants: vec![Grant {
                id: 1,
                role,
                node_id: Some(9),
                path: path.into(),
                room_id: None,
                org_id: None,
            }],
            via: Via::Token { token_id: 1 },
        }
    }

    fn person(paths: &[String], id: i64) -> Target<'_> {
        Target::Person {
            person_id: id,
            paths,
            housemate_of_actor: false,
        }
    }

    #[test]
    fn grid_member_reads_own_grid_not_the_next() {
        let a = actor(Role::GridMember, GRID_A);
        assert!(allows(
            &a,
            Action::ReadPeople,
            Target::Node { path: GRID_A }
        ));
        assert!(allows(
            &a,
            Action::ReadPeople,
            Target::Node { path: BUILDING_A }
        ));
        assert!(!allows(
            &a,
            Action::ReadPeople,
            Target::Node { path: GRID_B }
        ));
        assert!(!allows(
            &a,
            Action::ReadPeople,
            Target::Node { path: COMMUNITY_A }
        ));
        let in_b = vec![format!("{GRID_B}2000/")];
        assert!(!allows(&a, Action::ReadPeople, person(&in_b, 1)));
        let in_a = vec![format!("{GRID_A}2000/")];
        assert!(allows(&a, Action::ReadPeople, person(&in_a, 1)));
    }

    #[test]
    fn grid_member_may_open_phone_but_not_id_number() {
        let a = actor(Role::GridMember, GRID_A);
        let p = vec![BUILDING_A.to_string()];
        assert!(allows(&a, Action::RevealPii(Field::Phone), person(&p, 1)));
        assert!(!allows(
            &a,
            Action::RevealPii(Field::IdNumber),
            person(&p, 1)
        ));
        let c = actor(Role::CommunityStaff, COMMUNITY_A);
        assert!(allows(
            &c,
            Action::RevealPii(Field::IdNumber),
            person(&p, 1)
        ));
        let other = actor(Role::CommunityStaff, COMMUNITY_B);
        assert!(!allows(
            &other,
            Action::RevealPii(Field::Phone),
            person(&p, 1)
        ));
    }

    #[test]
    fn resident_sees_only_their_own_data() {
        let mut a = actor(Role::Resident, "");
        a.grants[0].node_id = None;
        let p = vec![BUILDING_A.to_string()];
        assert!(allows(&a, Action::ReadPeople, person(&p, 77)));
        assert!(allows(
            &a,
            Action::RevealPii(Field::IdNumber),
            person(&p, 77)
        ));
        assert!(!allows(&a, Action::ReadPeople, person(&p, 78)));
        let housemate = Target::Person {
            person_id: 78,
            paths: &p,
            housemate_of_actor: true,
        };
        assert!(allows(&a, Action::ReadPeople, housemate));
        assert!(!allows(&a, Action::RevealPii(Field::Phone), housemate));
        assert!(!allows(
            &a,
            Action::ReadTree,
            Target::Node { path: BUILDING_A }
        ));
        assert!(!allows(
            &a,
            Action::ReadPeople,
            Target::Node { path: BUILDING_A }
        ));
    }

    #[test]
    fn owner_reads_own_room_only() {
        let mut a = actor(Role::Owner, BUILDING_A);
        a.grants[0].room_id = Some(42);
        assert!(allows(
            &a,
            Action::ReadTree,
            Target::Room {
                room_id: 42,
                path: BUILDING_A
            }
        ));
        assert!(!allows(
            &a,
            Action::ReadTree,
            Target::Room {
                room_id: 43,
                path: BUILDING_A
            }
        ));
        assert!(!allows(
            &a,
            Action::ReadTree,
            Target::Node { path: BUILDING_A }
        ));
    }

    #[test]
    fn auditors_see_the_tree_but_no_people() {
        let a = actor(Role::Auditor, COMMUNITY_A);
        assert!(allows(&a, Action::ReadTree, Target::Node { path: GRID_A }));
        assert!(!allows(
            &a,
            Action::ReadPeople,
            Target::Node { path: GRID_A }
        ));
        let p = vec![BUILDING_A.to_string()];
        assert!(!allows(&a, Action::ReadPeople, person(&p, 1)));
    }

    #[test]
    fn third_parties_never_read_accounts_through_their_role() {
        for role in crate::access::roles::ALL {
            let a = actor(role, ROOT);
            let third = matches!(
                role,
                Role::Auditor | Role::Lawyer | Role::SocialOrg | Role::PairingUnit
            );
            let own = matches!(role, Role::Resident | Role::Owner);
            assert_eq!(
                allows(&a, Action::ReadAccounts, Target::Node { path: BUILDING_A }),
                !third && !own,
                "{role:?}"
            );
        }
    }

    #[test]
    fn only_the_admin_manages_users_and_reads_the_audit_log() {
        for role in crate::access::roles::ALL {
            let a = actor(role, ROOT);
            let expected = role == Role::SubdistrictAdmin;
            assert_eq!(
                allows(&a, Action::ManageUsers, Target::Subdistrict),
                expected,
                "{role:?}"
            );
            assert_eq!(
                allows(&a, Action::Configure, Target::Subdistrict),
                expected,
                "{role:?}"
            );
            assert_eq!(
                allows(&a, Action::ReadAudit, Target::Subdistrict),
                expected,
                "{role:?}"
            );
        }
        // An admin grant below the root does not make a subdistrict admin.
        let a = actor(Role::SubdistrictAdmin, COMMUNITY_A);
        assert!(!allows(&a, Action::ManageUsers, Target::Subdistrict));
    }

    #[test]
    fn staff_write_only_inside_their_reach() {
        let c = actor(Role::CommunityStaff, COMMUNITY_A);
        assert!(allows(
            &c,
            Action::EditRegistry,
            Target::Node { path: GRID_A }
        ));
        assert!(!allows(
            &c,
            Action::EditRegistry,
            Target::Node { path: COMMUNITY_B }
        ));
        assert!(!allows(
            &c,
            Action::EditRegistry,
            Target::Node { path: ROOT }
        ));
        let g = actor(Role::GridLeader, GRID_A);
        assert!(!allows(
            &g,
            Action::EditRegistry,
            Target::Node { path: GRID_A }
        ));
    }

    #[test]
    fn no_grants_no_access() {
        let mut a = actor(Role::GridMember, GRID_A);
        a.grants.clear();
        a.person_id = None;
        for action in [
            Action::ReadTree,
            Action::ReadPeople,
            Action::EditRegistry,
            Action::ReadAudit,
        ] {
            assert!(!allows(&a, action, Target::Node { path: GRID_A }));
        }
    }
}
