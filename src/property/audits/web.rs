//! Third-party audit's pages: `/audits` (the engagements the reader may see), `/audits/new`,
//! `/audits/{id}` (scope, dates, auditors, findings, responses, the report), the auditors'
//! scoped read-only views `/audits/{id}/fund` and `/audits/{id}/fund/{building_id}`, and the
//! phone-friendly report page `/audits/{id}/report` that owners read for 30 days. An invalid
//! form re-renders (422) with what was typed and each message by its field.

use std::collections::HashMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

use super::rules::{Account, ACCOUNTS, KINDS, SEVERITIES};
use super::store::{self, CloseFinding, NewEngagement, NewFinding, NewReport, NewResponse, Report};
use crate::clock::format_local;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::property::fund::ledger::yuan;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

/// A report upload's body: the file plus the form's few fields.
const REPORT_LIMIT: usize = crate::deliberation::halls::documents::MAX_BYTES + 128 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audits", get(list).post(engage))
        .route("/audits/new", get(new_page))
        .route("/audits/{id}", get(show))
        .route("/audits/{id}/fund", get(fund))
        .route("/audits/{id}/fund/{building_id}", get(fund_building))
        .route("/audits/{id}/income", get(income))
        .route("/audits/{id}/findings", post(add_finding))
        .route("/audits/{id}/findings/{fid}/responses", post(respond))
        .route("/audits/{id}/findings/{fid}/close", post(close))
        .route(
            "/audits/{id}/report",
            get(report_page)
                .post(submit_report)
                .layer(axum::extract::DefaultBodyLimit::max(REPORT_LIMIT)),
        )
        .route("/audits/{id}/report/publish", post(publish))
        .route("/audits/{id}/report/document", get(document))
}

type Fields = HashMap<String, String>;

fn now() -> i64 {
    crate::clock::now_ms()
}

fn val<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! { @for e in errors.iter().filter(|e| e.field == field) { span.error { (ctx.text(&e.message)) } } }
}

fn t(ctx: &Ctx, x: &Text) -> String {
    ctx.text(x).to_string()
}

fn opt_id(f: &Fields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = val(f, field).trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<i64>().map(Some).unwrap_or_else(|_| {
        errors.push(FieldError::new(
            field,
            Text::new("请填写数字", "enter a number"),
        ));
        None
    })
}

fn title(ctx: &Ctx) -> &str {
    ctx.t("第三方审计", "Third-party audit")
}

fn accounts_text(ctx: &Ctx, a: &[Account]) -> String {
    a.iter()
        .map(|x| t(ctx, &x.label()))
        .collect::<Vec<_>>()
        .join("、")
}

/// The report's document as a download (type, safe name, `nosniff`), the way hall documents
/// are sent.
pub fn document_response(id: i64, r: &Report, bytes: Vec<u8>) -> Response {
    let d = crate::deliberation::halls::documents::Document {
        id,
        item_id: id,
        file_name: r.doc_name.clone(),
        content_type: r.doc_type.clone(),
        size: r.doc_size,
        sha256: r.doc_sha256.clone(),
        uploaded_at: r.submitted_at,
    };
    crate::deliberation::halls::documents::response(&d, bytes)
}

// ---------------------------------------------------------------- list and new

async fn list(p: Page) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let list = store::list(db, &p.actor, now()).await?;
    let manages = !store::places(db, &p.actor).await?.is_empty();
    let body = html! {
        h1 { (title(ctx)) }
        p.muted { (ctx.t(
            "街道聘请第三方审计机构,审计业主委员会使用专项维修资金和公共收益的收支情况。审计人员只能在聘用期限内查阅审计范围内的账目。",
            "The subdistrict engages audit firms to examine how owners' committees use the maintenance fund and the public income. Auditors read only the accounts in scope, only during the engagement.")) }
        @if manages {
            nav.shortcuts { a.button href="/audits/new" { (ctx.t("新建审计聘用", "New engagement")) } }
        }
        @if list.is_empty() {
            p.notice { (ctx.t("暂无审计。", "No audits here.")) }
        } @else {
            ul.list {
                @for (e, s) in &list {
                    li {
                        span {
                            @if s.reads() {
                                a href={ "/audits/" (e.id) } { strong { (e.title) } }
                            } @else if e.is_published() {
                                a href={ "/audits/" (e.id) "/report" } { strong { (e.title) } }
                            } @else {
                                strong { (e.title) }
                            }
                            " " span.tag { (t(ctx, &e.status.label())) } br;
                            span.muted { (e.firm_name) " · " (e.node_name) " · " (t(ctx, &e.kind.label())) }
                        }
                        span.muted { (e.starts_on) " – " (e.ends_on) }
                    }
                }
            }
        }
    };
    Ok(layout::page(ctx, title(ctx), body))
}

async fn render_new(p: &Page, f: &Fields, errors: &[FieldError]) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let places = store::places(db, &p.actor).await?;
    if places.is_empty() {
        return Err(Error::Forbidden);
    }
    let firms = store::firms(db, sid).await?;
    let mut auditors = Vec::new();
    for (fid, fname) in &firms {
        for a in store::firm_auditors(db, sid, *fid).await? {
            auditors.push((fname.clone(), a));
        }
    }
    let checked = |k: &str| !val(f, k).is_empty();
    let body = html! {
        (layout::crumbs(&[("/audits".into(), title(ctx).into()), (String::new(), ctx.t("新建", "New").into())]))
        h1 { (ctx.t("新建审计聘用", "New audit engagement")) }
        form.stack.card method="post" action="/audits" {
            (csrf(ctx))
            label { (ctx.t("审计机构", "Audit firm"))
                select name="firm_id" required {
                    option value="" { (ctx.t("请选择", "Choose")) }
                    @for (id, name) in &firms { option value=(id) selected[val(f, "firm_id") == id.to_string()] { (name) } }
                }
                (errors_for(ctx, errors, "firm_id"))
            }
            label { (ctx.t("审计类型", "Kind"))
                select name="kind" required {
                    @for k in KINDS { option value=(k.code()) selected[val(f, "kind") == k.code()] { (t(ctx, &k.label())) } }
                }
                (errors_for(ctx, errors, "kind"))
            }
            label { (ctx.t("标题(可不填)", "Title (optional)")) input type="text" name="title" value=(val(f, "title")); (errors_for(ctx, errors, "title")) }
            label { (ctx.t("审计的小区", "Estate audited"))
                select name="node_id" required {
                    @for n in &places { option value=(n.id) selected[val(f, "node_id") == n.id.to_string()] { @for _ in 1..n.depth { "— " } (n.name) } }
                }
                (errors_for(ctx, errors, "node_id"))
            }
            fieldset {
                legend { (ctx.t("审计账目", "Accounts audited")) }
                @for a in ACCOUNTS {
                    @let k = format!("acct_{}", a.code());
                    label { input type="checkbox" name=(k) value="on" checked[checked(&k)]; " " (t(ctx, &a.label())) }
                }
                (errors_for(ctx, errors, "accounts"))
            }
            label { (ctx.t("审计期间自", "Period from")) input type="date" name="period_from" value=(val(f, "period_from")) required; (errors_for(ctx, errors, "period_from")) }
            label { (ctx.t("审计期间至", "Period to")) input type="date" name="period_to" value=(val(f, "period_to")) required; (errors_for(ctx, errors, "period_to")) }
            label { (ctx.t("查阅开始日期", "Access from")) input type="date" name="starts_on" value=(val(f, "starts_on")) required; (errors_for(ctx, errors, "starts_on")) }
            label { (ctx.t("查阅结束日期(含)", "Access until (included)")) input type="date" name="ends_on" value=(val(f, "ends_on")) required; (errors_for(ctx, errors, "ends_on")) }
            fieldset {
                legend { (ctx.t("审计人员(须为所选机构的审计人员)", "Auditors (of the chosen firm)")) }
                @if auditors.is_empty() { p.muted { (ctx.t("尚无持审计人员角色的用户。", "No user holds the auditor role yet.")) } }
                @for (fname, a) in &auditors {
                    @let k = format!("auditor_{}", a.user_id);
                    label { input type="checkbox" name=(k) value="on" checked[checked(&k)]; " " (a.name) " · " span.muted { (fname) } }
                }
                (errors_for(ctx, errors, "auditor_ids"))
            }
            label { (ctx.t("备注", "Note")) textarea name="note" rows="2" { (val(f, "note")) } (errors_for(ctx, errors, "note")) }
            button type="submit" { (ctx.t("聘用", "Engage")) }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("新建审计聘用", "New audit engagement"),
        body,
    ))
}

async fn new_page(p: Page) -> Result<Markup> {
    render_new(&p, &Fields::new(), &[]).await
}

async fn engage(p: Page, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let mut auditor_ids: Vec<i64> = f
        .iter()
        .filter(|(k, v)| k.starts_with("auditor_") && !v.is_empty())
        .filter_map(|(k, _)| k["auditor_".len()..].parse().ok())
        .collect();
    auditor_ids.sort_unstable();
    let n = NewEngagement {
        firm_id: opt_id(&f, "firm_id", &mut errors),
        kind: val(&f, "kind").into(),
        title: val(&f, "title").into(),
        node_id: opt_id(&f, "node_id", &mut errors),
        accounts: ACCOUNTS
            .iter()
            .filter(|a| !val(&f, &format!("acct_{}", a.code())).is_empty())
            .map(|a| a.code().to_string())
            .collect(),
        period_from: val(&f, "period_from").into(),
        period_to: val(&f, "period_to").into(),
        starts_on: val(&f, "starts_on").into(),
        ends_on: val(&f, "ends_on").into(),
        auditor_ids,
        note: val(&f, "note").into(),
    };
    let r = if errors.is_empty() {
        store::engage(&p.ctx.state.db, &p.actor, n, now()).await
    } else {
        Err(Error::Invalid(errors))
    };
    match r {
        Ok(e) => Ok(Redirect::to(&format!("/audits/{}", e.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_new(&p, &f, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- one engagement

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
    let (e, s, findings) = store::show(db, &p.actor, id, now()).await?;
    let empty = Fields::new();
    let failed_for = |form: &str, target: i64| -> (&Fields, &[FieldError]) {
        match failed {
            Some(x) if x.form == form && x.target == target => (x.fields, x.errors),
            _ => (&empty, &[]),
        }
    };
    let reads_scope = s.staff || s.auditing;
    let body = html! {
        (layout::crumbs(&[("/audits".into(), title(ctx).into()), (String::new(), e.title.clone())]))
        h1 { (e.title) " " span.tag { (t(ctx, &e.status.label())) } }
        dl.facts {
            dt { (ctx.t("审计机构", "Audit firm")) } dd { (e.firm_name) }
            dt { (ctx.t("类型", "Kind")) } dd { (t(ctx, &e.kind.label())) }
            dt { (ctx.t("审计范围", "Estate")) } dd { (e.node_name) }
            dt { (ctx.t("账目", "Accounts")) } dd { (accounts_text(ctx, &e.accounts)) }
            dt { (ctx.t("审计期间", "Period")) } dd { (e.period_from) " – " (e.period_to) }
            dt { (ctx.t("查阅期限", "Access")) } dd { (e.starts_on) " – " (e.ends_on) " " span.muted { (ctx.t("(含首尾两日)", "(both days included)")) } }
            dt { (ctx.t("审计人员", "Auditors")) } dd { @for (i, a) in e.auditors.iter().enumerate() { @if i > 0 { "、" } (a.name) } }
            @if !e.note.is_empty() { dt { (ctx.t("备注", "Note")) } dd { (e.note) } }
        }
        @if reads_scope {
            nav.shortcuts {
                @if e.accounts.contains(&Account::MaintenanceFund) {
                    a.button.secondary href={ "/audits/" (e.id) "/fund" } { (ctx.t("查阅维修资金", "Maintenance fund in scope")) }
                }
                @if e.accounts.contains(&Account::PublicIncome) {
                    a.button.secondary href={ "/audits/" (e.id) "/income" } { (ctx.t("查阅公共收益", "Public income in scope")) }
                }
            }
        }
        h2 { (ctx.t("审计发现", "Findings")) }
        @if findings.is_empty() { p.muted { (ctx.t("暂无审计发现。", "No findings yet.")) } }
        @for x in &findings {
            article.card {
                p {
                    span.tag { (t(ctx, &x.severity.label())) } " " strong { (x.title) } " " span.tag { (t(ctx, &x.status.label())) }
                }
                p.muted {
                    (t(ctx, &x.account.label()))
                    @if let (Some(b), Some(seq)) = (x.building_id, x.posting_seq) {
                        " · "
                        @if reads_scope { a href={ "/audits/" (e.id) "/fund/" (b) "#p" (seq) } { (ctx.t("记账 #", "posting #")) (seq) } } @else { (ctx.t("记账 #", "posting #")) (seq) }
                    }
                    " · " (x.created_by_name) " · " (format_local(x.created_at))
                }
                p { (x.detail) }
                @for r in &x.responses {
                    blockquote { p { strong { (t(ctx, &r.side.label())) " · " (r.user_name) } " " span.muted { (format_local(r.created_at)) } } p { (r.body) } }
                }
                @if !x.close_note.is_empty() { p.muted { (ctx.t("关闭说明:", "Closing note: ")) (x.close_note) } }
                @if s.responder.is_some() && x.status.takes_responses() {
                    @let (f, errors) = failed_for("respond", x.id);
                    form.stack method="post" action={ "/audits/" (e.id) "/findings/" (x.id) "/responses" } {
                        (csrf(ctx))
                        input type="hidden" name="version" value=(x.version);
                        label { (ctx.t("回应", "Response")) textarea name="body" rows="2" required { (val(f, "body")) } (errors_for(ctx, errors, "body")) }
                        button.secondary type="submit" { (ctx.t("提交回应", "Respond")) }
                    }
                }
                @if s.auditing && x.status.takes_responses() {
                    @let (f, errors) = failed_for("close", x.id);
                    form.stack method="post" action={ "/audits/" (e.id) "/findings/" (x.id) "/close" } {
                        (csrf(ctx))
                        input type="hidden" name="version" value=(x.version);
                        label { (ctx.t("关闭说明(可不填)", "Closing note (optional)")) input type="text" name="note" value=(val(f, "note")); (errors_for(ctx, errors, "note")) }
                        button.secondary type="submit" { (ctx.t("关闭此发现", "Close the finding")) }
                    }
                }
            }
        }
        @if s.auditing && !e.is_published() {
            @let (f, errors) = failed_for("finding", 0);
            h3 { (ctx.t("记录审计发现", "Record a finding")) }
            form.stack.card method="post" action={ "/audits/" (e.id) "/findings" } {
                (csrf(ctx))
                label { (ctx.t("标题", "Title")) input type="text" name="title" value=(val(f, "title")) required; (errors_for(ctx, errors, "title")) }
                label { (ctx.t("严重程度", "Severity"))
                    select name="severity" required {
                        @for x in SEVERITIES { option value=(x.code()) selected[val(f, "severity") == x.code()] { (t(ctx, &x.label())) } }
                    }
                    (errors_for(ctx, errors, "severity"))
                }
                label { (ctx.t("账目", "Account"))
                    select name="account" required {
                        @for a in &e.accounts { option value=(a.code()) selected[val(f, "account") == a.code()] { (t(ctx, &a.label())) } }
                    }
                    (errors_for(ctx, errors, "account"))
                }
                label { (ctx.t("涉及楼栋编号(可不填)", "Building id concerned (optional)")) input type="number" name="building_id" value=(val(f, "building_id")); (errors_for(ctx, errors, "building_id")) }
                label { (ctx.t("涉及记账序号(可不填)", "Posting number concerned (optional)")) input type="number" name="posting_seq" value=(val(f, "posting_seq")); (errors_for(ctx, errors, "posting_seq")) }
                label { (ctx.t("详细说明", "Detail")) textarea name="detail" rows="4" required { (val(f, "detail")) } (errors_for(ctx, errors, "detail")) }
                button type="submit" { (ctx.t("记录", "Record")) }
            }
        }
        h2 { (ctx.t("审计报告", "Report")) }
        @match &e.report {
            None => {
                p.muted { (ctx.t("报告尚未提交。", "No report yet.")) }
                @if s.auditing {
                    @let (f, errors) = failed_for("report", 0);
                    form.stack.card method="post" enctype="multipart/form-data" action={ "/audits/" (e.id) "/report?_csrf=" (ctx.csrf) } {
                        label { (ctx.t("报告摘要", "Summary")) textarea name="summary" rows="6" required { (val(f, "summary")) } (errors_for(ctx, errors, "summary")) }
                        label { (ctx.t("报告文件(可选,PDF、图片、Word、Excel,不超过 10 MB)", "Report file (optional; PDF, image, Word, Excel; at most 10 MB)"))
                            input type="file" name="file" accept="application/pdf,image/jpeg,image/png,image/webp,.docx,.xlsx,.pptx";
                            (errors_for(ctx, errors, "file"))
                        }
                        button type="submit" { (ctx.t("提交报告", "Submit the report")) }
                    }
                }
            }
            Some(r) => {
                p { a href={ "/audits/" (e.id) "/report" } { (ctx.t("查看报告", "Read the report")) } }
                @if let Some(on) = &r.published_on {
                    p.muted { (ctx.t("公示于 ", "Published on ")) (on) (ctx.t(",业主可查阅至 ", "; owners read it until ")) (r.public_until.clone().unwrap_or_default()) }
                } @else if s.staff {
                    form.inline-form method="post" action={ "/audits/" (e.id) "/report/publish" } {
                        (csrf(ctx))
                        button type="submit" { (ctx.t("公示报告(30 日)", "Publish the report (30 days)")) }
                    }
                }
            }
        }
    };
    Ok(layout::page(ctx, &e.title, body))
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
        Ok(_) => Ok(Redirect::to(&format!("/audits/{id}")).into_response()),
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

async fn add_finding(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let mut errors = Vec::new();
    let n = NewFinding {
        title: val(&f, "title").into(),
        detail: val(&f, "detail").into(),
        severity: val(&f, "severity").into(),
        account: val(&f, "account").into(),
        building_id: opt_id(&f, "building_id", &mut errors),
        posting_seq: opt_id(&f, "posting_seq", &mut errors),
    };
    let r = if errors.is_empty() {
        store::add_finding(&p.ctx.state.db, &p.actor, id, n, now()).await
    } else {
        Err(Error::Invalid(errors))
    };
    answer(&p, id, "finding", 0, &f, r).await
}

async fn respond(
    p: Page,
    Path((id, fid)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let n = NewResponse {
        body: val(&f, "body").into(),
        version: val(&f, "version").parse().ok(),
    };
    let r = store::respond(&p.ctx.state.db, &p.actor, id, fid, n, now()).await;
    answer(&p, id, "respond", fid, &f, r).await
}

async fn close(
    p: Page,
    Path((id, fid)): Path<(i64, i64)>,
    Form(f): Form<Fields>,
) -> Result<Response> {
    let c = CloseFinding {
        note: val(&f, "note").into(),
        version: val(&f, "version").parse().ok(),
    };
    let r = store::close_finding(&p.ctx.state.db, &p.actor, id, fid, c, now()).await;
    answer(&p, id, "close", fid, &f, r).await
}

async fn submit_report(
    p: Page,
    Path(id): Path<i64>,
    mut mp: axum::extract::Multipart,
) -> Result<Response> {
    let reject = |status, text: String| crate::web::errors::map_rejection(status, &text);
    let mut summary = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(reject(e.status(), e.body_text())),
        };
        match field.name() {
            Some("summary") => {
                summary = field
                    .text()
                    .await
                    .map_err(|e| reject(e.status(), e.body_text()))?;
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| reject(e.status(), e.body_text()))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let mut f = Fields::new();
    f.insert("summary".into(), summary.clone());
    let r = store::submit_report(
        &p.ctx.state.db,
        &p.actor,
        id,
        NewReport {
            summary,
            document: file,
        },
        now(),
    )
    .await;
    answer(&p, id, "report", 0, &f, r).await
}

async fn publish(p: Page, Path(id): Path<i64>, Form(f): Form<Fields>) -> Result<Response> {
    let r = store::publish_report(&p.ctx.state.db, &p.actor, id, now()).await;
    answer(&p, id, "publish", 0, &f, r).await
}

// ---------------------------------------------------------------- the scoped views

async fn fund(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (e, buildings) = store::fund_overview(&ctx.state.db, &p.actor, id, now()).await?;
    let body = html! {
        (layout::crumbs(&[("/audits".into(), title(ctx).into()), (format!("/audits/{}", e.id), e.title.clone()), (String::new(), ctx.t("维修资金", "Maintenance fund").into())]))
        h1 { (ctx.t("专项维修资金(审计范围)", "Maintenance fund in scope")) }
        p.muted { (e.node_name) " · " (ctx.t("审计期间", "period")) " " (e.period_from) " – " (e.period_to) " · " (ctx.t("只读", "read-only")) }
        @if buildings.is_empty() { p.notice { (ctx.t("范围内没有楼栋。", "No building in scope.")) } }
        div.table-wrap { table {
            thead { tr {
                th { (ctx.t("楼栋", "Building")) }
                th { (ctx.t("期初余额", "Opening")) }
                th { (ctx.t("期内收入", "In")) }
                th { (ctx.t("期内支出", "Out")) }
                th { (ctx.t("期末余额", "Closing")) }
                th { (ctx.t("笔数", "Postings")) }
            } }
            tbody { @for b in &buildings { tr {
                td { a href={ "/audits/" (e.id) "/fund/" (b.building_id) } { (b.building_name) } }
                td { (yuan(b.opening)) } td { (yuan(b.deposits)) } td { (yuan(b.withdrawals)) } td { (yuan(b.closing)) }
                td { (b.postings_in_period) }
            } } }
        } }
    };
    Ok(layout::page(
        ctx,
        ctx.t("维修资金(审计)", "Maintenance fund (audit)"),
        body,
    ))
}

async fn fund_building(p: Page, Path((id, building_id)): Path<(i64, i64)>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (e, f) = store::fund_building(&ctx.state.db, &p.actor, id, building_id, now()).await?;
    let b = &f.summary;
    let body = html! {
        (layout::crumbs(&[("/audits".into(), title(ctx).into()), (format!("/audits/{}", e.id), e.title.clone()),
            (format!("/audits/{}/fund", e.id), ctx.t("维修资金", "Maintenance fund").into()), (String::new(), b.building_name.clone())]))
        h1 { (b.building_name) }
        p.muted { (ctx.t("审计期间", "Period")) " " (e.period_from) " – " (e.period_to) " · " (ctx.t("只读", "read-only")) }
        dl.facts {
            dt { (ctx.t("期初余额", "Opening balance")) } dd { (yuan(b.opening)) }
            dt { (ctx.t("期末余额", "Closing balance")) } dd { (yuan(b.closing)) }
            dt { (ctx.t("期内收入", "In")) } dd { (yuan(b.deposits)) }
            dt { (ctx.t("期内支出", "Out")) } dd { (yuan(b.withdrawals)) }
        }
        h2 { (ctx.t("期内记账", "Postings in the period")) }
        @if f.postings.is_empty() { p.muted { (ctx.t("期内没有记账。", "No posting in the period.")) } }
        div.table-wrap { table {
            thead { tr { th { "#" } th { (ctx.t("记账日期", "Value date")) } th { (ctx.t("类型", "Kind")) } th { (ctx.t("金额", "Amount")) } th { (ctx.t("分户", "Rooms")) } th { (ctx.t("摘要", "Memo")) } } }
            tbody { @for x in &f.postings { tr id={ "p" (x.seq) } {
                td { (x.seq) } td { (x.value_date) } td { (ctx.t(&x.kind_zh, &x.kind_en)) } td { (yuan(x.amount)) } td { (x.lines.len()) }
                td { (x.memo) @if let Some(r) = x.reverses { " " span.muted { (ctx.t("冲正 #", "reverses #")) (r) } } }
            } } }
        } }
        h2 { (ctx.t("分户账(审计期间)", "Room accounts over the period")) }
        div.table-wrap { table {
            thead { tr { th { (ctx.t("房屋", "Room")) } th { (ctx.t("期初", "Opening")) } th { (ctx.t("期内变动", "Movement")) } th { (ctx.t("期末", "Closing")) } } }
            tbody { @for r in &f.rooms { tr { td { (r.label) } td { (yuan(r.opening)) } td { (yuan(r.movement)) } td { (yuan(r.closing)) } } } }
        } }
    };
    Ok(layout::page(ctx, &b.building_name, body))
}

async fn income(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (e, accounts) = store::income(&ctx.state.db, &p.actor, id, now()).await?;
    let body = html! {
        (layout::crumbs(&[("/audits".into(), title(ctx).into()), (format!("/audits/{}", e.id), e.title.clone()), (String::new(), ctx.t("公共收益", "Public income").into())]))
        h1 { (ctx.t("公共收益(审计范围)", "Public income in scope")) }
        p.muted { (e.node_name) " · " (ctx.t("审计期间", "period")) " " (e.period_from) " – " (e.period_to) " · " (ctx.t("只读", "read-only")) }
        @if accounts.is_empty() { p.notice { (ctx.t("范围内没有公共收益账户。", "No public income account in scope.")) } }
        @for a in &accounts {
            h2 { (a.estate_name) }
            dl.facts {
                dt { (ctx.t("期初余额", "Opening balance")) } dd { (yuan(a.opening)) }
                dt { (ctx.t("期末余额", "Closing balance")) } dd { (yuan(a.closing)) }
            }
            @if a.entries.is_empty() { p.muted { (ctx.t("期内没有记账。", "No entry in the period.")) } }
            div.table-wrap { table {
                thead { tr { th { "#" } th { (ctx.t("记账日期", "Value date")) } th { (ctx.t("类型", "Kind")) } th { (ctx.t("金额", "Amount")) } th { (ctx.t("对方", "Counterparty")) } th { (ctx.t("摘要", "Note")) } } }
                tbody { @for x in &a.entries { tr {
                    td { (x.seq) } td { (x.value_date) } td { (t(ctx, &x.kind.label())) } td { (yuan(x.effect)) } td { (x.counterparty) } td { (x.note) }
                } } }
            } }
        }
    };
    Ok(layout::page(
        ctx,
        ctx.t("公共收益(审计)", "Public income (audit)"),
        body,
    ))
}

// ---------------------------------------------------------------- the report

async fn report_page(p: Page, Path(id): Path<i64>) -> Result<Markup> {
    let ctx = &p.ctx;
    let (e, r) = store::report(&ctx.state.db, &p.actor, id, now()).await?;
    let body = html! {
        h1 { (e.title) }
        p.muted { (e.firm_name) " · " (e.node_name) " · " (t(ctx, &e.kind.label())) }
        p.muted { (ctx.t("审计账目:", "Accounts: ")) (accounts_text(ctx, &e.accounts)) " · " (ctx.t("审计期间 ", "period ")) (e.period_from) " – " (e.period_to) }
        @if let (Some(on), Some(until)) = (&r.published_on, &r.public_until) {
            p.notice { (ctx.t("公示日期 ", "Published ")) (on) (ctx.t(",公示至 ", ", shown until ")) (until) }
        } @else {
            p.notice { (ctx.t("报告尚未公示。", "The report is not published yet.")) }
        }
        article.card { @for para in r.summary.split("\n\n") { p { (para) } } }
        @if r.doc_size > 0 {
            p { a.button href={ "/audits/" (e.id) "/report/document" } { (ctx.t("下载报告文件", "Download the report")) " · " (r.doc_name) } }
        }
    };
    Ok(layout::page(ctx, &e.title, body))
}

async fn document(p: Page, Path(id): Path<i64>) -> Result<Response> {
    let (r, bytes) = store::report_document(&p.ctx.state.db, &p.actor, id, now()).await?;
    Ok(document_response(id, &r, bytes))
}
