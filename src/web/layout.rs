//! The page shell: mobile-first, works without JavaScript, every asset from the binary.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::Ctx;
use crate::access::{Action, Role, Target};
use crate::i18n::Lang;

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · " (lang.pick("红管家", "Red Butler")) }
            link rel="stylesheet" href=(super::assets::CSS_PATH);
            link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
        }
    }
}

/// A page without navigation (errors, login).
pub fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body.bare {
                header.top { a.brand href="/" { (lang.pick("红管家", "Red Butler")) } (lang_switch(lang, "/")) }
                main { (body) }
            }
        }
    }
}

fn lang_switch(lang: Lang, back: &str) -> Markup {
    let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    html! {
        span.lang {
            @if lang == Lang::Zh { a href={ "/lang/en?next=" (next) } lang="en" { "English" } }
            @else { a href={ "/lang/zh?next=" (next) } lang="zh-CN" { "中文" } }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name=(super::ctx::CSRF_FIELD) value=(ctx.csrf); }
}

/// A full page with navigation for the logged-in user.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let lang = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top {
                    a.brand href="/" { (lang.pick("红管家", "Red Butler")) }
                    @if let Some(a) = &ctx.actor {
                        nav.main {
                            a href="/" { (ctx.t("首页", "Home")) }
                            @if a.grants.iter().any(|g| !matches!(g.role, Role::Resident | Role::Owner)) {
                                a href="/tree" { (ctx.t("组织架构", "Org tree")) }
                            }
                            a href="/cases" { (ctx.t("事项", "Cases")) }
                            a href="/halls" { (ctx.t("议事厅", "Halls")) }
                            a href="/votes" { (ctx.t("业主表决", "Votes")) }
                            @if a.grants.iter().any(|g| !matches!(g.role, Role::Resident | Role::Owner)) {
                                a href="/measures" { (ctx.t("成效", "Measures")) }
                                a href="/five-step" { (ctx.t("五步工作法", "Five steps")) }
                                a href="/governance" { (ctx.t("物业治理", "Property")) }
                            }
                            // The unread count is an image (`notify::web`), so the shell needs no database.
                            a.inbox href="/inbox" { (ctx.t("通知", "Inbox")) " " img.badge src="/inbox/badge.svg" alt="" height="16"; }
                            @if crate::access::allows(a, Action::Configure, Target::Subdistrict) {
                                a href="/admin/webhooks" { (ctx.t("群机器人", "Robots")) }
                            }
                            @if crate::access::allows(a, Action::ManageUsers, Target::Subdistrict) {
                                a href="/admin/users" { (ctx.t("用户与角色", "Users")) }
                                a href="/audit" { (ctx.t("审计日志", "Audit log")) }
                                a href="/admin/calendar" { (ctx.t("工作日历", "Calendar")) }
                            }
                            @if a.grants.iter().any(|g| crate::access::allows(a, Action::EditRegistry, Target::Node { path: &g.path })) {
                                a href="/registry" { (ctx.t("台账导入导出", "Registry")) }
                            }
                            a href="/account" { (ctx.t("我的账户", "Account")) }
                        }
                        form.logout method="post" action="/logout" {
                            (csrf(ctx))
                            span.who { (a.display_name) }
                            button type="submit" { (ctx.t("退出", "Log out")) }
                        }
                    }
                    (lang_switch(lang, &ctx.path))
                }
                main { (body) }
                footer { (ctx.t("红管家 · 一核双轨全域", "Red Butler · one core, two tracks, whole area")) }
                script src="/static/app.js" defer {}
                (PreEscaped(""))
            }
        }
    }
}

/// Breadcrumbs: a trail of links.
pub fn crumbs(items: &[(String, String)]) -> Markup {
    html! {
        nav.crumbs aria-label="breadcrumbs" {
            @for (i, (href, label)) in items.iter().enumerate() {
                @if i > 0 { span.sep { "›" } }
                @if i + 1 == items.len() { span { (label) } } @else { a href=(href) { (label) } }
            }
        }
    }
}
