//! Bearer tokens for the catalog: a static token, or OAuth2 client credentials that are fetched
//! lazily, refreshed before they expire and fetched anew when the catalog answers 401/419.
//! (`iceberg-catalog-rest` 0.10 ignores `expires_in` and never refreshes, hence this module.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::error::{Error, ErrorKind, Result};
use crate::options::Auth;
use crate::redact::Redactor;

/// Tokens are refreshed when less than this share of their lifetime is left...
const REFRESH_FRACTION: f64 = 0.1;
/// ...or less than this, whichever is longer, so a request never leaves with a dying token.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);
/// RFC 6749 makes `expires_in` optional; assume the common one hour when it is missing.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

struct Token {
    value: SecretString,
    refresh_at: Instant,
}

pub struct Authenticator {
    auth: Auth,
    token: Mutex<Option<Token>>,
    fetches: AtomicU64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl Authenticator {
    pub fn new(auth: Auth) -> Self {
        Authenticator { auth, token: Mutex::new(None), fetches: AtomicU64::new(0) }
    }

    /// Registers the credentials with `redactor` so no outside text can echo them.
    pub fn register_secrets(&self, redactor: &mut Redactor) {
        match &self.auth {
            Auth::None => {}
            Auth::Token(token) => redactor.add(token),
            Auth::ClientCredentials { client_secret, .. } => redactor.add(client_secret),
            Auth::SigV4(signer) => {
                redactor.add(&signer.credentials.secret_access_key);
                if let Some(token) = &signer.credentials.session_token {
                    redactor.add(token);
                }
            }
        }
    }

    /// The `Authorization` header value for the next request, if any.
    pub async fn header(&self, client: &reqwest::Client, redactor: &Redactor) -> Result<Option<String>> {
        match &self.auth {
            // Signed as a whole once built (`sign`).
            Auth::None | Auth::SigV4(_) => Ok(None),
            Auth::Token(token) => Ok(Some(format!("Bearer {}", token.expose_secret()))),
            Auth::ClientCredentials { .. } => {
                let mut guard = self.token.lock().await;
                let fresh = guard.as_ref().is_some_and(|t| Instant::now() < t.refresh_at);
                if !fresh {
                    *guard = Some(self.fetch(client, redactor).await?);
                }
                let token = guard.as_ref().expect("token was just set");
                Ok(Some(format!("Bearer {}", token.value.expose_secret())))
            }
        }
    }

    /// Drops the cached token after the catalog rejected it; returns whether a new one can be
    /// fetched (a static token cannot).
    pub async fn invalidate(&self) -> bool {
        match &self.auth {
            Auth::ClientCredentials { .. } => {
                *self.token.lock().await = None;
                true
            }
            _ => false,
        }
    }

    /// Who the catalog sees, as far as floe knows: an OAuth2 client is named by its id (an
    /// identifier, not a secret); a token's principal is known only to the catalog.
    pub fn principal(&self) -> String {
        match &self.auth {
            Auth::None => "an anonymous caller".to_string(),
            Auth::Token(_) => "the principal of this TOKEN".to_string(),
            Auth::ClientCredentials { client_id, .. } => format!("client '{client_id}'"),
            Auth::SigV4(signer) => {
                format!("AWS access key '{}' ({})", signer.credentials.access_key_id, signer.credentials.source)
            }
        }
    }

    /// What to check when the catalog refuses these credentials.
    pub fn credentials_fix(&self) -> String {
        match &self.auth {
            Auth::None => "the catalog wants credentials: add CLIENT_ID and CLIENT_SECRET, or TOKEN".to_string(),
            Auth::Token(_) => "check TOKEN: it may have expired or belong to another catalog".to_string(),
            Auth::ClientCredentials { .. } => {
                "check CLIENT_ID and CLIENT_SECRET of the iceberg secret (and OAUTH2_SCOPE if the catalog needs one)"
                    .to_string()
            }
            Auth::SigV4(signer) => format!(
                "check the AWS credentials of {}: the secret access key, the session token if they are temporary, \
                 and the region ({}) and service ({}) they sign for",
                signer.credentials.source, signer.region, signer.signing_name
            ),
        }
    }

    /// Signs a built request where the catalog wants SigV4; other schemes set their header
    /// before (`header`).
    pub fn sign(&self, request: &mut reqwest::Request) -> Result<()> {
        match &self.auth {
            Auth::SigV4(signer) => signer.sign(request),
            _ => Ok(()),
        }
    }

    /// Where tokens come from, when they are fetched at all.
    pub fn token_endpoint(&self) -> Option<&url::Url> {
        match &self.auth {
            Auth::ClientCredentials { server_uri, .. } => Some(server_uri),
            Auth::None | Auth::Token(_) | Auth::SigV4(_) => None,
        }
    }

    /// How many tokens were fetched so far.
    pub fn token_fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Ages the cached token to its refresh point, as if its lifetime had run out.
    pub async fn expire_now(&self) {
        if let Some(token) = self.token.lock().await.as_mut() {
            token.refresh_at = Instant::now();
        }
    }

    /// Replaces the cached token, keeping its refresh time; tests use it to present a token the
    /// catalog has revoked.
    pub async fn replace_token(&self, value: SecretString) {
        if let Some(token) = self.token.lock().await.as_mut() {
            token.value = value;
        }
    }

    async fn fetch(&self, client: &reqwest::Client, redactor: &Redactor) -> Result<Token> {
        let Auth::ClientCredentials { server_uri, client_id, client_secret, scope } = &self.auth else {
            unreachable!("only client credentials are fetched")
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.expose_secret()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope.as_str()));
        }
        let response = client.post(server_uri.clone()).form(&form).send().await.map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("Cannot reach the OAuth2 token endpoint {server_uri}: {}", describe_transport(&e)),
            )
            .with_fix("check OAUTH2_SERVER_URI / ENDPOINT and that the catalog is running")
        })?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let kind = match status.as_u16() {
                400 | 401 | 403 => ErrorKind::Unauthenticated,
                _ => ErrorKind::Unavailable,
            };
            return Err(Error::new(
                kind,
                format!(
                    "The OAuth2 token endpoint {server_uri} refused client '{client_id}' (HTTP {}: {})",
                    status.as_u16(),
                    redactor.redact(body.trim())
                ),
            )
            .with_fix(
                "check CLIENT_ID and CLIENT_SECRET of the iceberg secret (and OAUTH2_SCOPE if the catalog needs one)",
            ));
        }
        let parsed: TokenResponse = serde_json::from_str(&body).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("The OAuth2 token endpoint {server_uri} sent an unreadable answer: {e}"),
            )
        })?;
        if let Some(kind) = &parsed.token_type {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(Error::unsupported(format!(
                    "The OAuth2 token endpoint {server_uri} issued a '{kind}' token; only bearer tokens are supported"
                )));
            }
        }
        let lifetime = parsed.expires_in.map(Duration::from_secs).unwrap_or(DEFAULT_LIFETIME);
        let early = REFRESH_MARGIN.max(lifetime.mul_f64(REFRESH_FRACTION));
        Ok(Token {
            value: SecretString::from(parsed.access_token),
            refresh_at: Instant::now() + lifetime.saturating_sub(early),
        })
    }
}

/// A transport error in words a user can act on, with its root cause.
pub(crate) fn describe_transport(err: &reqwest::Error) -> String {
    let mut cause = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    let lower = cause.to_lowercase();
    if lower.contains("certificate") || lower.contains("handshake") || lower.contains("tls") {
        format!(
            "the TLS handshake failed ({cause}); if the catalog's certificate comes from a private CA, point SSL_CERT_FILE at that CA's PEM file"
        )
    } else if err.is_connect() && err.is_timeout() {
        "connecting timed out (CONNECT_TIMEOUT)".to_string()
    } else if err.is_connect() {
        format!("connection refused or host unreachable ({cause})")
    } else if err.is_timeout() {
        "no answer in time".to_string()
    } else if cause.is_empty() {
        err.to_string()
    } else {
        format!("{err}: {cause}")
    }
}
