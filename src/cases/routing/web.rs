//! `/admin/routing`: the subdistrict's routing rules, for its administrators — the list (with
//! the unit and place each names), a form to add one, a button to remove one. Adding and
//! removing go through `store` (checks, audit).

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use sqlx::Row;

use super::rules::kind_label;
use super::store::{self, NewRule};
use crate::access::{allows, Action, Actor, Target};
use crate::cases::category::CategoryTree;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/routing", get(page).post(submit))
        .route("/admin/routing/{id}/remove", post(remove))
}

fn require_admin(actor: &Actor) -> Result<()> {
    if allows(actor, Action::Configure, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

#[derive(Deserialize, Default, Clone)]
struct RuleForm {
    #[serde(default)]
    category_prefix: String,
    #[serde(default)]
    node_id: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    priority: String,
}

#[derive(Deserialize, Default)]
struct PageQ {
    saved: Option<String>,
}

/// Every category code with its full name, in tree order.
fn categories(tree: &CategoryTree, ctx: &Ctx) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<String> = tree.roots().map(|c| c.code.clone()).collect();
    stack.reverse();
    while let Some(code) = stack.pop() {
        out.push((code.clone(), tree.path_name(&code, ctx.lang)));
        let mut kids: Vec<String> = tree.children(&code).map(|c| c.code.clone()).collect();
        kids.reverse();
        stack.extend(kids);
    }
    out
}

/// The places a rule can be limited to: communities, villages and grids.
async fn places(ctx: &Ctx, sid: i64) -> Result<Vec<(i64, String, i64)>> {
    let rows = sqlx::query(
        "SELECT id, name, depth FROM nodes WHERE subdistrict_id = $1 \
         AND kind IN ('community', 'village', 'grid') ORDER BY path",
    )
    .bind(sid)
    .fetch_all(ctx.state.db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

async fn render(p: &Page, f: &RuleForm, errors: &[FieldError], saved: bool) -> Result<Markup> {
    let ctx = &p.ctx;
    let sid = p.actor.subdistrict_id;
    let db = &ctx.state.db;
    let rules = store::list(db, sid).await?;
    let tree = crate::cases::category_store::tree(db, sid).await?;
    let cats = categories(&tree, ctx);
    let places = places(ctx, sid).await?;
    let units = store::all_units(db, sid).await?;
    let body = html! {
        h1 { (ctx.t("派单规则", "Routing rules")) }
        p.muted { (ctx.t(
            "事项按类别和地点派给承办单位:最具体的规则优先(类别层级更细、地点范围更小),其次按优先级;没有规则时按类别的默认承办单位类型派给事发地的网格、居委会/村委会、物业服务企业、街道或结对单位。",
            "Cases go to a unit by category and place: the most specific rule wins (a finer category, then a smaller place), then the higher priority; without a rule, the category's default unit type is placed on the case's grid, committee, property company, subdistrict or pairing unit.")) }
        @if saved { p.success role="status" { (ctx.t("已保存。", "Saved.")) } }
        @if rules.is_empty() {
            p.notice { (ctx.t("尚无规则:全部按默认派单。", "No rules yet: every case is routed by default.")) }
        } @else {
            div.table-wrap { table {
                tr {
                    th { (ctx.t("类别", "Category")) } th { (ctx.t("地点", "Place")) }
                    th { (ctx.t("承办单位", "Unit")) } th { (ctx.t("优先级", "Priority")) } th {}
                }
                @for r in &rules {
                    tr {
                        td { @if r.category_prefix.is_empty() { (ctx.t("全部类别", "All categories")) } @else { (tree.path_name(&r.category_prefix, ctx.lang)) " " span.muted { (r.category_prefix) } } }
                        td { (r.node_name.clone().unwrap_or_else(|| ctx.t("全街道", "Whole subdistrict").to_string())) }
                        td {
                            (r.unit_name.clone().unwrap_or_else(|| format!("#{}", r.unit_id)))
                            @if let Some(k) = &r.unit_kind { " " span.tag { (ctx.text(&kind_label(k))) } }
                        }
                        td { (r.priority) }
                        td {
                            form.inline-form method="post" action={ "/admin/routing/" (r.id) "/remove" } {
                                (csrf(ctx))
                                button.secondary type="submit" { (ctx.t("删除", "Remove")) }
                            }
                        }
                    }
                }
            } }
        }
        h2 { (ctx.t("新增规则", "Add a rule")) }
        @if errors.iter().any(|e| !matches!(e.field.as_str(), "category_prefix" | "node_id" | "unit_id" | "priority")) {
            p.error { @for e in errors { (ctx.text(&e.message)) " " } }
        }
        form.stack.card method="post" action="/admin/routing" {
            (csrf(ctx))
            label { (ctx.t("类别(含其下小类)", "Category (with its subcategories)"))
                select name="category_prefix" {
                    option value="" selected[f.category_prefix.is_empty()] { (ctx.t("全部类别", "All categories")) }
                    @for (code, name) in &cats {
                        option value=(code) selected[f.category_prefix == *code] { (name) }
                    }
                }
                (errors_for(ctx, errors, "category_prefix"))
            }
            label { (ctx.t("地点范围", "Place"))
                select name="node_id" {
                    option value="" selected[f.node_id.is_empty()] { (ctx.t("全街道", "Whole subdistrict")) }
                    @for (id, name, depth) in &places {
                        option value=(id) selected[f.node_id == id.to_string()] {
                            @for _ in 1..*depth { "— " } (name)
                        }
                    }
                }
                (errors_for(ctx, errors, "node_id"))
            }
            label { (ctx.t("承办单位", "Unit"))
                select name="unit_id" required {
                    option value="" selected[f.unit_id.is_empty()] { (ctx.t("请选择", "Choose")) }
                    @for u in &units {
                        option value=(u.id) selected[f.unit_id == u.id.to_string()] {
                            (u.name) " · " (ctx.text(&u.kind_label()))
                        }
                    }
                }
                (errors_for(ctx, errors, "unit_id"))
            }
            label { (ctx.t("优先级(同样具体时大者优先)", "Priority (breaks ties; higher wins)"))
                input type="number" name="priority" value=(if f.priority.is_empty() { "0" } else { &f.priority })
                    min=(-store::MAX_PRIORITY) max=(store::MAX_PRIORITY);
                (errors_for(ctx, errors, "priority"))
            }
            button type="submit" { (ctx.t("添加", "Add")) }
        }
    };
    Ok(layout::page(ctx, ctx.t("派单规则", "Routing rules"), body))
}

async fn page(p: Page, Query(q): Query<PageQ>) -> Result<Markup> {
    require_admin(&p.actor)?;
    render(&p, &RuleForm::default(), &[], q.saved.is_some()).await
}

fn parse_form(f: &RuleForm) -> std::result::Result<NewRule, Vec<FieldError>> {
    let mut errors = Vec::new();
    let opt_id = |field: &str, s: &str, errors: &mut Vec<FieldError>| -> Option<i64> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match s.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    Text::new("请从列表中选择", "choose from the list"),
                ));
                None
            }
        }
    };
    let node_id = opt_id("node_id", &f.node_id, &mut errors);
    let unit_id = opt_id("unit_id", &f.unit_id, &mut errors);
    let priority = if f.priority.trim().is_empty() {
        0
    } else {
        match f.priority.trim().parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                errors.push(FieldError::new(
                    "priority",
                    Text::new("请填写整数", "enter a whole number"),
                ));
                0
            }
        }
    };
    if errors.is_empty() {
        Ok(NewRule {
            category_prefix: f.category_prefix.clone(),
            node_id,
            unit_id,
            priority,
        })
    } else {
        Err(errors)
    }
}

async fn submit(p: Page, Form(f): Form<RuleForm>) -> Result<Response> {
    require_admin(&p.actor)?;
    let result = match parse_form(&f) {
        Ok(new) => store::add(&p.ctx.state.db, &p.actor, new).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/routing?saved=1").into_response()),
        Err(Error::Invalid(errors)) => {
            let page = render(&p, &f, &errors, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn remove(p: Page, Path(id): Path<i64>) -> Result<Response> {
    require_admin(&p.actor)?;
    store::remove(&p.ctx.state.db, &p.actor, id).await?;
    Ok(Redirect::to("/admin/routing?saved=1").into_response())
}
