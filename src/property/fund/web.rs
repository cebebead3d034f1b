//! The fund's pages; plain forms, no JavaScript needed.
//!
//! - `/fund`: the buildings in reach with balance, first deposits and the low-balance alert;
//! - `/fund/buildings/{id}`: the room accounts, every posting, and for staff the forms: first
//!   deposit (area × rate), deposit / interest / top-up, withdrawal with its vote or emergency
//!   approval and an apportionment preview, reversal with its reason, emergency approvals;
//! - `/fund/buildings/{id}/export`: the `redbutler-fund-export/2` file (JSON Lines);
//! - `/fund/buildings/{id}/publish` (staff): the half-year's notice and XLSX;
//!   `/fund/publications/{id}` and `/fund/publications/{id}/xlsx`;
//! - `/fund/rooms/{id}`: a room's statement, phone-sized, for its owners.
//!
//! Amounts are typed in yuan with at most two decimals and kept in fen. The store decides.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

use super::chain::Posting;
use super::export;
use super::ledger::{yuan, Kind, Line, Reference};
use super::store::{self, NewEmergency, NewEntry};
use crate::clock::now_ms;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::tree::area;
use crate::web::errors::Form as FormBody;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/fund", get(list))
        .route("/fund/buildings/{id}", get(show))
        .route("/fund/buildings/{id}/postings", post(create))
        .route("/fund/buildings/{id}/emergencies", post(emergency))
        .route("/fund/buildings/{id}/export", get(export_file))
        .route("/fund/buildings/{id}/publish", post(publish))
        .route("/fund/publications/{id}", get(publication))
        .route("/fund/publications/{id}/xlsx", get(publication_xlsx))
        .route("/fund/rooms/{id}", get(room))
}

async fn publish(p: Page, Path(id): Path<i64>, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    let period = Some(val(&f, "period")).filter(|s| !s.trim().is_empty());
    match store::publish(&p.ctx.state.db, &p.actor, id, period, now_ms()).await {
        Ok(x) => Ok(Redirect::to(&format!("/fund/publications/{}", x.id)).into_response()),
        Err(e) => {
            let errors = as_fields(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&p, id, &f, &errors, None).await?,
            )
                .into_response())
        }
    }
}

async fn publication(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (x, _) = store::publication(&ctx.state.db, &p.actor, id).await?;
    let body = html! {
        h1 { (ctx.t("维修资金账目公示 ", "Maintenance fund accounts ")) (x.period) }
        @for para in x.notice.split("\n\n") {
            @for line in para.lines() { p { (line) } }
        }
        p { a.button href={ "/fund/publications/" (x.id) "/xlsx" } { (ctx.t("下载 XLSX", "Download XLSX")) } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("维修资金公示", "Fund publication"),
        body,
    ))
}

async fn publication_xlsx(p: Page, Path(id): Path<i64>) -> Result<Response> {
    super::api::xlsx_response(&p.ctx.state, &p.actor, id).await
}

type Pairs = Vec<(String, String)>;

fn val<'a>(f: &'a Pairs, k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map_or("", |(_, v)| v.as_str())
}

/// `1234.5` yuan → 123450 fen; at most two decimals, no sign.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('¥').trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 13 || frac.len() > 2 || !digits(int) || !digits(frac) {
        return None;
    }
    if s.contains('.') && frac.is_empty() {
        return None;
    }
    let whole: i64 = int.parse().ok()?;
    let mut f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    if frac.len() == 1 {
        f *= 10;
    }
    whole.checked_mul(100)?.checked_add(f)
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

fn low_tag(ctx: &Ctx) -> Markup {
    html! { span.tag.warn { (ctx.t("低于首期30%,须续筹", "below 30% of the first deposit: top up")) } }
}

async fn list(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let funds = store::funds(&ctx.state.db, &p.actor).await?;
    let body = html! {
        h1 { (ctx.t("专项维修资金", "Special maintenance fund")) }
        p.muted { (ctx.t(
            "按幢、按户记账;使用须经费用审核和业主共同决定(或应急维修审批);余额低于首期归集的30%须续筹;账目每半年至少公布一次。",
            "Kept per building and per room; every use needs a cost review and the owners' decision (or an emergency approval); below 30% of the first deposit it must be topped up; accounts are published at least half-yearly.")) }
        @if funds.is_empty() {
            p.notice { (ctx.t("没有可查看的楼栋。", "No buildings in reach.")) }
        } @else {
            table {
                thead { tr {
                    th { (ctx.t("楼栋", "Building")) }
                    th.num { (ctx.t("余额(元)", "Balance (yuan)")) }
                    th.num { (ctx.t("首期归集(元)", "First deposits (yuan)")) }
                    th { (ctx.t("分录", "Entries")) }
                } }
                tbody {
                    @for f in &funds {
                        tr {
                            td { a href={ "/fund/buildings/" (f.building_id) } { (f.building_name) } }
                            td.num { (yuan(f.balance)) }
                            td.num { (yuan(f.first_deposit_total)) }
                            td { (f.seq) " " @if f.low_balance { (low_tag(ctx)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("专项维修资金", "Maintenance fund"),
        body,
    ))
}

fn reference_text(ctx: &Ctx, r: Option<Reference>) -> Markup {
    match r {
        Some(Reference::Vote(id)) => {
            html! { a href={ "/votes/" (id) } { (ctx.t("表决 ", "vote ")) (id) } }
        }
        Some(Reference::Emergency(id)) => html! { (ctx.t("应急审批 ", "emergency ")) (id) },
        None => html! {},
    }
}

fn postings_table(ctx: &Ctx, ps: &[Posting]) -> Markup {
    html! {
        table {
            thead { tr {
                th { "#" }
                th { (ctx.t("日期", "Date")) }
                th { (ctx.t("类型", "Kind")) }
                th.num { (ctx.t("金额(元)", "Amount (yuan)")) }
                th { (ctx.t("依据 / 说明", "Authority / memo")) }
                th { (ctx.t("户数", "Rooms")) }
                th { (ctx.t("哈希", "Hash")) }
            } }
            tbody {
                @for p in ps.iter().rev() {
                    tr {
                        td { (p.seq) }
                        td { (p.value_date) }
                        td { (ctx.text(&p.kind.label()))
                            @if let Some(s) = p.reverses { " ← #" (s) } }
                        td.num { (yuan(p.amount)) }
                        td { (reference_text(ctx, p.reference))
                            @if !p.cost_review.is_empty() { " · " (ctx.t("审价:", "review: ")) (p.cost_review) }
                            @if !p.memo.is_empty() { " · " (p.memo) } }
                        td { (p.lines.len()) }
                        td { code { (p.hash.hex().chars().take(12).collect::<String>()) } }
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
    preview: Option<&[Line]>,
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let (b, s) = store::readable(db, &p.actor, id).await?;
    let fund = store::fund(db, sid, &b).await?;
    let rooms = store::rooms(db, sid, &b).await?;
    let ps = store::postings(db, sid, b.id).await?;
    let ems = if s.staff {
        store::emergencies(db, sid, b.id).await?
    } else {
        Vec::new()
    };
    let pubs = store::publications(db, sid, b.id).await?;
    let today = crate::votes::desk::store::local_date(now_ms());
    let pub_flag = crate::property::income::store::fund_flag(db, sid, b.id, &today).await?;
    let label_of = |room: i64| {
        rooms
            .iter()
            .find(|r| r.room_id == room)
            .map_or_else(|| room.to_string(), |r| r.label.clone())
    };
    let form_kind = val(f, "kind");
    let body = html! {
        p { a href="/fund" { "← " (ctx.t("专项维修资金", "Maintenance fund")) } }
        h1 { (b.name) " · " (ctx.t("维修资金", "maintenance fund")) }
        p {
            (ctx.t("余额 ", "Balance ")) strong { (yuan(fund.balance)) } (ctx.t(" 元;首期归集 ", " yuan; first deposits "))
            (yuan(fund.first_deposit_total)) (ctx.t(" 元;分录 ", " yuan; entries ")) (fund.seq)
            @if fund.low_balance { " " (low_tag(ctx)) " " (ctx.t("需补足 ", "needs ")) (yuan(fund.top_up_needed)) (ctx.t(" 元", " yuan")) }
            @if pub_flag.as_ref().is_some_and(|f| f.overdue) { " " (crate::property::income::web::flag_tag(ctx, pub_flag.as_ref())) }
        }
        p.muted { (ctx.t("链尾哈希 ", "Head hash ")) code { (fund.head_hash) } " · "
            a href={ "/fund/buildings/" (b.id) "/export" } { (ctx.t("下载导出文件(可用 redbutler ledger verify 核验)", "Download the export (check it with redbutler ledger verify)")) } }
        @if !errors.is_empty() {
            div.notice.error role="alert" { @for e in errors { p { (ctx.text(&e.message)) } } }
        }
        @if let Some(lines) = preview {
            section {
                h2 { (ctx.t("分摊预览(尚未记账)", "Apportionment preview (nothing posted yet)")) }
                p.muted { (ctx.t("按面积最大余数法分摊到分,余下的分给余数最大的房屋(余数相同按房屋编号),各户合计等于总额。",
                    "Shared by area to the fen by the largest remainder: the fen left go to the rooms with the largest remainders (equal ones by room id), so the parts add up exactly.")) }
                table { tbody {
                    @for l in lines { tr { td { (label_of(l.room_id)) } td.num { (yuan(l.amount)) } } }
                    tr { th { (ctx.t("合计", "Total")) } th.num { (yuan(lines.iter().map(|l| l.amount).sum())) } }
                } }
            }
        }
        @if s.staff {
            section {
                h2 { (ctx.t("记账", "Post an entry")) }
                form method="post" action={ "/fund/buildings/" (b.id) "/postings" } {
                    (csrf(ctx))
                    label { (ctx.t("类型", "Kind"))
                        select name="kind" {
                            @for k in Kind::ALL {
                                option value=(k.code()) selected[form_kind == k.code()] { (ctx.text(&k.label())) }
                            }
                        }
                    }
                    label { (ctx.t("金额(元;首期归集与冲正不填)", "Amount (yuan; not for first deposits or reversals)"))
                        input name="amount_yuan" inputmode="decimal" value=(val(f, "amount_yuan"));
                        (errors_for(ctx, errors, "amount")) }
                    label { (ctx.t("首期交存标准(元/平方米,按面积×标准四舍五入到分)", "First-deposit rate (yuan per m²; area × rate, rounded half up to the fen)"))
                        input name="rate_yuan" inputmode="decimal" value=(val(f, "rate_yuan")); }
                    label { (ctx.t("分摊范围(楼栋或单元)", "Rooms charged (building or unit)"))
                        select name="over_node_id" {
                            option value="" { (b.name) }
                            @for (nid, name) in units(&rooms, &b.path) {
                                option value=(nid) selected[val(f, "over_node_id") == nid.to_string()] { (name) }
                            }
                        }
                        (errors_for(ctx, errors, "over_node_id")) }
                    label { (ctx.t("业主表决编号(使用维修资金,已通过)", "Owners' vote id (using the fund, approved)"))
                        input name="vote_id" inputmode="numeric" value=(val(f, "vote_id")); (errors_for(ctx, errors, "vote_id")) }
                    label { (ctx.t("或应急维修审批", "or emergency approval"))
                        select name="emergency_id" {
                            option value="" { "—" }
                            @for e in ems.iter().filter(|e| e.used_seq.is_none()) {
                                option value=(e.id) selected[val(f, "emergency_id") == e.id.to_string()] { (e.approved_on) " " (e.reason) "(" (e.approver) ")" }
                            }
                        }
                        (errors_for(ctx, errors, "emergency_id")) }
                    label { (ctx.t("费用审核(审价报告编号)", "Cost review (report number)"))
                        input name="cost_review" value=(val(f, "cost_review")); (errors_for(ctx, errors, "cost_review")) }
                    label { (ctx.t("冲正的分录编号", "Entry to reverse (#)"))
                        input name="reverses" inputmode="numeric" value=(val(f, "reverses")); (errors_for(ctx, errors, "reverses")) }
                    label { (ctx.t("说明(冲正须写原因)", "Memo (a reversal's reason)"))
                        input name="memo" value=(val(f, "memo")); (errors_for(ctx, errors, "memo")) }
                    label { (ctx.t("记账日期", "Value date"))
                        input type="date" name="value_date" value=(val(f, "value_date")); (errors_for(ctx, errors, "value_date")) }
                    button type="submit" name="action" value="preview" class="secondary" { (ctx.t("预览分摊", "Preview")) }
                    " "
                    button type="submit" name="action" value="post" { (ctx.t("记账", "Post")) }
                }
                h2 { (ctx.t("登记应急维修审批", "Record an emergency approval")) }
                p.muted { (ctx.t("应急维修的审批须在7日内使用。", "An emergency approval is used within 7 days.")) }
                form method="post" action={ "/fund/buildings/" (b.id) "/emergencies" } {
                    (csrf(ctx))
                    label { (ctx.t("审批人", "Approved by")) input name="approver" value=(val(f, "approver")); (errors_for(ctx, errors, "approver")) }
                    label { (ctx.t("原因", "Reason")) input name="reason" value=(val(f, "reason")); (errors_for(ctx, errors, "reason")) }
                    label { (ctx.t("审批日期", "Approved on")) input type="date" name="approved_on" value=(val(f, "approved_on")); (errors_for(ctx, errors, "approved_on")) }
                    button type="submit" { (ctx.t("登记", "Record")) }
                }
            }
        }
        h2 { (ctx.t("账目公示(每半年至少一次)", "Publications (at least half-yearly)")) }
        p { (crate::property::income::web::flag_tag(ctx, pub_flag.as_ref())) }
        @if pubs.is_empty() {
            p.muted { (ctx.t("尚未公示。", "Not published yet.")) }
        } @else {
            ul { @for x in &pubs { li { a href={ "/fund/publications/" (x.id) } { (x.period) } " · " (ctx.t("余额 ", "balance ")) (yuan(x.balance)) " · #" (x.through_seq) } } }
        }
        @if s.staff {
            form method="post" action={ "/fund/buildings/" (b.id) "/publish" } {
                (csrf(ctx))
                label { (ctx.t("期间(如 2026-H1;留空为本半年)", "Period (e.g. 2026-H1; blank for this half-year)"))
                    input name="period" value=(val(f, "period")); (errors_for(ctx, errors, "period")) }
                button type="submit" { (ctx.t("公示账目", "Publish the accounts")) }
            }
        }
        h2 { (ctx.t("分户账", "Room accounts")) }
        table {
            thead { tr {
                th { (ctx.t("房屋", "Room")) }
                th.num { (ctx.t("面积(㎡)", "Area (m²)")) }
                th.num { (ctx.t("首期(元)", "First (yuan)")) }
                th.num { (ctx.t("余额(元)", "Balance (yuan)")) }
            } }
            tbody {
                @for r in &rooms {
                    tr {
                        td { a href={ "/fund/rooms/" (r.room_id) } { (r.label) } }
                        td.num { (area::format(r.area)) }
                        td.num { (yuan(r.first_deposit)) }
                        td.num { (yuan(r.balance)) @if r.low_balance { " " (low_tag(ctx)) } }
                    }
                }
            }
        }
        h2 { (ctx.t("分录(只增不改,更正用冲正)", "Entries (never edited; mistakes are reversed)")) }
        (postings_table(ctx, &ps))
    };
    Ok(layout::page(ctx, &b.name, body))
}

/// The units of a building, from its rooms' node paths: `(node id, "1单元")`.
fn units(rooms: &[store::RoomAccount], building_path: &str) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for r in rooms {
        if r.node_path == building_path {
            continue;
        }
        let id = r
            .node_path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok());
        let name = r.label.split(' ').next().unwrap_or("").to_owned();
        if let Some(id) = id {
            if !out.iter().any(|(i, _)| *i == id) {
                out.push((id, name));
            }
        }
    }
    out
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
    let yuan_of = |k: &str, field: &str, errors: &mut Vec<FieldError>| -> i64 {
        let v = val(f, k).trim();
        if v.is_empty() {
            return 0;
        }
        parse_yuan(v).unwrap_or_else(|| {
            errors.push(FieldError::new(
                field,
                Text::new(
                    "金额应为数字,最多两位小数",
                    "an amount in yuan with at most two decimals",
                ),
            ));
            0
        })
    };
    NewEntry {
        kind: val(f, "kind").to_owned(),
        amount: yuan_of("amount_yuan", "amount", errors),
        rate_fen_per_m2: yuan_of("rate_yuan", "amount", errors),
        over_node_id: opt_i64("over_node_id", errors),
        vote_id: opt_i64("vote_id", errors),
        emergency_id: opt_i64("emergency_id", errors),
        cost_review: val(f, "cost_review").to_owned(),
        memo: val(f, "memo").to_owned(),
        reverses: opt_i64("reverses", errors).and_then(|v| u64::try_from(v).ok()),
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
        match store::preview(db, &p.actor, id, &n, now_ms()).await {
            Ok(lines) => return Ok(render(&p, id, &f, &[], Some(&lines)).await?.into_response()),
            Err(e) => errors = as_fields(e)?,
        }
    } else if errors.is_empty() {
        match store::post(db, &p.actor, id, n, now_ms()).await {
            Ok(_) => return Ok(Redirect::to(&format!("/fund/buildings/{id}")).into_response()),
            Err(e) => errors = as_fields(e)?,
        }
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&p, id, &f, &errors, None).await?,
    )
        .into_response())
}

async fn emergency(p: Page, Path(id): Path<i64>, FormBody(f): FormBody<Pairs>) -> Result<Response> {
    let n = NewEmergency {
        approver: val(&f, "approver").to_owned(),
        reason: val(&f, "reason").to_owned(),
        approved_on: val(&f, "approved_on").to_owned(),
    };
    match store::record_emergency(&p.ctx.state.db, &p.actor, id, n, now_ms()).await {
        Ok(_) => Ok(Redirect::to(&format!("/fund/buildings/{id}")).into_response()),
        Err(e) => {
            let errors = as_fields(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&p, id, &f, &errors, None).await?,
            )
                .into_response())
        }
    }
}

async fn export_file(p: Page, Path(id): Path<i64>) -> Result<Response> {
    let x = store::export(&p.ctx.state.db, &p.actor, id, now_ms()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, export::CONTENT_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"fund-{id}.jsonl\""),
            ),
        ],
        export::to_json(&x),
    )
        .into_response())
}

async fn room(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let s = store::statement(&ctx.state.db, &p.actor, id).await?;
    let body = html! {
        h1 { (s.building_name) " " (s.label) }
        p { (ctx.t("维修资金余额 ", "Maintenance fund balance ")) strong { (yuan(s.balance)) } (ctx.t(" 元", " yuan"))
            @if s.low_balance { " " (low_tag(ctx)) } }
        p.muted { (ctx.t("面积 ", "Area ")) (area::format(s.area)) " ㎡ · " (ctx.t("首期归集 ", "first deposit ")) (yuan(s.first_deposit)) (ctx.t(" 元", " yuan")) }
        @if s.lines.is_empty() {
            p.notice { (ctx.t("还没有分录。", "No entries yet.")) }
        } @else {
            ul.list {
                @for l in s.lines.iter().rev() {
                    li {
                        span { strong { (ctx.text(&l.kind.label())) } " #" (l.seq) br; span.muted { (l.value_date) " " (l.memo) } }
                        span.num { (yuan(l.amount)) br; span.muted { (ctx.t("余额 ", "balance ")) (yuan(l.balance)) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("维修资金分户账", "Room fund statement"),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_are_parsed_to_the_fen() {
        assert_eq!(parse_yuan("1234.5"), Some(123_450));
        assert_eq!(parse_yuan("0.01"), Some(1));
        assert_eq!(parse_yuan(" 12 "), Some(1_200));
        assert_eq!(parse_yuan("¥3.20"), Some(320));
        for bad in ["", "-1", "1.234", "1.", ".5", "1e3", "abc", "1,000"] {
            assert_eq!(parse_yuan(bad), None, "{bad:?}");
        }
    }
}
