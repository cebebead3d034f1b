use super::*;
use proptest::prelude::*;

fn tree() -> CategoryTree {
    CategoryTree::seeded()
}

fn root(code: &str) -> Category {
    Category {
        code: code.to_string(),
        name_zh: "测试".into(),
        name_en: "Test".into(),
        parent: None,
        owner: Some(OwnerUnit::Committee),
        deadlines: Some(DeadlineProfile::STANDARD),
        anonymous_allowed: Some(true),
        urgent: None,
        keywords: vec![],
        fields: vec![],
        retired: false,
    }
}

fn child(code: &str, parent: &str) -> Category {
    Category {
        parent: Some(parent.to_string()),
        owner: None,
        deadlines: None,
        anonymous_allowed: None,
        urgent: None,
        ..root(code)
    }
}

fn field(code: &str, datatype: Datatype) -> Field {
    Field {
        code: code.to_string(),
        variable: true,
        datatype,
        required: false,
        description_zh: "问题".into(),
        description_en: "Question".into(),
        datatype_description_zh: None,
        datatype_description_en: None,
        order: 1,
        values: if datatype.is_list() {
            ["a", "b", "c"]
                .iter()
                .map(|k| FieldValue {
                    key: k.to_string(),
                    name_zh: format!("选项{k}"),
                    name_en: format!("Choice {k}"),
                })
                .collect()
        } else {
            vec![]
        },
    }
}

fn errors_of(t: &CategoryTree) -> Vec<String> {
    match t.validate() {
        Ok(()) => vec![],
        Err(e) => e.into_iter().map(|e| e.field).collect(),
    }
}

fn submit(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

// ── The seed ────────────────────────────────────────────────────────────────────────

#[test]
fn seeded_tree_is_valid() {
    let t = tree();
    assert_eq!(t.validate(), Ok(()));
    assert!(t.categories.len() >= 40);
}

#[test]
fn seeded_tree_has_the_issue_roots_and_children() {
    let t = tree();
    let roots: Vec<&str> = t.roots().map(|c| c.code.as_str()).collect();
    assert_eq!(
        roots,
        [
            "env",
            "property",
            "neighbour",
            "lift",
            "facilities",
            "safety",
            "parking",
            "policy",
            "rural"
        ]
    );
    for r in &roots {
        assert!(t.children(r).count() >= 3, "{r} has children");
    }
    for name in [
        "垃圾清运",
        "绿化养护",
        "电梯故障",
        "消防通道占用",
        "噪音扰民",
        "路灯损坏",
        "井盖缺失",
    ] {
        assert!(t.categories.iter().any(|c| c.name_zh == name), "{name}");
    }
    // Every category resolves.
    for c in &t.categories {
        assert!(t.resolve(&c.code).is_some(), "{}", c.code);
    }
}

#[test]
fn seeded_deadlines_follow_the_domain_rule() {
    let t = tree();
    let r = t.resolve("env.garbage").unwrap();
    assert_eq!(r.deadlines, DeadlineProfile::STANDARD);
    assert_eq!(r.deadlines.first_contact, Period::WorkingDays(1));
    assert_eq!(r.deadlines.handling, Period::WorkingDays(5));
    assert_eq!(r.deadlines.rehandling, Period::WorkingDays(3));
    assert_eq!(r.deadlines.day_end, DayEnd::Midnight);
    assert_eq!(r.owner, OwnerUnit::Committee);
    assert!(r.anonymous_allowed);
    assert!(!r.urgent);

    // Safety hazards: the calculator's urgent hours, re-handled within 12 rather than 24.
    let s = t.resolve("safety.fire_lane").unwrap();
    assert_eq!(
        s.deadlines,
        DeadlineProfile {
            rehandling: Period::Hours(12),
            ..DeadlineProfile::URGENT
        }
    );
    assert!(s.urgent);
    assert_eq!(s.owner, OwnerUnit::PropertyCompany);
    for c in t.categories.iter().filter(|c| c.code.starts_with("safety")) {
        let r = t.resolve(&c.code).unwrap();
        assert!(r.urgent, "{}", c.code);
        assert!(named_periods(&r.deadlines)
            .iter()
            .all(|(_, p)| matches!(p, Period::Hours(_))));
    }
    // Every urgent category counts in hours; every other one in working days.
    for c in &t.categories {
        let r = t.resolve(&c.code).unwrap();
        let hours = named_periods(&r.deadlines)
            .iter()
            .all(|(_, p)| matches!(p, Period::Hours(_)));
        assert_eq!(r.urgent, hours, "{}", c.code);
    }

    let p = t.resolve("policy.insurance").unwrap();
    assert_eq!(p.deadlines, DeadlineProfile::CONSULTATION);
    assert_eq!(p.deadlines.handling, Period::WorkingDays(1));
    assert!(!p.anonymous_allowed);
    assert_eq!(
        t.resolve("policy.jobs").unwrap().owner,
        OwnerUnit::PairingUnit
    );

    // Children override their parents where they must.
    assert!(t.resolve("lift.trapped").unwrap().urgent);
    assert!(!t.resolve("lift.fault").unwrap().urgent);
    assert!(t.resolve("facilities.manhole").unwrap().urgent);
    assert!(t.resolve("neighbour.noise").unwrap().anonymous_allowed);
    assert!(!t.resolve("neighbour.pets").unwrap().anonymous_allowed);
    assert_eq!(
        t.resolve("env.greenery").unwrap().owner,
        OwnerUnit::PropertyCompany
    );
    assert_eq!(
        t.resolve("rural.waterway").unwrap().owner,
        OwnerUnit::Committee
    );
    assert_eq!(t.resolve("nope"), None);
}

#[test]
fn tree_round_trips_through_json() {
    let t = tree();
    let json = serde_json::to_string(&t).unwrap();
    let back: CategoryTree = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
    let p = serde_json::to_value(Period::Hours(4)).unwrap();
    assert_eq!(p, serde_json::json!({"hours": 4}));
    let d: DeadlineProfile = serde_json::from_value(serde_json::json!({
        "first_contact": {"working_days": 1},
        "handling": {"working_days": 5},
        "rehandling": {"working_days": 3}
    }))
    .unwrap();
    assert_eq!(d, DeadlineProfile::STANDARD);
    // The category carries urgency; the profile does not.
    let c = serde_json::to_value(t.get("safety").unwrap()).unwrap();
    assert_eq!(c["urgent"], true);
    assert_eq!(
        c["deadlines"]["first_contact"],
        serde_json::json!({"hours": 1})
    );
    assert!(c["deadlines"].get("urgent").is_none());
}

#[test]
fn malformed_toml_is_a_localised_error() {
    let e = CategoryTree::from_toml("[[category]]\ncode = 3").unwrap_err();
    assert!(e.zh.starts_with("类别配置格式有误"));
    assert!(CategoryTree::from_toml("").unwrap().categories.is_empty());
}

#[test]
fn navigation() {
    let t = tree();
    assert!(t.is_leaf("env.garbage"));
    assert!(!t.is_leaf("env"));
    let chain: Vec<&str> = t
        .ancestors("env.garbage")
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(chain, ["env.garbage", "env"]);
    assert_eq!(t.path_name("env.garbage", Lang::Zh), "环境卫生 / 垃圾清运");
    assert_eq!(
        t.path_name("env.garbage", Lang::En),
        "Environment and sanitation / Garbage collection"
    );
    assert_eq!(
        t.get("env").unwrap().name().en,
        "Environment and sanitation"
    );
}

#[test]
fn labels() {
    assert_eq!(Period::WorkingDays(5).label().zh, "5 个工作日");
    assert_eq!(Period::WorkingDays(1).label().en, "1 working day");
    assert_eq!(Period::Hours(24).label().en, "24 hours");
    assert_eq!(Period::Hours(1).label().zh, "1 小时");
    assert_eq!(OwnerUnit::PropertyCompany.label().zh, "物业服务企业");
    assert_eq!(
        OwnerUnit::Committee.label().en,
        "community or village committee"
    );
}

// ── Open311 ─────────────────────────────────────────────────────────────────────────

#[test]
fn open311_services_are_the_leaves() {
    let t = tree();
    let s = t.open311_services(Lang::Zh);
    assert!(s.iter().all(|x| t.is_leaf(&x.service_code)));
    assert!(!s.iter().any(|x| x.service_code == "env"));
    let g = s.iter().find(|x| x.service_code == "env.garbage").unwrap();
    assert_eq!(g.service_name, "垃圾清运");
    assert_eq!(g.group, "环境卫生");
    assert!(g.metadata);
    assert_eq!(g.kind, "realtime");
    assert_eq!(g.keywords, "垃圾,清运,垃圾桶,满溢");
    let json = serde_json::to_value(g).unwrap();
    assert_eq!(json["type"], "realtime");
    let r = s.iter().find(|x| x.service_code == "env.clutter").unwrap();
    assert!(!r.metadata);
}

#[test]
fn open311_definition_matches_the_spec_shape() {
    let t = tree();
    let d = t
        .get("neighbour.noise")
        .unwrap()
        .service_definition(Lang::En);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["service_code"], "neighbour.noise");
    let a = &json["attributes"][0];
    assert_eq!(a["variable"], true);
    assert_eq!(a["code"], "noise_time");
    assert_eq!(a["datatype"], "multivaluelist");
    assert_eq!(a["required"], false);
    assert_eq!(a["datatype_description"], serde_json::Value::Null);
    assert_eq!(a["order"], 1);
    assert_eq!(a["description"], "When does it usually happen");
    assert_eq!(
        a["values"][2],
        serde_json::json!({"key": "night", "name": "At night (after 22:00)"})
    );
    assert_eq!(json["attributes"][1]["datatype"], "datetime");
    let zh = t.get("property.leak").unwrap().service_definition(Lang::Zh);
    assert_eq!(
        zh.attributes[0].datatype_description.as_deref(),
        Some("如 3号楼2单元501")
    );
    assert_eq!(zh.attributes[1].datatype, Datatype::Number);
}

#[test]
fn fields_come_in_display_order() {
    let mut c = root("x");
    c.fields = vec![
        field("b", Datatype::String),
        field("a", Datatype::String),
        field("c", Datatype::String),
    ];
    c.fields[0].order = 2;
    let order: Vec<&str> = c
        .fields_in_order()
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(order, ["a", "c", "b"]);
}

// ── Tree validation ─────────────────────────────────────────────────────────────────

#[test]
fn rejects_duplicate_and_malformed_codes() {
    let t = CategoryTree {
        categories: vec![
            root("a"),
            root("a"),
            root("B"),
            root(""),
            root("1x"),
            root(&"x".repeat(65)),
            root("a.b-c_9"),
        ],
    };
    assert_eq!(
        errors_of(&t),
        [
            "categories[1].code",
            "categories[2].code",
            "categories[3].code",
            "categories[4].code",
            "categories[5].code"
        ]
    );
    let e = t.validate().unwrap_err();
    assert_eq!(e[0].message.zh, "类别代码“a”重复");
}

#[test]
fn rejects_missing_names() {
    let mut c = root("a");
    c.name_zh = " ".into();
    c.name_en = String::new();
    let t = CategoryTree {
        categories: vec![c],
    };
    assert_eq!(
        errors_of(&t),
        ["categories[0].name_zh", "categories[0].name_en"]
    );
}

#[test]
fn rejects_missing_parents_self_parents_and_cycles() {
    let t = CategoryTree {
        categories: vec![
            root("r"),
            child("orphan", "nowhere"),
            child("selfish", "selfish"),
            child("x", "y"),
            child("y", "z"),
            child("z", "x"),
            // Hangs below the cycle without being in it.
            child("w", "x"),
            child("ok", "r"),
        ],
    };
    assert_eq!(
        errors_of(&t),
        [
            "categories[1].parent",
            "categories[2].parent",
            "categories[3].parent",
            "categories[4].parent",
            "categories[5].parent"
        ]
    );
    let e = t.validate().unwrap_err();
    assert_eq!(e[0].message.zh, "上级类别“nowhere”不存在");
    assert_eq!(e[2].message.en, "the parents of \"x\" form a cycle");
    // Navigation still ends on a cyclic tree.
    assert_eq!(t.ancestors("w").len(), 4);
    assert_eq!(t.resolve("x"), None);
}

#[test]
fn roots_must_set_owner_deadlines_and_anonymity() {
    let mut c = root("r");
    c.owner = None;
    c.deadlines = None;
    c.anonymous_allowed = None;
    let t = CategoryTree {
        categories: vec![c],
    };
    assert_eq!(
        errors_of(&t),
        [
            "categories[0].owner",
            "categories[0].deadlines",
            "categories[0].anonymous_allowed"
        ]
    );
}

#[test]
fn urgent_profiles_count_in_hours_and_periods_are_non_zero() {
    let mut c = root("r");
    c.urgent = Some(true);
    c.deadlines = Some(DeadlineProfile {
        first_contact: Period::Hours(1),
        handling: Period::WorkingDays(1),
        rehandling: Period::Hours(0),
        day_end: DayEnd::Midnight,
    });
    let t = CategoryTree {
        categories: vec![c],
    };
    // The calculator's own checks first, then the urgency rule.
    assert_eq!(
        errors_of(&t),
        [
            "categories[0].deadlines.rehandling",
            "categories[0].deadlines.handling"
        ]
    );
    let e = t.validate().unwrap_err();
    assert_eq!(e[0].message.en, "an hour period must be 1 to 720 hours");
    assert_eq!(e[1].message.zh, "紧急类别的时限须按小时计");
    // Hours without urgency are allowed (a local rule may want them).
    let mut c = root("r");
    c.deadlines = Some(DeadlineProfile::URGENT);
    c.urgent = Some(false);
    assert_eq!(
        CategoryTree {
            categories: vec![c]
        }
        .validate(),
        Ok(())
    );
}

#[test]
fn deadlines_pass_the_calculators_checks() {
    let mut c = root("r");
    c.deadlines = Some(DeadlineProfile {
        first_contact: Period::WorkingDays(6),
        handling: Period::WorkingDays(16),
        day_end: DayEnd::office_close(24, 0),
        ..DeadlineProfile::STANDARD
    });
    let t = CategoryTree {
        categories: vec![c],
    };
    assert_eq!(
        errors_of(&t),
        [
            "categories[0].deadlines.handling",
            "categories[0].deadlines.day_end"
        ]
    );
    let mut c = root("r");
    c.deadlines = Some(DeadlineProfile {
        first_contact: Period::WorkingDays(6),
        ..DeadlineProfile::STANDARD
    });
    assert_eq!(
        errors_of(&CategoryTree {
            categories: vec![c]
        }),
        ["categories[0].deadlines.first_contact"]
    );
    // An office-hours day end is kept as data.
    let mut c = root("r");
    c.deadlines = Some(DeadlineProfile {
        day_end: DayEnd::office_close(17, 30),
        ..DeadlineProfile::STANDARD
    });
    let t = CategoryTree {
        categories: vec![c],
    };
    assert_eq!(t.validate(), Ok(()));
    assert_eq!(
        t.resolve("r").unwrap().deadlines.day_end,
        DayEnd::office_close(17, 30)
    );
}

#[test]
fn urgency_is_inherited_and_judged_on_the_resolved_pair() {
    let mut urgent_root = root("u");
    urgent_root.urgent = Some(true);
    urgent_root.deadlines = Some(DeadlineProfile::URGENT);
    // Overrides the hours with working days under an urgent parent.
    let mut slow = child("u.slow", "u");
    slow.deadlines = Some(DeadlineProfile::STANDARD);
    // Opts out of urgency and takes working days: fine.
    let mut calm = child("u.calm", "u");
    calm.urgent = Some(false);
    calm.deadlines = Some(DeadlineProfile::STANDARD);
    // Marks itself urgent under a working-day parent without its own hours.
    let mut rash = child("s.rash", "s");
    rash.urgent = Some(true);
    // Below the conflicts without adding one: reports nothing of its own.
    let heir = child("u.slow.heir", "u.slow");
    let t = CategoryTree {
        categories: vec![
            urgent_root,
            slow,
            calm,
            root("s"),
            rash,
            heir,
            child("u.plain", "u"),
        ],
    };
    assert_eq!(
        errors_of(&t),
        [
            "categories[1].deadlines.first_contact",
            "categories[1].deadlines.handling",
            "categories[1].deadlines.rehandling",
            "categories[4].urgent"
        ]
    );
    assert_eq!(
        t.validate().unwrap_err()[3].message.en,
        "an urgent category counts its periods in hours"
    );
    assert!(t.resolve("u.plain").unwrap().urgent);
    assert_eq!(
        t.resolve("u.plain").unwrap().deadlines,
        DeadlineProfile::URGENT
    );
    assert!(t.resolve("u.slow.heir").unwrap().urgent);
    assert!(!t.resolve("u.calm").unwrap().urgent);
    assert!(!t.resolve("s").unwrap().urgent);
}

#[test]
fn rejects_bad_fields() {
    let mut c = root("r");
    let mut empty_list = field("kind", Datatype::Singlevaluelist);
    empty_list.values.clear();
    let mut string_with_values = field("note", Datatype::String);
    string_with_values.values = field("x", Datatype::Multivaluelist).values;
    let mut info_required = field("info", Datatype::Text);
    info_required.variable = false;
    info_required.required = true;
    let mut bad_keys = field("many", Datatype::Multivaluelist);
    bad_keys.values[1].key = "a".into();
    bad_keys.values[2].key = "has space".into();
    bad_keys.values[0].name_en = String::new();
    let mut no_description = field("q", Datatype::Number);
    no_description.description_en = " ".into();
    c.fields = vec![
        empty_list,
        string_with_values,
        info_required,
        bad_keys,
        field("Bad", Datatype::String),
        field("note", Datatype::Text),
        no_description,
    ];
    let t = CategoryTree {
        categories: vec![c],
    };
    assert_eq!(
        errors_of(&t),
        [
            "categories[0].fields[0].values",
            "categories[0].fields[1].values",
            "categories[0].fields[2].required",
            "categories[0].fields[3].values[0].name",
            "categories[0].fields[3].values[1].key",
            "categories[0].fields[3].values[2].key",
            "categories[0].fields[4].code",
            "categories[0].fields[5].code",
            "categories[0].fields[6].description",
        ]
    );
}

#[test]
fn code_rule() {
    for ok in ["a", "env.garbage", "fire_lane", "x-1", "a9"] {
        assert!(is_code(ok), "{ok}");
    }
    for bad in ["", "A", "9a", ".a", "a b", "垃圾", "a/b"] {
        assert!(!is_code(bad), "{bad}");
    }
    assert!(is_code(&"a".repeat(64)));
    assert!(!is_code(&"a".repeat(65)));
}

// ── Attribute values ────────────────────────────────────────────────────────────────

fn form_category() -> Category {
    let mut c = root("form");
    let mut s = field("plate", Datatype::String);
    s.required = true;
    let mut info = field("notice", Datatype::Text);
    info.variable = false;
    info.order = 9;
    c.fields = vec![
        s,
        field("note", Datatype::Text),
        field("floor", Datatype::Number),
        field("when", Datatype::Datetime),
        field("one", Datatype::Singlevaluelist),
        field("many", Datatype::Multivaluelist),
        info,
    ];
    for (i, f) in c.fields.iter_mut().enumerate() {
        f.order = i as u32 + 1;
    }
    c
}

#[test]
fn accepts_good_values() {
    let c = form_category();
    let v = validate_attributes(
        &c,
        &submit(&[
            ("plate", &[" 沪A12345 "]),
            ("note", &["第一行\n第二行"]),
            ("floor", &["-1.5"]),
            ("when", &["2026-03-01T09:30"]),
            ("one", &["b"]),
            ("many", &["c", "a", "c"]),
        ]),
    )
    .unwrap();
    assert_eq!(v["plate"], AttributeValue::Text("沪A12345".into()));
    assert_eq!(v["note"], AttributeValue::Text("第一行\n第二行".into()));
    assert_eq!(v["floor"], AttributeValue::Number(-1.5));
    // 2026-03-01 09:30 Shanghai = 01:30 UTC.
    assert_eq!(v["when"], AttributeValue::Datetime(1_772_328_600_000));
    assert_eq!(v["one"], AttributeValue::Choice("b".into()));
    assert_eq!(
        v["many"],
        AttributeValue::Choices(vec!["a".into(), "c".into()])
    );
    // Optional fields may be left out or blank.
    let v = validate_attributes(&c, &submit(&[("plate", &["x"]), ("note", &["  "])])).unwrap();
    assert_eq!(v.len(), 1);
}

#[test]
fn datetime_forms() {
    let ms = 1_772_328_600_000;
    for s in [
        "2026-03-01T09:30",
        "2026-03-01T09:30:00",
        "2026-03-01T09:30:00+08:00",
        "2026-03-01T01:30:00Z",
    ] {
        assert_eq!(parse_datetime(s), Some(ms), "{s}");
    }
    for s in [
        "2026-03-01",
        "2026-02-30T09:30",
        "09:30",
        "明天上午",
        "2026-03-01 09:30",
    ] {
        assert_eq!(parse_datetime(s), None, "{s}");
    }
}

#[test]
fn reports_every_bad_value_on_its_field() {
    let c = form_category();
    let long = "长".repeat(MAX_STRING_CHARS + 1);
    let e = validate_attributes(
        &c,
        &submit(&[
            ("plate", &[long.as_str()]),
            ("floor", &["三楼"]),
            ("when", &["yesterday"]),
            ("one", &["a", "b"]),
            ("many", &["a", "z"]),
            ("notice", &["hello"]),
            ("ghost", &["boo"]),
        ]),
    )
    .unwrap_err();
    let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "attribute[ghost]",
            "attribute[plate]",
            "attribute[floor]",
            "attribute[when]",
            "attribute[one]",
            "attribute[many]",
            "attribute[notice]"
        ]
    );
    assert_eq!(e[1].message.zh, format!("不能超过 {MAX_STRING_CHARS} 个字"));
    assert_eq!(e[2].message.en, "must be a number");
    assert_eq!(e[4].message.zh, "此项只能填一个值");
    assert_eq!(e[5].message.zh, "“z”不是可选项");
    assert_eq!(
        e[6].message.en,
        "this attribute is informational and takes no value"
    );
}

#[test]
fn required_and_other_limits() {
    let c = form_category();
    let e = validate_attributes(&c, &submit(&[])).unwrap_err();
    assert_eq!(
        e,
        vec![FieldError::new(
            "attribute[plate]",
            Text::new("此项必填", "this field is required")
        )]
    );
    let e = validate_attributes(&c, &submit(&[("plate", &["", " "])])).unwrap_err();
    assert_eq!(e[0].field, "attribute[plate]");
    let e = validate_attributes(&c, &submit(&[("plate", &["a\nb"])])).unwrap_err();
    assert_eq!(e[0].message.en, "a single line only");
    let ok_text = "字".repeat(MAX_TEXT_CHARS);
    assert!(validate_attributes(
        &c,
        &submit(&[("plate", &["x"]), ("note", &[ok_text.as_str()])])
    )
    .is_ok());
    let long_text = "字".repeat(MAX_TEXT_CHARS + 1);
    assert!(validate_attributes(
        &c,
        &submit(&[("plate", &["x"]), ("note", &[long_text.as_str()])])
    )
    .is_err());
    for bad in ["NaN", "inf", "1,5", "0x10", "1_000", "--1"] {
        assert!(
            validate_attributes(&c, &submit(&[("plate", &["x"]), ("floor", &[bad])])).is_err(),
            "{bad}"
        );
    }
    for good in ["0", "12", "+3", "1e3", "0.25"] {
        assert!(
            validate_attributes(&c, &submit(&[("plate", &["x"]), ("floor", &[good])])).is_ok(),
            "{good}"
        );
    }
}

#[test]
fn seeded_category_attributes() {
    let t = tree();
    let g = t.get("env.garbage").unwrap();
    assert!(validate_attributes(g, &submit(&[])).is_err());
    assert!(validate_attributes(g, &submit(&[("garbage_kind", &["bulky"])])).is_ok());
    assert!(validate_attributes(g, &submit(&[("garbage_kind", &["大件垃圾"])])).is_err());
    // A category without fields takes none.
    let r = t.get("env.clutter").unwrap();
    assert_eq!(validate_attributes(r, &submit(&[])), Ok(BTreeMap::new()));
    assert!(validate_attributes(r, &submit(&[("x", &["1"])])).is_err());
}

proptest! {
    #[test]
    fn list_values_are_accepted_exactly_when_they_are_keys(
        picks in proptest::collection::vec("[a-e]", 0..6),
    ) {
        let c = form_category();
        let refs: Vec<&str> = picks.iter().map(String::as_str).collect();
        let r = validate_attributes(&c, &submit(&[("plate", &["x"]), ("many", &refs)]));
        let all_known = picks.iter().all(|p| ["a", "b", "c"].contains(&p.as_str()));
        prop_assert_eq!(r.is_ok(), all_known);
        if let Ok(v) = r {
            if let Some(AttributeValue::Choices(keys)) = v.get("many") {
                let mut sorted = keys.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(&sorted, keys);
            }
        }
    }

    #[test]
    fn chains_of_parents_validate_and_resolve(n in 1usize..30) {
        let mut cats = vec![root("c0")];
        for i in 1..n {
            cats.push(child(&format!("c{i}"), &format!("c{}", i - 1)));
        }
        let t = CategoryTree { categories: cats };
        prop_assert_eq!(t.validate(), Ok(()));
        let last = format!("c{}", n - 1);
        prop_assert_eq!(t.ancestors(&last).len(), n);
        prop_assert_eq!(t.resolve(&last).map(|r| r.owner), Some(OwnerUnit::Committee));
    }

    #[test]
    fn validate_never_panics_on_random_parent_links(links in proptest::collection::vec(0usize..8, 1..8)) {
        let cats: Vec<Category> = links
            .iter()
            .enumerate()
            .map(|(i, p)| if *p >= links.len() { root(&format!("c{i}")) } else { child(&format!("c{i}"), &format!("c{p}")) })
            .collect();
        let t = CategoryTree { categories: cats };
        let _ = t.validate();
        for c in &t.categories {
            prop_assert!(t.ancestors(&c.code).len() <= t.categories.len());
        }
    }
}

// ── Retiring, successors and the TOML form ─────────────────────────────────────────

fn small() -> CategoryTree {
    CategoryTree {
        categories: vec![
            root("a"),
            child("a.x", "a"),
            child("a.y", "a"),
            root("b"),
            child("b.x", "b"),
            child("b.x.deep", "b.x"),
        ],
    }
}

fn retire(t: &mut CategoryTree, code: &str) {
    t.categories
        .iter_mut()
        .find(|c| c.code == code)
        .unwrap()
        .retired = true;
}

fn codes(t: &CategoryTree) -> Vec<&str> {
    t.categories.iter().map(|c| c.code.as_str()).collect()
}

#[test]
fn a_tree_without_retirements_is_offered_whole() {
    let t = small();
    assert_eq!(t.offered(), t);
    assert_eq!(tree().offered(), tree());
}

#[test]
fn a_retired_leaf_is_not_offered_but_still_named() {
    let mut t = small();
    retire(&mut t, "a.x");
    assert_eq!(codes(&t.offered()), ["a", "a.y", "b", "b.x", "b.x.deep"]);
    assert!(!t.is_offered("a.x"));
    assert!(t.is_offered("a.y"));
    assert!(t.is_retired("a.x"));
    assert_eq!(t.path_name("a.x", Lang::En), "Test / Test");
    assert!(t.resolve("a.x").is_some());
}

#[test]
fn retiring_a_parent_retires_its_subtree() {
    let mut t = small();
    retire(&mut t, "b.x");
    assert!(t.is_retired("b.x.deep"));
    assert!(!t.is_offered("b.x.deep"));
    // `b` has no live leaf left, so it must not become a selectable leaf.
    assert_eq!(codes(&t.offered()), ["a", "a.x", "a.y"]);
    assert!(!t.offered().is_offered("b"));
}

#[test]
fn retiring_every_child_does_not_offer_the_parent() {
    let mut t = small();
    retire(&mut t, "a.x");
    retire(&mut t, "a.y");
    assert!(!t.is_offered("a"));
    assert!(t.offered().get("a").is_none());
}

#[test]
fn offered_keeps_resolution() {
    let mut t = tree();
    retire(&mut t, "env.greenery");
    let o = t.offered();
    for c in &o.categories {
        assert_eq!(o.resolve(&c.code), t.resolve(&c.code), "{}", c.code);
    }
    assert!(o.validate().is_ok());
}

#[test]
fn is_offered_refuses_unknown_and_inner_categories() {
    let t = small();
    assert!(!t.is_offered("zzz"));
    assert!(!t.is_offered("a"));
    assert!(t.is_offered("b.x.deep"));
}

#[test]
fn a_successor_keeps_every_code() {
    let before = small();
    let mut after = small();
    after.categories.push(child("a.z", "a"));
    retire(&mut after, "a.x");
    assert!(after.check_successor(&before).is_ok());
    let mut dropped = small();
    dropped.categories.retain(|c| c.code != "a.y");
    let e = dropped.check_successor(&before).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].field, "categories");
    assert!(e[0].message.en.contains("a.y"), "{:?}", e[0].message);
    let mut recoded = small();
    recoded.categories[1].code = "a.renamed".into();
    assert_eq!(recoded.check_successor(&before).unwrap_err().len(), 1);
}

#[test]
fn changes_list_what_differs() {
    let before = small();
    assert!(before.changes(&before).is_empty());
    let mut after = small();
    after.categories[1].name_zh = "改名".into();
    after.categories.push(child("a.z", "a"));
    after.categories.retain(|c| c.code != "b.x.deep");
    let ch = after.changes(&before);
    let got: Vec<(&str, bool, bool)> = ch
        .iter()
        .map(|(c, b, a)| (*c, b.is_some(), a.is_some()))
        .collect();
    assert_eq!(
        got,
        [
            ("a.x", true, true),
            ("a.z", false, true),
            ("b.x.deep", true, false)
        ]
    );
}

#[test]
fn depth_first_walks_roots_then_children() {
    let t = small();
    let got: Vec<(usize, &str)> = t
        .depth_first()
        .into_iter()
        .map(|(d, c)| (d, c.code.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (0, "a"),
            (1, "a.x"),
            (1, "a.y"),
            (0, "b"),
            (1, "b.x"),
            (2, "b.x.deep")
        ]
    );
    let mut broken = small();
    broken.categories.push(child("orphan", "nowhere"));
    assert_eq!(broken.depth_first().last().unwrap().1.code, "orphan");
    assert_eq!(tree().depth_first().len(), tree().categories.len());
}

#[test]
fn index_of_names_the_validation_position() {
    let t = small();
    assert_eq!(t.index_of("b"), Some(3));
    assert_eq!(t.index_of("nope"), None);
}

#[test]
fn the_toml_form_round_trips() {
    let mut t = tree();
    retire(&mut t, "env.pests");
    let env = t.categories.iter_mut().find(|c| c.code == "env").unwrap();
    env.deadlines.as_mut().unwrap().day_end = DayEnd::OfficeClose {
        hour: 17,
        minute: 30,
    };
    let text = t.to_toml();
    let back = CategoryTree::from_toml(&text).unwrap();
    assert_eq!(back, t);
    assert!(text.contains("retired = true"));
    // Not retired is not written.
    assert_eq!(text.matches("retired").count(), 1);
}

#[test]
fn the_json_form_round_trips_and_defaults_retired() {
    let t = tree();
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(serde_json::from_str::<CategoryTree>(&json).unwrap(), t);
    let c: Category = serde_json::from_value(serde_json::json!({
        "code": "a", "name_zh": "甲", "name_en": "A"
    }))
    .unwrap();
    assert!(!c.retired);
}

proptest! {
    #[test]
    fn offered_only_holds_live_leaves_and_their_ancestors(mask in proptest::collection::vec(any::<bool>(), 0..60)) {
        let mut t = tree();
        for (c, r) in t.categories.iter_mut().zip(mask.iter()) {
            c.retired = *r;
        }
        let o = t.offered();
        for c in &o.categories {
            prop_assert!(!t.is_retired(&c.code));
            prop_assert_eq!(o.is_leaf(&c.code), t.is_leaf(&c.code));
        }
        for c in &t.categories {
            prop_assert_eq!(o.is_offered(&c.code), t.is_offered(&c.code));
        }
        prop_assert!(o.validate().is_ok());
    }
}
