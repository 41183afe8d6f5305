//! Columns of Iceberg type `fixed(L)` cannot be written by DuckDB: it has no fixed-length binary
//! type, so its Parquet writer stores BLOB values as variable-length `binary`, a type other
//! engines refuse to read as `fixed(L)` (PyIceberg: "Cannot promote an binary to fixed[16]"),
//! which would leave the whole table unreadable to them. Writes into such a table are refused
//! when they are planned, before any file is written.

use iceberg::spec::{NestedFieldRef, PrimitiveType, Schema, Type};

use crate::error::{Error, Result};

/// Fails, naming `table`, the column and the fix, when `schema` has a `fixed(L)` field at any
/// depth.
pub fn check_no_fixed_columns(table: &str, schema: &Schema) -> Result<()> {
    let Some((column, length)) = schema.as_struct().fields().iter().find_map(|field| fixed_field(field, "")) else {
        return Ok(());
    };
    Err(Error::unsupported(format!(
        "cannot write into table '{table}': its column '{column}' is of Iceberg type fixed[{length}], which DuckDB cannot write (it has no fixed-length binary type; its BLOB values would be stored as variable-length binary, which other engines refuse to read as fixed[{length}])"
    ))
    .with_fix(format!(
        "write this table with an engine that writes fixed-length binary (PyIceberg, Spark), or copy its rows into a new table whose column '{column}' is a BLOB (CREATE TABLE ... AS SELECT) and write that one"
    )))
}

/// The first `fixed(L)` field under `field` (itself included), as its dotted name and length.
fn fixed_field(field: &NestedFieldRef, prefix: &str) -> Option<(String, u64)> {
    let name = format!("{prefix}{}", field.name);
    match field.field_type.as_ref() {
        Type::Primitive(PrimitiveType::Fixed(length)) => Some((name, *length)),
        Type::Primitive(_) => None,
        Type::Struct(fields) => fields.fields().iter().find_map(|child| fixed_field(child, &format!("{name}."))),
        Type::List(list) => fixed_field(&list.element_field, &format!("{name}.")),
        Type::Map(map) => fixed_field(&map.key_field, &format!("{name}."))
            .or_else(|| fixed_field(&map.value_field, &format!("{name}."))),
    }
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{ListType, MapType, NestedField, StructType};

    use super::*;
    use crate::ErrorKind;

    fn schema(fields: Vec<NestedFieldRef>) -> Schema {
        Schema::builder().with_fields(fields).build().unwrap()
    }

    fn primitive(id: i32, name: &str, ty: PrimitiveType) -> NestedFieldRef {
        NestedField::optional(id, name, Type::Primitive(ty)).into()
    }

    #[test]
    fn tables_without_fixed_columns_are_writable() {
        let flat = schema(vec![primitive(1, "id", PrimitiveType::Long), primitive(2, "b", PrimitiveType::Binary)]);
        assert!(check_no_fixed_columns("e.t", &flat).is_ok());
    }

    #[test]
    fn a_fixed_column_names_the_table_the_column_and_the_fix() {
        let table =
            schema(vec![primitive(1, "id", PrimitiveType::Long), primitive(2, "digest", PrimitiveType::Fixed(16))]);
        let err = check_no_fixed_columns("e.t", &table).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(
            err.message()
                .starts_with("cannot write into table 'e.t': its column 'digest' is of Iceberg type fixed[16]"),
            "{err}"
        );
        assert!(err.fix().unwrap().contains("whose column 'digest' is a BLOB"), "{err}");
    }

    #[test]
    fn a_fixed_field_inside_a_struct_a_list_or_a_map_is_found() {
        let inner = StructType::new(vec![primitive(3, "hash", PrimitiveType::Fixed(8))]);
        let nested = schema(vec![NestedField::optional(2, "meta", Type::Struct(inner)).into()]);
        assert!(check_no_fixed_columns("e.t", &nested).unwrap_err().message().contains("column 'meta.hash'"));

        let list = ListType {
            element_field: NestedField::list_element(3, Type::Primitive(PrimitiveType::Fixed(4)), false).into(),
        };
        let in_list = schema(vec![NestedField::optional(2, "codes", Type::List(list)).into()]);
        assert!(check_no_fixed_columns("e.t", &in_list).unwrap_err().message().contains("column 'codes.element'"));

        let map = MapType {
            key_field: NestedField::map_key_element(3, Type::Primitive(PrimitiveType::String)).into(),
            value_field: NestedField::map_value_element(4, Type::Primitive(PrimitiveType::Fixed(2)), false).into(),
        };
        let in_map = schema(vec![NestedField::optional(2, "by", Type::Map(map)).into()]);
        assert!(check_no_fixed_columns("e.t", &in_map).unwrap_err().message().contains("column 'by.value'"));
    }
}
