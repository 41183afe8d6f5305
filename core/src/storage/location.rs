//! Object URLs as Iceberg writes them, split into the service that serves them, the bucket (or
//! container) and the key inside it.
//!
//! ```
//! use floe_core::storage::location::{ObjectUrl, Service};
//! let url = ObjectUrl::parse("abfss://lake@acct.dfs.core.windows.net/gold/m/data/a.parquet").unwrap();
//! assert_eq!((url.service, url.bucket, url.account), (Service::Azure, "lake", Some("acct")));
//! assert_eq!(url.key, "gold/m/data/a.parquet");
//! ```

use crate::error::{Error, Result};

/// The kind of store a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// `s3://`, `s3a://`, `s3n://`
    S3,
    /// `gs://`, `gcs://`
    Gcs,
    /// `abfs[s]://container@account.dfs.core.windows.net/`, `wasb[s]://container@account.blob.core.windows.net/`
    Azure,
    /// `file:///path` or an absolute path: tests and local warehouses.
    Fs,
}

impl Service {
    /// How users name it in errors and fixes.
    pub fn name(self) -> &'static str {
        match self {
            Service::S3 => "S3",
            Service::Gcs => "GCS",
            Service::Azure => "Azure storage",
            Service::Fs => "the local file system",
        }
    }

    /// What the top level of the store is called.
    pub fn bucket_word(self) -> &'static str {
        match self {
            Service::Azure => "container",
            _ => "bucket",
        }
    }
}

/// One object's URL, borrowed from the text it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectUrl<'a> {
    pub service: Service,
    /// The scheme as written (`abfs`, `gs`, ...); `file` for a path.
    pub scheme: &'a str,
    /// The bucket or container; empty for the local file system.
    pub bucket: &'a str,
    /// Azure only: the storage account (the first label of the host).
    pub account: Option<&'a str>,
    /// Azure only: the host the URL names, e.g. `acct.dfs.core.windows.net`.
    pub host: Option<&'a str>,
    /// The key inside the bucket, without a leading '/'; for the file system the absolute path.
    pub key: &'a str,
}

impl<'a> ObjectUrl<'a> {
    pub fn parse(url: &'a str) -> Result<ObjectUrl<'a>> {
        if url.starts_with('/') {
            return Ok(ObjectUrl::path("file", url));
        }
        let (scheme, rest) = url.split_once("://").ok_or_else(|| unsupported(url))?;
        let service = match scheme.to_ascii_lowercase().as_str() {
            "s3" | "s3a" | "s3n" => Service::S3,
            "gs" | "gcs" => Service::Gcs,
            "abfs" | "abfss" | "wasb" | "wasbs" => Service::Azure,
            "file" => return Ok(ObjectUrl::path(scheme, rest)),
            _ => return Err(unsupported(url)),
        };
        let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
        let (bucket, account, host) = match service {
            Service::Azure => {
                let (container, host) = authority.split_once('@').ok_or_else(|| {
                    Error::invalid_input(format!("'{url}' names no container: Azure URLs have the form {scheme}://container@account.dfs.core.windows.net/path"))
                })?;
                let account = host.split('.').next().unwrap_or(host);
                (container, Some(account), Some(host))
            }
            _ => (authority, None, None),
        };
        if bucket.is_empty() {
            return Err(Error::invalid_input(format!("'{url}' names no {}", service.bucket_word())));
        }
        Ok(ObjectUrl { service, scheme, bucket, account, host, key })
    }

    /// A path on the local file system.
    fn path(scheme: &'a str, key: &'a str) -> ObjectUrl<'a> {
        ObjectUrl { service: Service::Fs, scheme, bucket: "", account: None, host: None, key }
    }

    /// `scheme://bucket/` (with the account for Azure): what one operator serves.
    pub fn root(&self) -> String {
        match (self.service, self.host) {
            (Service::Azure, Some(host)) => format!("{}@{host}", self.bucket),
            _ => self.bucket.to_string(),
        }
    }
}

fn unsupported(url: &str) -> Error {
    Error::unsupported(format!(
        "'{url}' is not a location floe can reach: it reads and writes s3://, gs://, abfs[s]://, wasb[s]:// and file:// URLs"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_scheme() {
        let s3 = ObjectUrl::parse("s3a://lake/gold/m/x.parquet").unwrap();
        assert_eq!((s3.service, s3.bucket, s3.key), (Service::S3, "lake", "gold/m/x.parquet"));
        let gcs = ObjectUrl::parse("gs://b/k").unwrap();
        assert_eq!((gcs.service, gcs.bucket, gcs.key), (Service::Gcs, "b", "k"));
        let wasb = ObjectUrl::parse("wasbs://c@acct.blob.core.windows.net/a/b").unwrap();
        assert_eq!((wasb.bucket, wasb.account, wasb.host), ("c", Some("acct"), Some("acct.blob.core.windows.net")));
        let file = ObjectUrl::parse("file:///tmp/w/x").unwrap();
        assert_eq!((file.service, file.key), (Service::Fs, "/tmp/w/x"));
        assert_eq!(ObjectUrl::parse("/tmp/w/x").unwrap().key, "/tmp/w/x");
        assert_eq!(ObjectUrl::parse("s3://lake").unwrap().key, "");
    }

    #[test]
    fn refuses_what_it_cannot_reach() {
        assert!(ObjectUrl::parse("hdfs://nn/x").unwrap_err().to_string().contains("s3://, gs://"));
        assert!(ObjectUrl::parse("abfss://acct.dfs.core.windows.net/x")
            .unwrap_err()
            .to_string()
            .contains("container@"));
        assert!(ObjectUrl::parse("s3:///x").unwrap_err().to_string().contains("names no bucket"));
    }
}
