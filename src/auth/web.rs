//! Login, logout, the language switch, and the account page (password, API tokens).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::{sessions, tokens, users};
use crate::error::{Error, Result};
use crate::web::errors::Form;
use crate::web::layout::{self, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch_lang))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Deserialize, Default)]
struct NextQ {
    next: Option<String>,
}

/// Only local paths may be redirected to.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

async fn switch_lang(
    State(st): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<NextQ>,
) -> Response {
    let lang = crate::i18n::Lang::from_code(&code).unwrap_or_default();
    let mut r = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        crate::web::ctx::set_cookie(
            crate::web::ctx::LANG_COOKIE,
            if lang == crate::i18n::Lang::En {
                "en"
            } else {
                "zh"
            },
            Some(365 * 86400),
            false,
            st.secure_cookies,
        ),
    );
    r
}

fn login_form(
    ctx: &Ctx,
    subdistricts: &[crate::tree::store::Subdistrict],
    username: &str,
    next: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        h1 { (ctx.t("登录红管家", "Log in to Red Butler")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.stack.card method="post" action="/login" {
            (csrf(ctx))
            input type="hidden" name="next" value=(next);
            @if subdistricts.len() > 1 {
                label { (ctx.t("街道", "Subdistrict"))
                    select name="subdistrict" { @for s in subdistricts { option value=(s.code) { (s.name) } } }
                }
            }
            label { (ctx.t("用户名", "User name"))
                input type="text" name="username" value=(username) autocomplete="username" autocapitalize="none" required autofocus;
            }
            label { (ctx.t("密码", "Password"))
                input type="password" name="password" autocomplete="current-password" required;
            }
            button type="submit" { (ctx.t("登录", "Log in")) }
        }
    }
}

async fn login_page(ctx: Ctx, Query(q): Query<NextQ>) -> Result<Response> {
    if ctx.actor.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    let subs = crate::tree::store::subdistricts(&ctx.state.db).await?;
    let next = safe_next(q.next.as_deref());
    Ok(layout::bare(
        ctx.lang,
        ctx.t("登录", "Log in"),
        login_form(&ctx, &subs, "", &next, None),
    )
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    subdistrict: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(ctx: Ctx, Form(f): Form<LoginForm>) -> Result<Response> {
    let db = &ctx.state.db;
    let subs = crate::tree::store::subdistricts(db).await?;
    let sub = match f.subdistrict.as_deref() {
        Some(code) => subs.iter().find(|s| s.code == code),
        None => subs.first(),
    };
    let next = safe_next(f.next.as_deref());
    let fail = |status: axum::http::StatusCode, msg: &str| -> Response {
        (
            status,
            layout::bare(
                ctx.lang,
                ctx.t("登录", "Log in"),
                login_form(&ctx, &subs, &f.username, &next, Some(msg)),
            ),
        )
            .into_response()
    };
    let Some(sub) = sub else {
        return Ok(fail(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            ctx.t("请选择街道", "Choose a subdistrict"),
        ));
    };
    if f.username.trim().is_empty() || f.password.is_empty() {
        return Ok(fail(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            ctx.t("请填写用户名和密码", "Enter your user name and password"),
        ));
    }
    match users::check_login(db, sub.id, &f.username, &f.password).await {
        Ok(user) => {
            let cookie = sessions::create(db, sub.id, user.id, &ctx.csrf).await?;
            let mut r = Redirect::to(&next).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                crate::web::ctx::set_cookie(
                    sessions::COOKIE,
                    &cookie,
                    Some(sessions::LIFETIME_MS / 1000),
                    true,
                    ctx.state.secure_cookies,
                ),
            );
            Ok(r)
        }
        Err(Error::Unauthorized) => Ok(fail(
            axum::http::StatusCode::UNAUTHORIZED,
            ctx.t("用户名或密码不正确", "The user name or password is wrong"),
        )),
        Err(Error::TooManyAttempts { retry_after_s }) => {
            let msg = Error::TooManyAttempts { retry_after_s }
                .problem(ctx.lang)
                .detail;
            let mut r = fail(axum::http::StatusCode::TOO_MANY_REQUESTS, &msg);
            r.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_s.into());
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn logout(ctx: Ctx, headers: axum::http::HeaderMap) -> Result<Response> {
    if let Some(c) = crate::web::ctx::cookie(&headers, sessions::COOKIE) {
        sessions::end(&ctx.state.db, c).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        crate::web::ctx::set_cookie(
            sessions::COOKIE,
            "",
            Some(0),
            true,
            ctx.state.secure_cookies,
        ),
    );
    Ok(r)
}

async fn account_page(p: &Page, message: Option<Markup>) -> Result<Markup> {
    let ctx = &p.ctx;
    let list = tokens::list(&ctx.state.db, p.actor.subdistrict_id, p.actor.user_id).await?;
    let body = html! {
        h1 { (ctx.t("我的账户", "My account")) }
        @if let Some(m) = message { (m) }
        section.card {
            h2 { (ctx.t("我的角色", "My roles")) }
            ul { @for g in &p.actor.grants { li { (ctx.text(&g.role.label())) } } }
        }
        section.card {
            h2 { (ctx.t("修改密码", "Change password")) }
            form.stack method="post" action="/account/password" {
                (csrf(ctx))
                label { (ctx.t("当前密码", "Current password")) input type="password" name="current_password" autocomplete="current-password" required; }
                label { (ctx.t("新密码(8位以上,含字母和数字)", "New password (8+ characters, letters and digits)")) input type="password" name="new_password" autocomplete="new-password" required; }
                button type="submit" { (ctx.t("修改密码", "Change password")) }
            }
        }
        section.card {
            h2 { (ctx.t("API 令牌", "API tokens")) }
            p.muted { (ctx.t("用于接口对接和脚本:请求头 Authorization: Bearer 令牌。令牌只显示一次。", "For integrations and scripts: send Authorization: Bearer TOKEN. A token is shown once.")) }
            form.inline-form method="post" action="/account/tokens" {
                (csrf(ctx))
                input type="text" name="name" placeholder=(ctx.t("令牌用途", "What it is for")) required;
                button type="submit" { (ctx.t("新建令牌", "New token")) }
            }
            @if !list.is_empty() {
                div.table-wrap { table {
                    tr { th { (ctx.t("用途", "Name")) } th { (ctx.t("创建时间", "Created")) } th { (ctx.t("状态", "State")) } th {} }
                    @for t in &list {
                        tr {
                            td { (t.name) }
                            td { (crate::clock::format_local(t.created_at)) }
                            td { @if t.revoked_at.is_some() { (ctx.t("已吊销", "revoked")) } @else { (ctx.t("有效", "active")) } }
                            td { @if t.revoked_at.is_none() {
                                form.inline-form method="post" action={ "/account/tokens/" (t.id) "/revoke" } {
                                    (csrf(ctx)) button.secondary type="submit" { (ctx.t("吊销", "Revoke")) }
                                }
                            } }
                        }
                    }
                } }
            }
        }
    };
    Ok(layout::page(ctx, ctx.t("我的账户", "My account"), body))
}

async fn account(p: Page) -> Result<Markup> {
    account_page(&p, None).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(p: Page, Form(f): Form<PasswordForm>) -> Result<Response> {
    let db = &p.ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let err = |t: &str| html! { p.error role="alert" { (t) } };
    match users::check_login(db, sid, &p.actor.username, &f.current_password).await {
        Ok(_) => {}
        Err(Error::Unauthorized) => {
            let m = err(p.ctx.t("当前密码不正确", "The current password is wrong"));
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                account_page(&p, Some(m)).await?,
            )
                .into_response());
        }
        Err(e) => return Err(e),
    }
    let mut tx = db.begin().await?;
    match users::set_password(&mut tx, &p.actor, p.actor.user_id, &f.new_password).await {
        Ok(()) => {}
        Err(Error::Invalid(errors)) => {
            let m = err(errors
                .first()
                .map(|e| e.message.get(p.ctx.lang))
                .unwrap_or(""));
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                account_page(&p, Some(m)).await?,
            )
                .into_response());
        }
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    // Every session ended, this one too: log in again with the new password.
    Ok(Redirect::to("/login").into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
}

async fn create_token(p: Page, Form(f): Form<TokenForm>) -> Result<Markup> {
    let mut tx = p.ctx.state.db.begin().await?;
    let (_, token) = tokens::create(&mut tx, &p.actor, p.actor.user_id, &f.name).await?;
    tx.commit().await?;
    let m = html! {
        div.success role="status" {
            p { (p.ctx.t("新令牌如下,只显示这一次,请妥善保存:", "Your new token, shown only this once; keep it safe:")) }
            p { code.revealed #new-token { (token) } }
        }
    };
    account_page(&p, Some(m)).await
}

async fn revoke_token(
    p: Page,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response> {
    let db = &p.ctx.state.db;
    if tokens::owner(db, p.actor.subdistrict_id, id).await? != p.actor.user_id {
        return Err(Error::NotFound);
    }
    let mut tx = db.begin().await?;
    tokens::revoke(&mut tx, &p.actor, id).await?;
    tx.commit().await?;
    Ok(Redirect::to("/account").into_response())
}
