//! NOT NULL: a required field of the table's schema must not receive a NULL. DuckDB's writer
//! reports each file's null count per Parquet leaf column, and a leaf's count includes the rows
//! where an enclosing struct is NULL; so for a required leaf whose enclosing fields are all
//! required (structs), any null counted is a violation. Statements are checked when they hand
//! their files to the transaction, before anything is committed.
//!
//! Not decidable from these statistics, hence not checked: whether a required struct, list or
//! map is itself NULL when it has no required leaf under required structs, and fields inside
//! lists and maps (an empty list counts as a null of its element).

use iceberg::spec::{NestedFieldRef, Schema, Type};

use super::data_file::WrittenFile;
use crate::error::{Error, ErrorKind, Result};

/// Fails when a file of `files` has a NULL in a required field of `schema`, naming the
/// column and `table`; also when a file carries no null count for such a field, since then the
/// constraint cannot be shown to hold.
pub fn check_not_null(table: &str, schema: &Schema, files: &[WrittenFile]) -> Result<()> {
    let mut required = Vec::new();
    for field in schema.as_struct().fields() {
        required_leaves(field, "", &mut required);
    }
    for (field_id, column) in &required {
        let mut nulls = 0;
        for file in files.iter().filter(|f| f.record_count > 0) {
            let counted = file.columns.iter().find(|c| c.field_id == *field_id).and_then(|c| c.null_count);
            match counted {
                Some(n) => nulls += n,
                None => {
                    return Err(Error::internal(format!(
                        "NOT NULL column '{column}' of table '{table}' cannot be checked: the written file {} carries no null count for it; nothing was committed",
                        file.path
                    ))
                    .with_fix("report this as a floe bug, with the table's CREATE statement"))
                }
            }
        }
        if nulls > 0 {
            return Err(Error::new(ErrorKind::ConstraintViolation, format!(
                "NOT NULL constraint failed: column '{column}' of table '{table}' is required; {nulls} row(s) have NULL"
            ))
            .with_fix(format!(
                "filter or coalesce the NULLs (WHERE \"{column}\" IS NOT NULL, or coalesce(\"{column}\", ...)), or make the column optional in the table's schema with an engine that alters columns"
            )));
        }
    }
    Ok(())
}

/// The required primitive fields under `field` reached through required structs only, as
/// (field id, dotted column name).
fn required_leaves(field: &NestedFieldRef, prefix: &str, out: &mut Vec<(i32, String)>) {
    if !field.required {
        return;
    }
    let name = format!("{prefix}{}", field.name);
    match field.field_type.as_ref() {
        Type::Primitive(_) => out.push((field.id, name)),
        Type::Struct(fields) => {
            for child in fields.fields() {
                required_leaves(child, &format!("{name}."), out);
            }
        }
        Type::List(_) | Type::Map(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{ListType, NestedField, PrimitiveType, StructType};

    use super::*;
    use crate::commit::data_file::ColumnStats;

    fn int() -> Type {
        Type::Primitive(PrimitiveType::Int)
    }

    /// id INT NOT NULL, d DATE, point STRUCT(x INT NOT NULL, y INT) NOT NULL,
    /// maybe STRUCT(z INT NOT NULL), tags INT[] NOT NULL (elements required)
    fn schema() -> Schema {
        let point = StructType::new(vec![
            NestedField::required(4, "x", int()).into(),
            NestedField::optional(5, "y", int()).into(),
        ]);
        let maybe = StructType::new(vec![NestedField::required(7, "z", int()).into()]);
        let tags = ListType { element_field: NestedField::list_element(9, int(), true).into() };
        Schema::builder()
            .with_fields(vec![
                NestedField::required(1, "id", int()).into(),
                NestedField::optional(2, "d", Type::Primitive(PrimitiveType::Date)).into(),
                NestedField::required(3, "point", Type::Struct(point)).into(),
                NestedField::optional(6, "maybe", Type::Struct(maybe)).into(),
                NestedField::required(8, "tags", Type::List(tags)).into(),
            ])
            .build()
            .unwrap()
    }

    fn stats(field_id: i32, null_count: Option<u64>) -> ColumnStats {
        ColumnStats {
            field_id,
            value_count: Some(3),
            null_count,
            column_size: None,
            min: None,
            max: None,
            has_nan: None,
        }
    }

    /// A file of 3 rows with `nulls` (field id, null count) and no nulls elsewhere.
    fn file(nulls: &[(i32, Option<u64>)]) -> WrittenFile {
        let columns = [1, 2, 4, 5, 7, 9]
            .into_iter()
            .map(|id| stats(id, nulls.iter().find(|(f, _)| *f == id).map_or(Some(0), |(_, n)| *n)))
            .collect();
        WrittenFile {
            path: "s3://b/t/data/f.parquet".into(),
            record_count: 3,
            file_size: 100,
            columns,
            partition: vec![],
        }
    }

    #[test]
    fn rows_without_nulls_in_required_fields_pass() {
        assert!(check_not_null("e.nn", &schema(), &[file(&[]), file(&[(2, Some(3))])]).is_ok());
        // Optional fields may be NULL, and so may the required field of an optional struct
        // (its count includes the rows where the struct is NULL), and list elements (an empty
        // list counts as a NULL element).
        assert!(check_not_null("e.nn", &schema(), &[file(&[(5, Some(2)), (7, Some(3)), (9, Some(1))])]).is_ok());
        assert!(check_not_null("e.nn", &schema(), &[]).is_ok());
    }

    #[test]
    fn a_null_in_a_required_column_names_the_column_the_table_and_the_fix() {
        let err = check_not_null("e.nn", &schema(), &[file(&[(1, Some(1))]), file(&[(1, Some(2))])]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConstraintViolation);
        assert_eq!(
            err.message(),
            "NOT NULL constraint failed: column 'id' of table 'e.nn' is required; 3 row(s) have NULL"
        );
        assert!(err.fix().unwrap().starts_with("filter or coalesce the NULLs"), "{err}");
    }

    #[test]
    fn a_null_in_a_required_field_of_a_required_struct_fails() {
        let err = check_not_null("e.nn", &schema(), &[file(&[(4, Some(1))])]).unwrap_err();
        assert!(err.message().contains("column 'point.x' of table 'e.nn'"), "{err}");
    }

    #[test]
    fn a_missing_null_count_of_a_required_field_fails_rather_than_passes() {
        let err = check_not_null("e.nn", &schema(), &[file(&[(1, None)])]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert!(err.message().contains("column 'id' of table 'e.nn' cannot be checked"), "{err}");
        let mut without = file(&[]);
        without.columns.retain(|c| c.field_id != 4);
        assert!(check_not_null("e.nn", &schema(), &[without]).is_err());
        // A file without rows has nothing to check.
        let mut empty = file(&[(1, None)]);
        empty.record_count = 0;
        assert!(check_not_null("e.nn", &schema(), &[empty]).is_ok());
    }
}
