//! The audit log browser: newest first, filtered by a GET form, paged with `before`.
//! Subdistrict admins only; one card per entry so it reads on a phone.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::api::{page, require_reader, RawFilter};
use super::store::Entry;
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::web::layout;
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit_page))
}

/// A readable name for the actions the product records; others show their code.
fn action_label(action: &str) -> Option<Text> {
    Some(match action {
        "user.create" => Text::new("新建用户", "user created"),
        "user.password" => Text::new("设置密码", "password set"),
        "role.grant" => Text::new("授予角色", "role granted"),
        "role.revoke" => Text::new("撤销角色", "role revoked"),
        "auth.login" => Text::new("登录", "logged in"),
        "auth.login_failed" => Text::new("登录失败", "login failed"),
        "token.create" => Text::new("新建令牌", "token created"),
        "token.revoke" => Text::new("吊销令牌", "token revoked"),
        "node.create" => Text::new("新建节点", "node created"),
        "room.create" => Text::new("新建房屋", "room created"),
        "pii.reveal" => Text::new("查看敏感信息", "personal data opened"),
        "audit_engagement.create" => Text::new("新建审计聘用", "audit engaged"),
        "audit_engagement.read" => Text::new("审计人员查阅", "auditor read"),
        "audit_finding.create" => Text::new("审计发现", "audit finding"),
        "audit_finding.respond" => Text::new("回应审计发现", "finding answered"),
        "audit_finding.close" => Text::new("关闭审计发现", "finding closed"),
        "audit_report.submit" => Text::new("提交审计报告", "audit report submitted"),
        "audit_report.publish" => Text::new("公示审计报告", "audit report published"),
        _ => return None,
    })
}

/// Where a subject's own page is, for the kinds that have one.
fn subject_href(e: &Entry) -> Option<String> {
    let id = e.subject_id?;
    let base = match e.subject_type.as_str() {
        "user" => "/admin/users/",
        "node" => "/tree/",
        "room" => "/rooms/",
        "person" => "/people/",
        _ => return None,
    };
    Some(format!("{base}{id}"))
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn field_errors(ctx: &Ctx, errors: &[FieldError], field: &str) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| e.field == field) {
            span.error role="alert" { (ctx.text(&e.message)) }
        }
    }
}

fn filter_form(ctx: &Ctx, raw: &RawFilter, errors: &[FieldError]) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    html! {
        form.card.stack method="get" action="/audit" {
            label { (ctx.t("操作人(用户名)", "Actor (user name)"))
                input type="text" name="actor" value=(v(&raw.actor)) autocapitalize="none";
                (field_errors(ctx, errors, "actor"))
            }
            label { (ctx.t("操作(开头匹配,如 role.)", "Action (prefix, e.g. role.)"))
                input type="text" name="action" value=(v(&raw.action)) autocapitalize="none";
                (field_errors(ctx, errors, "action"))
            }
            label { (ctx.t("对象类型(如 user、node、person)", "Subject type (e.g. user, node, person)"))
                input type="text" name="subject_type" value=(v(&raw.subject_type)) autocapitalize="none";
                (field_errors(ctx, errors, "subject_type"))
            }
            label { (ctx.t("对象编号", "Subject id"))
                input type="text" name="subject_id" value=(v(&raw.subject_id)) inputmode="numeric";
                (field_errors(ctx, errors, "subject_id"))
            }
            label { (ctx.t("开始日期(上海时间)", "From (Shanghai date)"))
                input type="date" name="from" value=(v(&raw.from)) placeholder="YYYY-MM-DD";
                (field_errors(ctx, errors, "from"))
            }
            label { (ctx.t("截止日期(含当天)", "To (inclusive)"))
                input type="date" name="to" value=(v(&raw.to)) placeholder="YYYY-MM-DD";
                (field_errors(ctx, errors, "to"))
            }
            @for f in ["before", "limit"] { (field_errors(ctx, errors, f)) }
            div.inline-form {
                button type="submit" { (ctx.t("筛选", "Filter")) }
                a href="/audit" { (ctx.t("清除筛选", "Clear filters")) }
            }
        }
    }
}

fn entry_card(ctx: &Ctx, e: &Entry) -> Markup {
    let subject = if e.subject_label.is_empty() {
        e.subject_id.map(|i| format!("#{i}")).unwrap_or_default()
    } else {
        e.subject_label.clone()
    };
    html! {
        article.card.audit-entry {
            div {
                strong { (e.at_local) }
                " · "
                a href={ "/audit?actor=" (url::form_urlencoded::byte_serialize(e.actor.as_bytes()).collect::<String>()) } { (e.actor) }
            }
            div {
                @if let Some(l) = action_label(&e.action) { (ctx.text(&l)) " " }
                code { (e.action) }
            }
            div {
                span.tag { (e.subject_type) } " "
                @match subject_href(e) {
                    Some(href) => a href=(href) { (subject) },
                    None => (subject),
                }
                @if let (Some(id), false) = (e.subject_id, e.subject_label.is_empty()) {
                    " " span.muted { "#" (id) }
                }
            }
            @if let Some(r) = &e.reason {
                div { (ctx.t("理由:", "Reason: ")) (r) }
            }
            @if e.before.is_some() || e.after.is_some() {
                details {
                    summary { (ctx.t("变更前后", "Before and after")) }
                    @if let Some(b) = &e.before {
                        div { (ctx.t("变更前", "Before")) }
                        div.table-wrap { pre { (pretty(b)) } }
                    }
                    @if let Some(a) = &e.after {
                        div { (ctx.t("变更后", "After")) }
                        div.table-wrap { pre { (pretty(a)) } }
                    }
                }
            }
        }
    }
}

async fn audit_page(p: Page, Query(raw): Query<RawFilter>) -> Result<Response> {
    require_reader(&p.actor)?;
    let ctx = &p.ctx;
    let title = ctx.t("审计日志", "Audit log");
    let filter = match raw.parse() {
        Ok(f) => f,
        Err(Error::Invalid(errors)) => {
            let body = html! {
                h1 { (title) }
                (filter_form(ctx, &raw, &errors))
            };
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                layout::page(ctx, title, body),
            )
                .into_response());
        }
        Err(e) => return Err(e),
    };
    let (entries, next) = page(&ctx.state.db, p.actor.subdistrict_id, &filter).await?;
    let base = raw.query_without_before();
    let sep = if base.is_empty() { "" } else { "&" };
    let body = html! {
        h1 { (title) }
        details open[!base.is_empty()] {
            summary { (ctx.t("筛选条件", "Filters")) }
            (filter_form(ctx, &raw, &[]))
        }
        @if entries.is_empty() {
            p.muted { (ctx.t("没有符合条件的记录。", "No entry matches.")) }
        }
        @for e in &entries { (entry_card(ctx, e)) }
        @if filter.before.is_some() || next.is_some() { p.inline-form {
            @if filter.before.is_some() {
                a href={ "/audit" @if !base.is_empty() { "?" (base) } } { (ctx.t("最新记录", "Newest")) }
            }
            @if let Some(b) = next {
                a.button href={ "/audit?" (base) (sep) "before=" (b) } { (ctx.t("更早的记录", "Older")) }
            }
        } }
    };
    Ok(layout::page(ctx, title, body).into_response())
}
