//! Case pages for people: the list of cases one's roles reach, the form to file a case, and a
//! case's page with its timeline and one small form per action the state machine allows the
//! viewer right now. Everything goes through `cases::store` (access checks, the rules,
//! optimistic concurrency, audit); this file only adds the list query the store lacks.
//!
//! - `GET /cases?state=&page=`: newest first, 50 a page, filtered by state.
//! - `GET|POST /cases/new`: the form carries an idempotency key made per render, so a form
//!   submitted twice files one case.
//! - `GET /cases/{id}`, `POST /cases/{id}/act`: the action forms post the version they were
//!   rendered with; a stale one re-renders the page with the current state (409).

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use sqlx::Row;

use super::category::CategoryTree;
use super::lifecycle::{
    self, ActionKind, ActorKind, EvaluationChannel, Rating, RefusalKind, State, ALL_STATES,
};
use super::store::{self, CaseAction, CaseRecord, NewCase, Visibility};
use crate::access::{allows, Action as Access, Actor, Role, Target};
use crate::error::{Error, FieldError, Result};
use crate::i18n::{Lang, Text};
use crate::tree::model::within;
use crate::tree::{store as tree, NodeKind};
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

/// Cases shown on one page of the list.
pub const PER_PAGE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/new", get(new_form).post(new_save))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/act", post(act))
}

const CONFLICT_TEXT: Text = Text::new(
    "事项已被他人更新,请查看最新状态后重试",
    "The case was updated by someone else; check its current state and try again",
);

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

fn state_label(ctx: &Ctx, code: &str) -> String {
    match State::from_code(code) {
        Some(s) => ctx.text(&s.label()).to_string(),
        None => code.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------

/// One row of the list.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: String,
    pub place: String,
    pub created_at: i64,
}

/// The node paths under which the actor's roles reach cases: every non-resident grant where
/// the actor may see the tree, with paths already covered by another left out.
fn reach_paths(actor: &Actor) -> Vec<String> {
    let mut paths: Vec<String> = actor
        .grants
        .iter()
        .filter(|g| !g.path.is_empty() && !matches!(g.role, Role::Resident | Role::Owner))
        .filter(|g| allows(actor, Access::ReadTree, Target::Node { path: &g.path }))
        .map(|g| g.path.clone())
        .collect();
    paths.sort();
    paths.dedup();
    let all = paths.clone();
    paths.retain(|p| !all.iter().any(|q| q != p && within(p, q)));
    paths
}

/// The first path after every path under `path` (which ends in `/`).
pub fn subtree_end(path: &str) -> String {
    format!("{}0", path.strip_suffix('/').unwrap_or(path))
}

/// Cases the actor reaches — under any of their grants' paths, or reported by them — newest
/// first, optionally in one state; `limit` rows from `offset`.
pub async fn cases_reached(
    db: &crate::storage::Db,
    actor: &Actor,
    state: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<CaseRow>> {
    let paths = reach_paths(actor);
    // $1 subdistrict, $2 reporter, $3 state ('' = any), $4 limit, $5 offset, then the paths.
    // A subtree is the range [path, path with its final '/' replaced by '0'), which the
    // (subdistrict_id, node_path, created_at) index answers without touching other cases.
    let mut reach = vec!["c.reporter_user_id = $2".to_string()];
    for i in 0..paths.len() {
        reach.push(format!(
            "(c.node_path >= ${} AND c.node_path < ${})",
            2 * i + 6,
            2 * i + 7
        ));
    }
    let sql = format!(
        "SELECT c.id, c.number, c.title, c.state, c.created_at, n.name AS place \
         FROM cases c JOIN nodes n ON n.subdistrict_id = c.subdistrict_id AND n.id = c.node_id \
         WHERE c.subdistrict_id = $1 AND ($3 = '' OR c.state = $3) AND ({}) \
         ORDER BY c.created_at DESC, c.id DESC LIMIT $4 OFFSET $5",
        reach.join(" OR ")
    );
    let mut q = sqlx::query(&sql)
        .bind(actor.subdistrict_id)
        .bind(if actor.user_id != 0 {
            actor.user_id
        } else {
            -1
        })
        .bind(state.unwrap_or("").to_string())
        .bind(limit)
        .bind(offset);
    for p in &paths {
        q = q.bind(p.clone()).bind(subtree_end(p));
    }
    let rows = q.fetch_all(db.read()).await?;
    Ok(rows
        .iter()
        .map(|r| CaseRow {
            id: r.get("id"),
            number: r.get("number"),
            title: r.get("title"),
            state: r.get("state"),
            place: r.get("place"),
            created_at: r.get("created_at"),
        })
        .collect())
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    state: String,
    page: Option<i64>,
}

async fn list(p: Page, Query(q): Query<ListQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let state = State::from_code(q.state.trim()).map(|s| s.code());
    let page = q.page.unwrap_or(0).max(0);
    let mut rows = cases_reached(
        &ctx.state.db,
        &p.actor,
        state,
        PER_PAGE + 1,
        page * PER_PAGE,
    )
    .await?;
    let more = rows.len() as i64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let link = |page: i64| match state {
        Some(s) => format!("/cases?state={s}&page={page}"),
        None => format!("/cases?page={page}"),
    };
    let body = html! {
        p.actions { a href="/cases/new" { (ctx.t("上报事项", "Report a case")) } " " a href="/triage" { (ctx.t("分拣立案", "Triage")) } }
        h1 { (ctx.t("事项", "Cases")) }
        // The operations centre rules on disputed dispatches: one tap to the queue.
        @if p.actor.has_role(Role::SubdistrictAdmin) || p.actor.has_role(Role::SubdistrictStaff) {
            p.filters { a href={ "/cases?state=" (State::Disputed.code()) } { (ctx.t("派单争议待裁定", "Disputed dispatches to rule on")) } }
        }
        form.inline method="get" action="/cases" {
            label { (ctx.t("状态", "State")) " "
                select name="state" {
                    option value="" selected[state.is_none()] { (ctx.t("全部", "All")) }
                    @for s in ALL_STATES {
                        option value=(s.code()) selected[state == Some(s.code())] { (ctx.text(&s.label())) }
                    }
                }
            }
            " " button type="submit" { (ctx.t("筛选", "Filter")) }
        }
        @if rows.is_empty() {
            p.notice { (ctx.t("暂无事项。", "No cases.")) }
        } @else {
            ul.list.cases {
                @for r in &rows {
                    li {
                        a href={ "/cases/" (r.id) } { span.muted { (r.number) } " " (r.title) }
                        " " span.tag { (state_label(ctx, &r.state)) }
                        br;
                        span.muted { (r.place) " · " (crate::clock::format_local(r.created_at)) }
                    }
                }
            }
        }
        nav.pager {
            @if page > 0 { a href=(link(page - 1)) { "‹ " (ctx.t("上一页", "Previous")) } " " }
            @if more { a href=(link(page + 1)) { (ctx.t("下一页", "Next")) " ›" } }
        }
    };
    Ok(layout::page(ctx, ctx.t("事项", "Cases"), body))
}

// ---------------------------------------------------------------------------------------
// Filing a case
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
struct NewForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    node_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    key: String,
}

/// Leaf categories under each root, as (root name, [(code, name)]).
fn leaf_groups(tree: CategoryTree, lang: Lang) -> Vec<(String, Vec<(String, String)>)> {
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

fn is_grid_or_below(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Grid | NodeKind::Building | NodeKind::Unit | NodeKind::VillageGroup
    )
}

/// The places the actor can pick from: for grid roles their grid and its buildings, for a
/// resident their home and the places above it down from the grid. Empty for roles above
/// the grid, who type a node id instead.
async fn places(st: &AppState, actor: &Actor) -> Result<Vec<(i64, String)>> {
    let sid = actor.subdistrict_id;
    let mut out: Vec<(i64, String)> = Vec::new();
    let mut push = |id: i64, label: String| {
        if !out.iter().any(|(i, _)| *i == id) {
            out.push((id, label));
        }
    };
    for g in &actor.grants {
        let Some(node_id) = g.node_id else { continue };
        if !allows(actor, Access::ReadTree, Target::Node { path: &g.path }) {
            continue;
        }
        if !matches!(g.role, Role::GridLeader | Role::GridMember) {
            continue;
        }
        let node = tree::node(&st.db, sid, node_id).await?;
        if !is_grid_or_below(node.kind) {
            continue;
        }
        push(node.id, node.name.clone());
        for c in tree::children(&st.db, sid, node.id).await? {
            if is_grid_or_below(c.node.kind) {
                push(c.node.id, format!("{} › {}", node.name, c.node.name));
            }
        }
    }
    if let (Some(pid), true) = (actor.person_id, actor.has_role(Role::Resident)) {
        let homes = crate::people::store::homes(&st.db, sid, pid).await?;
        for home in homes {
            let trail: Vec<tree::Node> = tree::ancestors(&st.db, sid, &home)
                .await?
                .into_iter()
                .filter(|n| is_grid_or_below(n.kind))
                .collect();
            for (i, n) in trail.iter().enumerate() {
                let label = trail[..=i]
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" › ");
                push(n.id, label);
            }
        }
    }
    Ok(out)
}

async fn render_new(p: &Page, f: &NewForm, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let places = places(&ctx.state, &p.actor).await?;
    let groups = leaf_groups(
        super::category_store::offered(&ctx.state.db, p.actor.subdistrict_id).await?,
        ctx.lang,
    );
    let body = html! {
        p { a href="/cases" { "‹ " (ctx.t("事项", "Cases")) } }
        h1 { (ctx.t("上报事项", "Report a case")) }
        @if errors.iter().any(|e| !matches!(e.field.as_str(), "category" | "node_id" | "title" | "description")) {
            p.error { @for e in errors { (ctx.text(&e.message)) " " } }
        }
        form.stack.card method="post" action="/cases/new" {
            (csrf(ctx))
            input type="hidden" name="key" value=(f.key);
            label { (ctx.t("类别", "Category"))
                select name="category" required {
                    option value="" selected[f.category.is_empty()] { (ctx.t("请选择", "Choose")) }
                    @for (root, leaves) in &groups {
                        optgroup label=(root) {
                            @for (code, name) in leaves {
                                option value=(code) selected[f.category == *code] { (name) }
                            }
                        }
                    }
                }
                (errors_for(ctx, errors, "category"))
            }
            label { (ctx.t("地点", "Place"))
                @if places.is_empty() {
                    input type="number" name="node_id" value=(f.node_id) required
                        placeholder=(ctx.t("网格、楼栋、单元或村民小组的编号", "id of a grid, building, unit or village group"));
                } @else {
                    select name="node_id" required {
                        @for (id, label) in &places {
                            option value=(id) selected[f.node_id == id.to_string()] { (label) }
                        }
                    }
                }
                (errors_for(ctx, errors, "node_id"))
            }
            label { (ctx.t("标题", "Title"))
                input type="text" name="title" value=(f.title) maxlength=(store::MAX_TITLE_CHARS) required;
                (errors_for(ctx, errors, "title"))
            }
            label { (ctx.t("情况描述", "Description"))
                textarea name="description" rows="5" required { (f.description) }
                (errors_for(ctx, errors, "description"))
            }
            button type="submit" { (ctx.t("提交", "Submit")) }
        }
    };
    Ok(layout::page(ctx, ctx.t("上报事项", "Report a case"), body))
}

async fn new_form(p: Page) -> Result<Markup> {
    let f = NewForm {
        key: crate::auth::random_secret(),
        ..NewForm::default()
    };
    render_new(&p, &f, &[]).await
}

async fn new_save(p: Page, Form(mut f): Form<NewForm>) -> Result<Response> {
    if f.key.is_empty() {
        f.key = crate::auth::random_secret();
    }
    let node_id = match f.node_id.trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => {
            let errors = vec![FieldError::new(
                "node_id",
                Text::new("请选择地点", "choose a place"),
            )];
            let page = render_new(&p, &f, &errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let new = NewCase {
        category: f.category.clone(),
        node_id,
        title: f.title.clone(),
        description: f.description.clone(),
        ..NewCase::default()
    };
    match store::open_case_sealed(
        &p.ctx.state.db,
        Some(&p.ctx.state.seal),
        &p.actor,
        new,
        "web",
        Some(&f.key),
    )
    .await
    {
        Ok(opened) => Ok(Redirect::to(&format!("/cases/{}", opened.case().id)).into_response()),
        Err(Error::Invalid(errors)) => {
            let page = render_new(&p, &f, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// A case and its actions
// ---------------------------------------------------------------------------------------

/// The actions the case page offers (merging and escalation happen elsewhere).
const OFFERED: [ActionKind; 15] = [
    ActionKind::Register,
    ActionKind::Reject,
    ActionKind::Withdraw,
    ActionKind::Dispatch,
    ActionKind::Transfer,
    ActionKind::Dispute,
    ActionKind::FirstContact,
    ActionKind::Pause,
    ActionKind::Resume,
    ActionKind::ReportHandled,
    ActionKind::Verify,
    ActionKind::Close,
    ActionKind::Evaluate,
    ActionKind::Reopen,
    ActionKind::Note,
];

fn action_code(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Register => "register",
        ActionKind::Reject => "reject",
        ActionKind::Withdraw => "withdraw",
        ActionKind::Merge => "merge",
        ActionKind::Dispatch => "dispatch",
        ActionKind::Transfer => "transfer",
        ActionKind::Dispute => "dispute",
        ActionKind::FirstContact => "first_contact",
        ActionKind::Note => "note",
        ActionKind::Pause => "pause",
        ActionKind::Resume => "resume",
        ActionKind::ReportHandled => "report_handled",
        ActionKind::Verify => "verify",
        ActionKind::Close => "close",
        ActionKind::Evaluate => "evaluate",
        ActionKind::Reopen => "reopen",
        ActionKind::Escalate => "escalate",
    }
}

fn evaluation_channel(kind: &ActorKind) -> EvaluationChannel {
    match kind {
        ActorKind::Reporter => EvaluationChannel::Online,
        _ => EvaluationChannel::ReturnCall,
    }
}

/// A representative action of `kind`, to ask the rules whether this actor may do it now.
fn probe(kind: ActionKind, actor: &ActorKind, unit_id: i64, now: i64) -> Option<lifecycle::Action> {
    use lifecycle::Action as A;
    let r = || "-".to_string();
    let later = now + 86_400_000;
    Some(match kind {
        ActionKind::Register => A::Register,
        ActionKind::Reject => A::Reject { reason: r() },
        ActionKind::Withdraw => A::Withdraw { reason: None },
        ActionKind::Dispatch => A::Dispatch {
            unit_id,
            first_contact_due_ms: later,
            due_ms: later,
        },
        ActionKind::Transfer => A::Transfer {
            unit_id,
            reason: r(),
        },
        ActionKind::Dispute => A::Dispute { reason: r() },
        ActionKind::FirstContact => A::FirstContact { note: None },
        ActionKind::Note => A::Note {
            text: r(),
            public: false,
        },
        ActionKind::Pause => A::Pause { reason: r() },
        ActionKind::Resume => A::Resume {
            first_contact_due_ms: None,
            due_ms: None,
        },
        ActionKind::ReportHandled => A::ReportHandled { summary: r() },
        ActionKind::Verify => A::Verify {
            passed: true,
            note: None,
        },
        ActionKind::Close => A::Close { reason: r() },
        ActionKind::Evaluate => A::Evaluate {
            rating: Rating::new(5)?,
            comment: None,
            channel: evaluation_channel(actor),
            rehandling_due_ms: later,
        },
        ActionKind::Reopen => A::Reopen { reason: r() },
        ActionKind::Merge | ActionKind::Escalate => return None,
    })
}

/// The actions the state allows and the rules let this actor try now (a refusal about the
/// data alone still offers the form: the data is what the form asks for).
fn offered(c: &CaseRecord, actor: &ActorKind, unit_id: i64, now: i64) -> Vec<ActionKind> {
    OFFERED
        .into_iter()
        .filter(|k| c.lifecycle.state.allows(*k))
        .filter(|k| match probe(*k, actor, unit_id, now) {
            Some(a) => match lifecycle::apply(&c.lifecycle, actor, &a, now) {
                Ok(_) => true,
                Err(r) => r.kind == RefusalKind::Input,
            },
            None => false,
        })
        .collect()
}

/// What the page shows above the forms after a refused action.
struct Notice {
    status: StatusCode,
    message: Text,
    errors: Vec<FieldError>,
}

fn due_row(label: Markup, at: Option<i64>) -> Markup {
    html! {
        @if let Some(at) = at { dt { (label) } dd { (crate::clock::format_local(at)) } }
    }
}

/// Text worth showing from an event's data: its reason, note, summary, comment or text.
fn event_text(e: &lifecycle::Event) -> Vec<String> {
    let v = serde_json::to_value(&e.data).unwrap_or_default();
    ["reason", "text", "summary", "note", "comment"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_string))
        .filter(|s| !s.trim().is_empty())
        .collect()
}

fn action_form(
    ctx: &Ctx,
    c: &CaseRecord,
    kind: ActionKind,
    units: &super::routing::Dispatchable,
) -> Markup {
    let label = kind.label();
    let needs_text = matches!(
        kind,
        ActionKind::Reject
            | ActionKind::Transfer
            | ActionKind::Dispute
            | ActionKind::Note
            | ActionKind::Pause
            | ActionKind::ReportHandled
            | ActionKind::Close
            | ActionKind::Reopen
    );
    let optional_text = matches!(
        kind,
        ActionKind::Withdraw | ActionKind::FirstContact | ActionKind::Verify | ActionKind::Evaluate
    );
    let text_label = match kind {
        ActionKind::Note => ctx.t("内容", "Text"),
        ActionKind::ReportHandled => ctx.t("办理情况", "What was done"),
        ActionKind::FirstContact | ActionKind::Verify => ctx.t("备注(可选)", "Note (optional)"),
        ActionKind::Evaluate => ctx.t("评语(可选)", "Comment (optional)"),
        ActionKind::Withdraw => ctx.t("原因(可选)", "Reason (optional)"),
        _ => ctx.t("原因", "Reason"),
    };
    html! {
        form.stack.card.action method="post" action={ "/cases/" (c.id) "/act" } {
            (csrf(ctx))
            input type="hidden" name="version" value=(c.version);
            input type="hidden" name="action" value=(action_code(kind));
            @if matches!(kind, ActionKind::Dispatch | ActionKind::Transfer) {
                // The suggestion first (pre-selected); a transfer leaves out the current owner.
                @let transfer = kind == ActionKind::Transfer;
                @let choices: Vec<_> = units.choices.iter()
                    .filter(|u| !(transfer && c.lifecycle.owner_unit == Some(u.unit.id))).collect();
                @let first = choices.first().map(|u| u.unit.id);
                label { (ctx.t("承办单位", "Unit"))
                    select name="unit_id" required {
                        @for u in &choices {
                            option value=(u.unit.id) selected[Some(u.unit.id) == first] {
                                @if u.suggested { (ctx.t("【建议】", "[suggested] ")) }
                                (u.unit.name) " · " (ctx.text(&u.unit.kind_label()))
                            }
                        }
                    }
                }
                @if let Some(r) = &units.reason { p.muted.route-reason { (ctx.text(r)) } }
            }
            @if kind == ActionKind::Evaluate {
                label { (ctx.t("满意度", "Rating"))
                    select name="rating" {
                        @for v in (1..=5).rev() {
                            option value=(v) selected[v == 5] { (v) }
                        }
                    }
                }
            }
            @if kind == ActionKind::Verify {
                label { (ctx.t("核查结果", "Result"))
                    select name="passed" {
                        option value="yes" { (ctx.t("通过", "Passed")) }
                        option value="no" { (ctx.t("不通过", "Not passed")) }
                    }
                }
            }
            @if needs_text {
                label { (text_label) textarea name="text" rows="2" required {} }
            } @else if optional_text {
                label { (text_label) textarea name="text" rows="2" {} }
            }
            @if kind == ActionKind::Note {
                label { span { input type="checkbox" name="public" value="1"; " " (ctx.t("居民可见", "Visible to the resident")) } }
            }
            button type="submit" { (ctx.text(&label)) }
        }
    }
}

async fn render_case(p: &Page, id: i64, notice: Option<Notice>) -> Result<Response> {
    let ctx = &p.ctx;
    let st = &ctx.state;
    let sid = p.actor.subdistrict_id;
    let (c, path, vis) = store::readable(&st.db, &p.actor, id).await?;
    let timeline = store::timeline(&st.db, sid, id, vis != Visibility::Staff).await?;
    let trail = tree::ancestors(&st.db, sid, &path).await?;
    let place = trail
        .iter()
        .filter(|n| !matches!(n.kind, NodeKind::Subdistrict))
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(" › ");
    let grid_id = trail
        .iter()
        .rev()
        .find(|n| n.kind == NodeKind::Grid)
        .map(|n| n.id)
        .unwrap_or(c.node_id);
    let kind = store::actor_kind(&p.actor, &path, c.reporter_user_id);
    let now = crate::clock::now_ms();
    let actions = offered(&c, &kind, grid_id, now);
    let categories = super::category_store::tree(&st.db, sid).await?;
    let units = if actions
        .iter()
        .any(|k| matches!(k, ActionKind::Dispatch | ActionKind::Transfer))
    {
        super::routing::dispatchable(&st.db, sid, &c, &path).await?
    } else {
        super::routing::Dispatchable::default()
    };
    let photos = super::attachments::gallery(st, ctx, sid, id, vis == Visibility::Staff).await?;
    let may_attach = super::attachments::may_upload(&p.actor, &c, &path, vis);
    let l = &c.lifecycle;
    let body = html! {
        p { a href="/cases" { "‹ " (ctx.t("事项", "Cases")) } }
        h1 { span.muted { (c.number) } " " (c.title) }
        @if let Some(n) = &notice {
            p.notice.error { (ctx.text(&n.message)) }
            @for e in &n.errors { p.error { (e.field) ": " (ctx.text(&e.message)) } }
        }
        dl.facts {
            dt { (ctx.t("状态", "State")) } dd { span.tag { (ctx.text(&l.state.label())) } }
            @if let Some(t) = l.merged_into { dt { (ctx.t("合并到", "Merged into")) } dd { a.merged-into href={ "/cases/" (t) } { (ctx.t("查看合并后的事项", "see the case it was merged into")) } } }
            dt { (ctx.t("类别", "Category")) } dd { (categories.path_name(&c.category, ctx.lang)) }
            dt { (ctx.t("地点", "Place")) } dd { (place) }
            dt { (ctx.t("上报人", "Reported by")) } dd { (c.reporter_name) @if !c.reporter_phone_mask.is_empty() { " " span.muted { (c.reporter_phone_mask) } } }
            dt { (ctx.t("上报时间", "Reported at")) } dd { (crate::clock::format_local(c.created_at)) }
            (due_row(html! { (ctx.t("首次联系时限", "First contact due")) }, l.first_contact_due_ms.filter(|_| l.first_contact_ms.is_none())))
            (due_row(html! { (ctx.t("办理时限", "Due")) }, l.due_ms))
            (due_row(html! { (ctx.t("结案时间", "Closed at")) }, l.closed_ms))
        }
        h2 { (ctx.t("情况描述", "Description")) }
        p.description { (c.description) }
        (photos)
        @if may_attach { (super::attachments::upload_form(ctx, c.id)) }
        h2 { (ctx.t("办理记录", "Timeline")) }
        ol.timeline {
            @for e in &timeline {
                li {
                    b { (ctx.text(&e.event.kind().label())) }
                    " " span.muted { (crate::clock::format_local(e.at)) " · " (e.actor) }
                    @if !e.public { " " span.tag { (ctx.t("内部", "internal")) } }
                    @for t in event_text(&e.event) { br; span { (t) } }
                }
            }
        }
        @if !actions.is_empty() {
            h2 { (ctx.t("办理", "Act")) }
            div.actions {
                @for k in &actions { (action_form(ctx, &c, *k, &units)) }
            }
        }
    };
    let page = layout::page(ctx, &c.title, body);
    let status = notice.map(|n| n.status).unwrap_or(StatusCode::OK);
    Ok((status, page).into_response())
}

async fn case_page(p: Page, Path(id): Path<i64>) -> Result<Response> {
    render_case(&p, id, None).await
}

#[derive(Deserialize, Default)]
struct ActForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    passed: String,
    #[serde(default)]
    public: Option<String>,
}

fn invalid(field: &str, zh: &'static str, en: &'static str) -> Error {
    Error::field(field, Text::new(zh, en))
}

/// Turns the posted form into a store action.
fn parse_action(f: &ActForm, kind: &ActorKind) -> Result<CaseAction> {
    let text = f.text.trim().to_string();
    let opt = || (!text.is_empty()).then(|| text.clone());
    let unit = || {
        f.unit_id
            .trim()
            .parse::<i64>()
            .map_err(|_| invalid("unit_id", "请选择承办单位", "choose the unit"))
    };
    Ok(match f.action.as_str() {
        "register" => CaseAction::Register,
        "reject" => CaseAction::Reject { reason: text },
        "withdraw" => CaseAction::Withdraw { reason: opt() },
        "dispatch" => CaseAction::Dispatch { unit_id: unit()? },
        "transfer" => CaseAction::Transfer {
            unit_id: unit()?,
            reason: text,
        },
        "dispute" => CaseAction::Dispute { reason: text },
        "first_contact" => CaseAction::FirstContact { note: opt() },
        "note" => CaseAction::Note {
            text,
            public: f.public.is_some(),
        },
        "pause" => CaseAction::Pause { reason: text },
        "resume" => CaseAction::Resume,
        "report_handled" => CaseAction::ReportHandled { summary: text },
        "verify" => CaseAction::Verify {
            passed: match f.passed.as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(invalid("passed", "请选择核查结果", "choose the result")),
            },
            note: opt(),
        },
        "close" => CaseAction::Close { reason: text },
        "evaluate" => CaseAction::Evaluate {
            rating: f
                .rating
                .trim()
                .parse::<u8>()
                .ok()
                .and_then(Rating::new)
                .ok_or_else(|| invalid("rating", "请选择 1 到 5 分", "choose 1 to 5"))?,
            comment: opt(),
            channel: evaluation_channel(kind),
        },
        "reopen" => CaseAction::Reopen { reason: text },
        _ => return Err(invalid("action", "没有这个操作", "no such action")),
    })
}

fn is_store_conflict(t: &Text) -> bool {
    t.en.starts_with("the case was changed by someone else")
}

async fn act(p: Page, Path(id): Path<i64>, Form(f): Form<ActForm>) -> Result<Response> {
    let st = &p.ctx.state;
    let (c, path, _) = store::readable(&st.db, &p.actor, id).await?;
    let conflict = || Notice {
        status: StatusCode::CONFLICT,
        message: CONFLICT_TEXT,
        errors: Vec::new(),
    };
    let Ok(version) = f.version.trim().parse::<i64>() else {
        return render_case(&p, id, Some(conflict())).await;
    };
    if version != c.version {
        return render_case(&p, id, Some(conflict())).await;
    }
    let kind = store::actor_kind(&p.actor, &path, c.reporter_user_id);
    let result = match parse_action(&f, &kind) {
        Ok(action) => store::act(&st.db, &p.actor, id, version, action).await,
        Err(e) => Err(e),
    };
    let notice = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(Error::Conflict(t)) if is_store_conflict(&t) => conflict(),
        Err(Error::Conflict(t)) => Notice {
            status: StatusCode::CONFLICT,
            message: t,
            errors: Vec::new(),
        },
        Err(Error::Invalid(errors)) => Notice {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: Text::new("请检查填写的内容", "Check what you entered"),
            errors,
        },
        Err(Error::Forbidden) => Notice {
            status: StatusCode::FORBIDDEN,
            message: Text::new(
                "您不能对该事项执行此操作",
                "You may not do this on this case",
            ),
            errors: Vec::new(),
        },
        Err(e) => return Err(e),
    };
    render_case(&p, id, Some(notice)).await
}
