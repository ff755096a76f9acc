//! Passwords: a policy for new ones, argon2id hashing off the async runtime.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use api::error::ApiError;

pub const MIN_LENGTH: usize = 12;

/// At least 12 characters from at least three of: lower case, upper case,
/// digits, symbols (GB/T 22239 asks for complexity; 12 is OWASP's floor for
/// accounts without a mandatory second factor, and we keep it for all).
pub fn check_policy(password: &str, login_name: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(ApiError::invalid(
            "password",
            format!("密码至少 {MIN_LENGTH} 个字符"),
        ));
    }
    if chars > 128 {
        return Err(ApiError::invalid("password", "密码最多 128 个字符"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err(ApiError::invalid(
            "password",
            "密码须包含小写字母、大写字母、数字、符号中的至少三类",
        ));
    }
    if password.to_lowercase().contains(&login_name.to_lowercase()) {
        return Err(ApiError::invalid("password", "密码不能包含登录名"));
    }
    Ok(())
}

/// Hashes with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's
/// recommendation) on a blocking thread.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// Verifies on a blocking thread. An unknown user is checked against a
/// dummy hash so that timing does not tell which accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// argon2id of a random value nobody knows, with the default parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0ZgHKe4QvZm1p0ZlWJ1w1xN9pD3y2T+8M0qgV+0jQ1k";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_needs_length_and_three_classes() {
        assert!(check_policy("Short1!", "admin").is_err());
        assert!(check_policy("alllowercaseletters", "admin").is_err());
        assert!(check_policy("lowercase123456", "admin").is_err());
        assert!(check_policy("Lowercase123456", "admin").is_ok());
        assert!(check_policy("xX-sysadmin-2025", "sysadmin").is_err());
        assert!(check_policy(&"Aa1!".repeat(40), "admin").is_err());
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("Correct-Horse-42".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify("Correct-Horse-42".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("correct-horse-42".into(), Some(h)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
