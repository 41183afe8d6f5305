//! Storage ids and the `floe://` paths DuckDB sees for floe's files.
//!
//! DuckDB reads and writes a table's data files as `floe://<id>/<scheme>/<rest of the url>`, e.g.
//! `floe://3/s3/lake/gold/m/data/0190-....parquet` for `s3://lake/gold/m/data/0190-....parquet`;
//! the id names the table's entry in a process-wide registry: its credentials (renewed before they
//! expire) and the operators that use them. `s3://` stays DuckDB's own (httpfs), so a user's
//! `read_parquet('s3://...')` keeps working next to floe's tables.
//!
//! The url's own `://` is not kept: DuckDB 2.0 joins a COPY's directory and file names as
//! normalized paths, which collapse every `//` after the first, so `floe://3/s3://lake/...` came
//! back as `floe://3/s3:/lake/...`. `file:///tmp/t` is `floe://3/file//tmp/t`, which reads the same
//! when normalized to `floe://3/file/tmp/t`: a file url has no authority.
//!
//! ```
//! use std::sync::Arc;
//! use floe_core::storage::{self, StorageProps};
//! let catalog = Arc::new("a catalog instance");
//! let entry = storage::register(&catalog, "gold.m", "s3://lake/gold/m", StorageProps::default(), None, storage::Caches::off());
//! let path = entry.wrap("s3://lake/gold/m/data/a.parquet");
//! assert_eq!(path, format!("floe://{}/s3/lake/gold/m/data/a.parquet", entry.id()));
//! let (found, url) = storage::unwrap(&path).unwrap();
//! assert_eq!((found.id(), url.as_str()), (entry.id(), "s3://lake/gold/m/data/a.parquet"));
//! assert_eq!(storage::real_path(&path), url);
//! assert_eq!(storage::real_path("s3://lake/x"), "s3://lake/x");
//! ```

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use iceberg::io::FileIO;

use super::error::StorageError;
use super::metadata_cache::MetadataCache;
use super::object::{ObjectWriter, Store};
use super::props::{DuckdbSecret, StorageProps};
use super::Caches;
use crate::error::{Error, ErrorKind, Result};

const SCHEME: &str = "floe://";
/// Credentials are renewed when they expire within this, or within half their lifetime for
/// credentials that last less than twice as long.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

/// Fresh storage properties for one table: a REST catalog's credentials endpoint, or a reload of
/// the table.
#[async_trait]
pub trait Renew: Send + Sync {
    async fn renew(&self) -> Result<StorageProps>;
}

/// One table's storage: what DuckDB's `floe://<id>/` paths resolve to.
pub struct Entry {
    id: u64,
    table: String,
    location: String,
    state: RwLock<State>,
    /// One renewal at a time; the others wait for it and use its result.
    renewal: tokio::sync::Mutex<()>,
    /// The registering catalog's, shared by all its tables.
    caches: Caches,
    /// Keeps the registering catalog's allocation, so its address (part of the key) is never
    /// reused by another catalog while this entry exists.
    _scope: Weak<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("table", &self.table)
            .field("location", &self.location)
            .finish()
    }
}

struct State {
    /// As the catalog (or the platform file) gave them.
    granted: StorageProps,
    user_secret: Option<DuckdbSecret>,
    /// `granted` completed with `user_secret`.
    store: Store,
    renewer: Option<Arc<dyn Renew>>,
    received_at: SystemTime,
    expires_at: Option<SystemTime>,
    /// Counts credential changes, so a renewal that others already did is not repeated.
    generation: u64,
}

impl State {
    fn new(granted: StorageProps, renewer: Option<Arc<dyn Renew>>) -> State {
        State {
            store: Store::new(granted.clone()),
            expires_at: granted.expires_at(),
            granted,
            user_secret: None,
            renewer,
            received_at: SystemTime::now(),
            generation: 0,
        }
    }

    fn grant(&mut self, granted: StorageProps) {
        self.store = Store::new(granted.with_user_secret(self.user_secret.as_ref()));
        self.expires_at = granted.expires_at();
        self.granted = granted;
        self.received_at = SystemTime::now();
        self.generation += 1;
    }

    /// Whether the credentials expire within the renewal margin.
    fn renewal_due(&self, now: SystemTime) -> bool {
        let Some(expires_at) = self.expires_at else { return false };
        let lifetime = expires_at.duration_since(self.received_at).unwrap_or_default();
        now + RENEW_MARGIN.min(lifetime / 2) >= expires_at
    }
}

impl Entry {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The table, `namespace.name`.
    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// `url` as DuckDB sees it: `floe://<id>/<scheme>/<rest>`.
    pub fn wrap(&self, url: &str) -> String {
        wrap(self.id, url)
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The properties as the catalog last granted them.
    pub fn granted(&self) -> StorageProps {
        self.state().granted.clone()
    }

    /// Completes credentials the catalog did not give with the user's DuckDB secret. A call
    /// without a secret changes nothing: a statement that found none must not take away what an
    /// earlier one gave.
    pub fn use_user_secret(&self, secret: Option<&DuckdbSecret>) {
        let Some(secret) = secret else { return };
        let mut state = self.state_mut();
        if state.user_secret.as_ref() != Some(secret) {
            state.user_secret = Some(secret.clone());
            state.store = Store::new(state.granted.with_user_secret(Some(secret)));
        }
    }

    /// The store with the current credentials, renewed first if they are about to expire.
    pub async fn store(&self) -> Result<Store> {
        let (due, generation) = {
            let state = self.state();
            (state.renewer.is_some() && state.renewal_due(SystemTime::now()), state.generation)
        };
        if due {
            self.renew(generation).await?;
        }
        Ok(self.state().store.clone())
    }

    /// Runs `op` with the current store; when the store refuses credentials that may have
    /// expired, renews them once and runs `op` again. Errors name the table.
    pub async fn with_store<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: Fn(Store) -> Fut,
        Fut: Future<Output = Result<T, StorageError>>,
    {
        let store = self.store().await?;
        let generation = self.state().generation;
        match op(store).await {
            Ok(value) => Ok(value),
            Err(err) if self.may_cure(&err) => {
                self.renew(generation).await?;
                let store = self.state().store.clone();
                op(store).await.map_err(|e| self.named(e.into()))
            }
            Err(err) => Err(self.named(err.into())),
        }
    }

    /// Whether new credentials could cure `err`: a refusal of credentials that expire.
    fn may_cure(&self, err: &StorageError) -> bool {
        let state = self.state();
        state.renewer.is_some() && (err.credentials_expired() || err.is_forbidden() && state.expires_at.is_some())
    }

    fn named(&self, err: Error) -> Error {
        err.context(format!("Table '{}'", self.table))
    }

    /// Asks the renewer for new credentials unless someone did since `seen` (a generation).
    async fn renew(&self, seen: u64) -> Result<()> {
        let _one_at_a_time = self.renewal.lock().await;
        let renewer = {
            let state = self.state();
            if state.generation != seen {
                return Ok(());
            }
            state.renewer.clone()
        };
        let Some(renewer) = renewer else { return Ok(()) };
        let granted = renewer.renew().await.map_err(|e| {
            e.context(format!(
                "Cannot renew the storage credentials of table '{}' (location {})",
                self.table, self.location
            ))
        })?;
        self.state_mut().grant(granted);
        Ok(())
    }

    /// The registering catalog's manifests and planned tables.
    pub fn metadata_cache(&self) -> &MetadataCache {
        &self.caches.metadata
    }

    /// The whole file at `url` (a manifest list repaired where needed, `manifest_list_repair`); a
    /// manifest or manifest list from the catalog's metadata cache when an earlier read put it there.
    pub async fn read_all(&self, url: &str) -> Result<bytes::Bytes> {
        let fetch = || async move {
            let bytes = self.with_store(|store| async move { store.read_all(url).await }).await?;
            Ok(super::manifest_list_repair::repaired(url, bytes))
        };
        self.caches.metadata.read(url, fetch).await
    }

    /// Exactly the bytes of `range` of the data or delete file at `url` (DuckDB's reads): from
    /// the catalog's data cache when an earlier read of the same range put them there.
    pub async fn read_range(&self, url: &str, range: std::ops::Range<u64>) -> Result<opendal::Buffer> {
        let fetch = || {
            self.with_store(|store| {
                let range = range.clone();
                async move { store.read_chunks(url, range).await }
            })
        };
        self.caches.data.read(url, range.clone(), fetch).await
    }

    /// iceberg's file access (manifests, metadata, delete files) through this entry's store.
    pub fn file_io(self: &Arc<Self>) -> FileIO {
        super::file_io::registered(self.clone())
    }

    /// A streaming upload to `url`; its credentials are taken when the first bytes go out.
    pub fn writer(self: &Arc<Self>, url: &str) -> ObjectWriter {
        let entry = self.clone();
        ObjectWriter::new(
            url,
            Box::new(move || {
                let entry = entry.clone();
                Box::pin(async move { entry.store().await })
            }),
        )
    }
}

/// Registers (or updates) the storage of table `table` at `location` as loaded through `scope`
/// (the catalog instance): one id per (scope, table, location), kept while the process lives.
/// Registering again replaces the credentials (and the renewer, if one is given), unless they
/// are the same or expire sooner than the ones held: a load kept for `MAX_TABLE_STALENESS`
/// carries the credentials of its time, which a renewal may have replaced since. Whole-file
/// reads of manifests and manifest lists and ranged reads of data files go through `caches`, the
/// scope's.
pub fn register<S: Any + Send + Sync>(
    scope: &Arc<S>,
    table: &str,
    location: &str,
    granted: StorageProps,
    renewer: Option<Arc<dyn Renew>>,
    caches: Caches,
) -> Arc<Entry> {
    let key = (Arc::as_ptr(scope) as *const () as usize, table.to_string(), location.to_string());
    let mut registry = crate::sync::lock(registry());
    if let Some(entry) = registry.by_key.get(&key) {
        let mut state = entry.state_mut();
        let older = matches!((granted.expires_at(), state.expires_at), (Some(offered), Some(held)) if offered < held);
        if granted != state.granted && !older {
            state.grant(granted);
        }
        if renewer.is_some() {
            state.renewer = renewer;
        }
        drop(state);
        return entry.clone();
    }
    registry.next_id += 1;
    let scope: Weak<dyn Any + Send + Sync> = Arc::downgrade(scope) as Weak<dyn Any + Send + Sync>;
    let entry = Arc::new(Entry {
        id: registry.next_id,
        table: table.to_string(),
        location: location.to_string(),
        state: RwLock::new(State::new(granted, renewer)),
        renewal: tokio::sync::Mutex::new(()),
        caches,
        _scope: scope,
    });
    registry.by_id.insert(entry.id, entry.clone());
    registry.by_key.insert(key, entry.clone());
    entry
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    by_key: HashMap<(usize, String, String), Arc<Entry>>,
    by_id: HashMap<u64, Arc<Entry>>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// `floe://<id>/<scheme>/<rest>` for `<scheme>://<rest>`.
pub fn wrap(id: u64, url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{SCHEME}{id}/{scheme}/{rest}"),
        None => format!("{SCHEME}{id}/{url}"),
    }
}

/// The entry and real URL a `floe://` path names.
pub fn unwrap(path: &str) -> Result<(Arc<Entry>, String)> {
    let (id, url) = split(path).ok_or_else(|| {
        Error::invalid_input(format!("'{path}' is not a floe path"))
            .with_fix("floe paths have the form floe://<storage id>/<scheme>/<rest of the url>")
    })?;
    Ok((by_id(id).ok_or_else(|| unknown(path, id))?, url))
}

/// The entry registered under `id`.
pub fn by_id(id: u64) -> Option<Arc<Entry>> {
    crate::sync::lock(registry()).by_id.get(&id).cloned()
}

fn unknown(path: &str, id: u64) -> Error {
    Error::new(ErrorKind::NotFound, format!("'{path}' names storage {id}, which this process does not know"))
        .with_fix("floe:// paths hold only in the process that planned them: read the table through its catalog")
}

/// The real URL of a `floe://` path; any other path as it is.
pub fn real_path(path: &str) -> Cow<'_, str> {
    split(path).map_or(Cow::Borrowed(path), |(_, url)| Cow::Owned(url))
}

fn split(path: &str) -> Option<(u64, String)> {
    let (id, wrapped) = path.strip_prefix(SCHEME)?.split_once('/')?;
    let (scheme, rest) = wrapped.split_once('/')?;
    let url = match scheme {
        "file" => format!("file:///{}", rest.trim_start_matches('/')),
        _ => format!("{scheme}://{rest}"),
    };
    Some((id.parse().ok()?, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_per_catalog_table_and_location() {
        let catalog = Arc::new(1u8);
        let other = Arc::new(2u8);
        let first = register(&catalog, "a.t", "s3://b/a/t", StorageProps::default(), None, Caches::off());
        let again = register(&catalog, "a.t", "s3://b/a/t", StorageProps::default(), None, Caches::off());
        assert_eq!(first.id(), again.id());
        assert_ne!(
            first.id(),
            register(&other, "a.t", "s3://b/a/t", StorageProps::default(), None, Caches::off()).id()
        );
        assert_ne!(
            first.id(),
            register(&catalog, "a.t", "s3://b/a/t2", StorageProps::default(), None, Caches::off()).id()
        );
    }

    #[test]
    fn unknown_or_foreign_paths() {
        assert_eq!(unwrap("s3://b/k").unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(unwrap("floe://999999999/s3/b/k").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(real_path("floe://x/s3/b/k"), "floe://x/s3/b/k");
    }

    #[test]
    fn paths_survive_normalization() {
        for url in ["s3://b/a/t/data/x.parquet", "gs://b/k", "abfss://c@a.dfs.core.windows.net/t/k", "file:///tmp/t/k"]
        {
            let path = wrap(7, url);
            assert!(!path["floe://".len()..].contains("://"), "{path}");
            assert_eq!(real_path(&path), url);
            // What DuckDB 2.0's path joins make of it: every `//` after the scheme's collapsed.
            let normalized = format!("floe://{}", path["floe://".len()..].replace("//", "/"));
            assert_eq!(real_path(&normalized), url);
        }
    }

    #[test]
    fn renewal_is_due_within_the_margin_or_half_the_lifetime() {
        let now = SystemTime::now();
        let mut state = State::new(StorageProps::default(), None);
        assert!(!state.renewal_due(now));
        state.received_at = now;
        state.expires_at = Some(now + Duration::from_secs(3600));
        assert!(!state.renewal_due(now));
        assert!(state.renewal_due(now + Duration::from_secs(3541)));
        state.expires_at = Some(now + Duration::from_secs(10));
        assert!(!state.renewal_due(now + Duration::from_secs(4)));
        assert!(state.renewal_due(now + Duration::from_secs(5)));
    }
}
