//! opendal operators built from Iceberg's storage properties, one per (service, bucket, properties),
//! kept for the process so requests reuse connections and signers.
//!
//! Every operator has the same safety net: a connect timeout, a bound on each request (a store that
//! accepts connections but never answers fails the request instead of hanging the statement) and
//! retries with jittered backoff for transient failures.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::Duration;

use opendal::layers::{HttpClientLayer, RetryLayer, TimeoutLayer};
use opendal::raw::HttpClient;
use opendal::{services, Operator};

use super::location::{ObjectUrl, Service};
use super::props::*;
use crate::error::{Error, Result};

/// A TCP (and TLS) handshake takes milliseconds; a few seconds still cover lost SYNs.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on a request that moves no data (stat, delete).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on each step of a read (the answer, its next bytes, a listing page): a stalled
/// connection fails after this, a slow but moving one does not.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on sending one upload part (or a small file): its whole body must go out within it, so
/// an 8 MiB part on a slow uplink (4 parts at once at 5 Mbit/s) must not be cut off.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// Retries after the first attempt: with the timeouts above a frozen store fails a read after
/// about 3 × 10 s, well under a minute.
const RETRIES: usize = 2;
const RETRY_MIN_DELAY: Duration = Duration::from_millis(200);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(2);
/// Vended credentials rotate: bound what stale operators can accumulate.
const CACHE_SIZE: usize = 256;

/// What an operator is for: its transfers are bounded differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Purpose {
    /// Reads, listings, sizes, deletes.
    Read,
    /// Uploads.
    Write,
}

/// What tells operators apart: the service, the bucket (with the Azure account), every property
/// and the purpose.
#[derive(Clone, PartialEq, Eq, Hash)]
struct OperatorKey {
    service: Service,
    root: String,
    props: Arc<Vec<(String, String)>>,
    purpose: Purpose,
}

/// The operator serving `object` with `props` (`sorted` is `props.sorted()`, computed once by the
/// caller) for `purpose`, built on first use.
pub(crate) fn operator(
    object: &ObjectUrl,
    props: &StorageProps,
    sorted: &Arc<Vec<(String, String)>>,
    purpose: Purpose,
) -> Result<Operator> {
    static CACHE: OnceLock<Mutex<HashMap<OperatorKey, Operator>>> = OnceLock::new();
    let key = OperatorKey { service: object.service, root: object.root(), props: sorted.clone(), purpose };
    let mut cache = crate::sync::lock(CACHE.get_or_init(Default::default));
    if let Some(operator) = cache.get(&key) {
        return Ok(operator.clone());
    }
    if cache.len() >= CACHE_SIZE {
        cache.clear();
    }
    let operator = build(object, props, purpose)?;
    cache.insert(key, operator.clone());
    Ok(operator)
}

/// Where requests for `object` go, as users would recognise it in an error.
pub(crate) fn endpoint(object: &ObjectUrl, props: &StorageProps) -> String {
    match object.service {
        Service::S3 => match props.get(S3_ENDPOINT) {
            Some(endpoint) => format!("the S3 endpoint {endpoint}"),
            None => format!("AWS S3 ({})", region(props)),
        },
        Service::Gcs => {
            format!("the GCS endpoint {}", props.get(GCS_ENDPOINT).unwrap_or("https://storage.googleapis.com"))
        }
        Service::Azure => match AzureSettings::of(object, props) {
            Ok(settings) => format!("the Azure Blob endpoint {}", settings.endpoint),
            Err(_) => "Azure storage".to_string(),
        },
        Service::Fs => "the local file system".to_string(),
    }
}

fn build(object: &ObjectUrl, props: &StorageProps, purpose: Purpose) -> Result<Operator> {
    let built = match object.service {
        Service::S3 => Operator::new(s3(object, props)?).map(|built| built.finish()),
        Service::Gcs => Operator::new(gcs(object, props)?).map(|built| built.finish()),
        Service::Azure => Operator::new(azure(object, props)?).map(|built| built.finish()),
        Service::Fs => Operator::new(services::Fs::default().root("/")).map(|built| built.finish()),
    };
    let operator = built.map_err(|e| {
        Error::invalid_input(format!(
            "Cannot use {} for {}://{}: {}",
            endpoint(object, props),
            scheme_word(object.service),
            object.root(),
            props.redactor().redact(&e.to_string())
        ))
        .with_fix("check the storage properties the catalog or the platform file gives for this location")
    })?;
    let io_timeout = match purpose {
        Purpose::Read => IO_TIMEOUT,
        Purpose::Write => UPLOAD_TIMEOUT,
    };
    Ok(operator
        // Timeouts inside retries, so each attempt is bounded and a timed-out one is retried.
        .layer(TimeoutLayer::new().with_timeout(REQUEST_TIMEOUT).with_io_timeout(io_timeout))
        .layer(
            RetryLayer::new()
                .with_jitter()
                .with_max_times(RETRIES)
                .with_min_delay(RETRY_MIN_DELAY)
                .with_max_delay(RETRY_MAX_DELAY),
        )
        .layer(HttpClientLayer::new(http_client())))
}

fn scheme_word(service: Service) -> &'static str {
    match service {
        Service::S3 => "s3",
        Service::Gcs => "gs",
        Service::Azure => "abfss",
        Service::Fs => "file",
    }
}

/// Builds the storage HTTP clients on a thread of its own unless they exist: floe's, and the one
/// opendal builds for every operator before `HttpClientLayer` replaces it (and uses to load
/// credentials). Each loads the system's root certificates, tens of milliseconds that ATTACH
/// hides instead of the first statement that reads or writes a file.
pub(crate) fn prepare_http_clients() {
    if HTTP_CLIENT.get().is_none() {
        std::thread::spawn(|| {
            http_client();
            LazyLock::force(&opendal::raw::GLOBAL_REQWEST_CLIENT);
        });
    }
}

static HTTP_CLIENT: OnceLock<HttpClient> = OnceLock::new();

/// One HTTP client for every operator: connections to a store are pooled across tables.
fn http_client() -> HttpClient {
    HTTP_CLIENT
        .get_or_init(|| {
            let client = opendal_reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .pool_idle_timeout(Duration::from_secs(30))
                .tcp_keepalive(Duration::from_secs(30))
                .build()
                .expect("the storage HTTP client's settings are valid");
            HttpClient::with(client)
        })
        .clone()
}

fn region(props: &StorageProps) -> &str {
    props.get(S3_REGION).or_else(|| props.get(CLIENT_REGION)).unwrap_or("us-east-1")
}

fn is_true(props: &StorageProps, key: &str) -> bool {
    props.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn s3(object: &ObjectUrl, props: &StorageProps) -> Result<services::S3> {
    if is_true(props, S3_REMOTE_SIGNING) {
        return Err(Error::unsupported(format!(
            "The catalog asks for S3 remote signing ({S3_REMOTE_SIGNING}=true) for s3://{}, which floe does not support yet",
            object.bucket
        ))
        .with_fix("ask the catalog for vended credentials (ACCESS_DELEGATION_MODE 'vended_credentials') or give storage keys (a DuckDB S3 secret or the platform file's storage settings)"));
    }
    // Credentials come from these properties only: never from the environment, a profile or
    // the EC2 metadata service, whose probe hangs off EC2.
    let mut builder = services::S3::default()
        .bucket(object.bucket)
        .root("/")
        .region(region(props))
        .disable_config_load()
        .disable_ec2_metadata();
    if let Some(endpoint) = props.get(S3_ENDPOINT) {
        builder = builder.endpoint(endpoint);
    }
    // Iceberg's default is virtual-host style, opendal's path style.
    if !is_true(props, S3_PATH_STYLE) {
        builder = builder.enable_virtual_host_style();
    }
    match (props.get(S3_ACCESS_KEY), props.get(S3_SECRET_KEY)) {
        (Some(key), Some(secret)) => {
            builder = builder.access_key_id(key).secret_access_key(secret);
            if let Some(token) = props.get(S3_SESSION_TOKEN) {
                builder = builder.session_token(token);
            }
        }
        _ => builder = builder.skip_signature(),
    }
    Ok(builder)
}

fn gcs(object: &ObjectUrl, props: &StorageProps) -> Result<services::Gcs> {
    let mut builder =
        services::Gcs::default().bucket(object.bucket).root("/").disable_config_load().disable_vm_metadata();
    if let Some(endpoint) = props.get(GCS_ENDPOINT) {
        builder = builder.endpoint(endpoint);
    }
    if let Some(token) = props.get(GCS_TOKEN) {
        builder = builder.token(token.to_string());
    } else if let Some(credentials) = props.get(GCS_CREDENTIALS_JSON).or_else(|| props.get(GCS_CREDENTIALS)) {
        builder = builder.credential(credentials);
    } else if is_true(props, GCS_NO_AUTH) {
        builder = builder.skip_signature();
    } else {
        // Unsigned requests only when asked for: an emulator on loopback is no reason to send none.
        return Err(Error::new(
            crate::error::ErrorKind::Forbidden,
            format!("No GCS credentials for gs://{} ({})", object.bucket, props.source()),
        )
        .with_fix(format!(
            "the catalog vended no {GCS_TOKEN} (ACCESS_DELEGATION_MODE 'vended_credentials' asks for it), so give a token: {} (a secret's HMAC keys, KEY_ID and SECRET, are for GCS's S3-compatible API, which floe does not use); for a public bucket or an emulator the catalog must say {GCS_NO_AUTH}=true",
            super::error::create_secret(object)
        )));
    }
    Ok(builder)
}

fn azure(object: &ObjectUrl, props: &StorageProps) -> Result<services::Azblob> {
    let settings = AzureSettings::of(object, props)?;
    let mut builder = services::Azblob::default()
        .container(object.bucket)
        .root("/")
        .endpoint(&settings.endpoint)
        .account_name(&settings.account);
    if let Some(sas) = &settings.sas_token {
        builder = builder.sas_token(sas);
    } else if let Some(key) = &settings.account_key {
        builder = builder.account_key(key);
    } else {
        builder = builder.skip_signature();
    }
    Ok(builder)
}

/// How to reach one Azure container. The Blob API serves every account, ADLS Gen2 ones included
/// (multi-protocol access), and it is all Azurite emulates: Azurite has no DFS endpoint (its
/// issues #409, #553), so one service, opendal's azblob, covers the cloud and the emulator.
struct AzureSettings {
    endpoint: String,
    account: String,
    account_key: Option<String>,
    sas_token: Option<String>,
}

impl AzureSettings {
    fn of(object: &ObjectUrl, props: &StorageProps) -> Result<AzureSettings> {
        let host = object.host.unwrap_or_default();
        let url_account = object.account.unwrap_or_default();
        // Catalogs key per-account settings by the URL's host (Java) or the account name.
        let per_account = |prefix: &str| {
            props.get(&format!("{prefix}.{host}")).or_else(|| props.get(&format!("{prefix}.{url_account}")))
        };
        let connection = per_account(ADLS_CONNECTION_STRING)
            .or_else(|| props.get(ADLS_CONNECTION_STRING))
            .map(ConnectionString::parse);
        let account = props
            .get(ADLS_ACCOUNT_NAME)
            .map(str::to_string)
            .or_else(|| connection.as_ref().and_then(|c| c.get("AccountName")))
            .unwrap_or_else(|| url_account.to_string());
        let endpoint = match (&connection, props.get(ADLS_BLOB_AUTHORITY)) {
            (Some(connection), _) if connection.endpoint().is_some() => connection.endpoint().unwrap_or_default(),
            (_, Some(authority)) => {
                let scheme = props.get(ADLS_BLOB_SCHEME).unwrap_or("https");
                // PyIceberg's form: ".blob.core.windows.net" is appended to the account, anything
                // else is an emulator that serves the account as the first path segment. The
                // adls.dfs-storage-* twins name the DFS endpoint, which floe does not use.
                match authority.strip_prefix('.') {
                    Some(suffix) => format!("{scheme}://{account}.{suffix}"),
                    None => format!("{scheme}://{authority}/{account}"),
                }
            }
            _ => format!("https://{}", host.replacen(".dfs.", ".blob.", 1)),
        };
        let sas_token = per_account(ADLS_SAS_TOKEN)
            .or_else(|| props.get(ADLS_SAS_TOKEN))
            .map(str::to_string)
            .or_else(|| connection.as_ref().and_then(|c| c.get("SharedAccessSignature")));
        let account_key = props
            .get(ADLS_ACCOUNT_KEY)
            .map(str::to_string)
            .or_else(|| connection.as_ref().and_then(|c| c.get("AccountKey")));
        Ok(AzureSettings { endpoint, account, account_key, sas_token })
    }
}

/// An Azure storage connection string, e.g. Azurite's
/// `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=...;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`.
struct ConnectionString(HashMap<String, String>);

impl ConnectionString {
    fn parse(text: &str) -> ConnectionString {
        ConnectionString(
            text.split(';')
                .filter_map(|field| field.trim().split_once('='))
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).filter(|v| !v.is_empty()).cloned()
    }

    /// `BlobEndpoint`, else the endpoint built from the protocol, account and suffix.
    fn endpoint(&self) -> Option<String> {
        self.get("BlobEndpoint").map(|e| e.trim_end_matches('/').to_string()).or_else(|| {
            let account = self.get("AccountName")?;
            let protocol = self.get("DefaultEndpointsProtocol").unwrap_or_else(|| "https".to_string());
            let suffix = self.get("EndpointSuffix").unwrap_or_else(|| "core.windows.net".to_string());
            Some(format!("{protocol}://{account}.blob.{suffix}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::props::CredentialSource;

    fn props(pairs: &[(&str, &str)]) -> StorageProps {
        StorageProps::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), CredentialSource::Vended)
    }

    fn azure_settings(url: &str, pairs: &[(&str, &str)]) -> AzureSettings {
        AzureSettings::of(&ObjectUrl::parse(url).unwrap(), &props(pairs)).unwrap()
    }

    #[test]
    fn azurite_connection_strings_give_the_blob_endpoint_and_key() {
        let settings = azure_settings(
            "abfs://lake@devstoreaccount1.dfs.core.windows.net/t",
            &[(
                ADLS_CONNECTION_STRING,
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
            )],
        );
        assert_eq!(settings.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(settings.account, "devstoreaccount1");
        assert_eq!(settings.account_key.as_deref(), Some("a2V5"));
    }

    #[test]
    fn azure_endpoints_from_the_url_or_pyicebergs_authority() {
        let cloud = azure_settings(
            "abfss://c@acct.dfs.core.windows.net/t",
            &[("adls.sas-token.acct.dfs.core.windows.net", "sv=1")],
        );
        assert_eq!(cloud.endpoint, "https://acct.blob.core.windows.net");
        assert_eq!(cloud.sas_token.as_deref(), Some("sv=1"));
        let emulator = azure_settings(
            "abfs://c@acct.dfs.core.windows.net/t",
            &[(ADLS_BLOB_AUTHORITY, "127.0.0.1:10000"), (ADLS_BLOB_SCHEME, "http"), ("adls.sas-token.acct", "sv=2")],
        );
        assert_eq!(emulator.endpoint, "http://127.0.0.1:10000/acct");
        assert_eq!(emulator.sas_token.as_deref(), Some("sv=2"));
        let built = ConnectionString::parse("AccountName=a;EndpointSuffix=core.chinacloudapi.cn").endpoint();
        assert_eq!(built.as_deref(), Some("https://a.blob.core.chinacloudapi.cn"));
    }

    #[test]
    fn remote_signing_is_refused_with_the_way_out() {
        let object = ObjectUrl::parse("s3://lake/t").unwrap();
        let err = s3(&object, &props(&[(S3_REMOTE_SIGNING, "true")])).unwrap_err();
        assert!(err.to_string().contains("remote signing"), "{err}");
        assert!(err.to_string().contains("vended_credentials"), "{err}");
    }

    #[test]
    fn gcs_without_credentials_must_say_no_auth() {
        let object = ObjectUrl::parse("gs://b/t").unwrap();
        let err = gcs(&object, &props(&[(GCS_ENDPOINT, "http://127.0.0.1:4443")])).unwrap_err();
        assert!(err.to_string().contains("gcs.no-auth=true"), "{err}");
        assert!(gcs(&object, &props(&[(GCS_NO_AUTH, "true")])).is_ok());
    }
}
