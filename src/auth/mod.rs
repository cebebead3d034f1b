//! Who is asking: password login with a growing delay and a lock, browser sessions with
//! CSRF tokens, and API tokens. Produces the [`crate::access::Actor`] of each request.

pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod web;

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random secret, URL-safe base64 of 32 bytes.
pub fn random_secret() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What is stored of a secret: its SHA-256, hex.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The actor of a session or token row (`user_id`, `username`, `display_name`, `person_id`,
/// `disabled`), with the user's grants; none for a disabled account.
async fn actor_from_row(
    db: &crate::storage::Db,
    sid: i64,
    r: &sqlx::any::AnyRow,
    via: crate::access::Via,
) -> crate::error::Result<Option<crate::access::Actor>> {
    use sqlx::Row;
    if r.get::<i64, _>("disabled") != 0 {
        return Ok(None);
    }
    let user_id: i64 = r.get("user_id");
    Ok(Some(crate::access::Actor {
        subdistrict_id: sid,
        user_id,
        username: r.get("username"),
        display_name: r.get("display_name"),
        person_id: crate::storage::opt_i64(r, "person_id"),
        grants: crate::access::store::grants_of(db, sid, user_id).await?,
        via,
    }))
}
