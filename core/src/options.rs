//! ATTACH options of an Iceberg catalog, named as in DuckDB's official iceberg extension so users
//! can switch engines by changing one `LOAD`.
//!
//! ```
//! use floe_core::options::{AttachRequest, CatalogOptions};
//! let request = AttachRequest {
//!     warehouse: "wh".into(),
//!     options: [("endpoint", "http://127.0.0.1:8181"), ("token", "t0ken")]
//!         .into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
//!     secret: Default::default(),
//!     aws: None,
//! };
//! let options = CatalogOptions::parse(&request).unwrap();
//! assert_eq!(options.endpoint.as_str(), "http://127.0.0.1:8181/");
//! ```

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::rest::sigv4::{self, SigV4};

/// What the DuckDB side hands over at ATTACH: the path, the options as typed, and the fields of
/// the `SECRET` named in them (or of the default iceberg secret), which the options override.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttachRequest {
    pub warehouse: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub secret: BTreeMap<String, String>,
    /// For SigV4: the fields of the DuckDB S3 secret named in SECRET, or of the one whose scope
    /// matches the endpoint.
    #[serde(default)]
    pub aws: Option<BTreeMap<String, String>>,
}

/// Every ATTACH option floe accepts (DuckDB itself handles TYPE and READ_ONLY).
pub const ATTACH_OPTIONS: &[&str] = &[
    "endpoint",
    "secret",
    "client_id",
    "client_secret",
    "oauth2_server_uri",
    "oauth2_scope",
    "oauth2_grant_type",
    "token",
    "authorization_type",
    "access_delegation_mode",
    "default_schema",
    "purge_requested",
    "warehouse",
    "platform",
    "catalog",
    "connect_timeout",
    "request_timeout",
    "commit_timeout",
    "metadata_cache_size",
    "data_cache_size",
    "max_table_staleness",
    "endpoint_type",
    "signing_name",
    "scan_planning_mode",
];

/// The fields a `CREATE SECRET (TYPE iceberg, ...)` may carry.
pub const SECRET_FIELDS: &[&str] = &[
    "endpoint",
    "client_id",
    "client_secret",
    "oauth2_server_uri",
    "oauth2_scope",
    "oauth2_grant_type",
    "token",
    "authorization_type",
    "access_delegation_mode",
];

/// Fields whose values are credentials: never shown, logged or formatted into errors.
pub const SECRET_VALUE_FIELDS: &[&str] = &["client_secret", "token"];

#[derive(Clone, Debug)]
pub enum Auth {
    /// No Authorization header (catalogs behind a trusted proxy, local test catalogs).
    None,
    /// A bearer token the user obtained elsewhere; it cannot be refreshed.
    Token(SecretString),
    /// OAuth2 client credentials (RFC 6749 §4.4), refreshed before expiry and on 401/419.
    ClientCredentials { server_uri: Url, client_id: String, client_secret: SecretString, scope: Option<String> },
    /// Every request signed with AWS Signature Version 4 (`rest::sigv4`).
    SigV4(SigV4),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessDelegation {
    /// Ask the catalog for table-scoped storage credentials (`X-Iceberg-Access-Delegation`).
    VendedCredentials,
    /// Use the storage credentials the user configured in DuckDB.
    None,
}

/// How long floe waits for the catalog. A catalog that accepts connections but never answers
/// (overloaded, frozen, behind a stuck proxy) fails the statement after these times, with an
/// error naming the endpoint and what timed out, instead of holding it for minutes. Waiting
/// costs no CPU: the calling thread sleeps until the answer or the deadline.
///
/// Set with the ATTACH options `CONNECT_TIMEOUT`, `REQUEST_TIMEOUT`, `COMMIT_TIMEOUT`, or a
/// platform file's `timeouts: { connect, request, commit }`, in seconds (`1.5` allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening a TCP (and TLS) connection to the catalog or its token endpoint. Default 5 s: a
    /// handshake takes milliseconds; 5 s still covers two lost SYNs (resent after 1 s and 3 s).
    pub connect: Duration,
    /// One metadata call — `/v1/config`, an OAuth2 token, listing, loading a table or view,
    /// checking a namespace, creating, dropping or renaming — from its first byte to its last,
    /// retries (503/429, refused connections) and the token fetch included. Default 30 s:
    /// catalogs answer these in milliseconds to a few seconds (the largest is a table's
    /// metadata with a long history), so 30 s means the catalog is not answering.
    pub request: Duration,
    /// One commit request, its retries on 503/429 included (the optimistic-concurrency retries
    /// after a 409 are separate requests, each with this timeout). Default 120 s: a commit
    /// writes the table's new metadata, which grows with its history, and a commit that times
    /// out after it was sent leaves its outcome unknown (reported as such, never resent), which
    /// costs the user a check of the table's history, so it is given more time than a read.
    pub commit: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(5), request: Duration::from_secs(30), commit: Duration::from_secs(120) }
    }
}

impl Timeouts {
    /// The longest accepted timeout: longer waits are hangs by another name.
    const MAX: Duration = Duration::from_secs(3600);

    /// A timeout given in seconds (`30`, `1.5`), as typed for `option`.
    pub(crate) fn parse_seconds(option: &str, value: &str) -> Result<Duration> {
        value
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .filter(|timeout| !timeout.is_zero() && *timeout <= Self::MAX)
            .ok_or_else(|| {
                invalid_value(option, value, "a number of seconds greater than 0 and at most 3600 (e.g. 30 or 1.5)")
            })
    }

    /// These timeouts with the ones the ATTACH options set.
    fn overridden_by(mut self, options: &BTreeMap<String, String>) -> Result<Self> {
        for (key, timeout) in [
            ("connect_timeout", &mut self.connect),
            ("request_timeout", &mut self.request),
            ("commit_timeout", &mut self.commit),
        ] {
            if let Some(value) = options.get(key) {
                *timeout = Self::parse_seconds(&key.to_ascii_uppercase(), value)?;
            }
        }
        Ok(self)
    }
}

#[derive(Clone, Debug)]
pub struct CatalogOptions {
    pub warehouse: String,
    pub endpoint: Url,
    pub auth: Auth,
    pub access_delegation: AccessDelegation,
    pub default_schema: Option<String>,
    /// DROP TABLE asks the catalog to delete the table's files too (REST `purgeRequested`).
    pub purge_requested: bool,
    /// S3 settings from a platform file (`s3.*` keys), used where the catalog vends none.
    pub storage: HashMap<String, SecretString>,
    pub timeouts: Timeouts,
    /// Bytes of manifests and manifest lists kept in memory for planning, shared by the
    /// catalog's connections (`crate::storage::MetadataCache`); 0: none.
    pub metadata_cache_bytes: u64,
    /// Bytes of data-file ranges kept in memory for repeated reads, shared likewise
    /// (`crate::storage::DataCache`); 0: none.
    pub data_cache_bytes: u64,
    /// How long a table's loaded metadata may serve reads before it is loaded again
    /// (`crate::rest::RecentLoads`); `None`: every statement loads it.
    pub max_table_staleness: Option<Duration>,
    /// Headers sent with every request, the token's included (Polaris' realm).
    pub headers: Vec<(String, String)>,
    /// Scans planned by the catalog (`scan::server_plan`): always, never, or (`None`) where a
    /// table's LoadTable config says `scan-planning-mode: server`.
    pub server_planning: Option<bool>,
}

impl CatalogOptions {
    pub fn parse(request: &AttachRequest) -> Result<Self> {
        for key in request.options.keys() {
            if !ATTACH_OPTIONS.contains(&key.as_str()) {
                return Err(unknown_option("ATTACH option", key, ATTACH_OPTIONS));
            }
        }
        for key in request.secret.keys() {
            if !SECRET_FIELDS.contains(&key.as_str()) && key != "scope" && key != "type" {
                return Err(unknown_option("iceberg secret field", key, SECRET_FIELDS));
            }
        }
        if request.options.contains_key("platform") {
            return Self::from_platform(request);
        }
        if request.options.contains_key("catalog") {
            return Err(Error::invalid_input("ATTACH option CATALOG names a catalog of a platform file")
                .with_fix("add PLATFORM '<path to platform.yaml>', or drop CATALOG"));
        }
        let get = |key: &str| -> Option<&str> {
            request.options.get(key).or_else(|| request.secret.get(key)).map(String::as_str).filter(|v| !v.is_empty())
        };

        let endpoint_type = get("endpoint_type").map(str::to_ascii_lowercase);
        let authorization_type = get("authorization_type").map(str::to_ascii_lowercase);
        let (endpoint, auth) = match endpoint_type.as_deref() {
            // AWS's Iceberg endpoints: the URL follows from the region, requests are signed.
            Some(kind @ ("glue" | "s3_tables")) => {
                if get("endpoint").is_some() || authorization_type.as_deref().is_some_and(|a| a != "sigv4") {
                    return Err(Error::invalid_input(format!(
                        "ENDPOINT_TYPE '{kind}' sets the endpoint and SigV4 signing itself"
                    ))
                    .with_fix("remove ENDPOINT and AUTHORIZATION_TYPE, or ENDPOINT_TYPE"));
                }
                let name = if kind == "glue" { sigv4::GLUE } else { sigv4::S3_TABLES };
                let signer = signer(request, name)?;
                let endpoint =
                    parse_base_url("ENDPOINT", &format!("https://{name}.{}.amazonaws.com/iceberg", signer.region))?;
                (endpoint, Auth::SigV4(signer))
            }
            Some(other) => return Err(invalid_value("ENDPOINT_TYPE", other, "one of 'glue', 's3_tables'")),
            None => {
                let endpoint = get("endpoint").ok_or_else(|| {
                    Error::invalid_input(format!(
                        "ATTACH '{}' (TYPE ICEBERG) needs the catalog's REST endpoint",
                        request.warehouse
                    ))
                    .with_fix("add ENDPOINT 'http(s)://host:port' to the ATTACH options or to the iceberg secret, or ENDPOINT_TYPE 'glue' / 's3_tables' for AWS")
                })?;
                let endpoint = parse_base_url("ENDPOINT", endpoint)?;
                let auth = match authorization_type.as_deref() {
                    Some("none") => Auth::None,
                    Some("sigv4") => {
                        Auth::SigV4(signer(request, get("signing_name").unwrap_or(sigv4::DEFAULT_SIGNING_NAME))?)
                    }
                    Some("oauth2") | None => oauth2(&get, &endpoint, &request.warehouse)?,
                    Some(other) => {
                        return Err(invalid_value("AUTHORIZATION_TYPE", other, "one of 'oauth2', 'sigv4', 'none'"))
                    }
                };
                (endpoint, auth)
            }
        };

        let access_delegation = match get("access_delegation_mode").map(str::to_ascii_lowercase).as_deref() {
            None | Some("vended_credentials") => AccessDelegation::VendedCredentials,
            Some("none") => AccessDelegation::None,
            Some(other) => {
                return Err(invalid_value("ACCESS_DELEGATION_MODE", other, "one of 'vended_credentials', 'none'"))
            }
        };

        // DuckDB opens an ATTACH path that looks remote (s3://, gs://, ...) read-only and wants
        // httpfs for it, so a catalog that names its warehouses by location gets it as WAREHOUSE.
        if request.warehouse.contains("://") {
            return Err(Error::invalid_input(format!(
                "ATTACH path '{}' looks like a storage location, but for TYPE ICEBERG it is the warehouse name",
                request.warehouse
            ))
            .with_fix(
                "use the catalog's warehouse name (e.g. ATTACH 'my_warehouse' ...) and pass the catalog URL as \
                 ENDPOINT; for a catalog that names warehouses by their location, ATTACH any name with \
                 WAREHOUSE '<location>'",
            ));
        }

        Ok(CatalogOptions {
            warehouse: get("warehouse").unwrap_or(&request.warehouse).to_string(),
            endpoint,
            auth,
            access_delegation,
            default_schema: get("default_schema").map(str::to_string),
            purge_requested: purge_requested(get("purge_requested"))?,
            storage: HashMap::new(),
            timeouts: Timeouts::default().overridden_by(&request.options)?,
            metadata_cache_bytes: metadata_cache_bytes(&request.options)?,
            data_cache_bytes: data_cache_bytes(&request.options)?,
            max_table_staleness: max_table_staleness(&request.options)?,
            headers: Vec::new(),
            server_planning: server_planning(&request.options)?,
        })
    }

    /// `ATTACH '' AS lake (TYPE ICEBERG, PLATFORM 'platform.yaml', CATALOG 'default')`: every
    /// setting and credential comes from the platform file, resolved here, so none is ever typed
    /// into SQL. Options that would put them back into SQL are refused.
    fn from_platform(request: &AttachRequest) -> Result<Self> {
        // How long to wait is the session's choice; where to connect and as whom is the file's.
        const ALLOWED: &[&str] = &[
            "platform",
            "catalog",
            "default_schema",
            "purge_requested",
            "connect_timeout",
            "request_timeout",
            "commit_timeout",
            "metadata_cache_size",
            "data_cache_size",
            "max_table_staleness",
            "scan_planning_mode",
        ];
        if let Some(key) = request.options.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
            return Err(Error::invalid_input(format!(
                "ATTACH option {} cannot be combined with PLATFORM: the platform file sets it",
                key.to_ascii_uppercase()
            ))
            .with_fix("remove it, or change the catalog in the platform file"));
        }
        let path = &request.options["platform"];
        let platform = crate::platform::Platform::load(std::path::Path::new(path))?;
        let name = request.options.get("catalog").map(String::as_str).unwrap_or("default");
        let mut options = platform.catalog_options(name)?;
        if !request.warehouse.is_empty() && request.warehouse != options.warehouse {
            return Err(Error::invalid_input(format!(
                "ATTACH '{}' names a different warehouse than catalog '{name}' of {path} ('{}')",
                request.warehouse, options.warehouse
            ))
            .with_fix("ATTACH '' (the platform file names the warehouse) or the same warehouse"));
        }
        options.default_schema = request.options.get("default_schema").cloned();
        options.purge_requested = purge_requested(request.options.get("purge_requested").map(String::as_str))?;
        options.timeouts = options.timeouts.overridden_by(&request.options)?;
        options.metadata_cache_bytes = metadata_cache_bytes(&request.options)?;
        options.data_cache_bytes = data_cache_bytes(&request.options)?;
        options.max_table_staleness = max_table_staleness(&request.options)?;
        options.server_planning = server_planning(&request.options)?;
        Ok(options)
    }
}

/// `SCAN_PLANNING_MODE`: 'server' or 'client' for every table; unset follows each table's
/// catalog.
fn server_planning(options: &BTreeMap<String, String>) -> Result<Option<bool>> {
    match options.get("scan_planning_mode").map(|m| m.to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(None),
        Some("server") => Ok(Some(true)),
        Some("client") => Ok(Some(false)),
        Some(other) => Err(invalid_value("SCAN_PLANNING_MODE", other, "one of 'server', 'client'")),
    }
}

/// SigV4 signing for service `signing_name`, with credentials and region from the S3 secret the
/// ATTACH handed over, the environment or the shared AWS files.
fn signer(request: &AttachRequest, signing_name: &str) -> Result<SigV4> {
    let env = |name: &str| std::env::var(name).ok();
    let (credentials, region) = sigv4::resolve(request.aws.as_ref(), None, None, &env)?;
    Ok(SigV4 { region, signing_name: signing_name.to_string(), credentials })
}

fn oauth2<'a>(get: &impl Fn(&str) -> Option<&'a str>, endpoint: &Url, warehouse: &str) -> Result<Auth> {
    if let Some(token) = get("token") {
        return Ok(Auth::Token(SecretString::from(token.to_string())));
    }
    if let Some(grant) = get("oauth2_grant_type") {
        if grant != "client_credentials" {
            return Err(invalid_value("OAUTH2_GRANT_TYPE", grant, "'client_credentials'"));
        }
    }
    match (get("client_id"), get("client_secret")) {
        (Some(client_id), Some(client_secret)) => {
            let server_uri = match get("oauth2_server_uri") {
                Some(uri) => parse_url("OAUTH2_SERVER_URI", uri)?,
                // The REST spec's own token endpoint, relative to the catalog root.
                None => endpoint.join("v1/oauth/tokens").map_err(|e| {
                    Error::invalid_input(format!("cannot derive the OAuth2 token URL from ENDPOINT: {e}"))
                })?,
            };
            Ok(Auth::ClientCredentials {
                server_uri,
                client_id: client_id.to_string(),
                client_secret: SecretString::from(client_secret.to_string()),
                scope: get("oauth2_scope").map(str::to_string),
            })
        }
        (Some(_), None) | (None, Some(_)) => Err(Error::invalid_input(format!(
            "OAuth2 for Iceberg catalog '{warehouse}' needs both CLIENT_ID and CLIENT_SECRET"
        ))
        .with_fix("give both in CREATE SECRET (TYPE iceberg, CLIENT_ID ..., CLIENT_SECRET ...) and ATTACH with SECRET <name>")),
        (None, None) => Err(Error::invalid_input(format!(
            "No credentials for Iceberg catalog '{warehouse}'"
        ))
        .with_fix("ATTACH with SECRET <name> of a CREATE SECRET (TYPE iceberg, CLIENT_ID ..., CLIENT_SECRET ...), or TOKEN, or AUTHORIZATION_TYPE 'none' for a catalog without authentication")),
    }
}

fn purge_requested(value: Option<&str>) -> Result<bool> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(invalid_value("PURGE_REQUESTED", other, "true or false")),
    }
}

fn metadata_cache_bytes(options: &BTreeMap<String, String>) -> Result<u64> {
    cache_bytes(options, "metadata_cache_size", crate::storage::MetadataCache::DEFAULT_BYTES)
}

fn data_cache_bytes(options: &BTreeMap<String, String>) -> Result<u64> {
    cache_bytes(options, "data_cache_size", crate::storage::DataCache::DEFAULT_BYTES)
}

/// A cache's size option as typed: bytes, or a number with DuckDB's units of memory_limit
/// (`KB`, `MB`, `GB` = 1000^n, `KiB`, `MiB`, `GiB` = 1024^n; case and spaces ignored). Parsed
/// here: the few lines do not justify another dependency.
fn cache_bytes(options: &BTreeMap<String, String>, key: &str, default: u64) -> Result<u64> {
    let Some(value) = options.get(key) else {
        return Ok(default);
    };
    let option = key.to_ascii_uppercase();
    let invalid = || invalid_value(&option, value, "a size such as '256MiB', '1GB' or 0 to turn it off");
    let typed = value.trim().to_ascii_lowercase();
    let digits = typed.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(typed.len());
    let (number, unit) = typed.split_at(digits);
    let unit_bytes: u64 = match unit.trim() {
        "" | "b" | "bytes" => 1,
        "kb" => 1000,
        "mb" => 1000_u64.pow(2),
        "gb" => 1000_u64.pow(3),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(invalid()),
    };
    let number: f64 = number.parse().map_err(|_| invalid())?;
    Ok((number * unit_bytes as f64) as u64)
}

/// `MAX_TABLE_STALENESS`, the official DuckDB extension's name: an interval as DuckDB prints one
/// (`01:30:00`, `00:00:02.5`) or as typed (`5 minutes`, `1 hour 30 minutes`, `500 ms`), or a
/// number of seconds. 0 (the default) keeps every statement's load. Parsed here: DuckDB's own
/// interval parser is not reachable from the core, and the forms are few.
fn max_table_staleness(options: &BTreeMap<String, String>) -> Result<Option<Duration>> {
    let Some(value) = options.get("max_table_staleness") else { return Ok(None) };
    let invalid = || invalid_value("MAX_TABLE_STALENESS", value, "an interval such as '30 seconds', '5 minutes' or 0");
    let typed = value.trim().to_ascii_lowercase();
    let seconds = if typed.contains(':') {
        let mut seconds = 0.0;
        for part in typed.split(':') {
            seconds = seconds * 60.0 + part.parse::<f64>().map_err(|_| invalid())?;
        }
        seconds
    } else if let Ok(seconds) = typed.parse::<f64>() {
        seconds
    } else {
        let words: Vec<&str> = typed.split_whitespace().collect();
        if words.is_empty() || words.len() % 2 != 0 {
            return Err(invalid());
        }
        let mut seconds = 0.0;
        for pair in words.chunks(2) {
            let number: f64 = pair[0].parse().map_err(|_| invalid())?;
            let unit = match pair[1].trim_end_matches('s') {
                "u" | "microsecond" => 1e-6,
                "m" if pair[1] == "ms" => 1e-3,
                "millisecond" => 1e-3,
                "" | "sec" | "second" => 1.0,
                "m" | "min" | "minute" => 60.0,
                "h" | "hour" => 3600.0,
                "d" | "day" => 86400.0,
                _ => return Err(invalid()),
            };
            seconds += number * unit;
        }
        seconds
    };
    match Duration::try_from_secs_f64(seconds) {
        Ok(staleness) if staleness.is_zero() => Ok(None),
        Ok(staleness) => Ok(Some(staleness)),
        Err(_) => Err(invalid()),
    }
}

pub(crate) fn parse_url(option: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value.trim())
        .map_err(|e| invalid_value(option, value, &format!("an http:// or https:// URL ({e})")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid_value(option, value, "an http:// or https:// URL"));
    }
    Ok(url)
}

/// A URL other paths are resolved against.
pub(crate) fn parse_base_url(option: &str, value: &str) -> Result<Url> {
    let mut url = parse_url(option, value)?;
    // Url::join resolves against the last '/', so a base path must end with one.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn unknown_option(what: &str, key: &str, valid: &[&str]) -> Error {
    let valid = valid.iter().map(|o| o.to_ascii_uppercase()).collect::<Vec<_>>().join(", ");
    Error::invalid_input(format!("Unknown {what} '{}'", key.to_ascii_uppercase()))
        .with_fix(format!("use one of: {valid}"))
}

fn invalid_value(option: &str, value: &str, expected: &str) -> Error {
    Error::invalid_input(format!("Invalid value '{value}' for {option}: expected {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(options: &[(&str, &str)], secret: &[(&str, &str)]) -> AttachRequest {
        let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AttachRequest { warehouse: "wh".into(), options: map(options), secret: map(secret), aws: None }
    }

    #[test]
    fn warehouse_option_names_a_location_the_attach_path_cannot() {
        let parsed = CatalogOptions::parse(&request(
            &[("endpoint", "http://h:1"), ("token", "t"), ("warehouse", "gs://b/wh")],
            &[],
        ))
        .unwrap();
        assert_eq!(parsed.warehouse, "gs://b/wh");
        let mut remote = request(&[("endpoint", "http://h:1"), ("token", "t")], &[]);
        remote.warehouse = "gs://b/wh".into();
        let err = CatalogOptions::parse(&remote).unwrap_err().to_string();
        assert!(err.contains("WAREHOUSE '<location>'"), "{err}");
    }

    #[test]
    fn secret_fields_fill_in_and_options_override() {
        let parsed = CatalogOptions::parse(&request(
            &[("endpoint", "http://h:1/api"), ("oauth2_scope", "ROLE:a")],
            &[("client_id", "id"), ("client_secret", "sec-ret"), ("oauth2_scope", "ROLE:b")],
        ))
        .unwrap();
        match parsed.auth {
            Auth::ClientCredentials { server_uri, client_id, scope, .. } => {
                assert_eq!(server_uri.as_str(), "http://h:1/api/v1/oauth/tokens");
                assert_eq!(client_id, "id");
                assert_eq!(scope.as_deref(), Some("ROLE:a"));
            }
            other => panic!("unexpected auth {other:?}"),
        }
        assert_eq!(parsed.access_delegation, AccessDelegation::VendedCredentials);
    }

    #[test]
    fn unknown_option_lists_the_valid_ones() {
        let err = CatalogOptions::parse(&request(&[("endpoint", "http://h"), ("colour", "x")], &[])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Unknown ATTACH option 'COLOUR'"), "{text}");
        assert!(text.contains("ENDPOINT, SECRET, CLIENT_ID"), "{text}");
    }

    #[test]
    fn malformed_values_are_named() {
        let err = CatalogOptions::parse(&request(&[("endpoint", "http://h"), ("authorization_type", "kerberos")], &[]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value 'kerberos' for AUTHORIZATION_TYPE: expected one of 'oauth2', 'sigv4', 'none'"
        );
        let err = CatalogOptions::parse(&request(&[("endpoint", "ftp://h"), ("token", "t")], &[])).unwrap_err();
        assert!(err.to_string().starts_with("Invalid value 'ftp://h' for ENDPOINT"));
    }

    #[test]
    fn half_a_client_credential_is_refused_without_echoing_it() {
        let err = CatalogOptions::parse(&request(&[("endpoint", "http://h"), ("client_secret", "hunter22")], &[]))
            .unwrap_err();
        assert!(err.to_string().contains("needs both CLIENT_ID and CLIENT_SECRET"));
        assert!(!err.to_string().contains("hunter22"));
    }

    #[test]
    fn timeouts_default_and_are_set_in_seconds() {
        let parsed = CatalogOptions::parse(&request(&[("endpoint", "http://h"), ("token", "t")], &[])).unwrap();
        assert_eq!(
            parsed.timeouts,
            Timeouts {
                connect: Duration::from_secs(5),
                request: Duration::from_secs(30),
                commit: Duration::from_secs(120)
            }
        );
        let parsed = CatalogOptions::parse(&request(
            &[("endpoint", "http://h"), ("token", "t"), ("request_timeout", "1.5"), ("commit_timeout", " 2 ")],
            &[],
        ))
        .unwrap();
        assert_eq!(parsed.timeouts.connect, Duration::from_secs(5));
        assert_eq!(parsed.timeouts.request, Duration::from_millis(1500));
        assert_eq!(parsed.timeouts.commit, Duration::from_secs(2));

        for bad in ["0", "-1", "soon", "30s", "NaN", "inf", "7200"] {
            let err = CatalogOptions::parse(&request(
                &[("endpoint", "http://h"), ("token", "t"), ("connect_timeout", bad)],
                &[],
            ))
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("Invalid value '{bad}' for CONNECT_TIMEOUT: expected a number of seconds greater than 0 and at most 3600 (e.g. 30 or 1.5)")
            );
        }
        let err = CatalogOptions::parse(&request(&[("endpoint", "http://h"), ("colour", "x")], &[])).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("DATA_CACHE_SIZE, MAX_TABLE_STALENESS, ENDPOINT_TYPE, SIGNING_NAME, SCAN_PLANNING_MODE"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod platform_tests {
    use super::*;

    #[test]
    fn platform_attach_refuses_credentials_in_sql_and_other_warehouses() {
        let dir = std::env::temp_dir().join(format!("floe-options-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("platform.yaml");
        std::fs::write(&path, "catalogs:\n  main:\n    uri: http://127.0.0.1:1\n    warehouse: lake\n").unwrap();
        let attach = |warehouse: &str, extra: &[(&str, &str)]| {
            let mut options: BTreeMap<String, String> = [("platform", path.to_str().unwrap()), ("catalog", "main")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            options.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            CatalogOptions::parse(&AttachRequest {
                warehouse: warehouse.into(),
                options,
                secret: Default::default(),
                aws: None,
            })
        };
        let options = attach("lake", &[]).unwrap();
        assert_eq!(options.endpoint.as_str(), "http://127.0.0.1:1/");
        assert!(matches!(options.auth, Auth::None));
        let err = attach("lake", &[("client_secret", "hunter22")]).unwrap_err().to_string();
        assert!(err.contains("ATTACH option CLIENT_SECRET cannot be combined with PLATFORM"), "{err}");
        assert!(!err.contains("hunter22"));
        let err = attach("other", &[]).unwrap_err().to_string();
        assert!(err.contains("names a different warehouse"), "{err}");
        let err = attach("lake", &[("catalog", "nope")]).unwrap_err().to_string();
        assert!(err.contains("catalogs.nope does not exist. Fix: use one of: main"), "{err}");
        // How long to wait may be chosen per session; the file's other settings may not.
        let options = attach("lake", &[("request_timeout", "2")]).unwrap();
        assert_eq!(options.timeouts.request, std::time::Duration::from_secs(2));
        assert_eq!(options.timeouts.commit, Timeouts::default().commit);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn max_table_staleness_takes_intervals_as_typed_or_printed() {
        let parsed = |value: &str| {
            let options = BTreeMap::from([("max_table_staleness".to_string(), value.to_string())]);
            max_table_staleness(&options)
        };
        for (value, seconds) in [
            ("30", 30.0),
            ("2.5", 2.5),
            ("30 seconds", 30.0),
            ("5 minutes", 300.0),
            ("1 hour 30 minutes", 5400.0),
            ("500 ms", 0.5),
            ("1 day", 86400.0),
            ("01:30:00", 5400.0),
            ("00:00:02.5", 2.5),
        ] {
            assert_eq!(parsed(value).unwrap(), Some(Duration::from_secs_f64(seconds)), "{value}");
        }
        assert_eq!(parsed("0").unwrap(), None);
        assert_eq!(parsed("00:00:00").unwrap(), None);
        for bad in ["soon", "5 fortnights", "-1", "5 minutes 3", ""] {
            let err = parsed(bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("Invalid value '{bad}' for MAX_TABLE_STALENESS")), "{err}");
        }
    }
}
