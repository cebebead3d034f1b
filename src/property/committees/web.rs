//! The committees' pages: `/committees` (the committees in reach with their alerts — terms
//! ending within 5 months, size-rule breaches, early re-election triggers, overdue steps — and
//! the form to set one up), and `/committees/{id}` (members, term, activity, the re-election
//! timeline with a form for its next step). Forms post to `/committees/{id}/…`; the store
//! checks and audits; an invalid form re-renders (422) with what was typed and each message by
//! its field.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::rules::{
    self, Alert, EndReason, Office, Step, ACTIVITY_KINDS, END_REASONS, OFFICES, TRIGGERS,
};
use super::store::{
    self, EndMember, NewActivity, NewCommittee, NewMember, NewReelection, NewStep, Overview,
};
use crate::clock::now_ms;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::tree::area;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/committees", get(list).post(create))
        .route("/committees/{id}", get(show))
        .route("/committees/{id}/members", post(add_member))
        .route("/committees/{id}/members/{member_id}/end", post(end_member))
        .route(
            "/committees/{id}/members/{member_id}/office",
            post(set_office),
        )
        .route("/committees/{id}/activities", post(add_activity))
        .route("/committees/{id}/reelections", post(start_reelection))
        .route("/committees/{id}/reelection/steps", post(record_step))
        .route(
            "/committees/{id}/reelection/cancel",
            post(cancel_reelection),
        )
}

type Fields = HashMap<String, String>;

fn val<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

/// A form that failed, to show again with what was typed.
struct Failed<'a> {
    form: &'a str,
    fields: &'a Fields,
    errors: &'a [FieldError],
}

fn failed_for<'a>(
    failed: Option<&'a Failed<'a>>,
    form: &str,
    empty: &'a Fields,
) -> (&'a Fields, &'a [FieldError]) {
    match failed {
        Some(x) if x.form == form => (x.fields, x.errors),
        _ => (empty, &[]),
    }
}

fn opt_i64(f: &Fields, k: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, k).trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<i64>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(FieldError::new(
                k,
                Text::new("请填写数字", "a number is needed"),
            ));
            None
        }
    }
}

fn alert_list(ctx: &Ctx, alerts: &[Alert]) -> Markup {
    html! {
        @if !alerts.is_empty() {
            ul.alerts {
                @for a in alerts { li.notice { (ctx.text(&a.text())) } }
            }
        }
    }
}

fn office_label(code: &str) -> Text {
    Office::parse(code).map_or_else(|| Text::owned(code.into(), code.into()), Office::label)
}

async fn render_list(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let list = store::list(db, &p.actor, now_ms()).await?;
    let places = if store::runs_any(&p.actor) {
        store::places(db, &p.actor).await?
    } else {
        Vec::new()
    };
    let with_alerts = list.iter().filter(|o| !o.alerts.is_empty()).count();
    let body = html! {
        h1 { (ctx.t("业主委员会", "Owners' committees")) }
        p.muted { (ctx.t(
            "业委会成员为单数、至少 5 人(建筑面积 1 万平方米以下可为 3 人),任期 3 至 5 年;任期届满前 5 个月提示街道。换届期间不得表决选聘物业或调整物业费。",
            "A committee has an odd number of members, at least 5 (3 allowed up to 10,000 m²), and a 3–5 year term; the subdistrict is told 5 months before a term ends. During a re-election, company selection and fee changes cannot be put to a vote.")) }
        nav.shortcuts {
            a.button.secondary href="/votes/reelections" { (ctx.t("换届期(表决限制)", "Re-election periods (vote restrictions)")) }
        }
        @if with_alerts > 0 {
            p.notice { (ctx.t("需要处理的提醒:", "Committees with alerts: ")) (with_alerts) }
        }
        @if list.is_empty() {
            p.notice { (ctx.t("暂无业委会。", "No owners' committees here yet.")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th { (ctx.t("业委会", "Committee")) }
                    th { (ctx.t("小区", "Estate")) }
                    th { (ctx.t("届次 / 任期", "Term")) }
                    th { (ctx.t("在任 / 应选", "Sitting / seats")) }
                    th { (ctx.t("提醒", "Alerts")) }
                } }
                tbody {
                    @for o in &list { (list_row(ctx, o)) }
                }
            } }
        }
        @if !places.is_empty() {
            h2 { (ctx.t("成立业委会", "Set up a committee")) }
            form.stack.card method="post" action="/committees" {
                (csrf(ctx))
                label { (ctx.t("名称", "Name"))
                    input type="text" name="name" value=(val(f, "name")) required;
                    (errors_for(ctx, errors, "name"))
                }
                label { (ctx.t("小区", "Estate"))
                    select name="node_id" required {
                        option value="" { (ctx.t("请选择", "Choose")) }
                        @for (id, _kind, name, depth) in &places {
                            option value=(id) selected[val(f, "node_id") == id.to_string()] {
                                @for _ in 1..*depth { "— " } (name)
                            }
                        }
                    }
                    (errors_for(ctx, errors, "node_id"))
                }
                label { (ctx.t("应选人数", "Seats"))
                    input type="number" name="seats" min="3" step="2" value=(val(f, "seats")) required;
                    (errors_for(ctx, errors, "seats"))
                }
                label { (ctx.t("任期(年)", "Term (years)"))
                    input type="number" name="term_years" min="3" max="5" value=(val(f, "term_years")) required;
                    (errors_for(ctx, errors, "term_years"))
                }
                label { (ctx.t("本届任期开始日期", "Current term starts on"))
                    input type="date" name="starts_on" value=(val(f, "starts_on")) required;
                    (errors_for(ctx, errors, "starts_on"))
                }
                button type="submit" { (ctx.t("成立", "Set up")) }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("业主委员会", "Owners' committees"),
        body,
    ))
}

fn list_row(ctx: &Ctx, o: &Overview) -> Markup {
    let c = &o.committee;
    html! {
        tr {
            td { a href={ "/committees/" (c.id) } { strong { (c.name) } }
                @if o.reelection.is_some() { " " span.tag { (ctx.t("换届中", "re-election running")) } } }
            td { (c.node_name) }
            td { (ctx.t("第", "term ")) (c.term.number) (ctx.t("届", "")) br;
                span.muted { (c.term.starts_on) " – " (c.term.ends_on) } }
            td { (o.filled) " / " (c.term.seats) }
            td { @if o.alerts.is_empty() { span.muted { "—" } } @else { (alert_list(ctx, &o.alerts)) } }
        }
    }
}

async fn list(p: Page) -> Result<Markup> {
    render_list(&p, &Fields::new(), &[]).await
}

async fn create(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = NewCommittee {
        node_id: opt_i64(&f, "node_id", &mut errors),
        name: val(&f, "name").into(),
        seats: opt_i64(&f, "seats", &mut errors),
        term_years: opt_i64(&f, "term_years", &mut errors),
        starts_on: val(&f, "starts_on").into(),
    };
    let r = if errors.is_empty() {
        store::create(&p.ctx.state.db, &p.actor, n, now_ms()).await
    } else {
        Err(Error::Invalid(errors))
    };
    match r {
        Ok(c) => Ok(Redirect::to(&format!("/committees/{}", c.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_list(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct ShowQ {
    #[serde(default)]
    saved: Option<String>,
}

async fn show(p: Page, Path(id): Path<i64>, Query(q): Query<ShowQ>) -> Result<Markup> {
    render_show(&p, id, None, q.saved.is_some()).await
}

async fn render_show(
    p: &Page,
    id: i64,
    failed: Option<&Failed<'_>>,
    saved: bool,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let (c, s) = store::readable(db, &p.actor, id).await?;
    let today = store::today(now_ms());
    let members = store::members(db, sid, id, true).await?;
    let activities = store::activities(db, sid, id).await?;
    let reelections = store::reelections(db, sid, id, today).await?;
    let o = store::overview(db, sid, c, today).await?;
    let c = &o.committee;
    let empty = Fields::new();
    let body = html! {
        (layout::crumbs(&[("/committees".into(), ctx.t("业主委员会", "Owners' committees").into()),
            (String::new(), c.name.clone())]))
        h1 { (c.name) }
        @if saved { p.notice { (ctx.t("已保存。", "Saved.")) } }
        (alert_list(ctx, &o.alerts))
        dl {
            dt { (ctx.t("小区", "Estate")) } dd { (c.node_name) " · " (area::format(o.estate_area)) " m²" }
            dt { (ctx.t("本届", "Current term")) }
            dd { (ctx.t("第", "term ")) (c.term.number) (ctx.t("届", "")) ", " (c.term.starts_on) " – " (c.term.ends_on)
                " (" (c.term.term_years) (ctx.t(" 年", " years")) ")" }
            dt { (ctx.t("提示街道日期", "Subdistrict told on")) } dd { (c.term.alert_on) }
            dt { (ctx.t("在任 / 应选", "Sitting / seats")) } dd { (o.filled) " / " (c.term.seats) }
            dt { (ctx.t("最近履职", "Last activity")) } dd { (o.last_activity) }
        }
        h2 { (ctx.t("成员", "Members")) }
        (members_section(ctx, id, &members, s.staff, failed))
        h2 { (ctx.t("履职记录", "Activity")) }
        (activity_section(ctx, id, &activities, s.staff, failed, &empty))
        h2 { (ctx.t("换届", "Re-election")) }
        (reelection_section(ctx, &o, &reelections, s.staff, failed, &empty))
    };
    Ok(layout::page(ctx, &c.name, body))
}

fn members_section(
    ctx: &Ctx,
    id: i64,
    members: &[store::Member],
    staff: bool,
    failed: Option<&Failed<'_>>,
) -> Markup {
    let empty = Fields::new();
    let (f, errors) = failed_for(failed, "member", &empty);
    let (ef, eerrors) = failed_for(failed, "end", &empty);
    html! {
        @if members.is_empty() { p.muted { (ctx.t("尚未登记成员。", "No members recorded yet.")) } }
        @else {
            div.table-wrap { table {
                thead { tr {
                    th { (ctx.t("姓名", "Name")) } th { (ctx.t("职务", "Office")) }
                    th { (ctx.t("任职", "Served")) } th { (ctx.t("离任原因", "Left because")) }
                    @if staff { th { (ctx.t("操作", "Actions")) } }
                } }
                tbody {
                    @for m in members {
                        tr {
                            td { (m.name) }
                            td { (ctx.text(&office_label(&m.office))) }
                            td { (m.starts_on) " – " (m.ends_on.clone().unwrap_or_default()) }
                            td { @if let Some(r) = m.end_reason.as_deref().and_then(EndReason::parse) {
                                    (ctx.text(&r.label())) @if !m.end_note.is_empty() { " · " (m.end_note) } } }
                            @if staff { td { @if m.ends_on.is_none() {
                                form method="post" action={ "/committees/" (id) "/members/" (m.id) "/office" } {
                                    (csrf(ctx))
                                    select name="office" { @for o in OFFICES {
                                        option value=(o.as_str()) selected[m.office == o.as_str()] { (ctx.text(&o.label())) } } }
                                    button.secondary type="submit" { (ctx.t("改职务", "Set office")) }
                                }
                                form method="post" action={ "/committees/" (id) "/members/" (m.id) "/end" } {
                                    (csrf(ctx))
                                    select name="reason" { @for r in END_REASONS {
                                        option value=(r.as_str()) selected[val(ef, "reason") == r.as_str()] { (ctx.text(&r.label())) } } }
                                    input type="date" name="ends_on" aria-label=(ctx.t("离任日期", "Left on"));
                                    input type="text" name="note" placeholder=(ctx.t("说明", "Note"));
                                    button.secondary type="submit" { (ctx.t("离任", "Leaves")) }
                                }
                            } } }
                        }
                    }
                }
            } }
            (errors_for(ctx, eerrors, "reason")) (errors_for(ctx, eerrors, "ends_on")) (errors_for(ctx, eerrors, "note"))
        }
        @if staff {
            form.stack.card method="post" action={ "/committees/" (id) "/members" } {
                (csrf(ctx))
                h3 { (ctx.t("增补成员", "Add a member")) }
                label { (ctx.t("姓名", "Name"))
                    input type="text" name="name" value=(val(f, "name"));
                    (errors_for(ctx, errors, "name"))
                }
                label { (ctx.t("人员编号(可选,来自人口库)", "Person id (optional, from the registry)"))
                    input type="number" name="person_id" value=(val(f, "person_id"));
                    (errors_for(ctx, errors, "person_id"))
                }
                label { (ctx.t("职务", "Office"))
                    select name="office" { @for o in OFFICES {
                        option value=(o.as_str()) selected[val(f, "office") == o.as_str()] { (ctx.text(&o.label())) } } }
                    (errors_for(ctx, errors, "office"))
                }
                label { (ctx.t("任职日期", "Starts on"))
                    input type="date" name="starts_on" value=(val(f, "starts_on"));
                    (errors_for(ctx, errors, "starts_on"))
                }
                button type="submit" { (ctx.t("增补", "Add")) }
            }
        }
    }
}

fn activity_section(
    ctx: &Ctx,
    id: i64,
    list: &[store::Activity],
    staff: bool,
    failed: Option<&Failed<'_>>,
    empty: &Fields,
) -> Markup {
    let (f, errors) = failed_for(failed, "activity", empty);
    html! {
        @if list.is_empty() { p.muted { (ctx.t("尚无履职记录。", "No activity recorded yet.")) } }
        @else {
            ul.list { @for a in list.iter().take(50) {
                li { span { strong { (a.held_on) } " · "
                    (ctx.text(&rules::ActivityKind::parse(&a.kind).map_or_else(|| Text::owned(a.kind.clone(), a.kind.clone()), rules::ActivityKind::label)))
                    " · " (a.title) } }
            } }
        }
        @if staff {
            form.stack.card method="post" action={ "/committees/" (id) "/activities" } {
                (csrf(ctx))
                h3 { (ctx.t("登记履职", "Record activity")) }
                label { (ctx.t("类型", "Kind"))
                    select name="kind" { @for k in ACTIVITY_KINDS {
                        option value=(k.as_str()) selected[val(f, "kind") == k.as_str()] { (ctx.text(&k.label())) } } }
                    (errors_for(ctx, errors, "kind"))
                }
                label { (ctx.t("日期", "Date"))
                    input type="date" name="held_on" value=(val(f, "held_on"));
                    (errors_for(ctx, errors, "held_on"))
                }
                label { (ctx.t("事由", "Title"))
                    input type="text" name="title" value=(val(f, "title")) required;
                    (errors_for(ctx, errors, "title"))
                }
                label { (ctx.t("说明", "Note"))
                    textarea name="note" rows="2" { (val(f, "note")) }
                }
                button type="submit" { (ctx.t("登记", "Record")) }
            }
        }
    }
}

fn timeline(ctx: &Ctx, r: &store::Reelection) -> Markup {
    html! {
        ol.timeline {
            @for s in &r.steps {
                li {
                    strong { (ctx.text(&s.step.label())) }
                    " · " span.muted { (ctx.text(&s.step.rule())) }
                    @if let Some(d) = &s.due_on { " · " (ctx.t("期限 ", "due ")) (d) }
                    @if let Some(d) = &s.done_on { " · " (ctx.t("完成于 ", "done on ")) (d) }
                    @if s.late { " " span.tag { (ctx.t("逾期完成", "done late")) } }
                    @if s.overdue { " " span.tag.error { (ctx.t("已逾期", "overdue")) } }
                    @if !s.note.is_empty() { br; span.muted { (s.note) } }
                }
            }
        }
        @if let Some(v) = r.vote_id {
            p { (ctx.t("选举表决:", "Election vote: ")) a href={ "/votes/" (v) } { "#" (v) }
                @if !r.elected.is_empty() { " · " (ctx.t("当选:", "elected: ")) (r.elected.join("、")) } }
        }
    }
}

fn reelection_section(
    ctx: &Ctx,
    o: &Overview,
    all: &[store::Reelection],
    staff: bool,
    failed: Option<&Failed<'_>>,
    empty: &Fields,
) -> Markup {
    let id = o.committee.id;
    html! {
        @if let Some(r) = &o.reelection {
            p.notice { (ctx.t("换届进行中,自 ", "A re-election is running since ")) (r.started_on)
                (ctx.t(";换届期间不得表决选聘物业或调整物业费。", "; company selection and fee changes cannot be put to a vote until the filing.")) }
            (timeline(ctx, r))
            @if staff { @if let Some(next) = r.next_step { (step_form(ctx, id, next, failed, empty)) } }
            @if staff {
                @let (cf, cerrors) = failed_for(failed, "cancel", empty);
                details {
                    summary { (ctx.t("取消换届", "Cancel the re-election")) }
                    form.stack method="post" action={ "/committees/" (id) "/reelection/cancel" } {
                        (csrf(ctx))
                        label { (ctx.t("原因", "Reason"))
                            input type="text" name="reason" value=(val(cf, "reason")) required;
                            (errors_for(ctx, cerrors, "reason"))
                        }
                        button.secondary type="submit" { (ctx.t("取消换届(换届期随即结束)", "Cancel (the re-election period ends now)")) }
                    }
                }
            }
        } @else if staff {
            @let (f, errors) = failed_for(failed, "start", empty);
            form.stack.card method="post" action={ "/committees/" (id) "/reelections" } {
                (csrf(ctx))
                h3 { (ctx.t("启动换届", "Start a re-election")) }
                label { (ctx.t("原因", "Reason"))
                    select name="trigger" { @for t in TRIGGERS {
                        option value=(t.as_str()) selected[val(f, "trigger") == t.as_str()] { (ctx.text(&t.label())) } } }
                    (errors_for(ctx, errors, "trigger"))
                }
                label { (ctx.t("开始日期", "Starts on"))
                    input type="date" name="started_on" value=(val(f, "started_on"));
                    (errors_for(ctx, errors, "started_on"))
                }
                label { (ctx.t("新一届任期(年)", "New term (years)"))
                    input type="number" name="term_years" min="3" max="5" value=(val(f, "term_years")) placeholder=(o.committee.term.term_years);
                    (errors_for(ctx, errors, "term_years"))
                }
                label { (ctx.t("说明", "Note"))
                    input type="text" name="note" value=(val(f, "note"));
                }
                button type="submit" { (ctx.t("启动", "Start")) }
            }
        }
        @for r in all.iter().filter(|r| r.status != "running") {
            details {
                summary { (r.started_on) " – " (r.completed_on.clone().unwrap_or_default()) " · "
                    (ctx.text(&rules::Trigger::parse(&r.trigger).map_or_else(|| Text::owned(r.trigger.clone(), r.trigger.clone()), rules::Trigger::label))) }
                @if r.status == "cancelled" { p.muted { (ctx.t("已取消:", "Cancelled: ")) (r.cancel_reason) } }
                (timeline(ctx, r))
            }
        }
    }
}

fn step_form(
    ctx: &Ctx,
    id: i64,
    next: Step,
    failed: Option<&Failed<'_>>,
    empty: &Fields,
) -> Markup {
    let (f, errors) = failed_for(failed, "step", empty);
    html! {
        form.stack.card method="post" action={ "/committees/" (id) "/reelection/steps" } {
            (csrf(ctx))
            input type="hidden" name="step" value=(next.as_str());
            h3 { (ctx.t("登记:", "Record: ")) (ctx.text(&next.label())) }
            (errors_for(ctx, errors, "step"))
            @if next == Step::Election {
                label { (ctx.t("选举表决编号(业委会选举,已计票)", "Election vote id (an owners' committee vote, counted)"))
                    input type="number" name="vote_id" value=(val(f, "vote_id")) required;
                    (errors_for(ctx, errors, "vote_id"))
                }
                label { (ctx.t("当选名单(通过名单式表决时填写,每行一人)", "Elected (for a slate approved by a yes/no vote, one a line)"))
                    textarea name="elected" rows="3" { (val(f, "elected")) }
                    (errors_for(ctx, errors, "elected"))
                }
            } @else {
                label { (ctx.t("完成日期", "Done on"))
                    input type="date" name="done_on" value=(val(f, "done_on"));
                    (errors_for(ctx, errors, "done_on"))
                }
            }
            label { (ctx.t("说明", "Note"))
                input type="text" name="note" value=(val(f, "note"));
            }
            @if next == Step::Filing {
                p.muted { (ctx.t("登记备案即完成换届:新一届成员就任,换届期结束。", "Recording the filing completes the re-election: the new members take office and the re-election period ends.")) }
            }
            button type="submit" { (ctx.t("登记", "Record")) }
        }
    }
}

/// After a form: back to the page, or the page again with the errors (422).
async fn after<T>(
    p: &Page,
    id: i64,
    form: &str,
    fields: &Fields,
    result: Result<T>,
) -> Result<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/committees/{id}?saved=1")).into_response()),
        Err(Error::Invalid(errors)) => {
            let failed = Failed {
                form,
                fields,
                errors: &errors,
            };
            let page = render_show(p, id, Some(&failed), false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn add_member(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = NewMember {
        person_id: opt_i64(&f, "person_id", &mut errors),
        name: val(&f, "name").into(),
        office: val(&f, "office").into(),
        starts_on: val(&f, "starts_on").into(),
    };
    let r = if errors.is_empty() {
        store::add_member(&p.ctx.state.db, &p.actor, id, n, now_ms()).await
    } else {
        Err(Error::Invalid(errors))
    };
    after(&p, id, "member", &f, r).await
}

async fn end_member(
    p: Page,
    Path((id, member_id)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let n = EndMember {
        reason: val(&f, "reason").into(),
        ends_on: val(&f, "ends_on").into(),
        note: val(&f, "note").into(),
    };
    let r = store::end_member(&p.ctx.state.db, &p.actor, id, member_id, n, now_ms()).await;
    after(&p, id, "end", &f, r).await
}

async fn set_office(
    p: Page,
    Path((id, member_id)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let r = store::set_office(&p.ctx.state.db, &p.actor, id, member_id, val(&f, "office")).await;
    after(&p, id, "office", &f, r).await
}

async fn add_activity(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let n = NewActivity {
        kind: val(&f, "kind").into(),
        held_on: val(&f, "held_on").into(),
        title: val(&f, "title").into(),
        note: val(&f, "note").into(),
    };
    let r = store::add_activity(&p.ctx.state.db, &p.actor, id, n, now_ms()).await;
    after(&p, id, "activity", &f, r).await
}

async fn start_reelection(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = NewReelection {
        trigger: val(&f, "trigger").into(),
        started_on: val(&f, "started_on").into(),
        term_years: opt_i64(&f, "term_years", &mut errors),
        note: val(&f, "note").into(),
    };
    let r = if errors.is_empty() {
        store::start_reelection(&p.ctx.state.db, &p.actor, id, n, now_ms()).await
    } else {
        Err(Error::Invalid(errors))
    };
    after(&p, id, "start", &f, r).await
}

async fn cancel_reelection(
    p: Page,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let r =
        store::cancel_reelection(&p.ctx.state.db, &p.actor, id, val(&f, "reason"), now_ms()).await;
    after(&p, id, "cancel", &f, r).await
}

async fn record_step(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = NewStep {
        step: val(&f, "step").into(),
        done_on: val(&f, "done_on").into(),
        note: val(&f, "note").into(),
        vote_id: opt_i64(&f, "vote_id", &mut errors),
        elected: val(&f, "elected").lines().map(str::to_string).collect(),
    };
    let r = if errors.is_empty() {
        store::record_step(&p.ctx.state.db, &p.actor, id, n, now_ms()).await
    } else {
        Err(Error::Invalid(errors))
    };
    after(&p, id, "step", &f, r).await
}
