//! Storage failures as floe errors: what was tried on which object, with which credentials, why it
//! failed and the fix; expired credentials marked so the caller can renew them and try again.
//! Texts that come from the store are scrubbed of every credential value first.

use std::fmt;

use super::location::ObjectUrl;
use super::operator::endpoint;
use super::props::{CredentialSource, StorageProps};
use crate::error::{Error, ErrorKind};

/// A storage failure: the floe error to report, and whether new credentials could cure it.
#[derive(Debug, Clone)]
pub struct StorageError {
    error: Error,
    credentials_expired: bool,
}

impl StorageError {
    /// The store refused the credentials as expired.
    pub fn credentials_expired(&self) -> bool {
        self.credentials_expired
    }

    /// Access was refused: expired credentials, or ones that never granted it.
    pub fn is_forbidden(&self) -> bool {
        self.error.kind() == ErrorKind::Forbidden
    }

    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl From<Error> for StorageError {
    fn from(error: Error) -> Self {
        StorageError { error, credentials_expired: false }
    }
}

impl From<StorageError> for Error {
    fn from(err: StorageError) -> Self {
        err.error
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for StorageError {}

/// What a failed request was doing: `action` reads as "Cannot {action} {url}", e.g. "read bytes
/// 0..4096 of".
pub(crate) struct Attempt<'a> {
    pub action: &'a str,
    pub url: &'a str,
    pub object: &'a ObjectUrl<'a>,
    pub props: &'a StorageProps,
}

impl Attempt<'_> {
    /// The floe error for `err`, which opendal returned for this attempt.
    pub fn failed(&self, err: &opendal::Error) -> StorageError {
        let text = err.to_string();
        let detail = self.props.redactor().redact(&summary(err.message()));
        let source = self.props.source();
        let what = |reason: &str| {
            let detail = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
            format!("Cannot {} {} with {source}: {reason}{detail}", self.action, self.url)
        };
        if is_missing_bucket(&text) {
            return self.missing_bucket(&detail);
        }
        match err.kind() {
            opendal::ErrorKind::NotFound => {
                Error::new(ErrorKind::NotFound, what("no such object")).with_fix(
                    "the file was removed outside the catalog (a lifecycle rule, a purge, a manual delete); restore it or roll the table back to a snapshot that does not need it",
                ).into()
            }
            _ if is_denied(err, &text) => {
                let refusal = Refusal::of(&text);
                StorageError {
                    error: Error::new(ErrorKind::Forbidden, what(refusal.reason()))
                        .with_fix(denied_fix(source, refusal, self.object)),
                    credentials_expired: refusal == Refusal::Expired,
                }
            }
            _ if text.contains("too little data") => Error::storage(what("the object ended before the requested range"))
                .with_fix("the file is shorter than the catalog says: it was replaced or truncated outside the catalog")
                .into(),
            opendal::ErrorKind::ConfigInvalid => Error::invalid_input(what("the storage settings are invalid"))
                .with_fix("check the storage properties the catalog or the platform file gives for this location")
                .into(),
            opendal::ErrorKind::RangeNotSatisfied => Error::storage(what("the range lies beyond the end of the object"))
                .with_fix("the file is shorter than the catalog says: it was replaced outside the catalog")
                .into(),
            opendal::ErrorKind::RateLimited => {
                Error::new(ErrorKind::Unavailable, what("the store kept throttling the requests"))
                    .with_fix("retry later, or lower DuckDB's threads to send fewer requests at once")
                    .into()
            }
            _ if err.is_temporary() || err.is_persistent() => {
                let endpoint = endpoint(self.object, self.props);
                let mut fix = format!("check that {endpoint} is running and reachable from this machine; floe retried the request before giving up");
                if self.props.is_empty() {
                    // Nothing gave this store's address or credentials: the default address
                    // is a guess from the URL, so the missing secret is the likelier cause.
                    fix = format!("the catalog vended no storage settings and no DuckDB secret covers the location: {}; else {fix}", create_secret(self.object));
                }
                Error::new(ErrorKind::Unavailable, what(&format!("{endpoint} did not answer in time or could not be reached")))
                    .with_fix(fix)
                    .into()
            }
            _ => Error::storage(what("the store answered with an error")).into(),
        }
    }
}

/// Why the store refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The credentials are valid but grant no such access.
    Denied,
    /// The store does not accept the keys at all (unknown key, wrong secret).
    Invalid,
    /// The store says the credentials expired.
    Expired,
}

impl Refusal {
    fn of(text: &str) -> Refusal {
        if is_expired(text) {
            Refusal::Expired
        } else if ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthenticationFailed", "status: 401"]
            .iter()
            .any(|code| text.contains(code))
        {
            Refusal::Invalid
        } else {
            Refusal::Denied
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Refusal::Denied => "access denied",
            Refusal::Invalid => "the store does not accept these credentials",
            Refusal::Expired => "the credentials have expired",
        }
    }
}

impl Attempt<'_> {
    /// The error for an object whose bucket (or container) does not exist; `detail` is what the
    /// store said.
    pub fn missing_bucket(&self, detail: &str) -> StorageError {
        let bucket_word = self.object.service.bucket_word();
        let detail = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
        Error::new(
            ErrorKind::NotFound,
            format!(
                "Cannot {} {} with {}: {bucket_word} '{}' does not exist at {}{detail}",
                self.action,
                self.url,
                self.props.source(),
                self.object.bucket,
                endpoint(self.object, self.props)
            ),
        )
        .with_fix(format!(
            "check the table location and the storage endpoint: the {bucket_word} '{}' must exist on the store the catalog's tables live in",
            self.object.bucket
        ))
        .into()
    }
}

/// The fix for a refusal, by its kind and where the credentials came from.
fn denied_fix(source: &CredentialSource, refusal: Refusal, object: &ObjectUrl) -> String {
    match (source, refusal) {
        (CredentialSource::Vended, Refusal::Denied) => {
            "the catalog granted these credentials no such access: check the table's storage grants in the catalog (a vended credential covers the table's location only)".to_string()
        }
        (CredentialSource::Vended, _) => {
            "the keys the catalog vended are no longer (or never were) accepted by the store: floe renews vended keys that carry an expiry; run the statement again to load the table with fresh keys, and if that fails check the catalog's storage configuration".to_string()
        }
        (CredentialSource::TableConfig | CredentialSource::CatalogConfig, _) => {
            "the storage keys the catalog hands out for this table are refused: ask the catalog's operator to fix them, or set ACCESS_DELEGATION_MODE 'vended_credentials' so the catalog vends table-scoped ones".to_string()
        }
        (CredentialSource::Platform, _) => {
            "the platform file's catalogs.<name>.storage keys are refused: check them and what they grant on this location".to_string()
        }
        (CredentialSource::DuckdbSecret(name), _) => format!(
            "the credentials of {} are refused for this location: check its {} and SCOPE",
            name.as_deref().map_or("the DuckDB secret".to_string(), |n| format!("DuckDB secret '{n}'")),
            secret_shape(object).1.join(", ")
        ),
        (CredentialSource::None, _) => format!(
            "no credentials reach it: the catalog vended none (ACCESS_DELEGATION_MODE 'vended_credentials' asks for them) and no DuckDB secret covers it; {}",
            create_secret(object)
        ),
    }
}

/// The CREATE SECRET that gives floe credentials for `object`'s bucket or container.
pub(crate) fn create_secret(object: &ObjectUrl) -> String {
    let (kind, fields) = secret_shape(object);
    let fields: Vec<String> = fields.iter().map(|field| format!("{field} ...")).collect();
    format!("CREATE SECRET (TYPE {kind}, {}, SCOPE '{}://{}')", fields.join(", "), object.scheme, object.root())
}

/// The DuckDB secret type for `object`'s store and the fields of it floe takes credentials from.
fn secret_shape(object: &ObjectUrl) -> (&'static str, &'static [&'static str]) {
    match object.service {
        super::location::Service::Gcs => ("gcs", &["BEARER_TOKEN"]),
        super::location::Service::Azure => ("azure", &["CONNECTION_STRING"]),
        _ => ("s3", &["KEY_ID", "SECRET"]),
    }
}

/// The store's own words: `Code: message` of an S3-style error, else the text as it is.
fn summary(message: &str) -> String {
    let field = |name: &str| {
        let start = message.find(&format!("{name}: \""))? + name.len() + 3;
        let end = message[start..].find('"')?;
        Some(&message[start..start + end])
    };
    match (field("code"), field("message")) {
        (Some(code), Some(text)) if !code.is_empty() => format!("{code}: {text}"),
        _ => message.trim().chars().take(300).collect(),
    }
}

fn is_missing_bucket(text: &str) -> bool {
    ["NoSuchBucket", "ContainerNotFound", "The specified bucket does not exist", "bucket does not exist"]
        .iter()
        .any(|code| text.contains(code))
}

/// Refusals: 403, and the 401 some services (GCS, Azure) answer for a bad or expired token.
fn is_denied(err: &opendal::Error, text: &str) -> bool {
    err.kind() == opendal::ErrorKind::PermissionDenied
        || text.contains("status: 401")
        || text.contains("status: 403")
        || ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthenticationFailed", "ExpiredToken"]
            .iter()
            .any(|code| text.contains(code))
}

fn is_expired(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "expiredtoken",
        "tokenrefreshrequired",
        "token has expired",
        "token is expired",
        "expired token",
        "signed expiry time",
    ]
    .iter()
    .any(|code| lower.contains(code))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn attempt_on<'a>(object: &'a ObjectUrl<'a>, props: &'a StorageProps) -> Attempt<'a> {
        Attempt { action: "read", url: "s3://lake/t/x.parquet", object, props }
    }

    #[test]
    fn refusals_name_the_source_and_never_a_secret() {
        let object = ObjectUrl::parse("s3://lake/t/x.parquet").unwrap();
        let props = StorageProps::new(
            HashMap::from([
                ("s3.access-key-id".to_string(), "AKIA".to_string()),
                ("s3.secret-access-key".to_string(), "very-secret-value".to_string()),
            ]),
            CredentialSource::Platform,
        );
        let err = opendal::Error::new(
            opendal::ErrorKind::PermissionDenied,
            "S3Error { code: \"AccessDenied\", message: \"key very-secret-value refused\" }",
        );
        let failed = attempt_on(&object, &props).failed(&err);
        let text = failed.to_string();
        assert_eq!(failed.error().kind(), ErrorKind::Forbidden);
        assert!(!failed.credentials_expired());
        assert!(
            text.starts_with(
                "Cannot read s3://lake/t/x.parquet with the platform file's storage settings: access denied \
                 (AccessDenied: key *** refused)"
            ),
            "{text}"
        );
        assert!(!text.contains("very-secret-value"), "{text}");
    }

    #[test]
    fn expired_credentials_are_marked() {
        let object = ObjectUrl::parse("s3://lake/t/x.parquet").unwrap();
        let props = StorageProps::new(HashMap::new(), CredentialSource::Vended);
        let err = opendal::Error::new(opendal::ErrorKind::Unexpected, "S3Error { code: \"ExpiredToken\" }");
        let failed = attempt_on(&object, &props).failed(&err);
        assert!(failed.credentials_expired());
        assert_eq!(failed.error().kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn a_missing_bucket_is_named() {
        let object = ObjectUrl::parse("s3://nowhere/t/x.parquet").unwrap();
        let props = StorageProps::default();
        let err = opendal::Error::new(opendal::ErrorKind::ConfigInvalid, "S3Error { code: \"NoSuchBucket\" }");
        let text = attempt_on(&object, &props).failed(&err).to_string();
        assert!(text.contains("bucket 'nowhere' does not exist"), "{text}");
    }
}
