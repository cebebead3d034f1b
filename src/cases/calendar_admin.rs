//! The working-day calendar as administrators keep it: each year's text stored per
//! subdistrict (a stored year replaces the shipped one), the admin page to enter next
//! year's holidays when the State Council announces them, and the API. The rules are in
//! `cases::calendar`; this is the storage and HTTP around them.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;

use super::calendar::{self, Calendar, DayKind, YearText, SHIPPED};
use crate::access::{allows, Action, Actor, Target};
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{opt_i64, Db};
use crate::web::errors::{Form, Json as Body};
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

/// Where a year's text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Shipped,
    Entered,
}

/// One year of the effective calendar.
#[derive(Debug, Clone, Serialize)]
pub struct YearInfo {
    pub year: i32,
    pub source: Source,
    pub text: String,
    pub holidays: usize,
    pub workdays: usize,
    pub updated_at: Option<i64>,
    pub updated_by: Option<i64>,
}

/// The effective year texts: the shipped ones, replaced by those entered here.
pub async fn years(db: &Db, sid: i64) -> Result<Vec<YearInfo>> {
    let rows = sqlx::query("SELECT year, text, updated_at, updated_by FROM calendar_years WHERE subdistrict_id = $1 ORDER BY year")
        .bind(sid)
        .fetch_all(db.read())
        .await?;
    let mut out: Vec<YearInfo> = Vec::new();
    for r in &rows {
        out.push(info(
            r.get::<i64, _>(0) as i32,
            Source::Entered,
            r.get(1),
            Some(r.get(2)),
            opt_i64(r, "updated_by"),
        ));
    }
    for (year, text) in SHIPPED {
        if !out.iter().any(|y| y.year == *year) {
            out.push(info(*year, Source::Shipped, text.to_string(), None, None));
        }
    }
    out.sort_by_key(|y| y.year);
    Ok(out)
}

fn info(
    year: i32,
    source: Source,
    text: String,
    updated_at: Option<i64>,
    updated_by: Option<i64>,
) -> YearInfo {
    let (holidays, workdays) = YearText::parse(&text)
        .map(|t| {
            let h = t
                .entries
                .iter()
                .filter(|e| e.kind == DayKind::Holiday)
                .count();
            (h, t.entries.len() - h)
        })
        .unwrap_or((0, 0));
    YearInfo {
        year,
        source,
        text,
        holidays,
        workdays,
        updated_at,
        updated_by,
    }
}

/// The subdistrict's working-day calendar (what deadlines are computed with).
pub async fn calendar(db: &Db, sid: i64) -> Result<Calendar> {
    let texts: Vec<String> = years(db, sid).await?.into_iter().map(|y| y.text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    Calendar::from_texts(&refs).map_err(|e| {
        Error::Internal(anyhow::anyhow!(
            "stored calendar does not join: {:?}",
            e.first()
        ))
    })
}

/// Checks a year text for `year`: it parses, names that year, and joins the other years.
pub async fn check(db: &Db, sid: i64, year: i32, text: &str) -> Result<YearText> {
    let parsed = YearText::parse(text).map_err(|e| calendar::invalid("text", &e))?;
    if parsed.year != year {
        return Err(Error::field(
            "text",
            Text::owned(
                format!("文本写的是 {} 年,不是 {year} 年", parsed.year),
                format!("the text is for {}, not {year}", parsed.year),
            ),
        ));
    }
    let mut all: Vec<YearText> = Vec::new();
    for y in years(db, sid).await? {
        if y.year != year {
            if let Ok(t) = YearText::parse(&y.text) {
                all.push(t);
            }
        }
    }
    all.push(parsed.clone());
    Calendar::from_years(all).map_err(|e| calendar::invalid("text", &e))?;
    Ok(parsed)
}

/// Stores a year's text (after [`check`]) with its audit entry, in one transaction.
pub async fn save(db: &Db, actor: &Actor, year: i32, text: &str) -> Result<YearText> {
    if !allows(actor, Action::Configure, Target::Subdistrict) {
        return Err(Error::Forbidden);
    }
    let sid = actor.subdistrict_id;
    let parsed = check(db, sid, year, text).await?;
    let before = years(db, sid)
        .await?
        .into_iter()
        .find(|y| y.year == year)
        .map(|y| y.text);
    let tidy = parsed.render();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM calendar_years WHERE subdistrict_id = $1 AND year = $2")
        .bind(sid)
        .bind(i64::from(year))
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO calendar_years (subdistrict_id, year, text, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(sid)
        .bind(i64::from(year))
        .bind(&tidy)
        .bind((actor.user_id != 0).then_some(actor.user_id))
        .bind(crate::clock::now_ms())
        .execute(&mut *tx)
        .await?;
    let mut change = Change::new("calendar.save", "calendar_year", Some(i64::from(year)))
        .label("")
        .after(json!({ "text": tidy }));
    if let Some(b) = before {
        change = change.before(json!({ "text": b }));
    }
    let label = year.to_string();
    change.subject_label = &label;
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(parsed)
}

/// The admin page.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/calendar", get(page).post(submit))
}

/// The API, nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(api_list))
        .route("/calendar/{year}", get(api_get).put(api_put))
}

fn entries_json(t: &YearText) -> Value {
    json!(t
        .entries
        .iter()
        .map(|e| json!({ "date": calendar::format_date(e.date), "kind": e.kind, "name": e.name }))
        .collect::<Vec<_>>())
}

fn require_admin(actor: &Actor) -> Result<()> {
    if allows(actor, Action::Configure, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

async fn api_list(State(st): State<AppState>, actor: Actor) -> Result<Json<Value>> {
    require_admin(&actor)?;
    let list: Vec<Value> = years(&st.db, actor.subdistrict_id)
        .await?
        .into_iter()
        .map(|y| json!({ "year": y.year, "source": y.source, "holidays": y.holidays, "workdays": y.workdays, "updated_at": y.updated_at }))
        .collect();
    Ok(Json(json!({ "years": list })))
}

async fn api_get(
    State(st): State<AppState>,
    actor: Actor,
    Path(year): Path<i32>,
) -> Result<Json<Value>> {
    require_admin(&actor)?;
    let y = years(&st.db, actor.subdistrict_id)
        .await?
        .into_iter()
        .find(|y| y.year == year)
        .ok_or(Error::NotFound)?;
    let entries = YearText::parse(&y.text)
        .map(|t| entries_json(&t))
        .unwrap_or(Value::Null);
    Ok(Json(
        json!({ "year": y.year, "source": y.source, "text": y.text, "entries": entries }),
    ))
}

#[derive(Deserialize)]
struct PutBody {
    text: String,
}

#[derive(Deserialize, Default)]
struct DryRun {
    #[serde(default)]
    dry_run: bool,
}

async fn api_put(
    State(st): State<AppState>,
    actor: Actor,
    Path(year): Path<i32>,
    Query(q): Query<DryRun>,
    Body(b): Body<PutBody>,
) -> Result<Json<Value>> {
    require_admin(&actor)?;
    let parsed = if q.dry_run {
        check(&st.db, actor.subdistrict_id, year, &b.text).await?
    } else {
        save(&st.db, &actor, year, &b.text).await?
    };
    Ok(Json(
        json!({ "year": year, "dry_run": q.dry_run, "entries": entries_json(&parsed) }),
    ))
}

#[derive(Deserialize, Default)]
struct PageQ {
    year: Option<i32>,
    saved: Option<i32>,
}

fn template(year: i32) -> String {
    format!(
        "year {year}\n# 每行一个日期或日期范围:holiday 为放假,workday 为周末调休上班。\n# One date or range a line: holiday = day off, workday = a weekend day that is worked.\n# {year}-01-01 holiday 元旦\n"
    )
}

struct Shown<'a> {
    year: i32,
    text: &'a str,
    errors: &'a [FieldError],
    preview: Option<&'a YearText>,
    saved: Option<i32>,
}

async fn render(ctx: &Ctx, actor: &Actor, shown: Shown<'_>) -> Result<Markup> {
    let list = years(&ctx.state.db, actor.subdistrict_id).await?;
    let this_year = crate::clock::to_local(crate::clock::now_ms()).year();
    let missing: Vec<i32> = (this_year..=this_year + 1)
        .filter(|y| !list.iter().any(|l| l.year == *y))
        .collect();
    let body = html! {
        h1 { (ctx.t("工作日历", "Working-day calendar")) }
        p.muted { (ctx.t("办理时限按工作日计算。国务院公布次年放假安排后,请在此录入当年的放假日和调休上班日。", "Case deadlines count working days. When the State Council announces a year's holidays, enter its days off and make-up working days here.")) }
        @if let Some(y) = shown.saved { p.success role="status" { (y) " " (ctx.t("年的日历已保存。", "calendar saved.")) } }
        @for y in &missing { p.notice { (y) " " (ctx.t("年的日历尚未录入:该年的时限暂按周一至周五计算。", "has no calendar yet: its deadlines count Monday to Friday only.")) } }
        div.table-wrap { table {
            tr { th { (ctx.t("年份", "Year")) } th { (ctx.t("来源", "Source")) } th { (ctx.t("放假日", "Days off")) } th { (ctx.t("调休上班", "Make-up days")) } th {} }
            @for y in &list {
                tr {
                    td { (y.year) }
                    td { @match y.source { Source::Shipped => (ctx.t("系统内置", "shipped")), Source::Entered => (ctx.t("管理员录入", "entered")) } }
                    td { (y.holidays) } td { (y.workdays) }
                    td { a href={ "/admin/calendar?year=" (y.year) } { (ctx.t("查看/修改", "View / edit")) } }
                }
            }
        } }
        h2 { (shown.year) " " (ctx.t("年", "")) }
        form.stack.card method="post" action="/admin/calendar" {
            (csrf(ctx))
            input type="hidden" name="year" value=(shown.year);
            label { (ctx.t("日历文本", "Calendar text"))
                textarea name="text" rows="14" spellcheck="false" { (shown.text) }
            }
            @if !shown.errors.is_empty() {
                ul.field-errors role="alert" { @for e in shown.errors { li { (ctx.text(&e.message)) } } }
            }
            div { button.secondary type="submit" name="op" value="preview" { (ctx.t("预览", "Preview")) } " " button type="submit" name="op" value="save" { (ctx.t("保存", "Save")) } }
        }
        @if let Some(p) = shown.preview {
            h2 { (ctx.t("预览", "Preview")) }
            ul.list { @for e in &p.entries { li { span { (calendar::format_date(e.date)) " " (e.name) } span.tag { (ctx.text(&e.kind.label())) } } } }
        }
        form.inline-form method="get" action="/admin/calendar" {
            label { (ctx.t("录入其他年份", "Another year")) input type="number" name="year" min="2000" max="2100" value=(this_year + 1); }
            button.secondary type="submit" { (ctx.t("打开", "Open")) }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("工作日历", "Working-day calendar"),
        body,
    ))
}

async fn page(p: Page, Query(q): Query<PageQ>) -> Result<Markup> {
    require_admin(&p.actor)?;
    let list = years(&p.ctx.state.db, p.actor.subdistrict_id).await?;
    let this_year = crate::clock::to_local(crate::clock::now_ms()).year();
    let year = q
        .year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or(this_year + 1);
    let text = list
        .iter()
        .find(|y| y.year == year)
        .map(|y| y.text.clone())
        .unwrap_or_else(|| template(year));
    render(
        &p.ctx,
        &p.actor,
        Shown {
            year,
            text: &text,
            errors: &[],
            preview: None,
            saved: q.saved,
        },
    )
    .await
}

#[derive(Deserialize)]
struct SubmitForm {
    year: i32,
    #[serde(default)]
    text: String,
    #[serde(default)]
    op: String,
}

async fn submit(p: Page, Form(f): Form<SubmitForm>) -> Result<Response> {
    require_admin(&p.actor)?;
    let db = &p.ctx.state.db;
    let result = if f.op == "save" {
        save(db, &p.actor, f.year, &f.text).await
    } else {
        check(db, p.actor.subdistrict_id, f.year, &f.text).await
    };
    match result {
        Ok(_) if f.op == "save" => Ok(Redirect::to(&format!(
            "/admin/calendar?year={}&saved={}",
            f.year, f.year
        ))
        .into_response()),
        Ok(parsed) => Ok(render(
            &p.ctx,
            &p.actor,
            Shown {
                year: f.year,
                text: &f.text,
                errors: &[],
                preview: Some(&parsed),
                saved: None,
            },
        )
        .await?
        .into_response()),
        Err(Error::Invalid(errors)) => {
            let page = render(
                &p.ctx,
                &p.actor,
                Shown {
                    year: f.year,
                    text: &f.text,
                    errors: &errors,
                    preview: None,
                    saved: None,
                },
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
