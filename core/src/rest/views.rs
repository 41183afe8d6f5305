//! Iceberg views through the REST catalog's views API: a view is a SQL text per dialect plus the
//! schema it returns, versioned like a table. floe writes and reads the `duckdb` dialect.

use std::collections::HashMap;

use iceberg::spec::{Schema, ViewMetadata, ViewRepresentation};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::access::{Object, Operation, Request};
use super::catalog::{display_namespace, encode_namespace, Namespace, RestCatalog};
use super::http::Call;
use super::model::{RenameTableRequest, TableIdentifier};
use crate::error::{Error, ErrorKind, Result};

/// The SQL dialect floe stores and reads.
pub const DIALECT: &str = "duckdb";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoadViewResult {
    #[serde(default)]
    pub metadata_location: Option<String>,
    pub metadata: ViewMetadata,
}

impl LoadViewResult {
    /// The current version's DuckDB SQL.
    pub fn duckdb_sql(&self, id: &TableIdentifier) -> Result<String> {
        let version = self.metadata.current_version();
        let mut dialects = Vec::new();
        for representation in version.representations().iter() {
            let ViewRepresentation::Sql(sql) = representation;
            if sql.dialect.eq_ignore_ascii_case(DIALECT) {
                return Ok(sql.sql.clone());
            }
            dialects.push(sql.dialect.clone());
        }
        Err(Error::unsupported(format!(
            "View '{}.{}' has no SQL in the duckdb dialect (it has: {})",
            display_namespace(&id.namespace),
            id.name,
            dialects.join(", ")
        ))
        .with_fix("replace the view from DuckDB (CREATE OR REPLACE VIEW) or add a duckdb representation with the engine that owns it"))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct CreateViewRequest<'a> {
    name: &'a str,
    schema: &'a Schema,
    view_version: serde_json::Value,
    properties: HashMap<String, String>,
}

fn view_version(
    version_id: i32,
    schema_id: i32,
    namespace: &Namespace,
    sql: &str,
    duckdb_version: &str,
) -> serde_json::Value {
    json!({
        "version-id": version_id,
        "schema-id": schema_id,
        "timestamp-ms": chrono::Utc::now().timestamp_millis(),
        "summary": {
            "engine-name": "floe",
            "engine-version": env!("CARGO_PKG_VERSION"),
            "duckdb-version": duckdb_version,
        },
        "representations": [{ "type": "sql", "sql": sql, "dialect": DIALECT }],
        "default-namespace": namespace,
    })
}

impl RestCatalog {
    /// The views of `namespace`; none where the catalog has no views API.
    pub async fn list_views(&self, namespace: &Namespace) -> Result<Vec<String>> {
        match self.list_names(namespace, "views").await {
            Ok(names) => Ok(names),
            // Catalogs without the (optional) views API answer 404, 405 or 501.
            Err(err)
                if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::Unsupported | ErrorKind::InvalidInput) =>
            {
                Ok(Vec::new())
            }
            Err(err) => Err(self.describe(err, Request::new(Operation::List, Object::Namespace(namespace)))),
        }
    }

    /// The view, or None if there is none of that name.
    pub async fn load_view(&self, id: &TableIdentifier) -> Result<Option<LoadViewResult>> {
        let url = self.url(&["namespaces", &encode_namespace(&id.namespace), "views", &id.name])?;
        match self.http().get(url, &[]).await {
            Ok(view) => Ok(Some(view)),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(self.describe(err, Request::new(Operation::Read, view(id)))),
        }
    }

    pub async fn create_view(
        &self,
        id: &TableIdentifier,
        schema: &Schema,
        sql: &str,
        duckdb_version: &str,
        properties: HashMap<String, String>,
    ) -> Result<()> {
        let url = self.url(&["namespaces", &encode_namespace(&id.namespace), "views"])?;
        let body = CreateViewRequest {
            name: &id.name,
            schema,
            view_version: view_version(1, schema.schema_id(), &id.namespace, sql, duckdb_version),
            properties,
        };
        self.http()
            .execute(Method::POST, url, Some(&body), Call::Change)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Create, view(id))))
    }

    /// A new current version of an existing view: one commit, so readers see the old or the new
    /// SQL, never no view. `properties` are set where they differ.
    pub async fn replace_view(
        &self,
        id: &TableIdentifier,
        schema: &Schema,
        sql: &str,
        duckdb_version: &str,
        properties: HashMap<String, String>,
    ) -> Result<()> {
        let Some(base) = self.load_view(id).await? else {
            return self.create_view(id, schema, sql, duckdb_version, properties).await;
        };
        let base = &base.metadata;
        let version_id = base.versions().map(|v| v.version_id()).max().unwrap_or(0) + 1;
        let mut updates = Vec::new();
        // A schema the view had before is reused by id (catalogs deduplicate schemas, so adding
        // it again would leave the new version pointing at a schema that was never added).
        let schema_id = match base.schemas_iter().find(|s| s.as_struct() == schema.as_struct()) {
            Some(existing) => existing.schema_id(),
            None => {
                let schema_id = base.schemas_iter().map(|s| s.schema_id()).max().unwrap_or(0) + 1;
                let schema = schema.clone().into_builder().with_schema_id(schema_id).build().map_err(Error::from)?;
                let last_column_id = schema.highest_field_id();
                updates.push(json!({ "action": "add-schema", "schema": schema, "last-column-id": last_column_id }));
                schema_id
            }
        };
        // Catalogs deduplicate versions too: the same SQL over the same schema is not added
        // again but made current (or left alone when it is current already).
        let same = base.versions().find(|v| {
            v.schema_id() == schema_id
                && v.representations().iter().any(|r| {
                    let ViewRepresentation::Sql(r) = r;
                    r.dialect.eq_ignore_ascii_case(DIALECT) && r.sql == sql
                })
        });
        let changed: HashMap<String, String> =
            properties.into_iter().filter(|(k, v)| base.properties().get(k) != Some(v)).collect();
        if !changed.is_empty() {
            updates.push(json!({ "action": "set-properties", "updates": changed }));
        }
        match same {
            Some(version) if version.version_id() == base.current_version_id() => {
                if updates.is_empty() {
                    return Ok(());
                }
            }
            Some(version) => {
                updates.push(json!({ "action": "set-current-view-version", "view-version-id": version.version_id() }));
            }
            None => {
                // Ids spelled out rather than -1 ("the last added"), which not every catalog resolves.
                updates.push(json!({
                    "action": "add-view-version",
                    "view-version": view_version(version_id, schema_id, &id.namespace, sql, duckdb_version),
                }));
                updates.push(json!({ "action": "set-current-view-version", "view-version-id": version_id }));
            }
        }
        let body = json!({
            "identifier": id,
            "requirements": [{ "type": "assert-view-uuid", "uuid": base.uuid() }],
            "updates": updates,
        });
        let url = self.url(&["namespaces", &encode_namespace(&id.namespace), "views", &id.name])?;
        self.http()
            .execute(Method::POST, url, Some(&body), Call::Commit)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Write, view(id))))
    }

    pub async fn drop_view(&self, id: &TableIdentifier) -> Result<()> {
        let url = self.url(&["namespaces", &encode_namespace(&id.namespace), "views", &id.name])?;
        self.http()
            .execute(Method::DELETE, url, None::<&()>, Call::Change)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Drop, view(id))))
    }

    pub async fn rename_view(&self, from: &TableIdentifier, to: &TableIdentifier) -> Result<()> {
        let url = self.url(&["views", "rename"])?;
        let body = RenameTableRequest { source: from.clone(), destination: to.clone() };
        self.http()
            .execute(Method::POST, url, Some(&body), Call::Change)
            .await
            .map_err(|e| self.describe(e, Request::new(Operation::Rename, view(from))))
    }
}

fn view(id: &TableIdentifier) -> Object<'_> {
    Object::View(&id.namespace, &id.name)
}
