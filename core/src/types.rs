//! Iceberg types as DuckDB sees them.
//!
//! A schema becomes a tree of [`Column`]s: each carries its Iceberg field id (DuckDB's Parquet
//! reader matches file columns by it, so renamed and re-added columns read right) and a DuckDB
//! type `kind` that the glue turns into a `LogicalType` without further decisions.
//!
//! ```
//! use iceberg::spec::{NestedField, PrimitiveType, Schema, Type};
//! let schema = Schema::builder()
//!     .with_fields(vec![NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into()])
//!     .build()
//!     .unwrap();
//! let columns = floe_core::types::columns(&schema).unwrap();
//! assert_eq!((columns[0].kind, columns[0].field_id), ("BIGINT", 1));
//! ```

use iceberg::spec::{Literal, NestedFieldRef, PrimitiveType, Schema, Type};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::scan::value::Value;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Column {
    pub name: String,
    pub field_id: i32,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// DuckDB type name: a primitive (`INTEGER`, `DECIMAL`, ...) or `STRUCT`, `LIST`, `MAP`,
    /// whose element types are the `children` (list: `element`; map: `key`, `value`).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Column>,
    /// What rows of files written before the field existed read (format version 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_default: Option<Value>,
    /// What a write that omits the field stores (format version 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_default: Option<Value>,
}

/// The top-level columns of `schema`, in schema order.
pub fn columns(schema: &Schema) -> Result<Vec<Column>> {
    schema.as_struct().fields().iter().map(field).collect()
}

fn field(field: &NestedFieldRef) -> Result<Column> {
    let mut result = column(&field.name, field.id, field.required, field.doc.clone(), &field.field_type)?;
    result.initial_default = default_value(field.initial_default.as_ref(), &field.field_type);
    result.write_default = default_value(field.write_default.as_ref(), &field.field_type);
    Ok(result)
}

/// A field's default as a value; `None` also for defaults of nested types (only a struct's
/// empty default exists in Iceberg, and it equals reading each of its fields' own defaults).
fn default_value(default: Option<&Literal>, ty: &Type) -> Option<Value> {
    match (default?, ty) {
        (Literal::Primitive(literal), Type::Primitive(primitive)) => Value::from_literal(literal, primitive),
        _ => None,
    }
}

fn column(name: &str, field_id: i32, required: bool, doc: Option<String>, ty: &Type) -> Result<Column> {
    let mut result = Column {
        name: name.to_string(),
        field_id,
        required,
        doc,
        kind: "",
        width: None,
        scale: None,
        children: Vec::new(),
        initial_default: None,
        write_default: None,
    };
    match ty {
        Type::Primitive(primitive) => {
            result.kind = primitive_kind(primitive).ok_or_else(|| {
                Error::unsupported(format!("Column '{name}' has Iceberg type {primitive}, which DuckDB cannot read"))
            })?;
            if let PrimitiveType::Decimal { precision, scale } = primitive {
                result.width = Some(*precision);
                result.scale = Some(*scale);
            }
        }
        Type::Struct(fields) => {
            result.kind = "STRUCT";
            result.children = fields.fields().iter().map(self::field).collect::<Result<_>>()?;
        }
        Type::List(list) => {
            result.kind = "LIST";
            let element = &list.element_field;
            result.children = vec![column("element", element.id, element.required, None, &element.field_type)?];
        }
        Type::Map(map) => {
            result.kind = "MAP";
            let (key, value) = (&map.key_field, &map.value_field);
            result.children = vec![
                column("key", key.id, true, None, &key.field_type)?,
                column("value", value.id, value.required, None, &value.field_type)?,
            ];
        }
    }
    Ok(result)
}

/// The DuckDB type of an Iceberg primitive as SQL spells it (`DECIMAL(p,s)` with its width).
pub fn primitive_sql(primitive: &PrimitiveType) -> Option<String> {
    Some(match primitive {
        PrimitiveType::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
        other => primitive_kind(other)?.to_string(),
    })
}

fn primitive_kind(primitive: &PrimitiveType) -> Option<&'static str> {
    Some(match primitive {
        PrimitiveType::Boolean => "BOOLEAN",
        PrimitiveType::Int => "INTEGER",
        PrimitiveType::Long => "BIGINT",
        PrimitiveType::Float => "FLOAT",
        PrimitiveType::Double => "DOUBLE",
        PrimitiveType::Decimal { .. } => "DECIMAL",
        PrimitiveType::Date => "DATE",
        PrimitiveType::Time => "TIME",
        PrimitiveType::Timestamp => "TIMESTAMP",
        PrimitiveType::Timestamptz => "TIMESTAMP WITH TIME ZONE",
        PrimitiveType::TimestampNs => "TIMESTAMP_NS",
        // DuckDB has no nanosecond TIMESTAMPTZ; microseconds lose the last three digits only.
        PrimitiveType::TimestamptzNs => "TIMESTAMP WITH TIME ZONE",
        PrimitiveType::String => "VARCHAR",
        PrimitiveType::Uuid => "UUID",
        PrimitiveType::Fixed(_) | PrimitiveType::Binary => "BLOB",
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{ListType, MapType, NestedField, StructType};

    use super::*;

    fn primitive(id: i32, name: &str, ty: PrimitiveType) -> NestedFieldRef {
        NestedField::optional(id, name, Type::Primitive(ty)).into()
    }

    #[test]
    fn every_type_maps() {
        let schema = Schema::builder()
            .with_fields(vec![
                primitive(1, "b", PrimitiveType::Boolean),
                primitive(2, "d", PrimitiveType::Decimal { precision: 38, scale: 10 }),
                primitive(3, "f", PrimitiveType::Fixed(16)),
                primitive(4, "tz", PrimitiveType::Timestamptz),
                NestedField::optional(
                    5,
                    "s",
                    Type::Struct(StructType::new(vec![primitive(6, "x", PrimitiveType::Int)])),
                )
                .into(),
                NestedField::optional(
                    7,
                    "l",
                    Type::List(ListType::new(
                        NestedField::list_element(8, Type::Primitive(PrimitiveType::Long), false).into(),
                    )),
                )
                .into(),
                NestedField::required(
                    9,
                    "m",
                    Type::Map(MapType::new(
                        NestedField::map_key_element(10, Type::Primitive(PrimitiveType::String)).into(),
                        NestedField::map_value_element(11, Type::Primitive(PrimitiveType::Uuid), false).into(),
                    )),
                )
                .into(),
            ])
            .build()
            .unwrap();
        let columns = columns(&schema).unwrap();
        let kinds: Vec<_> = columns.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, ["BOOLEAN", "DECIMAL", "BLOB", "TIMESTAMP WITH TIME ZONE", "STRUCT", "LIST", "MAP"]);
        assert_eq!((columns[1].width, columns[1].scale), (Some(38), Some(10)));
        assert_eq!(columns[4].children[0].field_id, 6);
        assert_eq!((columns[5].children[0].name.as_str(), columns[5].children[0].field_id), ("element", 8));
        let map = &columns[6];
        assert!(map.required);
        assert_eq!(
            map.children.iter().map(|c| (c.name.as_str(), c.field_id, c.kind)).collect::<Vec<_>>(),
            [("key", 10, "VARCHAR"), ("value", 11, "UUID")]
        );
    }
}
