//! Which webhooks a notice goes to, pure. A webhook is subscribed to a node (and so to its
//! whole subtree: the node's path is a prefix of the unit's) or to one organisation, and to
//! a list of notice kinds (empty = every kind; `case.*` = every kind starting `case.`).

use crate::i18n::Text;
use crate::tree::model::within;

/// Where a webhook listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription<'a> {
    /// The path of the subscribed node, when subscribed to a node.
    pub node_path: Option<&'a str>,
    pub org_id: Option<i64>,
    pub kinds: &'a [String],
}

/// The unit a notice is about: a node (by its path) or an organisation (by its id, and the
/// path of the node it hangs on, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit<'a> {
    pub path: Option<&'a str>,
    pub org_id: Option<i64>,
}

/// Whether one kind pattern takes `kind`.
pub fn kind_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

/// Whether a webhook subscribed as `sub` gets a notice of `kind` about `unit`.
pub fn wants(sub: &Subscription<'_>, unit: &Unit<'_>, kind: &str) -> bool {
    let kind_ok = sub.kinds.is_empty() || sub.kinds.iter().any(|p| kind_matches(p, kind));
    let place_ok = match (sub.node_path, unit.path) {
        (Some(np), Some(up)) if !np.is_empty() => within(up, np),
        _ => false,
    } || (sub.org_id.is_some() && sub.org_id == unit.org_id);
    kind_ok && place_ok
}

/// The longest list of kinds a webhook may have.
pub const MAX_KINDS: usize = 30;

/// Reads a list of kinds (separated by commas, spaces or new lines): each made of lower-case
/// letters, digits, `.` and `_`, optionally ending in `*`. Sorted, without repeats.
pub fn parse_kinds(text: &str) -> Result<Vec<String>, Text> {
    let mut out: Vec<String> = Vec::new();
    for k in text
        .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|k| !k.is_empty())
    {
        let body = k.strip_suffix('*').unwrap_or(k);
        let ok = k.len() <= 60
            && !body.contains('*')
            && body
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
        if !ok {
            return Err(Text::owned(
                format!("「{k}」不是有效的通知类型(小写字母、数字、点和下划线,可以 * 结尾)"),
                format!("\"{k}\" is not a notice kind (lower-case letters, digits, dots and underscores, optionally ending in *)"),
            ));
        }
        if !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    if out.len() > MAX_KINDS {
        return Err(Text::new("通知类型最多 30 个", "at most 30 notice kinds"));
    }
    out.sort();
    Ok(out)
}

/// The stored form of a list of kinds.
pub fn join_kinds(kinds: &[String]) -> String {
    kinds.join(",")
}

/// Reads the stored form back (it was checked when written).
pub fn split_kinds(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "/1/";
    const COMMUNITY: &str = "/1/10/";
    const GRID: &str = "/1/10/100/";
    const OTHER_GRID: &str = "/1/10/1001/";

    fn sub<'a>(path: Option<&'a str>, org: Option<i64>, kinds: &'a [String]) -> Subscription<'a> {
        Subscription {
            node_path: path,
            org_id: org,
            kinds,
        }
    }

    fn node(path: &str) -> Unit<'_> {
        Unit {
            path: Some(path),
            org_id: None,
        }
    }

    #[test]
    fn a_node_subscription_reaches_its_subtree_only() {
        let all: Vec<String> = vec![];
        let s = sub(Some(COMMUNITY), None, &all);
        assert!(wants(&s, &node(COMMUNITY), "case.dispatched"));
        assert!(wants(&s, &node(GRID), "case.dispatched"));
        assert!(!wants(&s, &node(ROOT), "case.dispatched"));
        assert!(!wants(&s, &node("/1/11/"), "case.dispatched"));
        let g = sub(Some(GRID), None, &all);
        assert!(
            !wants(&g, &node(OTHER_GRID), "x"),
            "a sibling sharing an id prefix is outside"
        );
        let r = sub(Some(ROOT), None, &all);
        assert!(wants(&r, &node(OTHER_GRID), "x"));
    }

    #[test]
    fn an_org_subscription_takes_that_org_only() {
        let all: Vec<String> = vec![];
        let s = sub(None, Some(7), &all);
        let org = |id, path| Unit {
            path,
            org_id: Some(id),
        };
        assert!(wants(&s, &org(7, None), "k"));
        assert!(wants(&s, &org(7, Some(GRID)), "k"));
        assert!(!wants(&s, &org(8, Some(GRID)), "k"));
        assert!(!wants(&s, &node(GRID), "k"));
        // A node subscription takes organisations hanging in its subtree.
        let n = sub(Some(COMMUNITY), None, &all);
        assert!(wants(&n, &org(8, Some(GRID)), "k"));
        assert!(!wants(&n, &org(8, None), "k"));
    }

    #[test]
    fn a_subscription_to_nothing_takes_nothing() {
        let all: Vec<String> = vec![];
        let s = sub(None, None, &all);
        assert!(!wants(&s, &node(GRID), "k"));
        assert!(!wants(
            &s,
            &Unit {
                path: None,
                org_id: None
            },
            "k"
        ));
        let e = sub(Some(""), None, &all);
        assert!(!wants(&e, &node(GRID), "k"));
    }

    #[test]
    fn kinds_filter_exactly_or_by_prefix() {
        let kinds = vec!["case.overdue".to_string(), "case.esc*".to_string()];
        let s = sub(Some(ROOT), None, &kinds);
        assert!(wants(&s, &node(GRID), "case.overdue"));
        assert!(wants(&s, &node(GRID), "case.escalated"));
        assert!(!wants(&s, &node(GRID), "case.dispatched"));
        assert!(!wants(&s, &node(GRID), "case.overdue_soon"));
        assert!(kind_matches("*", "anything"));
        assert!(kind_matches("case.*", "case.x"));
        assert!(!kind_matches("case.*", "cases"));
    }

    #[test]
    fn kinds_are_parsed_sorted_and_deduplicated() {
        assert_eq!(parse_kinds("").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_kinds("case.overdue, case.dispatched,case.overdue\ncase.*").unwrap(),
            vec!["case.*", "case.dispatched", "case.overdue"]
        );
        assert_eq!(
            parse_kinds("case.due_soon，case.escalated").unwrap().len(),
            2
        );
        for bad in ["Case.X", "case.*.x", "ca*se", "案件", "a-b", "**"] {
            assert!(parse_kinds(bad).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..31).map(|i| format!("k{i}")).collect();
        assert!(parse_kinds(&many.join(",")).is_err());
        let kinds = parse_kinds("b,a").unwrap();
        assert_eq!(split_kinds(&join_kinds(&kinds)), kinds);
        assert!(split_kinds("").is_empty());
    }
}
