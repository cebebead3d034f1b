//! The measures dashboard and its export.
//!
//! - `GET /measures?node_id=&category=&owner_unit=&period=&from=&to=&measure=`: the filters
//!   (scope, category, owning unit, period preset or custom days), the seven measures as big
//!   numbers with their fractions, the trend of the twelve months up to the period's end as
//!   inline SVG (with the same figures as a table), and the grids of the scope as tiles per
//!   community, coloured by the chosen measure, each with its value in text.
//! - `GET /measures.xlsx?…`: the same filters as a workbook (totals, grids, months).

use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use sqlx::Row;

use super::chart::{self, Line};
use super::facts::{Facts, Measure, MeasureKind, ALL_MEASURES};
use super::period::{self, day_text, ALL_PRESETS};
use super::store::{self, Bucket, Filter, GridInfo};
use super::xlsx;
use super::{reach_paths, resolve, today, Params, Resolved};
use crate::access::Actor;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Lang;
use crate::web::layout;
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/measures", get(dashboard))
        .route("/measures.xlsx", get(export))
}

/// The nodes one may pick as a scope: the subdistrict, communities, villages and grids
/// within the actor's reach, in tree order.
async fn scope_options(st: &AppState, actor: &Actor) -> Result<Vec<(i64, String, i64)>> {
    let paths = reach_paths(actor);
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut reach = Vec::new();
    for i in 0..paths.len() {
        reach.push(format!("path LIKE ${}", i + 2));
    }
    let sql = format!(
        "SELECT id, name, depth, path FROM nodes WHERE subdistrict_id = $1 \
         AND kind IN ('subdistrict', 'community', 'village', 'grid') AND ({}) ORDER BY path",
        reach.join(" OR ")
    );
    let mut q = sqlx::query(&sql).bind(actor.subdistrict_id);
    for p in &paths {
        q = q.bind(format!("{p}%"));
    }
    Ok(q.fetch_all(st.db.read())
        .await?
        .iter()
        .map(|r| (r.get("id"), r.get("name"), r.get("depth")))
        .collect())
}

/// The query string of the current filters with some values replaced.
fn link(base: &str, p: &Params, replace: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    let pairs = [
        ("node_id", &p.node_id),
        ("category", &p.category),
        ("owner_unit", &p.owner_unit),
        ("period", &p.period),
        ("from", &p.from),
        ("to", &p.to),
        ("measure", &p.measure),
    ];
    for (k, v) in pairs {
        let v = replace
            .iter()
            .find(|(rk, _)| *rk == k)
            .map(|(_, rv)| rv.clone())
            .unwrap_or_else(|| v.clone());
        if !v.trim().is_empty() {
            s.append_pair(k, &v);
        }
    }
    let q = s.finish();
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{q}")
    }
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

async fn filters(
    p: &Page,
    q: &Params,
    r: Option<&Resolved>,
    errors: &[FieldError],
) -> Result<Markup> {
    let ctx = &p.ctx;
    let scopes = scope_options(&ctx.state, &p.actor).await?;
    let selected_node = r.map(|r| r.node.id);
    let preset = r.map(|r| r.preset.code()).unwrap_or(q.period.as_str());
    let measure = r.map(|r| r.measure).unwrap_or(MeasureKind::Response);
    let tree = crate::cases::category_store::tree(&ctx.state.db, p.actor.subdistrict_id).await?;
    let (from, to) = match r {
        Some(r) => (day_text(r.filter.from), day_text(r.filter.to)),
        None => (q.from.clone(), q.to.clone()),
    };
    Ok(html! {
        form.stack.card method="get" action="/measures" {
            label { (ctx.t("范围", "Scope"))
                select name="node_id" {
                    @if let Some(r) = r {
                        @if !scopes.iter().any(|(id, _, _)| *id == r.node.id) {
                            option value=(r.node.id) selected { (r.node.name) }
                        }
                    }
                    @for (id, name, depth) in &scopes {
                        option value=(id) selected[selected_node == Some(*id)] {
                            @for _ in 0..*depth { "\u{a0}\u{a0}" } (name)
                        }
                    }
                }
                (errors_for(ctx, errors, "node_id"))
            }
            label { (ctx.t("类别", "Category"))
                select name="category" {
                    option value="" { (ctx.t("全部类别", "All categories")) }
                    @for (depth, c) in tree.depth_first() {
                        option value=(c.code) selected[r.and_then(|r| r.filter.category.as_deref()) == Some(c.code.as_str())] {
                            @for _ in 0..depth { "\u{a0}\u{a0}" } (ctx.text(&c.name()))
                        }
                    }
                }
                (errors_for(ctx, errors, "category"))
            }
            label { (ctx.t("承办单位编号(可不填)", "Owning unit id (optional)"))
                input type="number" name="owner_unit" min="0" value=(q.owner_unit);
                (errors_for(ctx, errors, "owner_unit"))
            }
            label { (ctx.t("时间段(按反映日期)", "Period (by report day)"))
                select name="period" {
                    @for pr in ALL_PRESETS {
                        option value=(pr.code()) selected[preset == pr.code()] { (ctx.text(&pr.label())) }
                    }
                }
                (errors_for(ctx, errors, "period"))
            }
            label { (ctx.t("自定义开始", "Custom from"))
                input type="date" name="from" value=(from);
                (errors_for(ctx, errors, "from"))
            }
            label { (ctx.t("自定义结束", "Custom to"))
                input type="date" name="to" value=(to);
                (errors_for(ctx, errors, "to"))
            }
            label { (ctx.t("网格图按指标着色", "Colour the grids by"))
                select name="measure" {
                    @for m in ALL_MEASURES {
                        option value=(m.code()) selected[m == measure] { (ctx.text(&m.label())) }
                    }
                }
                (errors_for(ctx, errors, "measure"))
            }
            button type="submit" { (ctx.t("查看", "Show")) }
        }
    })
}

fn value_with_unit(ctx: &Ctx, m: &Measure) -> String {
    let v = m.value_text();
    if m.kind.is_rate() || m.ratio.denominator == 0 {
        v
    } else {
        format!("{v} {}", ctx.t("小时", "h"))
    }
}

fn fraction(ctx: &Ctx, m: &Measure) -> String {
    if m.kind.is_rate() {
        format!("{} / {}", m.ratio.numerator, m.ratio.denominator)
    } else {
        format!("{} {}", m.ratio.denominator, ctx.t("件计时", "cases timed"))
    }
}

fn month_label(lang: Lang, month: i64) -> String {
    match lang {
        Lang::Zh => format!("{}年{}月", month / 100 % 100, month % 100),
        _ => format!("{:04}-{:02}", month / 100, month % 100),
    }
}

fn trend(ctx: &Ctx, months: &[(i64, Facts)]) -> Markup {
    let labels: Vec<String> = months
        .iter()
        .map(|(m, _)| month_label(ctx.lang, *m))
        .collect();
    let rates: Vec<Line> = ALL_MEASURES
        .iter()
        .filter(|k| k.is_rate())
        .enumerate()
        .map(|(i, k)| Line {
            name: ctx.text(&k.label()).to_string(),
            colour: chart::PALETTE[i],
            values: months
                .iter()
                .map(|(_, f)| {
                    Measure {
                        kind: *k,
                        ratio: k.ratio(f),
                    }
                    .tenths()
                })
                .collect(),
        })
        .collect();
    let hours: Vec<Option<i64>> = months
        .iter()
        .map(|(_, f)| {
            let k = MeasureKind::HandlingTime;
            Measure {
                kind: k,
                ratio: k.ratio(f),
            }
            .tenths()
        })
        .collect();
    let max_hours = hours.iter().flatten().copied().max().unwrap_or(0);
    // Round the axis up to a multiple of 24 hours.
    let max_hours = ((max_hours + 239) / 240).max(1) * 240;
    let time_line = [Line {
        name: ctx.text(&MeasureKind::HandlingTime.label()).to_string(),
        colour: chart::PALETTE[6],
        values: hours,
    }];
    html! {
        (chart::line_chart(ctx.t("各项比率按月趋势", "Rates by month"), &labels, &rates, 1000, "%"))
        (chart::line_chart(ctx.t("平均办理时长按月趋势(小时)", "Average handling time by month (hours)"), &labels, &time_line, max_hours, ""))
        details {
            summary { (ctx.t("以表格查看", "Show as a table")) }
            div.table-wrap {
                table {
                    thead { tr {
                        th { (ctx.t("月份", "Month")) }
                        th { (ctx.t("反映", "Reported")) }
                        @for k in ALL_MEASURES { th { (ctx.text(&k.label())) } }
                    } }
                    tbody {
                        @for (i, (_, f)) in months.iter().enumerate() {
                            tr {
                                td { (labels[i]) }
                                td { (f.reported) }
                                @for m in f.measures() { td { (value_with_unit(ctx, &m)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn tiles(ctx: &Ctx, q: &Params, kind: MeasureKind, grids: &[(GridInfo, Facts)]) -> Markup {
    let mut groups: Vec<(&str, Vec<&(GridInfo, Facts)>)> = Vec::new();
    for g in grids {
        match groups.last_mut() {
            Some((name, list)) if *name == g.0.parent_name.as_str() => list.push(g),
            _ => groups.push((g.0.parent_name.as_str(), vec![g])),
        }
    }
    let bands = [
        ctx.t("好", "good"),
        ctx.t("较好", "fair"),
        ctx.t("一般", "poor"),
        ctx.t("差", "bad"),
    ];
    let limits = chart::band_limits(kind);
    html! {
        p.muted { (ctx.t("按指标着色:", "Coloured by: ")) (ctx.text(&kind.label())) }
        ul.legend {
            @for i in 0..4 {
                li { (chart::swatch(chart::BAND_COLOURS[i])) " " (bands[i]) " " (limits[i]) }
            }
            li { (chart::swatch(chart::NO_DATA_COLOUR)) " " (ctx.t("无数据", "no data")) }
        }
        @if grids.is_empty() {
            p.notice { (ctx.t("该范围内没有网格。", "No grids in this scope.")) }
        }
        @for (name, list) in &groups {
            h3 { (name) }
            div.grid.tiles {
                @for (g, f) in list {
                    @let m = Measure { kind, ratio: kind.ratio(f) };
                    @let band = m.tenths().map(|t| chart::band(kind, t));
                    a.stat.tile href=(link("/measures", q, &[("node_id", g.id.to_string())])) {
                        (chart::bar(band.map_or(chart::NO_DATA_COLOUR, |b| chart::BAND_COLOURS[b])))
                        b { (value_with_unit(ctx, &m)) }
                        span { (g.name) }
                        br;
                        span.muted {
                            (fraction(ctx, &m))
                            @if let Some(b) = band { " · " (bands[b]) }
                        }
                    }
                }
            }
        }
    }
}

async fn dashboard(p: Page, Query(q): Query<Params>) -> Result<Response> {
    let ctx = &p.ctx;
    let title = ctx.t("办事指标", "Case measures");
    let r = match resolve(&ctx.state.db, &p.actor, &q, today()).await {
        Ok(r) => r,
        Err(Error::Invalid(errors)) => {
            let body = html! {
                h1 { (title) }
                p.error { (ctx.t("筛选条件有误,请修改。", "Some filters are wrong; please correct them.")) }
                (filters(&p, &q, None, &errors).await?)
            };
            let mut resp = layout::page(ctx, title, body).into_response();
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(resp);
        }
        Err(e) => return Err(e),
    };
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let totals = store::totals(db, sid, &r.filter).await?;
    // The trend: the twelve months up to the period's end.
    let last_month = r.filter.to / 100;
    let trend_filter = Filter {
        from: period::month_minus(last_month, 11) * 100 + 1,
        ..r.filter.clone()
    };
    let months = store::series(db, sid, &trend_filter, Bucket::Month).await?;
    let grid_list = store::grids_under(db, sid, &r.node.path, r.filter.below_grid).await?;
    let by = store::by_grid(db, sid, &r.filter).await?;
    let grids: Vec<(GridInfo, Facts)> = grid_list
        .into_iter()
        .map(|g| {
            let f = by.get(&g.id).copied().unwrap_or_default();
            (g, f)
        })
        .collect();
    let body = html! {
        h1 { (title) }
        p.muted {
            (r.node.name) " · " (day_text(r.filter.from)) " – " (day_text(r.filter.to))
            " · " (ctx.t("按反映日期统计", "cases counted by the day they were reported"))
            " · " (ctx.t("反映", "reported")) " " (totals.reported)
        }
        p.actions { a.button href=(link("/measures.xlsx", &q, &[])) { (ctx.t("导出 XLSX", "Export XLSX")) } }
        (filters(&p, &q, Some(&r), &[]).await?)
        h2 { (ctx.t("指标", "Measures")) }
        div.grid.measures {
            @for m in totals.measures() {
                div.stat {
                    span { (ctx.text(&m.kind.label())) }
                    b { (value_with_unit(ctx, &m)) }
                    span { (fraction(ctx, &m)) }
                    br;
                    span.muted { (ctx.text(&m.kind.definition())) }
                }
            }
        }
        h2 { (ctx.t("趋势", "Trend")) }
        (trend(ctx, &months))
        h2 { (ctx.t("网格", "Grids")) }
        (tiles(ctx, &q, r.measure, &grids))
    };
    Ok(layout::page(ctx, title, body).into_response())
}

async fn export(p: Page, Query(q): Query<Params>) -> Result<Response> {
    let ctx = &p.ctx;
    let r = resolve(&ctx.state.db, &p.actor, &q, today()).await?;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let totals = store::totals(db, sid, &r.filter).await?;
    let months = store::series(db, sid, &r.filter, Bucket::Month).await?;
    let grid_list = store::grids_under(db, sid, &r.node.path, r.filter.below_grid).await?;
    let by = store::by_grid(db, sid, &r.filter).await?;
    let grids: Vec<(GridInfo, Facts)> = grid_list
        .into_iter()
        .map(|g| {
            let f = by.get(&g.id).copied().unwrap_or_default();
            (g, f)
        })
        .collect();
    let all = ctx.t("全部", "all").to_string();
    let category = match &r.filter.category {
        Some(c) => format!(
            "{} ({c})",
            crate::cases::category_store::tree(db, sid)
                .await?
                .path_name(c, ctx.lang)
        ),
        None => all.clone(),
    };
    let about = xlsx::About {
        scope: r.node.name.clone(),
        period: format!("{} – {}", day_text(r.filter.from), day_text(r.filter.to)),
        category,
        owner_unit: r.filter.owner_unit.map_or(all, |u| u.to_string()),
    };
    let bytes = xlsx::workbook(ctx.lang, &about, &totals, &grids, &months)?;
    let name = format!("measures-{}-{}.xlsx", r.filter.from, r.filter.to);
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
