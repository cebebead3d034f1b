//! The category editor for subdistrict administrators: `/admin/categories` (the tree),
//! `/admin/categories/add?parent=` and `/admin/categories/{code}/edit` (one category: names,
//! owning unit type, deadlines, anonymity, urgency, keywords and its attributes),
//! `/admin/categories/{code}/retire` (retire or restore), and `/admin/categories/toml` (the
//! whole tree as TOML, for power users). Every form carries the version it was rendered
//! from; a stale one re-renders with "changed by someone else" (409), an invalid one with
//! each message by its field (422). Works without JavaScript.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::{add, current, history, require_admin, save, set_retired, update, ChangeKind, Stored};
use crate::cases::category::{
    Category, CategoryTree, Datatype, DayEnd, DeadlineProfile, Field, FieldValue, OwnerUnit, Period,
};
use crate::error::{Error, FieldError, Result};
use crate::i18n::{Lang, Text};
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/categories", get(list))
        .route("/admin/categories/add", get(add_page).post(add_submit))
        .route("/admin/categories/toml", get(toml_page).post(toml_submit))
        .route(
            "/admin/categories/{code}/edit",
            get(edit_page).post(edit_submit),
        )
        .route("/admin/categories/{code}/retire", post(retire_submit))
}

const OWNERS: [(OwnerUnit, &str); 5] = [
    (OwnerUnit::Grid, "grid"),
    (OwnerUnit::Committee, "committee"),
    (OwnerUnit::PropertyCompany, "property_company"),
    (OwnerUnit::SubdistrictOffice, "subdistrict_office"),
    (OwnerUnit::PairingUnit, "pairing_unit"),
];

const DATATYPES: [Datatype; 6] = [
    Datatype::String,
    Datatype::Text,
    Datatype::Number,
    Datatype::Datetime,
    Datatype::Singlevaluelist,
    Datatype::Multivaluelist,
];

const PERIODS: [(&str, &str, &str); 3] = [
    ("first_contact", "首次联系", "First contact"),
    ("handling", "办理", "Handling"),
    ("rehandling", "重办", "Re-handling"),
];

/// The most attribute rows a form may carry.
const MAX_FIELD_ROWS: usize = 50;

fn datatype_label(d: Datatype) -> Text {
    match d {
        Datatype::String => Text::new("单行文字", "one line of text"),
        Datatype::Text => Text::new("多行文字", "text"),
        Datatype::Number => Text::new("数字", "number"),
        Datatype::Datetime => Text::new("日期时间", "date and time"),
        Datatype::Singlevaluelist => Text::new("单选", "choose one"),
        Datatype::Multivaluelist => Text::new("多选", "choose several"),
    }
}

/// "5 个工作日" / "5 working days".
pub fn period_label(p: Period, lang: Lang) -> String {
    match (p, lang) {
        (Period::WorkingDays(n), Lang::Zh) => format!("{n} 个工作日"),
        (Period::WorkingDays(1), Lang::En) => "1 working day".into(),
        (Period::WorkingDays(n), Lang::En) => format!("{n} working days"),
        (Period::Hours(n), Lang::Zh) => format!("{n} 小时"),
        (Period::Hours(1), Lang::En) => "1 hour".into(),
        (Period::Hours(n), Lang::En) => format!("{n} hours"),
    }
}

fn profile_label(d: &DeadlineProfile, lang: Lang) -> String {
    let mut s = PERIODS
        .iter()
        .zip([d.first_contact, d.handling, d.rehandling])
        .map(|((_, zh, en), p)| format!("{} {}", lang.pick(zh, en), period_label(p, lang)))
        .collect::<Vec<_>>()
        .join(" · ");
    if let DayEnd::OfficeClose { hour, minute } = d.day_end {
        s.push_str(&format!(
            " · {} {hour:02}:{minute:02}",
            lang.pick("截至下班", "day ends")
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ListQ {
    saved: Option<String>,
}

async fn list(p: Page, Query(q): Query<ListQ>) -> Result<Markup> {
    require_admin(&p.actor)?;
    let ctx = &p.ctx;
    let st = current(&ctx.state.db, p.actor.subdistrict_id).await?;
    let versions = history(&ctx.state.db, p.actor.subdistrict_id).await?;
    let t = &st.tree;
    let lang = ctx.lang;
    let yes_no = |b: bool| {
        if b {
            ctx.t("是", "yes")
        } else {
            ctx.t("否", "no")
        }
    };
    let body = html! {
        h1 { (ctx.t("事项类别", "Case categories")) }
        p.muted { (ctx.t("类别决定事项由谁承办、时限多长、能否匿名上报,以及上报时需补充的信息(也是 Open311 的属性)。停用的类别不再用于新事项,已有事项保留原类别。", "A category says who handles a case, how fast, whether it may be reported anonymously, and which extra questions it asks (also its Open311 attributes). A retired category is no longer offered for new cases; existing cases keep it.")) }
        @if let Some(code) = &q.saved { p.success role="status" { (ctx.t("已保存:", "Saved: ")) (code) } }
        p {
            @if st.version == 0 { (ctx.t("当前使用系统内置类别(尚未修改)。", "Using the shipped categories (not changed yet).")) }
            @else { (ctx.t("版本", "Version")) " " (st.version) @if let Some(at) = st.updated_at { " · " (crate::clock::format_local(at)) } }
        }
        p.actions {
            a.button href="/admin/categories/add" { (ctx.t("新增顶级类别", "Add a top-level category")) } " "
            a.button.secondary href="/admin/categories/toml" { (ctx.t("以 TOML 文本编辑", "Edit as TOML")) }
        }
        ul.list {
            @for (depth, c) in t.depth_first() {
                @let r = t.resolve(&c.code);
                @let retired = t.is_retired(&c.code);
                li style={ "padding-left: " (0.8 + 1.2 * depth as f32) "rem" } {
                    div {
                        div {
                            @if retired { s { (c.name().get(lang)) } " " span.tag { (ctx.t("已停用", "retired")) } }
                            @else { strong { (c.name().get(lang)) } }
                            @if r.is_some_and(|r| r.urgent) { " " span.tag { (ctx.t("紧急", "urgent")) } }
                            " " code.muted { (c.code) }
                        }
                        @if let Some(r) = r {
                            div.muted {
                                (ctx.text(&r.owner.label())) @if c.owner.is_none() { (ctx.t("(继承)", " (inherited)")) }
                                " · " (profile_label(&r.deadlines, lang)) @if c.deadlines.is_none() { (ctx.t("(继承)", " (inherited)")) }
                                " · " (ctx.t("匿名", "anonymous")) " " (yes_no(r.anonymous_allowed))
                            }
                        }
                        @if !c.fields.is_empty() {
                            div.muted { (ctx.t("补充信息:", "Attributes: ")) @for f in c.fields_in_order() { code { (f.code) } @if f.required { "*" } " " } }
                        }
                    }
                    div {
                        a href={ "/admin/categories/" (c.code) "/edit" } { (ctx.t("修改", "Edit")) }
                        @if !retired { br; a href={ "/admin/categories/add?parent=" (c.code) } { (ctx.t("添加子类", "Add child")) } }
                    }
                }
            }
        }
        @if !versions.is_empty() {
            h2 { (ctx.t("修改记录", "History")) }
            ul.list { @for v in versions.iter().take(20) {
                li { span { (ctx.t("版本", "Version")) " " (v.version) " · " (v.summary) } span.muted { (crate::clock::format_local(v.created_at)) } }
            } }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("事项类别", "Case categories"),
        body,
    ))
}

// ---------------------------------------------------------------------------------------
// One category: the form's values, read from a category or from what was typed
// ---------------------------------------------------------------------------------------

/// The form's values by input name, as typed (so a refused form shows them again).
type Values = HashMap<String, String>;

fn period_values(v: &mut Values, name: &str, p: Period) {
    let (n, unit) = match p {
        Period::WorkingDays(n) => (n, "working_days"),
        Period::Hours(n) => (n, "hours"),
    };
    v.insert(format!("{name}_n"), n.to_string());
    v.insert(format!("{name}_unit"), unit.into());
}

/// Fills the period inputs with the inherited deadlines, a starting point should the
/// category set its own (ignored while "inherit" is chosen).
fn inherited_periods(v: &mut Values, d: &DeadlineProfile) {
    period_values(v, "first_contact", d.first_contact);
    period_values(v, "handling", d.handling);
    period_values(v, "rehandling", d.rehandling);
}

fn values_of(c: &Category, version: i64) -> Values {
    let mut v = Values::new();
    let mut put = |k: &str, s: String| {
        v.insert(k.to_string(), s);
    };
    put("version", version.to_string());
    put("code", c.code.clone());
    put("parent", c.parent.clone().unwrap_or_default());
    put("name_zh", c.name_zh.clone());
    put("name_en", c.name_en.clone());
    put(
        "owner",
        c.owner
            .and_then(|o| OWNERS.iter().find(|(u, _)| *u == o))
            .map(|(_, k)| k.to_string())
            .unwrap_or_default(),
    );
    let tri = |b: Option<bool>| match b {
        None => String::new(),
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
    };
    put("anonymous", tri(c.anonymous_allowed));
    put("urgent", tri(c.urgent));
    put("keywords", c.keywords.join(", "));
    put("fields", (c.fields.len() + 1).to_string());
    match &c.deadlines {
        None => put("deadlines", "inherit".into()),
        Some(d) => {
            put("deadlines", "set".into());
            put(
                "day_end",
                match d.day_end {
                    DayEnd::Midnight => String::new(),
                    DayEnd::OfficeClose { hour, minute } => format!("{hour:02}:{minute:02}"),
                },
            );
        }
    }
    if let Some(d) = &c.deadlines {
        period_values(&mut v, "first_contact", d.first_contact);
        period_values(&mut v, "handling", d.handling);
        period_values(&mut v, "rehandling", d.rehandling);
    }
    for (j, f) in c.fields_in_order().into_iter().enumerate() {
        let mut put = |k: &str, s: String| {
            v.insert(format!("f{j}_{k}"), s);
        };
        put("code", f.code.clone());
        put("datatype", f.datatype.as_str().into());
        if f.required {
            put("required", "1".into());
        }
        if !f.variable {
            put("info", "1".into());
        }
        put("order", f.order.to_string());
        put("desc_zh", f.description_zh.clone());
        put("desc_en", f.description_en.clone());
        put(
            "hint_zh",
            f.datatype_description_zh.clone().unwrap_or_default(),
        );
        put(
            "hint_en",
            f.datatype_description_en.clone().unwrap_or_default(),
        );
        put(
            "values",
            f.values
                .iter()
                .map(|x| format!("{} | {} | {}", x.key, x.name_zh, x.name_en))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    v
}

fn val<'a>(v: &'a Values, k: &str) -> &'a str {
    v.get(k).map(|s| s.trim()).unwrap_or("")
}

fn bad_number(field: String) -> FieldError {
    FieldError::new(field, Text::new("请填写一个正整数", "enter a whole number"))
}

fn read_period(v: &Values, name: &str, errors: &mut Vec<FieldError>) -> Period {
    let field = format!("deadlines.{name}");
    let n = match val(v, &format!("{name}_n")).parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            errors.push(bad_number(field));
            1
        }
    };
    match val(v, &format!("{name}_unit")) {
        "hours" => Period::Hours(n),
        _ => Period::WorkingDays(n),
    }
}

/// Reads a category from the form; errors name the same fields validation does.
fn category_of(v: &Values, code: &str) -> std::result::Result<Category, Vec<FieldError>> {
    let mut errors = Vec::new();
    let tri = |k: &str| match val(v, k) {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let owner = match val(v, "owner") {
        "" => None,
        o => match OWNERS.iter().find(|(_, k)| *k == o) {
            Some((u, _)) => Some(*u),
            None => {
                errors.push(FieldError::new(
                    "owner",
                    Text::new("没有这个承办单位类型", "no such owning unit type"),
                ));
                None
            }
        },
    };
    let deadlines = if val(v, "deadlines") == "set" {
        let day_end = match val(v, "day_end") {
            "" => DayEnd::Midnight,
            t => match t
                .split_once(':')
                .and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)))
            {
                Some((hour, minute)) => DayEnd::OfficeClose { hour, minute },
                None => {
                    errors.push(FieldError::new(
                        "deadlines.day_end",
                        Text::new("下班时间请写成 17:30 的形式", "write office close as 17:30"),
                    ));
                    DayEnd::Midnight
                }
            },
        };
        Some(DeadlineProfile {
            first_contact: read_period(v, "first_contact", &mut errors),
            handling: read_period(v, "handling", &mut errors),
            rehandling: read_period(v, "rehandling", &mut errors),
            day_end,
        })
    } else {
        None
    };
    let rows = val(v, "fields")
        .parse::<usize>()
        .unwrap_or(0)
        .min(MAX_FIELD_ROWS);
    let mut fields = Vec::new();
    for j in 0..rows {
        let g = |k: &str| val(v, &format!("f{j}_{k}"));
        // A row without a code is an unused (or cleared) row.
        if g("code").is_empty() {
            continue;
        }
        let at = fields.len();
        let datatype = DATATYPES
            .iter()
            .copied()
            .find(|d| d.as_str() == g("datatype"))
            .unwrap_or(Datatype::String);
        let order = if g("order").is_empty() {
            (at + 1) as u32
        } else {
            g("order").parse::<u32>().unwrap_or_else(|_| {
                errors.push(bad_number(format!("fields[{at}].order")));
                0
            })
        };
        let mut values = Vec::new();
        for (k, line) in g("values")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            let parts: Vec<&str> = line.split(['|', '|']).map(str::trim).collect();
            match parts.as_slice() {
                [key, zh, en] => values.push(FieldValue {
                    key: key.to_string(),
                    name_zh: zh.to_string(),
                    name_en: en.to_string(),
                }),
                _ => errors.push(FieldError::new(
                    format!("fields[{at}].values[{k}].key"),
                    Text::owned(
                        format!("第 {} 行选项请写成“代码 | 中文名 | 英文名”", k + 1),
                        format!(
                            "choice line {} must read `key | Chinese name | English name`",
                            k + 1
                        ),
                    ),
                )),
            }
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        fields.push(Field {
            code: g("code").to_string(),
            variable: g("info") != "1",
            datatype,
            required: g("required") == "1",
            description_zh: g("desc_zh").to_string(),
            description_en: g("desc_en").to_string(),
            datatype_description_zh: opt(g("hint_zh")),
            datatype_description_en: opt(g("hint_en")),
            order,
            values,
        });
    }
    let keywords = val(v, "keywords")
        .split([',', ',', '、', ';', ';', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    let c = Category {
        code: code.to_string(),
        name_zh: val(v, "name_zh").to_string(),
        name_en: val(v, "name_en").to_string(),
        parent: opt_string(val(v, "parent")),
        owner,
        deadlines,
        anonymous_allowed: tri("anonymous"),
        urgent: tri("urgent"),
        keywords,
        fields,
        retired: false,
    };
    if errors.is_empty() {
        Ok(c)
    } else {
        Err(errors)
    }
}

fn opt_string(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The messages whose field is `name` or inside it (`fields[0]` holds `fields[0].code`).
fn errors_at<'a>(errors: &'a [FieldError], name: &str) -> Vec<&'a FieldError> {
    errors
        .iter()
        .filter(|e| {
            e.field == name
                || e.field
                    .strip_prefix(name)
                    .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
        })
        .collect()
}

fn inline(ctx: &Ctx, errors: &[FieldError], name: &str) -> Markup {
    let here = errors_at(errors, name);
    html! {
        @if !here.is_empty() {
            ul.field-errors { @for e in here { li { (ctx.text(&e.message)) } } }
        }
    }
}

fn select_opt(value: &str, current: &str, label: &str) -> Markup {
    html! { option value=(value) selected[value == current] { (label) } }
}

struct Shown<'a> {
    /// `None` when adding.
    editing: Option<&'a str>,
    values: &'a Values,
    errors: &'a [FieldError],
    notice: Option<Text>,
}

fn render_form(ctx: &Ctx, st: &Stored, shown: Shown<'_>) -> Markup {
    let v = shown.values;
    let errors = shown.errors;
    let lang = ctx.lang;
    let action = match shown.editing {
        Some(code) => format!("/admin/categories/{code}/edit"),
        None => "/admin/categories/add".to_string(),
    };
    let rows = val(v, "fields")
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, MAX_FIELD_ROWS);
    let parent = val(v, "parent");
    let tri = |name: &str, inherit: &str| {
        let cur = val(v, name).to_string();
        html! {
            select name=(name) {
                (select_opt("", &cur, inherit))
                (select_opt("yes", &cur, ctx.t("是", "yes")))
                (select_opt("no", &cur, ctx.t("否", "no")))
            }
        }
    };
    let inherit = ctx.t(
        "继承上级(顶级类别须指定)",
        "inherit from the parent (a top-level category must set it)",
    );
    let editing_retired = shown
        .editing
        .and_then(|c| st.tree.get(c))
        .is_some_and(|c| c.retired);
    html! {
        p { a href="/admin/categories" { "‹ " (ctx.t("事项类别", "Case categories")) } }
        @if let Some(n) = &shown.notice { p.notice.error role="alert" { (ctx.text(n)) } }
        @if !errors.is_empty() {
            ul.field-errors role="alert" { @for e in errors { li { (ctx.text(&e.message)) } } }
        }
        form.stack.card method="post" action=(action) {
            (csrf(ctx))
            input type="hidden" name="version" value=(val(v, "version"));
            input type="hidden" name="fields" value=(rows);
            @match shown.editing {
                Some(code) => {
                    p { (ctx.t("代码", "Code")) ": " code { (code) } " " span.muted { (ctx.t("(代码不可修改)", "(codes cannot change)")) } }
                    @if editing_retired { p.notice { (ctx.t("此类别已停用。", "This category is retired.")) } }
                }
                None => {
                    label { (ctx.t("代码(小写字母开头,如 env.garbage;保存后不可修改)", "Code (starts with a lower-case letter, e.g. env.garbage; cannot change once saved)"))
                        input type="text" name="code" value=(val(v, "code")) required autocapitalize="off" spellcheck="false";
                    }
                    (inline(ctx, errors, "code"))
                }
            }
            label { (ctx.t("上级类别", "Parent"))
                select name="parent" {
                    (select_opt("", parent, ctx.t("(无,顶级类别)", "(none: a top-level category)")))
                    @for (depth, c) in st.tree.depth_first() {
                        @if Some(c.code.as_str()) != shown.editing {
                            option value=(c.code) selected[c.code == parent] {
                                @for _ in 0..depth { "— " } (c.name().get(lang)) " (" (c.code) ")"
                            }
                        }
                    }
                }
            }
            (inline(ctx, errors, "parent"))
            label { (ctx.t("中文名称", "Chinese name")) input type="text" name="name_zh" value=(val(v, "name_zh")) required; }
            (inline(ctx, errors, "name_zh"))
            label { (ctx.t("英文名称", "English name")) input type="text" name="name_en" value=(val(v, "name_en")) required; }
            (inline(ctx, errors, "name_en"))
            label { (ctx.t("承办单位类型", "Owning unit type"))
                select name="owner" {
                    (select_opt("", val(v, "owner"), inherit))
                    @for (u, k) in OWNERS { (select_opt(k, val(v, "owner"), ctx.text(&u.label()))) }
                }
            }
            (inline(ctx, errors, "owner"))
            fieldset {
                legend { (ctx.t("办理时限", "Deadlines")) }
                label { select name="deadlines" {
                    (select_opt("inherit", val(v, "deadlines"), inherit))
                    (select_opt("set", val(v, "deadlines"), ctx.t("本类别设定如下", "set here as below")))
                } }
                @for (name, zh, en) in PERIODS {
                    @let unit = val(v, &format!("{name}_unit")).to_string();
                    label { (ctx.t(zh, en))
                        span.inline-form {
                            input type="number" name={ (name) "_n" } min="1" max="720" value=(val(v, &format!("{name}_n"))) inputmode="numeric";
                            select name={ (name) "_unit" } {
                                (select_opt("working_days", &unit, ctx.t("个工作日", "working days")))
                                (select_opt("hours", &unit, ctx.t("小时(紧急)", "hours (urgent)")))
                            }
                        }
                    }
                    (inline(ctx, errors, &format!("deadlines.{name}")))
                }
                label { (ctx.t("最后一个工作日截至(留空为 24:00,或填下班时间如 17:30)", "The last working day ends at (blank for 24:00, or office close such as 17:30)"))
                    input type="text" name="day_end" value=(val(v, "day_end")) placeholder="17:30" inputmode="numeric";
                }
                (inline(ctx, errors, "deadlines"))
            }
            label { (ctx.t("允许匿名上报", "Anonymous reports allowed")) (tri("anonymous", inherit)) }
            (inline(ctx, errors, "anonymous_allowed"))
            label { (ctx.t("紧急类别(时限须按小时计)", "Urgent (periods must count in hours)")) (tri("urgent", ctx.t("继承上级(默认否)", "inherit (default no)"))) }
            (inline(ctx, errors, "urgent"))
            label { (ctx.t("关键词(用逗号分隔)", "Keywords (comma-separated)")) input type="text" name="keywords" value=(val(v, "keywords")); }
            h2 { (ctx.t("补充信息(Open311 属性)", "Attributes (Open311)")) }
            p.muted { (ctx.t("清空代码即删除该项;最后一行用于新增。列表选项每行一个:代码 | 中文名 | 英文名。", "Clear a code to remove the attribute; the last row adds one. List choices one a line: key | Chinese name | English name.")) }
            @for j in 0..rows {
                @let g = |k: &str| val(v, &format!("f{j}_{k}")).to_string();
                fieldset {
                    legend { (ctx.t("第", "Attribute ")) (j + 1) (ctx.t("项", "")) }
                    label { (ctx.t("代码", "Code")) input type="text" name={ "f" (j) "_code" } value=(g("code")) autocapitalize="off" spellcheck="false"; }
                    label { (ctx.t("类型", "Type"))
                        select name={ "f" (j) "_datatype" } {
                            @for d in DATATYPES { (select_opt(d.as_str(), &g("datatype"), ctx.text(&datatype_label(d)))) }
                        }
                    }
                    label { input type="checkbox" name={ "f" (j) "_required" } value="1" checked[g("required") == "1"]; " " (ctx.t("必填", "Required")) }
                    label { input type="checkbox" name={ "f" (j) "_info" } value="1" checked[g("info") == "1"]; " " (ctx.t("仅供说明(不填写)", "Informational (takes no value)")) }
                    label { (ctx.t("顺序", "Order")) input type="number" name={ "f" (j) "_order" } min="0" value=(g("order")); }
                    label { (ctx.t("问题(中文)", "Question (Chinese)")) input type="text" name={ "f" (j) "_desc_zh" } value=(g("desc_zh")); }
                    label { (ctx.t("问题(英文)", "Question (English)")) input type="text" name={ "f" (j) "_desc_en" } value=(g("desc_en")); }
                    label { (ctx.t("填写提示(中文,可选)", "Hint (Chinese, optional)")) input type="text" name={ "f" (j) "_hint_zh" } value=(g("hint_zh")); }
                    label { (ctx.t("填写提示(英文,可选)", "Hint (English, optional)")) input type="text" name={ "f" (j) "_hint_en" } value=(g("hint_en")); }
                    label { (ctx.t("选项(单选/多选)", "Choices (lists only)")) textarea name={ "f" (j) "_values" } rows="3" spellcheck="false" { (g("values")) } }
                    (inline(ctx, errors, &format!("fields[{j}]")))
                }
            }
            div { button type="submit" { (ctx.t("保存", "Save")) } }
        }
        @if let Some(code) = shown.editing {
            form.inline-form method="post" action={ "/admin/categories/" (code) "/retire" } {
                (csrf(ctx))
                input type="hidden" name="version" value=(st.version);
                @if editing_retired {
                    input type="hidden" name="retired" value="0";
                    button.secondary type="submit" { (ctx.t("恢复启用", "Restore")) }
                } @else {
                    input type="hidden" name="retired" value="1";
                    button.secondary type="submit" { (ctx.t("停用此类别(已有事项不受影响)", "Retire this category (existing cases keep it)")) }
                }
            }
        }
    }
}

fn title(ctx: &Ctx, editing: Option<&str>) -> String {
    match editing {
        Some(code) => format!("{} {code}", ctx.t("修改类别", "Edit category")),
        None => ctx.t("新增类别", "Add a category").to_string(),
    }
}

fn form_page(ctx: &Ctx, st: &Stored, shown: Shown<'_>) -> Markup {
    let t = title(ctx, shown.editing);
    let body = html! { h1 { (t) } (render_form(ctx, st, shown)) };
    layout::page(ctx, &t, body)
}

/// A refused change shown on its form again: 409 for a stale version, 422 for invalid data.
fn refused(
    ctx: &Ctx,
    st: &Stored,
    editing: Option<&str>,
    values: &Values,
    e: Error,
) -> Result<Response> {
    let (status, errors, notice) = match e {
        Error::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        Error::Conflict(t) => (StatusCode::CONFLICT, Vec::new(), Some(t)),
        e => return Err(e),
    };
    let page = form_page(
        ctx,
        st,
        Shown {
            editing,
            values,
            errors: &errors,
            notice,
        },
    );
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
struct AddQ {
    parent: Option<String>,
}

async fn add_page(p: Page, Query(q): Query<AddQ>) -> Result<Markup> {
    require_admin(&p.actor)?;
    let st = current(&p.ctx.state.db, p.actor.subdistrict_id).await?;
    let mut values = Values::new();
    values.insert("version".into(), st.version.to_string());
    values.insert("fields".into(), "1".into());
    match q.parent.as_deref().filter(|c| st.tree.get(c).is_some()) {
        Some(parent) => {
            values.insert("parent".into(), parent.to_string());
            values.insert("code".into(), format!("{parent}."));
            values.insert("deadlines".into(), "inherit".into());
            if let Some(r) = st.tree.resolve(parent) {
                inherited_periods(&mut values, &r.deadlines);
            }
        }
        None => {
            values.insert("deadlines".into(), "set".into());
            for (name, p) in [
                ("first_contact", Period::WorkingDays(1)),
                ("handling", Period::WorkingDays(5)),
                ("rehandling", Period::WorkingDays(3)),
            ] {
                period_values(&mut values, name, p);
            }
        }
    }
    Ok(form_page(
        &p.ctx,
        &st,
        Shown {
            editing: None,
            values: &values,
            errors: &[],
            notice: None,
        },
    ))
}

fn values_from(form: Vec<(String, String)>) -> Values {
    form.into_iter().collect()
}

fn version_in(v: &Values) -> std::result::Result<i64, Vec<FieldError>> {
    val(v, "version").parse::<i64>().map_err(|_| {
        vec![FieldError::new(
            "version",
            Text::new(
                "表单缺少版本号,请刷新页面",
                "the form has no version; reload the page",
            ),
        )]
    })
}

async fn add_submit(p: Page, Form(form): Form<Vec<(String, String)>>) -> Result<Response> {
    require_admin(&p.actor)?;
    let db = &p.ctx.state.db;
    let values = values_from(form);
    let st = current(db, p.actor.subdistrict_id).await?;
    let code = val(&values, "code").to_string();
    let parsed = version_in(&values).and_then(|ver| Ok((ver, category_of(&values, &code)?)));
    let result = match parsed {
        Ok((ver, c)) => add(db, &p.actor, ver, c).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(saved(&code)),
        Err(e) => refused(&p.ctx, &st, None, &values, e),
    }
}

fn saved(code: &str) -> Response {
    let q: String = url::form_urlencoded::byte_serialize(code.as_bytes()).collect();
    Redirect::to(&format!("/admin/categories?saved={q}")).into_response()
}

async fn edit_page(p: Page, Path(code): Path<String>) -> Result<Markup> {
    require_admin(&p.actor)?;
    let st = current(&p.ctx.state.db, p.actor.subdistrict_id).await?;
    let c = st.tree.get(&code).ok_or(Error::NotFound)?;
    let mut values = values_of(c, st.version);
    if c.deadlines.is_none() {
        if let Some(r) = st.tree.resolve(&code) {
            inherited_periods(&mut values, &r.deadlines);
        }
    }
    Ok(form_page(
        &p.ctx,
        &st,
        Shown {
            editing: Some(&code),
            values: &values,
            errors: &[],
            notice: None,
        },
    ))
}

async fn edit_submit(
    p: Page,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response> {
    require_admin(&p.actor)?;
    let db = &p.ctx.state.db;
    let values = values_from(form);
    let st = current(db, p.actor.subdistrict_id).await?;
    let existing = st.tree.get(&code).ok_or(Error::NotFound)?;
    let parsed = version_in(&values).and_then(|ver| Ok((ver, category_of(&values, &code)?)));
    let result = match parsed {
        Ok((ver, mut c)) => {
            // Retiring has its own button; the form keeps the state it has.
            c.retired = existing.retired;
            update(db, &p.actor, ver, &code, c).await
        }
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(saved(&code)),
        Err(e) => refused(&p.ctx, &st, Some(&code), &values, e),
    }
}

#[derive(Deserialize)]
struct RetireForm {
    version: i64,
    retired: String,
}

async fn retire_submit(
    p: Page,
    Path(code): Path<String>,
    Form(f): Form<RetireForm>,
) -> Result<Response> {
    require_admin(&p.actor)?;
    let db = &p.ctx.state.db;
    let st = current(db, p.actor.subdistrict_id).await?;
    let existing = st.tree.get(&code).ok_or(Error::NotFound)?;
    match set_retired(db, &p.actor, f.version, &code, f.retired == "1").await {
        Ok(_) => Ok(saved(&code)),
        Err(e) => {
            let values = values_of(existing, st.version);
            refused(&p.ctx, &st, Some(&code), &values, e)
        }
    }
}

// ---------------------------------------------------------------------------------------
// The whole tree as TOML
// ---------------------------------------------------------------------------------------

fn toml_render(
    ctx: &Ctx,
    version: i64,
    text: &str,
    errors: &[FieldError],
    notice: Option<&Text>,
) -> Markup {
    let body = html! {
        p { a href="/admin/categories" { "‹ " (ctx.t("事项类别", "Case categories")) } }
        h1 { (ctx.t("以 TOML 文本编辑类别", "Edit the categories as TOML")) }
        p.muted { (ctx.t("每个类别一个 [[category]] 表,格式同系统内置的 seed.toml。类别不能删除或改代码,请用 retired = true 停用。", "One [[category]] table per category, as in the shipped seed.toml. Categories cannot be deleted or recoded: retire them with retired = true.")) }
        @if let Some(n) = notice { p.notice.error role="alert" { (ctx.text(n)) } }
        form.stack.card method="post" action="/admin/categories/toml" {
            (csrf(ctx))
            input type="hidden" name="version" value=(version);
            label { (ctx.t("类别配置", "Categories"))
                textarea name="text" rows="30" spellcheck="false" { (text) }
            }
            @if !errors.is_empty() {
                ul.field-errors role="alert" { @for e in errors { li { code { (e.field) } " " (ctx.text(&e.message)) } } }
            }
            div { button type="submit" { (ctx.t("检查并保存", "Check and save")) } }
        }
    };
    layout::page(
        ctx,
        ctx.t("以 TOML 文本编辑类别", "Edit the categories as TOML"),
        body,
    )
}

async fn toml_page(p: Page) -> Result<Markup> {
    require_admin(&p.actor)?;
    let st = current(&p.ctx.state.db, p.actor.subdistrict_id).await?;
    Ok(toml_render(
        &p.ctx,
        st.version,
        &st.tree.to_toml(),
        &[],
        None,
    ))
}

#[derive(Deserialize)]
struct TomlForm {
    version: i64,
    #[serde(default)]
    text: String,
}

async fn toml_submit(p: Page, Form(f): Form<TomlForm>) -> Result<Response> {
    require_admin(&p.actor)?;
    let db = &p.ctx.state.db;
    let result = match CategoryTree::from_toml(&f.text) {
        Ok(tree) => save(db, &p.actor, f.version, tree, ChangeKind::Replace, "").await,
        Err(t) => Err(Error::field("text", t)),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/categories?saved=toml").into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            toml_render(&p.ctx, f.version, &f.text, &errors, None),
        )
            .into_response()),
        Err(Error::Conflict(t)) => Ok((
            StatusCode::CONFLICT,
            toml_render(&p.ctx, f.version, &f.text, &[], Some(&t)),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seeded_category_survives_the_form_unchanged() {
        let tree = CategoryTree::seeded();
        for c in &tree.categories {
            let v = values_of(c, 7);
            assert_eq!(val(&v, "version"), "7");
            let back = category_of(&v, &c.code).unwrap_or_else(|e| panic!("{}: {e:?}", c.code));
            assert_eq!(&back, c, "{}", c.code);
        }
    }

    #[test]
    fn office_close_hours_and_informational_fields_survive_the_form() {
        let mut c = CategoryTree::seeded().get("safety.gas").unwrap().clone();
        c.deadlines = Some(DeadlineProfile {
            first_contact: Period::Hours(2),
            handling: Period::WorkingDays(4),
            rehandling: Period::Hours(9),
            day_end: DayEnd::OfficeClose {
                hour: 17,
                minute: 30,
            },
        });
        c.urgent = Some(false);
        c.anonymous_allowed = Some(false);
        c.fields = vec![Field {
            code: "note".into(),
            variable: false,
            datatype: Datatype::Text,
            required: false,
            description_zh: "说明".into(),
            description_en: "Note".into(),
            datatype_description_zh: Some("提示".into()),
            datatype_description_en: None,
            order: 3,
            values: vec![],
        }];
        assert_eq!(category_of(&values_of(&c, 0), &c.code).unwrap(), c);
    }

    #[test]
    fn bad_form_values_are_named_by_field() {
        let c = CategoryTree::seeded().get("env").unwrap().clone();
        let mut v = values_of(&c, 0);
        v.insert("handling_n".into(), "五".into());
        v.insert("day_end".into(), "late".into());
        v.insert("owner".into(), "nobody".into());
        v.insert("fields".into(), "1".into());
        v.insert("f0_code".into(), "kind".into());
        v.insert("f0_datatype".into(), "singlevaluelist".into());
        v.insert("f0_values".into(), "a | 甲 | A\nonly-a-key".into());
        v.insert("f0_order".into(), "x".into());
        let e = category_of(&v, "env").unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "owner",
                "deadlines.day_end",
                "deadlines.handling",
                "fields[0].order",
                "fields[0].values[1].key"
            ]
        );
    }

    #[test]
    fn blank_attribute_rows_are_dropped_and_keywords_split() {
        let c = CategoryTree::seeded().get("env").unwrap().clone();
        let mut v = values_of(&c, 0);
        v.insert("fields".into(), "3".into());
        v.insert("f1_code".into(), "plate".into());
        v.insert("f1_desc_zh".into(), "车牌".into());
        v.insert("f1_desc_en".into(), "Plate".into());
        v.insert("keywords".into(), "甲,乙、丙, 丁".into());
        let back = category_of(&v, "env").unwrap();
        assert_eq!(back.fields.len(), 1);
        assert_eq!(back.fields[0].code, "plate");
        assert_eq!(back.fields[0].order, 1);
        assert_eq!(back.keywords, ["甲", "乙", "丙", "丁"]);
    }

    #[test]
    fn errors_at_matches_the_field_and_inside_it() {
        let e = |f: &str| FieldError::new(f, Text::new("错", "wrong"));
        let all = [
            e("fields[0].code"),
            e("fields[10].code"),
            e("fields[0]"),
            e("name_zh"),
        ];
        assert_eq!(errors_at(&all, "fields[0]").len(), 2);
        assert_eq!(errors_at(&all, "name_zh").len(), 1);
        assert_eq!(errors_at(&all, "name").len(), 0);
    }

    #[test]
    fn periods_read_in_both_languages() {
        assert_eq!(
            period_label(Period::WorkingDays(1), Lang::En),
            "1 working day"
        );
        assert_eq!(
            period_label(Period::WorkingDays(5), Lang::En),
            "5 working days"
        );
        assert_eq!(period_label(Period::Hours(2), Lang::Zh), "2 小时");
        assert_eq!(
            profile_label(&DeadlineProfile::STANDARD, Lang::Zh),
            "首次联系 1 个工作日 · 办理 5 个工作日 · 重办 3 个工作日"
        );
    }
}
