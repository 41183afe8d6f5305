//! Request and response bodies of the Iceberg REST catalog API that floe uses
//! (`rest-catalog-open-api.yaml`). Table metadata itself is `iceberg::spec::TableMetadata`.

use std::collections::HashMap;

use iceberg::spec::TableMetadata;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
pub struct ConfigResponse {
    #[serde(default)]
    pub defaults: HashMap<String, String>,
    #[serde(default)]
    pub overrides: HashMap<String, String>,
    /// Endpoints the server supports, as "METHOD /v1/{prefix}/path"; absent means the spec's
    /// default set.
    #[serde(default)]
    pub endpoints: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ListNamespacesResponse {
    #[serde(default)]
    pub namespaces: Vec<Vec<String>>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct TableIdentifier {
    pub namespace: Vec<String>,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ListTablesResponse {
    #[serde(default)]
    pub identifiers: Vec<TableIdentifier>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct GetNamespaceResponse {
    #[serde(default)]
    pub properties: HashMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageCredential {
    pub prefix: String,
    #[serde(default)]
    pub config: HashMap<String, String>,
}

/// `GET .../tables/{table}/credentials`: fresh storage credentials for a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoadCredentialsResponse {
    #[serde(default)]
    pub storage_credentials: Vec<StorageCredential>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoadTableResult {
    #[serde(default)]
    pub metadata_location: Option<String>,
    pub metadata: TableMetadata,
    #[serde(default)]
    pub config: HashMap<String, String>,
    #[serde(default)]
    pub storage_credentials: Vec<StorageCredential>,
    /// A row filter and column masks this principal's reads must apply (`restrictions.rs`).
    #[serde(default)]
    pub read_restrictions: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorModel,
}

#[derive(Debug, Deserialize)]
pub struct ErrorModel {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub r#type: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CreateTableRequest {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub schema: iceberg::spec::Schema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_spec: Option<iceberg::spec::UnboundPartitionSpec>,
    pub stage_create: bool,
    pub properties: HashMap<String, String>,
}

/// One table's part of a commit: the requirements the catalog checks, the updates it applies.
#[derive(Debug, Clone, Serialize)]
pub struct TableChange {
    pub identifier: TableIdentifier,
    pub requirements: Vec<iceberg::TableRequirement>,
    pub updates: Vec<iceberg::TableUpdate>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommitTransactionRequest {
    pub table_changes: Vec<TableChange>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommitTableResponse {
    pub metadata_location: String,
    // The response's `metadata` is not read: parsing a long history's metadata costs more than
    // the commit (serde skips it unparsed).
}

#[derive(Debug, Serialize)]
pub struct RenameTableRequest {
    pub source: TableIdentifier,
    pub destination: TableIdentifier,
}
