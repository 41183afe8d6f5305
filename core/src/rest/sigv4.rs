//! AWS Signature Version 4 for catalogs behind AWS IAM: Glue's and S3 Tables' Iceberg REST
//! endpoints, or any catalog behind a gateway that checks SigV4 (Iceberg Java's
//! `rest.sigv4-enabled`). Every request is signed with AWS's own signer (`aws-sigv4`).
//!
//! Credentials, first found wins: the DuckDB S3 secret handed over at ATTACH (named in SECRET, or
//! the one whose scope matches the endpoint), the platform file, the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the shared credentials
//! file's profile (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`; `AWS_PROFILE`, else
//! `default`). The region: the secret's, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the
//! profile's in `~/.aws/config`. The AWS SDK's `aws-config` resolves more sources (SSO, instance
//! and container roles) but brings an HTTP stack and runtime of its own; the environment and the
//! two files are the sources a DuckDB user has, so they are read here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// The signing name of AWS Glue's Iceberg REST endpoint.
pub const GLUE: &str = "glue";
/// The signing name of Amazon S3 Tables' Iceberg REST endpoint.
pub const S3_TABLES: &str = "s3tables";
/// Iceberg Java's default signing name (`rest.signing-name`): API Gateway.
pub const DEFAULT_SIGNING_NAME: &str = "execute-api";

#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: Option<SecretString>,
    /// Where they came from, for errors: "S3 secret 'prod'", "the environment", ...
    pub source: String,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AwsCredentials {{ access_key_id: {}, from {} }}", self.access_key_id, self.source)
    }
}

/// How requests to the catalog are signed.
#[derive(Clone, Debug)]
pub struct SigV4 {
    pub region: String,
    /// The service the signature is for (`glue`, `s3tables`, `execute-api`).
    pub signing_name: String,
    pub credentials: AwsCredentials,
}

impl SigV4 {
    /// Signs `request`, whose headers and body are final: adds `x-amz-date`, the session token
    /// if any and `authorization`.
    pub fn sign(&self, request: &mut reqwest::Request) -> Result<()> {
        let failed = |e: &dyn fmt::Display| Error::internal(format!("cannot sign the request with SigV4: {e}"));
        let body = request.body().and_then(reqwest::Body::as_bytes).unwrap_or(&[]).to_vec();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.to_string())))
            .collect();
        let credentials = &self.credentials;
        let identity: Identity = Credentials::new(
            &credentials.access_key_id,
            credentials.secret_access_key.expose_secret(),
            credentials.session_token.as_ref().map(|t| t.expose_secret().to_string()),
            None,
            "floe",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.signing_name)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| failed(&e))?
            .into();
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.url().as_str(),
            headers.iter().map(|(name, value)| (name.as_str(), value.as_str())),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| failed(&e))?;
        let (instructions, _signature) = sign(signable, &params).map_err(|e| failed(&e))?.into_parts();
        for (name, value) in instructions.headers() {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| failed(&e))?;
            let value = HeaderValue::from_str(value).map_err(|e| failed(&e))?;
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }
}

/// The fields of a DuckDB S3 secret (`key_id`, `secret`, `session_token`, `region`, `name`).
pub type S3SecretFields = BTreeMap<String, String>;

/// Credentials and region from the first source that has them; `fixed` are the platform file's.
pub fn resolve(
    s3_secret: Option<&S3SecretFields>,
    fixed: Option<AwsCredentials>,
    region: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(AwsCredentials, String)> {
    let field = |name: &str| s3_secret.and_then(|s| s.get(name)).filter(|v| !v.is_empty()).cloned();
    let profile = env("AWS_PROFILE").filter(|p| !p.is_empty()).unwrap_or_else(|| "default".to_string());
    let home = env("HOME").map(PathBuf::from);
    let from_secret = match (field("key_id"), field("secret")) {
        (Some(key), Some(secret)) => Some(AwsCredentials {
            access_key_id: key,
            secret_access_key: secret.into(),
            session_token: field("session_token").map(SecretString::from),
            source: format!("S3 secret '{}'", field("name").unwrap_or_default()),
        }),
        _ => None,
    };
    let from_env = || match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) if !key.is_empty() => Some(AwsCredentials {
            access_key_id: key,
            secret_access_key: secret.into(),
            session_token: env("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()).map(SecretString::from),
            source: "the environment (AWS_ACCESS_KEY_ID)".to_string(),
        }),
        _ => None,
    };
    let credentials_file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws").join("credentials")));
    let from_profile = || {
        let path = credentials_file.as_ref()?;
        let section = ini_section(&std::fs::read_to_string(path).ok()?, &profile)?;
        Some(AwsCredentials {
            access_key_id: section.get("aws_access_key_id")?.clone(),
            secret_access_key: section.get("aws_secret_access_key")?.clone().into(),
            session_token: section.get("aws_session_token").cloned().map(SecretString::from),
            source: format!("profile '{profile}' of {}", path.display()),
        })
    };
    let credentials = from_secret.or(fixed).or_else(from_env).or_else(from_profile).ok_or_else(|| {
        Error::invalid_input(
            "SigV4 signing needs AWS credentials, and none were found: no S3 secret, no AWS_ACCESS_KEY_ID in the \
             environment, no profile in the shared credentials file",
        )
        .with_fix("CREATE SECRET (TYPE s3, KEY_ID '...', SECRET '...', REGION '...') and name it in SECRET, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    })?;
    let config_file = env("AWS_CONFIG_FILE").map(PathBuf::from).or_else(|| home.map(|h| h.join(".aws").join("config")));
    let region = region
        .map(str::to_string)
        .or_else(|| field("region"))
        .or_else(|| env("AWS_REGION").filter(|r| !r.is_empty()))
        .or_else(|| env("AWS_DEFAULT_REGION").filter(|r| !r.is_empty()))
        .or_else(|| {
            let text = std::fs::read_to_string(config_file.as_ref()?).ok()?;
            let name = if profile == "default" { profile.clone() } else { format!("profile {profile}") };
            ini_section(&text, &name)?.get("region").cloned()
        })
        .ok_or_else(|| {
            Error::invalid_input("SigV4 signing needs the AWS region of the catalog, and none was found")
                .with_fix("give the S3 secret a REGION, or export AWS_REGION")
        })?;
    Ok((credentials, region))
}

/// The keys of section `[name]` of an INI file as AWS writes them.
fn ini_section(text: &str, name: &str) -> Option<BTreeMap<String, String>> {
    let mut found = None;
    let mut current = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = header.trim() == name;
            if current {
                found.get_or_insert_with(BTreeMap::new);
            }
        } else if current {
            if let Some((key, value)) = line.split_once('=') {
                found.get_or_insert_with(BTreeMap::new).insert(key.trim().to_string(), value.trim().to_string());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn the_s3_secret_comes_first_then_the_environment() {
        let secret: S3SecretFields = [("name", "prod"), ("key_id", "AKIA1"), ("secret", "s1"), ("region", "eu-west-1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let vars = env(&[("AWS_ACCESS_KEY_ID", "AKIA2"), ("AWS_SECRET_ACCESS_KEY", "s2"), ("AWS_REGION", "us-east-2")]);
        let (credentials, region) = resolve(Some(&secret), None, None, &vars).unwrap();
        assert_eq!((credentials.access_key_id.as_str(), region.as_str()), ("AKIA1", "eu-west-1"));
        assert_eq!(credentials.source, "S3 secret 'prod'");
        let (credentials, region) = resolve(None, None, None, &vars).unwrap();
        assert_eq!((credentials.access_key_id.as_str(), region.as_str()), ("AKIA2", "us-east-2"));
        // Never in Debug output.
        assert!(!format!("{credentials:?}").contains("s2"));
    }

    #[test]
    fn the_shared_files_and_a_profile() {
        let dir = std::env::temp_dir().join(format!("floe-sigv4-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("credentials"),
            "[default]\naws_access_key_id = AKIA0\naws_secret_access_key = s0\n\n[etl]\n# the job's keys\naws_access_key_id=AKIA3\naws_secret_access_key=s3\naws_session_token = t3\n",
        )
        .unwrap();
        std::fs::write(dir.join("config"), "[default]\nregion = us-west-2\n[profile etl]\nregion = ap-south-1\n")
            .unwrap();
        let files = |profile: &str| {
            let credentials = dir.join("credentials").display().to_string();
            let config = dir.join("config").display().to_string();
            let profile = profile.to_string();
            move |name: &str| match name {
                "AWS_SHARED_CREDENTIALS_FILE" => Some(credentials.clone()),
                "AWS_CONFIG_FILE" => Some(config.clone()),
                "AWS_PROFILE" => Some(profile.clone()),
                _ => None,
            }
        };
        let (credentials, region) = resolve(None, None, None, &files("etl")).unwrap();
        assert_eq!((credentials.access_key_id.as_str(), region.as_str()), ("AKIA3", "ap-south-1"));
        assert_eq!(credentials.session_token.unwrap().expose_secret(), "t3");
        let (credentials, region) = resolve(None, None, None, &files("default")).unwrap();
        assert_eq!((credentials.access_key_id.as_str(), region.as_str()), ("AKIA0", "us-west-2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_found_says_where_to_put_it() {
        let err = resolve(None, None, None, &env(&[])).unwrap_err().to_string();
        assert!(
            err.contains("SigV4 signing needs AWS credentials") && err.contains("Fix: CREATE SECRET (TYPE s3"),
            "{err}"
        );
        let vars = env(&[("AWS_ACCESS_KEY_ID", "AKIA2"), ("AWS_SECRET_ACCESS_KEY", "s2")]);
        let err = resolve(None, None, None, &vars).unwrap_err().to_string();
        assert!(err.contains("needs the AWS region"), "{err}");
    }

    #[test]
    fn a_signed_request_carries_the_signature_headers() {
        let credentials = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string().into(),
            session_token: Some("session".to_string().into()),
            source: "test".into(),
        };
        let signer = SigV4 { region: "us-east-1".into(), signing_name: GLUE.into(), credentials };
        let client = reqwest::Client::new();
        let mut request =
            client.post("https://glue.us-east-1.amazonaws.com/iceberg/v1/config").body("{}").build().unwrap();
        signer.sign(&mut request).unwrap();
        let authorization = request.headers()["authorization"].to_str().unwrap();
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{authorization}");
        assert!(authorization.contains("/us-east-1/glue/aws4_request"), "{authorization}");
        assert!(request.headers().contains_key("x-amz-date"));
        assert_eq!(request.headers()["x-amz-security-token"], "session");
    }
}
