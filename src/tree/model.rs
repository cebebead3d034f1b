//! The org tree's rules: which kinds of node exist, which may hold which, and the two
//! tracks. Pure; the store and the pages call these.

use crate::i18n::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Subdistrict,
    Community,
    Village,
    Grid,
    Building,
    Unit,
    VillageGroup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Urban,
    Rural,
}

impl Track {
    pub fn as_str(self) -> &'static str {
        match self {
            Track::Urban => "urban",
            Track::Rural => "rural",
        }
    }
    pub fn parse(s: &str) -> Option<Track> {
        match s.trim() {
            "urban" | "城市" | "城市轨道" | "社区" => Some(Track::Urban),
            "rural" | "农村" | "农村轨道" | "村" => Some(Track::Rural),
            _ => None,
        }
    }
    pub fn label(self) -> Text {
        match self {
            Track::Urban => Text::new("城市轨道", "urban track"),
            Track::Rural => Text::new("农村轨道", "rural track"),
        }
    }
}

pub const ALL_KINDS: [NodeKind; 7] = [
    NodeKind::Subdistrict,
    NodeKind::Community,
    NodeKind::Village,
    NodeKind::Grid,
    NodeKind::Building,
    NodeKind::Unit,
    NodeKind::VillageGroup,
];

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Subdistrict => "subdistrict",
            NodeKind::Community => "community",
            NodeKind::Village => "village",
            NodeKind::Grid => "grid",
            NodeKind::Building => "building",
            NodeKind::Unit => "unit",
            NodeKind::VillageGroup => "village_group",
        }
    }

    pub fn parse(s: &str) -> Option<NodeKind> {
        ALL_KINDS.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            NodeKind::Subdistrict => Text::new("街道", "subdistrict"),
            NodeKind::Community => Text::new("居民区", "community"),
            NodeKind::Village => Text::new("村", "village"),
            NodeKind::Grid => Text::new("微网格", "micro-grid"),
            NodeKind::Building => Text::new("楼栋", "building"),
            NodeKind::Unit => Text::new("单元", "stairway unit"),
            NodeKind::VillageGroup => Text::new("村民小组", "village group"),
        }
    }

    /// The kinds a node of this kind may hold.
    pub fn children(self) -> &'static [NodeKind] {
        match self {
            NodeKind::Subdistrict => &[NodeKind::Community, NodeKind::Village],
            NodeKind::Community | NodeKind::Village => &[NodeKind::Grid],
            NodeKind::Grid => &[NodeKind::Building, NodeKind::VillageGroup],
            NodeKind::Building => &[NodeKind::Unit],
            NodeKind::Unit | NodeKind::VillageGroup => &[],
        }
    }

    /// Rooms hang on buildings, their units, and village groups.
    pub fn holds_rooms(self) -> bool {
        matches!(
            self,
            NodeKind::Building | NodeKind::Unit | NodeKind::VillageGroup
        )
    }

    /// The track a node of this kind has by itself (communities urban, villages rural).
    pub fn own_track(self) -> Option<Track> {
        match self {
            NodeKind::Community => Some(Track::Urban),
            NodeKind::Village => Some(Track::Rural),
            _ => None,
        }
    }
}

/// Checks that a child of `child` kind may be created under a `parent` of kind and track.
/// Returns the child's track.
pub fn check_child(
    parent: NodeKind,
    parent_track: Option<Track>,
    child: NodeKind,
) -> Result<Option<Track>, Text> {
    if !parent.children().contains(&child) {
        return Err(Text::owned(
            format!("{}下不能建{}", parent.label().zh, child.label().zh),
            format!("a {} cannot hold a {}", parent.label().en, child.label().en),
        ));
    }
    if child == NodeKind::VillageGroup && parent_track == Some(Track::Urban) {
        return Err(Text::new(
            "城市社区的网格下不能建村民小组",
            "an urban grid cannot hold village groups",
        ));
    }
    Ok(child.own_track().or(parent_track))
}

/// The materialised path of a child: the parent's path and the child's id.
pub fn child_path(parent_path: &str, id: i64) -> String {
    format!("{parent_path}{id}/")
}

/// True when `path` lies in the subtree whose root has `root_path`.
pub fn within(path: &str, root_path: &str) -> bool {
    path.starts_with(root_path)
}

/// The ids on a path, root first.
pub fn path_ids(path: &str) -> Vec<i64> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_tracks_have_their_own_shape() {
        assert_eq!(
            check_child(NodeKind::Subdistrict, None, NodeKind::Community),
            Ok(Some(Track::Urban))
        );
        assert_eq!(
            check_child(NodeKind::Subdistrict, None, NodeKind::Village),
            Ok(Some(Track::Rural))
        );
        assert_eq!(
            check_child(NodeKind::Village, Some(Track::Rural), NodeKind::Grid),
            Ok(Some(Track::Rural))
        );
        assert_eq!(
            check_child(NodeKind::Grid, Some(Track::Rural), NodeKind::VillageGroup),
            Ok(Some(Track::Rural))
        );
        assert!(check_child(NodeKind::Grid, Some(Track::Urban), NodeKind::VillageGroup).is_err());
        assert!(check_child(NodeKind::Subdistrict, None, NodeKind::Grid).is_err());
        assert!(check_child(NodeKind::Unit, Some(Track::Urban), NodeKind::Unit).is_err());
    }

    #[test]
    fn every_kind_round_trips_its_name() {
        for k in ALL_KINDS {
            assert_eq!(NodeKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn subtrees_are_path_prefixes() {
        let grid = child_path("/1/2/", 3);
        assert_eq!(grid, "/1/2/3/");
        assert!(within("/1/2/3/9/", &grid));
        assert!(!within("/1/2/4/", &grid));
        assert!(
            !within("/1/2/33/", &grid),
            "a sibling whose id shares a prefix is outside"
        );
        assert_eq!(path_ids("/1/2/3/"), vec![1, 2, 3]);
    }
}
