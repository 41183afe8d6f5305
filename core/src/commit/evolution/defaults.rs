//! Column defaults (Iceberg format version 3): a field's `initial-default` is what rows written
//! before the field existed read, its `write-default` what a writer puts in rows that omit it.
//! ADD COLUMN ... DEFAULT sets both, ALTER COLUMN ... SET DEFAULT only the write default. Format
//! version 2 has neither, so a DEFAULT there is refused: the existing rows would read NULL.
//!
//! The DEFAULT arrives folded to a constant of the column's DuckDB type; an expression DuckDB
//! cannot fold (`random()`, `current_timestamp`) has no single value to store, so it is refused
//! on every table.

use iceberg::spec::{FormatVersion, Literal, NestedField, Schema, TableMetadata, Type};

use crate::error::{Error, Result};
use crate::scan::value::Value;

/// Which statement a DEFAULT came with, for the messages.
#[derive(Debug, Clone, Copy)]
pub enum DefaultClause {
    AddColumn,
    SetDefault,
}

/// The literal to store for a DEFAULT of a field of type `ty`: `None` when the statement had no
/// DEFAULT (or DEFAULT NULL), `constant` the folded value (`None` where the expression was not
/// a constant).
pub fn default_literal(
    metadata: &TableMetadata,
    clause: DefaultClause,
    has_default: bool,
    constant: Option<&Value>,
    ty: &Type,
    table: &str,
    path: &str,
) -> Result<Option<Literal>> {
    if !has_default {
        return Ok(None);
    }
    let what = match clause {
        DefaultClause::AddColumn => format!("Cannot add column '{path}' with a DEFAULT to table '{table}'"),
        DefaultClause::SetDefault => format!("Cannot set a DEFAULT on column '{path}' of table '{table}'"),
    };
    if metadata.format_version() < FormatVersion::V3 {
        return Err(Error::unsupported(format!(
            "{what}: the table is format version {}, which has no column defaults: its existing rows would read \
             NULL, not the default",
            metadata.format_version() as u8
        ))
        .with_fix(format!(
            "add the column without DEFAULT, then fill it: UPDATE {table} SET {path} = <default>; or upgrade the \
             table first: ALTER TABLE {table} SET ('format-version' = '3')"
        )));
    }
    let Some(constant) = constant else {
        return Err(Error::unsupported(format!(
            "{what}: the DEFAULT is not a constant, and an Iceberg default is one value that every engine reads \
             (an expression such as random() or current_timestamp would have to be computed by each of them)"
        ))
        .with_fix(format!(
            "use a constant DEFAULT, or add the column without DEFAULT and fill it: UPDATE {table} SET {path} = <expression>"
        )));
    };
    let Type::Primitive(primitive) = ty else {
        return Err(Error::unsupported(format!(
            "{what}: it is a {ty} column, and Iceberg keeps defaults only for primitive columns"
        ))
        .with_fix("drop the DEFAULT"));
    };
    let datum = constant.to_datum(primitive).ok_or_else(|| {
        Error::invalid_input(format!("{what}: its DEFAULT is not a value of the column's type {primitive}"))
            .with_fix(format!("give a DEFAULT of type {primitive}"))
    })?;
    Ok(Some(Literal::Primitive(datum.literal().clone())))
}

/// Whether no row of the table can hold NULL in `field` although the table has rows: the field
/// has an initial default (never NULL: a NULL default is no default), and no snapshot was written
/// with a schema that has the field, so every committed row reads that default.
pub fn only_initial_defaults(metadata: &TableMetadata, field: &NestedField) -> bool {
    field.initial_default.is_some()
        && metadata.snapshots().all(|snapshot| {
            snapshot
                .schema_id()
                .and_then(|id| metadata.schema_by_id(id))
                .is_some_and(|schema: &std::sync::Arc<Schema>| schema.field_by_id(field.id).is_none())
        })
}
