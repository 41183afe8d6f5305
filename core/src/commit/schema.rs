//! DuckDB column types as an Iceberg schema, for CREATE TABLE and CREATE TABLE AS.
//!
//! ```
//! use floe_core::commit::schema::{iceberg_schema, DuckColumn};
//! let columns: Vec<DuckColumn> = serde_json::from_str(
//!     r#"[{"name":"id","type":{"id":"BIGINT"},"nullable":false},
//!         {"name":"price","type":{"id":"DECIMAL","width":12,"scale":2},"nullable":true}]"#).unwrap();
//! let schema = iceberg_schema(&columns, "gold.metrics").unwrap();
//! assert_eq!(schema.as_struct().fields().len(), 2);
//! ```
//!
//! Narrow integer types widen to Iceberg's int and long (the writer casts them); types Iceberg
//! cannot store are refused with the column named and a cast to use instead.

use iceberg::spec::{ListType, MapType, NestedField, PrimitiveType, Schema, StructType, Type};
use serde::Deserialize;

use crate::error::{Error, Result};

/// A DuckDB type as the glue describes it: the LogicalTypeId name and its parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct DuckType {
    pub id: String,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub scale: Option<u32>,
    #[serde(default)]
    pub children: Vec<DuckColumn>,
    #[serde(default)]
    pub child: Option<Box<DuckType>>,
    #[serde(default)]
    pub key: Option<Box<DuckType>>,
    #[serde(default)]
    pub value: Option<Box<DuckType>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DuckColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: DuckType,
    #[serde(default = "yes")]
    pub nullable: bool,
}

fn yes() -> bool {
    true
}

/// Field ids are handed out depth-first from 1; the catalog may renumber them on create, and
/// floe always writes with the ids the catalog returns.
struct Ids(i32);

impl Ids {
    fn next(&mut self) -> i32 {
        self.0 += 1;
        self.0
    }
}

pub fn iceberg_schema(columns: &[DuckColumn], table: &str) -> Result<Schema> {
    iceberg_schema_from(columns, table, 0)
}

/// The schema with field ids after `last_id` (a replaced table keeps its ids increasing).
pub fn iceberg_schema_from(columns: &[DuckColumn], table: &str, last_id: i32) -> Result<Schema> {
    let mut ids = Ids(last_id);
    let fields = columns.iter().map(|c| field(c, &mut ids, table, &c.name)).collect::<Result<Vec<_>>>()?;
    Schema::builder()
        .with_fields(fields)
        .build()
        .map_err(|e| Error::invalid_input(format!("Table '{table}' cannot be created: {e}")))
}

/// A new field for `column` (ALTER TABLE ... ADD COLUMN), its ids after `last_id`; returns it
/// with the last id it used.
pub(crate) fn new_field(
    column: &DuckColumn,
    last_id: i32,
    table: &str,
    path: &str,
) -> Result<(iceberg::spec::NestedFieldRef, i32)> {
    let mut ids = Ids(last_id);
    let field = field(column, &mut ids, table, path)?;
    Ok((field, ids.0))
}

/// The Iceberg type DuckDB type `ty` is stored as (ALTER COLUMN ... TYPE); nested types get
/// throwaway field ids.
pub(crate) fn stored_type(ty: &DuckType, table: &str, path: &str) -> Result<Type> {
    iceberg_type(ty, &mut Ids(0), table, path)
}

fn field(column: &DuckColumn, ids: &mut Ids, table: &str, path: &str) -> Result<iceberg::spec::NestedFieldRef> {
    let id = ids.next();
    let ty = iceberg_type(&column.ty, ids, table, path)?;
    let field = if column.nullable {
        NestedField::optional(id, &column.name, ty)
    } else {
        NestedField::required(id, &column.name, ty)
    };
    Ok(field.into())
}

fn iceberg_type(ty: &DuckType, ids: &mut Ids, table: &str, path: &str) -> Result<Type> {
    use PrimitiveType as P;
    let primitive = |p: P| Ok(Type::Primitive(p));
    match ty.id.as_str() {
        "BOOLEAN" => primitive(P::Boolean),
        "TINYINT" | "SMALLINT" | "INTEGER" | "UTINYINT" | "USMALLINT" => primitive(P::Int),
        "BIGINT" | "UINTEGER" => primitive(P::Long),
        "UBIGINT" => primitive(P::Decimal { precision: 20, scale: 0 }),
        "HUGEINT" | "UHUGEINT" => primitive(P::Decimal { precision: 38, scale: 0 }),
        "FLOAT" => primitive(P::Float),
        "DOUBLE" => primitive(P::Double),
        "DECIMAL" => primitive(P::Decimal { precision: ty.width.unwrap_or(18), scale: ty.scale.unwrap_or(3) }),
        "DATE" => primitive(P::Date),
        "TIME" => primitive(P::Time),
        "TIMESTAMP" | "TIMESTAMP_S" | "TIMESTAMP_MS" => primitive(P::Timestamp),
        "TIMESTAMP WITH TIME ZONE" => primitive(P::Timestamptz),
        "VARCHAR" | "CHAR" | "ENUM" => primitive(P::String),
        "UUID" => primitive(P::Uuid),
        "BLOB" => primitive(P::Binary),
        "STRUCT" => {
            let fields = ty
                .children
                .iter()
                .map(|c| field(c, ids, table, &format!("{path}.{}", c.name)))
                .collect::<Result<Vec<_>>>()?;
            Ok(Type::Struct(StructType::new(fields)))
        }
        "LIST" | "ARRAY" => {
            let child = ty.child.as_deref().ok_or_else(|| malformed(table, path))?;
            let id = ids.next();
            let element = iceberg_type(child, ids, table, &format!("{path}[]"))?;
            Ok(Type::List(ListType::new(NestedField::list_element(id, element, false).into())))
        }
        "MAP" => {
            let (key, value) = match (&ty.key, &ty.value) {
                (Some(k), Some(v)) => (k, v),
                _ => return Err(malformed(table, path)),
            };
            let key_id = ids.next();
            let key_type = iceberg_type(key, ids, table, &format!("{path}.key"))?;
            let value_id = ids.next();
            let value_type = iceberg_type(value, ids, table, &format!("{path}.value"))?;
            Ok(Type::Map(MapType::new(
                NestedField::map_key_element(key_id, key_type).into(),
                NestedField::map_value_element(value_id, value_type, false).into(),
            )))
        }
        other => Err(unsupported(other, table, path)),
    }
}

fn unsupported(type_id: &str, table: &str, path: &str) -> Error {
    let fix = match type_id {
        "TIMESTAMP_NS" => "cast it to TIMESTAMP (microseconds, Iceberg format version 2)",
        "TIME WITH TIME ZONE" | "TIME_NS" => "cast it to TIME",
        "INTERVAL" => "store it as BIGINT microseconds or as VARCHAR",
        "UNION" | "VARIANT" => "store it as VARCHAR (e.g. JSON) or split it into columns",
        "BIT" => "cast it to BLOB or VARCHAR",
        _ => "cast it to a type Iceberg stores (see the README's type table)",
    };
    Error::unsupported(format!(
        "Column '{path}' of table '{table}' has DuckDB type {type_id}, which Iceberg cannot store"
    ))
    .with_fix(fix)
}

fn malformed(table: &str, path: &str) -> Error {
    Error::internal(format!("the type of column '{path}' of table '{table}' came without its element types"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Vec<DuckColumn> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn nested_types_get_fresh_ids() {
        let schema = iceberg_schema(
            &parse(
                r#"[{"name":"id","type":{"id":"TINYINT"},"nullable":false},
                    {"name":"s","type":{"id":"STRUCT","children":[{"name":"x","type":{"id":"DOUBLE"}}]}},
                    {"name":"l","type":{"id":"LIST","child":{"id":"VARCHAR"}}},
                    {"name":"m","type":{"id":"MAP","key":{"id":"VARCHAR"},"value":{"id":"HUGEINT"}}}]"#,
            ),
            "t",
        )
        .unwrap();
        let text = serde_json::to_string(&schema).unwrap();
        assert!(text.contains(r#""id":1,"name":"id","required":true,"type":"int""#), "{text}");
        assert!(text.contains(r#""element-id":5"#), "{text}");
        assert!(text.contains(r#""value":"decimal(38, 0)""#) || text.contains(r#""value":"decimal(38,0)""#), "{text}");
    }

    #[test]
    fn unstorable_types_name_the_column_and_the_cast() {
        let err = iceberg_schema(
            &parse(r#"[{"name":"s","type":{"id":"STRUCT","children":[{"name":"every","type":{"id":"INTERVAL"}}]}}]"#),
            "gold.m",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Column 's.every' of table 'gold.m' has DuckDB type INTERVAL, which Iceberg cannot store. Fix: store it as BIGINT microseconds or as VARCHAR"
        );
    }
}
