//! Case categories: a configurable tree (环境卫生 → 垃圾清运 …) that says, for each kind of
//! problem, who owns it, how fast it must be answered, whether it may be reported
//! anonymously, and what extra questions it asks. Those questions are also the category's
//! Open311 GeoReport v2 attributes, so a 311 client and the resident form ask the same
//! things and one check ([`validate_attributes`]) judges both.
//!
//! Pure data and rules. The seeded tree ships as `category/seed.toml` ([`CategoryTree::seeded`]);
//! the storage layer keeps the live tree (serde-serialisable as it is) and calls
//! [`CategoryTree::validate`] before saving an administrator's change.
//!
//! Deadlines are the calculator's own [`DeadlineProfile`] (`cases::calendar::deadline`), so
//! what an administrator saves here is exactly what the case clocks count.
//!
//! `owner`, `deadlines`, `anonymous_allowed` and `urgent` may be left out on a child, which
//! then takes its parent's ([`CategoryTree::resolve`]); a root must set the first three, and a
//! root without `urgent` is not urgent. Fields are not inherited: each category asks its own
//! questions.
//!
//! Categories are never deleted: a `retired` one (and its subtree) is no longer offered for
//! new cases ([`CategoryTree::offered`], [`CategoryTree::is_offered`]) while old cases keep
//! its name and deadlines; [`CategoryTree::check_successor`] refuses a new tree that drops a
//! code, which also keeps codes immutable once cases may use them.

use std::collections::{BTreeMap, HashMap, HashSet};

/// One definition of deadlines for the whole case loop: the deadline calculator's.
pub use super::calendar::deadline::{DayEnd, DeadlineProfile, Period};
use crate::error::FieldError;
use crate::i18n::{Lang, Text};

/// Who handles a category's cases (routing picks the concrete unit by place).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerUnit {
    Grid,
    /// The community's residents' committee or the village committee, by track.
    Committee,
    PropertyCompany,
    SubdistrictOffice,
    PairingUnit,
}

impl OwnerUnit {
    pub fn label(self) -> Text {
        match self {
            OwnerUnit::Grid => Text::new("网格", "grid"),
            OwnerUnit::Committee => Text::new("居委会/村委会", "community or village committee"),
            OwnerUnit::PropertyCompany => Text::new("物业服务企业", "property company"),
            OwnerUnit::SubdistrictOffice => Text::new("街道办事处", "subdistrict office"),
            OwnerUnit::PairingUnit => Text::new("结对单位", "pairing unit"),
        }
    }
}

/// The field names of a profile's three periods, in form order, as
/// [`DeadlineProfile::validate`] names them.
fn named_periods(d: &DeadlineProfile) -> [(&'static str, Period); 3] {
    [
        ("first_contact", d.first_contact),
        ("handling", d.handling),
        ("rehandling", d.rehandling),
    ]
}

/// Open311 attribute datatypes (GeoReport v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    /// One line, at most [`MAX_STRING_CHARS`].
    String,
    Number,
    Datetime,
    /// Free text, at most [`MAX_TEXT_CHARS`].
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }

    pub fn is_list(self) -> bool {
        matches!(self, Datatype::Singlevaluelist | Datatype::Multivaluelist)
    }
}

pub const MAX_STRING_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 2000;
pub const MAX_CODE_LEN: usize = 64;

/// One choice of a list field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldValue {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
}

/// An extra question a category asks = one Open311 attribute.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    /// The attribute code, stable ascii; submitted as `attribute[code]`.
    pub code: String,
    /// False for an informational attribute that only shows its description and takes no value.
    #[serde(default = "yes")]
    pub variable: bool,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    /// The question as shown (Open311 `description`).
    pub description_zh: String,
    pub description_en: String,
    /// A hint on the expected form (Open311 `datatype_description`).
    #[serde(default)]
    pub datatype_description_zh: Option<String>,
    #[serde(default)]
    pub datatype_description_en: Option<String>,
    /// Display order, ascending.
    pub order: u32,
    /// The choices of a list field; empty otherwise.
    #[serde(default)]
    pub values: Vec<FieldValue>,
}

fn yes() -> bool {
    true
}

/// One category of the tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Category {
    /// Stable ascii code, also the Open311 `service_code`: lower-case letters, digits,
    /// `_ . -`, starting with a letter; by convention `parent.child`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The parent's code; `None` for a root.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub owner: Option<OwnerUnit>,
    #[serde(default)]
    pub deadlines: Option<DeadlineProfile>,
    #[serde(default)]
    pub anonymous_allowed: Option<bool>,
    /// Handled at once: the case is flagged everywhere, and every period of the category's
    /// (resolved) deadlines must count in hours. Urgency is the category's, not the
    /// profile's: the same hour profile may serve a non-urgent local rule.
    #[serde(default)]
    pub urgent: Option<bool>,
    /// Words residents use, for search and Open311 `keywords`.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// No longer offered for new cases (nor are its subcategories); cases filed under it
    /// keep it and still show its name. Categories are retired, never deleted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub retired: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Category {
    pub fn name(&self) -> Text {
        Text::owned(self.name_zh.clone(), self.name_en.clone())
    }

    /// The fields in display order (by `order`, then code).
    pub fn fields_in_order(&self) -> Vec<&Field> {
        let mut f: Vec<&Field> = self.fields.iter().collect();
        f.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.code.cmp(&b.code)));
        f
    }

    /// The Open311 service definition (`GET services/{code}`) in a language.
    pub fn service_definition(&self, lang: Lang) -> Open311Definition {
        Open311Definition {
            service_code: self.code.clone(),
            attributes: self
                .fields_in_order()
                .into_iter()
                .map(|f| Open311Attribute {
                    variable: f.variable,
                    code: f.code.clone(),
                    datatype: f.datatype,
                    required: f.required,
                    datatype_description: match lang {
                        Lang::Zh => f.datatype_description_zh.clone(),
                        Lang::En => f.datatype_description_en.clone(),
                    },
                    order: f.order,
                    description: lang.pick(&f.description_zh, &f.description_en).to_string(),
                    values: f
                        .values
                        .iter()
                        .map(|v| Open311Value {
                            key: v.key.clone(),
                            name: lang.pick(&v.name_zh, &v.name_en).to_string(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A category's values after inheritance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub owner: OwnerUnit,
    pub deadlines: DeadlineProfile,
    pub anonymous_allowed: bool,
    pub urgent: bool,
}

/// One entry of Open311 `GET services`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Open311Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// Whether the service has attributes (a definition worth fetching).
    pub metadata: bool,
    /// Always "realtime": a request becomes a case at once.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Comma-separated.
    pub keywords: String,
    /// The root category's name.
    pub group: String,
}

/// Open311 `GET services/{service_code}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Open311Definition {
    pub service_code: String,
    pub attributes: Vec<Open311Attribute>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Open311Attribute {
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    pub order: u32,
    pub description: String,
    pub values: Vec<Open311Value>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Open311Value {
    pub key: String,
    pub name: String,
}

/// The whole tree, in the order it was written (roots and children interleaved freely).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CategoryTree {
    #[serde(rename = "category", default)]
    pub categories: Vec<Category>,
}

const SEED: &str = include_str!("category/seed.toml");

impl CategoryTree {
    /// The shipped tree (see `category/seed.toml`); its validity is a unit test.
    pub fn seeded() -> CategoryTree {
        static PARSED: std::sync::OnceLock<CategoryTree> = std::sync::OnceLock::new();
        PARSED
            .get_or_init(|| CategoryTree::from_toml(SEED).expect("the seeded category tree parses"))
            .clone()
    }

    /// The TOML form, as [`CategoryTree::from_toml`] reads it and written like the seed
    /// (for the "edit as TOML" page): one `[[category]]` table each, deadlines and choices
    /// inline, defaults left out.
    pub fn to_toml(&self) -> String {
        const CATEGORY_KEYS: [&str; 10] = [
            "code",
            "name_zh",
            "name_en",
            "parent",
            "owner",
            "anonymous_allowed",
            "urgent",
            "retired",
            "keywords",
            "deadlines",
        ];
        const FIELD_KEYS: [&str; 9] = [
            "code",
            "variable",
            "datatype",
            "required",
            "order",
            "description_zh",
            "description_en",
            "datatype_description_zh",
            "datatype_description_en",
        ];
        let mut out = String::new();
        for c in &self.categories {
            let Ok(toml::Value::Table(mut t)) = toml::Value::try_from(c) else {
                continue;
            };
            if let Some(toml::Value::Table(d)) = t.get_mut("deadlines") {
                if d.get("day_end").and_then(|v| v.as_str()) == Some("midnight") {
                    d.remove("day_end");
                }
            }
            if t.get("keywords")
                .and_then(|v| v.as_array())
                .is_some_and(|a| a.is_empty())
            {
                t.remove("keywords");
            }
            out.push_str("[[category]]\n");
            for k in CATEGORY_KEYS {
                if let Some(v) = t.get(k) {
                    out.push_str(&format!("{k} = {v}\n"));
                }
            }
            let fields = t
                .get("fields")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            for f in fields {
                let toml::Value::Table(mut f) = f else {
                    continue;
                };
                if f.get("variable").and_then(|v| v.as_bool()) == Some(true) {
                    f.remove("variable");
                }
                if f.get("required").and_then(|v| v.as_bool()) == Some(false) {
                    f.remove("required");
                }
                out.push_str("\n[[category.fields]]\n");
                for k in FIELD_KEYS {
                    if let Some(v) = f.get(k) {
                        out.push_str(&format!("{k} = {v}\n"));
                    }
                }
                let values = f
                    .get("values")
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default();
                if !values.is_empty() {
                    out.push_str("values = [\n");
                    for v in values {
                        out.push_str(&format!("  {v},\n"));
                    }
                    out.push_str("]\n");
                }
            }
            out.push('\n');
        }
        out
    }

    /// Parses the TOML form (`[[category]]` tables, as in the seed). Parsing is only
    /// syntax; call [`CategoryTree::validate`] for the rules.
    pub fn from_toml(s: &str) -> Result<CategoryTree, Text> {
        toml::from_str(s).map_err(|e| {
            Text::owned(
                format!("类别配置格式有误:{}", e.message()),
                format!("the category configuration is malformed: {}", e.message()),
            )
        })
    }

    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn roots(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(|c| c.parent.is_none())
    }

    pub fn children<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Category> + 'a {
        self.categories
            .iter()
            .filter(move |c| c.parent.as_deref() == Some(code))
    }

    pub fn is_leaf(&self, code: &str) -> bool {
        self.children(code).next().is_none()
    }

    /// The category and its ancestors, the category first. Stops at a missing parent or a
    /// cycle (which [`CategoryTree::validate`] reports), so it always ends.
    pub fn ancestors(&self, code: &str) -> Vec<&Category> {
        let mut out: Vec<&Category> = Vec::new();
        let mut next = self.get(code);
        while let Some(c) = next {
            if out.iter().any(|seen| seen.code == c.code) {
                break;
            }
            out.push(c);
            next = c.parent.as_deref().and_then(|p| self.get(p));
        }
        out
    }

    /// The category's owner, deadlines, anonymity and urgency after inheritance (nowhere
    /// set = not urgent); `None` for an unknown code or a tree that does not validate.
    pub fn resolve(&self, code: &str) -> Option<Resolved> {
        let chain = self.ancestors(code);
        if chain.is_empty() {
            return None;
        }
        Some(Resolved {
            owner: chain.iter().find_map(|c| c.owner)?,
            deadlines: chain.iter().find_map(|c| c.deadlines)?,
            anonymous_allowed: chain.iter().find_map(|c| c.anonymous_allowed)?,
            urgent: chain.iter().find_map(|c| c.urgent).unwrap_or(false),
        })
    }

    /// True when the category or one of its ancestors is retired.
    pub fn is_retired(&self, code: &str) -> bool {
        self.ancestors(code).iter().any(|c| c.retired)
    }

    /// What new cases may be filed under: the tree without retired categories (and their
    /// subtrees), and without categories whose subcategories are all retired (which would
    /// otherwise turn into selectable leaves). Every kept category keeps its ancestors, so
    /// [`CategoryTree::resolve`] answers the same on both trees.
    pub fn offered(&self) -> CategoryTree {
        let live_leaf = |c: &Category| self.is_leaf(&c.code) && !self.is_retired(&c.code);
        let mut keep: HashSet<&str> = HashSet::new();
        for leaf in self.categories.iter().filter(|c| live_leaf(c)) {
            for a in self.ancestors(&leaf.code) {
                keep.insert(&a.code);
            }
        }
        CategoryTree {
            categories: self
                .categories
                .iter()
                .filter(|c| keep.contains(c.code.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// True when new cases may be filed under `code`: a known leaf, not retired.
    pub fn is_offered(&self, code: &str) -> bool {
        self.get(code).is_some() && self.is_leaf(code) && !self.is_retired(code)
    }

    /// Checks that `self` may replace `before`: categories are never deleted (retire them
    /// instead), so every code of `before` is still here, which also keeps codes immutable
    /// once cases may use them. Errors are on `categories`, one per missing code.
    pub fn check_successor(&self, before: &CategoryTree) -> Result<(), Vec<FieldError>> {
        let errors: Vec<FieldError> = before
            .categories
            .iter()
            .filter(|b| self.get(&b.code).is_none())
            .map(|b| {
                FieldError::new(
                    "categories",
                    Text::owned(
                        format!("类别“{}”({})不能删除或改代码,请改为停用", b.code, b.name_zh),
                        format!(
                            "category \"{}\" ({}) cannot be deleted or recoded; retire it instead",
                            b.code, b.name_en
                        ),
                    ),
                )
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The categories that differ between `before` and `self`, in `self`'s order (with any
    /// codes only `before` has at the end): (code, before, after).
    pub fn changes<'a>(
        &'a self,
        before: &'a CategoryTree,
    ) -> Vec<(&'a str, Option<&'a Category>, Option<&'a Category>)> {
        let mut out: Vec<(&str, Option<&Category>, Option<&Category>)> = self
            .categories
            .iter()
            .filter_map(|a| {
                let b = before.get(&a.code);
                (b != Some(a)).then_some((a.code.as_str(), b, Some(a)))
            })
            .collect();
        out.extend(
            before
                .categories
                .iter()
                .filter(|b| self.get(&b.code).is_none())
                .map(|b| (b.code.as_str(), Some(b), None)),
        );
        out
    }

    /// The position of a category in [`CategoryTree::categories`] (what validation errors
    /// name as `categories[i]`).
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.code == code)
    }

    /// The categories depth first from the roots, each with its depth (0 for a root), children
    /// in the order written; categories unreachable from a root (a broken tree) come last.
    pub fn depth_first(&self) -> Vec<(usize, &Category)> {
        let mut out: Vec<(usize, &Category)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<(usize, &Category)> = self.roots().map(|c| (0, c)).collect();
        stack.reverse();
        while let Some((d, c)) = stack.pop() {
            if !seen.insert(&c.code) {
                continue;
            }
            out.push((d, c));
            let mut kids: Vec<(usize, &Category)> =
                self.children(&c.code).map(|k| (d + 1, k)).collect();
            kids.reverse();
            stack.extend(kids);
        }
        for c in &self.categories {
            if seen.insert(&c.code) {
                out.push((0, c));
            }
        }
        out
    }

    /// "环境卫生 / 垃圾清运": the names from the root down.
    pub fn path_name(&self, code: &str, lang: Lang) -> String {
        let mut names: Vec<&str> = self
            .ancestors(code)
            .iter()
            .map(|c| lang.pick(&c.name_zh, &c.name_en))
            .collect();
        names.reverse();
        names.join(" / ")
    }

    /// Open311 `GET services`: the leaves (what a report is filed under), in tree order,
    /// each grouped under its root.
    pub fn open311_services(&self, lang: Lang) -> Vec<Open311Service> {
        self.categories
            .iter()
            .filter(|c| self.is_leaf(&c.code))
            .map(|c| {
                let chain = self.ancestors(&c.code);
                let root = chain.last().copied().unwrap_or(c);
                Open311Service {
                    service_code: c.code.clone(),
                    service_name: lang.pick(&c.name_zh, &c.name_en).to_string(),
                    description: self.path_name(&c.code, lang),
                    metadata: !c.fields.is_empty(),
                    kind: "realtime",
                    keywords: c.keywords.join(","),
                    group: lang.pick(&root.name_zh, &root.name_en).to_string(),
                }
            })
            .collect()
    }

    /// Checks the tree's rules, every error at once, each naming
    /// `categories[i].<field>` (or `categories[i].fields[j].<field>`): codes well-formed and
    /// unique; names present; parents exist; no cycles; roots set owner, deadlines and
    /// anonymity; deadlines pass [`DeadlineProfile::validate`] (as
    /// `categories[i].deadlines.<field>`); an urgent category's resolved periods all count in
    /// hours; field codes unique per category; list fields have unique choices and other
    /// fields none; an informational field is not required.
    ///
    /// Urgency and deadlines may come from different ancestors, so the urgency rule is
    /// judged on the resolved pair and reported where the conflict is introduced: on each
    /// offending `deadlines.<period>` of a category that sets its deadlines, or on `urgent`
    /// of one that only sets its urgency. A category that sets neither inherits its
    /// ancestor's verdict and reports nothing.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, c) in self.categories.iter().enumerate() {
            let at = |f: &str| format!("categories[{i}].{f}");
            if !is_code(&c.code) {
                errors.push(FieldError::new(at("code"), bad_code(&c.code)));
            } else if let Some(first) = seen.insert(&c.code, i) {
                seen.insert(&c.code, first);
                errors.push(FieldError::new(
                    at("code"),
                    Text::owned(
                        format!("类别代码“{}”重复", c.code),
                        format!("category code \"{}\" is used twice", c.code),
                    ),
                ));
            }
            if c.name_zh.trim().is_empty() {
                errors.push(FieldError::new(
                    at("name_zh"),
                    Text::new("请填写中文名称", "the Chinese name is required"),
                ));
            }
            if c.name_en.trim().is_empty() {
                errors.push(FieldError::new(
                    at("name_en"),
                    Text::new("请填写英文名称", "the English name is required"),
                ));
            }
            match c.parent.as_deref() {
                Some(p) if p == c.code => errors.push(FieldError::new(
                    at("parent"),
                    Text::new(
                        "类别不能以自身为上级",
                        "a category cannot be its own parent",
                    ),
                )),
                Some(p) if self.get(p).is_none() => errors.push(FieldError::new(
                    at("parent"),
                    Text::owned(
                        format!("上级类别“{p}”不存在"),
                        format!("parent category \"{p}\" does not exist"),
                    ),
                )),
                Some(_) => {
                    if self.in_cycle(&c.code) {
                        errors.push(FieldError::new(
                            at("parent"),
                            Text::owned(
                                format!("类别“{}”的上级形成了循环", c.code),
                                format!("the parents of \"{}\" form a cycle", c.code),
                            ),
                        ));
                    }
                }
                None => {
                    let missing = [
                        (
                            "owner",
                            c.owner.is_none(),
                            Text::new(
                                "顶级类别须指定承办单位类型",
                                "a root category needs an owning unit type",
                            ),
                        ),
                        (
                            "deadlines",
                            c.deadlines.is_none(),
                            Text::new("顶级类别须指定办理时限", "a root category needs deadlines"),
                        ),
                        (
                            "anonymous_allowed",
                            c.anonymous_allowed.is_none(),
                            Text::new(
                                "顶级类别须指定是否允许匿名",
                                "a root category must say whether anonymous reports are allowed",
                            ),
                        ),
                    ];
                    for (f, is_missing, msg) in missing {
                        if is_missing {
                            errors.push(FieldError::new(at(f), msg));
                        }
                    }
                }
            }
            if let Some(d) = &c.deadlines {
                if let Err(e) = d.validate() {
                    errors.extend(e.into_iter().map(|f| {
                        FieldError::new(at(&format!("deadlines.{}", f.field)), f.message)
                    }));
                }
            }
            if c.urgent.is_some() || c.deadlines.is_some() {
                self.check_urgency(c, &at, &mut errors);
            }
            validate_fields(c, i, &mut errors);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// "Urgent ⇒ every period in hours" on `c`'s resolved urgency and deadlines. Silent when
    /// they do not resolve (a root without deadlines is reported as such).
    fn check_urgency(
        &self,
        c: &Category,
        at: &dyn Fn(&str) -> String,
        errors: &mut Vec<FieldError>,
    ) {
        let chain = self.ancestors(&c.code);
        let urgent = chain.iter().find_map(|a| a.urgent).unwrap_or(false);
        let Some(d) = chain.iter().find_map(|a| a.deadlines) else {
            return;
        };
        if !urgent {
            return;
        }
        let daily: Vec<&str> = named_periods(&d)
            .into_iter()
            .filter(|(_, p)| !matches!(p, Period::Hours(_)))
            .map(|(name, _)| name)
            .collect();
        let msg = || {
            Text::new(
                "紧急类别的时限须按小时计",
                "an urgent category counts its periods in hours",
            )
        };
        if c.deadlines.is_some() {
            for name in daily {
                errors.push(FieldError::new(at(&format!("deadlines.{name}")), msg()));
            }
        } else if !daily.is_empty() {
            errors.push(FieldError::new(at("urgent"), msg()));
        }
    }

    /// True when following parents from `code` comes back to it.
    fn in_cycle(&self, code: &str) -> bool {
        let mut visited: HashSet<&str> = HashSet::new();
        let mut next = self.get(code).and_then(|c| c.parent.as_deref());
        while let Some(p) = next {
            if p == code {
                return true;
            }
            if !visited.insert(p) {
                // A cycle above us, not through us: reported at its own members.
                return false;
            }
            next = self.get(p).and_then(|c| c.parent.as_deref());
        }
        false
    }
}

fn validate_fields(c: &Category, i: usize, errors: &mut Vec<FieldError>) {
    let mut codes: HashSet<&str> = HashSet::new();
    for (j, f) in c.fields.iter().enumerate() {
        let at = |x: &str| format!("categories[{i}].fields[{j}].{x}");
        if !is_code(&f.code) {
            errors.push(FieldError::new(at("code"), bad_code(&f.code)));
        } else if !codes.insert(&f.code) {
            errors.push(FieldError::new(
                at("code"),
                Text::owned(
                    format!("字段代码“{}”在本类别中重复", f.code),
                    format!("field code \"{}\" is used twice in this category", f.code),
                ),
            ));
        }
        if f.description_zh.trim().is_empty() || f.description_en.trim().is_empty() {
            errors.push(FieldError::new(
                at("description"),
                Text::new(
                    "请填写字段的中英文说明",
                    "the field needs a Chinese and an English description",
                ),
            ));
        }
        if !f.variable && f.required {
            errors.push(FieldError::new(
                at("required"),
                Text::new(
                    "仅供说明的字段不能设为必填",
                    "an informational field cannot be required",
                ),
            ));
        }
        if f.datatype.is_list() {
            if f.values.is_empty() {
                errors.push(FieldError::new(
                    at("values"),
                    Text::new(
                        "列表字段须至少有一个选项",
                        "a list field needs at least one choice",
                    ),
                ));
            }
            let mut keys: HashSet<&str> = HashSet::new();
            for (k, v) in f.values.iter().enumerate() {
                if !is_key(&v.key) {
                    errors.push(FieldError::new(
                        format!("categories[{i}].fields[{j}].values[{k}].key"),
                        Text::owned(
                            format!("选项代码“{}”无效:只能用字母、数字和 _ . -", v.key),
                            format!(
                                "choice key \"{}\" is invalid: use letters, digits and _ . -",
                                v.key
                            ),
                        ),
                    ));
                } else if !keys.insert(&v.key) {
                    errors.push(FieldError::new(
                        format!("categories[{i}].fields[{j}].values[{k}].key"),
                        Text::owned(
                            format!("选项代码“{}”重复", v.key),
                            format!("choice key \"{}\" is used twice", v.key),
                        ),
                    ));
                }
                if v.name_zh.trim().is_empty() || v.name_en.trim().is_empty() {
                    errors.push(FieldError::new(
                        format!("categories[{i}].fields[{j}].values[{k}].name"),
                        Text::new(
                            "请填写选项的中英文名称",
                            "the choice needs a Chinese and an English name",
                        ),
                    ));
                }
            }
        } else if !f.values.is_empty() {
            errors.push(FieldError::new(
                at("values"),
                Text::owned(
                    format!("“{}”类型的字段不能有选项", f.datatype.as_str()),
                    format!("a {} field takes no choices", f.datatype.as_str()),
                ),
            ));
        }
    }
}

/// A category or field code: `[a-z][a-z0-9_.-]*`, at most [`MAX_CODE_LEN`] bytes.
pub fn is_code(s: &str) -> bool {
    s.len() <= MAX_CODE_LEN
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// A list choice's key: `[A-Za-z0-9_.-]+`, at most [`MAX_CODE_LEN`] bytes.
fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_CODE_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

fn bad_code(code: &str) -> Text {
    Text::owned(
        format!("代码“{code}”无效:须以小写字母开头,只能用小写字母、数字和 _ . -,最长 {MAX_CODE_LEN} 个字符"),
        format!("code \"{code}\" is invalid: start with a lower-case letter, use a-z, 0-9 and _ . -, at most {MAX_CODE_LEN} characters"),
    )
}

/// A submitted attribute value after checking.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// `string` and `text`, trimmed.
    Text(String),
    Number(f64),
    /// `datetime`, as Unix ms.
    Datetime(i64),
    /// `singlevaluelist`: the chosen key.
    Choice(String),
    /// `multivaluelist`: the chosen keys, in the category's order, without repeats.
    Choices(Vec<String>),
}

/// Checks submitted attribute values against a category's fields, Open311 style: `submitted`
/// maps each field code to the values sent (`attribute[code]=v`, or several for
/// `attribute[code][]=v`). Blank values count as absent, as HTML forms send them. Returns
/// the checked values by code, or every problem at once, each on `attribute[code]`.
///
/// Accepted forms: numbers as decimal (`12`, `-3.5`; finite only); date-times as RFC 3339
/// (`2026-03-01T09:30:00+08:00`) or, from a `datetime-local` input, without an offset
/// (`2026-03-01T09:30`, seconds optional), read as Shanghai time.
pub fn validate_attributes(
    category: &Category,
    submitted: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, AttributeValue>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = BTreeMap::new();
    for code in submitted.keys() {
        if !category.fields.iter().any(|f| &f.code == code) {
            errors.push(FieldError::new(
                attr(code),
                Text::owned(
                    format!("“{}”没有这一项", category.name_zh),
                    format!("\"{}\" has no such attribute", category.name_en),
                ),
            ));
        }
    }
    for f in category.fields_in_order() {
        let values: Vec<&str> = submitted
            .get(&f.code)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let field = attr(&f.code);
        if values.is_empty() {
            if f.required {
                errors.push(FieldError::new(
                    field,
                    Text::new("此项必填", "this field is required"),
                ));
            }
            continue;
        }
        if !f.variable {
            errors.push(FieldError::new(
                field,
                Text::new(
                    "此项仅供说明,不可填写",
                    "this attribute is informational and takes no value",
                ),
            ));
            continue;
        }
        if f.datatype != Datatype::Multivaluelist && values.len() > 1 {
            errors.push(FieldError::new(
                field,
                Text::new("此项只能填一个值", "only one value is allowed"),
            ));
            continue;
        }
        match check_value(f, &values) {
            Ok(v) => {
                out.insert(f.code.clone(), v);
            }
            Err(msg) => errors.push(FieldError::new(field, msg)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn attr(code: &str) -> String {
    format!("attribute[{code}]")
}

fn check_value(f: &Field, values: &[&str]) -> Result<AttributeValue, Text> {
    let v = values[0];
    match f.datatype {
        Datatype::String | Datatype::Text => {
            let max = if f.datatype == Datatype::String {
                MAX_STRING_CHARS
            } else {
                MAX_TEXT_CHARS
            };
            if v.chars().count() > max {
                return Err(Text::owned(
                    format!("不能超过 {max} 个字"),
                    format!("at most {max} characters"),
                ));
            }
            if f.datatype == Datatype::String && v.contains(['\n', '\r']) {
                return Err(Text::new("此项只能填一行", "a single line only"));
            }
            Ok(AttributeValue::Text(v.to_string()))
        }
        Datatype::Number => match v.parse::<f64>() {
            Ok(n)
                if n.is_finite()
                    && v.bytes()
                        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
            {
                Ok(AttributeValue::Number(n))
            }
            _ => Err(Text::new("请填写数字", "must be a number")),
        },
        Datatype::Datetime => parse_datetime(v)
            .map(AttributeValue::Datetime)
            .ok_or(Text::new(
                "请填写日期时间,如 2026-03-01T09:30",
                "must be a date and time such as 2026-03-01T09:30+08:00",
            )),
        Datatype::Singlevaluelist => {
            if f.values.iter().any(|c| c.key == v) {
                Ok(AttributeValue::Choice(v.to_string()))
            } else {
                Err(not_a_choice(v))
            }
        }
        Datatype::Multivaluelist => {
            if let Some(bad) = values
                .iter()
                .find(|v| !f.values.iter().any(|c| c.key == **v))
            {
                return Err(not_a_choice(bad));
            }
            Ok(AttributeValue::Choices(
                f.values
                    .iter()
                    .filter(|c| values.contains(&c.key.as_str()))
                    .map(|c| c.key.clone())
                    .collect(),
            ))
        }
    }
}

fn not_a_choice(v: &str) -> Text {
    Text::owned(
        format!("“{v}”不是可选项"),
        format!("\"{v}\" is not one of the choices"),
    )
}

/// RFC 3339, or a local `YYYY-MM-DDTHH:MM[:SS]` read as Shanghai time; Unix ms.
fn parse_datetime(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let to_ms = |t: time::OffsetDateTime| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return to_ms(t);
    }
    let with_s = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let without_s = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let local = time::PrimitiveDateTime::parse(s, &with_s)
        .or_else(|_| time::PrimitiveDateTime::parse(s, &without_s))
        .ok()?;
    to_ms(local.assume_offset(crate::clock::SHANGHAI))
}

#[cfg(test)]
mod tests;
