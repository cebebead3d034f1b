//! The roles of the model and where each may be granted.

use crate::i18n::Text;
use crate::tree::model::NodeKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SubdistrictAdmin,
    SubdistrictStaff,
    CommunityStaff,
    GridLeader,
    GridMember,
    BuildingLeader,
    VillageGroupLeader,
    Resident,
    Owner,
    OwnersCommitteeMember,
    PropertyStaff,
    Auditor,
    Lawyer,
    SocialOrg,
    PairingUnit,
}

pub const ALL: [Role; 15] = [
    Role::SubdistrictAdmin,
    Role::SubdistrictStaff,
    Role::CommunityStaff,
    Role::GridLeader,
    Role::GridMember,
    Role::BuildingLeader,
    Role::VillageGroupLeader,
    Role::Resident,
    Role::Owner,
    Role::OwnersCommitteeMember,
    Role::PropertyStaff,
    Role::Auditor,
    Role::Lawyer,
    Role::SocialOrg,
    Role::PairingUnit,
];

/// Where a role is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// At a node of one of these kinds (empty: any node).
    Node(&'static [NodeKind]),
    /// At a room (owners).
    Room,
    /// To the user's own person and household (residents).
    Person,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SubdistrictAdmin => "subdistrict_admin",
            Role::SubdistrictStaff => "subdistrict_staff",
            Role::CommunityStaff => "community_staff",
            Role::GridLeader => "grid_leader",
            Role::GridMember => "grid_member",
            Role::BuildingLeader => "building_leader",
            Role::VillageGroupLeader => "village_group_leader",
            Role::Resident => "resident",
            Role::Owner => "owner",
            Role::OwnersCommitteeMember => "owners_committee_member",
            Role::PropertyStaff => "property_staff",
            Role::Auditor => "auditor",
            Role::Lawyer => "lawyer",
            Role::SocialOrg => "social_org",
            Role::PairingUnit => "pairing_unit",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            Role::SubdistrictAdmin => Text::new("街道管理员", "subdistrict admin"),
            Role::SubdistrictStaff => Text::new("街道工作人员", "subdistrict staff"),
            Role::CommunityStaff => Text::new("村居工作人员", "community / village staff"),
            Role::GridLeader => Text::new("网格长", "grid leader"),
            Role::GridMember => Text::new("网格员", "grid member"),
            Role::BuildingLeader => Text::new("楼长", "building leader"),
            Role::VillageGroupLeader => Text::new("村民小组长", "village group leader"),
            Role::Resident => Text::new("居民", "resident"),
            Role::Owner => Text::new("业主", "owner"),
            Role::OwnersCommitteeMember => Text::new("业委会成员", "owners' committee member"),
            Role::PropertyStaff => Text::new("物业人员", "property company staff"),
            Role::Auditor => Text::new("审计人员", "auditor"),
            Role::Lawyer => Text::new("律师", "lawyer"),
            Role::SocialOrg => Text::new("社会组织", "social organisation"),
            Role::PairingUnit => Text::new("结对单位", "pairing unit"),
        }
    }

    pub fn anchor(self) -> Anchor {
        use NodeKind::*;
        match self {
            Role::SubdistrictAdmin | Role::SubdistrictStaff => Anchor::Node(&[Subdistrict]),
            Role::CommunityStaff => Anchor::Node(&[Community, Village]),
            Role::GridLeader | Role::GridMember => Anchor::Node(&[Grid]),
            Role::BuildingLeader => Anchor::Node(&[Building, Unit]),
            Role::VillageGroupLeader => Anchor::Node(&[VillageGroup]),
            Role::Resident => Anchor::Person,
            Role::Owner => Anchor::Room,
            Role::OwnersCommitteeMember | Role::PropertyStaff => {
                Anchor::Node(&[Community, Grid, Building])
            }
            Role::Auditor | Role::Lawyer | Role::SocialOrg | Role::PairingUnit => Anchor::Node(&[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
