//! The joint office's pages: `/office` (the offices in reach), `/office/new`,
//! `/office/{id}?week=YYYY-MM-DD` (the week's sittings with a check-in button per party, the
//! visitor log, the matters with "settled" and "raise a case"), `/office/{id}/edit`, and
//! `/office/{id}/report?month=YYYY-MM` (also `/office/{id}/report.xlsx`). Forms post to
//! `/office/{id}/…`; the store checks and audits; an invalid form re-renders (422) with what
//! was typed and each message by its field.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use time::Duration;

use super::api::{month_or_now, week_of};
use super::rules::{self, Party, PARTIES};
use super::store::{self, NewCheckIn, NewMatter, NewOffice, NewVisitor, Office, ToCase};
use crate::cases::intake::rules::parse_local_datetime;
use crate::clock::format_local;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office", get(list).post(create))
        .route("/office/new", get(new_page))
        .route("/office/{id}", get(show))
        .route("/office/{id}/edit", get(edit_page).post(edit))
        .route("/office/{id}/checkin", post(check_in))
        .route(
            "/office/{id}/checkins/{checkin_id}/checkout",
            post(check_out),
        )
        .route("/office/{id}/visitors", post(add_visitor))
        .route("/office/{id}/matters", post(add_matter))
        .route("/office/{id}/matters/{matter_id}/done", post(matter_done))
        .route("/office/{id}/matters/{matter_id}/case", post(matter_case))
        .route("/office/{id}/report", get(report))
        .route("/office/{id}/report.xlsx", get(report_xlsx))
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

fn opt_time(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    let t = parse_local_datetime(s);
    if t.is_none() {
        errors.push(FieldError::new(
            field,
            Text::new("时间格式不对", "not a valid date and time"),
        ));
    }
    t
}

async fn run<T, Fut>(parse_errors: Vec<FieldError>, call: Fut) -> Result<T>
where
    Fut: std::future::Future<Output = Result<T>>,
{
    if !parse_errors.is_empty() {
        return Err(Error::Invalid(parse_errors));
    }
    call.await
}

fn party_label(ctx: &Ctx, p: Party) -> String {
    ctx.text(&p.label()).to_string()
}

fn minutes(m: i64) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn status_label(ctx: &Ctx, s: &str) -> String {
    match s {
        "case" => ctx.t("已转办件", "raised as a case"),
        "done" => ctx.t("已当场解决", "settled"),
        _ => ctx.t("待处理", "open"),
    }
    .to_string()
}

// ---------------------------------------------------------------- list and new

async fn list(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let offices = store::list(db, &p.actor).await?;
    let may_open = !store::places(db, &p.actor).await?.is_empty();
    let body = html! {
        h1 { (ctx.t("三驾马车合署办公", "Troika joint office")) }
        p.muted { (ctx.t(
            "居委会、业委会、物业公司每周固定时间在小区合署办公:各方签到、接待来访、受理事项,事项可转为办件闭环处理。",
            "The residents' committee, owners' committee and property company sit together at fixed weekly hours: each checks in, visitors are received, and matters raised become cases.")) }
        @if may_open { nav.shortcuts { a.button href="/office/new" { (ctx.t("新建合署办公点", "New office")) } } }
        @if offices.is_empty() {
            p.notice { (ctx.t("暂无合署办公点。", "No joint offices here yet.")) }
        } @else {
            ul.list {
                @for o in &offices {
                    li {
                        span {
                            a href={ "/office/" (o.id) } { strong { (o.name) } } br;
                            span.muted { (o.node_name) @if !o.room.is_empty() { " · " (o.room) } }
                        }
                        span.muted {
                            @for s in &o.slots { (ctx.text(&s.describe())) br; }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(ctx, ctx.t("合署办公", "Joint office"), body))
}

async fn office_form(
    p: &Page,
    action: &str,
    f: &Fields,
    errors: &[FieldError],
    with_place: bool,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let places = if with_place {
        store::places(db, &p.actor).await?
    } else {
        Vec::new()
    };
    let mut orgs = Vec::new();
    for party in PARTIES {
        orgs.push((party, store::orgs_of_kind(db, sid, party.org_kind()).await?));
    }
    Ok(html! {
        form.stack.card method="post" action=(action) {
            (csrf(ctx))
            @if let Some(v) = f.get("version") { input type="hidden" name="version" value=(v); }
            @if with_place {
                label { (ctx.t("小区(居民区、网格或楼栋)", "Estate (community, grid or building)"))
                    select name="node_id" required {
                        option value="" { (ctx.t("请选择", "Choose")) }
                        @for n in &places {
                            option value=(n.id) selected[val(f, "node_id") == n.id.to_string()] {
                                @for _ in 1..n.depth { "— " } (n.name) " · " (ctx.text(&n.kind.label()))
                            }
                        }
                    }
                    (errors_for(ctx, errors, "node_id"))
                }
            }
            label { (ctx.t("名称", "Name"))
                input type="text" name="name" value=(val(f, "name")) placeholder=(ctx.t("如:章浜小区合署办公室", "e.g. Zhangbang joint office")) required;
                (errors_for(ctx, errors, "name"))
            }
            label { (ctx.t("办公地点", "Room"))
                input type="text" name="room" value=(val(f, "room"));
                (errors_for(ctx, errors, "room"))
            }
            @for (party, list) in &orgs {
                @let field = format!("{}_id", party.code());
                label { (party_label(ctx, *party))
                    select name=(field) {
                        option value="" { (ctx.t("(暂无)", "(none yet)")) }
                        @for (id, name) in list {
                            option value=(id) selected[val(f, &field) == id.to_string()] { (name) }
                        }
                    }
                    (errors_for(ctx, errors, &field))
                }
            }
            label { (ctx.t("每周固定时段(每行一个,如“周二 09:00-11:30”)", "Weekly hours (one a line, e.g. “tuesday 09:00-11:30”)"))
                textarea name="slots" rows="4" { (val(f, "slots")) }
                (errors_for(ctx, errors, "slots"))
            }
            label {
                input type="checkbox" name="skip_holidays" value="1" checked[val(f, "skip_holidays") == "1"];
                " " (ctx.t("法定节假日暂停(按工作日历)", "Skip public holidays (per the working-day calendar)"))
            }
            label { (ctx.t("签到容差(分钟)", "Check-in tolerance (minutes)"))
                input type="number" name="tolerance_minutes" min="0" max=(rules::MAX_TOLERANCE_MINUTES) value=(val(f, "tolerance_minutes"));
                (errors_for(ctx, errors, "tolerance_minutes"))
            }
            button type="submit" { (ctx.t("保存", "Save")) }
        }
    })
}

fn office_from_form(f: &Fields, errors: &mut Vec<FieldError>) -> NewOffice {
    let slots = match rules::parse_slots(val(f, "slots")) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let tolerance = match val(f, "tolerance_minutes").trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(FieldError::new(
                    "tolerance_minutes",
                    Text::new("请填写分钟数", "a number of minutes"),
                ));
                None
            }
        },
    };
    NewOffice {
        node_id: opt_id(f, "node_id", errors),
        name: val(f, "name").into(),
        room: val(f, "room").into(),
        residents_committee_id: opt_id(f, "residents_committee_id", errors),
        owners_committee_id: opt_id(f, "owners_committee_id", errors),
        property_company_id: opt_id(f, "property_company_id", errors),
        slots,
        skip_holidays: Some(val(f, "skip_holidays") == "1"),
        tolerance_minutes: tolerance,
        version: opt_id(f, "version", errors),
    }
}

async fn render_new(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    if store::places(&ctx.state.db, &p.actor).await?.is_empty() {
        return Err(Error::Forbidden);
    }
    let body = html! {
        (layout::crumbs(&[("/office".into(), ctx.t("合署办公", "Joint office").into()),
            (String::new(), ctx.t("新建", "New").into())]))
        h1 { (ctx.t("新建合署办公点", "New joint office")) }
        (office_form(p, "/office", f, errors, true).await?)
    };
    Ok(layout::page(
        ctx,
        ctx.t("新建合署办公点", "New joint office"),
        body,
    ))
}

async fn new_page(p: Page) -> Result<Markup> {
    let mut f = Fields::new();
    f.insert("skip_holidays".into(), "1".into());
    f.insert("tolerance_minutes".into(), "15".into());
    render_new(&p, &f, &[]).await
}

async fn create(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let new = office_from_form(&f, &mut errors);
    match run(errors, store::create(&p.ctx.state.db, &p.actor, new)).await {
        Ok(o) => Ok(Redirect::to(&format!("/office/{}", o.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_new(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

fn fields_of(o: &Office) -> Fields {
    let mut f = Fields::new();
    f.insert("name".into(), o.name.clone());
    f.insert("room".into(), o.room.clone());
    for s in &o.seats {
        if let Some(id) = s.org_id {
            f.insert(format!("{}_id", s.party.code()), id.to_string());
        }
    }
    f.insert("slots".into(), rules::render_slots(&o.slots));
    if o.skip_holidays {
        f.insert("skip_holidays".into(), "1".into());
    }
    f.insert("tolerance_minutes".into(), o.tolerance_minutes.to_string());
    f.insert("version".into(), o.version.to_string());
    f
}

async fn render_edit(p: &Page, o: &Office, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let body = html! {
        (layout::crumbs(&[("/office".into(), ctx.t("合署办公", "Joint office").into()),
            (format!("/office/{}", o.id), o.name.clone()),
            (String::new(), ctx.t("修改", "Edit").into())]))
        h1 { (ctx.t("修改合署办公点", "Edit joint office")) }
        (office_form(p, &format!("/office/{}/edit", o.id), f, errors, false).await?)
    };
    Ok(layout::page(ctx, &o.name, body))
}

async fn edit_page(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let o = store::managed(&p.ctx.state.db, &p.actor, id).await?;
    render_edit(&p, &o, &fields_of(&o), &[]).await
}

async fn edit(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let db = &p.ctx.state.db;
    let o = store::managed(db, &p.actor, id).await?;
    let mut errors = Vec::new();
    let new = office_from_form(&f, &mut errors);
    match run(errors, store::update(db, &p.actor, id, new)).await {
        Ok(o) => Ok(Redirect::to(&format!("/office/{}", o.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_edit(&p, &o, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- the week view

#[derive(Deserialize, Default)]
struct WeekQ {
    #[serde(default)]
    week: Option<String>,
}

struct Failed<'a> {
    form: &'a str,
    target: i64,
    fields: &'a Fields,
    errors: &'a [FieldError],
}

async fn show(p: Page, Path(id): Path<i64>, Query(q): Query<WeekQ>) -> Result<Markup> {
    let week = week_of(q.week.as_deref())?;
    render_show(&p, id, week, None).await
}

async fn render_show(
    p: &Page,
    id: i64,
    week: time::Date,
    failed: Option<&Failed<'_>>,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let o = store::readable(db, &p.actor, id).await?;
    let to = week + Duration::days(6);
    let plan = store::planned(db, sid, &o, week, to).await?;
    let checkins = store::checkins(db, sid, o.id, week, to).await?;
    let week_from_ms = rules::Sitting {
        day: week,
        start_min: 0,
        end_min: 0,
    }
    .start_ms();
    let week_to_ms = week_from_ms + 7 * 86_400_000;
    let visitors = store::visitors(db, sid, o.id, week_from_ms, week_to_ms).await?;
    let open = store::open_matters(db, sid, o.id).await?;
    let recent = store::matters(db, sid, o.id, week_from_ms, week_to_ms).await?;
    let manages = store::manages(&p.actor, &o.node_path);
    let mine = o.parties_of(&p.actor);
    let takes_part = o.takes_part(&p.actor);
    let now = crate::clock::now_ms();
    let empty = Fields::new();
    let failed_for = |form: &str, target: i64| -> (&Fields, &[FieldError]) {
        match failed {
            Some(x) if x.form == form && x.target == target => (x.fields, x.errors),
            _ => (&empty, &[]),
        }
    };
    let categories = if takes_part {
        Some(crate::cases::category_store::offered(db, sid).await?)
    } else {
        None
    };
    let places = if takes_part {
        store::case_places(db, sid, &o.node_path).await?
    } else {
        Vec::new()
    };
    let prev = rules::format_day(week - Duration::days(7));
    let next = rules::format_day(week + Duration::days(7));
    let month = format!("{:04}-{:02}", week.year(), u8::from(week.month()));
    let sitting_parties = o.parties();
    let body = html! {
        (layout::crumbs(&[("/office".into(), ctx.t("合署办公", "Joint office").into()), (String::new(), o.name.clone())]))
        h1 { (o.name) }
        p.muted {
            (o.node_name) @if !o.room.is_empty() { " · " (o.room) }
            " · " (ctx.t("签到容差", "tolerance")) " " (o.tolerance_minutes) (ctx.t(" 分钟", " min"))
            @if o.skip_holidays { " · " (ctx.t("节假日暂停", "holidays skipped")) }
        }
        ul {
            @for s in &o.seats {
                li { strong { (party_label(ctx, s.party)) } ": "
                    @if s.org_id.is_some() { (s.org_name) } @else { span.muted { (ctx.t("暂无", "none yet")) } } }
            }
        }
        nav.shortcuts {
            a.button.secondary href={ "/office/" (o.id) "/report?month=" (month) } { (ctx.t("月度报告", "Monthly report")) }
            @if manages { a.button.secondary href={ "/office/" (o.id) "/edit" } { (ctx.t("修改", "Edit")) } }
        }
        h2 { (ctx.t("本周合署办公", "This week's sittings")) " " (rules::format_day(week)) }
        nav.shortcuts {
            a.button.secondary href={ "/office/" (o.id) "?week=" (prev) } { "← " (ctx.t("上一周", "Previous week")) }
            a.button.secondary href={ "/office/" (o.id) "?week=" (next) } { (ctx.t("下一周", "Next week")) " →" }
        }
        @if let Some(x) = failed.filter(|x| x.form == "checkin") {
            @for e in x.errors { p.error { (ctx.text(&e.message)) } }
        }
        @if plan.is_empty() {
            p.notice { (ctx.t("本周没有合署办公时段。", "No sittings this week.")) }
        } @else {
            table {
                thead { tr {
                    th { (ctx.t("时段", "Sitting")) }
                    @for party in &sitting_parties { th { (party_label(ctx, *party)) } }
                } }
                tbody {
                    @for s in &plan {
                        tr {
                            td { (ctx.text(&crate::deliberation::cadence::DayOfWeek::of(s.day).label())) " " (rules::format_day(s.day)) br;
                                (minutes(s.start_min)) "–" (minutes(s.end_min)) }
                            @for party in &sitting_parties {
                                td {
                                    @if let Some(c) = checkins.iter().find(|c| c.sitting() == Some(*s) && c.party == *party) {
                                        "✔ " (c.user_name) " " (format_local(c.at))
                                        @if c.late_minutes > 0 { " " span.tag { (ctx.t("迟到", "late")) " " (c.late_minutes) (ctx.t("分钟", " min")) } }
                                        @if let Some(l) = c.left_at {
                                            br; (ctx.t("签退", "left")) " " (format_local(l))
                                            @if c.left_early { " " span.tag { (ctx.t("早退", "left early")) } }
                                        } @else if manages || mine.contains(party) {
                                            form method="post" action={ "/office/" (o.id) "/checkins/" (c.id) "/checkout" } {
                                                (csrf(ctx)) input type="hidden" name="week" value=(rules::format_day(week));
                                                button.secondary type="submit" { (ctx.t("签退", "Check out")) }
                                            }
                                        }
                                    } @else if (manages || mine.contains(party)) && s.end_ms() + o.tolerance_minutes * 60_000 >= now && s.start_ms() - o.tolerance_minutes * 60_000 <= now {
                                        form method="post" action={ "/office/" (o.id) "/checkin" } {
                                            (csrf(ctx))
                                            input type="hidden" name="day" value=(rules::format_day(s.day));
                                            input type="hidden" name="start" value=(minutes(s.start_min));
                                            input type="hidden" name="party" value=(party.code());
                                            button type="submit" { (ctx.t("签到", "Check in")) }
                                        }
                                    } @else if s.start_ms() > now {
                                        span.muted { (ctx.t("未开始", "not yet")) }
                                    } @else {
                                        span.muted { (ctx.t("未签到", "absent")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if manages {
                details {
                    summary { (ctx.t("补记签到", "Record a check-in for a party")) }
                    @let (f, errors) = failed_for("checkin_staff", 0);
                    form.stack.card method="post" action={ "/office/" (o.id) "/checkin" } {
                        (csrf(ctx))
                        input type="hidden" name="staff" value="1";
                        label { (ctx.t("时段", "Sitting"))
                            select name="sitting" {
                                @for s in &plan {
                                    @let v = format!("{} {}", rules::format_day(s.day), minutes(s.start_min));
                                    option value=(v) selected[val(f, "sitting") == v] { (s.label()) }
                                }
                            }
                        }
                        label { (ctx.t("签到方", "Party"))
                            select name="party" {
                                @for party in &sitting_parties { option value=(party.code()) selected[val(f, "party") == party.code()] { (party_label(ctx, *party)) } }
                            }
                            (errors_for(ctx, errors, "party"))
                        }
                        label { (ctx.t("实际签到时间", "When they checked in"))
                            input type="datetime-local" name="at" value=(val(f, "at")) required;
                            (errors_for(ctx, errors, "at"))
                        }
                        (errors_for(ctx, errors, "start"))
                        button type="submit" { (ctx.t("补记", "Record")) }
                    }
                }
            }
        }
        h2 { (ctx.t("来访登记", "Visitor log")) }
        @if takes_part {
            @let (f, errors) = failed_for("visitor", 0);
            form.stack.card method="post" action={ "/office/" (o.id) "/visitors" } {
                (csrf(ctx))
                input type="hidden" name="week" value=(rules::format_day(week));
                label { (ctx.t("来访人姓名", "Visitor's name"))
                    input type="text" name="name" value=(val(f, "name")) required;
                    (errors_for(ctx, errors, "name"))
                }
                label { (ctx.t("来访事由", "Purpose"))
                    textarea name="purpose" rows="2" { (val(f, "purpose")) }
                    (errors_for(ctx, errors, "purpose"))
                }
                label { (ctx.t("来访时间(默认现在)", "When (default now)"))
                    input type="datetime-local" name="visited_at" value=(val(f, "visited_at"));
                    (errors_for(ctx, errors, "visited_at"))
                }
                label { (ctx.t("同时登记事项,承接方", "Also record a matter, taken by"))
                    select name="party" {
                        option value="" { (ctx.t("(不登记事项)", "(no matter)")) }
                        @for party in &sitting_parties { option value=(party.code()) selected[val(f, "party") == party.code()] { (party_label(ctx, *party)) } }
                    }
                    (errors_for(ctx, errors, "party"))
                }
                p.muted { (ctx.t("不记录电话;如需联系,请将事项转为办件。", "No phone is kept; to follow up, raise the matter as a case.")) }
                button type="submit" { (ctx.t("登记", "Log")) }
            }
        }
        @if visitors.is_empty() {
            p.muted { (ctx.t("本周暂无来访。", "No visitors this week.")) }
        } @else {
            ul.list {
                @for v in &visitors {
                    li { span { strong { (v.name) } " · " (format_local(v.visited_at)) br; span.muted { (v.purpose) } } }
                }
            }
        }
        h2 { (ctx.t("受理事项", "Matters raised")) }
        @if takes_part {
            @let (f, errors) = failed_for("matter", 0);
            form.stack.card method="post" action={ "/office/" (o.id) "/matters" } {
                (csrf(ctx))
                input type="hidden" name="week" value=(rules::format_day(week));
                label { (ctx.t("事项", "Matter"))
                    textarea name="body" rows="3" required { (val(f, "body")) }
                    (errors_for(ctx, errors, "body"))
                }
                label { (ctx.t("承接方", "Taken by"))
                    select name="party" required {
                        @for party in &sitting_parties { option value=(party.code()) selected[val(f, "party") == party.code()] { (party_label(ctx, *party)) } }
                    }
                    (errors_for(ctx, errors, "party"))
                }
                button type="submit" { (ctx.t("登记事项", "Record the matter")) }
            }
        }
        @if open.is_empty() {
            p.muted { (ctx.t("没有待处理的事项。", "No open matters.")) }
        }
        @for m in &open {
            article.card {
                p { strong { (party_label(ctx, m.party)) } " · " (format_local(m.raised_at)) " · " span.tag { (status_label(ctx, &m.status)) } }
                p { (m.body) }
                @if manages || mine.contains(&m.party) {
                    @let (f, errors) = failed_for("done", m.id);
                    details {
                        summary { (ctx.t("当场解决", "Settled here")) }
                        form.stack method="post" action={ "/office/" (o.id) "/matters/" (m.id) "/done" } {
                            (csrf(ctx))
                            input type="hidden" name="week" value=(rules::format_day(week));
                            label { (ctx.t("如何解决", "How it was settled"))
                                textarea name="resolution" rows="2" required { (val(f, "resolution")) }
                                (errors_for(ctx, errors, "resolution"))
                            }
                            button type="submit" { (ctx.t("确认", "Confirm")) }
                        }
                    }
                    @if let Some(tree) = &categories {
                        @let (f, errors) = failed_for("case", m.id);
                        details open[!errors.is_empty()] {
                            summary { (ctx.t("转为办件", "Raise a case")) }
                            form.stack method="post" action={ "/office/" (o.id) "/matters/" (m.id) "/case" } {
                                (csrf(ctx))
                                input type="hidden" name="week" value=(rules::format_day(week));
                                label { (ctx.t("类别", "Category"))
                                    select name="category" required {
                                        option value="" { (ctx.t("请选择", "Choose")) }
                                        @for (_, c) in tree.depth_first() {
                                            @if tree.is_leaf(&c.code) {
                                                option value=(c.code) selected[val(f, "category") == c.code] { (tree.path_name(&c.code, ctx.lang)) }
                                            }
                                        }
                                    }
                                    (errors_for(ctx, errors, "category"))
                                }
                                label { (ctx.t("地点(网格或以下)", "Place (a grid or below)"))
                                    select name="node_id" required {
                                        @for (nid, name, depth) in &places {
                                            option value=(nid) selected[val(f, "node_id") == nid.to_string()] { @for _ in 2..*depth { "— " } (name) }
                                        }
                                    }
                                    (errors_for(ctx, errors, "node_id"))
                                }
                                label { (ctx.t("标题(可选)", "Title (optional)"))
                                    input type="text" name="title" value=(val(f, "title"));
                                    (errors_for(ctx, errors, "title"))
                                }
                                @for e in errors.iter().filter(|e| !["category", "node_id", "title"].contains(&e.field.as_str())) { p.error { (ctx.text(&e.message)) } }
                                button type="submit" { (ctx.t("转为办件", "Raise the case")) }
                            }
                        }
                    }
                }
            }
        }
        @let closed: Vec<_> = recent.iter().filter(|m| m.status != "open").collect();
        @if !closed.is_empty() {
            h3 { (ctx.t("本周已处理", "Handled this week")) }
            ul.list {
                @for m in closed {
                    li { span {
                        (party_label(ctx, m.party)) " · " (m.body.chars().take(60).collect::<String>()) br;
                        span.muted { (status_label(ctx, &m.status))
                            @if let (Some(cid), Some(n)) = (m.case_id, &m.case_number) { " · " a href={ "/cases/" (cid) } { (n) } }
                            @if !m.resolution.is_empty() { " · " (m.resolution) } }
                    } }
                }
            }
        }
    };
    Ok(layout::page(ctx, &o.name, body))
}

fn week_field(f: &Fields) -> time::Date {
    week_of(Some(val(f, "week"))).unwrap_or_else(|_| week_of(None).unwrap_or(time::Date::MIN))
}

/// After a form on the week view: back to the week, or the page again with the errors.
async fn answer<T>(
    p: &Page,
    id: i64,
    form: &str,
    target: i64,
    f: &Fields,
    result: Result<T>,
) -> Result<Response> {
    let week = week_field(f);
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/office/{id}?week={}", rules::format_day(week))).into_response(),
        ),
        Err(Error::Invalid(errors)) => {
            let failed = Failed {
                form,
                target,
                fields: f,
                errors: &errors,
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render_show(p, id, week, Some(&failed)).await?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

async fn check_in(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let staff = val(&f, "staff") == "1";
    let (day, start) = if staff {
        let s = val(&f, "sitting");
        let (d, t) = s.split_once(' ').unwrap_or((s, ""));
        (d.to_string(), t.to_string())
    } else {
        (val(&f, "day").to_string(), val(&f, "start").to_string())
    };
    let at = if staff {
        opt_time(&f, "at", &mut errors)
    } else {
        None
    };
    let mut f = f.clone();
    if let Some(d) = rules::parse_day(&day) {
        f.insert("week".into(), rules::format_day(rules::week_start(d)));
    }
    let c = NewCheckIn {
        day,
        start,
        party: val(&f, "party").into(),
        at,
    };
    let result = run(errors, store::check_in(&p.ctx.state.db, &p.actor, id, c)).await;
    answer(
        &p,
        id,
        if staff { "checkin_staff" } else { "checkin" },
        0,
        &f,
        result,
    )
    .await
}

async fn check_out(
    p: Page,
    Path((id, checkin_id)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let result = store::check_out(&p.ctx.state.db, &p.actor, id, checkin_id).await;
    answer(&p, id, "checkout", checkin_id, &f, result).await
}

async fn add_visitor(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let visited_at = opt_time(&f, "visited_at", &mut errors);
    let party = val(&f, "party").trim().to_string();
    let v = NewVisitor {
        name: val(&f, "name").into(),
        purpose: val(&f, "purpose").into(),
        visited_at,
    };
    let db = &p.ctx.state.db;
    let result = run(errors, store::add_visitor(db, &p.actor, id, v)).await;
    // A matter recorded with the visit: the purpose is the matter, the visitor its contact.
    let result = match (result, party.is_empty()) {
        (Ok(v), false) => store::add_matter(
            db,
            &p.actor,
            id,
            NewMatter {
                body: if val(&f, "purpose").trim().is_empty() {
                    val(&f, "name").into()
                } else {
                    val(&f, "purpose").into()
                },
                party,
                visitor_id: Some(v.id),
                raised_at: Some(v.visited_at),
            },
        )
        .await
        .map(|_| ()),
        (r, _) => r.map(|_| ()),
    };
    answer(&p, id, "visitor", 0, &f, result).await
}

async fn add_matter(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let m = NewMatter {
        body: val(&f, "body").into(),
        party: val(&f, "party").into(),
        visitor_id: None,
        raised_at: None,
    };
    let result = store::add_matter(&p.ctx.state.db, &p.actor, id, m).await;
    answer(&p, id, "matter", 0, &f, result).await
}

async fn matter_done(
    p: Page,
    Path((id, matter_id)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let result = store::matter_done(
        &p.ctx.state.db,
        &p.actor,
        id,
        matter_id,
        val(&f, "resolution"),
    )
    .await;
    answer(&p, id, "done", matter_id, &f, result).await
}

async fn matter_case(
    p: Page,
    Path((id, matter_id)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let mut errors = Vec::new();
    let t = ToCase {
        category: val(&f, "category").into(),
        node_id: opt_id(&f, "node_id", &mut errors),
        title: val(&f, "title").into(),
        description: String::new(),
        attributes: Default::default(),
    };
    let result = run(
        errors,
        store::matter_to_case(&p.ctx.state.db, &p.actor, id, matter_id, t),
    )
    .await;
    answer(&p, id, "case", matter_id, &f, result).await
}

// ---------------------------------------------------------------- the report

#[derive(Deserialize, Default)]
struct MonthQ {
    #[serde(default)]
    month: Option<String>,
}

async fn report(p: Page, Path(id): Path<i64>, Query(q): Query<MonthQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let month = month_or_now(q.month.as_deref());
    let (o, r) =
        store::month_report(&ctx.state.db, &p.actor, id, &month, crate::clock::now_ms()).await?;
    let body = html! {
        (layout::crumbs(&[("/office".into(), ctx.t("合署办公", "Joint office").into()),
            (format!("/office/{}", o.id), o.name.clone()), (String::new(), ctx.t("月度报告", "Monthly report").into())]))
        h1 { (o.name) " · " (r.month) " " (ctx.t("月度报告", "monthly report")) }
        form method="get" action={ "/office/" (o.id) "/report" } {
            label { (ctx.t("月份", "Month")) input type="month" name="month" value=(r.month); }
            button.secondary type="submit" { (ctx.t("查看", "Show")) }
            " " a.button.secondary href={ "/office/" (o.id) "/report.xlsx?month=" (r.month) } { (ctx.t("导出 XLSX", "Export XLSX")) }
        }
        p { (ctx.t("应到场次", "Sittings due")) ": " strong { (r.report.sittings_due) }
            " · " (ctx.t("三方齐到", "All parties present")) ": " strong { (r.report.full_attendance.fraction()) } " (" (r.report.full_attendance.percent()) ")" }
        table {
            thead { tr {
                th { (ctx.t("参与方", "Party")) } th { (ctx.t("出勤", "Attendance")) } th { (ctx.t("出勤率", "Rate")) }
                th { (ctx.t("迟到", "Late")) } th { (ctx.t("早退", "Left early")) }
                th { (ctx.t("承接事项", "Matters taken")) } th { (ctx.t("转办件", "As cases")) } th { (ctx.t("当场解决", "Settled")) } th { (ctx.t("待处理", "Open")) }
            } }
            tbody {
                @for l in &r.report.parties {
                    tr {
                        td { (party_label(ctx, l.party)) } td { (l.attendance.fraction()) } td { (l.attendance.percent()) }
                        td { (l.late) } td { (l.left_early) }
                        td { (l.matters_taken) } td { (l.matters_case) } td { (l.matters_done) } td { (l.matters_open) }
                    }
                }
            }
        }
        p { (ctx.t("来访人次", "Visitors")) ": " strong { (r.report.visitors) }
            " · " (ctx.t("受理事项", "Matters raised")) ": " strong { (r.report.matters) }
            " · " (ctx.t("已办结或转办", "Handled")) ": " strong { (r.report.handled.fraction()) } " (" (r.report.handled.percent()) ")" }
        p.muted { (ctx.t("出勤率按已到时间的场次计;节假日按工作日历暂停的场次不计。", "Rates count the sittings that have begun; sittings skipped for holidays do not count.")) }
    };
    Ok(layout::page(ctx, &o.name, body))
}

async fn report_xlsx(p: Page, Path(id): Path<i64>, Query(q): Query<MonthQ>) -> Result<Response> {
    use rust_xlsxwriter::{Format, Workbook};
    let ctx = &p.ctx;
    let month = month_or_now(q.month.as_deref());
    let (o, r) =
        store::month_report(&ctx.state.db, &p.actor, id, &month, crate::clock::now_ms()).await?;
    let x = |e: rust_xlsxwriter::XlsxError| Error::Internal(anyhow::anyhow!("writing XLSX: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold();
    ws.write_string_with_format(0, 0, format!("{} {}", o.name, r.month), &bold)
        .map_err(x)?;
    let heads = [
        ctx.t("参与方", "Party"),
        ctx.t("出勤", "Attended"),
        ctx.t("应到", "Due"),
        ctx.t("出勤率(‰)", "Rate (‰)"),
        ctx.t("迟到", "Late"),
        ctx.t("早退", "Left early"),
        ctx.t("承接事项", "Matters taken"),
        ctx.t("转办件", "As cases"),
        ctx.t("当场解决", "Settled"),
        ctx.t("待处理", "Open"),
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(2, u16::try_from(c).unwrap_or(0), *h, &bold)
            .map_err(x)?;
    }
    for (i, l) in r.report.parties.iter().enumerate() {
        let row = u32::try_from(i + 3).unwrap_or(3);
        ws.write_string(row, 0, party_label(ctx, l.party).as_str())
            .map_err(x)?;
        let nums = [
            l.attendance.num,
            l.attendance.den,
            l.attendance.per_mille().unwrap_or(0),
            l.late,
            l.left_early,
            l.matters_taken,
            l.matters_case,
            l.matters_done,
            l.matters_open,
        ];
        for (c, n) in nums.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            ws.write_number(row, u16::try_from(c + 1).unwrap_or(1), *n as f64)
                .map_err(x)?;
        }
    }
    let row = u32::try_from(r.report.parties.len() + 4).unwrap_or(8);
    let totals = [
        (ctx.t("应到场次", "Sittings due"), r.report.sittings_due),
        (
            ctx.t("三方齐到", "All parties present"),
            r.report.full_attendance.num,
        ),
        (ctx.t("来访人次", "Visitors"), r.report.visitors),
        (ctx.t("受理事项", "Matters raised"), r.report.matters),
        (ctx.t("转办件", "As cases"), r.report.matters_case),
        (ctx.t("当场解决", "Settled"), r.report.matters_done),
    ];
    for (i, (label, n)) in totals.iter().enumerate() {
        let rr = row + u32::try_from(i).unwrap_or(0);
        ws.write_string(rr, 0, *label).map_err(x)?;
        #[allow(clippy::cast_precision_loss)]
        ws.write_number(rr, 1, *n as f64).map_err(x)?;
    }
    let bytes = wb.save_to_buffer().map_err(x)?;
    let name = format!("joint-office-{}-{}.xlsx", o.id, r.month);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
