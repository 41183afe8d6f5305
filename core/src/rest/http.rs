//! One HTTP exchange with the catalog: authentication, the retry rules of the REST spec, and
//! catalog error bodies turned into [`Error`]s with the secrets redacted.
//!
//! Retry rules (Iceberg REST spec, `rest-catalog-open-api.yaml`):
//! - 401/419: the token expired or was revoked — fetch a new one and send again, once.
//! - 503 and 429: the catalog asks to come back later — wait (honouring `Retry-After`) and retry.
//! - 500/502/504: for reads, retry; for commits the state is unknown, so never resend blindly.
//! - A refused connection never reached the catalog, so it is always safe to retry.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::auth::{describe_transport, Authenticator};
use super::model::ErrorResponse;
use crate::error::{Error, ErrorKind, Result};
use crate::redact::Redactor;

const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// What a request does, which decides whether it may be sent again after the catalog failed
/// while handling it and what a 409 or 5xx means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// Changes nothing: retried on server errors.
    Read,
    /// Creates, drops or renames: not resent after a server error; 409 means it exists.
    Change,
    /// A table commit: 409 means another commit won the race (reload and retry); 500/502/504
    /// mean the commit may or may not have been applied (reconcile, never resend blindly).
    Commit,
}

pub struct Http {
    client: reqwest::Client,
    auth: Authenticator,
    redactor: Redactor,
    user_agent: String,
}

impl Http {
    /// `secrets`: further values no outside text may echo (storage keys from a platform file).
    pub fn new(auth: Authenticator, secrets: &[&SecretString]) -> Result<Self> {
        let mut redactor = Redactor::default();
        auth.register_secrets(&mut redactor);
        for secret in secrets {
            redactor.add(secret);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            client,
            auth,
            redactor,
            user_agent: format!("floe/{}", env!("CARGO_PKG_VERSION")),
        })
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    pub async fn get<T: DeserializeOwned>(&self, url: Url, headers: &[(&str, &str)]) -> Result<T> {
        let response = self.send(Method::GET, url, None::<&()>, headers, Call::Read).await?;
        self.read_json(response).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        url: Url,
        body: &B,
        headers: &[(&str, &str)],
        call: Call,
    ) -> Result<T> {
        let response = self.send(Method::POST, url, Some(body), headers, call).await?;
        self.read_json(response).await
    }

    /// A request whose answer carries no body worth reading (HEAD, DELETE, 204 commits).
    pub async fn execute<B: Serialize>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        call: Call,
    ) -> Result<()> {
        self.send(method, url, body, &[], call).await.map(drop)
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        headers: &[(&str, &str)],
        call: Call,
    ) -> Result<Response> {
        let mut reauthenticated = false;
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let mut request: RequestBuilder = self
                .client
                .request(method.clone(), url.clone())
                .header(reqwest::header::USER_AGENT, &self.user_agent);
            if let Some(value) = self.auth.header(&self.client, &self.redactor).await? {
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let outcome = request.send().await;
            let last = attempt >= ATTEMPTS;
            let response = match outcome {
                Ok(response) => response,
                Err(err) if err.is_connect() && !last => {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                    continue;
                }
                Err(err) => {
                    let kind = if call == Call::Commit && !err.is_connect() {
                        ErrorKind::CommitStateUnknown
                    } else {
                        ErrorKind::Unavailable
                    };
                    return Err(Error::new(
                        kind,
                        format!("{method} {} failed: {}", without_query(&url), describe_transport(&err)),
                    ));
                }
            };
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let unauthorized = status == StatusCode::UNAUTHORIZED || status.as_u16() == 419;
            if unauthorized && !reauthenticated && self.auth.invalidate().await {
                reauthenticated = true;
                continue;
            }
            let retry_after = retry_after(&response);
            let transient = match status.as_u16() {
                429 | 503 => true,
                500 | 502 | 504 => call == Call::Read,
                _ => false,
            };
            if transient && !last {
                tokio::time::sleep(retry_after.unwrap_or(backoff).min(MAX_RETRY_AFTER)).await;
                backoff *= 2;
                attempt += 1;
                continue;
            }
            return Err(self.error_from(response, call).await);
        }
    }

    async fn read_json<T: DeserializeOwned>(&self, response: Response) -> Result<T> {
        let url = without_query(response.url());
        let bytes = response.bytes().await.map_err(|e| {
            Error::new(ErrorKind::Unavailable, format!("reading the answer of {url} failed: {e}"))
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("the catalog's answer to {url} is not what the Iceberg REST spec describes: {e}"),
            )
        })
    }

    async fn error_from(&self, response: Response, call: Call) -> Error {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        let detail = match serde_json::from_str::<ErrorResponse>(&body) {
            Ok(parsed) => match parsed.error.r#type {
                Some(kind) => format!("{kind}: {}", parsed.error.message),
                None => parsed.error.message,
            },
            Err(_) => body.trim().chars().take(500).collect(),
        };
        let kind = match status {
            400 | 405 | 406 | 422 => ErrorKind::InvalidInput,
            401 | 419 => ErrorKind::Unauthenticated,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 if call == Call::Commit => ErrorKind::CommitConflict,
            409 => ErrorKind::AlreadyExists,
            500 | 502 | 504 if call == Call::Commit => ErrorKind::CommitStateUnknown,
            501 => ErrorKind::Unsupported,
            _ => ErrorKind::Unavailable,
        };
        Error::new(kind, format!("catalog returned {status}: {}", self.redactor.redact(&detail)))
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// URLs are quoted in errors; queries may carry page tokens that only add noise.
fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}
