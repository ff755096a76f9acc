//! The ES256 keys that sign our access tokens.
//!
//! Keys live in the database (private halves sealed with SM4-GCM), so every
//! instance signs and verifies with the same set. The newest key signs; a
//! rotated-out key keeps being published in the JWKS, and accepted, until
//! every token it signed has expired, so rotation logs nobody out. Each
//! process caches the set and reloads it every minute, or at once when a
//! token names a key it has not seen.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::clock;
use api::db::Db;
use api::on_db;
use api::pii::PiiCipher;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};
use sqlx::FromRow;
use time::OffsetDateTime;
use tokio::sync::RwLock;

const SEAL_FIELD: &str = "signing_keys.private_key";
const RELOAD_EVERY: Duration = Duration::from_secs(60);
/// Reloading because of an unknown `kid` happens at most this often, so a
/// flood of forged tokens cannot turn into a flood of queries.
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);

pub struct KeyRing {
    db: Db,
    pii: Arc<PiiCipher>,
    access_ttl: Duration,
    loaded: RwLock<Loaded>,
}

struct Loaded {
    signing: Option<(String, Arc<EncodingKey>)>,
    verifying: HashMap<String, Arc<DecodingKey>>,
    jwks: Value,
    at: Instant,
}

#[derive(FromRow)]
struct KeyRow {
    kid: String,
    private_key: Vec<u8>,
    public_jwk: String,
    retired_at: Option<OffsetDateTime>,
}

impl KeyRing {
    /// Loads the keys, creating the first one on a new database.
    pub async fn load(db: Db, pii: Arc<PiiCipher>, access_ttl: Duration) -> anyhow::Result<Self> {
        let ring = KeyRing {
            db,
            pii,
            access_ttl,
            loaded: RwLock::new(Loaded {
                signing: None,
                verifying: HashMap::new(),
                jwks: json!({ "keys": [] }),
                at: Instant::now(),
            }),
        };
        ring.reload().await?;
        if ring.loaded.read().await.signing.is_none() {
            ring.rotate().await?;
        }
        Ok(ring)
    }

    /// Makes a new signing key; the previous ones stop signing but stay
    /// published until their tokens have expired.
    pub async fn rotate(&self) -> anyhow::Result<String> {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let pem = secret.to_pkcs8_pem(LineEnding::LF)?;
        let kid = ulid::Ulid::new().to_string();
        let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string())?;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        let sealed = self.pii.encrypt(SEAL_FIELD, pem.as_str());
        let now = clock::now();
        let mut tx = self.db.begin().await?;
        const RETIRE: &str = "UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL";
        const INSERT: &str = "INSERT INTO signing_keys (kid, private_key, public_jwk, created_at) VALUES ($1, $2, $3, $4)";
        api::on_tx!(&mut tx, c => sqlx::query(RETIRE).bind(now).execute(c).await.map(|_| ()))?;
        api::on_tx!(&mut tx, c => sqlx::query(INSERT).bind(&kid).bind(&sealed).bind(jwk.to_string()).bind(now)
            .execute(c).await.map(|_| ()))?;
        tx.commit().await?;
        self.reload().await?;
        tracing::info!(kid = %kid, "new token signing key");
        Ok(kid)
    }

    async fn reload(&self) -> anyhow::Result<()> {
        // Keys retired longer ago than a token lives sign nothing still valid.
        let horizon = clock::now() - self.access_ttl - Duration::from_secs(60);
        const SQL: &str = "SELECT kid, private_key, public_jwk, retired_at FROM signing_keys \
             WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid DESC";
        let rows: Vec<KeyRow> =
            on_db!(&self.db, p => sqlx::query_as(SQL).bind(horizon).fetch_all(p).await)?;
        let mut signing = None;
        let mut verifying = HashMap::new();
        let mut published = Vec::new();
        for row in rows {
            let jwk: Value = serde_json::from_str(&row.public_jwk)?;
            let (Some(x), Some(y)) = (jwk["x"].as_str(), jwk["y"].as_str()) else {
                anyhow::bail!("signing key {} has a malformed public JWK", row.kid);
            };
            verifying.insert(
                row.kid.clone(),
                Arc::new(DecodingKey::from_ec_components(x, y)?),
            );
            if row.retired_at.is_none() && signing.is_none() {
                let pem = self.pii.decrypt(SEAL_FIELD, &row.private_key)?;
                signing = Some((
                    row.kid.clone(),
                    Arc::new(EncodingKey::from_ec_pem(pem.as_bytes())?),
                ));
            }
            published.push(jwk);
        }
        *self.loaded.write().await = Loaded {
            signing,
            verifying,
            jwks: json!({ "keys": published }),
            at: Instant::now(),
        };
        Ok(())
    }

    async fn fresh(&self) {
        if self.loaded.read().await.at.elapsed() > RELOAD_EVERY
            && let Err(e) = self.reload().await
        {
            tracing::error!(error = %format!("{e:#}"), "reloading signing keys failed; keeping the old set");
        }
    }

    pub async fn signing_key(&self) -> Option<(String, Arc<EncodingKey>)> {
        self.fresh().await;
        self.loaded.read().await.signing.clone()
    }

    pub async fn verifying_key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.fresh().await;
        if let Some(key) = self.loaded.read().await.verifying.get(kid) {
            return Some(key.clone());
        }
        if self.loaded.read().await.at.elapsed() > UNKNOWN_KID_RELOAD {
            let _ = self.reload().await;
        }
        self.loaded.read().await.verifying.get(kid).cloned()
    }

    pub async fn jwks(&self) -> Value {
        self.fresh().await;
        self.loaded.read().await.jwks.clone()
    }
}
