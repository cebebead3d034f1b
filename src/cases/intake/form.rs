//! Pieces the intake pages share: the places a person may pick, the category choices, the
//! category's extra fields, the photo input and the map point block, and turning a posted
//! form into a [`NewCase`]. Everything renders and works without JavaScript; `intake.js`
//! only adds the location button and shows the extra fields of the chosen category.

use maud::{html, Markup};
use sqlx::Row;

use super::multipart::{Posted, PHOTO_FIELD};
use super::rules::{self, MAX_PHOTOS};
use crate::access::{allows, Action as Access, Actor, Role, Target};
use crate::cases::category::{Category, CategoryTree, Datatype};
use crate::cases::store::NewCase;
use crate::error::{FieldError, Result};
use crate::i18n::{Lang, Text};
use crate::tree::{store as tree, NodeKind};
use crate::web::{AppState, Ctx};

/// The page's own stylesheet and script (both compiled into the binary, see `web::assets`).
pub fn assets() -> Markup {
    html! {
        link rel="stylesheet" href="/static/intake.css";
        script src="/static/intake.js" defer {}
    }
}

pub fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

/// Errors on fields the form does not show next to an input.
pub fn other_errors(ctx: &Ctx, errors: &[FieldError], shown: &[&str]) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| !shown.contains(&e.field.as_str()) && !e.field.starts_with("attribute[")) {
            p.error { (ctx.text(&e.message)) }
        }
    }
}

fn is_grid_or_below(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Grid | NodeKind::Building | NodeKind::Unit | NodeKind::VillageGroup
    )
}

/// The paths of the households a person belongs to.
pub async fn home_paths(st: &AppState, actor: &Actor) -> Result<Vec<String>> {
    let (Some(pid), true) = (actor.person_id, actor.has_role(Role::Resident)) else {
        return Ok(Vec::new());
    };
    crate::people::store::homes(&st.db, actor.subdistrict_id, pid).await
}

/// A resident's places: each home and the places above it down from the grid, the most
/// precise (the unit or building) first, as the store accepts them.
pub async fn resident_places(st: &AppState, actor: &Actor) -> Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for home in home_paths(st, actor).await? {
        let trail: Vec<tree::Node> = tree::ancestors(&st.db, actor.subdistrict_id, &home)
            .await?
            .into_iter()
            .filter(|n| is_grid_or_below(n.kind))
            .collect();
        for i in (0..trail.len()).rev() {
            let label = trail[..=i]
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(" › ");
            if !out.iter().any(|(id, _)| *id == trail[i].id) {
                out.push((trail[i].id, label));
            }
        }
    }
    Ok(out)
}

/// A grid member's places: each grid of their grid grants, then its buildings and groups.
pub async fn grid_places(st: &AppState, actor: &Actor) -> Result<Vec<(i64, String)>> {
    let sid = actor.subdistrict_id;
    let mut out: Vec<(i64, String)> = Vec::new();
    for g in &actor.grants {
        let Some(node_id) = g.node_id else { continue };
        if !matches!(g.role, Role::GridLeader | Role::GridMember)
            || !allows(actor, Access::ReadTree, Target::Node { path: &g.path })
        {
            continue;
        }
        let node = tree::node(&st.db, sid, node_id).await?;
        if !is_grid_or_below(node.kind) || out.iter().any(|(id, _)| *id == node.id) {
            continue;
        }
        out.push((node.id, node.name.clone()));
        for c in tree::children(&st.db, sid, node.id).await? {
            if is_grid_or_below(c.node.kind) {
                out.push((c.node.id, format!("{} › {}", node.name, c.node.name)));
            }
        }
    }
    Ok(out)
}

/// Whether the actor is staff who take offline contacts (subdistrict or community staff).
pub fn is_desk_staff(actor: &Actor) -> bool {
    actor.grants.iter().any(|g| {
        matches!(
            g.role,
            Role::SubdistrictAdmin | Role::SubdistrictStaff | Role::CommunityStaff
        ) && !g.path.is_empty()
    })
}

/// The grids (and village groups' grids) a staff member's grants reach, "community › grid".
pub async fn staff_places(st: &AppState, actor: &Actor) -> Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for g in &actor.grants {
        if !matches!(
            g.role,
            Role::SubdistrictAdmin | Role::SubdistrictStaff | Role::CommunityStaff
        ) || g.path.is_empty()
            || !allows(actor, Access::ReadTree, Target::Node { path: &g.path })
        {
            continue;
        }
        let rows = sqlx::query(
            "SELECT n.id, n.name, p.name AS parent FROM nodes n \
             LEFT JOIN nodes p ON p.subdistrict_id = n.subdistrict_id AND p.id = n.parent_id \
             WHERE n.subdistrict_id = $1 AND n.kind = 'grid' AND n.path LIKE $2 \
             ORDER BY n.path LIMIT 2000",
        )
        .bind(actor.subdistrict_id)
        .bind(format!("{}%", g.path))
        .fetch_all(st.db.read())
        .await?;
        for r in rows {
            let id: i64 = r.get("id");
            if out.iter().any(|(i, _)| *i == id) {
                continue;
            }
            let name: String = r.get("name");
            let parent: Option<String> = r.try_get("parent").ok().flatten();
            out.push((
                id,
                match parent {
                    Some(p) => format!("{p} › {name}"),
                    None => name,
                },
            ));
        }
    }
    Ok(out)
}

/// Whether `code` is a category one may file under (a leaf of the tree).
pub fn is_leaf_category(tree: &CategoryTree, code: &str) -> bool {
    tree.get(code).is_some() && tree.is_leaf(code)
}

/// Leaf categories under each root, as (root, [(code, name)]).
pub fn leaf_groups(tree: &CategoryTree, lang: Lang) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for root in tree.roots() {
        let mut leaves = Vec::new();
        let mut stack = vec![root.code.clone()];
        while let Some(code) = stack.pop() {
            if tree.is_leaf(&code) {
                let name = if code == root.code {
                    root.name().get(lang).to_string()
                } else {
                    leaf_name(tree, &code, lang)
                };
                leaves.push((code, name));
            } else {
                let mut kids: Vec<String> = tree.children(&code).map(|c| c.code.clone()).collect();
                kids.reverse();
                stack.extend(kids);
            }
        }
        if !leaves.is_empty() {
            out.push((root.name().get(lang).to_string(), leaves));
        }
    }
    out
}

/// A leaf's name under its root (the root's name left out).
fn leaf_name(tree: &CategoryTree, code: &str, lang: Lang) -> String {
    let chain = tree.ancestors(code);
    let names: Vec<String> = chain
        .iter()
        .rev()
        .skip(1)
        .map(|c| c.name().get(lang).to_string())
        .collect();
    match tree.get(code) {
        Some(c) if names.is_empty() => c.name().get(lang).to_string(),
        _ => names.join(" › "),
    }
}

/// A `<select name=category>` of every leaf, grouped by root.
pub fn category_select(ctx: &Ctx, tree: &CategoryTree, chosen: &str) -> Markup {
    html! {
        select name="category" required data-category-select {
            option value="" selected[chosen.is_empty()] { (ctx.t("请选择", "Choose")) }
            @for (root, leaves) in leaf_groups(tree, ctx.lang) {
                optgroup label=(root) {
                    @for (code, name) in leaves {
                        option value=(code) selected[chosen == code] { (name) }
                    }
                }
            }
        }
    }
}

/// The value of a field as posted back, for re-rendering.
fn posted<'a>(values: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    values
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The category's extra questions as inputs named `{prefix}[code]` (`[code][]` for lists).
pub fn field_inputs(
    ctx: &Ctx,
    cat: &Category,
    prefix: &str,
    values: &[(String, String)],
    errors: &[FieldError],
) -> Markup {
    html! {
        @for f in cat.fields_in_order() {
            @let list = f.datatype == Datatype::Multivaluelist;
            @let name = rules::attribute_name(prefix, &f.code, list);
            @let now = posted(values, &name);
            @let first = now.first().copied().unwrap_or("");
            @let question = ctx.t(&f.description_zh, &f.description_en);
            @let hint = match ctx.lang {
                Lang::Zh => f.datatype_description_zh.as_deref(),
                Lang::En => f.datatype_description_en.as_deref(),
            };
            @if !f.variable {
                p.muted { (question) }
            } @else if list {
                fieldset.choices {
                    legend { (question) @if f.required { " *" } }
                    @for v in &f.values {
                        label.check {
                            input type="checkbox" name=(name) value=(v.key) checked[now.contains(&v.key.as_str())];
                            " " (ctx.t(&v.name_zh, &v.name_en))
                        }
                    }
                    (errors_for(ctx, errors, &format!("attribute[{}]", f.code)))
                }
            } @else {
                label {
                    span { (question) @if f.required { " *" } }
                    @match f.datatype {
                        Datatype::Singlevaluelist => {
                            select name=(name) required[f.required] {
                                option value="" { (ctx.t("请选择", "Choose")) }
                                @for v in &f.values {
                                    option value=(v.key) selected[first == v.key] { (ctx.t(&v.name_zh, &v.name_en)) }
                                }
                            }
                        }
                        Datatype::Text => { textarea name=(name) rows="3" required[f.required] { (first) } }
                        Datatype::Datetime => { input type="datetime-local" name=(name) value=(first) required[f.required]; }
                        Datatype::Number => { input type="text" inputmode="decimal" name=(name) value=(first) required[f.required]; }
                        _ => { input type="text" name=(name) value=(first) required[f.required]; }
                    }
                    @if let Some(h) = hint { small.muted { (h) } }
                    (errors_for(ctx, errors, &format!("attribute[{}]", f.code)))
                }
            }
        }
    }
}

/// One fieldset of extra questions per category that asks any, named `q.{code}[field]`;
/// `intake.js` shows only the chosen category's (and disables the others so they are not
/// sent); without it all are shown and the server reads only the chosen one's.
pub fn per_category_fields(
    ctx: &Ctx,
    tree: &CategoryTree,
    chosen: &str,
    values: &[(String, String)],
    errors: &[FieldError],
) -> Markup {
    html! {
        @for c in tree.categories.iter().filter(|c| tree.is_leaf(&c.code) && !c.fields.is_empty()) {
            fieldset.extra data-for-category=(c.code) {
                legend { (c.name().get(ctx.lang)) }
                (field_inputs(ctx, c, &format!("q.{}", c.code), values, if c.code == chosen { errors } else { &[] }))
            }
        }
    }
}

/// The photo input: the camera on a phone, several at once.
pub fn photo_input(ctx: &Ctx, errors: &[FieldError], big: bool) -> Markup {
    html! {
        label.photo.big[big] {
            span { (ctx.t("照片", "Photos")) " " small.muted { (ctx.t(&format!("(最多 {MAX_PHOTOS} 张)"), &format!("(up to {MAX_PHOTOS})"))) } }
            input type="file" name=(PHOTO_FIELD) accept="image/*" capture="environment" multiple;
            (errors_for(ctx, errors, PHOTO_FIELD))
        }
    }
}

/// The map point: a button that asks the browser for the position (JavaScript), the
/// coordinates as text (editable, so the form also works without it), and the address.
pub fn location_block(
    ctx: &Ctx,
    lat: &str,
    lng: &str,
    address: &str,
    errors: &[FieldError],
) -> Markup {
    html! {
        fieldset.location {
            legend { (ctx.t("具体位置(可选)", "Exact spot (optional)")) }
            button.secondary.locate type="button" hidden data-locate
                data-busy=(ctx.t("正在定位…", "Locating…"))
                data-failed=(ctx.t("无法获取位置,请填写地址", "Could not get the position; type the address")) {
                (ctx.t("使用我的位置", "Use my location"))
            }
            span.coords data-coords {}
            div.latlng {
                label { (ctx.t("纬度", "Latitude")) input type="text" inputmode="decimal" name="lat" value=(lat) data-lat; (errors_for(ctx, errors, "lat_e6")) }
                label { (ctx.t("经度", "Longitude")) input type="text" inputmode="decimal" name="lng" value=(lng) data-lng; (errors_for(ctx, errors, "lng_e6")) }
            }
            label { (ctx.t("地址或地标", "Address or landmark"))
                input type="text" name="address" value=(address) maxlength="200"
                    placeholder=(ctx.t("例如:3号楼东侧垃圾房", "e.g. the bin room east of building 3"));
                (errors_for(ctx, errors, "address"))
            }
        }
    }
}

/// The common part of a posted form as a [`NewCase`]; problems with the map point or the
/// place come back as field errors for the store's to join.
pub fn new_case_from(p: &Posted, category: &str, attr_prefix: &str) -> (NewCase, Vec<FieldError>) {
    let mut errors = Vec::new();
    let lat = rules::parse_degrees(p.get("lat"), 90).unwrap_or_else(|t| {
        errors.push(FieldError::new("lat_e6", t));
        None
    });
    let lng = rules::parse_degrees(p.get("lng"), 180).unwrap_or_else(|t| {
        errors.push(FieldError::new("lng_e6", t));
        None
    });
    let node_id = match p.get("node_id").trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => {
            errors.push(FieldError::new(
                "node_id",
                Text::new("请选择地点", "choose a place"),
            ));
            0
        }
    };
    let new = NewCase {
        category: category.to_string(),
        node_id,
        title: p.get("title").to_string(),
        description: p.get("description").to_string(),
        anonymous: p.has("anonymous"),
        lat_e6: lat,
        lng_e6: lng,
        address: p.get("address").to_string(),
        occurred_at: None,
        contact_name: String::new(),
        contact_phone: String::new(),
        attributes: rules::attributes_from_pairs(&p.pairs, attr_prefix),
        draft: false,
        source_ref: String::new(),
    };
    (new, errors)
}
