//! The pages: `/companies` (the registry, and registering a company), `/companies/{id}`
//! (details, correction, contracts), `/property` (the estates in reach with their contract in
//! force), `/property/estates/{id}` (an estate's current contract, history, notices, and its
//! selections and fee adjustments), `/property/selections/{id}` and `/property/fees/{id}`
//! (each process as a step timeline with the form of its next step). Forms post beside their
//! page; an invalid form re-renders (422) with what was typed and each message by its field; a
//! refused step shows the localised error page with the reason. Amounts are typed in yuan
//! ("2.50") and percentages ("8.5"), and converted to fen and basis points without floats.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Path, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

use super::rules::{self, FeeStep, Model, ReportKind, SelectionStep};
use super::store::{
    self, Contract, FeeAdjustment, FeeStepIn, NewBid, NewCompany, NewContract, NewFee, NewNotice,
    NewSelection, Selection, SelectionStepIn,
};
use crate::access::{allows, Action, Target};
use crate::clock::{format_local, now_ms};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/companies", get(companies).post(create_company))
        .route("/companies/{id}", get(company).post(update_company))
        .route("/property", get(estates))
        .route("/property/estates/{id}", get(estate))
        .route("/property/estates/{id}/contracts", post(create_contract))
        .route("/property/estates/{id}/selections", post(create_selection))
        .route("/property/estates/{id}/fees", post(create_fee))
        .route("/property/contracts/{id}/notices", post(give_notice))
        .route("/property/selections/{id}", get(selection))
        .route("/property/selections/{id}/bids", post(add_bid))
        .route("/property/selections/{id}/steps", post(selection_step))
        .route("/property/fees/{id}", get(fee))
        .route("/property/fees/{id}/steps", post(fee_step))
        .route("/property/fees/{id}/report", get(fee_report))
}

type Fields = HashMap<String, String>;

fn val<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

fn errs(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

/// A form that failed, to show again.
struct Failed<'a> {
    form: &'a str,
    fields: &'a Fields,
    errors: &'a [FieldError],
}

fn for_form<'a>(
    failed: Option<&'a Failed<'a>>,
    key: &str,
    empty: &'a Fields,
) -> (&'a Fields, &'a [FieldError]) {
    match failed {
        Some(x) if x.form == key => (x.fields, x.errors),
        _ => (empty, &[]),
    }
}

fn yuan(fen: i64) -> String {
    format!("¥{}", rules::fmt_yuan(fen))
}

fn fee_text(ctx: &Ctx, fen: i64) -> String {
    format!(
        "{} {}",
        yuan(fen),
        ctx.t("元/平方米·月", "per m² per month")
    )
}

fn model_text(ctx: &Ctx, model: &str, bp: Option<i64>) -> String {
    let m = Model::parse(model).map_or(model.to_string(), |m| ctx.text(&m.label()).to_string());
    match bp {
        Some(bp) => format!("{m} · {}", rules::fmt_bp(bp)),
        None => m,
    }
}

fn status_text(ctx: &Ctx, s: &str) -> String {
    let t = match s {
        "upcoming" => rules::Status::Upcoming.label(),
        "active" => rules::Status::Active.label(),
        "ended" => rules::Status::Ended.label(),
        "dismissed" => rules::Status::Dismissed.label(),
        "not_renewed" => rules::Status::NotRenewed.label(),
        other => Text::owned(other.into(), other.into()),
    };
    ctx.text(&t).to_string()
}

/// Reads an amount typed in yuan into fen; blank is `None`, nonsense a field error.
fn money(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    let v = rules::parse_yuan(s);
    if v.is_none() {
        errors.push(FieldError::new(
            field,
            Text::new("请填写金额,如 2.50", "type an amount such as 2.50"),
        ));
    }
    v
}

fn percent(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    let v = rules::parse_percent_bp(s);
    if v.is_none() {
        errors.push(FieldError::new(
            field,
            Text::new("请填写百分比,如 8.5", "type a percentage such as 8.5"),
        ));
    }
    v
}

fn opt_id(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    let v = s.trim_start_matches('#').parse::<i64>().ok();
    if v.is_none() {
        errors.push(FieldError::new(
            field,
            Text::new("请填写编号", "type a number"),
        ));
    }
    v
}

/// Re-renders with the errors (422) when the call was invalid; else the redirect or the error.
async fn answer<T, R, Fut>(
    result: Result<T>,
    ok: impl FnOnce(T) -> String,
    again: R,
) -> Result<Response>
where
    R: FnOnce(Vec<FieldError>) -> Fut,
    Fut: std::future::Future<Output = Result<Markup>>,
{
    match result {
        Ok(v) => Ok(Redirect::to(&ok(v)).into_response()),
        Err(Error::Invalid(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, again(errors).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

fn parse_errors<T>(errors: Vec<FieldError>, r: impl FnOnce() -> T) -> Result<T> {
    if errors.is_empty() {
        Ok(r())
    } else {
        Err(Error::Invalid(errors))
    }
}

// ---------------------------------------------------------------------------------------------
// The registry

fn company_fields(ctx: &Ctx, f: &Fields, errors: &[FieldError]) -> Markup {
    html! {
        label { (ctx.t("企业名称", "Name"))
            input type="text" name="name" value=(val(f, "name")) required; (errs(ctx, errors, "name")) }
        label { (ctx.t("统一社会信用代码", "Unified social credit code"))
            input type="text" name="credit_code" value=(val(f, "credit_code")) maxlength="18"; (errs(ctx, errors, "credit_code")) }
        label { (ctx.t("资质或许可", "Qualification / licence"))
            input type="text" name="licence" value=(val(f, "licence")); (errs(ctx, errors, "licence")) }
        label { (ctx.t("联系人", "Contact"))
            input type="text" name="contact_name" value=(val(f, "contact_name")); (errs(ctx, errors, "contact_name")) }
        label { (ctx.t("服务电话", "Service hotline"))
            input type="text" name="hotline" value=(val(f, "hotline")); (errs(ctx, errors, "hotline")) }
        label { (ctx.t("地址", "Address"))
            input type="text" name="address" value=(val(f, "address")); (errs(ctx, errors, "address")) }
        label { (ctx.t("备注", "Note"))
            textarea name="note" rows="2" { (val(f, "note")) } (errs(ctx, errors, "note")) }
    }
}

fn new_company(f: &Fields, errors: &mut Vec<FieldError>) -> NewCompany {
    NewCompany {
        name: val(f, "name").into(),
        credit_code: val(f, "credit_code").into(),
        licence: val(f, "licence").into(),
        contact_name: val(f, "contact_name").into(),
        hotline: val(f, "hotline").into(),
        address: val(f, "address").into(),
        note: val(f, "note").into(),
        node_id: opt_id(f, "node_id", errors),
    }
}

async fn render_companies(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    if !store::reads_registry(&p.actor) {
        return Err(Error::Forbidden);
    }
    let list = store::companies(&ctx.state.db, p.actor.subdistrict_id).await?;
    let body = html! {
        h1 { (ctx.t("物业服务企业", "Property companies")) }
        nav.shortcuts { a.button.secondary href="/property" { (ctx.t("各小区物业", "Estates")) } }
        @if list.is_empty() { p.notice { (ctx.t("尚未登记物业服务企业。", "No property company is registered yet.")) } }
        @else {
            ul.list {
                @for c in &list {
                    li {
                        span { a href={ "/companies/" (c.id) } { strong { (c.name) } } br;
                            span.muted { (c.credit_code.clone().unwrap_or_default()) } }
                        span.muted { (c.contact_name) " " (c.hotline) }
                    }
                }
            }
        }
        @if store::writes_any(&p.actor) {
            h2 { (ctx.t("登记企业", "Register a company")) }
            form.stack.card method="post" action="/companies" {
                (csrf(ctx))
                (company_fields(ctx, f, errors))
                (errs(ctx, errors, "node_id"))
                button type="submit" { (ctx.t("登记", "Register")) }
            }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("物业服务企业", "Property companies"),
        body,
    ))
}

async fn companies(p: Page) -> Result<Markup> {
    render_companies(&p, &Fields::new(), &[]).await
}

async fn create_company(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = new_company(&f, &mut errors);
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::create_company(&p.ctx.state.db, &p.actor, n, now_ms()).await,
        Err(e) => Err(e),
    };
    answer(
        r,
        |c| format!("/companies/{}", c.id),
        |e| async move { render_companies(&p, &f, &e).await },
    )
    .await
}

fn contract_rows(ctx: &Ctx, list: &[Contract], show_estate: bool) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr {
                @if show_estate { th { (ctx.t("小区", "Estate")) } } @else { th { (ctx.t("企业", "Company")) } }
                th { (ctx.t("期限", "Term")) } th { (ctx.t("收费标准", "Fee standard")) }
                th { (ctx.t("方式", "Model")) } th { (ctx.t("状态", "Status")) }
            } }
            tbody { @for c in list { tr {
                @if show_estate { td { a href={ "/property/estates/" (c.node_id) } { (c.node_name) } } }
                @else { td { a href={ "/companies/" (c.company_id) } { (c.company_name) } } }
                td { (c.starts_on) " — " (c.last_day) }
                td { (fee_text(ctx, c.fee_now)) @if c.fee_now != c.fee_standard { br; span.muted { (ctx.t("合同原定", "contract")) " " (yuan(c.fee_standard)) } } }
                td { (model_text(ctx, &c.model, c.commission_bp)) }
                td { span.tag { (status_text(ctx, &c.status)) }
                    @if let Some(n) = &c.notice { br; span.muted {
                        (rules::NoticeKind::parse(&n.kind).map_or(String::new(), |k| ctx.text(&k.label()).to_string()))
                        " · " (n.given_on) } } }
            } } }
        } }
    }
}

async fn render_company(
    p: &Page,
    id: i64,
    f: Option<&Fields>,
    errors: &[FieldError],
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let c = store::readable_company(db, &p.actor, id).await?;
    let sid = p.actor.subdistrict_id;
    let contracts: Vec<_> =
        store::contracts_under(db, sid, &format!("/{sid}/"), Some(id), now_ms())
            .await?
            .into_iter()
            .filter(|k| {
                allows(
                    &p.actor,
                    Action::ReadTree,
                    Target::Node { path: &k.node_path },
                )
            })
            .collect();
    let place = crate::tree::store::node(db, sid, c.node_id.unwrap_or(sid))
        .await
        .ok();
    let edits = place.as_ref().is_some_and(|n| {
        allows(
            &p.actor,
            Action::EditRegistry,
            Target::Node { path: &n.path },
        )
    });
    let current: Fields = [
        ("name", c.name.clone()),
        ("credit_code", c.credit_code.clone().unwrap_or_default()),
        ("licence", c.licence.clone()),
        ("contact_name", c.contact_name.clone()),
        ("hotline", c.hotline.clone()),
        ("address", c.address.clone()),
        ("note", c.note.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let body = html! {
        (layout::crumbs(&[("/companies".into(), ctx.t("物业服务企业", "Property companies").into()), (String::new(), c.name.clone())]))
        h1 { (c.name) }
        dl.facts {
            dt { (ctx.t("统一社会信用代码", "Credit code")) } dd { (c.credit_code.clone().unwrap_or_else(|| "—".into())) }
            dt { (ctx.t("资质或许可", "Licence")) } dd { (c.licence) }
            dt { (ctx.t("联系人", "Contact")) } dd { (c.contact_name) }
            dt { (ctx.t("服务电话", "Hotline")) } dd { (c.hotline) }
            dt { (ctx.t("地址", "Address")) } dd { (c.address) }
            @if let Some(n) = &place { dt { (ctx.t("所属", "Registered at")) } dd { (n.name) } }
        }
        h2 { (ctx.t("服务合同", "Contracts")) }
        @if contracts.is_empty() { p.muted { (ctx.t("暂无合同。", "No contracts.")) } } @else { (contract_rows(ctx, &contracts, true)) }
        @if edits {
            h2 { (ctx.t("更正企业信息", "Correct the details")) }
            form.stack.card method="post" action={ "/companies/" (c.id) } {
                (csrf(ctx))
                (company_fields(ctx, f.unwrap_or(&current), errors))
                button type="submit" { (ctx.t("保存", "Save")) }
            }
        }
    };
    Ok(layout::page(ctx, &c.name, body))
}

async fn company(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_company(&p, id, None, &[]).await
}

async fn update_company(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = new_company(&f, &mut errors);
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::update_company(&p.ctx.state.db, &p.actor, id, n, now_ms()).await,
        Err(e) => Err(e),
    };
    answer(
        r,
        |c| format!("/companies/{}", c.id),
        |e| async move { render_company(&p, id, Some(&f), &e).await },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Estates

async fn estates(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let list = store::estates(&ctx.state.db, &p.actor, now_ms()).await?;
    if list.is_empty() && !store::reads_registry(&p.actor) {
        return Err(Error::Forbidden);
    }
    let body = html! {
        h1 { (ctx.t("小区物业", "Estates and their property companies")) }
        nav.shortcuts { a.button.secondary href="/companies" { (ctx.t("物业服务企业名录", "Company registry")) } }
        @if list.is_empty() { p.notice { (ctx.t("暂无记录。", "Nothing here yet.")) } }
        @else {
            ul.list { @for e in &list { li {
                span { a href={ "/property/estates/" (e.node_id) } { @for _ in 1..e.depth { "— " } strong { (e.name) } } br;
                    span.muted { @if let Some(c) = &e.current { (c.company_name) " · " (fee_text(ctx, c.fee_now)) " · " (ctx.t("至", "to")) " " (c.last_day) }
                        @else { (ctx.t("无履行中的合同", "no contract in force")) } } }
                span.muted {
                    @if e.open_selections > 0 { (ctx.t("选聘中", "selection under way")) " " }
                    @if e.open_fee_adjustments > 0 { (ctx.t("调价中", "fee adjustment under way")) }
                }
            } } }
        }
    };
    Ok(layout::page(ctx, ctx.t("小区物业", "Estates"), body))
}

fn reelection_banner(ctx: &Ctx) -> Markup {
    html! { p.notice role="alert" { strong { (ctx.t("业委会换届期间", "Owners' committee re-election period")) } " — "
    (ctx.text(&crate::votes::rules::REELECTION_REFUSAL)) } }
}

async fn render_estate(p: &Page, id: i64, failed: Option<&Failed<'_>>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let now = now_ms();
    let node = store::estate(db, &p.actor, id, Action::ReadTree).await?;
    let edits = allows(
        &p.actor,
        Action::EditRegistry,
        Target::Node { path: &node.path },
    );
    let contracts = store::contracts_at(db, sid, &node, now).await?;
    let current = store::current(&contracts).cloned();
    let sels: Vec<_> = store::selections_under(db, sid, &node.path)
        .await?
        .into_iter()
        .filter(|s| s.node_id == id)
        .collect();
    let fees: Vec<_> = store::fees_under(db, sid, &node.path)
        .await?
        .into_iter()
        .filter(|f| f.node_id == id)
        .collect();
    let reelection = store::in_reelection(db, sid, &node.path, now).await?;
    let companies = if edits {
        store::companies(db, sid).await?
    } else {
        Vec::new()
    };
    let empty = Fields::new();
    let today = rules::fmt_date(rules::day_of(now));
    let body = html! {
        (layout::crumbs(&[("/property".into(), ctx.t("小区物业", "Estates").into()), (String::new(), node.name.clone())]))
        h1 { (node.name) }
        @if reelection { (reelection_banner(ctx)) }
        h2 { (ctx.t("现行合同", "Contract in force")) }
        @if let Some(c) = &current {
            dl.facts {
                dt { (ctx.t("物业服务企业", "Company")) } dd { a href={ "/companies/" (c.company_id) } { (c.company_name) } }
                dt { (ctx.t("期限", "Term")) } dd { (c.starts_on) " — " (c.ends_on) }
                dt { (ctx.t("收费标准", "Fee standard")) } dd { (fee_text(ctx, c.fee_now)) }
                dt { (ctx.t("方式", "Model")) } dd { (model_text(ctx, &c.model, c.commission_bp)) }
                @if let Some(n) = &c.notice {
                    dt { (ctx.t("通知", "Notice")) }
                    dd { (rules::NoticeKind::parse(&n.kind).map_or(String::new(), |k| ctx.text(&k.label()).to_string()))
                        " · " (ctx.t("通知日", "given")) " " (n.given_on) " · " (ctx.t("最后服务日", "last day of service")) " " (c.last_day) }
                }
            }
            @if edits && c.notice.is_none() { (notice_form(ctx, c, failed, &empty, &today)) }
        } @else { p.muted { (ctx.t("当前没有履行中的合同。", "No contract is in force now.")) } }
        h2 { (ctx.t("合同历史", "Contracts")) }
        @if contracts.is_empty() { p.muted { (ctx.t("暂无合同。", "No contracts.")) } } @else { (contract_rows(ctx, &contracts, false)) }
        h2 { (ctx.t("物业选聘", "Company selections")) }
        @if sels.is_empty() { p.muted { (ctx.t("暂无。", "None.")) } }
        ul.list { @for s in &sels { li {
            a href={ "/property/selections/" (s.id) } { (s.title) }
            span.tag { (ctx.text(&s.step().label())) }
        } } }
        h2 { (ctx.t("物业费调价", "Fee adjustments")) }
        @if fees.is_empty() { p.muted { (ctx.t("暂无。", "None.")) } }
        ul.list { @for f in &fees { li {
            a href={ "/property/fees/" (f.id) } { (yuan(f.old_fee)) " → " (yuan(f.new_fee)) }
            span.tag { (ctx.text(&f.step().label())) }
        } } }
        @if edits {
            @let (f, e) = for_form(failed, "contract", &empty);
            h2 { (ctx.t("登记合同", "Record a contract")) }
            form.stack.card method="post" action={ "/property/estates/" (id) "/contracts" } {
                (csrf(ctx))
                label { (ctx.t("物业服务企业", "Company"))
                    select name="company_id" required {
                        option value="" { (ctx.t("请选择", "Choose")) }
                        @for c in &companies { option value=(c.id) selected[val(f, "company_id") == c.id.to_string()] { (c.name) } }
                    } (errs(ctx, e, "company_id")) }
                (term_fields(ctx, f, e))
                (offer_fields(ctx, f, e))
                label { (ctx.t("备注", "Note")) input type="text" name="note" value=(val(f, "note")); (errs(ctx, e, "note")) }
                button type="submit" { (ctx.t("登记", "Record")) }
            }
            @let (f, e) = for_form(failed, "selection", &empty);
            h2 { (ctx.t("发起选聘", "Start a selection")) }
            form.stack.card method="post" action={ "/property/estates/" (id) "/selections" } {
                (csrf(ctx))
                label { (ctx.t("标题", "Title")) input type="text" name="title" value=(val(f, "title")) required; (errs(ctx, e, "title")) }
                label { (ctx.t("选聘方案(范围、方式、评分办法)", "The plan (scope, method, criteria)"))
                    textarea name="plan_summary" rows="4" required { (val(f, "plan_summary")) } (errs(ctx, e, "plan_summary")) }
                button type="submit" { (ctx.t("拟定方案", "Draft the plan")) }
            }
            @if current.is_some() {
                @let (f, e) = for_form(failed, "fee", &empty);
                h2 { (ctx.t("发起物业费调价", "Start a fee adjustment")) }
                form.stack.card method="post" action={ "/property/estates/" (id) "/fees" } {
                    (csrf(ctx))
                    label { (ctx.t("拟调整为(元/平方米·月)", "Proposed fee (yuan per m² per month)"))
                        input type="text" name="new_fee" inputmode="decimal" value=(val(f, "new_fee")) required; (errs(ctx, e, "new_fee")) }
                    label { (ctx.t("调价理由", "Why")) textarea name="reason" rows="3" required { (val(f, "reason")) } (errs(ctx, e, "reason")) }
                    button type="submit" { (ctx.t("发起", "Start")) }
                }
            }
        }
    };
    Ok(layout::page(ctx, &node.name, body))
}

fn term_fields(ctx: &Ctx, f: &Fields, e: &[FieldError]) -> Markup {
    html! {
        label { (ctx.t("起始日", "Starts on")) input type="date" name="starts_on" value=(val(f, "starts_on")) required; (errs(ctx, e, "starts_on")) }
        label { (ctx.t("终止日(含)", "Ends on (inclusive)")) input type="date" name="ends_on" value=(val(f, "ends_on")) required; (errs(ctx, e, "ends_on")) }
    }
}

fn offer_fields(ctx: &Ctx, f: &Fields, e: &[FieldError]) -> Markup {
    html! {
        label { (ctx.t("收费标准(元/平方米·月)", "Fee standard (yuan per m² per month)"))
            input type="text" name="fee_standard" inputmode="decimal" value=(val(f, "fee_standard")) placeholder="2.50" required; (errs(ctx, e, "fee_standard")) }
        label { (ctx.t("方式", "Model"))
            select name="model" { @for m in Model::ALL { option value=(m.as_str()) selected[val(f, "model") == m.as_str()] { (ctx.text(&m.label())) } } }
            (errs(ctx, e, "model")) }
        label { (ctx.t("酬金比例(%,酬金制)", "Commission (%, commission model)"))
            input type="text" name="commission" inputmode="decimal" value=(val(f, "commission")); (errs(ctx, e, "commission_bp")) (errs(ctx, e, "commission")) }
    }
}

fn notice_form(
    ctx: &Ctx,
    c: &Contract,
    failed: Option<&Failed<'_>>,
    empty: &Fields,
    today: &str,
) -> Markup {
    let (f, e) = for_form(failed, "notice", empty);
    let latest = rules::parse_date(&c.ends_on)
        .map(|d| rules::fmt_date(rules::latest_non_renewal_notice(d)))
        .unwrap_or_default();
    html! {
        h3 { (ctx.t("解聘或不续聘通知", "Dismissal or non-renewal notice")) }
        p.muted { (ctx.t("解聘须经业主表决(第四项)通过,并提前 60 日书面通知;不续聘须在合同期满前 90 日书面通知,最迟 ",
            "A dismissal needs an approving owners' vote (matter 4) and 60 days' written notice; not renewing needs notice 90 days before the term ends, at the latest on "))
            (latest) }
        form.stack.card method="post" action={ "/property/contracts/" (c.id) "/notices" } {
            (csrf(ctx))
            label { (ctx.t("类别", "Kind"))
                select name="kind" { @for k in [rules::NoticeKind::Dismissal, rules::NoticeKind::NonRenewal] {
                    option value=(k.as_str()) selected[val(f, "kind") == k.as_str()] { (ctx.text(&k.label())) } } }
                (errs(ctx, e, "kind")) }
            label { (ctx.t("通知日", "Given on")) input type="date" name="given_on" value=(if val(f, "given_on").is_empty() { today } else { val(f, "given_on") }) required; (errs(ctx, e, "given_on")) }
            label { (ctx.t("解聘生效日", "Dismissal takes effect on")) input type="date" name="effective_on" value=(val(f, "effective_on")); (errs(ctx, e, "effective_on")) }
            label { (ctx.t("解聘表决编号", "Dismissal vote id")) input type="text" name="vote_id" value=(val(f, "vote_id")); (errs(ctx, e, "vote_id")) }
            label { (ctx.t("不续聘由谁通知", "Non-renewal given by"))
                select name="by" {
                    option value="owners" selected[val(f, "by") == "owners"] { (ctx.t("业主方", "the owners")) }
                    option value="company" selected[val(f, "by") == "company"] { (ctx.t("物业服务企业", "the company")) }
                } (errs(ctx, e, "by")) }
            label { (ctx.t("备注", "Note")) input type="text" name="note" value=(val(f, "note")); (errs(ctx, e, "note")) }
            button type="submit" { (ctx.t("登记通知", "Record the notice")) }
        }
    }
}

async fn estate(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_estate(&p, id, None).await
}

fn new_contract(f: &Fields, errors: &mut Vec<FieldError>) -> NewContract {
    NewContract {
        company_id: opt_id(f, "company_id", errors),
        starts_on: val(f, "starts_on").into(),
        ends_on: val(f, "ends_on").into(),
        fee_standard: money(f, "fee_standard", errors),
        model: val(f, "model").into(),
        commission_bp: percent(f, "commission", errors),
        note: val(f, "note").into(),
    }
}

async fn create_contract(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = new_contract(&f, &mut errors);
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::create_contract(&p.ctx.state.db, &p.actor, id, n, now_ms()).await,
        Err(e) => Err(e),
    };
    answer(
        r,
        |_| format!("/property/estates/{id}"),
        |e| async move {
            render_estate(
                &p,
                id,
                Some(&Failed {
                    form: "contract",
                    fields: &f,
                    errors: &e,
                }),
            )
            .await
        },
    )
    .await
}

async fn create_selection(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let n = NewSelection {
        title: val(&f, "title").into(),
        plan_summary: val(&f, "plan_summary").into(),
    };
    let r = store::create_selection(&p.ctx.state.db, &p.actor, id, n, now_ms()).await;
    answer(
        r,
        |s| format!("/property/selections/{}", s.id),
        |e| async move {
            render_estate(
                &p,
                id,
                Some(&Failed {
                    form: "selection",
                    fields: &f,
                    errors: &e,
                }),
            )
            .await
        },
    )
    .await
}

async fn create_fee(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = NewFee {
        new_fee: money(&f, "new_fee", &mut errors),
        reason: val(&f, "reason").into(),
    };
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::create_fee(&p.ctx.state.db, &p.actor, id, n, now_ms()).await,
        Err(e) => Err(e),
    };
    answer(
        r,
        |x| format!("/property/fees/{}", x.id),
        |e| async move {
            render_estate(
                &p,
                id,
                Some(&Failed {
                    form: "fee",
                    fields: &f,
                    errors: &e,
                }),
            )
            .await
        },
    )
    .await
}

async fn give_notice(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let db = &p.ctx.state.db;
    let c = store::readable_contract(db, &p.actor, id, now_ms()).await?;
    let mut errors = Vec::new();
    let n = NewNotice {
        kind: val(&f, "kind").into(),
        given_on: val(&f, "given_on").into(),
        effective_on: val(&f, "effective_on").into(),
        vote_id: opt_id(&f, "vote_id", &mut errors),
        by: val(&f, "by").into(),
        note: val(&f, "note").into(),
    };
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::give_notice(db, &p.actor, id, n, now_ms()).await,
        Err(e) => Err(e),
    };
    let node = c.node_id;
    answer(
        r,
        |_| format!("/property/estates/{node}"),
        |e| async move {
            render_estate(
                &p,
                node,
                Some(&Failed {
                    form: "notice",
                    fields: &f,
                    errors: &e,
                }),
            )
            .await
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Processes

/// The steps in order, those done ticked; a cancelled process ticks the steps it reached.
fn steps_timeline(ctx: &Ctx, order: &[(String, Text)], current: &str, reached: usize) -> Markup {
    let at = order
        .iter()
        .position(|(s, _)| s == current)
        .or(reached.checked_sub(1));
    html! {
        ol.progress { @for (i, (_, label)) in order.iter().enumerate() {
            @let done = at.is_some_and(|a| i <= a);
            li aria-current=[(Some(i) == at).then_some("step")] { @if done { "✓ " } (ctx.text(label)) }
        } }
    }
}

/// The details a timeline shows, in this order, with their names.
const DETAIL_LABELS: [(&str, &str, &str); 19] = [
    ("company", "企业", "company"),
    ("kind", "类别", "kind"),
    ("by", "通知方", "given by"),
    ("given_on", "通知日", "given on"),
    ("effective_on", "生效日", "in effect from"),
    ("starts_on", "起始日", "starts on"),
    ("ends_on", "终止日", "ends on"),
    ("fee_standard", "收费标准", "fee standard"),
    ("old_fee", "原标准", "old fee"),
    ("new_fee", "新标准", "new fee"),
    ("model", "方式", "model"),
    ("invited_on", "发布日", "invited on"),
    ("closes_on", "截止日", "closes on"),
    ("received_on", "收到日期", "received on"),
    ("bids", "投标数", "bids"),
    ("report_kind", "依据", "basis"),
    ("report_ref", "报告文号", "report reference"),
    ("publicity_last_day", "公示期至", "publicity to"),
    ("vote", "业主表决", "owners' vote"),
];

fn detail_value(ctx: &Ctx, key: &str, v: &serde_json::Value) -> Option<String> {
    if v.is_null() || v.as_str() == Some("") {
        return None;
    }
    let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
    Some(match key {
        "fee_standard" | "old_fee" | "new_fee" => v.as_i64().map_or(s, yuan),
        "model" => model_text(ctx, &s, None),
        "kind" => rules::NoticeKind::parse(&s).map_or(s, |k| ctx.text(&k.label()).to_string()),
        "report_kind" => ReportKind::parse(&s).map_or(s, |k| ctx.text(&k.label()).to_string()),
        "by" if s == "company" => ctx.t("物业服务企业", "the company").to_string(),
        "by" if s == "owners" => ctx.t("业主方", "the owners").to_string(),
        _ => s,
    })
}

fn events_list(ctx: &Ctx, events: &[store::Event], label: impl Fn(&str) -> Text) -> Markup {
    html! {
        ol.timeline { @for e in events { li {
            strong { (ctx.text(&label(&e.step))) } " · " span.muted { (e.actor) " · " (format_local(e.at)) }
            @if !e.note.is_empty() { p { (e.note) } }
            @if let Some(o) = e.detail.as_object() {
                @let shown: Vec<(&str, String)> = DETAIL_LABELS.iter()
                    .filter_map(|(k, zh, en)| o.get(*k).and_then(|v| detail_value(ctx, k, v)).map(|v| (ctx.t(zh, en), v)))
                    .collect();
                @if !shown.is_empty() { p.muted { @for (k, v) in &shown { (k) ":" (v) "  " } } }
            }
        } } }
    }
}

fn vote_field(ctx: &Ctx, f: &Fields, e: &[FieldError]) -> Markup {
    html! {
        label { (ctx.t("业主表决编号(在“业主表决”中发起、计票)", "The owners' vote id (run it under Votes)"))
            input type="text" name="vote_id" value=(val(f, "vote_id")) required; (errs(ctx, e, "vote_id")) }
        p.muted { a href="/votes" { (ctx.t("前往业主表决", "Go to the votes")) } }
    }
}

fn note_field(ctx: &Ctx, f: &Fields, e: &[FieldError], required: bool) -> Markup {
    html! { label { (ctx.t("备注", "Note")) input type="text" name="note" value=(val(f, "note")) required[required]; (errs(ctx, e, "note")) } }
}

async fn render_selection(p: &Page, id: i64, failed: Option<&Failed<'_>>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let now = now_ms();
    let s: Selection = store::readable_selection(db, &p.actor, id).await?;
    let edits = allows(
        &p.actor,
        Action::EditRegistry,
        Target::Node { path: &s.node_path },
    );
    let bids = store::bids(db, sid, id).await?;
    let events = store::events(db, sid, "selection", id).await?;
    let reelection = store::in_reelection(db, sid, &s.node_path, now).await?;
    let companies = if edits {
        store::companies(db, sid).await?
    } else {
        Vec::new()
    };
    let step = s.step();
    let order: Vec<(String, Text)> = SelectionStep::ORDER
        .iter()
        .map(|x| (x.as_str().to_string(), x.label()))
        .collect();
    let empty = Fields::new();
    let (f, e) = for_form(failed, "step", &empty);
    let action = |a: &str| html! { input type="hidden" name="action" value=(a); };
    let today = rules::fmt_date(rules::day_of(now));
    let body = html! {
        (layout::crumbs(&[("/property".into(), ctx.t("小区物业", "Estates").into()),
            (format!("/property/estates/{}", s.node_id), s.node_name.clone()), (String::new(), s.title.clone())]))
        h1 { (s.title) " " span.tag { (ctx.text(&step.label())) } }
        @if reelection && step.awaits_vote() { (reelection_banner(ctx)) }
        (steps_timeline(ctx, &order, &s.step, events.iter().filter(|e| e.step != "bid" && e.step != "cancelled").count()))
        @if step == SelectionStep::Cancelled { p.notice { (ctx.t("已终止:", "Cancelled: ")) (s.cancel_reason) } }
        h2 { (ctx.t("选聘方案", "The plan")) } p { (s.plan_summary) }
        dl.facts {
            @if let Some(v) = s.plan_vote_id { dt { (ctx.t("方案表决", "Plan vote")) } dd { a href={ "/votes/" (v) } { "#" (v) } } }
            @if !s.invited_on.is_empty() { dt { (ctx.t("招标期", "Bidding")) } dd { (s.invited_on) " — " (s.bids_close_on) } }
            @if let Some(v) = s.selection_vote_id { dt { (ctx.t("选定表决", "Selection vote")) } dd { a href={ "/votes/" (v) } { "#" (v) } } }
            @if let Some(c) = s.contract_id { dt { (ctx.t("合同", "Contract")) } dd { a href={ "/property/estates/" (s.node_id) } { "#" (c) } } }
        }
        h2 { (ctx.t("投标", "Bids")) }
        @if bids.is_empty() { p.muted { (ctx.t("暂无投标。", "No bids yet.")) } }
        ul.list { @for b in &bids { li {
            span { strong { (b.company_name) } @if Some(b.id) == s.winning_bid_id { " " span.tag { (ctx.t("中选", "chosen")) } } br;
                span.muted { (b.plan_summary) } }
            span.muted { (fee_text(ctx, b.fee_standard)) br; (model_text(ctx, &b.model, b.commission_bp)) br; (b.received_on) " · #" (b.id) }
        } } }
        @if edits && step == SelectionStep::BidsInvited {
            @let (bf, be) = for_form(failed, "bid", &empty);
            h3 { (ctx.t("登记投标", "Record a bid")) }
            form.stack.card method="post" action={ "/property/selections/" (id) "/bids" } {
                (csrf(ctx))
                label { (ctx.t("投标企业", "Company"))
                    select name="company_id" required { option value="" { (ctx.t("请选择", "Choose")) }
                        @for c in &companies { option value=(c.id) selected[val(bf, "company_id") == c.id.to_string()] { (c.name) } } }
                    (errs(ctx, be, "company_id")) }
                (offer_fields(ctx, bf, be))
                label { (ctx.t("服务方案摘要", "Service plan summary")) textarea name="plan_summary" rows="2" { (val(bf, "plan_summary")) } (errs(ctx, be, "plan_summary")) }
                label { (ctx.t("收到日期", "Received on")) input type="date" name="received_on" value=(if val(bf, "received_on").is_empty() { today.as_str() } else { val(bf, "received_on") }) required; (errs(ctx, be, "received_on")) }
                button type="submit" { (ctx.t("登记", "Record")) }
            }
        }
        @if edits && !step.done() {
            h2 { (ctx.t("下一步", "Next step")) }
            @if reelection && step.awaits_vote() {
                p.muted { (ctx.t("换届期结束后才能继续需要业主表决的步骤。", "Steps that need an owners' vote wait until the re-election period is over.")) }
            } @else {
                form.stack.card method="post" action={ "/property/selections/" (id) "/steps" } {
                    (csrf(ctx))
                    input type="hidden" name="version" value=(s.version);
                    @match step {
                        SelectionStep::PlanDrafted => { (action("approve_plan")) (vote_field(ctx, f, e))
                            button type="submit" { (ctx.t("方案已表决通过", "The plan was approved")) } }
                        SelectionStep::PlanApproved => { (action("invite_bids"))
                            label { (ctx.t("发布日", "Invited on")) input type="date" name="invited_on" value=(val(f, "invited_on")) required; (errs(ctx, e, "invited_on")) }
                            label { (ctx.t("投标截止日(含)", "Bids close on (inclusive)")) input type="date" name="closes_on" value=(val(f, "closes_on")) required; (errs(ctx, e, "closes_on")) }
                            button type="submit" { (ctx.t("发布招标", "Invite bids")) } }
                        SelectionStep::BidsInvited => { (action("close_bids"))
                            button type="submit" { (ctx.t("结束收标", "Close bidding")) } }
                        SelectionStep::BidsReceived => { (action("select")) (vote_field(ctx, f, e))
                            label { (ctx.t("中选投标(同意/反对表决时选择)", "The approved bid (for a yes/no vote)"))
                                select name="bid_id" { option value="" { (ctx.t("按表决选项确定", "from the vote's chosen option")) }
                                    @for b in &bids { option value=(b.id) selected[val(f, "bid_id") == b.id.to_string()] { (b.company_name) } } }
                                (errs(ctx, e, "bid_id")) }
                            button type="submit" { (ctx.t("记录选定结果", "Record the choice")) } }
                        SelectionStep::Selected => { (action("sign_contract")) (term_fields(ctx, f, e))
                            (errs(ctx, e, "company_id")) (errs(ctx, e, "fee_standard"))
                            button type="submit" { (ctx.t("签订合同", "Sign the contract")) } }
                        _ => {}
                    }
                    (note_field(ctx, f, e, false))
                    (errs(ctx, e, "action"))
                }
            }
            form.stack method="post" action={ "/property/selections/" (id) "/steps" } {
                (csrf(ctx)) (action("cancel"))
                @let (cf, ce) = for_form(failed, "cancel", &empty);
                (note_field(ctx, cf, ce, true))
                button.secondary type="submit" { (ctx.t("终止选聘", "Cancel the selection")) }
            }
        }
        h2 { (ctx.t("过程记录", "Timeline")) }
        (events_list(ctx, &events, |s| if s == "bid" { Text::new("登记投标", "bid recorded") } else { SelectionStep::parse(s).map_or(Text::new("", ""), SelectionStep::label) }))
    };
    Ok(layout::page(ctx, &s.title, body))
}

async fn selection(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_selection(&p, id, None).await
}

async fn add_bid(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = NewBid {
        company_id: opt_id(&f, "company_id", &mut errors),
        fee_standard: money(&f, "fee_standard", &mut errors),
        model: val(&f, "model").into(),
        commission_bp: percent(&f, "commission", &mut errors),
        plan_summary: val(&f, "plan_summary").into(),
        received_on: val(&f, "received_on").into(),
    };
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::add_bid(&p.ctx.state.db, &p.actor, id, n, now_ms()).await,
        Err(e) => Err(e),
    };
    answer(
        r,
        |_| format!("/property/selections/{id}"),
        |e| async move {
            render_selection(
                &p,
                id,
                Some(&Failed {
                    form: "bid",
                    fields: &f,
                    errors: &e,
                }),
            )
            .await
        },
    )
    .await
}

async fn selection_step(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = SelectionStepIn {
        action: val(&f, "action").into(),
        vote_id: opt_id(&f, "vote_id", &mut errors),
        invited_on: val(&f, "invited_on").into(),
        closes_on: val(&f, "closes_on").into(),
        bid_id: opt_id(&f, "bid_id", &mut errors),
        starts_on: val(&f, "starts_on").into(),
        ends_on: val(&f, "ends_on").into(),
        note: val(&f, "note").into(),
        version: opt_id(&f, "version", &mut errors),
    };
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::selection_step(&p.ctx.state.db, &p.actor, id, n, now_ms()).await,
        Err(e) => Err(e),
    };
    let form = if val(&f, "action") == "cancel" {
        "cancel"
    } else {
        "step"
    };
    answer(
        r,
        |_| format!("/property/selections/{id}"),
        |e| async move {
            render_selection(
                &p,
                id,
                Some(&Failed {
                    form,
                    fields: &f,
                    errors: &e,
                }),
            )
            .await
        },
    )
    .await
}

async fn render_fee(p: &Page, id: i64, failed: Option<&Failed<'_>>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let now = now_ms();
    let x: FeeAdjustment = store::readable_fee(db, &p.actor, id).await?;
    let edits = allows(
        &p.actor,
        Action::EditRegistry,
        Target::Node { path: &x.node_path },
    );
    let events = store::events(db, sid, "fee", id).await?;
    let reelection = store::in_reelection(db, sid, &x.node_path, now).await?;
    let step = x.step();
    let order: Vec<(String, Text)> = FeeStep::ORDER
        .iter()
        .map(|s| (s.as_str().to_string(), s.label()))
        .collect();
    let empty = Fields::new();
    let (f, e) = for_form(failed, "step", &empty);
    let action = |a: &str| html! { input type="hidden" name="action" value=(a); };
    let title = format!("{} {} → {}", x.node_name, yuan(x.old_fee), yuan(x.new_fee));
    let today = rules::fmt_date(rules::day_of(now));
    let body = html! {
        (layout::crumbs(&[("/property".into(), ctx.t("小区物业", "Estates").into()),
            (format!("/property/estates/{}", x.node_id), x.node_name.clone()), (String::new(), ctx.t("物业费调价", "Fee adjustment").into())]))
        h1 { (ctx.t("物业费调价", "Fee adjustment")) " " span.tag { (ctx.text(&step.label())) } }
        @if reelection && step.awaits_vote() { (reelection_banner(ctx)) }
        (steps_timeline(ctx, &order, &x.step, events.iter().filter(|e| e.step != "cancelled").count()))
        @if step == FeeStep::Cancelled { p.notice { (ctx.t("已终止:", "Cancelled: ")) (x.cancel_reason) } }
        dl.facts {
            dt { (ctx.t("物业服务企业", "Company")) } dd { (x.company_name) }
            dt { (ctx.t("现行标准", "Current fee")) } dd { (fee_text(ctx, x.old_fee)) }
            dt { (ctx.t("拟调整为", "Proposed fee")) } dd { (fee_text(ctx, x.new_fee)) }
            dt { (ctx.t("理由", "Why")) } dd { (x.reason) }
            @if let Some(k) = ReportKind::parse(&x.report_kind) { dt { (ctx.t("依据", "Basis")) } dd { (ctx.text(&k.label()))
                @if !x.report_ref.is_empty() { " · " (x.report_ref) }
                @if x.report_file.is_some() { " · " a href={ "/property/fees/" (x.id) "/report" } { (ctx.t("下载报告", "download the report")) } } } }
            @if !x.published_on.is_empty() { dt { (ctx.t("公示期", "Publicity")) } dd { (x.published_on) " — " (x.publicity_last_day) } }
            @if let Some(v) = x.vote_id { dt { (ctx.t("业主表决", "Owners' vote")) } dd { a href={ "/votes/" (v) } { "#" (v) } } }
            @if !x.effective_on.is_empty() { dt { (ctx.t("生效日期", "In effect from")) } dd { (x.effective_on) } }
        }
        @if edits && !step.done() {
            h2 { (ctx.t("下一步", "Next step")) }
            @if reelection && step.awaits_vote() {
                p.muted { (ctx.t("换届期结束后才能继续需要业主表决的步骤。", "Steps that need an owners' vote wait until the re-election period is over.")) }
            } @else {
                form.stack.card method="post" enctype="multipart/form-data" action={ "/property/fees/" (id) "/steps?_csrf=" (ctx.csrf) } {
                    (csrf(ctx))
                    input type="hidden" name="version" value=(x.version);
                    @match step {
                        FeeStep::Drafted => { (action("publish_report"))
                            label { (ctx.t("依据", "Basis"))
                                select name="report_kind" { @for k in ReportKind::ALL { option value=(k.as_str()) selected[val(f, "report_kind") == k.as_str()] { (ctx.text(&k.label())) } } }
                                (errs(ctx, e, "report_kind")) }
                            label { (ctx.t("报告文件(PDF 或图片)", "Report file (PDF or image)")) input type="file" name="report_file" accept="application/pdf,image/*"; (errs(ctx, e, "report_file")) }
                            label { (ctx.t("或报告文号/链接", "Or the report's reference / link")) input type="text" name="report_ref" value=(val(f, "report_ref")); (errs(ctx, e, "report_ref")) }
                            label { (ctx.t("公示日", "Published on")) input type="date" name="published_on" value=(if val(f, "published_on").is_empty() { today.as_str() } else { val(f, "published_on") }) required; (errs(ctx, e, "published_on")) }
                            label { (ctx.t("公示天数", "Publicity days")) input type="number" name="publicity_days" min="1" max="90" value=(if val(f, "publicity_days").is_empty() { rules::DEFAULT_PUBLICITY_DAYS.to_string() } else { val(f, "publicity_days").to_string() }); (errs(ctx, e, "publicity_days")) }
                            button type="submit" { (ctx.t("公示成本报告", "Publish the report")) } }
                        FeeStep::ReportPublished => { (action("record_vote")) (vote_field(ctx, f, e))
                            p.muted { (ctx.t("表决须在公示期满后开始,且标记为物业费调整。", "The vote opens after the publicity and is marked as a fee change.")) }
                            button type="submit" { (ctx.t("表决已通过", "The vote approved it")) } }
                        FeeStep::Voted => { (action("take_effect"))
                            label { (ctx.t("生效日期(不早于表决结果公告日)", "In effect from (not before the result's publication)")) input type="date" name="effective_on" value=(val(f, "effective_on")) required; (errs(ctx, e, "effective_on")) }
                            button type="submit" { (ctx.t("确定生效", "Set in effect")) } }
                        _ => {}
                    }
                    (note_field(ctx, f, e, false))
                    (errs(ctx, e, "action")) (errs(ctx, e, "new_fee"))
                }
            }
            form.stack method="post" action={ "/property/fees/" (id) "/steps?_csrf=" (ctx.csrf) } {
                (csrf(ctx)) (action("cancel"))
                @let (cf, ce) = for_form(failed, "cancel", &empty);
                (note_field(ctx, cf, ce, true))
                button.secondary type="submit" { (ctx.t("终止调价", "Cancel the adjustment")) }
            }
        }
        h2 { (ctx.t("过程记录", "Timeline")) }
        (events_list(ctx, &events, |s| FeeStep::parse(s).map_or(Text::new("", ""), FeeStep::label)))
    };
    Ok(layout::page(ctx, &title, body))
}

async fn fee(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    render_fee(&p, id, None).await
}

/// Reads a form: url-encoded, or multipart with the report file.
async fn read_form(req: Request, st: &AppState) -> Result<(Fields, Option<Vec<u8>>)> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let Form(f) = Form::<Fields>::from_request(req, st).await?;
        return Ok((f, None));
    }
    let reject = |status, text: String| crate::web::errors::map_rejection(status, &text);
    let mut mp = Multipart::from_request(req, st)
        .await
        .map_err(|r| reject(r.status(), r.body_text()))?;
    let (mut f, mut file) = (Fields::new(), None);
    loop {
        let field = match mp.next_field().await {
            Ok(Some(x)) => x,
            Ok(None) => break,
            Err(e) => return Err(reject(e.status(), e.body_text())),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "report_file" {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| reject(e.status(), e.body_text()))?;
            if !bytes.is_empty() {
                file = Some(bytes.to_vec());
            }
        } else {
            let v = field
                .text()
                .await
                .map_err(|e| reject(e.status(), e.body_text()))?;
            f.insert(name, v);
        }
    }
    Ok((f, file))
}

async fn fee_step(p: Page, Path(id): Path<i64>, req: Request) -> Result<Response> {
    let (f, file) = read_form(req, &p.ctx.state).await?;
    let mut errors = Vec::new();
    let days = val(&f, "publicity_days").trim();
    let n = FeeStepIn {
        action: val(&f, "action").into(),
        report_kind: val(&f, "report_kind").into(),
        report_ref: val(&f, "report_ref").into(),
        report_base64: None,
        published_on: val(&f, "published_on").into(),
        publicity_days: if days.is_empty() {
            None
        } else {
            opt_id(&f, "publicity_days", &mut errors)
        },
        vote_id: opt_id(&f, "vote_id", &mut errors),
        effective_on: val(&f, "effective_on").into(),
        note: val(&f, "note").into(),
        version: opt_id(&f, "version", &mut errors),
    };
    let r = match parse_errors(errors, || n) {
        Ok(n) => store::fee_step(&p.ctx.state.db, &p.actor, id, n, file, now_ms()).await,
        Err(e) => Err(e),
    };
    let form = if val(&f, "action") == "cancel" {
        "cancel"
    } else {
        "step"
    };
    answer(
        r,
        |_| format!("/property/fees/{id}"),
        |e| async move {
            render_fee(
                &p,
                id,
                Some(&Failed {
                    form,
                    fields: &f,
                    errors: &e,
                }),
            )
            .await
        },
    )
    .await
}

async fn fee_report(p: Page, Path(id): Path<i64>) -> Result<Response> {
    let (ct, bytes) = store::report_file(&p.ctx.state.db, &p.actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, "attachment".to_string()),
        ],
        bytes,
    )
        .into_response())
}
