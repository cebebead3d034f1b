//! Users and role grants over the API (subdistrict admins only), and the operations the
//! admin pages in `access::web` share with it: each one checks the actor, runs in one
//! transaction and leaves its audit entry through the stores it calls.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;

use super::roles::{Anchor, ALL};
use super::store::{self, At};
use super::{allows, Action, Actor, Grant, Role, Target};
use crate::auth::users::{self, NewUser, User};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{opt_i64, Db, Tx};
use crate::tree::model::NodeKind;
use crate::web::errors::Json;
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user_api))
        .route("/users/{id}/grants", get(grants_api).post(grant_api))
        .route("/users/{id}/grants/{grant_id}", delete(revoke_api))
        .route("/users/{id}/password", post(password_api))
}

// ---------------------------------------------------------------------------------------
// Shared operations (used by the API below and by the admin pages).
// ---------------------------------------------------------------------------------------

/// Only a subdistrict admin manages users and roles.
pub(crate) fn require_admin(actor: &Actor) -> Result<()> {
    if allows(actor, Action::ManageUsers, Target::Subdistrict) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// A grant with a readable name of the place it reaches.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GrantView {
    #[serde(flatten)]
    pub grant: Grant,
    #[serde(skip)]
    pub user_id: i64,
    /// The node's name, the room ("building 502") or empty for a person-anchored grant.
    pub place: String,
    pub org_name: Option<String>,
}

/// The grants of some users (all users of the subdistrict when `user_ids` is `None`).
pub(crate) async fn grant_views(
    db: &Db,
    sid: i64,
    user_ids: Option<&[i64]>,
) -> Result<Vec<GrantView>> {
    let mut sql = String::from(
        "SELECT g.user_id, g.id, g.role, g.node_id, g.room_id, g.org_id, COALESCE(n.path, rn.path, '') AS path, \
         n.name AS node_name, r.number AS room_number, rn.name AS room_node_name, rn.kind AS room_node_kind, \
         rp.name AS room_parent_name, o.name AS org_name \
         FROM role_grants g \
         LEFT JOIN nodes n ON n.subdistrict_id = g.subdistrict_id AND n.id = g.node_id \
         LEFT JOIN rooms r ON r.subdistrict_id = g.subdistrict_id AND r.id = g.room_id \
         LEFT JOIN nodes rn ON rn.subdistrict_id = r.subdistrict_id AND rn.id = r.node_id \
         LEFT JOIN nodes rp ON rp.subdistrict_id = rn.subdistrict_id AND rp.id = rn.parent_id \
         LEFT JOIN orgs o ON o.subdistrict_id = g.subdistrict_id AND o.id = g.org_id \
         WHERE g.subdistrict_id = $1",
    );
    if let Some(ids) = user_ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Integers only: safe to inline.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sql.push_str(&format!(" AND g.user_id IN ({list})"));
    }
    sql.push_str(" ORDER BY g.user_id, g.id");
    let rows = sqlx::query(&sql).bind(sid).fetch_all(db.read()).await?;
    let text = |r: &sqlx::any::AnyRow, c: &str| r.try_get::<Option<String>, _>(c).ok().flatten();
    Ok(rows
        .iter()
        .filter_map(|r| {
            let role = Role::parse(&r.get::<String, _>("role"))?;
            let place = match (text(r, "node_name"), text(r, "room_number")) {
                (Some(n), _) => n,
                // A room on a unit is named with its building: "城中东路311号 1单元 502".
                (None, Some(room)) => {
                    let mut parts = Vec::new();
                    if text(r, "room_node_kind").as_deref() == Some(NodeKind::Unit.as_str()) {
                        parts.extend(text(r, "room_parent_name"));
                    }
                    parts.extend(text(r, "room_node_name"));
                    parts.push(room);
                    parts.join(" ")
                }
                (None, None) => String::new(),
            };
            Some(GrantView {
                grant: Grant {
                    id: r.get("id"),
                    role,
                    node_id: opt_i64(r, "node_id"),
                    path: r.get("path"),
                    room_id: opt_i64(r, "room_id"),
                    org_id: opt_i64(r, "org_id"),
                },
                user_id: r.get("user_id"),
                place,
                org_name: text(r, "org_name"),
            })
        })
        .collect())
}

/// The most users one listing shows; narrow the search to see others.
pub(crate) const USER_LIST_LIMIT: i64 = 200;

/// Users whose user name starts with `prefix` (any case), by user name.
pub(crate) async fn search_users(db: &Db, sid: i64, prefix: &str, limit: i64) -> Result<Vec<User>> {
    let mut pattern = String::new();
    for c in prefix.trim().to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    let rows = sqlx::query(&format!(
        "SELECT subdistrict_id, id, username, display_name, person_id, disabled FROM users \
         WHERE subdistrict_id = $1 AND LOWER(username) LIKE $2 ESCAPE '\\' ORDER BY username LIMIT {}",
        limit.clamp(1, 1000)
    ))
    .bind(sid)
    .bind(pattern)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| User {
            id: r.get("id"),
            subdistrict_id: r.get("subdistrict_id"),
            username: r.get("username"),
            display_name: r.get("display_name"),
            person_id: opt_i64(r, "person_id"),
            disabled: r.get::<i64, _>("disabled") != 0,
        })
        .collect())
}

fn id_message() -> Text {
    Text::new("请填写数字编号", "give a numeric id")
}

/// An optional id typed into a form: empty is none.
pub(crate) fn form_id(s: &str, field: &str) -> std::result::Result<Option<i64>, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<i64>() {
        Ok(v) if v > 0 => Ok(Some(v)),
        _ => Err(FieldError::new(field, id_message())),
    }
}

/// An optional id in a JSON body: a number or a numeric string; null or "" is none.
fn json_id(v: &Option<Value>, field: &str) -> std::result::Result<Option<i64>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if v > 0 => Ok(Some(v)),
            _ => Err(FieldError::new(field, id_message())),
        },
        Some(Value::String(s)) => form_id(s, field),
        Some(_) => Err(FieldError::new(field, id_message())),
    }
}

/// A role by its name (`grid_member`), or the error naming the field.
pub(crate) fn parse_role(s: &str) -> std::result::Result<Role, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(
            "role",
            Text::new("请选择角色", "choose a role"),
        ));
    }
    Role::parse(s).ok_or_else(|| {
        let names = ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        FieldError::new(
            "role",
            Text::owned(
                format!("未知角色“{s}”,可选:{names}"),
                format!("unknown role \"{s}\"; one of: {names}"),
            ),
        )
    })
}

async fn person_exists(tx: &mut Tx, sid: i64, person_id: i64) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM persons WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(person_id)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

/// Creates a user. `errors` are problems the caller already found in the input (a person
/// id that is not a number); they are reported together with the user store's own checks
/// and nothing is written while any remains.
pub(crate) async fn create_user(
    db: &Db,
    actor: &Actor,
    new: &NewUser,
    mut errors: Vec<FieldError>,
) -> Result<User> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let mut tx = db.begin().await?;
    if let Some(pid) = new.person_id {
        if !person_exists(&mut tx, sid, pid).await? {
            errors.push(FieldError::new(
                "person_id",
                Text::new("该居民不存在", "no person has this id"),
            ));
        }
    }
    match users::create(&mut tx, actor, new, None).await {
        Ok(u) if errors.is_empty() => {
            tx.commit().await?;
            Ok(u)
        }
        // Dropping the transaction rolls the user back.
        Ok(_) => Err(Error::Invalid(errors)),
        Err(Error::Invalid(mut e)) => {
            e.extend(errors);
            Err(Error::Invalid(e))
        }
        Err(e) => Err(e),
    }
}

/// Keeps only the parts of a place a role is granted at.
fn fit(role: Role, at: At) -> At {
    match role.anchor() {
        Anchor::Node(_) => At {
            room_id: None,
            ..at
        },
        Anchor::Room => At {
            node_id: None,
            org_id: None,
            ..at
        },
        Anchor::Person => At::default(),
    }
}

/// Grants a role (checked against its anchor by the store). Refuses a resident role to an
/// account without a person, an organisation that does not exist, and the same grant twice.
pub(crate) async fn add_grant(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    role: Role,
    at: At,
) -> Result<i64> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let at = fit(role, at);
    let mut tx = db.begin().await?;
    let user = sqlx::query("SELECT person_id FROM users WHERE subdistrict_id = $1 AND id = $2")
        .bind(sid)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
    if role.anchor() == Anchor::Person && opt_i64(&user, "person_id").is_none() {
        return Err(Error::field(
            "role",
            Text::new(
                "该账户未关联居民信息,不能授予居民角色",
                "this account is not linked to a person, so it cannot be a resident",
            ),
        ));
    }
    if let Some(org) = at.org_id {
        let found = sqlx::query("SELECT 1 FROM orgs WHERE subdistrict_id = $1 AND id = $2")
            .bind(sid)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(Error::field(
                "org_id",
                Text::new("组织不存在", "the organisation does not exist"),
            ));
        }
    }
    let same = sqlx::query(
        "SELECT 1 FROM role_grants WHERE subdistrict_id = $1 AND user_id = $2 AND role = $3 \
         AND COALESCE(node_id, 0) = $4 AND COALESCE(room_id, 0) = $5 AND COALESCE(org_id, 0) = $6",
    )
    .bind(sid)
    .bind(user_id)
    .bind(role.as_str())
    .bind(at.node_id.unwrap_or(0))
    .bind(at.room_id.unwrap_or(0))
    .bind(at.org_id.unwrap_or(0))
    .fetch_optional(&mut *tx)
    .await?;
    if same.is_some() {
        return Err(Error::Conflict(Text::new(
            "该用户在此处已有这个角色",
            "the user already holds this role here",
        )));
    }
    let id = store::grant(&mut tx, actor, user_id, role, at).await?;
    tx.commit().await?;
    Ok(id)
}

/// Revokes a grant; the last subdistrict admin of the subdistrict cannot be revoked.
pub(crate) async fn remove_grant(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    grant_id: i64,
) -> Result<()> {
    require_admin(actor)?;
    let sid = actor.subdistrict_id;
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "SELECT role, node_id FROM role_grants WHERE subdistrict_id = $1 AND id = $2 AND user_id = $3",
    )
    .bind(sid)
    .bind(grant_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    let role: String = row.get("role");
    if role == Role::SubdistrictAdmin.as_str() && opt_i64(&row, "node_id") == Some(sid) {
        let admins: i64 = sqlx::query(
            "SELECT COUNT(*) FROM role_grants WHERE subdistrict_id = $1 AND role = $2 AND node_id = $3",
        )
        .bind(sid)
        .bind(Role::SubdistrictAdmin.as_str())
        .bind(sid)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        if admins <= 1 {
            return Err(Error::Conflict(Text::new(
                "不能撤销最后一位街道管理员",
                "the last subdistrict admin cannot be revoked",
            )));
        }
    }
    store::revoke(&mut tx, actor, user_id, grant_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a user's password and ends all their sessions. `field` names the input in errors.
pub(crate) async fn reset_password(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    password: &str,
    field: &str,
) -> Result<()> {
    require_admin(actor)?;
    let mut tx = db.begin().await?;
    users::set_password(&mut tx, actor, user_id, password)
        .await
        .map_err(|e| match e {
            Error::Invalid(errs) => Error::Invalid(
                errs.into_iter()
                    .map(|mut fe| {
                        if fe.field == "new_password" {
                            fe.field = field.to_string();
                        }
                        fe
                    })
                    .collect(),
            ),
            e => e,
        })?;
    tx.commit().await?;
    Ok(())
}

/// A path id; anything but a number is simply not found.
pub(crate) fn path_id(s: &str) -> Result<i64> {
    s.trim().parse::<i64>().map_err(|_| Error::NotFound)
}

// ---------------------------------------------------------------------------------------
// The API.
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ListQ {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

#[derive(Serialize)]
struct UserOut {
    #[serde(flatten)]
    user: User,
    grants: Vec<GrantView>,
}

async fn list_users(
    State(st): State<AppState>,
    actor: Actor,
    Query(q): Query<ListQ>,
) -> Result<axum::Json<Value>> {
    require_admin(&actor)?;
    let limit = match q.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => USER_LIST_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(Error::field(
                    "limit",
                    Text::new("请填写1到1000之间的数", "give a number from 1 to 1000"),
                ))
            }
        },
    };
    let sid = actor.subdistrict_id;
    let list = search_users(&st.db, sid, q.q.as_deref().unwrap_or(""), limit).await?;
    let ids: Vec<i64> = list.iter().map(|u| u.id).collect();
    let mut by_user: std::collections::HashMap<i64, Vec<GrantView>> = Default::default();
    for g in grant_views(&st.db, sid, Some(&ids)).await? {
        by_user.entry(g.user_id).or_default().push(g);
    }
    let users: Vec<UserOut> = list
        .into_iter()
        .map(|u| UserOut {
            grants: by_user.remove(&u.id).unwrap_or_default(),
            user: u,
        })
        .collect();
    Ok(axum::Json(json!({ "users": users })))
}

#[derive(Deserialize, Default)]
struct CreateUserBody {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    person_id: Option<Value>,
}

async fn create_user_api(
    State(st): State<AppState>,
    actor: Actor,
    Json(b): Json<CreateUserBody>,
) -> Result<Response> {
    require_admin(&actor)?;
    let mut errors = Vec::new();
    let person_id = json_id(&b.person_id, "person_id").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let new = NewUser {
        username: b.username,
        display_name: b.display_name,
        password: b.password,
        person_id,
    };
    let user = create_user(&st.db, &actor, &new, errors).await?;
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}

async fn grants_api(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>> {
    require_admin(&actor)?;
    let sid = actor.subdistrict_id;
    let user = users::by_id(&st.db, sid, path_id(&id)?).await?;
    let grants = grant_views(&st.db, sid, Some(&[user.id])).await?;
    Ok(axum::Json(json!({ "user": user, "grants": grants })))
}

#[derive(Deserialize, Default)]
struct GrantBody {
    #[serde(default)]
    role: Option<Value>,
    #[serde(default)]
    node_id: Option<Value>,
    #[serde(default)]
    room_id: Option<Value>,
    #[serde(default)]
    org_id: Option<Value>,
}

async fn grant_api(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Json(b): Json<GrantBody>,
) -> Result<Response> {
    require_admin(&actor)?;
    let user_id = path_id(&id)?;
    let mut errors = Vec::new();
    let role = match &b.role {
        Some(Value::String(s)) => parse_role(s),
        None | Some(Value::Null) => parse_role(""),
        Some(other) => parse_role(&other.to_string()),
    }
    .map_err(|e| errors.push(e))
    .ok();
    let mut id_of = |v: &Option<Value>, field: &str| {
        json_id(v, field).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let at = At {
        node_id: id_of(&b.node_id, "node_id"),
        room_id: id_of(&b.room_id, "room_id"),
        org_id: id_of(&b.org_id, "org_id"),
    };
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let grant_id = add_grant(&st.db, &actor, user_id, role, at).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": grant_id }))).into_response())
}

async fn revoke_api(
    State(st): State<AppState>,
    actor: Actor,
    Path((id, grant_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    require_admin(&actor)?;
    remove_grant(&st.db, &actor, path_id(&id)?, path_id(&grant_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
struct PasswordBody {
    #[serde(default)]
    password: String,
}

async fn password_api(
    State(st): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Json(b): Json<PasswordBody>,
) -> Result<StatusCode> {
    require_admin(&actor)?;
    reset_password(&st.db, &actor, path_id(&id)?, &b.password, "password").await?;
    Ok(StatusCode::NO_CONTENT)
}
