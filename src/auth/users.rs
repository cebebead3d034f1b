//! Accounts: creating users, passwords, and checking a login against the throttle.

use serde::Serialize;
use sqlx::Row;

use super::{password, throttle};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{Error, FieldError, Result};
use crate::i18n::Text;
use crate::storage::{next_id, opt_i64, Db, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub subdistrict_id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    pub disabled: bool,
}

fn check_username(u: &str) -> std::result::Result<(), FieldError> {
    let ok = (2..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "username",
            Text::new(
                "用户名为2到64位字母、数字或 . _ - @",
                "a user name has 2 to 64 letters, digits or . _ - @",
            ),
        ))
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub person_id: Option<i64>,
}

/// Creates a user. `password_hash` may be given to skip hashing (bulk demo loads).
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    new: &NewUser,
    password_hash: Option<String>,
) -> Result<User> {
    let sid = actor.subdistrict_id;
    let username = new.username.trim();
    let display = new.display_name.trim();
    let mut errors = Vec::new();
    if let Err(e) = check_username(username) {
        errors.push(e);
    }
    if display.is_empty() || display.chars().count() > 50 {
        errors.push(FieldError::new(
            "display_name",
            Text::new(
                "请填写显示名(不超过50字)",
                "give a display name of at most 50 characters",
            ),
        ));
    }
    if password_hash.is_none() {
        if let Err(e) = password::check_policy("password", &new.password) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let hash = match password_hash {
        Some(h) => h,
        None => {
            let p = new.password.clone();
            tokio::task::spawn_blocking(move || password::hash(&p))
                .await
                .map_err(|e| Error::Internal(e.into()))?
        }
    };
    let id = next_id();
    let now = crate::clock::now_ms();
    let r = sqlx::query(
        "INSERT INTO users (subdistrict_id, id, username, display_name, password_hash, person_id, disabled, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
    )
    .bind(sid)
    .bind(id)
    .bind(username)
    .bind(display)
    .bind(&hash)
    .bind(new.person_id)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await;
    if let Err(e) = &r {
        if crate::storage::is_unique_violation(e) {
            return Err(Error::field(
                "username",
                Text::new("该用户名已被使用", "this user name is taken"),
            ));
        }
    }
    r?;
    audit::record(
        tx,
        actor,
        Change::new("user.create", "user", Some(id))
            .label(username)
            .after(serde_json::json!({ "username": username, "display_name": display, "person_id": new.person_id })),
    )
    .await?;
    Ok(User {
        id,
        subdistrict_id: sid,
        username: username.into(),
        display_name: display.into(),
        person_id: new.person_id,
        disabled: false,
    })
}

fn user_from(r: &sqlx::any::AnyRow) -> User {
    User {
        id: r.get("id"),
        subdistrict_id: r.get("subdistrict_id"),
        username: r.get("username"),
        display_name: r.get("display_name"),
        person_id: opt_i64(r, "person_id"),
        disabled: r.get::<i64, _>("disabled") != 0,
    }
}

const USER_COLS: &str = "subdistrict_id, id, username, display_name, person_id, disabled";

pub async fn by_username(db: &Db, sid: i64, username: &str) -> Result<Option<User>> {
    let r = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE subdistrict_id = $1 AND username = $2"
    ))
    .bind(sid)
    .bind(username.trim())
    .fetch_optional(db.read())
    .await?;
    Ok(r.as_ref().map(user_from))
}

pub async fn by_id(db: &Db, sid: i64, id: i64) -> Result<User> {
    let r = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE subdistrict_id = $1 AND id = $2"
    ))
    .bind(sid)
    .bind(id)
    .fetch_optional(db.read())
    .await?
    .ok_or(Error::NotFound)?;
    Ok(user_from(&r))
}

pub async fn list(db: &Db, sid: i64) -> Result<Vec<User>> {
    let rows = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE subdistrict_id = $1 ORDER BY username"
    ))
    .bind(sid)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(user_from).collect())
}

/// Sets a new password and ends every session of the user (one transaction).
pub async fn set_password(
    tx: &mut Tx,
    actor: &Actor,
    user_id: i64,
    new_password: &str,
) -> Result<()> {
    password::check_policy("new_password", new_password).map_err(|e| Error::Invalid(vec![e]))?;
    let p = new_password.to_string();
    let hash = tokio::task::spawn_blocking(move || password::hash(&p))
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let r = sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE subdistrict_id = $3 AND id = $4")
        .bind(hash)
        .bind(crate::clock::now_ms())
        .bind(actor.subdistrict_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    sqlx::query("DELETE FROM sessions WHERE subdistrict_id = $1 AND user_id = $2")
        .bind(actor.subdistrict_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        actor,
        Change::new("user.password", "user", Some(user_id)),
    )
    .await?;
    Ok(())
}

/// Checks a password for a user name, applying the delay and lock. Records each failure
/// and clears the count on success. Unknown names are treated like wrong passwords.
pub async fn check_login(db: &Db, sid: i64, username: &str, pw: &str) -> Result<User> {
    let username = username.trim();
    let now = crate::clock::now_ms();
    let row = sqlx::query("SELECT failures, last_failure_at FROM login_failures WHERE subdistrict_id = $1 AND username = $2")
        .bind(sid)
        .bind(username)
        .fetch_optional(db.read())
        .await?;
    let (failures, last) = row
        .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1)))
        .unwrap_or((0, 0));
    if let Some(wait) = throttle::wait(failures, last, now) {
        return Err(Error::TooManyAttempts {
            retry_after_s: ((wait + 999) / 1000) as u64,
        });
    }
    let found = sqlx::query(&format!(
        "SELECT {USER_COLS}, password_hash FROM users WHERE subdistrict_id = $1 AND username = $2"
    ))
    .bind(sid)
    .bind(username)
    .fetch_optional(db.read())
    .await?;
    let hash = found.as_ref().map_or_else(
        || password::dummy_hash().to_string(),
        |r| r.get::<String, _>("password_hash"),
    );
    let p = pw.to_string();
    let ok = tokio::task::spawn_blocking(move || password::verify(&p, &hash))
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let user = found.as_ref().map(user_from).filter(|u| ok && !u.disabled);
    let mut tx = db.begin().await?;
    let result = match user {
        Some(u) => {
            sqlx::query("DELETE FROM login_failures WHERE subdistrict_id = $1 AND username = $2")
                .bind(sid)
                .bind(username)
                .execute(&mut *tx)
                .await?;
            audit::record_as(
                &mut tx,
                sid,
                Some(u.id),
                &u.username,
                Change::new("auth.login", "user", Some(u.id)).label(&u.username),
            )
            .await?;
            Ok(u)
        }
        None => {
            let counted = throttle::effective_failures(failures, last, now) + 1;
            sqlx::query("DELETE FROM login_failures WHERE subdistrict_id = $1 AND username = $2")
                .bind(sid)
                .bind(username)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO login_failures (subdistrict_id, username, failures, last_failure_at) VALUES ($1, $2, $3, $4)")
                .bind(sid)
                .bind(username)
                .bind(counted)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let label: String = username.chars().take(64).collect();
            audit::record_as(
                &mut tx,
                sid,
                found.as_ref().map(|r| r.get::<i64, _>("id")),
                &label,
                Change::new(
                    "auth.login_failed",
                    "user",
                    found.as_ref().map(|r| r.get::<i64, _>("id")),
                )
                .label(&label)
                .after(serde_json::json!({ "failures": counted })),
            )
            .await?;
            Err(Error::Unauthorized)
        }
    };
    tx.commit().await?;
    result
}
