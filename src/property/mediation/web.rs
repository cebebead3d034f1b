//! Mediation's pages: `/mediation` (the cases in reach: staff see all at their places, lawyers
//! the cases of their firm), `/mediation/new`, `/mediation/engagements` (law firms engaged per
//! place and period), and `/mediation/{id}` with one form per step the status machine allows
//! the reader now. An invalid form re-renders (422) with what was typed and each message by its
//! field.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::api::status_filter;
use super::rules::{self, Side, Step, KINDS, STATUSES};
use super::store::{
    self, NewEngagement, NewFollowUp, NewMediation, NewOutcome, NewParty, NewSession,
};
use crate::cases::intake::rules::parse_local_datetime;
use crate::clock::format_local;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::property::office::store::ToCase;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mediation", get(list).post(file))
        .route("/mediation/new", get(new_page))
        .route("/mediation/engagements", get(engagements).post(engage))
        .route("/mediation/{id}", get(show))
        .route("/mediation/{id}/assign", post(assign))
        .route("/mediation/{id}/sessions", post(add_session))
        .route("/mediation/{id}/outcome", post(outcome))
        .route("/mediation/{id}/followups", post(add_followup))
        .route("/mediation/{id}/followups/{fid}/done", post(followup_done))
        .route("/mediation/{id}/followups/{fid}/case", post(followup_case))
        .route("/mediation/{id}/finish", post(finish))
}

type Fields = HashMap<String, String>;

fn val<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

fn opt_id(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<i64>().map(Some).unwrap_or_else(|_| {
        errors.push(FieldError::new(
            field,
            Text::new("请从列表中选择", "choose from the list"),
        ));
        None
    })
}

fn t(ctx: &Ctx, x: &Text) -> String {
    ctx.text(x).to_string()
}

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    status: Option<String>,
}

async fn list(p: Page, Query(q): Query<ListQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let status = status_filter(q.status.as_deref())?;
    let cases = store::list(db, &p.actor, status).await?;
    let manages = !store::places(db, &p.actor).await?.is_empty();
    let body = html! {
        h1 { (ctx.t("律师调解", "Lawyer mediation")) }
        p.muted { (ctx.t(
            "物业纠纷(欠费、维修、噪声、停车、渗漏等)由受聘律师事务所的律师调解:当事人、调解记录、协议结果与回访。",
            "Property disputes (fee arrears, repairs, noise, parking, leaks, …) mediated by lawyers of engaged law firms: parties, sessions, the outcome and follow-ups.")) }
        nav.shortcuts {
            a.button.secondary href="/mediation" { (ctx.t("全部", "All")) }
            @for s in STATUSES { a.button.secondary href={ "/mediation?status=" (s.code()) } { (t(ctx, &s.label())) } }
        }
        @if manages {
            nav.shortcuts {
                a.button href="/mediation/new" { (ctx.t("受理调解", "File a dispute")) }
                a.button.secondary href="/mediation/engagements" { (ctx.t("律所聘用", "Law firm engagements")) }
            }
        }
        @if cases.is_empty() {
            p.notice { (ctx.t("暂无调解案件。", "No mediation cases here.")) }
        } @else {
            ul.list {
                @for m in &cases {
                    li {
                        span {
                            a href={ "/mediation/" (m.id) } { strong { (t(ctx, &m.kind.label())) } }
                            " " span.tag { (t(ctx, &m.status.label())) } br;
                            span.muted { (m.node_name) " · " (m.summary.chars().take(60).collect::<String>()) }
                        }
                        span.muted { (format_local(m.filed_at)) br; (m.lawyer_name) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("律师调解", "Lawyer mediation"),
        body,
    ))
}

async fn render_new(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let places: Vec<_> = store::places(db, &p.actor)
        .await?
        .into_iter()
        .filter(|n| n.kind != crate::tree::NodeKind::Subdistrict)
        .collect();
    if places.is_empty() {
        return Err(Error::Forbidden);
    }
    let companies = crate::property::office::store::orgs_of_kind(
        db,
        p.actor.subdistrict_id,
        "property_company",
    )
    .await?;
    let body = html! {
        (layout::crumbs(&[("/mediation".into(), ctx.t("律师调解", "Lawyer mediation").into()), (String::new(), ctx.t("受理", "File").into())]))
        h1 { (ctx.t("受理调解", "File a dispute")) }
        form.stack.card method="post" action="/mediation" {
            (csrf(ctx))
            label { (ctx.t("地点", "Place"))
                select name="node_id" required {
                    option value="" { (ctx.t("请选择", "Choose")) }
                    @for n in &places {
                        option value=(n.id) selected[val(f, "node_id") == n.id.to_string()] { @for _ in 1..n.depth { "— " } (n.name) }
                    }
                }
                (errors_for(ctx, errors, "node_id"))
            }
            label { (ctx.t("纠纷类型", "Kind"))
                select name="kind" required {
                    @for k in KINDS { option value=(k.code()) selected[val(f, "kind") == k.code()] { (t(ctx, &k.label())) } }
                }
                (errors_for(ctx, errors, "kind"))
            }
            label { (ctx.t("纠纷概要", "Summary"))
                textarea name="summary" rows="4" required { (val(f, "summary")) }
                (errors_for(ctx, errors, "summary"))
            }
            label { (ctx.t("申请人(每行一位)", "Applicants (one a line)"))
                textarea name="applicants" rows="2" { (val(f, "applicants")) }
            }
            label { (ctx.t("被申请人(每行一位)", "Respondents (one a line)"))
                textarea name="respondents" rows="2" { (val(f, "respondents")) }
            }
            label { (ctx.t("或被申请的物业公司", "Or the property company responding"))
                select name="respondent_org_id" {
                    option value="" { (ctx.t("(无)", "(none)")) }
                    @for (id, name) in &companies { option value=(id) selected[val(f, "respondent_org_id") == id.to_string()] { (name) } }
                }
            }
            (errors_for(ctx, errors, "parties"))
            button type="submit" { (ctx.t("受理", "File")) }
        }
    };
    Ok(layout::page(ctx, ctx.t("受理调解", "File a dispute"), body))
}

async fn new_page(p: Page) -> Result<Markup> {
    render_new(&p, &Fields::new(), &[]).await
}

fn names(f: &Fields, field: &str, side: Side) -> Vec<NewParty> {
    val(f, field)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| NewParty {
            side: side.code().into(),
            name: l.into(),
            ..Default::default()
        })
        .collect()
}

async fn file(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let mut parties = names(&f, "applicants", Side::Applicant);
    parties.extend(names(&f, "respondents", Side::Respondent));
    if let Some(org) = opt_id(&f, "respondent_org_id", &mut errors) {
        parties.push(NewParty {
            side: Side::Respondent.code().into(),
            org_id: Some(org),
            ..Default::default()
        });
    }
    let n = NewMediation {
        node_id: opt_id(&f, "node_id", &mut errors),
        kind: val(&f, "kind").into(),
        summary: val(&f, "summary").into(),
        parties,
    };
    let result = if errors.is_empty() {
        store::file(&p.ctx.state.db, &p.actor, n).await
    } else {
        Err(Error::Invalid(errors))
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/mediation/{}", m.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_new(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn render_engagements(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let list = store::engagements(db, &p.actor).await?;
    let places = store::places(db, &p.actor).await?;
    let firms = store::law_firms(db, p.actor.subdistrict_id).await?;
    let body = html! {
        (layout::crumbs(&[("/mediation".into(), ctx.t("律师调解", "Lawyer mediation").into()), (String::new(), ctx.t("律所聘用", "Engagements").into())]))
        h1 { (ctx.t("律师事务所聘用", "Law firm engagements")) }
        @if list.is_empty() { p.notice { (ctx.t("暂无聘用记录。", "No engagements yet.")) } }
        ul.list {
            @for e in &list {
                li { span { strong { (e.firm_name) } " · " (e.node_name) br; span.muted { (e.starts_on) " – " (e.ends_on) " " (e.note) } } }
            }
        }
        @if !places.is_empty() {
            h2 { (ctx.t("新增聘用", "Engage a firm")) }
            form.stack.card method="post" action="/mediation/engagements" {
                (csrf(ctx))
                label { (ctx.t("律师事务所", "Law firm"))
                    select name="firm_id" required {
                        option value="" { (ctx.t("请选择", "Choose")) }
                        @for (id, name) in &firms { option value=(id) selected[val(f, "firm_id") == id.to_string()] { (name) } }
                    }
                    (errors_for(ctx, errors, "firm_id"))
                }
                label { (ctx.t("服务地点", "Place served"))
                    select name="node_id" required {
                        @for n in &places { option value=(n.id) selected[val(f, "node_id") == n.id.to_string()] { @for _ in 1..n.depth { "— " } (n.name) } }
                    }
                    (errors_for(ctx, errors, "node_id"))
                }
                label { (ctx.t("开始日期", "From")) input type="date" name="starts_on" value=(val(f, "starts_on")) required; (errors_for(ctx, errors, "starts_on")) }
                label { (ctx.t("结束日期", "To")) input type="date" name="ends_on" value=(val(f, "ends_on")) required; (errors_for(ctx, errors, "ends_on")) }
                label { (ctx.t("备注", "Note")) input type="text" name="note" value=(val(f, "note")); (errors_for(ctx, errors, "note")) }
                button type="submit" { (ctx.t("保存", "Save")) }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("律所聘用", "Law firm engagements"),
        body,
    ))
}

async fn engagements(p: Page) -> Result<Markup> {
    render_engagements(&p, &Fields::new(), &[]).await
}

async fn engage(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let e = NewEngagement {
        firm_id: opt_id(&f, "firm_id", &mut errors),
        node_id: opt_id(&f, "node_id", &mut errors),
        starts_on: val(&f, "starts_on").into(),
        ends_on: val(&f, "ends_on").into(),
        note: val(&f, "note").into(),
    };
    let result = if errors.is_empty() {
        store::engage(&p.ctx.state.db, &p.actor, e).await
    } else {
        Err(Error::Invalid(errors))
    };
    match result {
        Ok(_) => Ok(Redirect::to("/mediation/engagements").into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_engagements(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- one case

struct Failed<'a> {
    form: &'a str,
    target: i64,
    fields: &'a Fields,
    errors: &'a [FieldError],
}

async fn show(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_show(&p, id, None).await
}

async fn render_show(p: &Page, id: i64, failed: Option<&Failed<'_>>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let (m, s) = store::readable(db, &p.actor, id).await?;
    let parties = store::parties(db, sid, id, s.staff || s.assigned_lawyer).await?;
    let sessions = store::sessions(db, sid, id).await?;
    let followups = store::followups(db, sid, id).await?;
    let lawyers = if s.staff {
        store::assignable(db, sid, &m.node_path).await?
    } else {
        Vec::new()
    };
    let may = |step| rules::apply(m.status, step, s, 0).is_ok();
    let categories = if may(Step::FollowUp) {
        Some(crate::cases::category_store::offered(db, sid).await?)
    } else {
        None
    };
    let empty = Fields::new();
    let failed_for = |form: &str, target: i64| -> (&Fields, &[FieldError]) {
        match failed {
            Some(x) if x.form == form && x.target == target => (x.fields, x.errors),
            _ => (&empty, &[]),
        }
    };
    let body = html! {
        (layout::crumbs(&[("/mediation".into(), ctx.t("律师调解", "Lawyer mediation").into()), (String::new(), t(ctx, &m.kind.label()))]))
        h1 { (t(ctx, &m.kind.label())) " " span.tag { (t(ctx, &m.status.label())) } }
        p.muted { (m.node_name) " · " (ctx.t("受理于", "filed")) " " (format_local(m.filed_at)) }
        p { (m.summary) }
        h2 { (ctx.t("当事人", "Parties")) }
        ul { @for x in &parties { li { (t(ctx, &x.side.label())) ": " (x.name) } } }
        h2 { (ctx.t("调解律师", "Lawyer")) }
        @if m.lawyer_user_id.is_some() { p { (m.lawyer_name) " · " (m.firm_name) } } @else { p.muted { (ctx.t("尚未指派", "not assigned yet")) } }
        @if may(Step::Assign) {
            @let (f, errors) = failed_for("assign", 0);
            @if lawyers.is_empty() {
                p.notice { (ctx.t("此地暂无受聘律所的律师,请先登记律所聘用并为律师授权。", "No lawyer of a firm engaged here: record an engagement and grant the lawyers first.")) }
            } @else {
                form.stack.card method="post" action={ "/mediation/" (m.id) "/assign" } {
                    (csrf(ctx))
                    label { (ctx.t("指派律师", "Assign a lawyer"))
                        select name="lawyer_user_id" required {
                            @for l in &lawyers { option value=(l.user_id) selected[val(f, "lawyer_user_id") == l.user_id.to_string()] { (l.name) " · " (l.firm_name) } }
                        }
                        (errors_for(ctx, errors, "lawyer_user_id"))
                    }
                    button type="submit" { (ctx.t("指派", "Assign")) }
                }
            }
        }
        h2 { (ctx.t("调解记录", "Sessions")) }
        @if sessions.is_empty() { p.muted { (ctx.t("暂无调解记录。", "No sessions yet.")) } }
        @for x in &sessions {
            article.card { p { strong { (format_local(x.held_at)) } " · " (x.place) } p.muted { (x.attendees) } p { (x.notes) } }
        }
        @if may(Step::Session) {
            @let (f, errors) = failed_for("session", 0);
            form.stack.card method="post" action={ "/mediation/" (m.id) "/sessions" } {
                (csrf(ctx))
                label { (ctx.t("时间(默认现在)", "When (default now)")) input type="datetime-local" name="held_at" value=(val(f, "held_at")); (errors_for(ctx, errors, "held_at")) }
                label { (ctx.t("地点", "Where")) input type="text" name="place" value=(val(f, "place")); (errors_for(ctx, errors, "place")) }
                label { (ctx.t("参加人员", "Attendees")) input type="text" name="attendees" value=(val(f, "attendees")) required; (errors_for(ctx, errors, "attendees")) }
                label { (ctx.t("调解记录", "Notes")) textarea name="notes" rows="3" { (val(f, "notes")) } (errors_for(ctx, errors, "notes")) }
                button type="submit" { (ctx.t("记录调解", "Record the session")) }
            }
        }
        h2 { (ctx.t("调解结果", "Outcome")) }
        @if !m.outcome.is_empty() { p { (m.outcome) } }
        @if may(Step::Agree) || may(Step::Withdraw) {
            @let (f, errors) = failed_for("outcome", 0);
            form.stack.card method="post" action={ "/mediation/" (m.id) "/outcome" } {
                (csrf(ctx))
                label { (ctx.t("结果", "Outcome"))
                    select name="status" {
                        @if may(Step::Agree) {
                            option value="agreement_reached" { (ctx.t("达成协议", "agreement reached")) }
                            option value="no_agreement" { (ctx.t("未达成协议", "no agreement")) }
                        }
                        @if may(Step::Withdraw) { option value="withdrawn" { (ctx.t("申请人撤回", "withdrawn")) } }
                    }
                    (errors_for(ctx, errors, "status"))
                }
                label { (ctx.t("协议内容或原因", "The agreement, or why not")) textarea name="text" rows="3" required { (val(f, "text")) } (errors_for(ctx, errors, "text")) }
                button type="submit" { (ctx.t("记录结果", "Record the outcome")) }
            }
        }
        h2 { (ctx.t("回访", "Follow-ups")) }
        @for x in &followups {
            article.card {
                p { strong { (x.due_on) } " · " (x.what) " · " span.tag { (match x.status.as_str() { "done" => ctx.t("已完成", "done"), "case" => ctx.t("已转办件", "raised as a case"), _ => ctx.t("待回访", "open") }) } }
                @if !x.note.is_empty() { p.muted { (x.note) } }
                @if let (Some(cid), Some(n)) = (x.raised_case_id, &x.raised_case_number) { p { a href={ "/cases/" (cid) } { (n) } } }
                @if x.status == "open" && may(Step::FollowUp) {
                    @let (f, errors) = failed_for("done", x.id);
                    form.stack method="post" action={ "/mediation/" (m.id) "/followups/" (x.id) "/done" } {
                        (csrf(ctx))
                        label { (ctx.t("回访情况", "What was found")) input type="text" name="note" value=(val(f, "note")) required; (errors_for(ctx, errors, "note")) }
                        button type="submit" { (ctx.t("回访完成", "Done")) }
                    }
                    @if let Some(tree) = &categories {
                        @let (f, errors) = failed_for("case", x.id);
                        details open[!errors.is_empty()] {
                            summary { (ctx.t("转为办件", "Raise a case")) }
                            form.stack method="post" action={ "/mediation/" (m.id) "/followups/" (x.id) "/case" } {
                                (csrf(ctx))
                                label { (ctx.t("类别", "Category"))
                                    select name="category" required {
                                        option value="" { (ctx.t("请选择", "Choose")) }
                                        @for (_, c) in tree.depth_first() {
                                            @if tree.is_leaf(&c.code) { option value=(c.code) selected[val(f, "category") == c.code] { (tree.path_name(&c.code, ctx.lang)) } }
                                        }
                                    }
                                    (errors_for(ctx, errors, "category"))
                                }
                                @for e in errors.iter().filter(|e| e.field != "category") { p.error { (ctx.text(&e.message)) } }
                                button type="submit" { (ctx.t("转为办件", "Raise the case")) }
                            }
                        }
                    }
                }
            }
        }
        @if may(Step::FollowUp) {
            @let (f, errors) = failed_for("followup", 0);
            form.stack.card method="post" action={ "/mediation/" (m.id) "/followups" } {
                (csrf(ctx))
                label { (ctx.t("回访日期", "Due on")) input type="date" name="due_on" value=(val(f, "due_on")) required; (errors_for(ctx, errors, "due_on")) }
                label { (ctx.t("回访事项", "What to check")) input type="text" name="what" value=(val(f, "what")) required; (errors_for(ctx, errors, "what")) }
                button type="submit" { (ctx.t("添加回访", "Add a follow-up")) }
            }
            form method="post" action={ "/mediation/" (m.id) "/finish" } {
                (csrf(ctx))
                button.secondary type="submit" { (ctx.t("回访全部完成,结案", "All follow-ups done: finish")) }
            }
        }
    };
    Ok(layout::page(ctx, &t(ctx, &m.kind.label()), body))
}

async fn answer<T>(
    p: &Page,
    id: i64,
    form: &str,
    target: i64,
    f: &Fields,
    result: Result<T>,
) -> Result<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/mediation/{id}")).into_response()),
        Err(Error::Invalid(errors)) => {
            let failed = Failed {
                form,
                target,
                fields: f,
                errors: &errors,
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render_show(p, id, Some(&failed)).await?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

async fn assign(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let l = opt_id(&f, "lawyer_user_id", &mut errors);
    let r = if errors.is_empty() {
        store::assign(&p.ctx.state.db, &p.actor, id, l).await
    } else {
        Err(Error::Invalid(errors))
    };
    answer(&p, id, "assign", 0, &f, r).await
}

async fn add_session(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let held_at = match val(&f, "held_at").trim() {
        "" => None,
        x => {
            let v = parse_local_datetime(x);
            if v.is_none() {
                errors.push(FieldError::new(
                    "held_at",
                    Text::new("时间格式不对", "not a valid date and time"),
                ));
            }
            v
        }
    };
    let n = NewSession {
        held_at,
        place: val(&f, "place").into(),
        attendees: val(&f, "attendees").into(),
        notes: val(&f, "notes").into(),
    };
    let r = if errors.is_empty() {
        store::add_session(&p.ctx.state.db, &p.actor, id, n).await
    } else {
        Err(Error::Invalid(errors))
    };
    answer(&p, id, "session", 0, &f, r).await
}

async fn outcome(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let o = NewOutcome {
        status: val(&f, "status").into(),
        text: val(&f, "text").into(),
    };
    let r = store::outcome(&p.ctx.state.db, &p.actor, id, o).await;
    answer(&p, id, "outcome", 0, &f, r).await
}

async fn add_followup(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let n = NewFollowUp {
        due_on: val(&f, "due_on").into(),
        what: val(&f, "what").into(),
    };
    let r = store::add_followup(&p.ctx.state.db, &p.actor, id, n).await;
    answer(&p, id, "followup", 0, &f, r).await
}

async fn followup_done(
    p: Page,
    Path((id, fid)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let r = store::followup_done(&p.ctx.state.db, &p.actor, id, fid, val(&f, "note")).await;
    answer(&p, id, "done", fid, &f, r).await
}

async fn followup_case(
    p: Page,
    Path((id, fid)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let tc = ToCase {
        category: val(&f, "category").into(),
        ..Default::default()
    };
    let r = store::followup_to_case(&p.ctx.state.db, &p.actor, id, fid, tc).await;
    answer(&p, id, "case", fid, &f, r).await
}

async fn finish(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let r = store::finish(&p.ctx.state.db, &p.actor, id).await;
    answer(&p, id, "finish", 0, &f, r).await
}
