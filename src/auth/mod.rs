//! Who is asking: password login with a growing delay and a lock, browser sessions with
//! CSRF tokens, and API tokens. Produces the [`crate::access::Actor`] of each request.

pub mod extract;
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
