//! `platform.yaml`: the platform team declares its catalogs once — endpoint, warehouse, and
//! *references* to the secrets to use — and engines resolve the references themselves, so no
//! credential is ever written into a dbt profile or a SQL statement.
//!
//! ```no_run
//! let platform = floe_core::platform::Platform::load("platform.yaml".as_ref()).unwrap();
//! let options = platform.catalog_options("default").unwrap();   // secrets resolved, in memory
//! # let _ = options;
//! ```
//!
//! ```yaml
//! catalogs:
//!   default:
//!     type: rest                      # any REST catalog; polaris (+ realm:) and unity (uri: the
//!                                     # workspace) add what those expect
//!     uri: "${CATALOG_URI}"           # ${VAR} comes from the environment
//!     warehouse: demo_catalog         # a name or a location (s3://bucket/wh); none for a
//!                                     # catalog that serves one warehouse
//!     scope: "PRINCIPAL_ROLE:data_engineer"
//!     credentials:
//!       mode: oauth2                  # oauth2 | token | sigv4 | none
//!       client_id:     { secret_ref: catalog-client-id }
//!       client_secret: { secret_ref: catalog-client-secret }
//!     storage:                        # only where the catalog vends no credentials
//!       s3: { endpoint: "${S3_ENDPOINT}", region: us-east-1, path_style: true,
//!             access_key_id: { secret_ref: s3-key-id }, secret_access_key: { secret_ref: s3-secret } }
//!     timeouts: { connect: 5, request: 30, commit: 120 }   # seconds; these are the defaults
//! governance:
//!   properties: [domain]              # model meta keys copied to table properties, besides
//!                                     # classification and owner
//! secrets:
//!   dir: /var/run/secrets/floe        # default: $FLOE_SECRETS_DIR, else /var/run/secrets/floe
//! ```
//!
//! A `secret_ref: name` is looked up as the environment variable `NAME` (upper case, other
//! characters as `_`), then as the file `<secrets dir>/name` (Kubernetes' mounted-secret layout).
//! A reference is a name, not a path: one containing `/`, `\`, `..`, starting with `.` or empty
//! is refused, so no reference can read a file outside the secrets directory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::options::{parse_base_url, parse_url, AccessDelegation, Auth, CatalogOptions, Timeouts};
use crate::rest::sigv4::{self, AwsCredentials, SigV4};

const DEFAULT_SECRETS_DIR: &str = "/var/run/secrets/floe";
/// Meta keys always copied from a model to its table's properties.
pub const GOVERNANCE_KEYS: &[&str] = &["classification", "owner"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformFile {
    catalogs: BTreeMap<String, CatalogSpec>,
    #[serde(default)]
    governance: Governance,
    #[serde(default)]
    secrets: SecretsSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Governance {
    #[serde(default)]
    properties: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsSpec {
    dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogSpec {
    #[serde(rename = "type", default = "rest")]
    kind: String,
    uri: String,
    #[serde(default)]
    warehouse: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    oauth2_server_uri: Option<String>,
    /// Polaris: the realm, sent as the `Polaris-Realm` header.
    #[serde(default)]
    realm: Option<String>,
    #[serde(default)]
    access_delegation: Option<String>,
    #[serde(default)]
    credentials: Option<CredentialsSpec>,
    #[serde(default)]
    storage: Option<StorageSpec>,
    #[serde(default)]
    timeouts: Option<TimeoutsSpec>,
}

/// How long to wait for the catalog, in seconds; see [`Timeouts`] for what each covers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeoutsSpec {
    #[serde(default)]
    connect: Option<f64>,
    #[serde(default)]
    request: Option<f64>,
    #[serde(default)]
    commit: Option<f64>,
}

fn rest() -> String {
    "rest".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsSpec {
    mode: String,
    #[serde(default)]
    client_id: Option<Value>,
    #[serde(default)]
    client_secret: Option<Value>,
    #[serde(default)]
    token: Option<Value>,
    /// mode sigv4: keys (else the environment's or the AWS profile's), region, signing name.
    #[serde(default)]
    access_key_id: Option<Value>,
    #[serde(default)]
    secret_access_key: Option<Value>,
    #[serde(default)]
    session_token: Option<Value>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    signing_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageSpec {
    s3: S3Spec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Spec {
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    path_style: Option<bool>,
    access_key_id: Value,
    secret_access_key: Value,
    #[serde(default)]
    session_token: Option<Value>,
}

/// A setting: a plain string, or a reference to a secret.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Value {
    Plain(String),
    Secret { secret_ref: String },
}

/// Where Unity Catalog serves the Iceberg REST API, under the workspace URL.
const UNITY_REST_PATH: &str = "api/2.1/unity-catalog/iceberg-rest";
/// Unity's OAuth machine-to-machine scope.
const UNITY_DEFAULT_SCOPE: &str = "all-apis";
/// Polaris: every principal role the client holds.
const POLARIS_DEFAULT_SCOPE: &str = "PRINCIPAL_ROLE:ALL";
/// The header Polaris reads the realm from (its `polaris.realm-context.header-name` default).
const POLARIS_REALM_HEADER: &str = "Polaris-Realm";

/// A loaded, validated platform file.
#[derive(Debug)]
pub struct Platform {
    path: PathBuf,
    file: PlatformFile,
}

impl Platform {
    pub fn load(path: &Path) -> Result<Platform> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(format!("Cannot read platform file {}: {e}", path.display())).with_fix(
                "point PLATFORM (or the dbt plugin's `platform` setting) at the platform team's platform.yaml",
            )
        })?;
        let file: PlatformFile = serde_yaml_ng::from_str(&text).map_err(|e| {
            Error::invalid_input(format!("Platform file {} is not valid: {e}", path.display()))
                .with_fix("compare it with the platform.yaml layout in floe's README")
        })?;
        let platform = Platform { path: path.to_path_buf(), file };
        for (name, catalog) in &platform.file.catalogs {
            platform.check(name, catalog)?;
        }
        Ok(platform)
    }

    pub fn catalog_names(&self) -> Vec<String> {
        self.file.catalogs.keys().cloned().collect()
    }

    /// The warehouse of catalog `name`, empty for none.
    fn warehouse(&self, name: &str) -> Result<String> {
        self.interpolate(&format!("catalogs.{name}.warehouse"), &self.catalog(name)?.warehouse)
    }

    /// Model meta keys that become table properties.
    pub fn governance_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = GOVERNANCE_KEYS.iter().map(|k| k.to_string()).collect();
        keys.extend(self.file.governance.properties.iter().cloned());
        keys
    }

    /// The options to attach catalog `name` with, every secret reference resolved.
    pub fn catalog_options(&self, name: &str) -> Result<CatalogOptions> {
        let catalog = self.catalog(name)?;
        let at = |key: &str| format!("catalogs.{name}.{key}");
        let uri = self.interpolate(&at("uri"), &catalog.uri)?;
        // Unity Catalog serves the Iceberg REST API under its workspace URL.
        let uri = match catalog.kind.as_str() {
            "unity" => format!("{}/{UNITY_REST_PATH}", uri.trim_end_matches('/')),
            _ => uri,
        };
        let endpoint = parse_base_url("uri", &uri).map_err(|_| {
            self.error(
                &at("uri"),
                &format!("'{uri}' is not an http(s) URL"),
                "give the catalog's REST root, e.g. https://catalog.example.com",
            )
        })?;
        let auth = match &catalog.credentials {
            None => Auth::None,
            Some(credentials) => match credentials.mode.as_str() {
                "none" => Auth::None,
                "token" => Auth::Token(self.secret(&at("credentials.token"), credentials.token.as_ref())?),
                "oauth2" => {
                    let client_id = self.plain(&at("credentials.client_id"), credentials.client_id.as_ref())?;
                    let client_secret =
                        self.secret(&at("credentials.client_secret"), credentials.client_secret.as_ref())?;
                    let server_uri = match &catalog.oauth2_server_uri {
                        Some(uri) => parse_url("oauth2_server_uri", &self.interpolate(&at("oauth2_server_uri"), uri)?)
                            .map_err(|_| {
                                self.error(
                                    &at("oauth2_server_uri"),
                                    &format!("'{uri}' is not an http(s) URL"),
                                    "give an http(s) URL",
                                )
                            })?,
                        // Unity: the workspace's OAuth machine-to-machine endpoint.
                        None if catalog.kind == "unity" => {
                            let workspace = self.interpolate(&at("uri"), &catalog.uri)?;
                            parse_url("uri", &format!("{}/oidc/v1/token", workspace.trim_end_matches('/')))?
                        }
                        None => endpoint.join("v1/oauth/tokens").expect("a base URL joins"),
                    };
                    let scope = match (&catalog.scope, catalog.kind.as_str()) {
                        (Some(scope), _) => Some(self.interpolate(&at("scope"), scope)?),
                        // Each catalog's own default: every role of the principal, every API.
                        (None, "polaris") => Some(POLARIS_DEFAULT_SCOPE.to_string()),
                        (None, "unity") => Some(UNITY_DEFAULT_SCOPE.to_string()),
                        (None, _) => None,
                    };
                    Auth::ClientCredentials { server_uri, client_id, client_secret, scope }
                }
                "sigv4" => Auth::SigV4(self.sigv4(name, credentials)?),
                other => {
                    return Err(self.error(
                        &at("credentials.mode"),
                        &format!("'{other}' is not a credentials mode"),
                        "use oauth2, token, sigv4 or none",
                    ))
                }
            },
        };
        let access_delegation = match catalog.access_delegation.as_deref() {
            None | Some("vended_credentials") => AccessDelegation::VendedCredentials,
            Some("none") => AccessDelegation::None,
            Some(other) => {
                return Err(self.error(
                    &at("access_delegation"),
                    &format!("'{other}' is not a delegation mode"),
                    "use vended_credentials or none",
                ))
            }
        };
        let storage = match &catalog.storage {
            None => HashMap::new(),
            Some(storage) => self.storage(name, &storage.s3)?,
        };
        let timeouts = match &catalog.timeouts {
            None => Timeouts::default(),
            Some(spec) => self.timeouts(name, spec)?,
        };
        Ok(CatalogOptions {
            warehouse: self.warehouse(name)?,
            endpoint,
            auth,
            access_delegation,
            default_schema: None,
            purge_requested: false,
            storage,
            timeouts,
            metadata_cache_bytes: crate::storage::MetadataCache::DEFAULT_BYTES,
            data_cache_bytes: crate::storage::DataCache::DEFAULT_BYTES,
            max_table_staleness: None,
            headers: self.headers(name, catalog)?,
            server_planning: None,
        })
    }

    /// Headers a catalog type asks for on every request: Polaris' realm.
    fn headers(&self, name: &str, catalog: &CatalogSpec) -> Result<Vec<(String, String)>> {
        let at = |key: &str| format!("catalogs.{name}.{key}");
        match (&catalog.realm, catalog.kind.as_str()) {
            (None, _) => Ok(Vec::new()),
            (Some(realm), "polaris") => {
                Ok(vec![(POLARIS_REALM_HEADER.to_string(), self.interpolate(&at("realm"), realm)?)])
            }
            (Some(_), other) => Err(self.error(
                &at("realm"),
                &format!("is a Polaris setting, and this catalog's type is '{other}'"),
                "remove it, or set type: polaris",
            )),
        }
    }

    /// SigV4 signing: the file's keys where it names them, else the environment's or the AWS
    /// profile's (`rest::sigv4`).
    fn sigv4(&self, name: &str, credentials: &CredentialsSpec) -> Result<SigV4> {
        let at = |key: &str| format!("catalogs.{name}.credentials.{key}");
        let fixed = match &credentials.access_key_id {
            None => None,
            Some(key) => Some(AwsCredentials {
                access_key_id: self.plain(&at("access_key_id"), Some(key))?,
                secret_access_key: self.secret(&at("secret_access_key"), credentials.secret_access_key.as_ref())?,
                session_token: credentials
                    .session_token
                    .as_ref()
                    .map(|token| self.secret(&at("session_token"), Some(token)))
                    .transpose()?,
                source: format!("{} ({})", self.path.display(), at("access_key_id")),
            }),
        };
        let region = credentials.region.as_ref().map(|r| self.interpolate(&at("region"), r)).transpose()?;
        let env = |name: &str| std::env::var(name).ok();
        let (credentials_found, region) = sigv4::resolve(None, fixed, region.as_deref(), &env)?;
        let signing_name = credentials.signing_name.clone().unwrap_or_else(|| sigv4::DEFAULT_SIGNING_NAME.to_string());
        Ok(SigV4 { region, signing_name, credentials: credentials_found })
    }

    fn timeouts(&self, name: &str, spec: &TimeoutsSpec) -> Result<Timeouts> {
        let mut timeouts = Timeouts::default();
        for (key, seconds, timeout) in [
            ("connect", spec.connect, &mut timeouts.connect),
            ("request", spec.request, &mut timeouts.request),
            ("commit", spec.commit, &mut timeouts.commit),
        ] {
            if let Some(seconds) = seconds {
                let at = format!("catalogs.{name}.timeouts.{key}");
                *timeout = Timeouts::parse_seconds(&at, &seconds.to_string()).map_err(|_| {
                    self.error(
                        &at,
                        &format!("is {seconds}"),
                        "give a number of seconds greater than 0 and at most 3600",
                    )
                })?;
            }
        }
        Ok(timeouts)
    }

    fn storage(&self, name: &str, s3: &S3Spec) -> Result<HashMap<String, SecretString>> {
        let at = |key: &str| format!("catalogs.{name}.storage.s3.{key}");
        let mut props = HashMap::new();
        if let Some(endpoint) = &s3.endpoint {
            props.insert("s3.endpoint".to_string(), SecretString::from(self.interpolate(&at("endpoint"), endpoint)?));
        }
        if let Some(region) = &s3.region {
            props.insert("s3.region".to_string(), SecretString::from(self.interpolate(&at("region"), region)?));
        }
        if let Some(path_style) = s3.path_style {
            props.insert("s3.path-style-access".to_string(), SecretString::from(path_style.to_string()));
        }
        props.insert(
            "s3.access-key-id".to_string(),
            SecretString::from(self.plain(&at("access_key_id"), Some(&s3.access_key_id))?),
        );
        props.insert(
            "s3.secret-access-key".to_string(),
            self.secret(&at("secret_access_key"), Some(&s3.secret_access_key))?,
        );
        if let Some(token) = &s3.session_token {
            props.insert("s3.session-token".to_string(), self.secret(&at("session_token"), Some(token))?);
        }
        Ok(props)
    }

    /// Static checks: what can be wrong without the environment.
    fn check(&self, name: &str, catalog: &CatalogSpec) -> Result<()> {
        let at = |key: &str| format!("catalogs.{name}.{key}");
        if catalog.kind.is_empty() {
            return Err(self.error(
                &at("type"),
                "is empty",
                "use rest (or polaris, lakekeeper, ...: all speak the REST spec)",
            ));
        }
        let credentials = catalog.credentials.iter().flat_map(|c| {
            [
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("token", &c.token),
                ("access_key_id", &c.access_key_id),
                ("secret_access_key", &c.secret_access_key),
                ("session_token", &c.session_token),
            ]
            .map(|(key, value)| (format!("credentials.{key}"), value.as_ref()))
        });
        let storage = catalog.storage.iter().flat_map(|s| {
            [
                ("access_key_id", Some(&s.s3.access_key_id)),
                ("secret_access_key", Some(&s.s3.secret_access_key)),
                ("session_token", s.s3.session_token.as_ref()),
            ]
            .map(|(key, value)| (format!("storage.s3.{key}"), value))
        });
        for (key, value) in credentials.chain(storage) {
            if let Some(Value::Secret { secret_ref }) = value {
                self.check_reference(&at(&key), secret_ref)?;
            }
        }
        if let Some(credentials) = &catalog.credentials {
            // Credentials written into the file would be readable by everyone who can read it.
            for (key, value) in [
                ("client_secret", &credentials.client_secret),
                ("token", &credentials.token),
                ("secret_access_key", &credentials.secret_access_key),
                ("session_token", &credentials.session_token),
            ] {
                if let Some(Value::Plain(_)) = value {
                    return Err(self.error(
                        &at(&format!("credentials.{key}")),
                        "holds a credential in the file",
                        "reference it instead: { secret_ref: <name> }",
                    ));
                }
            }
        }
        if let Some(storage) = &catalog.storage {
            if let Value::Plain(_) = storage.s3.secret_access_key {
                return Err(self.error(
                    &at("storage.s3.secret_access_key"),
                    "holds a credential in the file",
                    "reference it instead: { secret_ref: <name> }",
                ));
            }
        }
        Ok(())
    }

    fn catalog(&self, name: &str) -> Result<&CatalogSpec> {
        self.file.catalogs.get(name).ok_or_else(|| {
            let known = self.catalog_names().join(", ");
            self.error(&format!("catalogs.{name}"), "does not exist", &format!("use one of: {known}"))
        })
    }

    fn plain(&self, key: &str, value: Option<&Value>) -> Result<String> {
        match value {
            None => Err(self.error(key, "is missing", "add it")),
            Some(Value::Plain(text)) => self.interpolate(key, text),
            Some(Value::Secret { secret_ref }) => Ok(self.resolve(key, secret_ref)?.expose_secret().to_string()),
        }
    }

    fn secret(&self, key: &str, value: Option<&Value>) -> Result<SecretString> {
        match value {
            None => Err(self.error(key, "is missing", "add { secret_ref: <name> }")),
            Some(Value::Plain(_)) => {
                Err(self.error(key, "holds a credential in the file", "reference it instead: { secret_ref: <name> }"))
            }
            Some(Value::Secret { secret_ref }) => self.resolve(key, secret_ref),
        }
    }

    fn secrets_dir(&self) -> PathBuf {
        self.file
            .secrets
            .dir
            .clone()
            .or_else(|| std::env::var("FLOE_SECRETS_DIR").ok())
            .unwrap_or_else(|| DEFAULT_SECRETS_DIR.to_string())
            .into()
    }

    /// A reference names a secret; it is never a path, so `<secrets dir>/<name>` stays inside
    /// the secrets directory whatever the file says.
    fn check_reference(&self, key: &str, reference: &str) -> Result<()> {
        let path_like = reference.is_empty()
            || reference.starts_with('.')
            || reference.contains(['/', '\\'])
            || reference.contains("..");
        if !path_like {
            return Ok(());
        }
        Err(self.error(
            key,
            &format!(
                "refers to secret '{reference}', which is not a name: a reference names an environment variable or a file directly in the secrets directory {}, never a path",
                self.secrets_dir().display()
            ),
            "use the secret's name alone, without '/', '\\', '..' or a leading '.' (e.g. { secret_ref: catalog-client-secret }), and put its file in the secrets directory (secrets.dir)",
        ))
    }

    fn resolve(&self, key: &str, reference: &str) -> Result<SecretString> {
        self.check_reference(key, reference)?;
        let variable: String =
            reference.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        if let Ok(value) = std::env::var(&variable) {
            return Ok(SecretString::from(value));
        }
        let file = self.secrets_dir().join(reference);
        match std::fs::read_to_string(&file) {
            Ok(value) => Ok(SecretString::from(value.trim_end_matches(['\n', '\r']).to_string())),
            Err(_) => Err(self.error(
                key,
                &format!("refers to secret '{reference}', which is not set"),
                &format!("export {variable}=... or create the file {}", file.display()),
            )),
        }
    }

    /// `${VAR}` replaced from the environment.
    fn interpolate(&self, key: &str, text: &str) -> Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| self.error(key, &format!("has an unclosed ${{ in '{text}'"), "write ${NAME}"))?;
            let name = &rest[start + 2..start + end];
            let value = std::env::var(name).map_err(|_| {
                self.error(key, &format!("uses ${{{name}}}, which is not set"), &format!("export {name}=..."))
            })?;
            out.push_str(&value);
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn error(&self, key: &str, what: &str, fix: &str) -> Error {
        Error::invalid_input(format!("{}: {key} {what}", self.path.display())).with_fix(fix)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn platform(yaml: &str) -> (tempdir::Dir, Result<Platform>) {
        let dir = tempdir::Dir::new();
        let path = dir.path.join("platform.yaml");
        std::fs::File::create(&path).unwrap().write_all(yaml.as_bytes()).unwrap();
        let loaded = Platform::load(&path);
        (dir, loaded)
    }

    mod tempdir {
        pub struct Dir {
            pub path: std::path::PathBuf,
        }
        impl Dir {
            pub fn new() -> Dir {
                let path = std::env::temp_dir().join(format!("floe-platform-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&path).unwrap();
                Dir { path }
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.path);
            }
        }
    }

    #[test]
    fn references_resolve_from_the_environment_and_the_secrets_dir() {
        let (dir, _) = platform("catalogs: {}");
        std::fs::write(dir.path.join("catalog-client-secret"), "from-file\n").unwrap();
        std::env::set_var("FLOE_TEST_URI_A", "http://catalog:8181");
        std::env::set_var("FLOE_TEST_CLIENT_A", "analyst");
        let yaml = format!(
            "catalogs:\n  default:\n    uri: \"${{FLOE_TEST_URI_A}}\"\n    warehouse: wh\n    scope: ROLE\n    credentials:\n      mode: oauth2\n      client_id: {{ secret_ref: floe-test-client-a }}\n      client_secret: {{ secret_ref: catalog-client-secret }}\nsecrets:\n  dir: {}\n",
            dir.path.display()
        );
        let (_dir, loaded) = platform(&yaml);
        let options = loaded.unwrap().catalog_options("default").unwrap();
        assert_eq!(options.endpoint.as_str(), "http://catalog:8181/");
        match options.auth {
            Auth::ClientCredentials { client_id, client_secret, server_uri, scope } => {
                assert_eq!(client_id, "analyst");
                assert_eq!(client_secret.expose_secret(), "from-file");
                assert_eq!(server_uri.as_str(), "http://catalog:8181/v1/oauth/tokens");
                assert_eq!(scope.as_deref(), Some("ROLE"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn several_catalogs_each_with_their_own_settings() {
        std::env::set_var("FLOE_TEST_TOKEN_B", "tok-b");
        let (_dir, loaded) = platform(
            "catalogs:\n  dev:\n    uri: http://dev:8181/api\n    warehouse: dev_wh\n  prod:\n    uri: https://prod\n    warehouse: prod_wh\n    access_delegation: none\n    credentials:\n      mode: token\n      token: { secret_ref: floe-test-token-b }\n    storage:\n      s3: { endpoint: http://s3:9000, region: eu-west-1, path_style: true, access_key_id: AKIA1, secret_access_key: { secret_ref: floe-test-token-b } }\ngovernance:\n  properties: [domain, steward]\n",
        );
        let platform = loaded.unwrap();
        assert_eq!(platform.catalog_names(), vec!["dev", "prod"]);
        assert_eq!(platform.governance_keys(), vec!["classification", "owner", "domain", "steward"]);
        let dev = platform.catalog_options("dev").unwrap();
        assert_eq!((dev.warehouse.as_str(), dev.endpoint.as_str()), ("dev_wh", "http://dev:8181/api/"));
        assert!(matches!(dev.auth, Auth::None));
        assert!(dev.storage.is_empty());
        let prod = platform.catalog_options("prod").unwrap();
        assert!(matches!(&prod.auth, Auth::Token(t) if t.expose_secret() == "tok-b"));
        assert_eq!(prod.access_delegation, AccessDelegation::None);
        assert_eq!(prod.storage["s3.access-key-id"].expose_secret(), "AKIA1");
        assert_eq!(prod.storage["s3.secret-access-key"].expose_secret(), "tok-b");
        assert_eq!(prod.storage["s3.path-style-access"].expose_secret(), "true");
        // Debug output of the options never shows a secret.
        assert!(!format!("{prod:?}").contains("tok-b"));
    }

    #[test]
    fn errors_name_the_file_the_key_and_the_fix() {
        let (_dir, loaded) = platform(
            "catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n    credentials:\n      mode: oauth2\n      client_id: me\n      client_secret: hunter2\n",
        );
        let err = loaded.unwrap_err().to_string();
        assert!(err.ends_with("platform.yaml: catalogs.default.credentials.client_secret holds a credential in the file. Fix: reference it instead: { secret_ref: <name> }"), "{err}");
        assert!(!err.contains("hunter2"));

        let (_dir, loaded) =
            platform("catalogs:\n  default:\n    uri: \"${FLOE_TEST_UNSET_VAR}\"\n    warehouse: wh\n");
        let err = loaded.unwrap().catalog_options("default").unwrap_err().to_string();
        assert!(err.contains("catalogs.default.uri uses ${FLOE_TEST_UNSET_VAR}, which is not set. Fix: export FLOE_TEST_UNSET_VAR=..."), "{err}");

        let (_dir, loaded) = platform(
            "catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n    credentials:\n      mode: oauth2\n      client_id: me\n      client_secret: { secret_ref: floe-test-missing }\n",
        );
        let err = loaded.unwrap().catalog_options("default").unwrap_err().to_string();
        assert!(err.contains("refers to secret 'floe-test-missing', which is not set. Fix: export FLOE_TEST_MISSING=... or create the file"), "{err}");

        let (_dir, loaded) = platform("catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n    colour: red\n");
        assert!(loaded.unwrap_err().to_string().contains("unknown field `colour`"));
    }

    #[test]
    fn secret_references_are_names_never_paths() {
        // A file outside the secrets directory that a path-like reference would reach.
        let outside = tempdir::Dir::new();
        std::fs::write(outside.path.join("stolen"), "outside-value").unwrap();
        let secrets = outside.path.join("secrets");
        std::fs::create_dir_all(&secrets).unwrap();
        std::fs::write(secrets.join(".hidden"), "hidden-value").unwrap();
        let escape = format!("{}/stolen", outside.path.display());
        for (reference, key) in [
            ("../stolen", "credentials.client_secret"),
            (escape.as_str(), "credentials.client_secret"),
            ("sub\\..\\stolen", "credentials.client_secret"),
            ("a/b", "storage.s3.secret_access_key"),
            ("..", "credentials.client_secret"),
            (".hidden", "storage.s3.access_key_id"),
            ("", "credentials.client_secret"),
        ] {
            let yaml = format!(
                "catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n{}secrets:\n  dir: {}\n",
                if key.starts_with("credentials") {
                    format!("    credentials:\n      mode: oauth2\n      client_id: me\n      client_secret: {{ secret_ref: '{reference}' }}\n")
                } else if key.ends_with("access_key_id") {
                    format!("    storage:\n      s3: {{ access_key_id: {{ secret_ref: '{reference}' }}, secret_access_key: {{ secret_ref: fine }} }}\n")
                } else {
                    format!("    storage:\n      s3: {{ access_key_id: AKIA1, secret_access_key: {{ secret_ref: '{reference}' }} }}\n")
                },
                secrets.display()
            );
            let (_dir, loaded) = platform(&yaml);
            let err = loaded.expect_err(reference).to_string();
            assert!(err.contains("platform.yaml: "), "{err}");
            assert!(
                err.contains(&format!("catalogs.default.{key} refers to secret '{reference}', which is not a name")),
                "{err}"
            );
            assert!(err.contains(&format!("secrets directory {}", secrets.display())), "{err}");
            assert!(err.contains("Fix: use the secret's name alone"), "{err}");
            assert!(!err.contains("outside-value") && !err.contains("hidden-value"), "{err}");
        }
        // A plain name still resolves from the directory.
        std::fs::write(secrets.join("catalog-client-secret"), "inside-value").unwrap();
        let (_dir, loaded) = platform(&format!(
            "catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n    credentials:\n      mode: oauth2\n      client_id: me\n      client_secret: {{ secret_ref: catalog-client-secret }}\nsecrets:\n  dir: {}\n",
            secrets.display()
        ));
        match loaded.unwrap().catalog_options("default").unwrap().auth {
            Auth::ClientCredentials { client_secret, .. } => assert_eq!(client_secret.expose_secret(), "inside-value"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timeouts_come_from_the_file_in_seconds() {
        let (_dir, loaded) = platform(
            "catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n    timeouts: { connect: 2, request: 7.5 }\n  plain:\n    uri: http://c\n    warehouse: wh\n",
        );
        let file = loaded.unwrap();
        let timeouts = file.catalog_options("default").unwrap().timeouts;
        assert_eq!(timeouts.connect, std::time::Duration::from_secs(2));
        assert_eq!(timeouts.request, std::time::Duration::from_millis(7500));
        assert_eq!(timeouts.commit, Timeouts::default().commit);
        assert_eq!(file.catalog_options("plain").unwrap().timeouts, Timeouts::default());

        let (_dir, loaded) =
            platform("catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n    timeouts: { request: 0 }\n");
        let err = loaded.unwrap().catalog_options("default").unwrap_err().to_string();
        assert!(err.ends_with("platform.yaml: catalogs.default.timeouts.request is 0. Fix: give a number of seconds greater than 0 and at most 3600"), "{err}");
        let (_dir, loaded) =
            platform("catalogs:\n  default:\n    uri: http://c\n    warehouse: wh\n    timeouts: { read: 3 }\n");
        assert!(loaded.unwrap_err().to_string().contains("unknown field `read`"));
    }
}
