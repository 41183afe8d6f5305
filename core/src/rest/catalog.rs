//! The REST catalog as floe uses it: connect (`/v1/config`), browse namespaces and tables, load
//! tables with their storage credentials.
//!
//! ```no_run
//! # async fn demo(options: floe_core::options::CatalogOptions) -> floe_core::Result<()> {
//! let catalog = floe_core::rest::RestCatalog::connect(options).await?;
//! for namespace in catalog.list_namespaces().await? {
//!     println!("{namespace:?}: {:?}", catalog.list_tables(&namespace).await?);
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use url::Url;

use super::access::{capitalized, Object, Operation, Request};
use super::auth::Authenticator;
use super::http::{Call, Http, Tagged};
use super::model::{
    CommitTableResponse, CommitTransactionRequest, ConfigResponse, CreateTableRequest, GetNamespaceResponse,
    ListNamespacesResponse, ListTablesResponse, LoadTableResult, RenameTableRequest, TableChange, TableIdentifier,
};
use super::recent_loads::RecentLoads;
use crate::error::{Error, ErrorKind, Result};
use crate::options::{AccessDelegation, CatalogOptions};
use crate::storage::{self, Caches};

/// A namespace path, one element per level.
pub type Namespace = Vec<String>;

/// REST spec: multi-level namespaces travel in one path segment, levels separated by 0x1F.
const NAMESPACE_SEPARATOR: &str = "\u{1f}";
const ACCESS_DELEGATION_HEADER: &str = "X-Iceberg-Access-Delegation";

pub struct RestCatalog {
    http: Http,
    options: CatalogOptions,
    /// `{endpoint}/v1/{prefix}/`, the root of every catalog path.
    base: Url,
    /// The merged catalog properties: server defaults, then server overrides.
    properties: HashMap<String, String>,
    endpoints: Option<Vec<String>>,
    /// Whether `/transactions/commit` accepts staged (not yet created) tables: learnt on first use.
    staged_in_transactions: std::sync::Mutex<Option<bool>>,
    /// The manifests, manifest lists and data-file ranges read for this catalog's tables.
    caches: Caches,
    /// The last tagged LoadTable answer of each recently loaded table, for `If-None-Match`.
    tagged_loads: moka::future::Cache<(Namespace, String, Snapshots), Arc<TaggedLoad>>,
    /// Loads that serve reads for `MAX_TABLE_STALENESS`.
    recent_loads: RecentLoads,
}

impl Drop for RestCatalog {
    /// The tables' storage entries outlive the catalog (a `floe://` path stays resolvable) and
    /// share its caches: emptied here, so a DETACH frees what they held.
    fn drop(&mut self) {
        self.caches.clear();
    }
}

/// Which snapshots a LoadTable asks for (its `snapshots` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Snapshots {
    All,
    /// Those a branch or tag points to.
    Refs,
}

/// A LoadTable answer and the entity tag the catalog gave it.
struct TaggedLoad {
    etag: String,
    result: LoadTableResult,
}

/// Tables whose last tagged LoadTable answer is kept: each holds the table's whole metadata.
const TAGGED_LOADS: u64 = 256;

impl RestCatalog {
    /// Reads `/v1/config` for the warehouse: the path prefix, the catalog's properties and the
    /// endpoints it offers. Fails with a clear error when the catalog is unreachable or refuses
    /// the credentials, so a bad ATTACH attaches nothing. Without a warehouse none is sent (a
    /// catalog serving one warehouse may refuse an empty name), and the catalog's
    /// `overrides.warehouse`, if any, names it from then on.
    pub async fn connect(mut options: CatalogOptions) -> Result<Self> {
        storage::prepare();
        let http = Http::new(
            Authenticator::new(options.auth.clone()),
            &options.storage.values().collect::<Vec<_>>(),
            &options.headers,
            options.timeouts,
        )?;
        let mut config_url = join(&options.endpoint, "v1/config")?;
        if !options.warehouse.is_empty() {
            config_url.query_pairs_mut().append_pair("warehouse", &options.warehouse);
        }
        let config: ConfigResponse = http.get(config_url, &[]).await.map_err(|e| {
            let refused = matches!(e.kind(), ErrorKind::Unauthenticated | ErrorKind::Forbidden);
            let fix = match e.kind() {
                _ if refused => http.authenticator().credentials_fix(),
                ErrorKind::NotFound => {
                    "check ENDPOINT: it must be the catalog's REST root, the URL before /v1/config".to_string()
                }
                _ => "check ENDPOINT and that the catalog is running".to_string(),
            };
            let fix = e.fix().map(str::to_string).unwrap_or(fix);
            // Who was refused: the credentials floe chose, and where they came from.
            let who = if refused { format!(" as {}", http.authenticator().principal()) } else { String::new() };
            e.context(format!("Cannot attach Iceberg catalog '{}' at {}{who}", options.warehouse, options.endpoint))
                .with_fix(fix)
        })?;

        // Storage keys from the platform file are the fallback: whatever the catalog says wins.
        // They are exposed here because FileIO and DuckDB's S3 secret take plain strings.
        let mut properties: HashMap<String, String> =
            options.storage.iter().map(|(k, v)| (k.clone(), v.expose_secret().to_string())).collect();
        properties.extend(config.defaults);
        properties.extend(config.overrides);
        if let Some(warehouse) = properties.get("warehouse").filter(|_| options.warehouse.is_empty()) {
            options.warehouse = warehouse.clone();
        }
        let endpoint = match properties.get("uri") {
            Some(uri) => Url::parse(uri)
                .map_err(|e| Error::invalid_input(format!("the catalog's config overrides 'uri' with '{uri}': {e}")))?,
            None => options.endpoint.clone(),
        };
        let mut root = "v1/".to_string();
        if let Some(prefix) = properties.get("prefix").filter(|p| !p.is_empty()) {
            root.push_str(prefix.trim_matches('/'));
            root.push('/');
        }
        let base = join(&endpoint, &root)?;
        Ok(RestCatalog {
            http,
            base,
            properties,
            endpoints: config.endpoints,
            staged_in_transactions: std::sync::Mutex::new(None),
            caches: Caches::new(options.metadata_cache_bytes, options.data_cache_bytes),
            tagged_loads: moka::future::Cache::new(TAGGED_LOADS),
            recent_loads: RecentLoads::new(options.max_table_staleness),
            options,
        })
    }

    pub fn options(&self) -> &CatalogOptions {
        &self.options
    }

    /// Shared by every connection of the attached database, through the tables' storage entries.
    pub fn caches(&self) -> &Caches {
        &self.caches
    }

    /// Catalog-level properties from `/v1/config` (storage defaults such as `s3.endpoint`).
    pub fn properties(&self) -> &HashMap<String, String> {
        &self.properties
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// `{endpoint}/v1/{prefix}/`, as resolved from `/v1/config`.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Whether the server offers atomic multi-table commits. Servers that list no endpoints
    /// offer the spec's default set, which includes it.
    pub fn offers_multi_table_commit(&self) -> bool {
        match &self.endpoints {
            Some(list) => list.iter().any(|e| e == "POST /v1/{prefix}/transactions/commit"),
            None => true,
        }
    }

    /// Whether the server lists `endpoint` ("METHOD /v1/{prefix}/path") among those it offers;
    /// `None` when it lists none (the spec's default set, which leaves optional ones open).
    pub fn lists_endpoint(&self, endpoint: &str) -> Option<bool> {
        self.endpoints.as_ref().map(|list| list.iter().any(|e| e == endpoint))
    }

    pub fn supports_staged_in_transactions(&self) -> Option<bool> {
        *crate::sync::lock(&self.staged_in_transactions)
    }

    pub fn set_supports_staged_in_transactions(&self, supported: bool) {
        *crate::sync::lock(&self.staged_in_transactions) = Some(supported);
    }

    pub async fn list_namespaces(&self) -> Result<Vec<Namespace>> {
        let mut result = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut url = self.url(&["namespaces"])?;
            if let Some(token) = &page_token {
                url.query_pairs_mut().append_pair("pageToken", token);
            }
            let page: ListNamespacesResponse = self.http.get(url, &[]).await.map_err(|e| {
                e.context(format!("Cannot list the namespaces of Iceberg catalog '{}'", self.options.warehouse))
            })?;
            result.extend(page.namespaces);
            match page.next_page_token {
                Some(token) if !token.is_empty() => page_token = Some(token),
                _ => return Ok(result),
            }
        }
    }

    pub async fn create_namespace(&self, namespace: &Namespace, properties: HashMap<String, String>) -> Result<()> {
        let url = self.url(&["namespaces"])?;
        let body = serde_json::json!({ "namespace": namespace, "properties": properties });
        self.http
            .post::<_, serde_json::Value>(url, &body, &[], Call::Change)
            .await
            .map(drop)
            .map_err(|e| self.describe(e, Request::new(Operation::Create, Object::Namespace(namespace))))
    }

    /// The namespace's properties, or a NotFound error naming it.
    pub async fn load_namespace(&self, namespace: &Namespace) -> Result<HashMap<String, String>> {
        let url = self.url(&["namespaces", &encode_namespace(namespace)])?;
        let response: GetNamespaceResponse = self
            .http
            .get(url, &[])
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Read, Object::Namespace(namespace))))?;
        Ok(response.properties)
    }

    pub async fn list_tables(&self, namespace: &Namespace) -> Result<Vec<String>> {
        self.list_names(namespace, "tables")
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::List, Object::Namespace(namespace))))
    }

    /// The names of every `kind` ("tables", "views") in `namespace`, all pages of them.
    pub(crate) async fn list_names(&self, namespace: &Namespace, kind: &str) -> Result<Vec<String>> {
        let mut result = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut url = self.url(&["namespaces", &encode_namespace(namespace), kind])?;
            if let Some(token) = &page_token {
                url.query_pairs_mut().append_pair("pageToken", token);
            }
            let page: ListTablesResponse = self.http.get(url, &[]).await?;
            result.extend(page.identifiers.into_iter().map(|id| id.name));
            match page.next_page_token {
                Some(token) if !token.is_empty() => page_token = Some(token),
                _ => return Ok(result),
            }
        }
    }

    /// Loads a table's current metadata with its whole snapshot history, asking for vended
    /// storage credentials unless the catalog was attached with ACCESS_DELEGATION_MODE 'none'.
    /// Without them, when the catalog tagged its last answer for the table (`ETag`, as the REST
    /// spec allows), the load asks with `If-None-Match` and takes that answer again if the
    /// catalog says the table is unchanged (304): no metadata is sent or parsed. Vended
    /// credentials expire, so an answer carrying them is never reused.
    pub async fn load_table(&self, namespace: &Namespace, table: &str) -> Result<LoadTableResult> {
        self.load(namespace, table, &[], Snapshots::All).await
    }

    /// `load_table` with only the snapshots a branch or tag points to (the REST spec's
    /// `snapshots=refs`): what reads of the current state and credential renewals need. A table
    /// committed to hourly for a year has ~9,000 snapshots, megabytes of metadata that the
    /// catalog would send and floe parse on every load; `LoadedTable::with_history` loads them
    /// when time travel or `iceberg_snapshots()` asks. A catalog that ignores the parameter
    /// answers with all of them.
    pub async fn load_table_current(&self, namespace: &Namespace, table: &str) -> Result<LoadTableResult> {
        self.load(namespace, table, &[], Snapshots::Refs).await
    }

    /// `load_table_current` for a read through `views` (outermost first), which the load names
    /// in the REST spec's `referenced-by` parameter: the catalog may decide and audit by the
    /// chain. Such a load is never revalidated nor kept, as the answer may differ from a direct
    /// load's.
    pub async fn load_table_through(
        &self,
        namespace: &Namespace,
        table: &str,
        views: &[TableIdentifier],
    ) -> Result<LoadTableResult> {
        self.load(namespace, table, views, Snapshots::Refs).await
    }

    async fn load(
        &self,
        namespace: &Namespace,
        table: &str,
        views: &[TableIdentifier],
        snapshots: Snapshots,
    ) -> Result<LoadTableResult> {
        let mut url = self.url(&["namespaces", &encode_namespace(namespace), "tables", table])?;
        if !views.is_empty() {
            url.set_query(Some(&format!("referenced-by={}", referenced_by(views))));
        }
        if snapshots == Snapshots::Refs {
            url.query_pairs_mut().append_pair("snapshots", "refs");
        }
        let key = (namespace.clone(), table.to_string(), snapshots);
        let revalidate = self.options.access_delegation == AccessDelegation::None && views.is_empty();
        let known = if revalidate { self.tagged_loads.get(&key).await } else { None };
        let mut headers = self.delegation_headers();
        if let Some(known) = &known {
            headers.push(("If-None-Match", known.etag.as_str()));
        }
        let request = Request::new(Operation::Read, Object::Table(namespace, table));
        let result = match self.http.get_tagged(url, &headers).await.map_err(|e| self.describe(e, request))? {
            Some(Tagged::<LoadTableResult> { value, etag }) => {
                match etag.filter(|_| revalidate) {
                    Some(etag) => {
                        self.tagged_loads.insert(key, Arc::new(TaggedLoad { etag, result: value.clone() })).await
                    }
                    None => self.tagged_loads.invalidate(&key).await,
                }
                Ok(value)
            }
            None => known.map(|known| known.result.clone()).ok_or_else(|| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "Table '{}.{table}': the catalog answered 304 Not Modified to a load that named no version",
                        display_namespace(namespace)
                    ),
                )
                .with_fix("the catalog breaks the REST spec here; report it to its maintainers")
            }),
        }?;
        Ok(result)
    }

    /// Asks the catalog to plan a scan (`POST .../plan`; `scan::server_plan`).
    pub async fn plan_table_scan<T: DeserializeOwned>(
        &self,
        namespace: &Namespace,
        table: &str,
        request: &serde_json::Value,
    ) -> Result<T> {
        let url = self.url(&["namespaces", &encode_namespace(namespace), "tables", table, "plan"])?;
        let object = Request::new(Operation::Read, Object::Table(namespace, table));
        self.http.post(url, request, &self.delegation_headers(), Call::Read).await.map_err(|e| self.describe(e, object))
    }

    /// The state of a submitted scan plan (`GET .../plan/{plan-id}`).
    pub async fn fetch_planning_result<T: DeserializeOwned>(
        &self,
        namespace: &Namespace,
        table: &str,
        plan_id: &str,
    ) -> Result<T> {
        let url = self.url(&["namespaces", &encode_namespace(namespace), "tables", table, "plan", plan_id])?;
        let object = Request::new(Operation::Read, Object::Table(namespace, table));
        self.http.get(url, &self.delegation_headers()).await.map_err(|e| self.describe(e, object))
    }

    /// The file scan tasks of one plan task (`POST .../tasks`).
    pub async fn fetch_scan_tasks<T: DeserializeOwned>(
        &self,
        namespace: &Namespace,
        table: &str,
        task: &str,
    ) -> Result<T> {
        let url = self.url(&["namespaces", &encode_namespace(namespace), "tables", table, "tasks"])?;
        let object = Request::new(Operation::Read, Object::Table(namespace, table));
        let body = serde_json::json!({ "plan-task": task });
        self.http.post(url, &body, &self.delegation_headers(), Call::Read).await.map_err(|e| self.describe(e, object))
    }

    /// The table's metadata for a statement to read: `load_table_current`, or with
    /// `MAX_TABLE_STALENESS` a load of at most that long ago (`recent_loads.rs`). Reloads after a
    /// conflict use `load_table`.
    pub async fn load_table_to_read(&self, namespace: &Namespace, table: &str) -> Result<LoadTableResult> {
        if let Some(kept) = self.recent_loads.get(namespace, table).await {
            return Ok(kept);
        }
        let start = self.recent_loads.start();
        let result = self.load_table_current(namespace, table).await?;
        self.recent_loads.keep(start, namespace, table, &result).await;
        Ok(result)
    }

    pub async fn drop_namespace(&self, namespace: &Namespace) -> Result<()> {
        let url = self.url(&["namespaces", &encode_namespace(namespace)])?;
        self.http
            .execute(Method::DELETE, url, None::<&()>, Call::Change)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Drop, Object::Namespace(namespace))))
    }

    /// Creates a table; with `stage_create` the catalog only reserves it, to be created by the
    /// commit that adds its first snapshot.
    pub async fn create_table(&self, namespace: &Namespace, request: &CreateTableRequest) -> Result<LoadTableResult> {
        self.recent_loads.forget(namespace, &request.name).await;
        let url = self.url(&["namespaces", &encode_namespace(namespace), "tables"])?;
        self.http
            .post(url, request, &self.delegation_headers(), Call::Change)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Create, Object::Table(namespace, &request.name))))
    }

    pub async fn drop_table(&self, namespace: &Namespace, table: &str, purge: bool) -> Result<()> {
        self.recent_loads.forget(namespace, table).await;
        let mut url = self.url(&["namespaces", &encode_namespace(namespace), "tables", table])?;
        url.query_pairs_mut().append_pair("purgeRequested", if purge { "true" } else { "false" });
        self.http
            .execute(Method::DELETE, url, None::<&()>, Call::Change)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Drop, Object::Table(namespace, table))))
    }

    pub async fn rename_table(&self, from: &TableIdentifier, to: &TableIdentifier) -> Result<()> {
        self.recent_loads.forget(&from.namespace, &from.name).await;
        self.recent_loads.forget(&to.namespace, &to.name).await;
        let url = self.url(&["tables", "rename"])?;
        let body = RenameTableRequest { source: from.clone(), destination: to.clone() };
        self.http
            .execute(Method::POST, url, Some(&body), Call::Change)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Rename, Object::Table(&from.namespace, &from.name))))
    }

    /// Commits one table's change. A CommitConflict error means another writer won; a
    /// CommitStateUnknown error means the catalog may or may not have applied it.
    pub async fn commit_table(&self, change: &TableChange) -> Result<CommitTableResponse> {
        let id = &change.identifier;
        let url = self.url(&["namespaces", &encode_namespace(&id.namespace), "tables", &id.name])?;
        self.recent_loads.forget(&id.namespace, &id.name).await;
        let outcome = self.http.post(url, change, &[], Call::Commit).await;
        // Forgotten again once the outcome is known: a read may have loaded the old version
        // while the commit was under way.
        self.recent_loads.forget(&id.namespace, &id.name).await;
        outcome.map_err(|e| refused(self, e, change_request(change)))
    }

    /// Commits several tables' changes atomically (`POST /transactions/commit`).
    pub async fn commit_transaction(&self, changes: &[TableChange]) -> Result<()> {
        let url = self.url(&["transactions", "commit"])?;
        let body = CommitTransactionRequest { table_changes: changes.to_vec() };
        let tables: Vec<(Namespace, String)> =
            changes.iter().map(|c| (c.identifier.namespace.clone(), c.identifier.name.clone())).collect();
        let request = match changes {
            [change] => change_request(change),
            _ => Request::new(Operation::Write, Object::Tables(&tables)),
        };
        let outcome = self.http.execute(Method::POST, url, Some(&body), Call::Commit).await;
        for (namespace, table) in &tables {
            self.recent_loads.forget(namespace, table).await;
        }
        outcome.map_err(|e| refused(self, e, request))
    }

    pub(crate) fn delegation_headers(&self) -> Vec<(&'static str, &'static str)> {
        match self.options.access_delegation {
            AccessDelegation::VendedCredentials => vec![(ACCESS_DELEGATION_HEADER, "vended-credentials")],
            AccessDelegation::None => vec![],
        }
    }

    /// `{base}/a/b/c` with each part percent-encoded as one path segment.
    pub(crate) fn url(&self, parts: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|_| Error::invalid_input(format!("ENDPOINT {} cannot be a base URL", self.base)))?;
            segments.pop_if_empty();
            for part in parts {
                segments.push(part);
            }
        }
        Ok(url)
    }

    /// Adds the object, the operation and a fix to an error of `request`.
    pub(crate) fn describe(&self, err: Error, request: Request<'_>) -> Error {
        let catalog = &self.options.warehouse;
        let object = request.object_name();
        match err.kind() {
            ErrorKind::Forbidden | ErrorKind::NotFound => {
                request.describe(err, catalog, &self.http.authenticator().principal())
            }
            ErrorKind::Unauthenticated => Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "Iceberg catalog '{catalog}' rejected the credentials while accessing {object} ({})",
                    err.message()
                ),
            )
            .with_fix("check CLIENT_ID / CLIENT_SECRET or TOKEN of the iceberg secret"),
            ErrorKind::Unavailable => {
                let fix = err.fix().unwrap_or("check that the catalog is running and reachable").to_string();
                err.context(format!("Iceberg catalog '{catalog}' failed while accessing {object}")).with_fix(fix)
            }
            _ => err.context(format!("{} in Iceberg catalog '{catalog}'", capitalized(&object))),
        }
    }
}

/// A commit's request: a write to its table.
fn change_request(change: &TableChange) -> Request<'_> {
    Request::new(Operation::Write, Object::Table(&change.identifier.namespace, &change.identifier.name))
}

/// A commit's error worded when the catalog refused it; any other keeps its kind and message,
/// which the commit protocol acts on (conflicts are retried, unknown states reconciled).
fn refused(catalog: &RestCatalog, err: Error, request: Request<'_>) -> Error {
    match err.kind() {
        ErrorKind::Forbidden => catalog.describe(err, request),
        _ => err,
    }
}

/// The `referenced-by` value for `views`: each view's namespace levels and name joined by the
/// namespace separator, percent-encoded (a comma in a name too), joined by commas.
fn referenced_by(views: &[TableIdentifier]) -> String {
    views
        .iter()
        .map(|view| {
            let composite = format!("{}{NAMESPACE_SEPARATOR}{}", encode_namespace(&view.namespace), view.name);
            // Form encoding writes a space as '+'; a literal '+' was encoded as %2B.
            url::form_urlencoded::byte_serialize(composite.as_bytes()).collect::<String>().replace('+', "%20")
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn encode_namespace(namespace: &Namespace) -> String {
    namespace.join(NAMESPACE_SEPARATOR)
}

/// How namespaces appear to DuckDB users: levels joined by dots, as schema names.
pub fn display_namespace(namespace: &Namespace) -> String {
    namespace.join(".")
}

fn join(base: &Url, path: &str) -> Result<Url> {
    base.join(path).map_err(|e| Error::invalid_input(format!("cannot build a catalog URL from {base} and {path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_one_segment() {
        assert_eq!(encode_namespace(&vec!["a".into(), "b".into()]), "a\u{1f}b");
        assert_eq!(display_namespace(&vec!["a".into(), "b".into()]), "a.b");
    }

    #[test]
    fn a_view_chain_is_comma_separated_with_commas_in_names_encoded() {
        let view = |namespace: &[&str], name: &str| TableIdentifier {
            namespace: namespace.iter().map(|n| n.to_string()).collect(),
            name: name.to_string(),
        };
        assert_eq!(
            referenced_by(&[view(&["sales", "eu"], "a,b"), view(&["x"], "my view+1")]),
            "sales%1Feu%1Fa%2Cb,x%1Fmy%20view%2B1"
        );
    }
}
