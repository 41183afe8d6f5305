//! Partition specs: `PARTITIONED BY` keys as DuckDB parsed them become Iceberg partition fields,
//! and a table's spec goes to the glue as resolved transforms it computes partition values with.
//!
//! ```
//! use floe_core::commit::partitioning::{partition_fields, unbound_spec, PartitionKey};
//! use iceberg::spec::{NestedField, PrimitiveType, Schema, Type};
//! let schema = Schema::builder()
//!     .with_fields(vec![NestedField::optional(1, "ts", Type::Primitive(PrimitiveType::Timestamp)).into()])
//!     .build().unwrap();
//! let key = PartitionKey {
//!     expression: "day(ts)".into(),
//!     function: Some("day".into()),
//!     columns: vec!["ts".into()],
//!     constants: vec![],
//! };
//! let fields = partition_fields(&[key]).unwrap();
//! let spec = unbound_spec(&schema, &fields, "gold.events").unwrap();
//! assert_eq!(spec.fields()[0].name, "ts_day");
//! ```

use iceberg::spec::{Schema, Transform, UnboundPartitionSpec};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const TRANSFORMS_FIX: &str =
    "use the column itself, year(col), month(col), day(col), hour(col), bucket(N, col) or truncate(W, col)";

/// One `PARTITIONED BY` (or `SORTED BY`) key as DuckDB parsed it: a bare column, or a function
/// applied to columns and constants.
#[derive(Debug, Clone, Deserialize)]
pub struct PartitionKey {
    /// The key as written, for messages: `bucket(16, id)`.
    pub expression: String,
    /// The function applied; `None` for anything that is not a function call.
    #[serde(default)]
    pub function: Option<String>,
    /// Arguments that are column references, by name.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Arguments that are constants, as text.
    #[serde(default)]
    pub constants: Vec<String>,
}

/// A partition field to add to a spec: its source column and Iceberg transform.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionField {
    /// The source column's name.
    pub source: String,
    pub transform: Transform,
}

impl PartitionKey {
    /// The Iceberg partition field this key asks for.
    pub fn field(&self) -> Result<PartitionField> {
        self.transform_of_column("partition")
    }

    /// The column and transform this key names; `purpose` (partition, sort) words the refusal.
    pub(crate) fn transform_of_column(&self, purpose: &str) -> Result<PartitionField> {
        let [source] = self.columns.as_slice() else {
            return Err(self.not_a_transform(purpose));
        };
        let function = self.function.as_deref().map(str::to_ascii_lowercase);
        let transform = match (function.as_deref(), self.constants.as_slice()) {
            (None, []) => Transform::Identity,
            (Some("year"), []) => Transform::Year,
            (Some("month"), []) => Transform::Month,
            (Some("day"), []) => Transform::Day,
            (Some("hour"), []) => Transform::Hour,
            (Some("bucket"), [count]) => Transform::Bucket(self.parameter("bucket", "number of buckets", count)?),
            (Some("truncate"), [width]) => Transform::Truncate(self.parameter("truncate", "width", width)?),
            _ => return Err(self.not_a_transform(purpose)),
        };
        Ok(PartitionField { source: source.clone(), transform })
    }

    fn not_a_transform(&self, purpose: &str) -> Error {
        Error::invalid_input(format!("'{}' is not an Iceberg {purpose} transform", self.expression))
            .with_fix(TRANSFORMS_FIX)
    }

    fn parameter(&self, transform: &str, what: &str, text: &str) -> Result<u32> {
        match text.parse::<u32>() {
            Ok(value) if value > 0 && value <= i32::MAX as u32 => Ok(value),
            _ => Err(Error::invalid_input(format!(
                "'{}': the {what} of {transform} must be a positive whole number, not '{text}'",
                self.expression
            ))
            .with_fix(format!("write {transform}(N, col) with N > 0, e.g. {transform}(16, col)"))),
        }
    }
}

/// The partition fields of `keys`, in order.
pub fn partition_fields(keys: &[PartitionKey]) -> Result<Vec<PartitionField>> {
    keys.iter().map(PartitionKey::field).collect()
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
        let transform = field.transform;
        check_transform_applies(field, &source.field_type, table, "partitioned", "")?;
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

/// A field of a table's partition spec as the glue computes it: the transform's name and its
/// parameter (bucket count, truncate width) apart, so nothing downstream parses `bucket[16]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedPartitionField {
    pub source_id: i32,
    pub name: String,
    /// `identity`, `year`, `month`, `day`, `hour`, `bucket`, `truncate`, `void` or `unknown`.
    pub transform: &'static str,
    /// N of bucket[N], W of truncate[W]; `None` for the others.
    pub parameter: Option<u32>,
}

impl From<&iceberg::spec::PartitionField> for ResolvedPartitionField {
    fn from(field: &iceberg::spec::PartitionField) -> Self {
        let (transform, parameter) = transform_parts(field.transform);
        ResolvedPartitionField { source_id: field.source_id, name: field.name.clone(), transform, parameter }
    }
}

/// Refuses `field`'s transform where it does not apply to its column's type `ty`; `verb`
/// (partitioned, sorted) and `also` (a further way out, appended to the fix) word the refusal.
pub(crate) fn check_transform_applies(
    field: &PartitionField,
    ty: &iceberg::spec::Type,
    table: &str,
    verb: &str,
    also: &str,
) -> Result<()> {
    if field.transform.result_type(ty).is_ok() {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "Column '{}' of table '{table}' is of type {ty}, which cannot be {verb} by {}",
        field.source, field.transform
    ))
    .with_fix(format!(
        "year/month/day/hour apply to dates and timestamps, truncate to numbers and strings, bucket to most types{also}"
    )))
}

/// A transform's name and its parameter, as the glue computes it.
pub(crate) fn transform_parts(transform: Transform) -> (&'static str, Option<u32>) {
    match transform {
        Transform::Identity => ("identity", None),
        Transform::Year => ("year", None),
        Transform::Month => ("month", None),
        Transform::Day => ("day", None),
        Transform::Hour => ("hour", None),
        Transform::Bucket(count) => ("bucket", Some(count)),
        Transform::Truncate(width) => ("truncate", Some(width)),
        Transform::Void => ("void", None),
        Transform::Unknown => ("unknown", None),
    }
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{NestedField, PrimitiveType, Type};

    use super::*;
    use crate::ErrorKind;

    fn schema() -> Schema {
        Schema::builder()
            .with_fields(vec![
                NestedField::optional(1, "name", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::optional(2, "id", Type::Primitive(PrimitiveType::Long)).into(),
            ])
            .build()
            .unwrap()
    }

    fn key(expression: &str, function: Option<&str>, columns: &[&str], constants: &[&str]) -> PartitionKey {
        PartitionKey {
            expression: expression.into(),
            function: function.map(str::to_string),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            constants: constants.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn field(source: &str, transform: Transform) -> PartitionField {
        PartitionField { source: source.into(), transform }
    }

    #[test]
    fn keys_become_transforms() {
        let fields = partition_fields(&[
            key("region", None, &["region"], &[]),
            key("DAY(ts)", Some("DAY"), &["ts"], &[]),
            key("bucket(16, id)", Some("bucket"), &["id"], &["16"]),
            key("truncate(4, name)", Some("truncate"), &["name"], &["4"]),
        ])
        .unwrap();
        assert_eq!(
            fields,
            [
                field("region", Transform::Identity),
                field("ts", Transform::Day),
                field("id", Transform::Bucket(16)),
                field("name", Transform::Truncate(4)),
            ]
        );
    }

    #[test]
    fn other_expressions_are_refused_with_the_transforms_to_use() {
        for bad in [
            key("(id + 1)", Some("+"), &["id"], &["1"]),
            key("42", None, &[], &["42"]),
            key("day(ts, 2)", Some("day"), &["ts"], &["2"]),
            key("bucket(id)", Some("bucket"), &["id"], &[]),
            key("years(ts)", Some("years"), &["ts"], &[]),
            key("bucket(a, b)", Some("bucket"), &["a", "b"], &[]),
        ] {
            let err = bad.field().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(
                err.to_string(),
                format!("'{}' is not an Iceberg partition transform. Fix: {TRANSFORMS_FIX}", bad.expression)
            );
        }
    }

    #[test]
    fn bucket_counts_and_widths_must_be_positive_numbers() {
        let err = key("bucket(0, id)", Some("bucket"), &["id"], &["0"]).field().unwrap_err();
        assert_eq!(
            err.to_string(),
            "'bucket(0, id)': the number of buckets of bucket must be a positive whole number, not '0'. Fix: write \
             bucket(N, col) with N > 0, e.g. bucket(16, col)"
        );
        let err = key("truncate('x', name)", Some("truncate"), &["name"], &["x"]).field().unwrap_err();
        assert!(err.to_string().starts_with("'truncate('x', name)': the width of truncate must be"), "{err}");
    }

    #[test]
    fn names_follow_iceberg_java() {
        let fields = [
            field("name", Transform::Identity),
            field("id", Transform::Bucket(16)),
            field("name", Transform::Truncate(4)),
        ];
        let spec = unbound_spec(&schema(), &fields, "t").unwrap();
        let names: Vec<_> = spec.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["name", "id_bucket", "name_trunc"]);
    }

    #[test]
    fn wrong_columns_and_transforms_are_explained() {
        let err = unbound_spec(&schema(), &[field("nope", Transform::Identity)], "gold.t").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Table 'gold.t' has no column 'nope' to partition by. Fix: name a top-level column of the table"
        );
        let err = unbound_spec(&schema(), &[field("name", Transform::Day)], "gold.t").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Column 'name' of table 'gold.t' is of type string, which cannot be partitioned by day"),
            "{err}"
        );
    }

    #[test]
    fn specs_resolve_to_transform_and_parameter() {
        let spec =
            unbound_spec(&schema(), &[field("id", Transform::Bucket(16)), field("name", Transform::Identity)], "t")
                .unwrap()
                .bind(schema())
                .unwrap();
        let resolved: Vec<ResolvedPartitionField> = spec.fields().iter().map(Into::into).collect();
        assert_eq!(
            resolved[0],
            ResolvedPartitionField { source_id: 2, name: "id_bucket".into(), transform: "bucket", parameter: Some(16) }
        );
        assert_eq!(resolved[1].transform, "identity");
        assert_eq!(resolved[1].parameter, None);
    }
}
