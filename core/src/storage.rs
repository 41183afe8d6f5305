//! Which storage credentials a table is read and written with, and the `FileIO` built from them.
//!
//! Precedence (REST spec, LoadTableResult): the catalog's `/v1/config` properties, then the
//! table's `config`, then the `storage-credentials` entry with the longest prefix of the table
//! location. Where the catalog vends no keys, the S3 secret the user made in DuckDB is used.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use iceberg::io::{FileIO, FileIOBuilder};
use iceberg_storage_opendal::OpenDalResolvingStorageFactory;
use serde::{Deserialize, Serialize};

use crate::rest::model::LoadTableResult;

const FILE_IO_CACHE_SIZE: usize = 64;
const ACCESS_KEY: &str = "s3.access-key-id";
const SECRET_KEY: &str = "s3.secret-access-key";
const SESSION_TOKEN: &str = "s3.session-token";
const ENDPOINT: &str = "s3.endpoint";
const REGION: &str = "s3.region";
const CLIENT_REGION: &str = "client.region";
const PATH_STYLE: &str = "s3.path-style-access";

/// The fields of a DuckDB S3 secret that matter for reaching the objects (names as DuckDB's).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DuckdbS3Secret {
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub session_token: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub url_style: Option<String>,
    #[serde(default)]
    pub use_ssl: Option<bool>,
}

/// Storage properties of one table, in Iceberg's `s3.*` vocabulary.
#[derive(Debug, Clone, Default)]
pub struct StorageProps {
    props: HashMap<String, String>,
    /// Whether the keys came from the catalog (vended) rather than from the user's DuckDB secret.
    vended: bool,
}

impl StorageProps {
    pub fn resolve(catalog_props: &HashMap<String, String>, table: &LoadTableResult) -> Self {
        let mut props: HashMap<String, String> =
            catalog_props.iter().filter(|(k, _)| is_storage_key(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        props.extend(table.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        let location = table.metadata.location();
        if let Some(credential) =
            table.storage_credentials.iter().filter(|c| location.starts_with(&c.prefix)).max_by_key(|c| c.prefix.len())
        {
            props.extend(credential.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let vended = props.contains_key(ACCESS_KEY);
        StorageProps { props, vended }
    }

    /// These properties completed with the user's DuckDB S3 secret where the catalog vended no
    /// keys; vended keys always win, they are what the catalog granted for this table.
    pub fn with_user_secret(&self, secret: Option<&DuckdbS3Secret>) -> StorageProps {
        let mut result = self.clone();
        if let (false, Some(secret)) = (self.vended, secret) {
            for (key, value) in from_duckdb_secret(secret) {
                result.props.entry(key).or_insert(value);
            }
        }
        result
    }

    pub fn is_vended(&self) -> bool {
        self.vended
    }

    /// File access with these properties. One per distinct set of properties is kept for the
    /// process, so scans and commits reuse its HTTP connections instead of opening new ones.
    pub fn file_io(&self) -> FileIO {
        type SortedProps = Vec<(String, String)>;
        static CACHE: OnceLock<Mutex<HashMap<SortedProps, FileIO>>> = OnceLock::new();
        let mut key: SortedProps = self.props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        key.sort();
        let mut cache = crate::sync::lock(CACHE.get_or_init(Default::default));
        if let Some(file_io) = cache.get(&key) {
            return file_io.clone();
        }
        // Vended credentials rotate; bound what stale sets can accumulate.
        if cache.len() >= FILE_IO_CACHE_SIZE {
            cache.clear();
        }
        let file_io =
            FileIOBuilder::new(Arc::new(OpenDalResolvingStorageFactory::new())).with_props(self.props.iter()).build();
        cache.insert(key, file_io.clone());
        file_io
    }

    /// The options of a DuckDB S3 secret that reaches the same objects with the vended keys, so
    /// DuckDB's own Parquet reader and writer use what the catalog granted for this table.
    pub fn duckdb_secret(&self) -> Option<BTreeMap<String, String>> {
        if !self.vended {
            return None;
        }
        let mut out = BTreeMap::new();
        let mut copy = |from: &str, to: &str| {
            if let Some(v) = self.props.get(from) {
                out.insert(to.to_string(), v.clone());
            }
        };
        copy(ACCESS_KEY, "key_id");
        copy(SECRET_KEY, "secret");
        copy(SESSION_TOKEN, "session_token");
        copy(CLIENT_REGION, "region");
        copy(REGION, "region");
        if let Some(endpoint) = self.props.get(ENDPOINT) {
            let use_ssl = !endpoint.starts_with("http://");
            let host = endpoint.trim_start_matches("https://").trim_start_matches("http://");
            out.insert("endpoint".into(), host.trim_end_matches('/').to_string());
            out.insert("use_ssl".into(), use_ssl.to_string());
        }
        if self.props.get(PATH_STYLE).is_some_and(|v| v == "true") {
            out.insert("url_style".into(), "path".into());
        }
        Some(out)
    }
}

fn is_storage_key(key: &str) -> bool {
    key.starts_with("s3.") || key.starts_with("client.")
}

fn from_duckdb_secret(secret: &DuckdbS3Secret) -> HashMap<String, String> {
    let mut props = HashMap::new();
    let mut set = |key: &str, value: &Option<String>| {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            props.insert(key.to_string(), v.clone());
        }
    };
    set(ACCESS_KEY, &secret.key_id);
    set(SECRET_KEY, &secret.secret);
    set(SESSION_TOKEN, &secret.session_token);
    set(REGION, &secret.region);
    if let Some(endpoint) = secret.endpoint.as_ref().filter(|e| !e.is_empty()) {
        let endpoint = if endpoint.contains("://") {
            endpoint.clone()
        } else {
            let scheme = if secret.use_ssl.unwrap_or(true) { "https" } else { "http" };
            format!("{scheme}://{endpoint}")
        };
        props.insert(ENDPOINT.to_string(), endpoint);
    }
    if secret.url_style.as_deref() == Some("path") {
        props.insert(PATH_STYLE.to_string(), "true".to_string());
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdb_secret_fills_in_when_nothing_is_vended() {
        let secret = DuckdbS3Secret {
            key_id: Some("K".into()),
            secret: Some("S".into()),
            endpoint: Some("127.0.0.1:9000".into()),
            url_style: Some("path".into()),
            use_ssl: Some(false),
            ..Default::default()
        };
        let props = from_duckdb_secret(&secret);
        assert_eq!(props[ENDPOINT], "http://127.0.0.1:9000");
        assert_eq!(props[PATH_STYLE], "true");
        assert_eq!(props[ACCESS_KEY], "K");
    }
}
