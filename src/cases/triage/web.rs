//! The triage page `/triage`: the queue, oldest first, one card per report with its merge
//! suggestions and plain forms (no script needed): register (立案), reject with a reason,
//! merge into a suggested case or a typed case number, and correct the category and place.
//!
//! - `POST /triage/{id}/register|reject|merge|reclassify`: each form posts the version it
//!   was rendered with; success redirects back to the queue, a refusal re-renders it with the
//!   reason above the card (409 stale or refused by state, 422 wrong input, 403 not allowed).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::rules::{self, CaseRef};
use super::QueueItem;
use crate::cases::category::CategoryTree;
use crate::cases::lifecycle::State;
use crate::cases::store::{self, CaseAction};
use crate::error::{Error, FieldError, Result};
use crate::i18n::{Lang, Text};
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/triage", get(queue_page))
        .route("/triage/{id}/{op}", post(act))
}

/// What the page shows after a refused form.
struct Notice {
    case_id: i64,
    status: StatusCode,
    message: Text,
    errors: Vec<FieldError>,
}

fn state_label(ctx: &Ctx, code: &str) -> String {
    match State::from_code(code) {
        Some(s) => ctx.text(&s.label()).to_string(),
        None => code.to_string(),
    }
}

/// Leaf categories under each root, as (root name, [(code, full name)]).
fn leaf_groups(tree: &CategoryTree, lang: Lang) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for root in tree.roots() {
        let mut leaves = Vec::new();
        let mut stack = vec![root.code.clone()];
        while let Some(code) = stack.pop() {
            if tree.is_leaf(&code) {
                let name = tree.path_name(&code, lang);
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

fn hidden_version(ctx: &Ctx, version: i64) -> Markup {
    html! {
        (csrf(ctx))
        input type="hidden" name="version" value=(version);
    }
}

fn card(
    ctx: &Ctx,
    item: &QueueItem,
    tree: &CategoryTree,
    groups: &[(String, Vec<(String, String)>)],
    notice: Option<&Notice>,
) -> Markup {
    let e = &item.entry;
    let base = format!("/triage/{}", e.id);
    html! {
        article.card id={ "case-" (e.id) } {
            h2 {
                a href={ "/cases/" (e.id) } { span.muted { (e.number) } " " (e.title) }
                " " span.tag { (state_label(ctx, &e.state)) }
            }
            @if let Some(n) = notice {
                p.notice.error { (ctx.text(&n.message)) }
                @for fe in &n.errors { p.error { (ctx.text(&fe.message)) } }
            }
            p.muted {
                (tree.path_name(&e.category, ctx.lang)) " · " (e.place) " · "
                (e.reporter_name) " · " (crate::clock::format_local(e.created_at))
            }
            p.description { (e.description) }

            @if !item.suggestions.is_empty() {
                h3 { (ctx.t("可能重复", "Possible duplicates")) }
            }
            form.stack method="post" action={ (base) "/merge" } {
                (hidden_version(ctx, e.version))
                @if !item.suggestions.is_empty() {
                    ul.list {
                        @for (i, d) in item.suggestions.iter().enumerate() {
                            li {
                                label {
                                    input type="radio" name="into" value=(d.id) checked[i == 0];
                                    " " a href={ "/cases/" (d.id) } { span.muted { (d.number) } " " (d.title) }
                                    " " span.tag { (state_label(ctx, &d.state)) }
                                }
                                span.muted {
                                    (ctx.t("相似度评分", "score")) " " (format!("{:.2}", d.score)) " · "
                                    @for (j, r) in d.reasons.iter().enumerate() {
                                        @if j > 0 { "、" }
                                        (ctx.text(&r.label()))
                                    }
                                }
                            }
                        }
                    }
                }
                label { (ctx.t("或输入事项编号", "Or type a case number"))
                    input type="text" name="into_ref" inputmode="numeric" placeholder="2026-000123";
                }
                button.secondary type="submit" { (ctx.t("合并到所选事项", "Merge into the chosen case")) }
            }

            div.actions {
                form.inline method="post" action={ (base) "/register" } {
                    (hidden_version(ctx, e.version))
                    button type="submit" { (ctx.t("立案", "Register")) }
                }
                form.stack method="post" action={ (base) "/reject" } {
                    (hidden_version(ctx, e.version))
                    label { (ctx.t("不予立案的理由", "Reason for rejecting"))
                        textarea name="reason" rows="2" required {}
                    }
                    button.secondary type="submit" { (ctx.t("不予立案", "Reject")) }
                }
            }
            details {
                summary { (ctx.t("更正类别或地点", "Correct the category or place")) }
                form.stack method="post" action={ (base) "/reclassify" } {
                    (hidden_version(ctx, e.version))
                    label { (ctx.t("类别", "Category"))
                        select name="category" {
                            @for (root, leaves) in groups {
                                optgroup label=(root) {
                                    @for (code, name) in leaves {
                                        option value=(code) selected[e.category == *code] { (name) }
                                    }
                                }
                            }
                        }
                    }
                    label { (ctx.t("地点编号(网格、楼栋、单元或村民小组)", "Place id (grid, building, unit or village group)"))
                        input type="number" name="node_id" value=(e.node_id) required;
                    }
                    button.secondary type="submit" { (ctx.t("保存更正", "Save the correction")) }
                }
            }
        }
    }
}

async fn render(p: &Page, notice: Option<Notice>) -> Result<Response> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let items = super::queue(db, &p.actor).await?;
    let tree = crate::cases::category_store::offered(db, p.actor.subdistrict_id).await?;
    let groups = leaf_groups(&tree, ctx.lang);
    let shown = notice
        .as_ref()
        .is_some_and(|n| items.iter().any(|i| i.entry.id == n.case_id));
    let body = html! {
        p { a href="/cases" { "‹ " (ctx.t("事项", "Cases")) } }
        h1 { (ctx.t("分拣立案", "Triage")) }
        p.muted { (ctx.t(
            "待分拣和待立案的反映,最早的在前。立案前可更正类别和地点;重复的反映请合并,反映人会随合并后的事项收到进展。",
            "Drafts and reports awaiting registration, oldest first. Correct the category and place before registering; merge duplicates — their reporters then follow the case they were merged into."
        )) }
        @if let (Some(n), false) = (&notice, shown) {
            p.notice.error { (ctx.text(&n.message)) }
            @for fe in &n.errors { p.error { (ctx.text(&fe.message)) } }
        }
        @if items.is_empty() {
            p.notice { (ctx.t("没有待分拣的反映。", "Nothing awaits triage.")) }
        }
        @for item in &items {
            (card(ctx, item, &tree, &groups, notice.as_ref().filter(|n| n.case_id == item.entry.id)))
        }
    };
    let page = layout::page(ctx, ctx.t("分拣立案", "Triage"), body);
    let status = notice.map(|n| n.status).unwrap_or(StatusCode::OK);
    Ok((status, page).into_response())
}

async fn queue_page(p: Page) -> Result<Response> {
    render(&p, None).await
}

#[derive(Deserialize, Default)]
struct TriageForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    into: String,
    #[serde(default)]
    into_ref: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    node_id: String,
}

fn field(name: &str, zh: &'static str, en: &'static str) -> Error {
    Error::field(name, Text::new(zh, en))
}

/// The merge target: a typed reference wins over the chosen suggestion.
async fn target_of(p: &Page, f: &TriageForm) -> Result<i64> {
    let typed = f.into_ref.trim();
    let chosen = f.into.trim();
    let no_case = || field("into", "没有这个事项", "no such case");
    let r = if !typed.is_empty() {
        rules::parse_case_ref(typed).ok_or_else(|| {
            field(
                "into",
                "请输入事项编号,如 2026-000123",
                "type a case number such as 2026-000123",
            )
        })?
    } else if !chosen.is_empty() {
        rules::parse_case_ref(chosen).ok_or_else(no_case)?
    } else {
        return Err(field(
            "into",
            "请选择或输入要合并到的事项",
            "choose or type the case to merge into",
        ));
    };
    match r {
        CaseRef::Id(id) => Ok(id),
        CaseRef::Number(n) => super::id_by_number(&p.ctx.state.db, p.actor.subdistrict_id, &n)
            .await?
            .ok_or_else(no_case),
    }
}

async fn perform(p: &Page, id: i64, op: &str, f: &TriageForm) -> Result<()> {
    let db = &p.ctx.state.db;
    let version = f.version.trim().parse::<i64>().map_err(|_| {
        Error::Conflict(Text::new(
            "该事项已被他人修改,请刷新后重试",
            "the case was changed by someone else; reload",
        ))
    })?;
    match op {
        "register" => store::act(db, &p.actor, id, version, CaseAction::Register)
            .await
            .map(drop),
        "reject" => store::act(
            db,
            &p.actor,
            id,
            version,
            CaseAction::Reject {
                reason: f.reason.clone(),
            },
        )
        .await
        .map(drop),
        "merge" => {
            let into = target_of(p, f).await?;
            super::merge(db, &p.actor, id, version, into)
                .await
                .map(drop)
        }
        "reclassify" => {
            let node_id = match f.node_id.trim() {
                "" => None,
                s => Some(
                    s.parse::<i64>()
                        .map_err(|_| field("node_id", "请填写地点编号", "enter the place's id"))?,
                ),
            };
            super::reclassify(db, &p.actor, id, version, Some(&f.category), node_id)
                .await
                .map(drop)
        }
        _ => Err(Error::NotFound),
    }
}

async fn act(
    p: Page,
    Path((id, op)): Path<(i64, String)>,
    Form(f): Form<TriageForm>,
) -> Result<Response> {
    let notice = match perform(&p, id, &op, &f).await {
        Ok(()) => return Ok(Redirect::to("/triage").into_response()),
        Err(Error::Conflict(t)) => Notice {
            case_id: id,
            status: StatusCode::CONFLICT,
            message: t,
            errors: Vec::new(),
        },
        Err(Error::Invalid(errors)) => Notice {
            case_id: id,
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: Text::new("请检查填写的内容", "Check what you entered"),
            errors,
        },
        Err(Error::Forbidden) => Notice {
            case_id: id,
            status: StatusCode::FORBIDDEN,
            message: Text::new(
                "您不能对该事项执行此操作",
                "You may not do this on this case",
            ),
            errors: Vec::new(),
        },
        Err(e) => return Err(e),
    };
    render(&p, Some(notice)).await
}
