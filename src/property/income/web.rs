//! The public income pages; plain forms, no JavaScript needed.
//!
//! - `/income`: the estates' accounts in reach with balance, this quarter's income, the last
//!   quarter's top-up compliance and the publication flag; owners see their estates' notices;
//! - `/income/{id}`: entries, the entry form (income, expense with its authority, top-up with
//!   the apportionment preview per building, reversal), the quarters with compliance and the
//!   publish button, publications with their XLSX, the building funds' half-yearly flags;
//! - `/income/{id}/notices`: the published quarters, phone-sized, for the estate's owners;
//! - `/income/publications/{id}` and `/income/publications/{id}/xlsx`.
//!
//! Amounts are typed in yuan with at most two decimals and kept in fen. The store decides.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

use super::rules::{Kind, Source};
use super::schedule::{self, Flag, Period, State};
use super::store::{self, NewEntry, Share};
use crate::clock::now_ms;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::property::fund::ledger::yuan;
use crate::property::fund::web::parse_yuan;
use crate::tree::area;
use crate::web::errors::Form as FormBody;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/income", get(list))
        .route("/income/open", get(open))
        .route("/income/publications/{id}", get(publication))
        .route("/income/publications/{id}/xlsx", get(publication_xlsx))
        .route("/income/{id}", get(show))
        .route("/income/{id}/entries", post(create))
        .route("/income/{id}/publish", post(publish))
        .route("/income/{id}/notices", get(notices))
}

type Pairs = Vec<(String, String)>;

fn val<'a>(f: &'a Pairs, k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map_or("", |(_, v)| v.as_str())
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

/// The publication flag as a tag (nothing when there is nothing to say).
pub fn flag_tag(ctx: &Ctx, f: Option<&Flag>) -> Markup {
    let Some(f) = f else { return html! {} };
    match f.state {
        State::Overdue => {
            html! { span.tag.warn { (f.period) " " (ctx.t("逾期未公示", "overdue: not published")) " (" (ctx.t("应于 ", "due ")) (f.due_on) ")" } }
        }
        State::Due => {
            html! { span.tag { (f.period) " " (ctx.t("待公示,截止 ", "to publish by ")) (f.due_on) } }
        }
        State::Published => html! { span.tag.ok { (f.period) " " (ctx.t("已公示", "published")) } },
        State::Running => html! {},
    }
}

fn compliance(ctx: &Ctx, q: &super::rules::Quarter) -> Markup {
    if q.income <= 0 {
        html! { span.muted { (ctx.t("无收入", "no income")) } }
    } else if q.compliant {
        html! { span.tag.ok { (ctx.t("已超过50%", "more than half")) } }
    } else {
        html! { span.tag.warn { (ctx.t("不足50%,尚差 ", "not more than half: short ")) (yuan(q.shortfall)) } }
    }
}

#[derive(serde::Deserialize)]
struct OpenQ {
    estate_id: Option<i64>,
}

async fn open(Query(q): Query<OpenQ>) -> Response {
    match q.estate_id {
        Some(id) => Redirect::to(&format!("/income/{id}")).into_response(),
        None => Redirect::to("/income").into_response(),
    }
}

async fn list(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let now = now_ms();
    let sums = store::overview(db, &p.actor, now).await?;
    let owned = store::owned_estates(db, &p.actor).await?;
    let places = store::places(db, &p.actor).await?;
    let body = html! {
        h1 { (ctx.t("公共收益", "Public income")) }
        p.muted { (ctx.t(
            "利用共有部分(广告、停车、场地等)取得的收益归业主共有;每季度以超过50%补充专项维修资金,每季度公示。",
            "Income from the common parts (advertising, parking, venues…) belongs to the owners; each quarter more than half of it tops up the maintenance fund, and it is published quarterly.")) }
        @if !owned.is_empty() {
            h2 { (ctx.t("我所在小区的公示", "Notices of my estates")) }
            ul.list { @for e in &owned { li { a href={ "/income/" (e.id) "/notices" } { (e.name) } } } }
        }
        @if sums.is_empty() {
            p.notice { (ctx.t("没有可查看的公共收益账户。", "No public income accounts in reach.")) }
        } @else {
            table {
                thead { tr {
                    th { (ctx.t("小区", "Estate")) }
                    th.num { (ctx.t("余额(元)", "Balance (yuan)")) }
                    th.num { (ctx.t("本季收入(元)", "This quarter's income (yuan)")) }
                    th { (ctx.t("上季补充维修资金", "Last quarter's top-up")) }
                    th { (ctx.t("公示", "Publication")) }
                } }
                tbody {
                    @for s in &sums {
                        tr {
                            td { a href={ "/income/" (s.account.estate_id) } { (s.account.estate_name) } }
                            td.num { (yuan(s.account.balance)) }
                            td.num { (yuan(s.quarter.income)) }
                            td { (s.last_quarter.quarter) " " (compliance(ctx, &s.last_quarter)) }
                            td { (flag_tag(ctx, s.publication.as_ref())) }
                        }
                    }
                }
            }
        }
        @if !places.is_empty() {
            form method="get" action="/income/open" {
                label { (ctx.t("打开小区账户", "Open an estate's account"))
                    select name="estate_id" {
                        @for (id, name, depth) in &places {
                            option value=(id) { (" ".repeat(usize::try_from(*depth).unwrap_or(0))) (name) }
                        }
                    }
                }
                button type="submit" { (ctx.t("打开", "Open")) }
            }
        }
    };
    Ok(layout::page(ctx, ctx.t("公共收益", "Public income"), body))
}

fn entries_table(ctx: &Ctx, es: &[store::Entry]) -> Markup {
    html! {
        table {
            thead { tr {
                th { "#" }
                th { (ctx.t("日期", "Date")) }
                th { (ctx.t("类型", "Kind")) }
                th.num { (ctx.t("金额(元)", "Amount (yuan)")) }
                th { (ctx.t("付款方 / 说明 / 依据", "Payer / note / authority")) }
                th { (ctx.t("哈希", "Hash")) }
            } }
            tbody {
                @for e in es.iter().rev() {
                    tr {
                        td { (e.seq) }
                        td { (e.value_date) }
                        td { (ctx.text(&e.kind.label()))
                            @if let Some(s) = e.source { " · " (ctx.text(&s.label())) }
                            @if let Some(q) = &e.for_quarter { " · " (q) }
                            @if let Some(s) = e.reverses { " ← #" (s) } }
                        td.num { (yuan(e.effect)) }
                        td {
                            @if !e.counterparty.is_empty() { (e.counterparty) " · " }
                            (e.note)
                            @if let Some(v) = e.vote_id { " · " a href={ "/votes/" (v) } { (ctx.t("表决 ", "vote ")) (v) } }
                            @if let Some(d) = e.decision_id { " · " (ctx.t("业委会决定 ", "committee decision ")) (d) }
                        }
                        td { code { (e.hash.chars().take(12).collect::<String>()) } }
                    }
                }
            }
        }
    }
}

async fn render(
    p: &Page,
    id: i64,
    f: &Pairs,
    errors: &[FieldError],
    preview: Option<&[Share]>,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let now = now_ms();
    let today = crate::votes::desk::store::local_date(now);
    let (e, s) = store::readable(db, &p.actor, id).await?;
    let sum = store::summary(db, sid, &e, now).await?;
    let entries = store::entries(db, sid, e.id).await?;
    let quarters = store::quarters_of(&entries);
    let pubs = store::publications(db, sid, e.id).await?;
    let buildings = store::buildings(db, sid, &e).await?;
    let mut fund_flags = Vec::new();
    for (b, _, _) in buildings.iter().take(200) {
        if let Some(fl) = store::fund_flag(db, sid, b.id, &today).await? {
            if fl.state != State::Published {
                fund_flags.push((b.id, b.name.clone(), fl));
            }
        }
    }
    let current = Period::quarter_of(&today);
    let form_kind = val(f, "kind");
    let body = html! {
        p { a href="/income" { "← " (ctx.t("公共收益", "Public income")) } }
        h1 { (e.name) " · " (ctx.t("公共收益", "public income")) }
        p {
            (ctx.t("余额 ", "Balance ")) strong { (yuan(sum.account.balance)) } (ctx.t(" 元;分录 ", " yuan; entries ")) (sum.account.seq)
            " · " (ctx.t("本季收入 ", "this quarter's income ")) (yuan(sum.quarter.income)) (ctx.t(" 元", " yuan"))
            " " (flag_tag(ctx, sum.publication.as_ref()))
        }
        p.muted { (ctx.t("链尾哈希 ", "Head hash ")) code { (sum.account.head_hash) } " · "
            a href={ "/api/v1/income/estates/" (e.id) "/verify" } { (ctx.t("核验哈希链", "Verify the chain")) } " · "
            a href={ "/income/" (e.id) "/notices" } { (ctx.t("业主看到的公示", "What the owners see")) } }
        @if !fund_flags.is_empty() {
            div.notice {
                p { (ctx.t("楼栋维修资金半年度公示:", "Building funds' half-yearly publication:")) }
                ul { @for (bid, name, fl) in &fund_flags { li { a href={ "/fund/buildings/" (bid) } { (name) } " " (flag_tag(ctx, Some(fl))) } } }
            }
        }
        @if !errors.is_empty() {
            div.notice.error role="alert" { @for e in errors { p { (ctx.text(&e.message)) } } }
        }
        @if let Some(shares) = preview {
            section {
                h2 { (ctx.t("补充维修资金分摊预览(尚未记账)", "Top-up apportionment preview (nothing posted yet)")) }
                p.muted { (ctx.t("按各楼栋房屋面积合计,最大余数法分摊到分;每幢楼内再按房屋面积分摊到户。",
                    "Shared over the buildings by their rooms' area to the fen (largest remainder); inside each building over its rooms by area.")) }
                table {
                    thead { tr { th { (ctx.t("楼栋", "Building")) } th.num { (ctx.t("面积(㎡)", "Area (m²)")) } th.num { (ctx.t("户数", "Rooms")) } th.num { (ctx.t("金额(元)", "Amount (yuan)")) } } }
                    tbody {
                        @for sh in shares { tr { td { (sh.building_name) } td.num { (area::format(sh.area)) } td.num { (sh.rooms) } td.num { (yuan(sh.amount)) } } }
                        tr { th { (ctx.t("合计", "Total")) } th {} th {} th.num { (yuan(shares.iter().map(|s| s.amount).sum())) } }
                    }
                }
            }
        }
        @if s.staff {
            section {
                h2 { (ctx.t("记账", "Post an entry")) }
                form method="post" action={ "/income/" (e.id) "/entries" } {
                    (csrf(ctx))
                    label { (ctx.t("类型", "Kind"))
                        select name="kind" {
                            @for k in Kind::ALL {
                                option value=(k.code()) selected[form_kind == k.code()] { (ctx.text(&k.label())) }
                            }
                        }
                        (errors_for(ctx, errors, "kind")) }
                    label { (ctx.t("收入来源(收入)", "Source (income)"))
                        select name="source" {
                            option value="" { "—" }
                            @for src in Source::ALL {
                                option value=(src.code()) selected[val(f, "source") == src.code()] { (ctx.text(&src.label())) }
                            }
                        }
                        (errors_for(ctx, errors, "source")) }
                    label { (ctx.t("金额(元;冲正不填)", "Amount (yuan; not for reversals)"))
                        input name="amount_yuan" inputmode="decimal" value=(val(f, "amount_yuan"));
                        (errors_for(ctx, errors, "amount")) }
                    label { (ctx.t("付款方(收入)/ 收款方(支出)", "Payer (income) / payee (expense)"))
                        input name="counterparty" value=(val(f, "counterparty")); (errors_for(ctx, errors, "counterparty")) }
                    label { (ctx.t("合同或说明 / 支出用途 / 冲正原因", "Contract or note / purpose of an expense / reason of a reversal"))
                        input name="note" value=(val(f, "note")); (errors_for(ctx, errors, "note")) }
                    label { (ctx.t("支出依据:业主表决编号(已通过)", "Expense authority: owners' vote id (approved)"))
                        input name="vote_id" inputmode="numeric" value=(val(f, "vote_id")); (errors_for(ctx, errors, "vote_id")) }
                    label { (ctx.t("或业委会决定编号", "or owners' committee decision id"))
                        input name="decision_id" inputmode="numeric" value=(val(f, "decision_id")); (errors_for(ctx, errors, "decision_id")) }
                    label { (ctx.t("补充所属季度(如 2026Q3;留空为记账日期所在季度)", "Top-up for quarter (e.g. 2026Q3; blank: the value date's)"))
                        input name="for_quarter" value=(val(f, "for_quarter")); (errors_for(ctx, errors, "for_quarter")) }
                    label { (ctx.t("冲正的分录编号", "Entry to reverse (#)"))
                        input name="reverses" inputmode="numeric" value=(val(f, "reverses")); (errors_for(ctx, errors, "reverses")) }
                    label { (ctx.t("记账日期", "Value date"))
                        input type="date" name="value_date" value=(val(f, "value_date")); (errors_for(ctx, errors, "value_date")) }
                    button type="submit" name="action" value="preview" class="secondary" { (ctx.t("预览补充分摊", "Preview the top-up")) }
                    " "
                    button type="submit" name="action" value="post" { (ctx.t("记账", "Post")) }
                }
            }
        }
        h2 { (ctx.t("季度(补充维修资金须超过收入的50%)", "Quarters (top-ups must be more than half of the income)")) }
        @if quarters.is_empty() {
            p.muted { (ctx.t("还没有分录。", "No entries yet.")) }
        } @else {
            table {
                thead { tr {
                    th { (ctx.t("季度", "Quarter")) }
                    th.num { (ctx.t("收入", "Income")) }
                    th.num { (ctx.t("支出", "Expenses")) }
                    th.num { (ctx.t("补充维修资金", "Top-ups")) }
                    th { (ctx.t("合规", "Compliance")) }
                    th { (ctx.t("公示", "Publication")) }
                } }
                tbody {
                    @for q in quarters.iter().rev() {
                        @let period = Period::parse(&q.quarter);
                        @let published = pubs.iter().find(|x| x.quarter == q.quarter);
                        @let st = period.map(|pp| schedule::state(pp, published.is_some(), &today));
                        tr {
                            td { (q.quarter) }
                            td.num { (yuan(q.income)) }
                            td.num { (yuan(q.expense)) }
                            td.num { (yuan(q.top_up)) }
                            td { (compliance(ctx, q)) }
                            td {
                                @if let Some(x) = published {
                                    a href={ "/income/publications/" (x.id) } { (ctx.t("已公示", "published")) }
                                } @else if let (Some(pp), Some(st)) = (period, st) {
                                    @if st == State::Overdue { span.tag.warn { (ctx.t("逾期", "overdue")) } " " }
                                    @if st == State::Running { span.muted { (ctx.t("进行中", "running")) } }
                                    @else { span.muted { (ctx.t("截止 ", "due ")) (pp.due_on()) } }
                                    @if s.staff && st != State::Running && Some(pp) != current {
                                        form.inline method="post" action={ "/income/" (e.id) "/publish" } {
                                            (csrf(ctx))
                                            input type="hidden" name="quarter" value=(q.quarter);
                                            button type="submit" { (ctx.t("公示", "Publish")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (errors_for(ctx, errors, "quarter"))
        h2 { (ctx.t("公示记录", "Publications")) }
        @if pubs.is_empty() {
            p.muted { (ctx.t("尚未公示。", "Not published yet.")) }
        } @else {
            ul { @for x in &pubs { li {
                a href={ "/income/publications/" (x.id) } { (x.quarter) } " · "
                (ctx.t("收入 ", "income ")) (yuan(x.income)) " · " (ctx.t("补充 ", "top-up ")) (yuan(x.top_up)) " · "
                a href={ "/income/publications/" (x.id) "/xlsx" } { "XLSX" } } } }
        }
        h2 { (ctx.t("分录(只增不改,更正用冲正)", "Entries (never edited; mistakes are reversed)")) }
        (entries_table(ctx, &entries))
    };
    Ok(layout::page(ctx, &e.name, body))
}

async fn show(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render(&p, id, &Pairs::new(), &[], None).await
}

fn entry_from(f: &Pairs, errors: &mut Vec<FieldError>) -> NewEntry {
    let opt_i64 = |k: &str, errors: &mut Vec<FieldError>| -> Option<i64> {
        let v = val(f, k).trim();
        if v.is_empty() {
            return None;
        }
        let n = v.parse().ok();
        if n.is_none() {
            errors.push(FieldError::new(k, Text::new("应为数字", "a number")));
        }
        n
    };
    let amount = {
        let v = val(f, "amount_yuan").trim();
        if v.is_empty() {
            0
        } else {
            parse_yuan(v).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "amount",
                    Text::new(
                        "金额应为数字,最多两位小数",
                        "an amount in yuan with at most two decimals",
                    ),
                ));
                0
            })
        }
    };
    NewEntry {
        kind: val(f, "kind").to_owned(),
        source: val(f, "source").to_owned(),
        amount,
        counterparty: val(f, "counterparty").to_owned(),
        note: val(f, "note").to_owned(),
        vote_id: opt_i64("vote_id", errors),
        decision_id: opt_i64("decision_id", errors),
        for_quarter: Some(val(f, "for_quarter").to_owned()).filter(|s| !s.trim().is_empty()),
        reverses: opt_i64("reverses", errors),
        value_date: Some(val(f, "value_date").to_owned()).filter(|s| !s.trim().is_empty()),
    }
}

fn as_fields(e: Error) -> std::result::Result<Vec<FieldError>, Error> {
    match e {
        Error::Invalid(errs) => Ok(errs),
        Error::Conflict(t) => Ok(vec![FieldError::new("amount", t)]),
        e => Err(e),
    }
}

async fn create(p: Page, Path(id): Path<i64>, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = entry_from(&f, &mut errors);
    let db = &p.ctx.state.db;
    if errors.is_empty() && val(&f, "action") == "preview" {
        let (e, s) = store::readable(db, &p.actor, id).await?;
        if !s.staff {
            return Err(Error::Forbidden);
        }
        match super::rules::check_amount(n.amount) {
            Err(r) => errors.push(FieldError::new("amount", r.text)),
            Ok(()) => match store::shares(db, p.actor.subdistrict_id, &e, n.amount).await {
                Ok(sh) => return Ok(render(&p, id, &f, &[], Some(&sh)).await?.into_response()),
                Err(e) => errors = as_fields(e)?,
            },
        }
    } else if errors.is_empty() {
        match store::post(db, &p.actor, id, n, now_ms()).await {
            Ok(_) => return Ok(Redirect::to(&format!("/income/{id}")).into_response()),
            Err(e) => errors = as_fields(e)?,
        }
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&p, id, &f, &errors, None).await?,
    )
        .into_response())
}

async fn publish(p: Page, Path(id): Path<i64>, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    let quarter = Some(val(&f, "quarter")).filter(|s| !s.trim().is_empty());
    match store::publish(&p.ctx.state.db, &p.actor, id, quarter, now_ms()).await {
        Ok(x) => Ok(Redirect::to(&format!("/income/publications/{}", x.id)).into_response()),
        Err(e) => {
            let errors = match as_fields(e)? {
                v if v.iter().all(|e| e.field == "amount") => v
                    .into_iter()
                    .map(|e| FieldError::new("quarter", e.message))
                    .collect(),
                v => v,
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&p, id, &f, &errors, None).await?,
            )
                .into_response())
        }
    }
}

fn notice_text(x: &store::Publication) -> Markup {
    html! { @for para in x.notice.split("\n\n").take(1) { @for line in para.lines() { p { (line) } } } }
}

async fn publication(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (x, _) = store::publication(&ctx.state.db, &p.actor, id).await?;
    let body = html! {
        p { a href={ "/income/" (x.estate_id) "/notices" } { "← " (ctx.t("公共收益公示", "Public income notices")) } }
        h1 { (ctx.t("公共收益公示 ", "Public income ")) (x.quarter) }
        @for para in x.notice.split("\n\n") {
            @for line in para.lines() { p { (line) } }
        }
        p { a.button href={ "/income/publications/" (x.id) "/xlsx" } { (ctx.t("下载 XLSX", "Download XLSX")) } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("公共收益公示", "Public income notice"),
        body,
    ))
}

async fn publication_xlsx(p: Page, Path(id): Path<i64>) -> Result<Response> {
    super::api::xlsx_response(&p.ctx.state, &p.actor, id).await
}

/// The owners' view: the published quarters only, never the running entries.
async fn notices(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (e, ps) = store::notices(&ctx.state.db, &p.actor, id).await?;
    let body = html! {
        h1 { (e.name) " · " (ctx.t("公共收益公示", "public income")) }
        p.muted { (ctx.t("每季度公示一次;收益超过50%用于补充维修资金。", "Published each quarter; more than half of the income tops up the maintenance fund.")) }
        @if ps.is_empty() {
            p.notice { (ctx.t("还没有公示。", "Nothing published yet.")) }
        } @else {
            ul.list {
                @for x in &ps {
                    li {
                        span {
                            strong { a href={ "/income/publications/" (x.id) } { (x.quarter) } } br;
                            span.muted { (ctx.t("收入 ", "income ")) (yuan(x.income)) " · " (ctx.t("支出 ", "expenses ")) (yuan(x.expense)) }
                            br;
                            span.muted { (ctx.t("补充维修资金 ", "top-up ")) (yuan(x.top_up)) " · "
                                @if x.compliant { (ctx.t("超过50%", "more than half")) } @else { (ctx.t("不足50%", "not more than half")) } }
                        }
                        span.num { (yuan(x.balance)) br; a href={ "/income/publications/" (x.id) "/xlsx" } { "XLSX" } }
                    }
                }
            }
            @if let Some(x) = ps.first() { section { h2 { (ctx.t("最新公示", "Latest notice")) } (notice_text(x)) } }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("公共收益公示", "Public income notices"),
        body,
    ))
}
