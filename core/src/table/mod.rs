//! A table as loaded from the catalog at one moment: its metadata, where its files live and the
//! credentials to reach them. Everything a statement reads of the table comes from one
//! `LoadedTable`, so a transaction sees one consistent snapshot.

mod history;

use std::sync::Arc;

use iceberg::io::FileIO;
use iceberg::spec::{SchemaRef, SnapshotRef, TableMetadataRef};
use iceberg::table::Table;
use iceberg::TableIdent;

use crate::error::{Error, ErrorKind, Result};
use crate::rest::catalog::{display_namespace, Namespace};
use crate::rest::model::{CreateTableRequest, LoadTableResult};
use crate::rest::RestCatalog;
use crate::scan::deletes::PositionDeletes;
use crate::storage::{self, CatalogRenewal, DuckdbSecret, Entry, Renew, StorageProps};

use self::history::{leaves_out_history, LeftOut};

/// The LoadTable `config` key by which a catalog asks clients to plan scans through it.
const SCAN_PLANNING_MODE: &str = "scan-planning-mode";

/// Which snapshot a read sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotSelector {
    /// The table's current snapshot (`main`).
    Current,
    /// `AT (VERSION => id)`.
    Id(i64),
    /// `AT (TIMESTAMP => t)`: the snapshot that was current at `t` (milliseconds since epoch).
    AsOfMillis(i64),
}

pub struct LoadedTable {
    pub namespace: Namespace,
    pub name: String,
    pub metadata: TableMetadataRef,
    pub metadata_location: Option<String>,
    /// Where its files are reached: DuckDB sees them as `floe://<storage id>/<url>`.
    pub storage: Arc<Entry>,
    /// The catalog that plans scans of it, where the catalog or the ATTACH asks for server-side
    /// planning (`scan::server_plan`); none: floe plans them.
    pub planner: Option<Arc<RestCatalog>>,
    /// The catalog's `read-restrictions` for this principal: reads apply them
    /// (`scan::restricted`), anything else is refused (`rest::restrictions`).
    pub restrictions: Option<serde_json::Value>,
    /// The position deletes its scans and row-level statements read, kept while it is loaded.
    pub position_deletes: Arc<PositionDeletes>,
    /// Where the snapshots its load left out come from (none: `metadata` has them all).
    left_out: Option<Arc<LeftOut>>,
}

impl LoadedTable {
    /// The table `catalog` answered with `result`, its storage credentials resolved and
    /// registered (see `crate::storage`).
    pub fn from_catalog(
        catalog: &Arc<RestCatalog>,
        namespace: Namespace,
        name: String,
        result: LoadTableResult,
    ) -> Self {
        let renewal = CatalogRenewal::loaded(catalog, namespace.clone(), name.clone(), &result);
        Self::registered(catalog, namespace, name, result, renewal)
    }

    /// A table `catalog` staged (stage-create) for `request`: not in the catalog until the
    /// commit, so its credentials are renewed by staging it again.
    pub fn staged(
        catalog: &Arc<RestCatalog>,
        namespace: Namespace,
        request: &CreateTableRequest,
        result: LoadTableResult,
    ) -> Self {
        let renewal = CatalogRenewal::staged(catalog, namespace.clone(), request, &result);
        Self::registered(catalog, namespace, request.name.clone(), result, renewal)
    }

    fn registered(
        catalog: &Arc<RestCatalog>,
        namespace: Namespace,
        name: String,
        result: LoadTableResult,
        renewal: Arc<dyn Renew>,
    ) -> Self {
        let props = StorageProps::resolve(catalog, &result);
        let qualified = format!("{}.{name}", display_namespace(&namespace));
        let storage = storage::register(
            catalog,
            &qualified,
            result.metadata.location(),
            props,
            Some(renewal),
            catalog.caches().clone(),
        );
        let server = match catalog.options().server_planning {
            Some(server) => server,
            None => result.config.get(SCAN_PLANNING_MODE).is_some_and(|mode| mode == "server"),
        };
        let mut table = LoadedTable::new(namespace, name, result, storage);
        table.planner = server.then(|| catalog.clone());
        if leaves_out_history(&table.metadata) {
            table.left_out = Some(LeftOut::new(catalog));
        }
        table
    }

    pub fn new(namespace: Namespace, name: String, result: LoadTableResult, storage: Arc<Entry>) -> Self {
        LoadedTable {
            namespace,
            name,
            metadata: Arc::new(result.metadata),
            metadata_location: result.metadata_location,
            storage,
            planner: None,
            restrictions: result.read_restrictions,
            position_deletes: Arc::default(),
            left_out: None,
        }
    }

    /// The same table (name, storage) with other metadata: a replacement being prepared.
    pub fn with_metadata(&self, metadata: iceberg::spec::TableMetadataBuildResult) -> Self {
        let left_out = self.left_out.as_ref().map(|left_out| left_out.renewed());
        self.sharing(Arc::new(metadata.metadata), Arc::default(), left_out)
    }

    /// This table (name, storage, catalog) with `metadata` and the given caches.
    fn sharing(
        &self,
        metadata: TableMetadataRef,
        position_deletes: Arc<PositionDeletes>,
        left_out: Option<Arc<LeftOut>>,
    ) -> Self {
        LoadedTable {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            metadata,
            metadata_location: self.metadata_location.clone(),
            storage: self.storage.clone(),
            planner: self.planner.clone(),
            restrictions: self.restrictions.clone(),
            position_deletes,
            left_out,
        }
    }

    /// This table with every snapshot and snapshot-log entry it had when loaded: itself when its
    /// load left none out. Time travel, `iceberg_snapshots()` and checks over every snapshot read
    /// this one.
    pub async fn with_history(self: &Arc<Self>) -> Result<Arc<LoadedTable>> {
        let Some(left_out) = &self.left_out else { return Ok(self.clone()) };
        // The same files, so the same position deletes.
        Ok(Arc::new(self.sharing(left_out.complete(self).await?, self.position_deletes.clone(), None)))
    }

    /// The table a read at `selector` sees: `with_history` unless it reads the current state or
    /// a snapshot this load has.
    pub async fn for_reading_at(self: &Arc<Self>, selector: SnapshotSelector) -> Result<Arc<LoadedTable>> {
        match selector {
            SnapshotSelector::Current => Ok(self.clone()),
            SnapshotSelector::Id(id) if self.metadata.snapshot_by_id(id).is_some() => Ok(self.clone()),
            _ => self.with_history().await,
        }
    }

    /// Refuses `operation` (anything but a read, which applies the restrictions) on a table the
    /// catalog restricts for this principal.
    pub fn refuse_if_restricted(&self, operation: &str) -> Result<()> {
        crate::rest::restrictions::refuse_restricted(self.restrictions.as_ref(), &self.qualified_name(), operation)
    }

    /// `namespace.table`, as users name it.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", display_namespace(&self.namespace), self.name)
    }

    /// File access with the table's storage credentials, completed by the user's storage secret.
    pub fn file_io(&self, user_secret: Option<&DuckdbSecret>) -> FileIO {
        self.storage.use_user_secret(user_secret);
        self.storage.file_io()
    }

    /// The snapshot `selector` names; `None` for a table that has no snapshot yet.
    pub fn snapshot(&self, selector: SnapshotSelector) -> Result<Option<SnapshotRef>> {
        let metadata = &self.metadata;
        match selector {
            SnapshotSelector::Current => Ok(metadata.current_snapshot().cloned()),
            SnapshotSelector::Id(id) => metadata.snapshot_by_id(id).cloned().map(Some).ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("Table '{}' has no snapshot with id {id}", self.qualified_name()),
                )
                .with_fix(format!(
                    "list its snapshots with SELECT * FROM iceberg_snapshots('{}')",
                    self.qualified_name()
                ))
            }),
            SnapshotSelector::AsOfMillis(millis) => {
                // The snapshot log records which snapshot was current when; it is the truth for
                // "as of" (a rolled-back snapshot may be newer yet never current afterwards).
                let from_log = metadata
                    .history()
                    .iter()
                    .filter(|entry| entry.timestamp_ms <= millis)
                    .max_by_key(|entry| entry.timestamp_ms)
                    .and_then(|entry| metadata.snapshot_by_id(entry.snapshot_id).cloned());
                let fallback = || {
                    metadata
                        .snapshots()
                        .filter(|s| s.timestamp_ms() <= millis)
                        .max_by_key(|s| s.timestamp_ms())
                        .cloned()
                };
                from_log.or_else(fallback).map(Some).ok_or_else(|| {
                    Error::new(
                        ErrorKind::NotFound,
                        format!(
                            "Table '{}' has no snapshot at or before the requested timestamp",
                            self.qualified_name()
                        ),
                    )
                    .with_fix("use a later timestamp; iceberg_snapshots() lists when each snapshot was made")
                })
            }
        }
    }

    /// The schema rows of `snapshot` were written with (the current schema for the current
    /// state or an empty table).
    pub fn schema_for(&self, snapshot: Option<&SnapshotRef>, selector: SnapshotSelector) -> Result<SchemaRef> {
        match (snapshot, selector) {
            (Some(snapshot), SnapshotSelector::Id(_) | SnapshotSelector::AsOfMillis(_)) => {
                Ok(snapshot.schema(&self.metadata)?)
            }
            _ => Ok(self.metadata.current_schema().clone()),
        }
    }

    /// An `iceberg::table::Table` over this metadata, for scan planning.
    pub fn iceberg_table(&self, file_io: FileIO) -> Result<Table> {
        self.iceberg_table_at(self.metadata.clone(), file_io)
    }

    /// An `iceberg::table::Table` of this table with other `metadata` (a later version of it).
    pub fn iceberg_table_at(&self, metadata: TableMetadataRef, file_io: FileIO) -> Result<Table> {
        let ident = TableIdent::from_strs(self.namespace.iter().map(String::as_str).chain([self.name.as_str()]))?;
        let mut builder = Table::builder()
            .metadata(metadata)
            .identifier(ident)
            .file_io(file_io)
            .runtime(iceberg::Runtime::new(crate::runtime::tokio()))
            .readonly(true);
        if let Some(location) = &self.metadata_location {
            builder = builder.metadata_location(location.clone());
        }
        Ok(builder.build()?)
    }
}
