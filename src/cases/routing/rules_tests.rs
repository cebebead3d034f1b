use super::*;

/// 1 subdistrict › 10 community › 100 grid › 1000 building; 20 village › 200 grid › 2000 group.
fn node(id: i64, kind: NodeKind, name: &str, path: &str) -> PlaceNode {
    PlaceNode {
        id,
        kind,
        name: name.into(),
        path: path.into(),
    }
}

fn urban() -> Vec<PlaceNode> {
    vec![
        node(1, NodeKind::Subdistrict, "夏阳街道", "/1/"),
        node(10, NodeKind::Community, "章浜居民区", "/1/10/"),
        node(100, NodeKind::Grid, "章浜一网格", "/1/10/100/"),
        node(1000, NodeKind::Building, "311号", "/1/10/100/1000/"),
    ]
}

fn rural() -> Vec<PlaceNode> {
    vec![
        node(1, NodeKind::Subdistrict, "夏阳街道", "/1/"),
        node(20, NodeKind::Village, "金米村", "/1/20/"),
        node(200, NodeKind::Grid, "金米一网格", "/1/20/200/"),
        node(
            2000,
            NodeKind::VillageGroup,
            "第一村民小组",
            "/1/20/200/2000/",
        ),
    ]
}

fn org(id: i64, kind: &str, name: &str, node_id: Option<i64>) -> OrgUnit {
    OrgUnit {
        id,
        kind: kind.into(),
        name: name.into(),
        node_id,
    }
}

fn unit(id: i64, kind: &str, name: &str) -> Unit {
    Unit {
        id,
        kind: kind.into(),
        name: name.into(),
    }
}

fn rule(id: i64, prefix: &str, path: Option<&str>, unit_id: i64, priority: i64) -> Rule {
    Rule {
        id,
        category_prefix: prefix.into(),
        node_path: path.map(str::to_string),
        unit: unit(unit_id, "grid", &format!("u{unit_id}")),
        priority,
    }
}

fn unit_of(
    category: &str,
    owner: OwnerUnit,
    place: &[PlaceNode],
    orgs: &[OrgUnit],
    rules: &[Rule],
) -> i64 {
    route(category, owner, place, orgs, rules)
        .expect("a route")
        .unit
        .id
}

#[test]
fn category_prefix_covers_at_a_dot_boundary() {
    assert!(category_covers("", "lift.fault"));
    assert!(category_covers("lift", "lift"));
    assert!(category_covers("lift", "lift.fault"));
    assert!(category_covers("lift.fault", "lift.fault"));
    assert!(!category_covers("lift", "lifter"));
    assert!(!category_covers("lift.fault", "lift"));
    assert!(!category_covers("lift.f", "lift.fault"));
    assert!(!category_covers("env", "lift.fault"));
}

#[test]
fn defaults_by_owning_unit_type() {
    let orgs = vec![
        org(501, PROPERTY_COMPANY, "绿城物业", Some(100)),
        org(502, PAIRING_UNIT, "区税务局", Some(10)),
    ];
    let p = urban();
    assert_eq!(unit_of("env.garbage", OwnerUnit::Grid, &p, &orgs, &[]), 100);
    assert_eq!(
        unit_of("neighbour.noise", OwnerUnit::Committee, &p, &orgs, &[]),
        10
    );
    assert_eq!(
        unit_of("property.leak", OwnerUnit::PropertyCompany, &p, &orgs, &[]),
        501
    );
    assert_eq!(
        unit_of(
            "facilities.road",
            OwnerUnit::SubdistrictOffice,
            &p,
            &orgs,
            &[]
        ),
        1
    );
    assert_eq!(
        unit_of("policy.jobs", OwnerUnit::PairingUnit, &p, &orgs, &[]),
        502
    );
    let r = rural();
    assert_eq!(
        unit_of("rural.garbage", OwnerUnit::Committee, &r, &[], &[]),
        20
    );
    assert_eq!(unit_of("safety.gas", OwnerUnit::Grid, &r, &[], &[]), 200);
    assert_eq!(
        unit_of(
            "facilities.road",
            OwnerUnit::SubdistrictOffice,
            &r,
            &[],
            &[]
        ),
        1
    );
}

#[test]
fn every_default_says_why() {
    let orgs = vec![org(501, PROPERTY_COMPANY, "绿城物业", Some(100))];
    for owner in [
        OwnerUnit::Grid,
        OwnerUnit::Committee,
        OwnerUnit::PropertyCompany,
        OwnerUnit::SubdistrictOffice,
        OwnerUnit::PairingUnit,
    ] {
        for place in [urban(), rural()] {
            let r = route("x.y", owner, &place, &orgs, &[]).unwrap();
            assert!(
                !r.reason.zh.is_empty() && !r.reason.en.is_empty(),
                "{owner:?}"
            );
            assert_eq!(r.rule_id, None);
        }
    }
    let r = route(
        "property.leak",
        OwnerUnit::PropertyCompany,
        &urban(),
        &orgs,
        &[],
    )
    .unwrap();
    assert!(r.reason.zh.contains("绿城物业"), "{}", r.reason.zh);
    assert!(r.reason.en.contains("serves 章浜一网格"), "{}", r.reason.en);
}

#[test]
fn property_company_of_the_nearest_ancestor_wins() {
    let orgs = vec![
        org(501, PROPERTY_COMPANY, "社区物业", Some(10)),
        org(502, PROPERTY_COMPANY, "楼栋物业", Some(1000)),
        org(503, PROPERTY_COMPANY, "别处物业", Some(999)),
    ];
    assert_eq!(
        unit_of(
            "property.leak",
            OwnerUnit::PropertyCompany,
            &urban(),
            &orgs,
            &[]
        ),
        502
    );
    // At the grid, the building's company does not serve: the community's does.
    let at_grid = &urban()[..3];
    assert_eq!(
        unit_of(
            "property.leak",
            OwnerUnit::PropertyCompany,
            at_grid,
            &orgs,
            &[]
        ),
        501
    );
    // Two at one node: by name.
    let orgs = vec![
        org(601, PROPERTY_COMPANY, "乙物业", Some(100)),
        org(602, PROPERTY_COMPANY, "甲物业", Some(100)),
    ];
    let name = route(
        "property.leak",
        OwnerUnit::PropertyCompany,
        &urban(),
        &orgs,
        &[],
    )
    .unwrap()
    .unit
    .name;
    // 乙 (U+4E59) sorts before 甲 (U+7532).
    assert_eq!(name, "乙物业");
}

#[test]
fn missing_organisations_fall_back_to_the_committee() {
    // Only a developer and an unrelated kind hang on the place.
    let orgs = vec![
        org(501, "developer", "开发商", Some(1000)),
        org(502, PAIRING_UNIT, "结对单位", Some(999)),
    ];
    let r = route(
        "property.leak",
        OwnerUnit::PropertyCompany,
        &urban(),
        &orgs,
        &[],
    )
    .unwrap();
    assert_eq!(r.unit.id, 10);
    assert!(
        r.reason
            .en
            .starts_with("no property company serves the place"),
        "{}",
        r.reason.en
    );
    let r = route("policy.jobs", OwnerUnit::PairingUnit, &rural(), &orgs, &[]).unwrap();
    assert_eq!(r.unit.id, 20);
    // A place with no community (a grid straight under the subdistrict): the subdistrict.
    let odd = vec![
        node(1, NodeKind::Subdistrict, "夏阳街道", "/1/"),
        node(300, NodeKind::Building, "孤楼", "/1/300/"),
    ];
    assert_eq!(
        unit_of("property.leak", OwnerUnit::PropertyCompany, &odd, &[], &[]),
        1
    );
    assert_eq!(unit_of("env.garbage", OwnerUnit::Grid, &odd, &[], &[]), 1);
    assert_eq!(
        unit_of("neighbour.noise", OwnerUnit::Committee, &odd, &[], &[]),
        1
    );
    assert!(route("x", OwnerUnit::Grid, &[], &[], &[]).is_none());
}

#[test]
fn a_rule_beats_the_default() {
    let rules = vec![rule(7, "lift", None, 777, 0)];
    let r = route(
        "lift.fault",
        OwnerUnit::PropertyCompany,
        &urban(),
        &[],
        &rules,
    )
    .unwrap();
    assert_eq!(r.unit.id, 777);
    assert_eq!(r.rule_id, Some(7));
    assert!(r.reason.zh.contains("#7"), "{}", r.reason.zh);
    // Not for another category.
    assert_eq!(
        unit_of("env.garbage", OwnerUnit::Grid, &urban(), &[], &rules),
        100
    );
}

#[test]
fn rules_apply_only_inside_their_place() {
    let rules = vec![rule(7, "lift", Some("/1/10/"), 777, 0)];
    assert_eq!(
        unit_of("lift.fault", OwnerUnit::Committee, &urban(), &[], &rules),
        777
    );
    assert_eq!(
        unit_of("lift.fault", OwnerUnit::Committee, &rural(), &[], &rules),
        20
    );
    // A sibling whose path shares a textual prefix is not inside.
    let rules = vec![rule(8, "", Some("/1/1/"), 888, 0)];
    let place = vec![
        node(1, NodeKind::Subdistrict, "s", "/1/"),
        node(10, NodeKind::Community, "c", "/1/10/"),
        node(100, NodeKind::Grid, "g", "/1/10/100/"),
    ];
    assert_eq!(
        unit_of("env.garbage", OwnerUnit::Grid, &place, &[], &rules),
        100
    );
}

#[test]
fn the_most_specific_rule_wins() {
    let rules = vec![
        rule(1, "", None, 901, 100),
        rule(2, "lift", None, 902, 0),
        rule(3, "lift", Some("/1/10/"), 903, 0),
        rule(4, "lift.trapped", None, 904, 0),
        rule(5, "lift", Some("/1/10/100/"), 905, -5),
    ];
    let p = urban();
    // More category segments beat a deeper place.
    assert_eq!(
        unit_of("lift.trapped", OwnerUnit::Grid, &p, &[], &rules),
        904
    );
    // Same category depth: the deepest place.
    assert_eq!(unit_of("lift.fault", OwnerUnit::Grid, &p, &[], &rules), 905);
    // In the village only the place-less ones apply.
    assert_eq!(
        unit_of("lift.fault", OwnerUnit::Grid, &rural(), &[], &rules),
        902
    );
    // The catch-all applies to everything else, whatever its priority says.
    assert_eq!(
        unit_of("env.garbage", OwnerUnit::Grid, &p, &[], &rules),
        901
    );
}

#[test]
fn priority_then_age_break_ties() {
    let rules = vec![
        rule(1, "env", None, 901, 0),
        rule(2, "env", None, 902, 5),
        rule(3, "env", None, 903, 5),
    ];
    assert_eq!(
        unit_of("env.garbage", OwnerUnit::Grid, &urban(), &[], &rules),
        902
    );
    let rules = vec![rule(9, "env", None, 909, 0), rule(4, "env", None, 904, 0)];
    assert_eq!(
        unit_of("env.garbage", OwnerUnit::Grid, &urban(), &[], &rules),
        904
    );
    assert_eq!(best_rule(&rules, "lift.fault", "/1/"), None);
}

#[test]
fn choices_put_the_suggestion_first_and_list_each_unit_once() {
    let p = urban();
    let grids = vec![unit(100, "grid", "一网格"), unit(101, "grid", "二网格")];
    let orgs = vec![
        org(501, PROPERTY_COMPANY, "绿城物业", Some(100)),
        org(502, "developer", "开发商", Some(10)),
        org(503, PAIRING_UNIT, "区税务局", Some(10)),
    ];
    let suggested = unit(501, PROPERTY_COMPANY, "绿城物业");
    let c = choices(Some(&suggested), &p, &grids, &orgs);
    let ids: Vec<i64> = c.iter().map(|c| c.unit.id).collect();
    assert_eq!(ids, vec![501, 100, 101, 10, 503, 1]);
    assert!(c[0].suggested);
    assert!(c[1..].iter().all(|c| !c.suggested));
    // Without a suggestion, the subdistrict still comes last.
    let c = choices(None, &rural(), &[], &[]);
    let ids: Vec<i64> = c.iter().map(|c| c.unit.id).collect();
    assert_eq!(ids, vec![20, 1]);
}

#[test]
fn escalation_goes_up_the_tree_once_per_level() {
    let p = urban();
    // A grid's case: community, then subdistrict.
    assert_eq!(escalation_target(&p, Some(100), 1), Some(10));
    assert_eq!(escalation_target(&p, Some(100), 2), Some(1));
    // A property company's case: the same.
    assert_eq!(escalation_target(&p, Some(501), 1), Some(10));
    // The committee's own case goes straight to the subdistrict.
    assert_eq!(escalation_target(&p, Some(10), 1), Some(1));
    assert_eq!(escalation_target(&p, Some(10), 2), Some(1));
    // The subdistrict's own case has nowhere further.
    assert_eq!(escalation_target(&p, Some(1), 1), None);
    assert_eq!(escalation_target(&p, Some(1), 2), None);
    assert_eq!(escalation_target(&p, Some(100), 0), None);
    assert_eq!(escalation_target(&rural(), Some(200), 1), Some(20));
    assert_eq!(escalation_target(&[], Some(200), 1), None);
}

#[test]
fn unit_kinds_have_labels() {
    for k in ORG_KINDS
        .iter()
        .chain(["grid", "community", "village", "subdistrict"].iter())
    {
        assert_ne!(kind_label(k).en, "unit", "{k}");
    }
    assert!(node_is_unit(NodeKind::Grid));
    assert!(node_is_unit(NodeKind::Subdistrict));
    assert!(!node_is_unit(NodeKind::Building));
    assert!(!node_is_unit(NodeKind::VillageGroup));
}
