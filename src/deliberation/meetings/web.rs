//! The five-step method's pages (no JavaScript needed; the contact log is laid out for a
//! phone): `/five-step` (overview), `/five-step/schedules/{node}` (rules and the planned
//! meetings), `/five-step/scorecard/{node}` (the annual evaluation's scorecard),
//! `/five-step/feed` (the calendar feed URLs), `/meetings/{id}` (agenda, attendance, minutes,
//! decisions, actions), `/meeting-actions/{id}/case`, `/contacts`, `/contacts/new`,
//! `/contacts/{id}/case`, and the feeds `/calendars/me.ics` and `/calendars/node/{id}.ics`.
//! Forms post back; the stores check and audit; an invalid form re-renders (422) with what was
//! typed and each message by its field.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::json;

use super::contacts::{self, ContactFilter, NewContact};
use super::feeds;
use super::rules;
use super::store::{self, Meeting, MeetingPatch, NewAction, NewAttendee, NewSchedule, ToCase};
use crate::cases::calendar::deadline::local_date;
use crate::cases::category::CategoryTree;
use crate::cases::intake::rules::parse_local_datetime;
use crate::cases::measures::facts::{Facts, ALL_MEASURES};
use crate::clock::{format_local, to_local};
use crate::deliberation::cadence::{self, LocalTime, MeetingKind, Rule, ALL_MEETING_KINDS};
use crate::error::{Error, FieldError, Result};
use crate::i18n::{Lang, Text};
use crate::tree::NodeKind;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/five-step", get(overview))
        .route(
            "/five-step/schedules/{node}",
            get(schedule_page).post(schedule_save),
        )
        .route("/five-step/schedules/{node}/plan", post(schedule_plan))
        .route("/five-step/scorecard/{node}", get(scorecard_page))
        .route("/five-step/feed", get(feed_page).post(feed_reset))
        .route("/meetings/{id}", get(meeting_page))
        .route("/meetings/{id}/update", post(meeting_update))
        .route("/meetings/{id}/status", post(meeting_status))
        .route("/meetings/{id}/agenda/draft", post(agenda_draft))
        .route("/meetings/{id}/agenda/items", post(agenda_add))
        .route(
            "/meetings/{id}/agenda/items/{item}/remove",
            post(agenda_remove),
        )
        .route("/meetings/{id}/agenda/items/{item}/move", post(agenda_move))
        .route("/meetings/{id}/attendance", post(attend))
        .route("/meetings/{id}/attendance/{aid}/remove", post(unattend))
        .route("/meetings/{id}/decisions", post(decide))
        .route("/meetings/{id}/decisions/{did}/actions", post(add_action))
        .route("/meeting-actions/{id}/done", post(action_done))
        .route(
            "/meeting-actions/{id}/case",
            get(action_case_page).post(action_case),
        )
        .route("/contacts", get(contacts_page).post(contact_create))
        .route("/contacts/new", get(contact_new))
        .route(
            "/contacts/{id}/case",
            get(contact_case_page).post(contact_case),
        )
        .route("/calendars/me.ics", get(me_ics))
        .route("/calendars/node/{file}", get(node_ics))
}

type Fields = HashMap<String, String>;

fn val<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

/// Errors whose field no input shows.
fn other_errors(ctx: &Ctx, errors: &[FieldError], shown: &[&str]) -> Markup {
    html! { @for e in errors.iter().filter(|e| !shown.contains(&e.field.as_str())) {
        p.error { (e.field) ": " (ctx.text(&e.message)) }
    } }
}

fn local_input(ms: i64) -> String {
    let t = to_local(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn hm(ms: i64) -> String {
    let t = to_local(ms);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn when(m: &Meeting) -> String {
    format!("{} {}–{}", m.occurs_on, hm(m.start_ms), hm(m.end_ms))
}

fn opt_id(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
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

fn invalid(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

fn status_tag(ctx: &Ctx, code: &str) -> Markup {
    html! { span.tag { (ctx.text(&rules::meeting_status_label(code))) } }
}

fn meeting_line(ctx: &Ctx, m: &Meeting) -> Markup {
    html! {
        li {
            span {
                a href={ "/meetings/" (m.id) } { strong { (ctx.text(&m.kind_label())) } }
                " " (status_tag(ctx, &m.status)) br;
                span.muted { (m.node_name) " · " (when(m)) @if !m.place.is_empty() { " · " (m.place) } }
            }
        }
    }
}

// ---------------------------------------------------------------- overview

async fn overview(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let places = store::my_places(db, &p.actor).await?;
    let now = crate::clock::now_ms();
    let upcoming =
        store::my_meetings(db, &p.actor, now - 86_400_000, now + 30 * 86_400_000).await?;
    let actions = store::my_open_actions(db, &p.actor, 30).await?;
    let recent = contacts::list(
        db,
        &p.actor,
        &ContactFilter {
            from: Some(now - 7 * 86_400_000),
            ..Default::default()
        },
    )
    .await?;
    let body = html! {
        h1 { (ctx.t("五步工作法", "Five-step method")) }
        p.muted { (ctx.t(
            "日常联系、每周例会、每月协商、每季评议、年度考评。",
            "Daily contact, weekly meeting, monthly consultation, quarterly review, annual evaluation.")) }
        nav.shortcuts {
            a.button href="/contacts/new" { (ctx.t("记录日常联系", "Record a contact")) }
            a.button.secondary href="/contacts" { (ctx.t("联系记录", "Contact log")) }
            a.button.secondary href="/five-step/feed" { (ctx.t("日历订阅", "Calendar feeds")) }
        }
        @if !places.is_empty() {
            h2 { (ctx.t("我负责的居民区、村", "My communities and villages")) }
            ul.list { @for n in &places {
                li { span { strong { (n.name) } }
                    span {
                        a href={ "/five-step/schedules/" (n.id) } { (ctx.t("会议日程", "Schedules")) } " · "
                        a href={ "/five-step/scorecard/" (n.id) } { (ctx.t("年度考评", "Scorecard")) }
                    }
                }
            } }
        }
        h2 { (ctx.t("近期会议(30天内)", "Upcoming meetings (30 days)")) }
        @if upcoming.is_empty() { p.notice { (ctx.t("暂无。请在会议日程中制定计划。", "None. Plan them on a schedule page.")) } }
        @else { ul.list { @for m in &upcoming { (meeting_line(ctx, m)) } } }
        h2 { (ctx.t("待办事项", "Open actions")) }
        @if actions.is_empty() { p.muted { (ctx.t("暂无待办。", "No open actions.")) } }
        @else { ul.list { @for (a, node) in &actions {
            li { span { a href={ "/meetings/" (a.meeting_id) } { (a.title) } br;
                span.muted { (node) " · " (a.owner_name) @if let Some(d) = &a.due_on { " · " (ctx.t("期限", "due")) " " (d) } } } }
        } } }
        h2 { (ctx.t("近7天联系记录", "Contacts in the last 7 days")) }
        @if recent.is_empty() { p.muted { (ctx.t("暂无。", "None.")) } }
        @else { ul.list { @for c in recent.iter().take(10) { (contact_line(ctx, c)) } } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("五步工作法", "Five-step method"),
        body,
    ))
}

// ---------------------------------------------------------------- schedules

const EVERY: [(&str, &str, &str); 4] = [
    ("weekly", "每周", "weekly"),
    ("monthly", "每月", "monthly"),
    ("quarterly", "每季度", "quarterly"),
    ("annual", "每年", "yearly"),
];
const DAY_BY: [(&str, &str, &str); 3] = [
    ("day_of_month", "固定日期", "a fixed day"),
    ("last_day", "最后一天", "the last day"),
    ("nth_weekday", "第几个星期几", "the n-th weekday"),
];
const WEEKS: [(&str, &str, &str); 5] = [
    ("first", "第一个", "first"),
    ("second", "第二个", "second"),
    ("third", "第三个", "third"),
    ("fourth", "第四个", "fourth"),
    ("last", "最后一个", "last"),
];
const POLICIES: [(&str, &str, &str); 3] = [
    (
        "next_working_day",
        "遇节假日顺延",
        "move to the next working day",
    ),
    (
        "previous_working_day",
        "遇节假日提前",
        "move to the previous working day",
    ),
    ("keep", "照常举行", "keep the day"),
];

/// The form fields of a stored rule.
fn rule_fields(s: &store::Schedule) -> Fields {
    let mut f = Fields::new();
    let v = serde_json::to_value(s.rule).unwrap_or_default();
    let get = |p: &str| {
        v.pointer(p)
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
    };
    for (field, ptr) in [
        ("every", "/repeat/every"),
        ("month", "/repeat/month"),
        ("month_of_quarter", "/repeat/month_of_quarter"),
        ("day_by", "/repeat/day/by"),
        ("day", "/repeat/day/day"),
        ("week", "/repeat/day/week"),
        ("start", "/start"),
        ("duration_minutes", "/duration_minutes"),
        ("non_working_day", "/non_working_day"),
    ] {
        if let Some(x) = get(ptr) {
            f.insert(field.into(), x);
        }
    }
    if let Some(w) = get("/repeat/weekday").or_else(|| get("/repeat/day/weekday")) {
        f.insert("weekday".into(), w);
    }
    f.insert("place".into(), s.place.clone());
    f.insert("kind".into(), s.kind.clone());
    f
}

/// A rule from the form's fields; parse problems by field.
fn rule_from(f: &Fields) -> std::result::Result<Rule, Vec<FieldError>> {
    let mut errors = Vec::new();
    let start = match LocalTime::parse(val(f, "start")) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let num = |field: &str, errors: &mut Vec<FieldError>| -> u64 {
        match val(f, field).trim().parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    Text::new("请填写数字", "enter a number"),
                ));
                0
            }
        }
    };
    let weekday = val(f, "weekday");
    let day = match val(f, "day_by") {
        "last_day" => json!({ "by": "last_day" }),
        "nth_weekday" => json!({ "by": "nth_weekday", "week": val(f, "week"), "weekday": weekday }),
        _ => json!({ "by": "day_of_month", "day": num("day", &mut errors) }),
    };
    let repeat = match val(f, "every") {
        "weekly" => json!({ "every": "weekly", "weekday": weekday }),
        "monthly" => json!({ "every": "monthly", "day": day }),
        "quarterly" => {
            json!({ "every": "quarterly", "month_of_quarter": num("month_of_quarter", &mut errors), "day": day })
        }
        _ => json!({ "every": "annual", "month": num("month", &mut errors), "day": day }),
    };
    let duration = num("duration_minutes", &mut errors);
    let Some(start) = start else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let v = json!({ "repeat": repeat, "start": start.to_string(), "duration_minutes": duration,
        "non_working_day": val(f, "non_working_day") });
    serde_json::from_value::<Rule>(v).map_err(|_| {
        vec![FieldError::new(
            "repeat",
            Text::new("请检查重复方式的各项", "check the repetition's fields"),
        )]
    })
}

fn select(ctx: &Ctx, name: &str, options: &[(&str, &str, &str)], chosen: &str) -> Markup {
    html! { select name=(name) { @for (code, zh, en) in options {
        option value=(code) selected[chosen == *code] { (ctx.t(zh, en)) }
    } } }
}

fn schedule_form(
    ctx: &Ctx,
    node_id: i64,
    kind: MeetingKind,
    f: &Fields,
    errors: &[FieldError],
) -> Markup {
    let weekdays: Vec<(String, Text)> = cadence::ALL_DAYS_OF_WEEK
        .iter()
        .map(|d| {
            (
                serde_json::to_value(d)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                d.label(),
            )
        })
        .collect();
    let shown = [
        "every",
        "weekday",
        "day_by",
        "day",
        "week",
        "month",
        "month_of_quarter",
        "start",
        "duration_minutes",
        "non_working_day",
        "place",
    ];
    html! {
        form.stack.card method="post" action={ "/five-step/schedules/" (node_id) } {
            (csrf(ctx))
            input type="hidden" name="kind" value=(kind.code());
            h3 { (ctx.text(&kind.label())) }
            label { (ctx.t("重复", "Repeats")) (select(ctx, "every", &EVERY, val(f, "every"))) (errors_for(ctx, errors, "every")) }
            label { (ctx.t("月份(每年)", "Month (yearly)"))
                input type="number" name="month" min="1" max="12" value=(val(f, "month")); (errors_for(ctx, errors, "month")) }
            label { (ctx.t("季度中的第几个月(每季度)", "Month of the quarter (quarterly)"))
                input type="number" name="month_of_quarter" min="1" max="3" value=(val(f, "month_of_quarter")); (errors_for(ctx, errors, "month_of_quarter")) }
            label { (ctx.t("哪一天", "Which day")) (select(ctx, "day_by", &DAY_BY, val(f, "day_by"))) }
            label { (ctx.t("日期(1–28)", "Day (1–28)"))
                input type="number" name="day" min="1" max="28" value=(val(f, "day")); (errors_for(ctx, errors, "day")) }
            label { (ctx.t("第几个", "Which week")) (select(ctx, "week", &WEEKS, val(f, "week"))) }
            label { (ctx.t("星期几", "Weekday"))
                select name="weekday" { @for (code, label) in &weekdays {
                    option value=(code) selected[val(f, "weekday") == code.as_str()] { (ctx.text(label)) } } }
                (errors_for(ctx, errors, "weekday")) }
            label { (ctx.t("开始时间", "Start"))
                input type="text" name="start" value=(val(f, "start")) placeholder="14:00"; (errors_for(ctx, errors, "start")) }
            label { (ctx.t("时长(分钟)", "Duration (minutes)"))
                input type="number" name="duration_minutes" min="1" max="720" value=(val(f, "duration_minutes")); (errors_for(ctx, errors, "duration_minutes")) }
            label { (ctx.t("遇节假日", "On non-working days")) (select(ctx, "non_working_day", &POLICIES, val(f, "non_working_day"))) }
            label { (ctx.t("地点", "Place"))
                input type="text" name="place" value=(val(f, "place")); (errors_for(ctx, errors, "place")) }
            (other_errors(ctx, errors, &shown))
            button type="submit" { (ctx.t("保存", "Save")) }
        }
    }
}

fn default_fields(kind: MeetingKind) -> Fields {
    let mut f = Fields::new();
    let (every, extra): (&str, &[(&str, &str)]) = match kind {
        MeetingKind::WeeklyMeeting => ("weekly", &[("weekday", "monday")]),
        MeetingKind::MonthlyConsultation => (
            "monthly",
            &[
                ("day_by", "nth_weekday"),
                ("week", "second"),
                ("weekday", "tuesday"),
            ],
        ),
        MeetingKind::QuarterlyReview => (
            "quarterly",
            &[
                ("month_of_quarter", "3"),
                ("day_by", "nth_weekday"),
                ("week", "last"),
                ("weekday", "thursday"),
            ],
        ),
        MeetingKind::AnnualEvaluation => (
            "annual",
            &[("month", "12"), ("day_by", "day_of_month"), ("day", "20")],
        ),
    };
    f.insert("every".into(), every.into());
    for (k, v) in extra {
        f.insert((*k).into(), (*v).into());
    }
    f.insert("start".into(), "14:00".into());
    f.insert("duration_minutes".into(), "90".into());
    f.insert("non_working_day".into(), "next_working_day".into());
    f
}

struct Failed<'a> {
    kind: &'a str,
    fields: &'a Fields,
    errors: &'a [FieldError],
}

async fn render_schedules(
    p: &Page,
    node_id: i64,
    failed: Option<&Failed<'_>>,
    planned: Option<usize>,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let node = store::running_node(db, &p.actor, node_id).await?;
    let list = store::schedules(db, p.actor.subdistrict_id, node.id).await?;
    // Viewing the page keeps the next eight weeks materialised.
    let today = local_date(crate::clock::now_ms());
    let horizon = store::plan(
        db,
        &p.actor,
        node.id,
        today,
        today + time::Duration::weeks(8),
    )
    .await?;
    let now = crate::clock::now_ms();
    let past = store::list_meetings(
        db,
        p.actor.subdistrict_id,
        Some(&node.path),
        now - 90 * 86_400_000,
        now,
    )
    .await?;
    let cal = crate::cases::calendar_admin::calendar(db, p.actor.subdistrict_id).await?;
    let uncovered = cal.uncovered_years(today, today + time::Duration::weeks(60));
    let body = html! {
        (layout::crumbs(&[("/five-step".into(), ctx.t("五步工作法", "Five-step method").into()),
            (String::new(), node.name.clone())]))
        h1 { (node.name) " · " (ctx.t("会议日程", "Meeting schedules")) }
        @if let Some(n) = planned { p.success { (ctx.t("已制定计划,新增会议:", "Planned; new meetings: ")) (n) } }
        @if !uncovered.is_empty() { p.notice { (ctx.t("工作日历未覆盖以下年份,按周一至周五计算:", "The working-day calendar does not cover these years; Monday–Friday assumed: "))
            @for y in &uncovered { (y) " " } } }
        h2 { (ctx.t("计划中的会议", "Planned meetings")) }
        form.inline method="post" action={ "/five-step/schedules/" (node.id) "/plan" } {
            (csrf(ctx))
            select name="span" {
                option value="8w" { (ctx.t("未来 8 周", "the next 8 weeks")) }
                option value="quarter" { (ctx.t("本季度", "this quarter")) }
                option value="year" { (ctx.t("未来一年", "the next year")) }
            }
            button type="submit" { (ctx.t("制定计划", "Plan")) }
        }
        @if horizon.meetings.is_empty() { p.muted { (ctx.t("暂无。请先设定下面的日程规则。", "None. Set the rules below first.")) } }
        @else { ul.list { @for m in &horizon.meetings { (meeting_line(ctx, m)) } } }
        @if !past.is_empty() {
            h2 { (ctx.t("近 90 天的会议", "Meetings of the last 90 days")) }
            ul.list { @for m in past.iter().rev() { (meeting_line(ctx, m)) } }
        }
        h2 { (ctx.t("日程规则", "Rules")) }
        @for kind in ALL_MEETING_KINDS {
            @let stored = list.iter().find(|s| s.kind == kind.code());
            @if let Some(s) = stored { p.muted { (ctx.text(&kind.label())) ":" (ctx.text(&s.rule.describe())) } }
            @match failed.filter(|x| x.kind == kind.code()) {
                Some(x) => { (schedule_form(ctx, node.id, kind, x.fields, x.errors)) }
                None => { (schedule_form(ctx, node.id, kind, &stored.map_or_else(|| default_fields(kind), rule_fields), &[])) }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("会议日程", "Meeting schedules"),
        body,
    ))
}

#[derive(Deserialize, Default)]
struct PlannedQ {
    #[serde(default)]
    planned: Option<usize>,
}

async fn schedule_page(
    p: Page,
    Path(node): Path<i64>,
    Query(q): Query<PlannedQ>,
) -> Result<Markup> {
    render_schedules(&p, node, None, q.planned).await
}

async fn schedule_save(p: Page, Path(node): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let r = match rule_from(&f) {
        Err(errors) => Err(Error::Invalid(errors)),
        Ok(rule) => store::save_schedule(
            &p.ctx.state.db,
            &p.actor,
            node,
            NewSchedule {
                kind: val(&f, "kind").into(),
                rule,
                place: val(&f, "place").into(),
            },
        )
        .await
        .map(|_| ()),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/five-step/schedules/{node}")).into_response()),
        Err(Error::Invalid(errors)) => {
            let failed = Failed {
                kind: val(&f, "kind"),
                fields: &f,
                errors: &errors,
            };
            let page = render_schedules(&p, node, Some(&failed), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn schedule_plan(p: Page, Path(node): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let today = local_date(crate::clock::now_ms());
    let to = match val(&f, "span") {
        "quarter" => {
            let q = (u8::from(today.month()) - 1) / 3;
            let end_month = time::Month::try_from(q * 3 + 3).unwrap_or(time::Month::December);
            time::Date::from_calendar_date(today.year(), end_month, 1)
                .ok()
                .and_then(|d| {
                    let next = d.month().next();
                    let y = if next == time::Month::January {
                        d.year() + 1
                    } else {
                        d.year()
                    };
                    time::Date::from_calendar_date(y, next, 1).ok()
                })
                .and_then(|d| d.previous_day())
                .unwrap_or(today)
        }
        "year" => today + time::Duration::days(365),
        _ => today + time::Duration::weeks(8),
    };
    let planned = store::plan(&p.ctx.state.db, &p.actor, node, today, to).await?;
    Ok(Redirect::to(&format!(
        "/five-step/schedules/{node}?planned={}",
        planned.created
    ))
    .into_response())
}

// ---------------------------------------------------------------- scorecard

fn measure_cell(f: &Facts, i: usize) -> Markup {
    let m = f.measures()[i];
    let title = if m.kind.is_rate() {
        rules::percent_with_fraction(m.ratio).1
    } else {
        format!("{} ms / {}", m.ratio.numerator, m.ratio.denominator)
    };
    html! { td title=(title) { (m.value_text()) } }
}

#[derive(Deserialize, Default)]
struct YearQ {
    #[serde(default)]
    year: Option<i32>,
}

async fn scorecard_page(p: Page, Path(node): Path<i64>, Query(q): Query<YearQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let year = q
        .year
        .unwrap_or_else(|| local_date(crate::clock::now_ms()).year());
    let (node, community, grids) = store::scorecard(&ctx.state.db, &p.actor, node, year).await?;
    let head = html! { tr {
        th { (ctx.t("网格", "Grid")) } th { (ctx.t("事项数", "Cases")) }
        @for m in ALL_MEASURES { th { (ctx.text(&m.label())) } }
    } };
    let body = html! {
        (layout::crumbs(&[("/five-step".into(), ctx.t("五步工作法", "Five-step method").into()),
            (format!("/five-step/schedules/{}", node.id), node.name.clone()),
            (String::new(), ctx.t("年度考评", "Annual scorecard").into())]))
        h1 { (node.name) " · " (year) " " (ctx.t("年度考评", "annual scorecard")) }
        nav.shortcuts {
            a.button.secondary href={ "?year=" (year - 1) } { (year - 1) }
            a.button.secondary href={ "?year=" (year + 1) } { (year + 1) }
        }
        p.muted { (ctx.t("比率为精确分数,鼠标悬停可见分子/分母;平均办理时长单位为小时。",
            "Rates are exact fractions; hover to see numerator/denominator. Handling time in hours.")) }
        div.table-wrap { table.scorecard {
            thead { (head) }
            tbody {
                tr.total { th { (community.name) } td { (community.facts.reported) }
                    @for i in 0..ALL_MEASURES.len() { (measure_cell(&community.facts, i)) } }
                @for g in &grids {
                    tr { th { (g.name) } td { (g.facts.reported) }
                        @for i in 0..ALL_MEASURES.len() { (measure_cell(&g.facts, i)) } }
                }
            }
        } }
        details { summary { (ctx.t("口径", "Definitions")) }
            dl.facts { @for m in ALL_MEASURES { dt { (ctx.text(&m.label())) } dd { (ctx.text(&m.definition())) } } } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("年度考评", "Annual scorecard"),
        body,
    ))
}

// ---------------------------------------------------------------- feeds

async fn render_feed(p: &Page, token: Option<&str>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let created = feeds::token_created(db, &p.actor).await?;
    let places = store::my_places(db, &p.actor).await?;
    let body = html! {
        (layout::crumbs(&[("/five-step".into(), ctx.t("五步工作法", "Five-step method").into()),
            (String::new(), ctx.t("日历订阅", "Calendar feeds").into())]))
        h1 { (ctx.t("日历订阅", "Calendar feeds")) }
        p.muted { (ctx.t(
            "在手机或电脑日历中订阅以下地址。地址含个人密钥,请勿转发;密钥只在重置后显示一次。我的日历包含您所负责居民区、村的全部会议,以及您被列为参会人的会议。",
            "Subscribe to these addresses in a calendar app. They carry your personal key: do not share them; the key is shown once, after a reset. My calendar holds every meeting of the communities and villages you serve, and those you are listed as attending.")) }
        @if let Some(t) = token {
            div.card.success {
                p { strong { (ctx.t("我的日历", "My calendar")) } br; code { "/calendars/me.ics?token=" (t) } }
                @for n in &places { p { (n.name) br; code { "/calendars/node/" (n.id) ".ics?token=" (t) } } }
            }
        } @else if let Some(c) = created {
            p { (ctx.t("当前密钥创建于 ", "Current key made on ")) (format_local(c)) }
        } @else {
            p.notice { (ctx.t("尚未创建订阅密钥。", "No feed key yet.")) }
        }
        form.inline method="post" action="/five-step/feed" {
            (csrf(ctx))
            button type="submit" { (ctx.t("生成新地址(旧地址失效)", "Make new addresses (old ones stop working)")) }
        }
    };
    Ok(layout::page(ctx, ctx.t("日历订阅", "Calendar feeds"), body))
}

async fn feed_page(p: Page) -> Result<Markup> {
    render_feed(&p, None).await
}

async fn feed_reset(p: Page) -> Result<Response> {
    let token = feeds::reset_token(&p.ctx.state.db, &p.actor).await?;
    let page = render_feed(&p, Some(&token)).await?;
    let mut r = page.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Deserialize, Default)]
struct TokenQ {
    #[serde(default)]
    token: String,
}

fn ics_response(headers: &HeaderMap, f: feeds::Feed) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == f.etag));
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, f.body).into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&f.etag) {
        h.insert(header::ETAG, v);
    }
    if f.last_modified_ms > 0 {
        if let Ok(v) = HeaderValue::from_str(&feeds::http_date(f.last_modified_ms)) {
            h.insert(header::LAST_MODIFIED, v);
        }
    }
    r
}

async fn feed_actor(st: &AppState, token: &str) -> Result<crate::access::Actor> {
    // An unknown token says nothing about what exists.
    feeds::actor_of_token(&st.db, token)
        .await?
        .ok_or(Error::NotFound)
}

async fn me_ics(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQ>,
) -> Result<Response> {
    let actor = feed_actor(&st, &q.token).await?;
    Ok(ics_response(
        &headers,
        feeds::my_feed(&st.db, &actor).await?,
    ))
}

async fn node_ics(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<TokenQ>,
) -> Result<Response> {
    let id = file
        .strip_suffix(".ics")
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(Error::NotFound)?;
    let actor = feed_actor(&st, &q.token).await?;
    Ok(ics_response(
        &headers,
        feeds::node_feed(&st.db, &actor, id).await?,
    ))
}

// ---------------------------------------------------------------- one meeting

/// A form on the meeting page that failed, to show again.
struct MFailed<'a> {
    form: &'a str,
    fields: &'a Fields,
    errors: &'a [FieldError],
}

fn failed_for<'a>(
    failed: Option<&'a MFailed<'a>>,
    form: &str,
) -> (Option<&'a Fields>, &'a [FieldError]) {
    match failed {
        Some(x) if x.form == form => (Some(x.fields), x.errors),
        _ => (None, &[]),
    }
}

fn item_link(it: &store::AgendaRow) -> Option<String> {
    match (it.source_kind.as_str(), it.source_id) {
        ("case", Some(id)) => Some(format!("/cases/{id}")),
        ("hall_topic", Some(id)) => Some(format!("/halls/{id}")),
        _ => None,
    }
}

async fn render_meeting(
    p: &Page,
    id: i64,
    failed: Option<&MFailed<'_>>,
    saved: bool,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let (m, runs) = store::readable(db, &p.actor, id).await?;
    let agenda = store::agenda_items(db, sid, id).await?;
    let attendance = store::attendance(db, sid, id).await?;
    let decisions = store::decisions(db, sid, id).await?;
    let open = runs && m.status != "cancelled";
    let users = if open {
        crate::auth::users::list(db, sid).await?
    } else {
        Vec::new()
    };
    let units = if open {
        crate::cases::routing::store::all_units(db, sid).await?
    } else {
        Vec::new()
    };
    let empty = Fields::new();
    let kind_label = m.kind_label();
    let title = format!("{} · {}", m.node_name, ctx.text(&kind_label));
    let (uf, ue) = failed_for(failed, "update");
    let uf = uf.unwrap_or(&empty);
    let pick = |f: &Fields, k: &str, dflt: String| {
        if f.contains_key(k) {
            val(f, k).to_string()
        } else {
            dflt
        }
    };
    let body = html! {
        (layout::crumbs(&[("/five-step".into(), ctx.t("五步工作法", "Five-step method").into()),
            (format!("/five-step/schedules/{}", m.node_id), m.node_name.clone()),
            (String::new(), ctx.text(&kind_label).to_string())]))
        h1 { (title) " " (status_tag(ctx, &m.status)) }
        @if saved { p.success { (ctx.t("已保存。", "Saved.")) } }
        dl.facts {
            dt { (ctx.t("时间", "When")) } dd { (when(&m)) }
            dt { (ctx.t("地点", "Place")) } dd { (m.place) }
            @if m.status == "cancelled" { dt { (ctx.t("取消原因", "Reason")) } dd { (m.cancel_reason) } }
        }
        @if open {
            details { summary { (ctx.t("修改时间、地点", "Change time or place")) }
                form.stack.card method="post" action={ "/meetings/" (m.id) "/update" } {
                    (csrf(ctx))
                    label { (ctx.t("开始", "Start")) input type="datetime-local" name="start" value=(pick(uf, "start", local_input(m.start_ms))); (errors_for(ctx, ue, "start")) }
                    label { (ctx.t("结束", "End")) input type="datetime-local" name="end" value=(pick(uf, "end", local_input(m.end_ms))); (errors_for(ctx, ue, "end")) (errors_for(ctx, ue, "end_ms")) }
                    label { (ctx.t("地点", "Place")) input type="text" name="place" value=(pick(uf, "place", m.place.clone())); (errors_for(ctx, ue, "place")) }
                    button type="submit" { (ctx.t("保存", "Save")) }
                }
            }
        }
        @if runs {
            @let (sf, se) = failed_for(failed, "status");
            div.actions {
                @if m.status == "planned" {
                    form.inline method="post" action={ "/meetings/" (m.id) "/status" } { (csrf(ctx)) input type="hidden" name="status" value="held"; button type="submit" { (ctx.t("标记为已召开", "Mark held")) } }
                    form.inline method="post" action={ "/meetings/" (m.id) "/status" } { (csrf(ctx)) input type="hidden" name="status" value="cancelled";
                        input type="text" name="reason" placeholder=(ctx.t("取消原因", "Reason for cancelling")) value=(sf.map_or("", |f| val(f, "reason")));
                        button.secondary type="submit" { (ctx.t("取消会议", "Cancel meeting")) } (errors_for(ctx, se, "reason")) }
                } @else {
                    form.inline method="post" action={ "/meetings/" (m.id) "/status" } { (csrf(ctx)) input type="hidden" name="status" value="planned"; button.secondary type="submit" { (ctx.t("恢复为计划中", "Back to planned")) } }
                }
            }
        }

        h2 { (ctx.t("议程", "Agenda")) }
        @if let Some(at) = m.agenda_drafted_at { p.muted { (ctx.t("根据实时数据起草于 ", "Drafted from live data at ")) (format_local(at)) } }
        @if open {
            form.inline method="post" action={ "/meetings/" (m.id) "/agenda/draft" } { (csrf(ctx))
                button type="submit" { @if agenda.is_empty() { (ctx.t("起草议程", "Draft the agenda")) } @else { (ctx.t("重新起草(替换当前议程)", "Redraft (replaces this agenda)")) } } }
        }
        @if agenda.is_empty() { p.muted { (ctx.t("尚无议程。", "No agenda yet.")) } }
        @else { ol.agenda { @for (i, it) in agenda.iter().enumerate() {
            li {
                @if let Some(href) = item_link(it) { a href=(href) { (ctx.text(&it.title())) } } @else { strong { (ctx.text(&it.title())) } }
                @if !it.detail_zh.is_empty() { br; span.muted { (ctx.text(&it.detail())) } }
                @if open {
                    " "
                    @if i > 0 { form.inline method="post" action={ "/meetings/" (m.id) "/agenda/items/" (it.id) "/move" } { (csrf(ctx)) input type="hidden" name="up" value="1"; button.secondary type="submit" title=(ctx.t("上移", "Move up")) { "↑" } } }
                    @if i + 1 < agenda.len() { form.inline method="post" action={ "/meetings/" (m.id) "/agenda/items/" (it.id) "/move" } { (csrf(ctx)) button.secondary type="submit" title=(ctx.t("下移", "Move down")) { "↓" } } }
                    form.inline method="post" action={ "/meetings/" (m.id) "/agenda/items/" (it.id) "/remove" } { (csrf(ctx)) button.secondary type="submit" { (ctx.t("删除", "Remove")) } }
                }
            }
        } } }
        @if open {
            @let (af, ae) = failed_for(failed, "agenda");
            @let af = af.unwrap_or(&empty);
            form.stack.card method="post" action={ "/meetings/" (m.id) "/agenda/items" } { (csrf(ctx))
                label { (ctx.t("增加议题", "Add an item")) input type="text" name="title" value=(val(af, "title")); (errors_for(ctx, ae, "title")) }
                label { (ctx.t("说明", "Details")) textarea name="detail" rows="2" { (val(af, "detail")) } (errors_for(ctx, ae, "detail")) }
                button type="submit" { (ctx.t("增加", "Add")) }
            }
        }

        h2 { (ctx.t("参会情况", "Attendance")) }
        @if attendance.is_empty() { p.muted { (ctx.t("尚未登记。", "Nobody recorded yet.")) } }
        @else { ul.list { @for a in &attendance { li {
            span { (a.name) " " span.tag { (ctx.text(&rules::attendance_label(&a.status))) } }
            @if open { form.inline method="post" action={ "/meetings/" (m.id) "/attendance/" (a.id) "/remove" } { (csrf(ctx)) button.secondary type="submit" { (ctx.t("删除", "Remove")) } } }
        } } } }
        @if open {
            @let (tf, te) = failed_for(failed, "attendance");
            @let tf = tf.unwrap_or(&empty);
            form.stack.card method="post" action={ "/meetings/" (m.id) "/attendance" } { (csrf(ctx))
                label { (ctx.t("用户", "User")) select name="user_id" {
                    option value="" { (ctx.t("(填写姓名)", "(type a name)")) }
                    @for u in &users { option value=(u.id) selected[val(tf, "user_id") == u.id.to_string()] { (u.display_name) } } }
                    (errors_for(ctx, te, "user_id")) }
                label { (ctx.t("或姓名", "Or a name")) input type="text" name="name" value=(val(tf, "name")); (errors_for(ctx, te, "name")) }
                label { (ctx.t("情况", "Status")) select name="status" { @for s in rules::ATTENDANCE {
                    option value=(s) selected[val(tf, "status") == s] { (ctx.text(&rules::attendance_label(s))) } } }
                    (errors_for(ctx, te, "status")) }
                button type="submit" { (ctx.t("登记", "Record")) }
            }
        }

        h2 { (ctx.t("会议纪要", "Minutes")) }
        @if open {
            @let (nf, ne) = failed_for(failed, "minutes");
            form.stack.card method="post" action={ "/meetings/" (m.id) "/update" } { (csrf(ctx))
                textarea name="minutes" rows="8" { (nf.map_or(m.minutes.as_str(), |f| val(f, "minutes"))) }
                (errors_for(ctx, ne, "minutes"))
                button type="submit" { (ctx.t("保存纪要", "Save the minutes")) }
            }
        } @else if m.minutes.is_empty() { p.muted { (ctx.t("暂无纪要。", "No minutes.")) } }
        @else { div.card { @for line in m.minutes.lines() { (line) br; } } }

        h2 { (ctx.t("决议与跟进事项", "Decisions and follow-up actions")) }
        @for d in &decisions {
            div.card {
                p { strong { (d.body) } }
                @if !d.actions.is_empty() { ul.list { @for a in &d.actions { li {
                    span { (a.title) br; span.muted { (ctx.t("责任", "Owner")) ":" (a.owner_name)
                        @if let Some(due) = &a.due_on { " · " (ctx.t("期限", "due")) " " (due) } } }
                    span {
                        span.tag { (ctx.text(&rules::action_status_label(&a.status))) }
                        @if let (Some(cid), Some(num)) = (a.case_id, &a.case_number) { " " a href={ "/cases/" (cid) } { (num) } }
                        @if runs && a.status == "open" {
                            form.inline method="post" action={ "/meeting-actions/" (a.id) "/done" } { (csrf(ctx)) button type="submit" { (ctx.t("完成", "Done")) } }
                            a.button.secondary href={ "/meeting-actions/" (a.id) "/case" } { (ctx.t("转为事项", "Turn into a case")) }
                        }
                    }
                } } } }
                @if open {
                    @let form = format!("action:{}", d.id);
                    @let (xf, xe) = failed_for(failed, &form);
                    @let xf = xf.unwrap_or(&empty);
                    details open[!xe.is_empty()] { summary { (ctx.t("增加跟进事项", "Add a follow-up action")) }
                        form.stack method="post" action={ "/meetings/" (m.id) "/decisions/" (d.id) "/actions" } { (csrf(ctx))
                            label { (ctx.t("事项", "Action")) input type="text" name="title" value=(val(xf, "title")); (errors_for(ctx, xe, "title")) }
                            label { (ctx.t("责任单位", "Owning unit")) select name="owner_unit_id" {
                                option value="" { "—" }
                                @for u in &units { option value=(u.id) selected[val(xf, "owner_unit_id") == u.id.to_string()] { (u.name) " · " (ctx.text(&u.kind_label())) } } }
                                (errors_for(ctx, xe, "owner_unit_id")) }
                            label { (ctx.t("或责任人", "Or a user")) select name="owner_user_id" {
                                option value="" { "—" }
                                @for u in &users { option value=(u.id) selected[val(xf, "owner_user_id") == u.id.to_string()] { (u.display_name) } } }
                                (errors_for(ctx, xe, "owner_user_id")) }
                            label { (ctx.t("或填写名称", "Or type a name")) input type="text" name="owner_name" value=(val(xf, "owner_name")); (errors_for(ctx, xe, "owner_name")) }
                            label { (ctx.t("期限", "Due")) input type="date" name="due_on" value=(val(xf, "due_on")); (errors_for(ctx, xe, "due_on")) }
                            button type="submit" { (ctx.t("增加", "Add")) }
                        }
                    }
                }
            }
        }
        @if open {
            @let (df, de) = failed_for(failed, "decision");
            form.stack.card method="post" action={ "/meetings/" (m.id) "/decisions" } { (csrf(ctx))
                label { (ctx.t("新决议", "New decision")) textarea name="body" rows="3" { (df.map_or("", |f| val(f, "body"))) } (errors_for(ctx, de, "body")) }
                button type="submit" { (ctx.t("记录决议", "Record the decision")) }
            }
        }
        @if let Some(k) = m.kind() {
            details { summary { (ctx.t("纯文本议程", "Agenda as plain text")) }
                pre { (agenda_text(k, &m, &agenda, ctx.lang)) } }
        }
    };
    Ok(layout::page(ctx, &title, body))
}

fn agenda_text(kind: MeetingKind, m: &Meeting, agenda: &[store::AgendaRow], lang: Lang) -> String {
    let mut out = format!(
        "{} {} {}\n",
        m.node_name,
        kind.label().get(lang),
        m.occurs_on
    );
    for (i, it) in agenda.iter().enumerate() {
        out.push_str(&format!("{}. {}\n", i + 1, it.title().get(lang)));
    }
    out
}

#[derive(Deserialize, Default)]
struct SavedQ {
    #[serde(default)]
    saved: Option<String>,
}

async fn meeting_page(p: Page, Path(id): Path<i64>, Query(q): Query<SavedQ>) -> Result<Markup> {
    render_meeting(&p, id, None, q.saved.is_some()).await
}

/// After a meeting form: back to the page, or the page again with the errors (422).
async fn after(
    p: &Page,
    id: i64,
    form: &str,
    fields: &Fields,
    result: Result<()>,
) -> Result<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/meetings/{id}?saved=1")).into_response()),
        Err(Error::Invalid(errors)) => {
            let failed = MFailed {
                form,
                fields,
                errors: &errors,
            };
            let page = render_meeting(p, id, Some(&failed), false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn meeting_update(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let minutes_only = f.contains_key("minutes");
    let patch = if minutes_only {
        MeetingPatch {
            minutes: Some(val(&f, "minutes").into()),
            ..Default::default()
        }
    } else {
        MeetingPatch {
            place: Some(val(&f, "place").into()),
            start_ms: opt_time(&f, "start", &mut errors),
            end_ms: opt_time(&f, "end", &mut errors),
            minutes: None,
        }
    };
    let r = match invalid(errors) {
        Ok(()) => store::update(&p.ctx.state.db, &p.actor, id, patch)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(
        &p,
        id,
        if minutes_only { "minutes" } else { "update" },
        &f,
        r,
    )
    .await
}

async fn meeting_status(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let r = store::set_status(
        &p.ctx.state.db,
        &p.actor,
        id,
        val(&f, "status"),
        val(&f, "reason"),
    )
    .await;
    after(&p, id, "status", &f, r.map(|_| ())).await
}

async fn agenda_draft(p: Page, Path(id): Path<i64>) -> Result<Response> {
    store::draft_agenda(&p.ctx.state.db, &p.actor, id).await?;
    Ok(Redirect::to(&format!("/meetings/{id}?saved=1")).into_response())
}

async fn agenda_add(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let r = store::add_agenda_item(
        &p.ctx.state.db,
        &p.actor,
        id,
        val(&f, "title"),
        val(&f, "detail"),
    )
    .await;
    after(&p, id, "agenda", &f, r.map(|_| ())).await
}

async fn agenda_remove(p: Page, Path((id, item)): Path<(i64, i64)>) -> Result<Response> {
    store::remove_agenda_item(&p.ctx.state.db, &p.actor, id, item).await?;
    Ok(Redirect::to(&format!("/meetings/{id}?saved=1")).into_response())
}

async fn agenda_move(
    p: Page,
    Path((id, item)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    store::move_agenda_item(
        &p.ctx.state.db,
        &p.actor,
        id,
        item,
        !val(&f, "up").is_empty(),
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
}

async fn attend(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let a = NewAttendee {
        user_id: opt_id(&f, "user_id", &mut errors),
        name: val(&f, "name").into(),
        status: val(&f, "status").into(),
    };
    let r = match invalid(errors) {
        Ok(()) => store::set_attendance(&p.ctx.state.db, &p.actor, id, a)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&p, id, "attendance", &f, r).await
}

async fn unattend(p: Page, Path((id, aid)): Path<(i64, i64)>) -> Result<Response> {
    store::remove_attendee(&p.ctx.state.db, &p.actor, id, aid).await?;
    Ok(Redirect::to(&format!("/meetings/{id}?saved=1")).into_response())
}

async fn decide(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let r = store::add_decision(&p.ctx.state.db, &p.actor, id, val(&f, "body")).await;
    after(&p, id, "decision", &f, r.map(|_| ())).await
}

async fn add_action(
    p: Page,
    Path((id, did)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let mut errors = Vec::new();
    let a = NewAction {
        title: val(&f, "title").into(),
        owner_unit_id: opt_id(&f, "owner_unit_id", &mut errors),
        owner_user_id: opt_id(&f, "owner_user_id", &mut errors),
        owner_name: val(&f, "owner_name").into(),
        due_on: val(&f, "due_on").into(),
    };
    let r = match invalid(errors) {
        Ok(()) => store::add_action(&p.ctx.state.db, &p.actor, id, did, a)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&p, id, &format!("action:{did}"), &f, r).await
}

async fn action_done(p: Page, Path(id): Path<i64>) -> Result<Response> {
    let a = store::action_done(&p.ctx.state.db, &p.actor, id).await?;
    Ok(Redirect::to(&format!("/meetings/{}?saved=1", a.meeting_id)).into_response())
}

// ---------------------------------------------------------------- raising cases

fn category_select(ctx: &Ctx, tree: &CategoryTree, chosen: &str) -> Markup {
    html! {
        select name="category" required {
            option value="" { (ctx.t("请选择", "Choose")) }
            @for (_, c) in tree.depth_first() {
                @if tree.is_leaf(&c.code) {
                    option value=(c.code) selected[chosen == c.code] { (tree.path_name(&c.code, ctx.lang)) }
                }
            }
        }
    }
}

/// Places under `path` where a case may be placed (a grid or below) that the actor reaches.
async fn case_places(p: &Page, path: &str) -> Result<Vec<crate::tree::store::Node>> {
    Ok(
        crate::deliberation::halls::store::places(&p.ctx.state.db, &p.actor)
            .await?
            .into_iter()
            .filter(|n| {
                n.path.starts_with(path)
                    && !matches!(n.kind, NodeKind::Community | NodeKind::Village)
            })
            .collect(),
    )
}

#[allow(clippy::too_many_arguments)]
async fn case_form(
    p: &Page,
    action: &str,
    heading: &str,
    context: Markup,
    places: &[crate::tree::store::Node],
    f: &Fields,
    errors: &[FieldError],
) -> Result<Markup> {
    let ctx = &p.ctx;
    let tree = crate::cases::category_store::offered(&ctx.state.db, p.actor.subdistrict_id).await?;
    let shown = ["category", "node_id", "title", "description"];
    let body = html! {
        (layout::crumbs(&[("/five-step".into(), ctx.t("五步工作法", "Five-step method").into()),
            (String::new(), heading.to_string())]))
        h1 { (heading) }
        (context)
        form.stack.card method="post" action=(action) {
            (csrf(ctx))
            label { (ctx.t("类别", "Category")) (category_select(ctx, &tree, val(f, "category"))) (errors_for(ctx, errors, "category")) }
            label { (ctx.t("地点(网格或以下)", "Place (a grid or below)"))
                select name="node_id" required {
                    option value="" { (ctx.t("请选择", "Choose")) }
                    @for n in places { option value=(n.id) selected[val(f, "node_id") == n.id.to_string()] {
                        @for _ in 2..n.depth { "— " } (n.name) " · " (ctx.text(&n.kind.label())) } }
                }
                (errors_for(ctx, errors, "node_id")) }
            label { (ctx.t("标题", "Title")) input type="text" name="title" value=(val(f, "title")); (errors_for(ctx, errors, "title")) }
            label { (ctx.t("描述", "Description")) textarea name="description" rows="4" { (val(f, "description")) } (errors_for(ctx, errors, "description")) }
            (other_errors(ctx, errors, &shown))
            button type="submit" { (ctx.t("提交事项", "File the case")) }
        }
    };
    Ok(layout::page(ctx, heading, body))
}

fn to_case(f: &Fields, errors: &mut Vec<FieldError>) -> ToCase {
    ToCase {
        category: val(f, "category").into(),
        node_id: opt_id(f, "node_id", errors),
        title: val(f, "title").into(),
        description: val(f, "description").into(),
    }
}

async fn render_action_case(
    p: &Page,
    id: i64,
    f: Option<&Fields>,
    errors: &[FieldError],
) -> Result<Markup> {
    let db = &p.ctx.state.db;
    let a = store::action(db, p.actor.subdistrict_id, id).await?;
    let m = store::runnable(db, &p.actor, a.meeting_id).await?;
    let places = case_places(p, &m.node_path).await?;
    let mut dflt = Fields::new();
    dflt.insert("title".into(), a.title.clone());
    let ctx = &p.ctx;
    let context = html! { p.muted { a href={ "/meetings/" (m.id) } { (m.node_name) " " (ctx.text(&m.kind_label())) " " (m.occurs_on) } " · " (a.title) } };
    case_form(
        p,
        &format!("/meeting-actions/{id}/case"),
        ctx.t("跟进事项转为事项", "Turn an action into a case"),
        context,
        &places,
        f.unwrap_or(&dflt),
        errors,
    )
    .await
}

async fn action_case_page(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_action_case(&p, id, None, &[]).await
}

async fn action_case(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let t = to_case(&f, &mut errors);
    let r = match invalid(errors) {
        Ok(()) => store::action_to_case(&p.ctx.state.db, &p.actor, id, t).await,
        Err(e) => Err(e),
    };
    match r {
        Ok((_, c)) => Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_action_case(&p, id, Some(&f), &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- contacts

fn contact_line(ctx: &Ctx, c: &contacts::Contact) -> Markup {
    html! {
        li {
            span {
                strong { (crate::pii::mask::name(&c.whom)) } " · " span.muted { (c.node_name) " · " (format_local(c.occurred_at)) }
                br; (c.heard.chars().take(80).collect::<String>())
                @for t in &c.tags { " " span.tag { (t) } }
                br; span.muted { (ctx.t("记录人", "By")) " " (c.recorder_name) }
            }
            span {
                @if let (Some(id), Some(num)) = (c.case_id, &c.case_number) { a href={ "/cases/" (id) } { (num) } }
                @else { a.button.secondary href={ "/contacts/" (c.id) "/case" } { (ctx.t("提出事项", "Raise a case")) } }
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct ContactsQ {
    #[serde(default)]
    node_id: Option<String>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

async fn contacts_page(p: Page, Query(q): Query<ContactsQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let node_id = q
        .node_id
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let day = |s: &Option<String>| s.as_deref().and_then(crate::clock::parse_local_date);
    let f = ContactFilter {
        node_id,
        user_id: q.mine.as_ref().map(|_| p.actor.user_id),
        from: day(&q.from),
        to: day(&q.to).map(|d| d + 86_400_000),
    };
    let list = contacts::list(db, &p.actor, &f).await?;
    let places = crate::deliberation::halls::store::places(db, &p.actor).await?;
    let body = html! {
        (layout::crumbs(&[("/five-step".into(), ctx.t("五步工作法", "Five-step method").into()),
            (String::new(), ctx.t("日常联系", "Daily contact log").into())]))
        h1 { (ctx.t("日常联系记录", "Daily contact log")) }
        @if q.saved.is_some() { p.success { (ctx.t("已记录。", "Recorded.")) } }
        nav.shortcuts { a.button href="/contacts/new" { (ctx.t("记录日常联系", "Record a contact")) } }
        form.stack.card method="get" action="/contacts" {
            label { (ctx.t("地点", "Place")) select name="node_id" {
                option value="" { (ctx.t("全部", "All")) }
                @for n in &places { option value=(n.id) selected[node_id == Some(n.id)] { @for _ in 1..n.depth { "— " } (n.name) } } } }
            label { (ctx.t("自", "From")) input type="date" name="from" value=(q.from.clone().unwrap_or_default()); }
            label { (ctx.t("至", "To")) input type="date" name="to" value=(q.to.clone().unwrap_or_default()); }
            label { input type="checkbox" name="mine" value="1" checked[q.mine.is_some()]; " " (ctx.t("只看我记录的", "Only mine")) }
            button type="submit" { (ctx.t("筛选", "Filter")) }
        }
        @if list.is_empty() { p.muted { (ctx.t("没有记录。", "No contacts.")) } }
        @else { ul.list { @for c in &list { (contact_line(ctx, c)) } } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("日常联系", "Daily contact log"),
        body,
    ))
}

async fn render_contact_new(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let places = crate::deliberation::halls::store::places(&ctx.state.db, &p.actor).await?;
    if places.is_empty() {
        return Err(Error::Forbidden);
    }
    let shown = [
        "node_id",
        "occurred_at",
        "whom",
        "place",
        "heard",
        "tags",
        "household_id",
        "person_id",
    ];
    let body = html! {
        (layout::crumbs(&[("/contacts".into(), ctx.t("日常联系", "Daily contact log").into()),
            (String::new(), ctx.t("记录", "Record").into())]))
        h1 { (ctx.t("记录日常联系", "Record a contact")) }
        form.stack.card method="post" action="/contacts" {
            (csrf(ctx))
            label { (ctx.t("联系了谁", "Whom you met"))
                input type="text" name="whom" value=(val(f, "whom")) required; (errors_for(ctx, errors, "whom")) }
            label { (ctx.t("在哪里(网格、楼栋等)", "Where (grid, building, …)"))
                select name="node_id" required {
                    option value="" { (ctx.t("请选择", "Choose")) }
                    @for n in &places { option value=(n.id) selected[val(f, "node_id") == n.id.to_string()] {
                        @for _ in 1..n.depth { "— " } (n.name) " · " (ctx.text(&n.kind.label())) } }
                }
                (errors_for(ctx, errors, "node_id")) }
            label { (ctx.t("具体位置(可选)", "Spot (optional)"))
                input type="text" name="place" value=(val(f, "place")); (errors_for(ctx, errors, "place")) }
            label { (ctx.t("什么时候", "When"))
                input type="datetime-local" name="occurred_at" value=(val(f, "occurred_at")); (errors_for(ctx, errors, "occurred_at")) }
            label { (ctx.t("听到了什么", "What you heard"))
                textarea name="heard" rows="4" required { (val(f, "heard")) } (errors_for(ctx, errors, "heard")) }
            label { (ctx.t("标签(逗号分隔)", "Tags (comma-separated)"))
                input type="text" name="tags" value=(val(f, "tags")); (errors_for(ctx, errors, "tags")) }
            (other_errors(ctx, errors, &shown))
            button type="submit" { (ctx.t("保存", "Save")) }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("记录日常联系", "Record a contact"),
        body,
    ))
}

async fn contact_new(p: Page) -> Result<Markup> {
    render_contact_new(&p, &Fields::new(), &[]).await
}

async fn contact_create(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let c = NewContact {
        node_id: opt_id(&f, "node_id", &mut errors),
        occurred_at: opt_time(&f, "occurred_at", &mut errors),
        whom: val(&f, "whom").into(),
        household_id: opt_id(&f, "household_id", &mut errors),
        person_id: opt_id(&f, "person_id", &mut errors),
        place: val(&f, "place").into(),
        heard: val(&f, "heard").into(),
        tags: vec![val(&f, "tags").to_string()],
    };
    let r = match invalid(errors) {
        Ok(()) => contacts::create(&p.ctx.state.db, &p.actor, c)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(Redirect::to("/contacts?saved=1").into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_contact_new(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn render_contact_case(
    p: &Page,
    id: i64,
    f: Option<&Fields>,
    errors: &[FieldError],
) -> Result<Markup> {
    let c = contacts::readable(&p.ctx.state.db, &p.actor, id).await?;
    // The case goes at the contact's place or below it, else anywhere under its community.
    let community = crate::tree::model::path_ids(&c.node_path)
        .get(1)
        .map(|cid| format!("/{}/{cid}/", p.actor.subdistrict_id))
        .unwrap_or_else(|| c.node_path.clone());
    let places = case_places(p, &community).await?;
    let mut dflt = Fields::new();
    dflt.insert("title".into(), c.heard.chars().take(30).collect());
    dflt.insert("description".into(), c.heard.clone());
    dflt.insert("node_id".into(), c.node_id.to_string());
    let ctx = &p.ctx;
    let context = html! { p.muted { (crate::pii::mask::name(&c.whom)) " · " (c.node_name) " · " (format_local(c.occurred_at)) } };
    case_form(
        p,
        &format!("/contacts/{id}/case"),
        ctx.t("由联系记录提出事项", "Raise a case from a contact"),
        context,
        &places,
        f.unwrap_or(&dflt),
        errors,
    )
    .await
}

async fn contact_case_page(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_contact_case(&p, id, None, &[]).await
}

async fn contact_case(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let t = to_case(&f, &mut errors);
    let r = match invalid(errors) {
        Ok(()) => contacts::raise_case(&p.ctx.state.db, &p.actor, id, t).await,
        Err(e) => Err(e),
    };
    match r {
        Ok((_, c)) => Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_contact_case(&p, id, Some(&f), &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
