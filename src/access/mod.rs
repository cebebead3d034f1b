//! Who may do what, where. Every read and write asks [`rules::allows`]; nothing else
//! decides. Roles are granted at a node and reach its subtree (or at a room or an
//! organisation); an [`Actor`] carries the grants of the user behind a request.

pub mod api;
pub mod roles;
pub mod rules;
pub mod store;
pub mod web;

pub use roles::Role;
pub use rules::{allows, Action, Target};

/// One role held by a user, with the place it reaches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    pub id: i64,
    pub role: Role,
    /// The node the grant was made at (for room grants: the room's node).
    pub node_id: Option<i64>,
    /// The materialised path of that node: the grant reaches every path it prefixes.
    pub path: String,
    pub room_id: Option<i64>,
    pub org_id: Option<i64>,
}

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session; state-changing requests must carry this CSRF token.
    Session { csrf: String },
    /// An API token (`Authorization: Bearer`).
    Token { token_id: i64 },
    /// The command line, run by whoever can open the database.
    Cli,
}

/// The user behind a request, and everything the rules need to know about them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub subdistrict_id: i64,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    pub grants: Vec<Grant>,
    pub via: Via,
}

impl Actor {
    /// The label written into the audit log.
    pub fn label(&self) -> String {
        match self.via {
            Via::Cli => format!("cli:{}", self.username),
            _ => self.username.clone(),
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// The command line acts with full rights in one subdistrict.
    pub fn cli(subdistrict_id: i64, root_path: &str) -> Actor {
        Actor {
            subdistrict_id,
            user_id: 0,
            username: whoami(),
            display_name: "command line".into(),
            person_id: None,
            grants: vec![Grant {
                id: 0,
                role: Role::SubdistrictAdmin,
                node_id: None,
                path: root_path.to_string(),
                room_id: None,
                org_id: None,
            }],
            via: Via::Cli,
        }
    }
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "root".into())
}
