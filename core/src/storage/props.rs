//! Which storage properties (endpoints, credentials) a table's files are reached with, and where
//! they came from.
//!
//! Precedence (REST spec, LoadTableResult): the catalog's `/v1/config` properties (which carry the
//! platform file's storage settings underneath), then the table's `config`, then the
//! `storage-credentials` entry with the longest prefix of the table location. Where none of them
//! holds a credential, the storage secret the user made in DuckDB (`s3`, `gcs` or `azure`) completes
//! them.
//!
//! ```
//! use floe_core::storage::{CredentialSource, DuckdbSecret, StorageProps};
//! let props = StorageProps::default().with_user_secret(Some(&DuckdbSecret {
//!     name: Some("lake_keys".into()),
//!     key_id: Some("AKIA1".into()),
//!     secret: Some("s3cr3t".into()),
//!     ..Default::default()
//! }));
//! assert_eq!(props.source().to_string(), "DuckDB secret 'lake_keys'");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::redact::Redactor;
use crate::rest::model::{LoadTableResult, StorageCredential};
use crate::rest::RestCatalog;

pub(crate) const S3_ACCESS_KEY: &str = "s3.access-key-id";
pub(crate) const S3_SECRET_KEY: &str = "s3.secret-access-key";
pub(crate) const S3_SESSION_TOKEN: &str = "s3.session-token";
pub(crate) const S3_ENDPOINT: &str = "s3.endpoint";
pub(crate) const S3_REGION: &str = "s3.region";
pub(crate) const CLIENT_REGION: &str = "client.region";
pub(crate) const S3_PATH_STYLE: &str = "s3.path-style-access";
pub(crate) const S3_REMOTE_SIGNING: &str = "s3.remote-signing-enabled";
const S3_TOKEN_EXPIRES_AT_MS: &str = "s3.session-token-expires-at-ms";
pub(crate) const GCS_ENDPOINT: &str = "gcs.service.host";
pub(crate) const GCS_TOKEN: &str = "gcs.oauth2.token";
const GCS_TOKEN_EXPIRES_AT_MS: &str = "gcs.oauth2.token-expires-at";
pub(crate) const GCS_CREDENTIALS_JSON: &str = "gcs.credentials-json";
pub(crate) const GCS_CREDENTIALS: &str = "gcs.credentials";
pub(crate) const GCS_NO_AUTH: &str = "gcs.no-auth";
pub(crate) const ADLS_ACCOUNT_NAME: &str = "adls.account-name";
pub(crate) const ADLS_ACCOUNT_KEY: &str = "adls.account-key";
pub(crate) const ADLS_SAS_TOKEN: &str = "adls.sas-token";
const ADLS_SAS_EXPIRES_AT_MS_PREFIX: &str = "adls.sas-token-expires-at-ms.";
pub(crate) const ADLS_CONNECTION_STRING: &str = "adls.connection-string";
pub(crate) const ADLS_BLOB_AUTHORITY: &str = "adls.blob-storage-authority";
pub(crate) const ADLS_BLOB_SCHEME: &str = "adls.blob-storage-scheme";

/// Property prefixes of the storage settings a catalog's `/v1/config` may carry.
const STORAGE_PREFIXES: [&str; 4] = ["s3.", "client.", "gcs.", "adls."];

/// The fields of a DuckDB storage secret that matter for reaching the objects, with DuckDB's
/// names: `s3` (httpfs), `gcs` (httpfs: `bearer_token`, `endpoint`) or `azure` (the azure
/// extension's `config` provider: `connection_string`, `account_name`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct DuckdbSecret {
    /// The secret's name, for errors.
    pub name: Option<String>,
    /// The secret's type: `s3`, `gcs` or `azure`; absent means `s3`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub key_id: Option<String>,
    pub secret: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub url_style: Option<String>,
    pub use_ssl: Option<bool>,
    pub bearer_token: Option<String>,
    pub connection_string: Option<String>,
    pub account_name: Option<String>,
}

/// Where the credentials in a set of storage properties came from: named in every storage error,
/// so a user knows which setting to fix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialSource {
    /// The `storage-credentials` of the catalog's LoadTable answer.
    Vended,
    /// The `config` of the catalog's LoadTable answer.
    TableConfig,
    /// The catalog's `/v1/config` properties.
    CatalogConfig,
    /// The platform file's `storage` settings.
    Platform,
    /// A DuckDB secret (its name where known).
    DuckdbSecret(Option<String>),
    /// Nothing: requests are sent unsigned.
    #[default]
    None,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Vended => f.write_str("credentials vended by the catalog"),
            CredentialSource::TableConfig => f.write_str("the catalog's table config"),
            CredentialSource::CatalogConfig => f.write_str("the catalog's /v1/config properties"),
            CredentialSource::Platform => f.write_str("the platform file's storage settings"),
            CredentialSource::DuckdbSecret(Some(name)) => write!(f, "DuckDB secret '{name}'"),
            CredentialSource::DuckdbSecret(None) => f.write_str("a DuckDB secret"),
            CredentialSource::None => f.write_str("no credentials"),
        }
    }
}

/// Storage properties of one table, in Iceberg's `s3.*`, `gcs.*` and `adls.*` vocabulary.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageProps {
    props: HashMap<String, String>,
    source: CredentialSource,
}

/// Keys and source only: the values hold credentials.
impl fmt::Debug for StorageProps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&String> = self.props.keys().collect();
        keys.sort();
        f.debug_struct("StorageProps").field("keys", &keys).field("source", &self.source).finish()
    }
}

impl StorageProps {
    pub fn new(props: HashMap<String, String>, source: CredentialSource) -> Self {
        StorageProps { props, source }
    }

    /// The properties `catalog` gives the table it answered with `table`, and their source.
    pub fn resolve(catalog: &RestCatalog, table: &LoadTableResult) -> Self {
        Self::resolve_parts(catalog, table.metadata.location(), &table.config, &table.storage_credentials)
    }

    /// `resolve` from the parts of an answer: the table's location, its `config` and the
    /// `storage-credentials` (of a LoadTable or a credentials-endpoint answer).
    pub fn resolve_parts(
        catalog: &RestCatalog,
        location: &str,
        config: &HashMap<String, String>,
        credentials: &[StorageCredential],
    ) -> Self {
        let platform = &catalog.options().storage;
        let mut props: HashMap<String, String> = catalog
            .properties()
            .iter()
            .filter(|(k, _)| STORAGE_PREFIXES.iter().any(|prefix| k.starts_with(prefix)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let from_platform = |(key, value): (&String, &String)| {
            platform.get(key).is_some_and(|secret: &SecretString| secret.expose_secret() == value)
        };
        let mut source = match props.iter().find(|(k, _)| is_credential(k)) {
            Some(credential) if from_platform(credential) => CredentialSource::Platform,
            Some(_) => CredentialSource::CatalogConfig,
            None => CredentialSource::None,
        };
        if config.keys().any(|k| is_credential(k)) {
            source = CredentialSource::TableConfig;
        }
        props.extend(config.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(credential) =
            credentials.iter().filter(|c| location.starts_with(&c.prefix)).max_by_key(|c| c.prefix.len())
        {
            if credential.config.keys().any(|k| is_credential(k)) {
                source = CredentialSource::Vended;
            }
            props.extend(credential.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        StorageProps { props, source }
    }

    /// These properties completed with the user's DuckDB secret where they hold no credential;
    /// credentials from the catalog or the platform always win, they are what was granted for
    /// this table.
    pub fn with_user_secret(&self, secret: Option<&DuckdbSecret>) -> StorageProps {
        let mut result = self.clone();
        if let (CredentialSource::None, Some(secret)) = (&self.source, secret) {
            let added = from_duckdb_secret(secret);
            if added.keys().any(|k| is_credential(k)) {
                result.source = CredentialSource::DuckdbSecret(secret.name.clone());
            }
            for (key, value) in added {
                result.props.entry(key).or_insert(value);
            }
        }
        result
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    /// Whether nothing (no address, no credential) was given for the store.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }

    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// The properties sorted by key: what tells two sets apart.
    pub(crate) fn sorted(&self) -> Vec<(String, String)> {
        let mut sorted: Vec<(String, String)> = self.props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        sorted.sort();
        sorted
    }

    /// When the earliest of the vended credentials expires, from the expiry properties catalogs
    /// send with them (milliseconds since the epoch).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.props
            .iter()
            .filter(|(k, _)| {
                *k == S3_TOKEN_EXPIRES_AT_MS
                    || *k == GCS_TOKEN_EXPIRES_AT_MS
                    || k.starts_with(ADLS_SAS_EXPIRES_AT_MS_PREFIX)
            })
            .filter_map(|(_, v)| v.trim().parse::<u64>().ok())
            .min()
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// Every credential value, for scrubbing texts that come from the store.
    pub(crate) fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::default();
        for (_, value) in self.props.iter().filter(|(k, _)| is_secret(k)) {
            redactor.add(&SecretString::from(value.clone()));
        }
        redactor
    }
}

/// Keys whose presence means the properties carry a credential.
fn is_credential(key: &str) -> bool {
    key == S3_ACCESS_KEY
        || key == GCS_TOKEN
        || key == GCS_CREDENTIALS_JSON
        || key == GCS_CREDENTIALS
        || key == ADLS_ACCOUNT_KEY
        || (key.starts_with(ADLS_SAS_TOKEN) && !key.starts_with("adls.sas-token-expires"))
        || key.starts_with(ADLS_CONNECTION_STRING)
}

/// Keys whose values must never be shown.
fn is_secret(key: &str) -> bool {
    (key != S3_ACCESS_KEY && is_credential(key)) || key == S3_SECRET_KEY || key == S3_SESSION_TOKEN
}

/// A DuckDB secret in Iceberg's property names.
fn from_duckdb_secret(secret: &DuckdbSecret) -> HashMap<String, String> {
    let mut props = HashMap::new();
    let mut set = |key: &str, value: &Option<String>| {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            props.insert(key.to_string(), v.clone());
        }
    };
    match secret.kind.as_deref() {
        // HMAC keys (KEY_ID, SECRET) address GCS's S3-compatible API, which floe does not speak:
        // they are left out, and the missing credential is named (storage/operator.rs).
        Some("gcs") => {
            set(GCS_TOKEN, &secret.bearer_token);
            set(GCS_ENDPOINT, &endpoint_url(secret));
        }
        Some("azure") => {
            set(ADLS_CONNECTION_STRING, &secret.connection_string);
            set(ADLS_ACCOUNT_NAME, &secret.account_name);
        }
        _ => {
            set(S3_ACCESS_KEY, &secret.key_id);
            set(S3_SECRET_KEY, &secret.secret);
            set(S3_SESSION_TOKEN, &secret.session_token);
            set(S3_REGION, &secret.region);
            set(S3_ENDPOINT, &endpoint_url(secret));
            if secret.url_style.as_deref() == Some("path") {
                props.insert(S3_PATH_STYLE.to_string(), "true".to_string());
            }
        }
    }
    props
}

/// The secret's ENDPOINT as a URL: DuckDB's is a host[:port], its scheme given by USE_SSL.
fn endpoint_url(secret: &DuckdbSecret) -> Option<String> {
    let endpoint = secret.endpoint.as_ref().filter(|e| !e.is_empty())?;
    if endpoint.contains("://") {
        return Some(endpoint.clone());
    }
    let scheme = if secret.use_ssl.unwrap_or(true) { "https" } else { "http" };
    Some(format!("{scheme}://{endpoint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> DuckdbSecret {
        DuckdbSecret {
            name: Some("mine".into()),
            key_id: Some("K".into()),
            secret: Some("S3CRET".into()),
            endpoint: Some("127.0.0.1:9000".into()),
            url_style: Some("path".into()),
            use_ssl: Some(false),
            ..Default::default()
        }
    }

    #[test]
    fn duckdb_secret_fills_in_when_nothing_is_vended() {
        let props = StorageProps::default().with_user_secret(Some(&secret()));
        assert_eq!(props.get(S3_ENDPOINT), Some("http://127.0.0.1:9000"));
        assert_eq!(props.get(S3_PATH_STYLE), Some("true"));
        assert_eq!(props.get(S3_ACCESS_KEY), Some("K"));
        assert_eq!(props.source(), &CredentialSource::DuckdbSecret(Some("mine".into())));
    }

    #[test]
    fn gcs_and_azure_secrets_in_icebergs_names() {
        let gcs = DuckdbSecret {
            name: Some("g".into()),
            kind: Some("gcs".into()),
            bearer_token: Some("ya29.t".into()),
            endpoint: Some("127.0.0.1:4443".into()),
            use_ssl: Some(false),
            ..Default::default()
        };
        let props = StorageProps::default().with_user_secret(Some(&gcs));
        assert_eq!(props.sorted(), [pair(GCS_TOKEN, "ya29.t"), pair(GCS_ENDPOINT, "http://127.0.0.1:4443")]);
        assert_eq!(props.source(), &CredentialSource::DuckdbSecret(Some("g".into())));

        // HMAC keys alone give no credential floe can use.
        let hmac = DuckdbSecret {
            kind: Some("gcs".into()),
            key_id: Some("GOOG1".into()),
            secret: Some("h".into()),
            ..Default::default()
        };
        let props = StorageProps::default().with_user_secret(Some(&hmac));
        assert!(props.sorted().is_empty());
        assert_eq!(props.source(), &CredentialSource::None);

        let azure = DuckdbSecret {
            kind: Some("azure".into()),
            connection_string: Some("AccountName=a;AccountKey=k".into()),
            ..Default::default()
        };
        let props = StorageProps::default().with_user_secret(Some(&azure));
        assert_eq!(props.sorted(), [pair(ADLS_CONNECTION_STRING, "AccountName=a;AccountKey=k")]);
        assert_eq!(props.source(), &CredentialSource::DuckdbSecret(None));
        assert_eq!(props.redactor().redact("AccountName=a;AccountKey=k"), "***");
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_string(), value.to_string())
    }

    #[test]
    fn vended_keys_win_over_the_duckdb_secret() {
        let vended =
            StorageProps::new(HashMap::from([(S3_ACCESS_KEY.to_string(), "V".to_string())]), CredentialSource::Vended);
        let props = vended.with_user_secret(Some(&secret()));
        assert_eq!(props.get(S3_ACCESS_KEY), Some("V"));
        assert_eq!(props.get(S3_ENDPOINT), None);
        assert_eq!(props.source(), &CredentialSource::Vended);
    }

    #[test]
    fn the_earliest_expiry_counts() {
        let props = StorageProps::new(
            HashMap::from([
                (S3_TOKEN_EXPIRES_AT_MS.to_string(), "2000".to_string()),
                ("adls.sas-token-expires-at-ms.acct".to_string(), "1000".to_string()),
            ]),
            CredentialSource::Vended,
        );
        assert_eq!(props.expires_at(), Some(UNIX_EPOCH + Duration::from_secs(1)));
        assert_eq!(StorageProps::default().expires_at(), None);
    }

    #[test]
    fn secrets_are_redacted_key_ids_are_not() {
        let props = StorageProps::new(
            HashMap::from([
                (S3_ACCESS_KEY.to_string(), "AKIAEXAMPLE".to_string()),
                (S3_SECRET_KEY.to_string(), "wJalrXUtnFEMI".to_string()),
                ("adls.sas-token.acct".to_string(), "sv=2024&sig=abcd".to_string()),
            ]),
            CredentialSource::Vended,
        );
        assert_eq!(props.redactor().redact("AKIAEXAMPLE wJalrXUtnFEMI sv=2024&sig=abcd"), "AKIAEXAMPLE *** ***");
    }
}
