//! Notification pages.
//!
//! - `GET /inbox?unread=1&page=`: the user's notices, newest first, unread ones marked;
//!   `POST /inbox/{id}/read` (with `open=1`: then go to the notice's link),
//!   `POST /inbox/read-all`; `GET /inbox/badge.svg`, the unread count the page shell shows
//!   (an image, so the shell needs no database and the count needs no JavaScript).
//! - `GET|POST /admin/webhooks`, `GET|POST /admin/webhooks/{id}`: subdistrict admins add,
//!   change and disable group-chat robots; `POST /admin/webhooks/{id}/test` queues a test
//!   message; the outbox below shows pending and failed deliveries with their attempts and
//!   last error, and `POST /admin/outbox/{id}/retry` sends one again.

use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use sqlx::Row;

use super::api::parse_id;
use super::formats::{Format, ALL_FORMATS};
use super::store::{self, Delivery, KindsInput, Webhook, WebhookInput};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Lang;
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

/// Notices on one page of the inbox.
pub const PER_PAGE: i64 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox_page))
        .route("/inbox/badge.svg", get(badge))
        .route("/inbox/read-all", post(read_all))
        .route("/inbox/{id}/read", post(read_one))
        .route("/admin/webhooks", get(admin_page).post(admin_create))
        .route("/admin/webhooks/{id}", get(edit_page).post(edit_save))
        .route("/admin/webhooks/{id}/test", post(test))
        .route("/admin/outbox/{id}/retry", post(retry))
}

// ---------------------------------------------------------------------------------------
// The inbox
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct InboxQ {
    #[serde(default)]
    unread: Option<String>,
    page: Option<i64>,
}

/// A link to a site path only (a notice never sends people off-site).
fn safe_link(link: &str) -> Option<&str> {
    (link.starts_with('/') && !link.starts_with("//")).then_some(link)
}

async fn inbox_page(p: Page, Query(q): Query<InboxQ>) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let unread_only = q
        .unread
        .as_deref()
        .is_some_and(|v| !v.is_empty() && v != "0");
    let page = q.page.unwrap_or(0).clamp(0, 10_000);
    let mut items = store::inbox(
        db,
        sid,
        p.actor.user_id,
        unread_only,
        PER_PAGE + 1,
        page * PER_PAGE,
    )
    .await?;
    let more = items.len() as i64 > PER_PAGE;
    items.truncate(PER_PAGE as usize);
    let unread = store::unread_count(db, sid, p.actor.user_id).await?;
    let pick = |zh: &str, en: &str| -> String {
        match ctx.lang {
            Lang::Zh => zh.to_string(),
            Lang::En => en.to_string(),
        }
    };
    let link = |page: i64| {
        if unread_only {
            format!("/inbox?unread=1&page={page}")
        } else {
            format!("/inbox?page={page}")
        }
    };
    let is_admin = store::require_admin(&p.actor).is_ok();
    let body = html! {
        @if is_admin { p.actions { a href="/admin/webhooks" { (ctx.t("群机器人与投递", "Group robots & deliveries")) } } }
        h1 { (ctx.t("通知", "Inbox")) }
        p.muted role="status" {
            @if unread > 0 { (unread) " " (ctx.t("条未读", "unread")) } @else { (ctx.t("没有未读通知。", "Nothing unread.")) }
        }
        div.inline {
            @if unread_only {
                a href="/inbox" { (ctx.t("显示全部", "Show all")) }
            } @else {
                a href="/inbox?unread=1" { (ctx.t("只看未读", "Unread only")) }
            }
            @if unread > 0 {
                form.inline method="post" action="/inbox/read-all" {
                    (csrf(ctx))
                    button.secondary type="submit" { (ctx.t("全部标为已读", "Mark all read")) }
                }
            }
        }
        @if items.is_empty() {
            p.notice { (ctx.t("暂无通知。", "No notices.")) }
        } @else {
            ul.list.inbox {
                @for n in &items {
                    li.unread[n.read_at.is_none()] {
                        div {
                            @if n.read_at.is_none() { span.tag { (ctx.t("未读", "Unread")) } " " }
                            @if let Some(href) = safe_link(&n.link) {
                                a href=(href) { strong { (pick(&n.title_zh, &n.title_en)) } }
                            } @else {
                                strong { (pick(&n.title_zh, &n.title_en)) }
                            }
                            br;
                            span { (pick(&n.body_zh, &n.body_en)) }
                            br;
                            span.muted { (crate::clock::format_local(n.created_at)) }
                        }
                        @if n.read_at.is_none() {
                            div {
                                @if safe_link(&n.link).is_some() {
                                    form.inline method="post" action={ "/inbox/" (n.id) "/read" } {
                                        (csrf(ctx))
                                        input type="hidden" name="open" value="1";
                                        button type="submit" { (ctx.t("查看", "Open")) }
                                    }
                                }
                                form.inline method="post" action={ "/inbox/" (n.id) "/read" } {
                                    (csrf(ctx))
                                    button.secondary type="submit" { (ctx.t("标为已读", "Mark read")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.pager {
            @if page > 0 { a href=(link(page - 1)) { "‹ " (ctx.t("上一页", "Previous")) } " " }
            @if more { a href=(link(page + 1)) { (ctx.t("下一页", "Next")) " ›" } }
        }
    };
    Ok(layout::page(ctx, ctx.t("通知", "Inbox"), body))
}

#[derive(Deserialize, Default)]
struct ReadForm {
    #[serde(default)]
    open: String,
}

async fn read_one(p: Page, Path(id): Path<String>, Form(f): Form<ReadForm>) -> Result<Response> {
    let id = parse_id(&id)?;
    let db = &p.ctx.state.db;
    let sid = p.actor.subdistrict_id;
    store::mark_read(db, sid, p.actor.user_id, id, crate::clock::now_ms()).await?;
    if f.open == "1" {
        let row = sqlx::query(
            "SELECT link FROM inbox WHERE subdistrict_id = $1 AND id = $2 AND user_id = $3",
        )
        .bind(sid)
        .bind(id)
        .bind(p.actor.user_id)
        .fetch_optional(db.read())
        .await?;
        if let Some(link) = row.map(|r| r.get::<String, _>(0)) {
            if let Some(href) = safe_link(&link) {
                return Ok(Redirect::to(href).into_response());
            }
        }
    }
    Ok(Redirect::to("/inbox").into_response())
}

async fn read_all(p: Page) -> Result<Response> {
    store::mark_all_read(
        &p.ctx.state.db,
        p.actor.subdistrict_id,
        p.actor.user_id,
        crate::clock::now_ms(),
    )
    .await?;
    Ok(Redirect::to("/inbox").into_response())
}

/// The badge as SVG: nothing (zero width) when all is read.
pub fn badge_svg(unread: i64) -> String {
    if unread <= 0 {
        return r#"<svg xmlns="http://www.w3.org/2000/svg" width="0" height="16" viewBox="0 0 0 16"></svg>"#.to_string();
    }
    let label = if unread > 99 {
        "99+".to_string()
    } else {
        unread.to_string()
    };
    let w = 10 + 6 * label.len();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="16" viewBox="0 0 {w} 16"><rect width="{w}" height="16" rx="8" fill="#c62828"/><text x="{}" y="12" font-size="11" font-family="sans-serif" font-weight="bold" text-anchor="middle" fill="#ffffff">{label}</text></svg>"##,
        w / 2
    )
}

async fn badge(ctx: Ctx) -> Result<Response> {
    let unread = match &ctx.actor {
        Some(a) => store::unread_count(&ctx.state.db, a.subdistrict_id, a.user_id).await?,
        None => 0,
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        badge_svg(unread),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Webhooks and the outbox (admins)
// ---------------------------------------------------------------------------------------

/// What the webhook form posts.
#[derive(Deserialize, Default, Clone)]
struct WebhookForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    clear_secret: Option<String>,
    /// `node:ID` or `org:ID`.
    #[serde(default)]
    unit: String,
    #[serde(default)]
    kinds: String,
    #[serde(default)]
    enabled: Option<String>,
}

impl WebhookForm {
    fn input(&self) -> std::result::Result<WebhookInput, FieldError> {
        let (node_id, org_id) = match self.unit.split_once(':') {
            Some(("node", id)) => (Some(id.parse::<i64>().map_err(|_| bad_unit())?), None),
            Some(("org", id)) => (None, Some(id.parse::<i64>().map_err(|_| bad_unit())?)),
            _ if self.unit.is_empty() => (None, None),
            _ => return Err(bad_unit()),
        };
        Ok(WebhookInput {
            name: Some(self.name.clone()),
            format: Some(self.format.clone()),
            url: Some(self.url.clone()),
            secret: Some(self.secret.clone()),
            clear_secret: self.clear_secret.is_some(),
            node_id,
            org_id,
            kinds: Some(KindsInput::Text(self.kinds.clone())),
            enabled: Some(self.enabled.is_some()),
        })
    }

    fn of(w: &Webhook) -> WebhookForm {
        WebhookForm {
            name: w.name.clone(),
            format: w.format.code().to_string(),
            url: String::new(),
            secret: String::new(),
            clear_secret: None,
            unit: match (w.node_id, w.org_id) {
                (Some(n), _) => format!("node:{n}"),
                (_, Some(o)) => format!("org:{o}"),
                _ => String::new(),
            },
            kinds: w.kinds.join(", "),
            enabled: w.enabled.then(|| "on".to_string()),
        }
    }
}

fn bad_unit() -> FieldError {
    FieldError::new(
        "unit",
        crate::i18n::Text::new("请选择节点或组织", "choose a node or an organisation"),
    )
}

fn errors_for(ctx: &Ctx, errors: &[FieldError], fields: &[&str]) -> Markup {
    html! { @for e in errors.iter().filter(|e| fields.contains(&e.field.as_str())) { span.error { (ctx.text(&e.message)) } } }
}

/// The places a webhook may listen to: the upper levels of the tree (and the one already
/// chosen), and the organisations.
async fn unit_choices(
    ctx: &Ctx,
    sid: i64,
    current: Option<&Webhook>,
) -> Result<Vec<(String, String)>> {
    let db = &ctx.state.db;
    let rows = sqlx::query(
        "SELECT id, name, depth FROM nodes WHERE subdistrict_id = $1 AND (depth <= 2 OR id = $2) ORDER BY path LIMIT 500",
    )
    .bind(sid)
    .bind(current.and_then(|w| w.node_id).unwrap_or(0))
    .fetch_all(db.read())
    .await?;
    let mut out: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            let depth: i64 = r.get("depth");
            let indent = "— ".repeat(depth.clamp(0, 6) as usize);
            (
                format!("node:{}", r.get::<i64, _>("id")),
                format!("{indent}{}", r.get::<String, _>("name")),
            )
        })
        .collect();
    let orgs = sqlx::query(
        "SELECT id, name FROM orgs WHERE subdistrict_id = $1 ORDER BY kind, name LIMIT 300",
    )
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    for r in &orgs {
        out.push((
            format!("org:{}", r.get::<i64, _>("id")),
            format!(
                "{}{}",
                ctx.t("组织:", "Organisation: "),
                r.get::<String, _>("name")
            ),
        ));
    }
    Ok(out)
}

fn webhook_form(
    ctx: &Ctx,
    action: &str,
    f: &WebhookForm,
    existing: Option<&Webhook>,
    choices: &[(String, String)],
    errors: &[FieldError],
) -> Markup {
    html! {
        form.stack.card method="post" action=(action) {
            (csrf(ctx))
            label { (ctx.t("名称", "Name"))
                input type="text" name="name" value=(f.name) maxlength="60" required;
                (errors_for(ctx, errors, &["name"]))
            }
            label { (ctx.t("类型", "Kind of robot"))
                select name="format" {
                    @for fm in ALL_FORMATS {
                        option value=(fm.code()) selected[f.format == fm.code()] { (ctx.text(&fm.label())) }
                    }
                }
                (errors_for(ctx, errors, &["format"]))
            }
            label { (ctx.t("Webhook 地址", "Webhook URL"))
                input type="url" name="url" value=(f.url) inputmode="url" placeholder="https://" required[existing.is_none()];
                @if let Some(w) = existing {
                    span.muted { (ctx.t("当前:", "Now: ")) (super::formats::mask_url(&w.url)) " · " (ctx.t("留空则不变", "leave blank to keep")) }
                }
                (errors_for(ctx, errors, &["url"]))
            }
            label { (ctx.t("加签密钥(钉钉、飞书、通用;可选)", "Signing secret (DingTalk, Feishu, generic; optional)"))
                input type="password" name="secret" value="" autocomplete="off";
                @if let Some(s) = existing.and_then(|w| w.secret.as_deref()) {
                    span.muted { (ctx.t("已设置:", "Set: ")) (super::formats::mask_secret(s)) " · " (ctx.t("留空则不变", "leave blank to keep")) }
                }
                (errors_for(ctx, errors, &["secret"]))
            }
            @if existing.is_some_and(|w| w.secret.is_some()) {
                label { input type="checkbox" name="clear_secret" value="1"; " " (ctx.t("清除密钥", "Remove the secret")) }
            }
            label { (ctx.t("订阅范围(节点及其下级,或一个组织)", "Listens to (a node and everything under it, or an organisation)"))
                select name="unit" {
                    @for (v, l) in choices { option value=(v) selected[f.unit == *v] { (l) } }
                }
                (errors_for(ctx, errors, &["unit", "node_id", "org_id"]))
            }
            label { (ctx.t("通知类型(逗号分隔,留空为全部,可用 case.* 形式)", "Notice kinds (comma-separated; blank = all; case.* works)"))
                input type="text" name="kinds" value=(f.kinds) placeholder="case.dispatched, case.overdue";
                (errors_for(ctx, errors, &["kinds"]))
            }
            label { input type="checkbox" name="enabled" value="on" checked[f.enabled.is_some()]; " " (ctx.t("启用", "Enabled")) }
            div { button type="submit" { (ctx.t("保存", "Save")) } }
        }
    }
}

fn state_label(ctx: &Ctx, s: &str) -> String {
    match s {
        store::PENDING => ctx.t("待发送", "pending").to_string(),
        store::DELIVERED => ctx.t("已送达", "delivered").to_string(),
        store::FAILED => ctx.t("失败", "failed").to_string(),
        other => other.to_string(),
    }
}

fn deliveries_table(ctx: &Ctx, list: &[Delivery]) -> Markup {
    html! {
        @if list.is_empty() {
            p.muted { (ctx.t("没有记录。", "Nothing here.")) }
        } @else {
            div.table-wrap { table.outbox {
                tr {
                    th { (ctx.t("机器人", "Robot")) } th { (ctx.t("消息", "Message")) } th { (ctx.t("状态", "State")) }
                    th { (ctx.t("尝试次数", "Attempts")) } th { (ctx.t("最近结果", "Last result")) } th { (ctx.t("时间", "Times")) } th {}
                }
                @for d in list {
                    tr.failed[d.state == store::FAILED] {
                        td { (d.webhook_name) }
                        td { (d.title) br; span.muted { (d.kind) } }
                        td { span.tag { (state_label(ctx, &d.state)) } }
                        td { (d.attempts) }
                        td {
                            @if let Some(s) = d.last_status { "HTTP " (s) br; }
                            @if let Some(e) = &d.last_error { span.error { (e) } }
                        }
                        td.muted {
                            (ctx.t("创建 ", "created ")) (crate::clock::format_local(d.created_at))
                            @if let Some(at) = d.delivered_at { br; (ctx.t("送达 ", "delivered ")) (crate::clock::format_local(at)) }
                            @else if d.state == store::PENDING { br; (ctx.t("下次 ", "next ")) (crate::clock::format_local(d.next_attempt_at)) }
                        }
                        td {
                            @if d.state != store::DELIVERED {
                                form.inline method="post" action={ "/admin/outbox/" (d.id) "/retry" } {
                                    (csrf(ctx))
                                    button type="submit" { @if d.state == store::FAILED { (ctx.t("重试", "Retry")) } @else { (ctx.t("立即发送", "Send now")) } }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

#[derive(Deserialize, Default)]
struct AdminQ {
    #[serde(default)]
    state: String,
    saved: Option<String>,
    tested: Option<String>,
    retried: Option<String>,
}

async fn render_admin(
    ctx: &Ctx,
    p: &Page,
    q: &AdminQ,
    form: &WebhookForm,
    errors: &[FieldError],
) -> Result<Markup> {
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let hooks = store::webhooks(db, sid).await?;
    let choices = unit_choices(ctx, sid, None).await?;
    let counts = store::state_counts(db, sid).await?;
    let shown = q.state.trim();
    let list = match shown {
        "" => {
            let mut l = store::deliveries(db, sid, store::FAILED, None, 100, 0).await?;
            l.extend(store::deliveries(db, sid, store::PENDING, None, 100, 0).await?);
            l
        }
        "all" => store::deliveries(db, sid, "", None, 100, 0).await?,
        s if store::STATES.contains(&s) => store::deliveries(db, sid, s, None, 100, 0).await?,
        _ => Vec::new(),
    };
    let count = |s: &str| {
        counts
            .iter()
            .find(|(k, _)| k == s)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let body = html! {
        h1 { (ctx.t("群机器人", "Group-chat robots")) }
        p.muted { (ctx.t("事项派单、临期、超期等通知会推送到订阅了相应网格或单位的企业微信、钉钉、飞书群机器人。发送失败会自动重试,不会丢失。", "Dispatches, deadline warnings and overdue notices are pushed to the WeCom, DingTalk and Feishu group robots subscribed to the grid or unit. Failed deliveries are retried automatically and never dropped.")) }
        @if q.saved.is_some() { p.success role="status" { (ctx.t("已保存。", "Saved.")) } }
        @if q.tested.is_some() { p.success role="status" { (ctx.t("测试消息已排队,几秒内发出,结果见下方投递记录。", "The test message is queued and goes out within seconds; see the deliveries below.")) } }
        @if q.retried.is_some() { p.success role="status" { (ctx.t("已重新排队发送。", "Queued to be sent again.")) } }
        @if hooks.is_empty() {
            p.notice { (ctx.t("还没有群机器人。", "No robots yet.")) }
        } @else {
            div.table-wrap { table.webhooks {
                tr { th { (ctx.t("名称", "Name")) } th { (ctx.t("类型", "Kind")) } th { (ctx.t("订阅范围", "Listens to")) } th { (ctx.t("通知类型", "Kinds")) } th { (ctx.t("状态", "State")) } th {} }
                @for w in &hooks {
                    tr {
                        td { a href={ "/admin/webhooks/" (w.id) } { (w.name) } br; span.muted { (super::formats::mask_url(&w.url)) } }
                        td { (ctx.text(&w.format.label())) }
                        td { (w.unit_name) }
                        td { @if w.kinds.is_empty() { (ctx.t("全部", "all")) } @else { (w.kinds.join(", ")) } }
                        td { @if w.enabled { span.tag { (ctx.t("启用", "enabled")) } } @else { span.tag { (ctx.t("已停用", "disabled")) } } }
                        td {
                            a href={ "/admin/webhooks/" (w.id) } { (ctx.t("修改", "Edit")) }
                            @if w.enabled {
                                " "
                                form.inline method="post" action={ "/admin/webhooks/" (w.id) "/test" } {
                                    (csrf(ctx))
                                    button.secondary type="submit" { (ctx.t("发送测试消息", "Send a test message")) }
                                }
                            }
                        }
                    }
                }
            } }
        }
        h2 { (ctx.t("添加群机器人", "Add a robot")) }
        (webhook_form(ctx, "/admin/webhooks", form, None, &choices, errors))
        h2 id="outbox" { (ctx.t("投递记录", "Deliveries")) }
        p {
            (ctx.t("待发送", "Pending")) " " strong { (count(store::PENDING)) } " · "
            (ctx.t("失败", "Failed")) " " strong { (count(store::FAILED)) } " · "
            (ctx.t("已送达", "Delivered")) " " strong { (count(store::DELIVERED)) }
        }
        form.inline method="get" action="/admin/webhooks" {
            label { (ctx.t("显示", "Show")) " "
                select name="state" {
                    option value="" selected[shown.is_empty()] { (ctx.t("未送达(失败与待发送)", "Not delivered (failed and pending)")) }
                    option value="failed" selected[shown == "failed"] { (ctx.t("失败", "Failed")) }
                    option value="pending" selected[shown == "pending"] { (ctx.t("待发送", "Pending")) }
                    option value="delivered" selected[shown == "delivered"] { (ctx.t("已送达", "Delivered")) }
                    option value="all" selected[shown == "all"] { (ctx.t("全部", "All")) }
                }
            }
            " " button type="submit" { (ctx.t("筛选", "Filter")) }
        }
        (deliveries_table(ctx, &list))
    };
    Ok(layout::page(
        ctx,
        ctx.t("群机器人", "Group-chat robots"),
        body,
    ))
}

async fn admin_page(p: Page, Query(q): Query<AdminQ>) -> Result<Markup> {
    store::require_admin(&p.actor)?;
    let form = WebhookForm {
        format: Format::WeCom.code().to_string(),
        unit: format!("node:{}", p.actor.subdistrict_id),
        enabled: Some("on".into()),
        ..Default::default()
    };
    render_admin(&p.ctx, &p, &q, &form, &[]).await
}

async fn admin_create(p: Page, Form(f): Form<WebhookForm>) -> Result<Response> {
    store::require_admin(&p.actor)?;
    let result = match f.input() {
        Ok(input) => store::create(&p.ctx.state.db, &p.actor, &input).await,
        Err(e) => Err(Error::Invalid(vec![e])),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/webhooks?saved=1").into_response()),
        Err(Error::Invalid(errors)) => {
            let mut shown = f.clone();
            shown.secret.clear();
            let page = render_admin(&p.ctx, &p, &AdminQ::default(), &shown, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn render_edit(
    p: &Page,
    w: &Webhook,
    form: &WebhookForm,
    errors: &[FieldError],
) -> Result<Markup> {
    let ctx = &p.ctx;
    let choices = unit_choices(ctx, p.actor.subdistrict_id, Some(w)).await?;
    let recent =
        store::deliveries(&ctx.state.db, p.actor.subdistrict_id, "", Some(w.id), 20, 0).await?;
    let body = html! {
        (layout::crumbs(&[("/admin/webhooks".into(), ctx.t("群机器人", "Group-chat robots").into()), (String::new(), w.name.clone())]))
        h1 { (w.name) }
        (webhook_form(ctx, &format!("/admin/webhooks/{}", w.id), form, Some(w), &choices, errors))
        @if w.enabled {
            form.inline method="post" action={ "/admin/webhooks/" (w.id) "/test" } {
                (csrf(ctx))
                button.secondary type="submit" { (ctx.t("发送测试消息", "Send a test message")) }
            }
        }
        h2 { (ctx.t("最近的投递", "Recent deliveries")) }
        (deliveries_table(ctx, &recent))
    };
    Ok(layout::page(ctx, &w.name, body))
}

async fn edit_page(p: Page, Path(id): Path<String>) -> Result<Markup> {
    store::require_admin(&p.actor)?;
    let id = parse_id(&id).map_err(|_| Error::NotFound)?;
    let w = store::webhook(&p.ctx.state.db, p.actor.subdistrict_id, id).await?;
    render_edit(&p, &w, &WebhookForm::of(&w), &[]).await
}

async fn edit_save(
    p: Page,
    Path(id): Path<String>,
    Form(f): Form<WebhookForm>,
) -> Result<Response> {
    store::require_admin(&p.actor)?;
    let id = parse_id(&id).map_err(|_| Error::NotFound)?;
    let db = &p.ctx.state.db;
    let w = store::webhook(db, p.actor.subdistrict_id, id).await?;
    let result = match f.input() {
        Ok(input) => store::update(db, &p.actor, id, &input).await,
        Err(e) => Err(Error::Invalid(vec![e])),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/webhooks?saved=1").into_response()),
        Err(Error::Invalid(errors)) => {
            let mut shown = f.clone();
            shown.secret.clear();
            let page = render_edit(&p, &w, &shown, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn test(p: Page, Path(id): Path<String>) -> Result<Response> {
    store::require_admin(&p.actor)?;
    let id = parse_id(&id).map_err(|_| Error::NotFound)?;
    store::send_test(&p.ctx.state.db, &p.actor, id).await?;
    Ok(Redirect::to("/admin/webhooks?tested=1#outbox").into_response())
}

async fn retry(p: Page, Path(id): Path<String>) -> Result<Response> {
    store::require_admin(&p.actor)?;
    let id = parse_id(&id).map_err(|_| Error::NotFound)?;
    store::retry(&p.ctx.state.db, &p.actor, id).await?;
    Ok(Redirect::to("/admin/webhooks?retried=1#outbox").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_badge_is_empty_at_zero_and_caps_at_99() {
        assert!(badge_svg(0).contains(r#"width="0""#));
        assert!(badge_svg(-1).contains(r#"width="0""#));
        assert!(badge_svg(3).contains(">3</text>"));
        assert!(badge_svg(100).contains(">99+</text>"));
    }

    #[test]
    fn only_site_paths_are_linked() {
        assert_eq!(safe_link("/cases/1"), Some("/cases/1"));
        assert_eq!(safe_link("//evil.example/"), None);
        assert_eq!(safe_link("https://evil.example/"), None);
        assert_eq!(safe_link(""), None);
    }
}
