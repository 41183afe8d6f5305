//! The SQL pieces a restricted read is written in: quoted names, typed literals, and the path
//! to a (possibly nested) column by field id.

use iceberg::spec::{NestedFieldRef, PrimitiveType, Schema, Type};
use serde_json::Value;

use crate::error::Result;
use crate::types::primitive_sql;

pub fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The DuckDB type of `ty` as SQL spells it.
pub fn duck_type(ty: &PrimitiveType) -> Result<String> {
    primitive_sql(ty)
        .ok_or_else(|| super::cannot_apply(format!("it names a column of type {ty}, which DuckDB cannot read")))
}

/// The DuckDB type of any Iceberg type as SQL spells it.
pub fn duck_type_of(ty: &Type) -> Result<String> {
    Ok(match ty {
        Type::Primitive(primitive) => duck_type(primitive)?,
        Type::List(list) => format!("{}[]", duck_type_of(&list.element_field.field_type)?),
        Type::Map(map) => {
            format!("MAP({}, {})", duck_type_of(&map.key_field.field_type)?, duck_type_of(&map.value_field.field_type)?)
        }
        Type::Struct(fields) => format!(
            "STRUCT({})",
            fields
                .fields()
                .iter()
                .map(|field| Ok(format!("{} {}", identifier(&field.name), duck_type_of(&field.field_type)?)))
                .collect::<Result<Vec<_>>>()?
                .join(", ")
        ),
    })
}

/// `value` (the REST spec's JSON single-value form) as a SQL literal of column type `ty`. Only
/// numbers and quoted strings reach the SQL text: nothing in a catalog's answer can end a literal.
pub fn literal(value: &Value, ty: &PrimitiveType) -> Result<String> {
    let wrong = || super::cannot_apply(format!("its row filter compares a {ty} column with {value}"));
    let text = match (ty, value) {
        (PrimitiveType::Boolean, Value::Bool(flag)) => return Ok(if *flag { "TRUE" } else { "FALSE" }.to_string()),
        (PrimitiveType::String, Value::String(text)) => return Ok(string(text)),
        (PrimitiveType::Binary | PrimitiveType::Fixed(_), Value::String(hex)) => {
            if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(wrong());
            }
            return Ok(format!("from_hex('{hex}')"));
        }
        (
            PrimitiveType::Int
            | PrimitiveType::Long
            | PrimitiveType::Float
            | PrimitiveType::Double
            | PrimitiveType::Decimal { .. },
            Value::Number(number),
        ) => number.to_string(),
        (PrimitiveType::Decimal { .. }, Value::String(text)) if text.parse::<f64>().is_ok() => string(text),
        (
            PrimitiveType::Date
            | PrimitiveType::Time
            | PrimitiveType::Timestamp
            | PrimitiveType::Timestamptz
            | PrimitiveType::TimestampNs
            | PrimitiveType::TimestamptzNs
            | PrimitiveType::Uuid,
            Value::String(text),
        ) => string(text),
        _ => return Err(wrong()),
    };
    Ok(format!("CAST({text} AS {})", duck_type(ty)?))
}

/// A column of the table by field id: a top-level column or a field of (nested) structs. Fields
/// inside lists and maps have no single value per row and cannot be addressed.
pub struct ColumnPath {
    names: Vec<String>,
    field: NestedFieldRef,
}

impl ColumnPath {
    pub fn resolve(schema: &Schema, field_id: i32) -> Result<Self> {
        fn walk(fields: &[NestedFieldRef], id: i32, names: &mut Vec<String>) -> Option<NestedFieldRef> {
            for field in fields {
                names.push(field.name.clone());
                if field.id == id {
                    return Some(field.clone());
                }
                if let Type::Struct(nested) = &*field.field_type {
                    if let Some(found) = walk(nested.fields(), id, names) {
                        return Some(found);
                    }
                }
                names.pop();
            }
            None
        }
        let mut names = Vec::new();
        match walk(schema.as_struct().fields(), field_id, &mut names) {
            Some(field) => Ok(Self { names, field }),
            None if schema.field_by_id(field_id).is_some() => Err(super::cannot_apply(format!(
                "it names field id {field_id} ('{}'), which is inside a list or map",
                schema.name_by_field_id(field_id).unwrap_or_default()
            ))),
            None => Err(super::cannot_apply(format!("it names field id {field_id}, which the table does not have"))),
        }
    }

    pub fn primitive(&self) -> Option<&PrimitiveType> {
        self.field.field_type.as_primitive_type()
    }

    /// The column's value in SQL, its top-level column qualified by `source`.
    pub fn sql(&self, source: &str) -> String {
        let mut sql = format!("{source}.{}", identifier(&self.names[0]));
        for name in &self.names[1..] {
            sql = format!("struct_extract({sql}, {})", string(name));
        }
        sql
    }

    pub fn display(&self) -> String {
        self.names.join(".")
    }
}
