//! Sort orders: `ALTER TABLE ... SET SORTED BY` keys as DuckDB parsed them become the table's
//! default Iceberg sort order, and the glue gets that order as transforms to sort each data file
//! it writes by. `RESET SORTED BY` (no keys) makes the table unsorted again (order id 0).
//!
//! ```
//! use floe_core::commit::partitioning::PartitionKey;
//! use floe_core::commit::sort_order::{sort_order, SortKey};
//! use iceberg::spec::{NestedField, NullOrder, PrimitiveType, Schema, SortDirection, Type};
//! let schema = Schema::builder()
//!     .with_fields(vec![NestedField::optional(1, "ts", Type::Primitive(PrimitiveType::Timestamp)).into()])
//!     .build().unwrap();
//! let key = SortKey {
//!     key: PartitionKey { expression: "ts".into(), function: None, columns: vec!["ts".into()], constants: vec![] },
//!     descending: true,
//!     nulls_first: false,
//! };
//! let order = sort_order(&schema, &[key], "gold.events").unwrap();
//! assert_eq!(order.fields[0].direction, SortDirection::Descending);
//! assert_eq!(order.fields[0].null_order, NullOrder::Last);
//! ```

use iceberg::spec::{NullOrder, Schema, SortDirection, SortField, SortOrder, TableMetadata, TableMetadataBuilder};
use serde::{Deserialize, Serialize};

use crate::commit::evolution::columns::find;
use crate::commit::partitioning::{check_transform_applies, transform_parts, PartitionKey};
use crate::error::{Error, Result};

/// One `SET SORTED BY` key: a column or a transform of one, with its direction and where NULLs
/// go (the glue resolves DuckDB's defaults for ORDER BY before it sends them).
#[derive(Debug, Clone, Deserialize)]
pub struct SortKey {
    #[serde(flatten)]
    pub key: PartitionKey,
    pub descending: bool,
    pub nulls_first: bool,
}

/// The sort order `keys` ask for, checked against `schema`: each names a top-level column of a
/// primitive type and a transform that applies to it. No keys is the unsorted order.
pub fn sort_order(schema: &Schema, keys: &[SortKey], table: &str) -> Result<SortOrder> {
    let mut fields = Vec::with_capacity(keys.len());
    for key in keys {
        let field = key.key.transform_of_column("sort")?;
        let columns = schema.as_struct().fields();
        let (_, source) = find(columns, &field.source).ok_or_else(|| {
            Error::invalid_input(format!("Table '{table}' has no column '{}' to sort by", field.source)).with_fix(
                format!("name a top-level column of the table: ALTER TABLE {table} SET SORTED BY (col [ASC|DESC] [NULLS FIRST|LAST], ...)"),
            )
        })?;
        if !source.field_type.is_primitive() {
            return Err(Error::invalid_input(format!(
                "Column '{}' of table '{table}' is of type {}, which Iceberg cannot sort by",
                field.source, source.field_type
            ))
            .with_fix("sort by columns of primitive types (numbers, strings, dates, timestamps, ...)"));
        }
        check_transform_applies(&field, &source.field_type, table, "sorted", "; or sort by the column itself")?;
        fields.push(SortField {
            source_id: source.id,
            transform: field.transform,
            direction: if key.descending { SortDirection::Descending } else { SortDirection::Ascending },
            null_order: if key.nulls_first { NullOrder::First } else { NullOrder::Last },
        });
    }
    Ok(SortOrder::builder().with_fields(fields).build_unbound()?)
}

/// `builder` (on `metadata`) with `order` as the default sort order. An equal order the table
/// already has is made the default again rather than added a second time, as Iceberg Java does.
pub fn with_default_sort_order(
    metadata: &TableMetadata,
    builder: TableMetadataBuilder,
    order: SortOrder,
) -> Result<TableMetadataBuilder> {
    match metadata.sort_orders_iter().find(|existing| existing.fields == order.fields) {
        Some(existing) => Ok(builder.set_default_sort_order(existing.order_id)?),
        None => Ok(builder.add_sort_order(order)?.set_default_sort_order(TableMetadataBuilder::LAST_ADDED.into())?),
    }
}

/// The id, in `metadata`, of the sort order that files written for `written_for` (the table as
/// the transaction saw it) are sorted by: its default order, which a retry may find under
/// another id. None where `metadata` no longer has that order.
pub fn written_sort_order_id(metadata: &TableMetadata, written_for: &TableMetadata) -> Option<i32> {
    let fields = &written_for.default_sort_order().fields;
    let id = match metadata.sort_order_by_id(written_for.default_sort_order_id()) {
        Some(same) if &same.fields == fields => same.order_id,
        _ if fields.is_empty() => 0,
        _ => metadata.sort_orders_iter().find(|order| &order.fields == fields)?.order_id,
    };
    i32::try_from(id).ok()
}

/// A field of a table's default sort order as the glue sorts by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedSortField {
    pub source_id: i32,
    /// `identity`, `year`, `month`, `day`, `hour`, `bucket`, `truncate`, `void` or `unknown`.
    pub transform: &'static str,
    /// N of bucket[N], W of truncate[W]; `None` for the others.
    pub parameter: Option<u32>,
    pub descending: bool,
    pub nulls_first: bool,
}

impl From<&SortField> for ResolvedSortField {
    fn from(field: &SortField) -> Self {
        let (transform, parameter) = transform_parts(field.transform);
        ResolvedSortField {
            source_id: field.source_id,
            transform,
            parameter,
            descending: field.direction == SortDirection::Descending,
            nulls_first: field.null_order == NullOrder::First,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use iceberg::spec::{FormatVersion, NestedField, PartitionSpec, PrimitiveType, StructType, Transform, Type};

    use super::*;
    use crate::ErrorKind;

    fn schema() -> Schema {
        Schema::builder()
            .with_fields(vec![
                NestedField::optional(1, "name", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::optional(2, "id", Type::Primitive(PrimitiveType::Long)).into(),
                NestedField::optional(
                    3,
                    "point",
                    Type::Struct(StructType::new(vec![NestedField::optional(
                        4,
                        "x",
                        Type::Primitive(PrimitiveType::Double),
                    )
                    .into()])),
                )
                .into(),
            ])
            .build()
            .unwrap()
    }

    fn metadata() -> TableMetadata {
        TableMetadataBuilder::new(
            schema(),
            PartitionSpec::unpartition_spec().into_unbound(),
            SortOrder::unsorted_order(),
            "file:///tmp/t".into(),
            FormatVersion::V2,
            HashMap::new(),
        )
        .unwrap()
        .build()
        .unwrap()
        .metadata
    }

    fn key(expression: &str, function: Option<&str>, column: &str, constants: &[&str], descending: bool) -> SortKey {
        SortKey {
            key: PartitionKey {
                expression: expression.into(),
                function: function.map(str::to_string),
                columns: vec![column.into()],
                constants: constants.iter().map(|c| c.to_string()).collect(),
            },
            descending,
            nulls_first: descending,
        }
    }

    #[test]
    fn keys_become_sort_fields_with_direction_and_null_order() {
        let order = sort_order(
            &schema(),
            &[key("id", None, "id", &[], true), key("truncate(4, name)", Some("truncate"), "name", &["4"], false)],
            "t",
        )
        .unwrap();
        assert_eq!(
            order.fields,
            [
                SortField {
                    source_id: 2,
                    transform: Transform::Identity,
                    direction: SortDirection::Descending,
                    null_order: NullOrder::First
                },
                SortField {
                    source_id: 1,
                    transform: Transform::Truncate(4),
                    direction: SortDirection::Ascending,
                    null_order: NullOrder::Last
                },
            ]
        );
        assert!(sort_order(&schema(), &[], "t").unwrap().is_unsorted());
    }

    #[test]
    fn wrong_columns_types_and_expressions_are_explained() {
        let err = sort_order(&schema(), &[key("nope", None, "nope", &[], false)], "gold.t").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "Table 'gold.t' has no column 'nope' to sort by. Fix: name a top-level column of the table: ALTER TABLE \
             gold.t SET SORTED BY (col [ASC|DESC] [NULLS FIRST|LAST], ...)"
        );
        let err = sort_order(&schema(), &[key("point.x", None, "point.x", &[], false)], "gold.t").unwrap_err();
        assert!(err.to_string().starts_with("Table 'gold.t' has no column 'point.x' to sort by"), "{err}");
        let err = sort_order(&schema(), &[key("day(name)", Some("day"), "name", &[], false)], "gold.t").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Column 'name' of table 'gold.t' is of type string, which cannot be sorted by day"),
            "{err}"
        );
        let err = sort_order(&schema(), &[key("point", None, "point", &[], false)], "gold.t").unwrap_err();
        assert!(err.to_string().contains("which Iceberg cannot sort by"), "{err}");
        let err = sort_order(&schema(), &[key("(id + 1)", Some("+"), "id", &["1"], false)], "gold.t").unwrap_err();
        assert!(err.to_string().starts_with("'(id + 1)' is not an Iceberg sort transform"), "{err}");
    }

    #[test]
    fn an_order_the_table_has_becomes_the_default_again() {
        let base = metadata();
        let by_id = sort_order(&schema(), &[key("id", None, "id", &[], false)], "t").unwrap();
        let sorted =
            with_default_sort_order(&base, TableMetadataBuilder::new_from_metadata(base.clone(), None), by_id.clone())
                .unwrap()
                .build()
                .unwrap()
                .metadata;
        assert_eq!(sorted.default_sort_order_id(), 1);
        let unsorted = sort_order(&schema(), &[], "t").unwrap();
        let reset =
            with_default_sort_order(&sorted, TableMetadataBuilder::new_from_metadata(sorted.clone(), None), unsorted)
                .unwrap()
                .build()
                .unwrap();
        assert_eq!(reset.metadata.default_sort_order_id(), 0);
        assert_eq!(reset.metadata.sort_orders_iter().len(), 2);
        let again = with_default_sort_order(
            &reset.metadata,
            TableMetadataBuilder::new_from_metadata(reset.metadata.clone(), None),
            by_id,
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(again.metadata.default_sort_order_id(), 1);
        assert_eq!(again.metadata.sort_orders_iter().len(), 2);
        assert_eq!(written_sort_order_id(&again.metadata, &sorted), Some(1));
        assert_eq!(written_sort_order_id(&again.metadata, &base), Some(0));
    }
}
