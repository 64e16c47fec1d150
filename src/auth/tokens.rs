//! Access tokens (JWT) and opaque tokens (refresh, password reset).
//!
//! Access tokens are HMAC-signed JWTs (HS256 unless `TRIBUNE_JWT_ALG` says HS384 or HS512),
//! valid 15 minutes, with `sub`, `role`, `sid` (the session), `iat`, `exp`, `iss` (the public
//! URL), `aud` and `typ`; all are checked. Opaque tokens are 256 random bits, given to the
//! client in hex and stored only as their SHA-256.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::error::ApiError;

/// Lifetime of an access token, in seconds.
pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
const AUDIENCE: &str = "tribune";
const ACCESS_TYPE: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: String,
    /// The session the token belongs to.
    pub sid: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub typ: String,
}

/// Signs and checks access tokens.
pub struct TokenKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    /// Access tokens verified lately, by their text: a signed-in reader sends the same token
    /// with every request for its 15 minutes, and decoding and checking it again (base64, two
    /// JSON documents, an HMAC) cost a signed-in page read a fifth of its time. Only tokens
    /// that passed [`TokenKeys::verify`] enter, so nobody can fill it without valid tokens;
    /// it is bounded in entries anyway, and expiry is checked again at every hit.
    verified: quick_cache::sync::Cache<Box<str>, Claims>,
}

/// Verified access tokens kept at most (about 300 bytes each).
const VERIFIED_TOKENS: usize = 10_000;

impl TokenKeys {
    pub fn new(secret: &Secret, algorithm: Algorithm, issuer: &str) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 5;
        TokenKeys {
            algorithm,
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            issuer: issuer.to_string(),
            verified: quick_cache::sync::Cache::new(VERIFIED_TOKENS),
        }
    }

    pub fn issue(&self, user_id: i64, role: &str, session_id: i64) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.to_string(),
            sid: session_id,
            iat: now,
            exp: now + ACCESS_TTL_SECONDS,
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_string(),
            typ: ACCESS_TYPE.to_string(),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The claims of a valid access token; any flaw is a 401.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        if let Some(claims) = self.verified.get(token) {
            // The one check that changes with time, as jsonwebtoken makes it (with leeway).
            if claims.exp + self.validation.leeway as i64 >= Utc::now().timestamp() {
                return Ok(claims);
            }
            self.verified.remove(token);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| ApiError::Unauthorized(format!("invalid access token: {e}")))?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(ApiError::Unauthorized("not an access token".into()));
        }
        self.verified.insert(token.into(), data.claims.clone());
        Ok(data.claims)
    }
}

/// A new opaque token (256 random bits, hex).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What is stored of an opaque token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lowercase hexadecimal, two digits a byte (no allocation a byte: ETags are made per request).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_writes_two_lowercase_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    fn keys(secret: &str, issuer: &str) -> TokenKeys {
        TokenKeys::new(&Secret::new(secret), Algorithm::HS256, issuer)
    }

    #[test]
    fn a_token_verifies_only_with_its_key_and_issuer() {
        let a = keys("a-secret-of-thirty-two-characters!", "http://a");
        let token = a.issue(7, "user", 3).unwrap();
        let claims = a.verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid), ("7", 3));
        assert!(
            keys("another-secret-of-thirty-two-chars", "http://a")
                .verify(&token)
                .is_err()
        );
        assert!(
            keys("a-secret-of-thirty-two-characters!", "http://b")
                .verify(&token)
                .is_err()
        );
        assert!(a.verify(&random_token()).is_err());
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let a = keys("a-secret-of-thirty-two-characters!", "http://a");
        let token = a.issue(7, "user", 3).unwrap();
        let mut claims = a.verify(&token).unwrap();
        assert!(a.verified.get(token.as_str()).is_some(), "remembered");
        assert_eq!(a.verify(&token).unwrap().sid, 3, "and valid while it lasts");
        // A remembered token whose time is up is not taken from memory: it is decoded again,
        // and (this one being no real token) refused.
        claims.exp = Utc::now().timestamp() - 60;
        a.verified.insert("remembered-but-expired".into(), claims);
        assert!(a.verify("remembered-but-expired").is_err());
        assert!(
            a.verified.get("remembered-but-expired").is_none(),
            "and forgotten"
        );
    }

    #[test]
    fn opaque_tokens_are_random_and_hashed() {
        let t = random_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, random_token());
        assert_eq!(token_hash(&t), token_hash(&t));
        assert_ne!(token_hash(&t), t);
    }
}
