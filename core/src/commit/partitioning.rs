//! `ALTER TABLE ... SET PARTITIONED BY (...)` as an Iceberg partition spec.
//!
//! ```
//! use floe_core::commit::partitioning::{unbound_spec, PartitionField};
//! use iceberg::spec::{NestedField, PrimitiveType, Schema, Type};
//! let schema = Schema::builder()
//!     .with_fields(vec![NestedField::optional(1, "ts", Type::Primitive(PrimitiveType::Timestamp)).into()])
//!     .build().unwrap();
//! let fields = vec![PartitionField { source: "ts".into(), transform: "day".into() }];
//! let spec = unbound_spec(&schema, &fields, "gold.events").unwrap();
//! assert_eq!(spec.fields()[0].name, "ts_day");
//! ```

use iceberg::spec::{Schema, Transform, UnboundPartitionSpec};
use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct PartitionField {
    /// The source column's name.
    pub source: String,
    /// `identity`, `year`, `month`, `day`, `hour`, `bucket[N]` or `truncate[W]`.
    pub transform: String,
}

/// The spec, with field names as Iceberg Java names them (`ts_day`, `id_bucket`, ...), checked
/// against `schema`: the columns exist and each transform applies to its column's type.
pub fn unbound_spec(schema: &Schema, fields: &[PartitionField], table: &str) -> Result<UnboundPartitionSpec> {
    let mut builder = UnboundPartitionSpec::builder();
    for field in fields {
        let source = schema.field_by_name(&field.source).ok_or_else(|| {
            Error::invalid_input(format!("Table '{table}' has no column '{}' to partition by", field.source))
                .with_fix("name a top-level column of the table")
        })?;
        let transform: Transform = field.transform.parse().map_err(|_| {
            Error::invalid_input(format!("'{}' is not an Iceberg partition transform", field.transform)).with_fix(
                "use the column itself, year(col), month(col), day(col), hour(col), bucket(N, col) or truncate(W, col)",
            )
        })?;
        if transform.result_type(&source.field_type).is_err() {
            return Err(Error::invalid_input(format!(
                "Column '{}' of table '{table}' is of type {}, which cannot be partitioned by {transform}",
                field.source, source.field_type
            ))
            .with_fix("year/month/day/hour apply to dates and timestamps, truncate to numbers and strings, bucket to most types"));
        }
        let name = match transform {
            Transform::Identity => field.source.clone(),
            Transform::Year => format!("{}_year", field.source),
            Transform::Month => format!("{}_month", field.source),
            Transform::Day => format!("{}_day", field.source),
            Transform::Hour => format!("{}_hour", field.source),
            Transform::Bucket(_) => format!("{}_bucket", field.source),
            Transform::Truncate(_) => format!("{}_trunc", field.source),
            _ => format!("{}_{transform}", field.source),
        };
        builder = builder.add_partition_field(source.id, name, transform)?;
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{NestedField, PrimitiveType, Type};

    use super::*;

    fn schema() -> Schema {
        Schema::builder()
            .with_fields(vec![
                NestedField::optional(1, "name", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::optional(2, "id", Type::Primitive(PrimitiveType::Long)).into(),
            ])
            .build()
            .unwrap()
    }

    fn field(source: &str, transform: &str) -> PartitionField {
        PartitionField { source: source.into(), transform: transform.into() }
    }

    #[test]
    fn names_follow_iceberg_java() {
        let spec = unbound_spec(&schema(), &[field("name", "identity"), field("id", "bucket[16]"), field("name", "truncate[4]")], "t")
            .unwrap();
        let names: Vec<_> = spec.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["name", "id_bucket", "name_trunc"]);
    }

    #[test]
    fn wrong_columns_and_transforms_are_explained() {
        let err = unbound_spec(&schema(), &[field("nope", "identity")], "gold.t").unwrap_err();
        assert_eq!(err.to_string(), "Table 'gold.t' has no column 'nope' to partition by. Fix: name a top-level column of the table");
        let err = unbound_spec(&schema(), &[field("name", "day")], "gold.t").unwrap_err();
        assert!(err.to_string().starts_with("Column 'name' of table 'gold.t' is of type string, which cannot be partitioned by day"), "{err}");
    }
}
