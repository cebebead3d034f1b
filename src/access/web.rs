//! The admin pages for users and roles: the user list with search and the add-user form,
//! and one page per user with their grants, the grant form and the password reset.
//! Subdistrict admins only; everyone else gets the 403 page.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::api::{self as ops, GrantView};
use super::roles::{Anchor, ALL};
use super::store::At;
use crate::auth::users::{self, NewUser};
use crate::error::{Error, FieldError, Result};
use crate::tree::model::NodeKind;
use crate::web::errors::Form;
use crate::web::layout::{self, crumbs, csrf};
use crate::web::{AppState, Ctx, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/grants", post(add_grant))
        .route("/admin/users/{id}/grants/{grant_id}/revoke", post(revoke))
        .route("/admin/users/{id}/password", post(set_password))
}

/// The messages for one field, shown right under it.
fn field_errors(ctx: &Ctx, errors: &[FieldError], fields: &[&str]) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| fields.contains(&e.field.as_str())) {
            span.error role="alert" { (ctx.text(&e.message)) }
        }
    }
}

/// Messages about no field of the form (conflicts), shown above it.
fn other_errors(ctx: &Ctx, errors: &[FieldError], fields: &[&str]) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| !fields.contains(&e.field.as_str())) {
            p.error role="alert" { (ctx.text(&e.message)) }
        }
    }
}

/// Where a grant reaches, in words.
fn place(ctx: &Ctx, g: &GrantView) -> String {
    let mut s = match g.grant.role.anchor() {
        Anchor::Person => ctx.t("本人及家庭", "own records and household").to_string(),
        _ if g.place.is_empty() => ctx.t("(已删除的位置)", "(removed place)").to_string(),
        _ => g.place.clone(),
    };
    if let Some(o) = &g.org_name {
        s.push_str(" · ");
        s.push_str(o);
    }
    s
}

fn success(ctx: &Ctx, ok: Option<&str>) -> Markup {
    let msg = match ok {
        Some("created") => ctx.t("用户已创建。", "The user was created."),
        Some("granted") => ctx.t("角色已授予。", "The role was granted."),
        Some("revoked") => ctx.t("角色已撤销。", "The role was revoked."),
        Some("password") => ctx.t(
            "密码已重设,该用户的登录会话已全部结束。",
            "The password was reset and all the user's sessions were ended.",
        ),
        _ => return html! {},
    };
    html! { p.success role="status" { (msg) } }
}

// ---------------------------------------------------------------------------------------
// The user list.
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    q: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    person_id: String,
}

const NEW_USER_FIELDS: [&str; 4] = ["username", "display_name", "password", "person_id"];

async fn list_markup(
    p: &Page,
    q: &str,
    form: &NewUserForm,
    errors: &[FieldError],
) -> Result<Markup> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let list = ops::search_users(db, sid, q, ops::USER_LIST_LIMIT + 1).await?;
    let more = list.len() as i64 > ops::USER_LIST_LIMIT;
    let list = &list[..list.len().min(ops::USER_LIST_LIMIT as usize)];
    let ids: Vec<i64> = list.iter().map(|u| u.id).collect();
    let grants = ops::grant_views(db, sid, Some(&ids)).await?;
    let of = |id: i64| grants.iter().filter(move |g| g.user_id == id);
    let val = |s: &str| s.to_string();
    Ok(html! {
        h1 { (ctx.t("用户与角色", "Users and roles")) }
        p { a href="#new-user" { (ctx.t("新增用户", "Add a user")) } }
        form.inline-form method="get" action="/admin/users" role="search" {
            label { (ctx.t("按用户名开头查找", "Find by user name prefix"))
                input type="text" name="q" value=(q) autocapitalize="none";
            }
            button type="submit" { (ctx.t("查找", "Search")) }
            @if !q.is_empty() { a href="/admin/users" { (ctx.t("全部用户", "All users")) } }
        }
        section.card {
            @if list.is_empty() {
                p.muted { (ctx.t("没有符合条件的用户。", "No user matches.")) }
            } @else {
                div.table-wrap { table {
                    tr { th { (ctx.t("用户名", "User name")) } th { (ctx.t("显示名", "Display name")) } th { (ctx.t("角色及授权位置", "Roles, and where")) } }
                    @for u in list {
                        tr {
                            td { a href={ "/admin/users/" (u.id) } { (u.username) }
                                @if u.disabled { " " span.tag { (ctx.t("已停用", "disabled")) } } }
                            td { (u.display_name) }
                            td {
                                @for g in of(u.id) {
                                    div { (ctx.text(&g.grant.role.label())) " · " span.muted { (place(ctx, g)) } }
                                }
                            }
                        }
                    }
                } }
                @if more {
                    p.muted { (ctx.t("只显示前200位用户,请输入用户名开头缩小范围。", "Only the first 200 users are shown; type the start of a user name to narrow the list.")) }
                }
            }
        }
        section.card #new-user {
            h2 { (ctx.t("新增用户", "Add a user")) }
            (other_errors(ctx, errors, &NEW_USER_FIELDS))
            form.stack method="post" action="/admin/users" {
                (csrf(ctx))
                label { (ctx.t("用户名(字母、数字或 . _ - @)", "User name (letters, digits or . _ - @)"))
                    input type="text" name="username" value=(val(&form.username)) autocapitalize="none" autocomplete="off" required;
                    (field_errors(ctx, errors, &["username"]))
                }
                label { (ctx.t("显示名", "Display name"))
                    input type="text" name="display_name" value=(val(&form.display_name)) required;
                    (field_errors(ctx, errors, &["display_name"]))
                }
                label { (ctx.t("初始密码(8位以上,含字母和数字)", "Initial password (8+ characters, letters and digits)"))
                    input type="password" name="password" value=(val(&form.password)) autocomplete="new-password" required;
                    (field_errors(ctx, errors, &["password"]))
                }
                label { (ctx.t("居民编号(可选,关联本人信息)", "Person id (optional: links the account to a resident)"))
                    input type="text" name="person_id" value=(val(&form.person_id)) inputmode="numeric";
                    (field_errors(ctx, errors, &["person_id"]))
                }
                button type="submit" { (ctx.t("创建用户", "Create user")) }
            }
        }
    })
}

async fn users_page(p: Page, Query(q): Query<ListQ>) -> Result<Markup> {
    ops::require_admin(&p.actor)?;
    let q = q.q.unwrap_or_default();
    let body = list_markup(&p, q.trim(), &NewUserForm::default(), &[]).await?;
    Ok(layout::page(
        &p.ctx,
        p.ctx.t("用户与角色", "Users and roles"),
        body,
    ))
}

async fn add_user(p: Page, Form(f): Form<NewUserForm>) -> Result<Response> {
    ops::require_admin(&p.actor)?;
    let mut errors = Vec::new();
    let person_id = ops::form_id(&f.person_id, "person_id").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let new = NewUser {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        password: f.password.clone(),
        person_id,
    };
    match ops::create_user(&p.ctx.state.db, &p.actor, &new, errors).await {
        Ok(u) => Ok(Redirect::to(&format!("/admin/users/{}?ok=created", u.id)).into_response()),
        Err(Error::Invalid(errors)) => {
            let body = list_markup(&p, "", &f, &errors).await?;
            let page = layout::page(&p.ctx, p.ctx.t("用户与角色", "Users and roles"), body);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// One user.
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct OkQ {
    #[serde(default)]
    ok: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct GrantForm {
    #[serde(default)]
    role: String,
    /// The node chosen in the list.
    #[serde(default)]
    node_id: String,
    /// A node typed by id (deeper than the list goes); wins over the list.
    #[serde(default)]
    node_id_other: String,
    #[serde(default)]
    room_id: String,
    #[serde(default)]
    org_id: String,
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

const GRANT_FIELDS: [&str; 4] = ["role", "node_id", "room_id", "org_id"];

/// The subdistrict, its communities and villages, and their grids, indented.
async fn node_choices(p: &Page) -> Result<Vec<(i64, String)>> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let label = |kind: NodeKind, name: &str, depth: usize| {
        format!(
            "{}{} ({})",
            "\u{3000}".repeat(depth),
            name,
            ctx.text(&kind.label())
        )
    };
    let root = crate::tree::store::node(db, sid, sid).await?;
    let mut out = vec![(root.id, label(root.kind, &root.name, 0))];
    for c in crate::tree::store::children(db, sid, root.id).await? {
        out.push((c.node.id, label(c.node.kind, &c.node.name, 1)));
        if c.children > 0 {
            for g in crate::tree::store::children(db, sid, c.node.id).await? {
                out.push((g.node.id, label(g.node.kind, &g.node.name, 2)));
            }
        }
    }
    Ok(out)
}

/// Where each role may be granted, for the hint under the form.
fn anchor_hint(ctx: &Ctx, anchor: Anchor) -> String {
    match anchor {
        Anchor::Room => ctx.t("房屋", "a room").to_string(),
        Anchor::Person => ctx
            .t(
                "本人(需关联居民)",
                "the person themselves (account linked to a person)",
            )
            .to_string(),
        Anchor::Node([]) => ctx.t("任意节点", "any node").to_string(),
        Anchor::Node(kinds) => kinds
            .iter()
            .map(|k| ctx.text(&k.label()).to_string())
            .collect::<Vec<_>>()
            .join(ctx.t("、", ", ")),
    }
}

async fn user_markup(
    p: &Page,
    user_id: i64,
    ok: Option<&str>,
    grant: &GrantForm,
    grant_errors: &[FieldError],
    pw_errors: &[FieldError],
) -> Result<(String, Markup)> {
    let ctx = &p.ctx;
    let db = &ctx.state.db;
    let sid = p.actor.subdistrict_id;
    let user = users::by_id(db, sid, user_id).await?;
    let grants = ops::grant_views(db, sid, Some(&[user.id])).await?;
    let nodes = node_choices(p).await?;
    let chosen_node = grant.node_id.trim();
    let base = format!("/admin/users/{}", user.id);
    let body = html! {
        (crumbs(&[
            ("/admin/users".into(), ctx.t("用户与角色", "Users and roles").into()),
            (base.clone(), user.username.clone()),
        ]))
        h1 { (user.display_name) " " span.muted { "(" (user.username) ")" } }
        (success(ctx, ok))
        @if user.disabled { p.notice { (ctx.t("该账户已停用。", "This account is disabled.")) } }
        @if let Some(pid) = user.person_id {
            p { (ctx.t("关联居民:", "Linked person: ")) a href={ "/people/" (pid) } { "#" (pid) } }
        }
        section.card {
            h2 { (ctx.t("现有角色", "Roles held")) }
            @if grants.is_empty() {
                p.muted { (ctx.t("该用户还没有角色。", "This user holds no role yet.")) }
            } @else {
                ul.list {
                    @for g in &grants {
                        li {
                            span { (ctx.text(&g.grant.role.label())) " · " span.muted { (place(ctx, g)) } }
                            form.inline-form method="post" action={ (base) "/grants/" (g.grant.id) "/revoke" } {
                                (csrf(ctx))
                                button.secondary type="submit" { (ctx.t("撤销", "Revoke")) }
                            }
                        }
                    }
                }
            }
        }
        section.card #grant {
            h2 { (ctx.t("授予角色", "Grant a role")) }
            (other_errors(ctx, grant_errors, &GRANT_FIELDS))
            form.stack method="post" action={ (base) "/grants" } {
                (csrf(ctx))
                label { (ctx.t("角色", "Role"))
                    select name="role" required {
                        option value="" { (ctx.t("请选择", "Choose")) }
                        @for r in ALL {
                            option value=(r.as_str()) selected[grant.role == r.as_str()] { (ctx.text(&r.label())) }
                        }
                    }
                    (field_errors(ctx, grant_errors, &["role"]))
                }
                label { (ctx.t("授权节点", "At node"))
                    select name="node_id" {
                        option value="" { "—" }
                        @for (id, name) in &nodes {
                            option value=(id) selected[chosen_node == id.to_string()] { (name) }
                        }
                    }
                }
                label { (ctx.t("或填写节点编号(楼栋、单元、村民小组等)", "Or a node id (buildings, units, village groups…)"))
                    input type="text" name="node_id_other" value=(grant.node_id_other) inputmode="numeric";
                    (field_errors(ctx, grant_errors, &["node_id"]))
                }
                label { (ctx.t("房屋编号(业主角色)", "Room id (for owners)"))
                    input type="text" name="room_id" value=(grant.room_id) inputmode="numeric";
                    (field_errors(ctx, grant_errors, &["room_id"]))
                }
                label { (ctx.t("组织编号(可选)", "Organisation id (optional)"))
                    input type="text" name="org_id" value=(grant.org_id) inputmode="numeric";
                    (field_errors(ctx, grant_errors, &["org_id"]))
                }
                button type="submit" { (ctx.t("授予", "Grant")) }
            }
            details {
                summary { (ctx.t("各角色可授予的位置", "Where each role is granted")) }
                ul { @for r in ALL { li { (ctx.text(&r.label())) ":" (anchor_hint(ctx, r.anchor())) } } }
            }
        }
        section.card #password {
            h2 { (ctx.t("重设密码", "Reset the password")) }
            p.muted { (ctx.t("重设后该用户的所有登录会话立即结束,需用新密码重新登录。", "Resetting ends all of the user's sessions; they log in again with the new password.")) }
            form.stack method="post" action={ (base) "/password" } {
                (csrf(ctx))
                label { (ctx.t("新密码(8位以上,含字母和数字)", "New password (8+ characters, letters and digits)"))
                    input type="password" name="password" autocomplete="new-password" required;
                    (field_errors(ctx, pw_errors, &["password"]))
                }
                (other_errors(ctx, pw_errors, &["password"]))
                button type="submit" { (ctx.t("重设密码", "Reset password")) }
            }
        }
    };
    Ok((user.username, body))
}

async fn render_user(
    p: &Page,
    status: StatusCode,
    user_id: i64,
    ok: Option<&str>,
    grant: &GrantForm,
    grant_errors: &[FieldError],
    pw_errors: &[FieldError],
) -> Result<Response> {
    let (title, body) = user_markup(p, user_id, ok, grant, grant_errors, pw_errors).await?;
    Ok((status, layout::page(&p.ctx, &title, body)).into_response())
}

async fn user_page(p: Page, Path(id): Path<String>, Query(q): Query<OkQ>) -> Result<Response> {
    ops::require_admin(&p.actor)?;
    let id = ops::path_id(&id)?;
    render_user(
        &p,
        StatusCode::OK,
        id,
        q.ok.as_deref(),
        &GrantForm::default(),
        &[],
        &[],
    )
    .await
}

/// Turns the errors a form shows in place into field messages; others pass through.
fn shown_in_place(e: Error) -> std::result::Result<Vec<FieldError>, Error> {
    match e {
        Error::Invalid(errors) => Ok(errors),
        Error::Conflict(t) => Ok(vec![FieldError::new("", t)]),
        e => Err(e),
    }
}

async fn add_grant(p: Page, Path(id): Path<String>, Form(f): Form<GrantForm>) -> Result<Response> {
    ops::require_admin(&p.actor)?;
    let user_id = ops::path_id(&id)?;
    let mut errors = Vec::new();
    let role = ops::parse_role(&f.role).map_err(|e| errors.push(e)).ok();
    let node_text = if f.node_id_other.trim().is_empty() {
        &f.node_id
    } else {
        &f.node_id_other
    };
    let mut id_of = |s: &str, field: &str| {
        ops::form_id(s, field).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let at = At {
        node_id: id_of(node_text, "node_id"),
        room_id: id_of(&f.room_id, "room_id"),
        org_id: id_of(&f.org_id, "org_id"),
    };
    let result = match role.filter(|_| errors.is_empty()) {
        Some(role) => ops::add_grant(&p.ctx.state.db, &p.actor, user_id, role, at).await,
        None => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{user_id}?ok=granted")).into_response()),
        Err(e) => {
            let status = e.status();
            let errors = shown_in_place(e)?;
            render_user(&p, status, user_id, None, &f, &errors, &[]).await
        }
    }
}

async fn revoke(p: Page, Path((id, grant_id)): Path<(String, String)>) -> Result<Response> {
    ops::require_admin(&p.actor)?;
    let user_id = ops::path_id(&id)?;
    match ops::remove_grant(&p.ctx.state.db, &p.actor, user_id, ops::path_id(&grant_id)?).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{user_id}?ok=revoked")).into_response()),
        Err(e) => {
            let status = e.status();
            let errors = shown_in_place(e)?;
            render_user(
                &p,
                status,
                user_id,
                None,
                &GrantForm::default(),
                &errors,
                &[],
            )
            .await
        }
    }
}

async fn set_password(
    p: Page,
    Path(id): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<Response> {
    ops::require_admin(&p.actor)?;
    let user_id = ops::path_id(&id)?;
    match ops::reset_password(&p.ctx.state.db, &p.actor, user_id, &f.password, "password").await {
        // An admin resetting their own password ended their own session too.
        Ok(()) if user_id == p.actor.user_id => Ok(Redirect::to("/login").into_response()),
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{user_id}?ok=password")).into_response()),
        Err(e) => {
            let status = e.status();
            let errors = shown_in_place(e)?;
            render_user(
                &p,
                status,
                user_id,
                None,
                &GrantForm::default(),
                &[],
                &errors,
            )
            .await
        }
    }
}
