//! iceberg's `FileIO` over floe's stores, so manifests, metadata and delete files go through the
//! same operators (timeouts, retries, endpoints) and the same renewed credentials as the data
//! files DuckDB reads.
//!
//! ```no_run
//! # async fn demo(entry: std::sync::Arc<floe_core::storage::Entry>) -> iceberg::Result<()> {
//! let file_io = entry.file_io();
//! let manifest_list = file_io.new_input("s3://lake/gold/m/metadata/snap-1.avro")?.read().await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use iceberg::io::{
    FileIO, FileIOBuilder, FileMetadata, FileRead, FileWrite, InputFile, OutputFile, Storage, StorageConfig,
    StorageFactory,
};
use serde::{Deserialize, Serialize};

use super::error::StorageError;
use super::manifest_list_repair;
use super::object::{ObjectWriter, Store};
use super::props::StorageProps;
use super::registry::{by_id, Entry};
use crate::error::{Error, ErrorKind, Result};

/// A `FileIO` over a registered table's storage: credentials renewed as they near expiry.
pub(crate) fn registered(entry: Arc<Entry>) -> FileIO {
    file_io(Source::Registered(entry))
}

/// A `FileIO` with fixed credentials.
pub fn fixed(store: Store) -> FileIO {
    file_io(Source::Fixed(store))
}

fn file_io(source: Source) -> FileIO {
    FileIOBuilder::new(Arc::new(FloeStorageFactory { source })).build()
}

/// Where a `FileIO`'s store comes from. Serialized (iceberg's storages are `typetag` serde) as
/// the storage id or the properties; never printed with its credentials.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "SourceRepr", try_from = "SourceRepr")]
enum Source {
    Registered(Arc<Entry>),
    Fixed(Store),
}

#[derive(Serialize, Deserialize)]
enum SourceRepr {
    Registered(u64),
    Fixed(StorageProps),
}

impl From<Source> for SourceRepr {
    fn from(source: Source) -> Self {
        match source {
            Source::Registered(entry) => SourceRepr::Registered(entry.id()),
            Source::Fixed(store) => SourceRepr::Fixed(store.props().clone()),
        }
    }
}

impl TryFrom<SourceRepr> for Source {
    type Error = Error;

    fn try_from(repr: SourceRepr) -> Result<Self> {
        match repr {
            SourceRepr::Registered(id) => by_id(id).map(Source::Registered).ok_or_else(|| {
                Error::new(ErrorKind::NotFound, format!("storage {id} is not known to this process"))
                    .with_fix("a FileIO holds only in the process that made it")
            }),
            SourceRepr::Fixed(props) => Ok(Source::Fixed(Store::new(props))),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Registered(entry) => write!(f, "Registered(storage {} of table '{}')", entry.id(), entry.table()),
            Source::Fixed(store) => write!(f, "Fixed({})", store.props().source()),
        }
    }
}

impl Source {
    async fn run<T, F, Fut>(&self, op: F) -> iceberg::Result<T>
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = Result<T, StorageError>>,
    {
        let outcome = match self {
            Source::Registered(entry) => entry.with_store(op).await,
            Source::Fixed(store) => op(store.clone()).await.map_err(Error::from),
        };
        outcome.map_err(to_iceberg)
    }

    fn writer(&self, url: &str) -> ObjectWriter {
        match self {
            Source::Registered(entry) => entry.writer(url),
            Source::Fixed(store) => store.writer(url),
        }
    }
}

/// The floe error travels as the source, so converting back (`Error::from`) recovers its kind,
/// message and fix.
fn to_iceberg(err: Error) -> iceberg::Error {
    iceberg::Error::new(iceberg::ErrorKind::Unexpected, "").with_source(err)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FloeStorageFactory {
    source: Source,
}

#[typetag::serde(name = "floe")]
impl StorageFactory for FloeStorageFactory {
    fn build(&self, _: &StorageConfig) -> iceberg::Result<Arc<dyn Storage>> {
        Ok(Arc::new(FloeStorage { source: self.source.clone() }))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FloeStorage {
    source: Source,
}

#[async_trait]
#[typetag::serde(name = "floe")]
impl Storage for FloeStorage {
    async fn exists(&self, path: &str) -> iceberg::Result<bool> {
        self.source.run(|store| async move { store.exists(path).await }).await
    }

    async fn metadata(&self, path: &str) -> iceberg::Result<FileMetadata> {
        let size = self.source.run(|store| async move { store.size(path).await }).await?;
        Ok(FileMetadata { size })
    }

    async fn read(&self, path: &str) -> iceberg::Result<Bytes> {
        match &self.source {
            Source::Registered(entry) => entry.read_all(path).await.map_err(to_iceberg),
            Source::Fixed(_) => {
                let bytes = self.source.run(|store| async move { store.read_all(path).await }).await?;
                Ok(manifest_list_repair::repaired(path, bytes))
            }
        }
    }

    async fn reader(&self, path: &str) -> iceberg::Result<Box<dyn FileRead>> {
        Ok(Box::new(FloeRead { source: self.source.clone(), url: path.to_string() }))
    }

    async fn write(&self, path: &str, bs: Bytes) -> iceberg::Result<()> {
        let mut writer = self.source.writer(path);
        writer.write(&bs).await.map_err(to_iceberg)?;
        writer.close().await.map_err(to_iceberg)?;
        Ok(())
    }

    async fn writer(&self, path: &str) -> iceberg::Result<Box<dyn FileWrite>> {
        Ok(Box::new(FloeWrite(self.source.writer(path))))
    }

    async fn delete(&self, path: &str) -> iceberg::Result<()> {
        self.source.run(|store| async move { store.delete(path).await }).await
    }

    async fn delete_prefix(&self, path: &str) -> iceberg::Result<()> {
        self.source.run(|store| async move { store.delete_prefix(path).await }).await
    }

    async fn delete_stream(&self, mut paths: BoxStream<'static, String>) -> iceberg::Result<()> {
        while let Some(path) = paths.next().await {
            self.delete(&path).await?;
        }
        Ok(())
    }

    fn new_input(&self, path: &str) -> iceberg::Result<InputFile> {
        Ok(InputFile::new(Arc::new(self.clone()), path.to_string()))
    }

    fn new_output(&self, path: &str) -> iceberg::Result<OutputFile> {
        Ok(OutputFile::new(Arc::new(self.clone()), path.to_string()))
    }
}

struct FloeRead {
    source: Source,
    url: String,
}

#[async_trait]
impl FileRead for FloeRead {
    async fn read(&self, range: Range<u64>) -> iceberg::Result<Bytes> {
        let url = self.url.as_str();
        self.source
            .run(|store| {
                let range = range.clone();
                async move { store.read(url, range).await }
            })
            .await
    }
}

struct FloeWrite(ObjectWriter);

#[async_trait]
impl FileWrite for FloeWrite {
    async fn write(&mut self, bs: Bytes) -> iceberg::Result<()> {
        self.0.write(&bs).await.map_err(to_iceberg)
    }

    async fn close(&mut self) -> iceberg::Result<()> {
        self.0.close().await.map(drop).map_err(to_iceberg)
    }
}
