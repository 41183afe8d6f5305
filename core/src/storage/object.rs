//! Objects of one table's store: sizes, ranged reads, existence, deletes, listings and streaming
//! uploads, every failure a floe error naming the object, the credentials and the fix.
//!
//! ```no_run
//! # async fn demo() -> Result<(), floe_core::storage::StorageError> {
//! use floe_core::storage::{Store, StorageProps};
//! let store = Store::new(StorageProps::default());
//! let url = "s3://lake/gold/m/data/a.parquet";
//! let size = store.size(url).await?;
//! let footer = store.read(url, size - 8..size).await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures::TryStreamExt;
use opendal::{Buffer, EntryMode, Operator};

use super::error::{Attempt, StorageError};
use super::location::ObjectUrl;
use super::operator::{operator, Purpose};
use super::props::StorageProps;
use crate::error::{Error, ErrorKind, Result};

/// Reads larger than this are split into requests of this size sent in parallel; uploads send
/// parts of this size (S3's minimum part is 5 MiB).
pub const CHUNK_BYTES: usize = 8 << 20;
/// Requests in flight for one read or one upload.
const CONCURRENT_REQUESTS: usize = 4;

/// A table's effective storage properties and the operators that serve them; cheap to clone.
#[derive(Clone)]
pub struct Store {
    props: Arc<StorageProps>,
    sorted: Arc<Vec<(String, String)>>,
}

impl Store {
    pub fn new(props: StorageProps) -> Store {
        let sorted = Arc::new(props.sorted());
        Store { props: Arc::new(props), sorted }
    }

    pub fn props(&self) -> &StorageProps {
        &self.props
    }

    /// The operator for `url` and the key inside it.
    fn reach<'a>(&self, url: &'a str) -> Result<(Operator, ObjectUrl<'a>), StorageError> {
        self.reach_for(url, Purpose::Read)
    }

    fn reach_for<'a>(&self, url: &'a str, purpose: Purpose) -> Result<(Operator, ObjectUrl<'a>), StorageError> {
        let object = ObjectUrl::parse(url)?;
        let operator = operator(&object, &self.props, &self.sorted, purpose)?;
        Ok((operator, object))
    }

    /// What failed, named in the error for `err`.
    fn failed(&self, action: &str, url: &str, object: &ObjectUrl, err: &opendal::Error) -> StorageError {
        Attempt { action, url, object, props: &self.props }.failed(err)
    }

    /// The error for `err`. Stores answer a missing bucket like a missing object (a HEAD's 404 has
    /// no body, an emulator's says "Not Found"): a one-entry listing of the bucket, which finds
    /// nothing rather than failing when the bucket exists, tells them apart.
    async fn explained(
        &self,
        operator: &Operator,
        action: &str,
        url: &str,
        object: &ObjectUrl<'_>,
        err: opendal::Error,
    ) -> StorageError {
        let attempt = Attempt { action, url, object, props: &self.props };
        if err.kind() == opendal::ErrorKind::NotFound {
            let listing = match operator.lister_with("/").limit(1).await {
                Ok(mut lister) => lister.try_next().await.err(),
                Err(listing) => Some(listing),
            };
            if let Some(listing) = listing {
                let failed = attempt.failed(&listing);
                if listing.kind() == opendal::ErrorKind::NotFound || failed.error().kind() == ErrorKind::NotFound {
                    return attempt.missing_bucket(&self.props.redactor().redact(listing.message()));
                }
            }
        }
        attempt.failed(&err)
    }

    pub async fn size(&self, url: &str) -> Result<u64, StorageError> {
        let (operator, object) = self.reach(url)?;
        match operator.stat(object.key).await {
            Ok(metadata) => Ok(metadata.content_length()),
            Err(err) => Err(self.explained(&operator, "get the size of", url, &object, err).await),
        }
    }

    /// Exactly the bytes of `range`; a large range is fetched as parallel requests joined in order.
    pub async fn read(&self, url: &str, range: Range<u64>) -> Result<Bytes, StorageError> {
        Ok(self.read_chunks(url, range).await?.to_bytes())
    }

    /// `read`, as the chunks the bytes arrived in: a caller with a buffer of its own copies them
    /// there once, instead of having them joined first (DuckDB's reads, the hot path).
    pub async fn read_chunks(&self, url: &str, range: Range<u64>) -> Result<Buffer, StorageError> {
        let (operator, object) = self.reach(url)?;
        let expected = range.end.saturating_sub(range.start);
        if expected == 0 {
            return Ok(Buffer::new());
        }
        let action = || format!("read bytes {}..{} of", range.start, range.end);
        let buffer = match operator
            .read_with(object.key)
            .range(range.clone())
            .chunk(CHUNK_BYTES)
            .concurrent(CONCURRENT_REQUESTS)
            .await
        {
            Ok(buffer) => buffer,
            Err(err) => return Err(self.explained(&operator, &action(), url, &object, err).await),
        };
        if buffer.len() as u64 != expected {
            let action = action();
            return Err(Error::storage(format!(
                "Cannot {action} {url}: the store returned {} bytes instead of {expected}",
                buffer.len()
            ))
            .with_fix("the object is shorter than the catalog says: it was replaced or truncated outside the catalog")
            .into());
        }
        Ok(buffer)
    }

    /// The whole object, in one request: metadata and manifests are small, and splitting would
    /// first ask for the size (a HEAD per file, on the path of every scan's planning).
    pub async fn read_all(&self, url: &str) -> Result<Bytes, StorageError> {
        let (operator, object) = self.reach(url)?;
        match operator.read(object.key).await {
            Ok(buffer) => Ok(buffer.to_bytes()),
            Err(err) => Err(self.explained(&operator, "read", url, &object, err).await),
        }
    }

    pub async fn exists(&self, url: &str) -> Result<bool, StorageError> {
        let (operator, object) = self.reach(url)?;
        operator.exists(object.key).await.map_err(|e| self.failed("check for", url, &object, &e))
    }

    /// Removes the object; one that is gone already is no error.
    pub async fn delete(&self, url: &str) -> Result<(), StorageError> {
        let (operator, object) = self.reach(url)?;
        operator.delete(object.key).await.map_err(|e| self.failed("delete", url, &object, &e))
    }

    /// Removes every object under the directory `url`.
    pub async fn delete_prefix(&self, url: &str) -> Result<(), StorageError> {
        let dir = directory(url);
        let (operator, object) = self.reach(&dir)?;
        operator
            .delete_with(object.key)
            .recursive(true)
            .await
            .map_err(|e| self.failed("delete everything under", &dir, &object, &e))
    }

    /// The URLs of the objects under the directory `url`, at any depth.
    pub async fn list(&self, url: &str) -> Result<Vec<String>, StorageError> {
        let (_, base, files) = self.list_files(url).await?;
        Ok(files.into_iter().map(|entry| format!("{base}{}", entry.path())).collect())
    }

    /// `list`, each object with its last modification time; `None` where neither the listing
    /// nor the object's own metadata tells it.
    pub async fn list_modified(&self, url: &str) -> Result<Vec<(String, Option<SystemTime>)>, StorageError> {
        let (operator, base, files) = self.list_files(url).await?;
        let mut listed = Vec::with_capacity(files.len());
        for entry in files {
            // Object stores list the time with the key; a local directory listing may not.
            let modified = match entry.metadata().last_modified() {
                Some(time) => Some(time),
                None => operator.stat(entry.path()).await.ok().and_then(|metadata| metadata.last_modified()),
            };
            listed.push((format!("{base}{}", entry.path()), modified.map(SystemTime::from)));
        }
        Ok(listed)
    }

    /// The operator of the directory `url`, the URL up to its keys and the files under it.
    async fn list_files(&self, url: &str) -> Result<(Operator, String, Vec<opendal::Entry>), StorageError> {
        let dir = directory(url);
        let (operator, object) = self.reach(&dir)?;
        let entries = operator
            .list_with(object.key)
            .recursive(true)
            .await
            .map_err(|e| self.failed("list the objects under", &dir, &object, &e))?;
        // The listing names keys relative to the bucket; the URL up to the key is kept as given.
        let base = dir[..dir.len() - object.key.trim_start_matches('/').len()].to_string();
        let files = entries.into_iter().filter(|entry| entry.metadata().mode() == EntryMode::FILE).collect();
        Ok((operator, base, files))
    }

    /// A streaming upload to `url` with these credentials; see [`ObjectWriter`].
    pub fn writer(&self, url: &str) -> ObjectWriter {
        let store = self.clone();
        ObjectWriter::new(url, Box::new(move || Box::pin(std::future::ready(Ok(store.clone())))))
    }

    /// Starts a multipart upload of `url`.
    async fn start_upload(&self, url: &str) -> Result<opendal::Writer, StorageError> {
        let (operator, object) = self.reach_for(url, Purpose::Write)?;
        operator
            .writer_with(object.key)
            .chunk(CHUNK_BYTES)
            .concurrent(CONCURRENT_REQUESTS)
            .await
            .map_err(|e| self.failed("start the upload of", url, &object, &e))
    }

    /// Sends `bytes` as the whole of `url` in one request.
    async fn put(&self, url: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let (operator, object) = self.reach_for(url, Purpose::Write)?;
        operator.write(object.key, bytes).await.map_err(|e| self.failed("write", url, &object, &e))?;
        Ok(())
    }

    fn upload_failed(&self, action: &str, url: &str, err: &opendal::Error) -> StorageError {
        match ObjectUrl::parse(url) {
            Ok(object) => self.failed(action, url, &object, err),
            Err(parse) => parse.into(),
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.props.source())
    }
}

/// `url` as a directory: with a trailing '/', so `a/b` never matches `a/bc`.
fn directory(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// Where an upload gets its store when it starts: a registered table's current credentials,
/// which may be renewed between the opening and the first byte sent.
pub type StoreSource = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Store>> + Send>> + Send + Sync>;

/// A streaming upload. Nothing is sent until a part's worth of bytes is written, so a small
/// file is one PUT at `close`; a larger one is a multipart upload of [`CHUNK_BYTES`] parts sent
/// [`CONCURRENT_REQUESTS`] at a time. Dropped unclosed, nothing of it becomes visible.
pub struct ObjectWriter {
    url: String,
    source: StoreSource,
    pending: Vec<u8>,
    upload: Option<(Store, opendal::Writer)>,
    written: u64,
}

impl ObjectWriter {
    pub fn new(url: &str, source: StoreSource) -> ObjectWriter {
        ObjectWriter { url: url.to_string(), source, pending: Vec::new(), upload: None, written: 0 }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Appends `data`.
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        self.written += data.len() as u64;
        if let Some((store, writer)) = &mut self.upload {
            return writer.write(data.to_vec()).await.map_err(|e| store.upload_failed("upload", &self.url, &e).into());
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= CHUNK_BYTES {
            let store = (self.source)().await?;
            let mut writer = store.start_upload(&self.url).await?;
            let pending = std::mem::take(&mut self.pending);
            writer.write(pending).await.map_err(|e| store.upload_failed("upload", &self.url, &e))?;
            self.upload = Some((store, writer));
        }
        Ok(())
    }

    /// Completes the upload; the object is visible from now on. Returns its size.
    pub async fn close(&mut self) -> Result<u64> {
        match &mut self.upload {
            Some((store, writer)) => {
                writer.close().await.map_err(|e| store.upload_failed("complete the upload of", &self.url, &e))?;
            }
            None => {
                let store = (self.source)().await?;
                store.put(&self.url, std::mem::take(&mut self.pending)).await?;
            }
        }
        self.upload = None;
        Ok(self.written)
    }

    /// Gives the upload up: parts sent so far are discarded by the store.
    pub async fn abort(&mut self) -> Result<()> {
        self.pending = Vec::new();
        if let Some((store, mut writer)) = self.upload.take() {
            writer.abort().await.map_err(|e| store.upload_failed("abort the upload of", &self.url, &e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::block_on;

    /// Local warehouses (`file://`) go through the same code as object stores.
    #[test]
    fn local_files_are_written_listed_read_and_deleted() {
        let dir = std::env::temp_dir().join(format!("floe-store-{}", uuid::Uuid::now_v7()));
        let root = format!("file://{}", dir.display());
        let store = Store::new(StorageProps::default());
        block_on(async {
            for name in ["a.parquet", "sub/b.parquet"] {
                let mut writer = store.writer(&format!("{root}/{name}"));
                writer.write(name.as_bytes()).await.unwrap();
                assert_eq!(writer.close().await.unwrap(), name.len() as u64);
            }
            let mut listed = store.list(&root).await.unwrap();
            listed.sort();
            assert_eq!(listed, [format!("{root}/a.parquet"), format!("{root}/sub/b.parquet")]);
            assert_eq!(store.read(&format!("{root}/sub/b.parquet"), 4..6).await.unwrap(), &b"b."[..]);
            store.delete_prefix(&format!("{root}/sub")).await.unwrap();
            assert!(!store.exists(&format!("{root}/sub/b.parquet")).await.unwrap());
            assert!(store.exists(&format!("{root}/a.parquet")).await.unwrap());
        });
        let _ = std::fs::remove_dir_all(dir);
    }
}
