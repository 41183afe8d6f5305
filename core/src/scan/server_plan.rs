//! Server-side scan planning (REST `POST .../tables/{t}/plan`): the catalog, not floe, reads the
//! manifests and answers with the files to scan. Used where a table's LoadTable `config` says
//! `scan-planning-mode: server`, or where the catalog was attached with
//! `SCAN_PLANNING_MODE 'server'`.
//!
//! The answer comes at once (`completed`), or later (`submitted`: polled until done), and may
//! hand out further work as plan tasks (fetched with `POST .../tasks`). Each task's residual
//! filter is the query's own filter as far as the files' statistics could not settle it; DuckDB's
//! reader applies the query's filters to every row anyway. A catalog that adds row filters of
//! its own sends them as `read-restrictions`, which the secure view bound in the table's place
//! applies to the rows read (`scan::restricted`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use iceberg::spec::{Literal, PrimitiveType, Schema, TableMetadata, Transform, Type};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::filter::{Comparison, Filter};
use super::value::Value;
use crate::error::{Error, ErrorKind, Result};
use crate::rest::RestCatalog;
use crate::table::LoadedTable;

/// A submitted plan is asked about again after this long, doubling up to a second.
const FIRST_POLL: Duration = Duration::from_millis(50);
const MAX_POLL: Duration = Duration::from_secs(1);

/// A data file to scan and the delete files that apply to it.
pub struct ServerTask {
    pub data_file: ContentFile,
    pub deletes: Vec<ContentFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ContentFile {
    pub content: String,
    pub file_path: String,
    pub file_format: String,
    #[serde(default)]
    pub spec_id: i32,
    #[serde(default)]
    pub partition: Vec<Json>,
    pub file_size_in_bytes: u64,
    #[serde(default)]
    pub record_count: Option<u64>,
    #[serde(default)]
    pub equality_ids: Option<Vec<i32>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileScanTask {
    data_file: ContentFile,
    #[serde(default)]
    delete_file_references: Vec<usize>,
}

/// A plan's answer, or a plan task's: some tasks and delete files, maybe more work to fetch.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ScanTasks {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    plan_id: Option<String>,
    #[serde(default)]
    delete_files: Vec<ContentFile>,
    #[serde(default)]
    file_scan_tasks: Vec<FileScanTask>,
    #[serde(default)]
    plan_tasks: Vec<String>,
    #[serde(default)]
    error: Option<Json>,
}

/// The tasks of a scan of `table` at snapshot `snapshot_id`, planned by the catalog, which is
/// given what it can use of `filter`.
pub async fn plan(
    catalog: &RestCatalog,
    table: &LoadedTable,
    snapshot_id: i64,
    schema: &Schema,
    filter: Option<&Filter>,
) -> Result<Vec<ServerTask>> {
    let mut request = json!({"snapshot-id": snapshot_id, "case-sensitive": true});
    if let Some(expression) = filter.and_then(|f| rest_expression(f, schema)) {
        request["filter"] = expression;
    }
    let name = table.qualified_name();
    let mut answer: ScanTasks = catalog.plan_table_scan(&table.namespace, &table.name, &request).await?;
    let started = Instant::now();
    let mut wait = FIRST_POLL;
    // The plan id comes with the first `submitted` answer; later polls need not repeat it.
    let mut plan_id = None;
    while answer.status.as_deref() == Some("submitted") {
        plan_id = answer.plan_id.clone().or(plan_id);
        let plan_id = plan_id.clone().ok_or_else(|| invalid(&name, "a submitted plan without a plan-id"))?;
        if started.elapsed() > catalog.options().timeouts.request {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("The catalog did not finish planning the scan of table '{name}' within REQUEST_TIMEOUT"),
            )
            .with_fix("raise REQUEST_TIMEOUT, or plan on the client with SCAN_PLANNING_MODE 'client'"));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_POLL);
        answer = catalog.fetch_planning_result(&table.namespace, &table.name, &plan_id).await?;
    }
    let mut tasks = Vec::new();
    let mut pending: VecDeque<String> = VecDeque::new();
    loop {
        match answer.status.as_deref() {
            None | Some("completed") => {}
            Some(status) => {
                let reason = answer.error.as_ref().map(Json::to_string).unwrap_or_default();
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("The catalog's planning of a scan of table '{name}' ended {status} {reason}"),
                )
                .with_fix(
                    "run the query again; if it keeps failing, plan on the client with SCAN_PLANNING_MODE 'client'",
                ));
            }
        }
        pending.extend(answer.plan_tasks.drain(..));
        for task in answer.file_scan_tasks.drain(..) {
            let deletes = task
                .delete_file_references
                .iter()
                .map(|&i| {
                    answer
                        .delete_files
                        .get(i)
                        .cloned()
                        .ok_or_else(|| invalid(&name, "a delete file reference out of range"))
                })
                .collect::<Result<Vec<_>>>()?;
            tasks.push(ServerTask { data_file: task.data_file, deletes });
        }
        let Some(next) = pending.pop_front() else { break };
        answer = catalog.fetch_scan_tasks(&table.namespace, &table.name, &next).await?;
        answer.status = None;
    }
    Ok(tasks)
}

fn invalid(table: &str, what: &str) -> Error {
    Error::new(ErrorKind::Unavailable, format!("The catalog's scan plan for table '{table}' has {what}"))
        .with_fix("the catalog breaks the REST spec here; plan on the client with SCAN_PLANNING_MODE 'client'")
}

/// The values of identity partition fields of `file`, by source field id (see
/// `PlannedFile::identity_partition`).
pub fn identity_partition(file: &ContentFile, metadata: &TableMetadata, schema: &Schema) -> Vec<(i32, Option<Value>)> {
    let Some(spec) = metadata.partition_spec_by_id(file.spec_id) else { return Vec::new() };
    spec.fields()
        .iter()
        .zip(&file.partition)
        .filter(|(field, _)| field.transform == Transform::Identity)
        .filter_map(|(field, value)| {
            let ty = match schema.field_by_id(field.source_id)?.field_type.as_ref() {
                Type::Primitive(ty) => ty.clone(),
                _ => return None,
            };
            let literal = Literal::try_from_json(value.clone(), &Type::Primitive(ty.clone())).ok()?;
            let value = match literal {
                Some(Literal::Primitive(literal)) => Some(Value::from_literal(&literal, &ty)?),
                Some(_) => return None,
                None => None,
            };
            Some((field.source_id, value))
        })
        .collect()
}

/// `filter` as a REST expression (the spec's `Expression` JSON), with what cannot be expressed
/// dropped as `Filter::to_predicate` drops it: pruning only has to be conservative.
fn rest_expression(filter: &Filter, schema: &Schema) -> Option<Json> {
    let term = |field_id: i32| -> Option<(String, PrimitiveType)> {
        let name = schema.name_by_field_id(field_id)?.to_string();
        match schema.field_by_id(field_id)?.field_type.as_ref() {
            Type::Primitive(ty) => Some((name, ty.clone())),
            _ => None,
        }
    };
    let literal = |value: &Value, ty: &PrimitiveType| -> Option<Json> {
        let datum = value.to_datum(ty)?;
        Literal::Primitive(datum.literal().clone()).try_into_json(&Type::Primitive(ty.clone())).ok()
    };
    let combine = |kind: &str, parts: Vec<Json>| {
        parts.into_iter().reduce(|left, right| json!({"type": kind, "left": left, "right": right}))
    };
    match filter {
        Filter::And { args } => combine("and", args.iter().filter_map(|f| rest_expression(f, schema)).collect()),
        Filter::Or { args } => {
            let branches: Option<Vec<_>> = args.iter().map(|f| rest_expression(f, schema)).collect();
            combine("or", branches?)
        }
        Filter::Cmp { cmp, field_id, value } => {
            let (name, ty) = term(*field_id)?;
            let kind = match cmp {
                Comparison::Eq => "eq",
                Comparison::Ne => "not-eq",
                Comparison::Lt => "lt",
                Comparison::Le => "lt-eq",
                Comparison::Gt => "gt",
                Comparison::Ge => "gt-eq",
            };
            Some(json!({"type": kind, "term": name, "value": literal(value, &ty)?}))
        }
        Filter::IsNull { field_id } => Some(json!({"type": "is-null", "term": term(*field_id)?.0})),
        Filter::NotNull { field_id } => Some(json!({"type": "not-null", "term": term(*field_id)?.0})),
        Filter::In { field_id, values } => {
            let (name, ty) = term(*field_id)?;
            let values: Option<Vec<_>> = values.iter().map(|v| literal(v, &ty)).collect();
            Some(json!({"type": "in", "term": name, "values": values?}))
        }
    }
}

#[cfg(test)]
mod tests {
    use iceberg::spec::NestedField;

    use super::*;

    #[test]
    fn filters_become_rest_expressions() {
        let schema = Schema::builder()
            .with_fields(vec![
                NestedField::optional(1, "region", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::optional(3, "day", Type::Primitive(PrimitiveType::Date)).into(),
            ])
            .build()
            .unwrap();
        let filter: Filter = serde_json::from_str(
            r#"{"op":"and","args":[
                {"op":"cmp","cmp":"ge","field_id":3,"value":{"date":20454}},
                {"op":"in","field_id":1,"values":[{"str":"eu"},{"str":"us"}]},
                {"op":"not_null","field_id":1}]}"#,
        )
        .unwrap();
        assert_eq!(
            rest_expression(&filter, &schema).unwrap(),
            json!({"type": "and",
                   "left": {"type": "and",
                            "left": {"type": "gt-eq", "term": "day", "value": "2026-01-01"},
                            "right": {"type": "in", "term": "region", "values": ["eu", "us"]}},
                   "right": {"type": "not-null", "term": "region"}})
        );
    }
}
