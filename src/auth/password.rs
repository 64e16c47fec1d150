//! Password hashing: argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1).
//!
//! A hash costs tens of milliseconds of CPU, so hashes run on the blocking pool behind a
//! semaphore sized to the cores: a flood of logins queues there instead of starving the
//! threads that serve everything else. Unknown accounts are checked against a dummy hash, so a
//! wrong password and an unknown user take the same time.

use std::sync::{Arc, LazyLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::ApiError;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified when the account does not exist.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("tribune-dummy-password-for-timing").expect("hashing works"));

fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 hash: {e}")))
}

fn verify_blocking(password: &str, hash: Option<&str>) -> bool {
    let stored = hash.unwrap_or(DUMMY_HASH.as_str());
    let matches = PasswordHash::new(stored)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    matches && hash.is_some()
}

/// Runs password hashes, a few at a time.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(concurrency: usize) -> Self {
        LazyLock::force(&DUMMY_HASH);
        Hasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        actix_web::web::block(move || hash_blocking(&password))
            .await
            .map_err(ApiError::internal)?
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) it does the same work
    /// and answers false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        actix_web::web::block(move || verify_blocking(&password, hash.as_deref()))
            .await
            .map_err(ApiError::internal)
    }
}

/// Rejects passwords that are common or easy to guess (zxcvbn score below 2), taking the
/// account's own username and email into account.
pub fn check_strength(password: &str, user_inputs: &[&str]) -> Result<(), ApiError> {
    // zxcvbn's cost grows with length; the first 100 characters decide anyway.
    let sample: String = password.chars().take(100).collect();
    let entropy = zxcvbn::zxcvbn(&sample, user_inputs);
    if (entropy.score() as u8) < 2 {
        return Err(ApiError::invalid(
            "password",
            "is too common or too easy to guess; try a longer phrase",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_blocking("correct horse battery staple").unwrap();
        let b = hash_blocking("correct horse battery staple").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert!(verify_blocking("correct horse battery staple", Some(&a)));
        assert!(!verify_blocking("wrong", Some(&a)));
        assert!(!verify_blocking("tribune-dummy-password-for-timing", None));
    }

    #[test]
    fn common_passwords_are_refused() {
        for weak in [
            "password",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
            "alice2024",
        ] {
            assert!(check_strength(weak, &["alice"]).is_err(), "{weak}");
        }
        assert!(check_strength("violet-otter-carries-lanterns", &[]).is_ok());
    }
}
