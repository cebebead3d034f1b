//! The shapes shared by the voting rules, the ballot box and the export: what is voted on,
//! who may vote, and what a ballot says. No I/O.

use serde::{Deserialize, Serialize};

/// The nine matters owners decide jointly (Civil Code art. 278, items 1–9). The matter
/// picks the default thresholds (see `rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matter {
    /// (1) the rules of procedure of the owners' assembly
    RulesOfProcedure,
    /// (2) the management covenant
    ManagementCovenant,
    /// (3) electing or replacing the owners' committee or its members
    OwnersCommittee,
    /// (4) hiring or dismissing the property company or other managers
    PropertyCompany,
    /// (5) using the maintenance fund
    UseFund,
    /// (6) raising the maintenance fund
    RaiseFund,
    /// (7) rebuilding or reconstructing the building or its facilities
    Rebuild,
    /// (8) changing the use of common parts or running a business on them
    ChangeUse,
    /// (9) other major matters concerning common ownership and joint management
    OtherMajor,
}

impl Matter {
    pub const ALL: [Matter; 9] = [
        Matter::RulesOfProcedure,
        Matter::ManagementCovenant,
        Matter::OwnersCommittee,
        Matter::PropertyCompany,
        Matter::UseFund,
        Matter::RaiseFund,
        Matter::Rebuild,
        Matter::ChangeUse,
        Matter::OtherMajor,
    ];
}

/// What a ballot chooses.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Choice {
    /// A yes / no / abstain matter.
    Yes,
    No,
    Abstain,
    /// An election: the candidates (by their number in the vote, from 1) this ballot
    /// supports, at most as many as there are seats; empty is a blank ballot (it takes part).
    Candidates {
        ids: Vec<u32>,
    },
    /// A choice among options (e.g. property companies), by their number from 1;
    /// `None` abstains.
    Option {
        id: Option<u32>,
    },
}
