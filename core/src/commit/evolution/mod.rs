//! ALTER TABLE as catalog commits. Each statement's edit is checked against Iceberg's rules for
//! schema evolution and applied to the table's metadata when it runs (so a refused change fails
//! before anything is written), and applied again at COMMIT on the table as the catalog then
//! shows it: after a lost race the edit is re-checked on the reloaded schema, never committed on
//! one it was not checked against.
//!
//! | change | allowed |
//! |---|---|
//! | add a nullable column | yes |
//! | add a required column | only to a table without rows, or (format 3) with a default |
//! | add a column with a DEFAULT | format 3: its initial and write default; format 2: no |
//! | widen a type (int to long, float to double, decimal precision up) | yes |
//! | any other type change | no: rewrite the table |
//! | rename a column | yes: columns are tracked by id |
//! | drop a column | yes, unless a partition field, the sort order or the identifier uses it |
//! | required to optional | yes; optional to required: only in a table without rows, or a column with an initial default no snapshot has |
//! | set or drop a column's default | format 3: its write default; format 2: no |
//! | set or reset the default sort order | yes: top-level primitive columns and their transforms |
//!
//! ```
//! use floe_core::commit::evolution::{evolve, TableEdit};
//! let edit: TableEdit = serde_json::from_str(
//!     r#"{"kind":"rename_column","path":["amount"],"new_name":"total"}"#).unwrap();
//! # let _ = (evolve, edit);
//! ```

pub(crate) mod columns;
mod defaults;
mod promotion;

use std::collections::HashMap;

use iceberg::spec::{
    FormatVersion, TableMetadata, TableMetadataBuildResult, TableMetadataBuilder, UnboundPartitionSpec,
};
use serde::Deserialize;

use self::columns::{fields_of, find};
use self::defaults::{default_literal, only_initial_defaults, DefaultClause};
use crate::commit::schema::{new_field, stored_type, DuckColumn, DuckType};
use crate::commit::sort_order::{sort_order, with_default_sort_order, SortKey};
use crate::error::{Error, Result};
use crate::scan::value::Value;

/// One change an ALTER TABLE (or COMMENT ON) statement asks for; column paths name nested
/// struct fields after their column.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TableEdit {
    AddColumn {
        #[serde(default)]
        parent: Vec<String>,
        column: DuckColumn,
        #[serde(default)]
        if_not_exists: bool,
        /// The column came with a DEFAULT.
        #[serde(default)]
        has_default: bool,
        /// The DEFAULT folded to a constant of the column's type; absent for an expression.
        #[serde(default)]
        default: Option<Value>,
        #[serde(default)]
        doc: Option<String>,
    },
    DropColumn {
        path: Vec<String>,
        #[serde(default)]
        if_exists: bool,
    },
    RenameColumn {
        path: Vec<String>,
        new_name: String,
    },
    SetType {
        path: Vec<String>,
        #[serde(rename = "type")]
        ty: DuckType,
    },
    DropNotNull {
        path: Vec<String>,
    },
    SetNotNull {
        path: Vec<String>,
    },
    /// ALTER COLUMN ... SET DEFAULT (also how DuckDB adds a column with a computed default) and
    /// DROP DEFAULT (no `has_default`).
    SetDefault {
        path: Vec<String>,
        #[serde(default)]
        has_default: bool,
        #[serde(default)]
        default: Option<Value>,
    },
    SetDoc {
        path: Vec<String>,
        doc: Option<String>,
    },
    SetProperties {
        properties: HashMap<String, String>,
    },
    RemoveProperties {
        keys: Vec<String>,
    },
    /// A new default sort order (ALTER TABLE ... SET SORTED BY; RESET SORTED BY has no keys).
    SetSortOrder {
        keys: Vec<SortKey>,
    },
    /// A new default partition spec (ALTER TABLE ... SET PARTITIONED BY).
    #[serde(skip)]
    Partition(UnboundPartitionSpec),
}

/// `base` with every edit applied in order, and the updates that make it so.
pub fn evolve(base: &TableMetadata, edits: &[TableEdit], table: &str) -> Result<TableMetadataBuildResult> {
    let mut metadata = base.clone();
    let mut changes = Vec::new();
    for edit in edits {
        let step = apply(&metadata, edit, table)?;
        changes.extend(step.changes);
        metadata = step.metadata;
    }
    Ok(TableMetadataBuildResult { metadata, changes, expired_metadata_logs: Vec::new() })
}

fn apply(base: &TableMetadata, edit: &TableEdit, table: &str) -> Result<TableMetadataBuildResult> {
    let builder = TableMetadataBuilder::new_from_metadata(base.clone(), None);
    let schema = base.current_schema();
    let new_schema = match edit {
        TableEdit::AddColumn { parent, column, if_not_exists, has_default, default, doc } => {
            let path = [parent.as_slice(), std::slice::from_ref(&column.name)].concat().join(".");
            if find(fields_of(schema, parent, table)?, &column.name).is_some() {
                if *if_not_exists {
                    return Ok(builder.build()?);
                }
                return Err(Error::invalid_input(format!("Column '{path}' already exists in table '{table}'"))
                    .with_fix("choose another name, or use ADD COLUMN IF NOT EXISTS"));
            }
            let (mut field, _) = new_field(column, base.last_column_id(), table, &path)?;
            let default = default_literal(
                base,
                DefaultClause::AddColumn,
                *has_default,
                default.as_ref(),
                &field.field_type,
                table,
                &path,
            )?;
            if !column.nullable && default.is_none() && has_rows(base) {
                return Err(Error::invalid_input(format!(
                    "Cannot add column '{path}' to table '{table}' as NOT NULL: the table has rows, and a required \
                     column may only be added to an empty table (its existing rows would have no value)"
                ))
                .with_fix("add the column without NOT NULL"));
            }
            let added = std::sync::Arc::make_mut(&mut field);
            added.doc = doc.clone();
            added.initial_default = default.clone();
            added.write_default = default;
            columns::add(schema, parent, field, table)?
        }
        TableEdit::DropColumn { path, if_exists } => {
            let Some(field) = columns::field_at(schema, path) else {
                if *if_exists {
                    return Ok(builder.build()?);
                }
                return Err(columns::missing(path, table));
            };
            check_unused(base, field, table, &path.join("."))?;
            if path.len() == 1 && schema.as_struct().fields().len() == 1 {
                return Err(Error::invalid_input(format!(
                    "Cannot drop column '{}' of table '{table}': it is the table's only column",
                    path.join(".")
                ))
                .with_fix(format!("drop the table instead: DROP TABLE {table}")));
            }
            columns::edit(schema, path, table, |_| Ok(None))?
        }
        TableEdit::RenameColumn { path, new_name } => {
            let siblings = fields_of(schema, &path[..path.len().saturating_sub(1)], table)?;
            let old = columns::field_at(schema, path).ok_or_else(|| columns::missing(path, table))?;
            if let Some((_, other)) = find(siblings, new_name) {
                if other.id != old.id {
                    return Err(Error::invalid_input(format!(
                        "Cannot rename column '{}' of table '{table}' to '{new_name}': a column of that name exists",
                        path.join(".")
                    ))
                    .with_fix("choose another name, or drop the other column first"));
                }
            }
            columns::edit(schema, path, table, |field| {
                let mut renamed = field.as_ref().clone();
                renamed.name = new_name.clone();
                Ok(Some(renamed.into()))
            })?
        }
        TableEdit::SetType { path, ty } => {
            let field = columns::field_at(schema, path).ok_or_else(|| columns::missing(path, table))?;
            let joined = path.join(".");
            let to = stored_type(ty, table, &joined)?;
            if !promotion::check_promotion(&field.field_type, &to, ty, table, &joined)? {
                return Ok(builder.build()?);
            }
            columns::edit(schema, path, table, |field| Ok(Some(columns::with_type(field, to))))?
        }
        TableEdit::DropNotNull { path } => {
            let field = columns::field_at(schema, path).ok_or_else(|| columns::missing(path, table))?;
            if schema.identifier_field_ids().any(|id| id == field.id) {
                return Err(Error::invalid_input(format!(
                    "Cannot make column '{}' of table '{table}' nullable: it is part of the table's identifier \
                     (identifier columns are required)",
                    path.join(".")
                ))
                .with_fix("keep it NOT NULL"));
            }
            columns::edit(schema, path, table, |field| {
                let mut optional = field.as_ref().clone();
                optional.required = false;
                Ok(Some(optional.into()))
            })?
        }
        TableEdit::SetNotNull { path } => {
            let field = columns::field_at(schema, path).ok_or_else(|| columns::missing(path, table))?;
            if field.required {
                return Ok(builder.build()?);
            }
            if has_rows(base) && !only_initial_defaults(base, field) {
                return Err(Error::invalid_input(format!(
                    "Cannot make column '{}' of table '{table}' NOT NULL: the table has rows, and Iceberg lets a \
                     column become required only while a table is empty (rows already written, by any engine, may \
                     hold NULL)",
                    path.join(".")
                ))
                .with_fix("keep the column nullable and test it instead (SELECT count(*) ... WHERE col IS NULL, or dbt's not_null test)"));
            }
            columns::edit(schema, path, table, |field| {
                let mut required = field.as_ref().clone();
                required.required = true;
                Ok(Some(required.into()))
            })?
        }
        TableEdit::SetDefault { path, has_default, default } => {
            let field = columns::field_at(schema, path).ok_or_else(|| columns::missing(path, table))?;
            let joined = path.join(".");
            let default = default_literal(
                base,
                DefaultClause::SetDefault,
                *has_default,
                default.as_ref(),
                &field.field_type,
                table,
                &joined,
            )?;
            if field.write_default == default {
                return Ok(builder.build()?);
            }
            columns::edit(schema, path, table, |field| {
                let mut defaulted = field.as_ref().clone();
                defaulted.write_default = default;
                Ok(Some(defaulted.into()))
            })?
        }
        TableEdit::SetDoc { path, doc } => columns::edit(schema, path, table, |field| {
            let mut documented = field.as_ref().clone();
            documented.doc = doc.clone();
            Ok(Some(documented.into()))
        })?,
        TableEdit::SetProperties { properties } => return set_properties(base, builder, properties, table),
        TableEdit::RemoveProperties { keys } => {
            if let Some(key) = keys.iter().find(|k| k.as_str() == FORMAT_VERSION) {
                return Err(Error::invalid_input(format!(
                    "Cannot reset '{key}' of table '{table}': a table's format version never goes back"
                ))
                .with_fix("leave it set"));
            }
            return Ok(builder.remove_properties(keys)?.build()?);
        }
        TableEdit::SetSortOrder { keys } => {
            let order = sort_order(schema, keys, table)?;
            return Ok(with_default_sort_order(base, builder, order)?.build()?);
        }
        TableEdit::Partition(spec) => return Ok(builder.add_default_partition_spec(spec.clone())?.build()?),
    };
    Ok(builder.add_current_schema(new_schema)?.build()?)
}

const FORMAT_VERSION: &str = "format-version";

/// SET (...): table properties, where `format-version` upgrades the table.
fn set_properties(
    base: &TableMetadata,
    mut builder: TableMetadataBuilder,
    properties: &HashMap<String, String>,
    table: &str,
) -> Result<TableMetadataBuildResult> {
    let mut properties = properties.clone();
    if let Some(version) = properties.remove(FORMAT_VERSION) {
        let target = match version.trim() {
            "1" => FormatVersion::V1,
            "2" => FormatVersion::V2,
            "3" => FormatVersion::V3,
            other => {
                return Err(Error::invalid_input(format!(
                    "'{other}' is not an Iceberg format version (table '{table}')"
                ))
                .with_fix("use 2 or 3"))
            }
        };
        if target < base.format_version() {
            return Err(Error::invalid_input(format!(
                "Cannot set table '{table}' to format version {version}: it is version {}, and a table's format \
                 version never goes back",
                base.format_version()
            ))
            .with_fix("leave it as it is"));
        }
        builder = builder.upgrade_format_version(target)?;
    }
    if !properties.is_empty() {
        builder = builder.set_properties(properties)?;
    }
    Ok(builder.build()?)
}

/// Whether the table's current snapshot holds rows.
fn has_rows(metadata: &TableMetadata) -> bool {
    metadata.current_snapshot().is_some_and(|snapshot| {
        snapshot.summary().additional_properties.get("total-records").is_none_or(|records| records != "0")
    })
}

/// A column the default partition spec, the default sort order or the identifier uses cannot
/// be dropped: later writes could not compute what they need.
fn check_unused(metadata: &TableMetadata, field: &iceberg::spec::NestedField, table: &str, path: &str) -> Result<()> {
    let ids = columns::ids_within(field);
    let spec = metadata.default_partition_spec();
    if let Some(used) = spec.fields().iter().find(|f| ids.contains(&f.source_id)) {
        return Err(Error::invalid_input(format!(
            "Cannot drop column '{path}' of table '{table}': its partitioning uses it (partition field '{}')",
            used.name
        ))
        .with_fix(format!("change the partitioning first: ALTER TABLE {table} SET PARTITIONED BY (...) without it")));
    }
    if metadata.default_sort_order().fields.iter().any(|f| ids.contains(&f.source_id)) {
        return Err(Error::invalid_input(format!(
            "Cannot drop column '{path}' of table '{table}': its sort order uses it"
        ))
        .with_fix(format!("change the sort order first: ALTER TABLE {table} SET SORTED BY (...) without it")));
    }
    if metadata.current_schema().identifier_field_ids().any(|id| ids.contains(&id)) {
        return Err(Error::invalid_input(format!(
            "Cannot drop column '{path}' of table '{table}': it is part of the table's identifier fields"
        ))
        .with_fix(
            "change the identifier fields with an engine that sets them (e.g. Spark's SET IDENTIFIER FIELDS) first",
        ));
    }
    Ok(())
}
