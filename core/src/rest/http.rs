//! One HTTP exchange with the catalog: authentication, the retry rules of the REST spec, a
//! deadline for the whole exchange, and catalog error bodies turned into [`Error`]s with the
//! secrets redacted.
//!
//! Retry rules (Iceberg REST spec, `rest-catalog-open-api.yaml`):
//! - 401/419: the token expired or was revoked — fetch a new one and send again, once.
//! - 503 and 429: the catalog asks to come back later — wait (honouring `Retry-After`) and retry.
//! - 500/502/504: for reads, retry; for commits the state is unknown, so never resend blindly.
//! - A refused connection never reached the catalog, so it is always safe to retry.
//!
//! Deadline: a call, its retries, waits and token fetch included, ends within
//! [`Timeouts::request`] (metadata) or [`Timeouts::commit`] (commits); a request that got no
//! answer in time is not resent. Waiting is asynchronous: no thread spins while the catalog is
//! silent.

use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::auth::{describe_transport, Authenticator};
use super::model::ErrorResponse;
use crate::error::{Error, ErrorKind, Result};
use crate::options::Timeouts;
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
    timeouts: Timeouts,
}

impl Http {
    /// `secrets`: further values no outside text may echo (storage keys from a platform file);
    /// `headers`: sent with every request, token requests included.
    pub fn new(
        auth: Authenticator,
        secrets: &[&SecretString],
        headers: &[(String, String)],
        timeouts: Timeouts,
    ) -> Result<Self> {
        let mut redactor = Redactor::default();
        auth.register_secrets(&mut redactor);
        for secret in secrets {
            redactor.add(secret);
        }
        let mut default_headers = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid_input(format!("'{name}' is not an HTTP header name")))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| Error::invalid_input(format!("'{value}' is not a valid value of HTTP header {name}")))?;
            default_headers.insert(name, value);
        }
        // No client-wide timeout: every call sets its own deadline (see `send`).
        let client = reqwest::Client::builder()
            .default_headers(default_headers)
            .connect_timeout(timeouts.connect)
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http { client, auth, redactor, user_agent: format!("floe/{}", env!("CARGO_PKG_VERSION")), timeouts })
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    pub async fn get<T: DeserializeOwned>(&self, url: Url, headers: &[(&str, &str)]) -> Result<T> {
        let response = self.send(Method::GET, url, None::<&()>, headers, Call::Read).await?;
        self.read_json(response, Call::Read).await
    }

    /// A GET that may carry `If-None-Match` among `headers`: `None` when the server answers
    /// 304 Not Modified, else the answer with the `ETag` the server tagged it with, if any.
    pub async fn get_tagged<T: DeserializeOwned>(
        &self,
        url: Url,
        headers: &[(&str, &str)],
    ) -> Result<Option<Tagged<T>>> {
        let response = self.send(Method::GET, url, None::<&()>, headers, Call::Read).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let etag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(Some(Tagged { value: self.read_json(response, Call::Read).await?, etag }))
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        url: Url,
        body: &B,
        headers: &[(&str, &str)],
        call: Call,
    ) -> Result<T> {
        let response = self.send(Method::POST, url, Some(body), headers, call).await?;
        self.read_json(response, call).await
    }

    /// A request whose answer carries no body worth reading (HEAD, DELETE, 204 commits).
    pub async fn execute<B: Serialize>(&self, method: Method, url: Url, body: Option<&B>, call: Call) -> Result<()> {
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
        let deadline = Deadline::new(call, &self.timeouts);
        let exchange = Exchange { method: &method, url: &url, call, deadline: &deadline, timeouts: &self.timeouts };
        let mut reauthenticated = false;
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let remaining = deadline.remaining();
            if remaining.is_zero() {
                return Err(exchange.no_answer());
            }
            // The token may have to be fetched first; that fetch spends the same budget.
            let header = tokio::time::timeout(remaining, self.auth.header(&self.client, &self.redactor))
                .await
                .map_err(|_| exchange.no_token(&self.auth))??;
            let mut request: RequestBuilder = self
                .client
                .request(method.clone(), url.clone())
                .header(reqwest::header::USER_AGENT, &self.user_agent)
                .timeout(deadline.remaining());
            if let Some(value) = header {
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let mut request = request.build().map_err(|e| {
                Error::invalid_input(format!("{method} {}: {}", without_query(&url), describe_transport(&e)))
            })?;
            self.auth.sign(&mut request)?;
            let outcome = self.client.execute(request).await;
            let last = attempt >= ATTEMPTS;
            let response = match outcome {
                Ok(response) => response,
                Err(err) if err.is_timeout() => return Err(exchange.timed_out(&err)),
                Err(err) if err.is_connect() && !last && backoff < deadline.remaining() => {
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
            // 304 answers a conditional request (`get_tagged`), and only those.
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                return Ok(response);
            }
            let unauthorized = status == StatusCode::UNAUTHORIZED || status.as_u16() == 419;
            if unauthorized && !reauthenticated && self.auth.invalidate().await {
                reauthenticated = true;
                continue;
            }
            let wait = retry_after(&response).unwrap_or(backoff).min(MAX_RETRY_AFTER);
            let transient = match status.as_u16() {
                429 | 503 => true,
                500 | 502 | 504 => call == Call::Read,
                _ => false,
            };
            // A wait that would outlast the deadline is not started: the answer is final now.
            if transient && !last && wait < deadline.remaining() {
                tokio::time::sleep(wait).await;
                backoff *= 2;
                attempt += 1;
                continue;
            }
            return Err(self.error_from(response, call).await);
        }
    }

    async fn read_json<T: DeserializeOwned>(&self, response: Response, call: Call) -> Result<T> {
        let url = without_query(response.url());
        let bytes = response.bytes().await.map_err(|e| {
            // A commit answered with success whose body was cut off has been applied, but
            // nothing here can prove it: the caller reconciles.
            let kind = if call == Call::Commit { ErrorKind::CommitStateUnknown } else { ErrorKind::Unavailable };
            let what = if e.is_timeout() { "timed out".to_string() } else { format!("failed: {e}") };
            Error::new(kind, format!("reading the answer of {url} {what}"))
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

/// An answer and the entity tag (RFC 9110 `ETag`) it came with.
#[derive(Debug)]
pub struct Tagged<T> {
    pub value: T,
    pub etag: Option<String>,
}

/// When one call must end, and the setting that says so.
struct Deadline {
    at: Instant,
    budget: Duration,
    setting: Setting,
}

/// A timeout as users set it: the ATTACH option, the platform file key, the default.
#[derive(Clone, Copy)]
struct Setting {
    option: &'static str,
    key: &'static str,
    default: Duration,
}

impl Deadline {
    fn new(call: Call, timeouts: &Timeouts) -> Self {
        let (budget, setting) = match call {
            Call::Commit => (
                timeouts.commit,
                Setting { option: "COMMIT_TIMEOUT", key: "timeouts.commit", default: Timeouts::default().commit },
            ),
            Call::Read | Call::Change => (
                timeouts.request,
                Setting { option: "REQUEST_TIMEOUT", key: "timeouts.request", default: Timeouts::default().request },
            ),
        };
        Deadline { at: Instant::now() + budget, budget, setting }
    }

    fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

/// One call as its errors describe it.
struct Exchange<'a> {
    method: &'a Method,
    url: &'a Url,
    call: Call,
    deadline: &'a Deadline,
    timeouts: &'a Timeouts,
}

impl Exchange<'_> {
    /// The transport gave up: connecting took longer than CONNECT_TIMEOUT, or no (complete)
    /// answer came before the call's deadline.
    fn timed_out(&self, err: &reqwest::Error) -> Error {
        if err.is_connect() {
            let (option, key) = ("CONNECT_TIMEOUT", "timeouts.connect");
            let host = match (self.url.host_str(), self.url.port_or_known_default()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                _ => self.url.to_string(),
            };
            return Error::new(
                ErrorKind::Unavailable,
                format!(
                    "{} {}: connecting to {host} timed out after {} ({option})",
                    self.method,
                    without_query(self.url),
                    seconds(self.timeouts.connect)
                ),
            )
            .with_fix(format!(
                "check that {host} is the catalog's address and reachable from here; on a slow network raise {option} (an ATTACH option, or {key} in the platform file, in seconds; default {})",
                seconds(Timeouts::default().connect)
            ));
        }
        self.no_answer()
    }

    fn no_answer(&self) -> Error {
        let Setting { option, key, default } = self.deadline.setting;
        // A commit that left may have been applied: its outcome is unknown, never resent.
        let kind = if self.call == Call::Commit { ErrorKind::CommitStateUnknown } else { ErrorKind::Unavailable };
        Error::new(
            kind,
            format!(
                "{} {} timed out: the catalog sent no answer within {} ({option})",
                self.method,
                without_query(self.url),
                seconds(self.deadline.budget)
            ),
        )
        .with_fix(format!(
            "check that the catalog at {} is running and answering; if it is only slow, raise {option} (an ATTACH option, or {key} in the platform file, in seconds; default {})",
            self.url.origin().ascii_serialization(),
            seconds(default)
        ))
    }

    /// No OAuth2 token arrived before the call's deadline; the request itself was never sent.
    fn no_token(&self, auth: &Authenticator) -> Error {
        let Setting { option, key, .. } = self.deadline.setting;
        let endpoint = auth.token_endpoint().map(|u| u.to_string()).unwrap_or_default();
        Error::new(
            ErrorKind::Unavailable,
            format!(
                "{} {}: the OAuth2 token endpoint {endpoint} sent no token within {} ({option})",
                self.method,
                without_query(self.url),
                seconds(self.deadline.budget)
            ),
        )
        .with_fix(format!(
            "check that the token endpoint (OAUTH2_SERVER_URI, default {{ENDPOINT}}/v1/oauth/tokens) is running and answering; if it is only slow, raise {option} (an ATTACH option, or {key} in the platform file)"
        ))
    }
}

/// `30 s`, `1.5 s`.
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
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
