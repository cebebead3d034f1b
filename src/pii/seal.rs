//! Sealing of sensitive fields at rest: AES-256-GCM with a random nonce per value, and a
//! keyed digest (HMAC-SHA256) to find a person by ID number without decrypting.
//! Layout of a sealed value: version byte 1, 12-byte nonce, ciphertext with tag.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct Seal {
    cipher: Aes256Gcm,
    digest_key: [u8; 32],
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl Seal {
    pub fn from_key(key: &[u8; 32]) -> Seal {
        let digest_key: [u8; 32] = Sha256::new()
            .chain_update(b"redbutler digest key")
            .chain_update(key)
            .finalize()
            .into();
        Seal {
            cipher: Aes256Gcm::new(key.into()),
            digest_key,
        }
    }

    /// Parses a key given as 64 hex digits or base64 of 32 bytes.
    pub fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(t)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .context("the secret key is neither hex nor base64")?
        };
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("the secret key must be 32 bytes"))?;
        Ok(key)
    }

    /// Reads the key file, creating it with a new random key (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Seal> {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading key file {}", path.display()))?;
            return Ok(Seal::from_key(&Seal::parse_key(&text)?));
        }
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let text = hex::encode(key);
        write_private(path, &text)
            .with_context(|| format!("writing key file {}", path.display()))?;
        tracing::warn!(path = %path.display(), "created a new secret key file; keep it with your backups");
        Ok(Seal::from_key(&key))
    }

    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM encryption");
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<String> {
        if sealed.len() < 13 || sealed[0] != 1 {
            bail!("not a sealed value");
        }
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(&sealed[1..13]), &sealed[13..])
            .map_err(|_| anyhow::anyhow!("the sealed value does not open with this key"))?;
        Ok(String::from_utf8(plain)?)
    }

    /// A stable keyed digest (hex) of a normalised value.
    pub fn digest(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.digest_key).expect("hmac key");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_refuses_other_keys() {
        let a = Seal::from_key(&[7; 32]);
        let b = Seal::from_key(&[8; 32]);
        let s = a.seal("13812341234");
        assert!(!s.windows(11).any(|w| w == b"13812341234"));
        assert_eq!(a.open(&s).unwrap(), "13812341234");
        assert!(b.open(&s).is_err());
        assert_ne!(a.seal("x"), a.seal("x"), "nonces differ");
        assert_eq!(a.digest("x"), a.digest("x"));
        assert_ne!(a.digest("x"), b.digest("x"));
    }

    #[test]
    fn parses_hex_and_base64_keys() {
        let hex_key = "00".repeat(32);
        assert_eq!(Seal::parse_key(&hex_key).unwrap(), [0; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert_eq!(Seal::parse_key(&b64).unwrap(), [1; 32]);
        assert!(Seal::parse_key("short").is_err());
    }
}
