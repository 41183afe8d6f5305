//! An Iceberg REST catalog scripted by the test, on 127.0.0.1 in the test process: it keeps
//! tables in memory and applies commits as a catalog does (requirements checked, updates
//! applied with iceberg's own metadata builder, 409 when a requirement fails), except where the
//! test scripts another answer for the next commit: a conflict, or a server error with or
//! without the commit applied. Table files live in a temporary directory (`file://`), so the
//! client writes real manifests and the tests can see which files exist.
//!
//! Served over wiremock, which binds the port and speaks HTTP; every answer comes from here.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use floe_core::commit::data_file::WrittenFile;
use floe_core::commit::Transaction;
use floe_core::options::{AttachRequest, CatalogOptions};
use floe_core::rest::model::LoadTableResult;
use floe_core::rest::RestCatalog;
use floe_core::storage::real_path;
use floe_core::table::LoadedTable;
use iceberg::spec::{NestedField, PrimitiveType, Schema, TableMetadata, TableMetadataBuilder, Type};
use iceberg::{TableCreation, TableRequirement, TableUpdate};
use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// What the catalog does with the next commit request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// What a catalog does: check the requirements (409 if one fails) and apply.
    Apply,
    /// 409 CommitFailedException, as if another writer had won, without looking.
    Conflict,
    /// This status (a 5xx), nothing applied.
    Fail(u16),
    /// The commit is applied, then this status (a 5xx) is answered: the answer got lost.
    ApplyThenFail(u16),
}

/// One commit request as received, with the status answered.
#[derive(Clone, Debug)]
pub struct Commit {
    pub path: String,
    /// The table changes: one for a table commit, all of them for /transactions/commit.
    pub changes: Vec<Value>,
    pub status: u16,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    /// `namespace.table` -> current metadata.
    tables: BTreeMap<String, TableMetadata>,
    /// Tables created with stage-create, not committed yet.
    staged: BTreeMap<String, TableMetadata>,
    answers: VecDeque<Answer>,
    commits: Vec<Commit>,
    /// Every request other than commits, as `METHOD path?query`.
    calls: Vec<String>,
    /// Whether /transactions/commit accepts changes that create a staged table.
    stages_in_transactions: bool,
    /// Whether loading a table is refused (403) once a commit was received.
    refuse_loads_after_commits: bool,
}

pub struct ScriptedCatalog {
    server: MockServer,
    state: Arc<Mutex<State>>,
    dir: PathBuf,
}

#[derive(Deserialize)]
struct ChangeBody {
    identifier: Identifier,
    requirements: Vec<TableRequirement>,
    updates: Vec<TableUpdate>,
}

#[derive(Deserialize)]
struct Identifier {
    namespace: Vec<String>,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct CreateBody {
    name: String,
    schema: Schema,
    #[serde(default)]
    partition_spec: Option<iceberg::spec::UnboundPartitionSpec>,
    #[serde(default)]
    stage_create: bool,
    #[serde(default)]
    properties: HashMap<String, String>,
}

impl ScriptedCatalog {
    /// `stages_in_transactions`: false for a catalog that answers 404 when /transactions/commit
    /// carries the creation of a staged table (as SeaweedFS does).
    pub async fn start(stages_in_transactions: bool) -> ScriptedCatalog {
        let dir = std::env::temp_dir().join(format!("floe-scripted-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let state = Arc::new(Mutex::new(State { stages_in_transactions, ..State::default() }));
        let server = MockServer::start().await;
        let responder = {
            let state = state.clone();
            let dir = dir.clone();
            move |request: &Request| answer(&mut state.lock().unwrap(), &dir, request)
        };
        Mock::given(any()).respond_with(responder).mount(&server).await;
        ScriptedCatalog { server, state, dir }
    }

    /// The floe client of this catalog, as ATTACH builds it.
    pub async fn connect(&self) -> Arc<RestCatalog> {
        let request = AttachRequest {
            warehouse: "lake".into(),
            options: [("endpoint", self.server.uri()), ("token", "scripted-token".to_string())]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            secret: Default::default(),
            aws: None,
        };
        Arc::new(RestCatalog::connect(CatalogOptions::parse(&request).unwrap()).await.unwrap())
    }

    /// Creates table `namespace.name` (id INT, name STRING) with `properties`, as another
    /// engine would have.
    pub fn create_table(&self, namespace: &str, name: &str, properties: &[(&str, &str)]) {
        let schema = Schema::builder()
            .with_fields(vec![
                NestedField::required(1, "id", Type::Primitive(PrimitiveType::Int)).into(),
                NestedField::optional(2, "name", Type::Primitive(PrimitiveType::String)).into(),
            ])
            .build()
            .unwrap();
        let properties = properties.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let metadata = new_metadata(&self.dir, namespace, name, schema, None, properties);
        self.state.lock().unwrap().tables.insert(format!("{namespace}.{name}"), metadata);
    }

    /// Scripts the answers to the next commit requests, in order; after them, `Apply`.
    pub fn answer_next_commits(&self, answers: &[Answer]) {
        self.state.lock().unwrap().answers.extend(answers.iter().copied());
    }

    /// From the first commit on, loading a table is refused: the outcome cannot be checked.
    pub fn refuse_loads_after_commits(&self) {
        self.state.lock().unwrap().refuse_loads_after_commits = true;
    }

    pub fn commits(&self) -> Vec<Commit> {
        self.state.lock().unwrap().commits.clone()
    }

    /// Requests other than commits, as `METHOD path?query`.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn metadata(&self, namespace: &str, name: &str) -> Option<TableMetadata> {
        self.state.lock().unwrap().tables.get(&format!("{namespace}.{name}")).cloned()
    }

    /// The table as floe loads it.
    pub async fn load(&self, catalog: &Arc<RestCatalog>, namespace: &str, name: &str) -> Arc<LoadedTable> {
        let namespace = vec![namespace.to_string()];
        let result: LoadTableResult = catalog.load_table(&namespace, name).await.unwrap();
        Arc::new(LoadedTable::from_catalog(catalog, namespace, name.to_string(), result))
    }

    /// A data file of `rows` rows as DuckDB's writer would report it, written (a stand-in for
    /// its Parquet bytes) into the directory `transaction` hands the statement, as the glue does.
    pub fn data_file(&self, transaction: &Transaction, table: &LoadedTable, rows: u64) -> WrittenFile {
        let dir = transaction.write_location(table, None).unwrap();
        let path = format!("{}/{}.parquet", real_path(&dir), uuid::Uuid::now_v7());
        let local = local_path(&path);
        std::fs::create_dir_all(local.parent().unwrap()).unwrap();
        std::fs::write(&local, b"PAR1 stand-in").unwrap();
        serde_json::from_value(json!({
            "path": path, "record_count": rows, "file_size": 13,
            "columns": [{"field_id": 1, "value_count": rows, "null_count": 0}],
        }))
        .unwrap()
    }
}

impl Drop for ScriptedCatalog {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the file at `uri` (`file://...`) exists.
pub fn exists(uri: &str) -> bool {
    local_path(uri).exists()
}

fn local_path(uri: &str) -> PathBuf {
    PathBuf::from(uri.strip_prefix("file://").expect("a file:// location"))
}

fn new_metadata(
    dir: &Path,
    namespace: &str,
    name: &str,
    schema: Schema,
    spec: Option<iceberg::spec::UnboundPartitionSpec>,
    properties: HashMap<String, String>,
) -> TableMetadata {
    let creation = TableCreation::builder()
        .name(name.to_string())
        .location(format!("file://{}/{namespace}/{name}-{}", dir.display(), uuid::Uuid::new_v4()))
        .schema(schema)
        .partition_spec_opt(spec)
        .properties(properties)
        .build();
    TableMetadataBuilder::from_table_creation(creation).unwrap().build().unwrap().metadata
}

fn error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {"message": message, "type": kind, "code": status}}))
}

fn load_result(metadata: &TableMetadata) -> Value {
    json!({"metadata-location": format!("{}/metadata/current.json", metadata.location()), "metadata": metadata})
}

fn answer(state: &mut State, dir: &Path, request: &Request) -> ResponseTemplate {
    let method = request.method.as_str().to_string();
    let path = request.url.path().to_string();
    let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let is_commit = method == "POST"
        && (segments == ["transactions", "commit"] || matches!(segments[..], ["namespaces", _, "tables", _]));
    if is_commit {
        return commit(state, request, &path);
    }
    let query = request.url.query().map(|q| format!("?{q}")).unwrap_or_default();
    state.calls.push(format!("{method} {path}{query}"));
    match (method.as_str(), &segments[..]) {
        ("GET", ["config"]) => ResponseTemplate::new(200).set_body_json(json!({"defaults": {}, "overrides": {}})),
        ("GET", ["namespaces", _, "tables", _]) if state.refuse_loads_after_commits && !state.commits.is_empty() => {
            error(403, "ForbiddenException", "loading tables is not allowed")
        }
        ("GET", ["namespaces", namespace, "tables", name]) => match state.tables.get(&format!("{namespace}.{name}")) {
            Some(metadata) => ResponseTemplate::new(200).set_body_json(load_result(metadata)),
            None => error(404, "NoSuchTableException", &format!("Table does not exist: {namespace}.{name}")),
        },
        ("POST", ["namespaces", namespace, "tables"]) => {
            let body: CreateBody = request.body_json().unwrap();
            let key = format!("{namespace}.{}", body.name);
            if state.tables.contains_key(&key) {
                return error(409, "AlreadyExistsException", &format!("Table already exists: {key}"));
            }
            let metadata = new_metadata(dir, namespace, &body.name, body.schema, body.partition_spec, body.properties);
            let result = load_result(&metadata);
            if body.stage_create {
                state.staged.insert(key, metadata);
            } else {
                state.tables.insert(key, metadata);
            }
            ResponseTemplate::new(200).set_body_json(result)
        }
        ("DELETE", ["namespaces", namespace, "tables", name]) => {
            match state.tables.remove(&format!("{namespace}.{name}")) {
                Some(_) => ResponseTemplate::new(204),
                None => error(404, "NoSuchTableException", &format!("Table does not exist: {namespace}.{name}")),
            }
        }
        ("POST", ["tables", "rename"]) => {
            let body: Value = request.body_json().unwrap();
            let key = |side: &str| {
                format!("{}.{}", body[side]["namespace"][0].as_str().unwrap(), body[side]["name"].as_str().unwrap())
            };
            match state.tables.remove(&key("source")) {
                Some(metadata) => {
                    state.tables.insert(key("destination"), metadata);
                    ResponseTemplate::new(204)
                }
                None => error(404, "NoSuchTableException", "Table does not exist"),
            }
        }
        _ => error(400, "BadRequestException", &format!("not scripted: {method} {path}")),
    }
}

fn commit(state: &mut State, request: &Request, path: &str) -> ResponseTemplate {
    let body: Value = request.body_json().unwrap();
    let changes: Vec<Value> = match body.get("table-changes") {
        Some(changes) => changes.as_array().unwrap().clone(),
        None => vec![body.clone()],
    };
    let in_transaction = path.ends_with("/transactions/commit");
    let scripted = state.answers.pop_front().unwrap_or(Answer::Apply);
    let outcome = match scripted {
        Answer::Conflict => {
            Err(Refusal(409, "CommitFailedException", "Requirement failed: branch main has changed".into()))
        }
        Answer::Fail(status) => Err(Refusal(status, "ServerError", "the catalog failed".into())),
        Answer::Apply => apply(state, &changes, in_transaction),
        Answer::ApplyThenFail(status) => apply(state, &changes, in_transaction)
            .and_then(|_| Err(Refusal(status, "ServerError", "the catalog failed after applying".into()))),
    };
    let (status, response) = match outcome {
        Ok(_) if in_transaction => (204, ResponseTemplate::new(204)),
        Ok(metadata) => (200, ResponseTemplate::new(200).set_body_json(load_result(&metadata))),
        Err(Refusal(status, kind, message)) => (status, error(status, kind, &message)),
    };
    state.commits.push(Commit { path: path.to_string(), changes, status, at: Instant::now() });
    response
}

/// A commit the catalog refuses: status, error type, message.
struct Refusal(u16, &'static str, String);

/// Applies `changes` atomically: all or none. The metadata of the last table changed.
fn apply(state: &mut State, changes: &[Value], in_transaction: bool) -> Result<TableMetadata, Refusal> {
    let mut results = Vec::new();
    for change in changes {
        let change: ChangeBody = serde_json::from_value(change.clone()).unwrap();
        let key = format!("{}.{}", change.identifier.namespace.join("."), change.identifier.name);
        let current = state.tables.get(&key);
        let missing = || Refusal(404, "NoSuchTableException", format!("Table does not exist: {key}"));
        let creates = change.requirements.iter().any(|r| matches!(r, TableRequirement::NotExist));
        if creates && in_transaction && !state.stages_in_transactions {
            return Err(missing());
        }
        for requirement in &change.requirements {
            requirement
                .check(current)
                .map_err(|e| Refusal(409, "CommitFailedException", format!("Requirement failed: {e}")))?;
        }
        let base = current.or(state.staged.get(&key)).ok_or_else(missing)?.clone();
        let mut builder = TableMetadataBuilder::new_from_metadata(base, None);
        for update in change.updates {
            builder = update.apply(builder).map_err(|e| Refusal(400, "BadRequestException", e.to_string()))?;
        }
        results.push((key, builder.build().unwrap().metadata));
    }
    let last = results.last().map(|(_, m)| m.clone());
    for (key, metadata) in results {
        state.staged.remove(&key);
        state.tables.insert(key, metadata);
    }
    last.ok_or_else(|| Refusal(400, "BadRequestException", "no table changes".into()))
}
