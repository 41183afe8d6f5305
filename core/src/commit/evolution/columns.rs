//! Column edits on an Iceberg schema, addressed by a path of names (`s.a` is field `a` of struct
//! column `s`). Names match as DuckDB matches them: exactly, else ignoring case.
//!
//! Hand-written because the `iceberg` crate's `UpdateSchemaAction` only adds and deletes
//! columns, and only inside its own commit; floe also renames, promotes, relaxes and documents,
//! and re-applies the edits itself on a table reloaded after a lost race.

use std::sync::Arc;

use iceberg::spec::{NestedField, NestedFieldRef, Schema, StructType, Type};

use crate::error::{Error, Result};

/// The field named `name` among `fields`.
pub fn find<'f>(fields: &'f [NestedFieldRef], name: &str) -> Option<(usize, &'f NestedFieldRef)> {
    fields
        .iter()
        .enumerate()
        .find(|(_, f)| f.name == name)
        .or_else(|| fields.iter().enumerate().find(|(_, f)| f.name.eq_ignore_ascii_case(name)))
}

/// The field at `path`, if there is one.
pub fn field_at<'s>(schema: &'s Schema, path: &[String]) -> Option<&'s NestedFieldRef> {
    let (first, rest) = path.split_first()?;
    let (_, mut field) = find(schema.as_struct().fields(), first)?;
    for name in rest {
        let Type::Struct(inner) = field.field_type.as_ref() else { return None };
        field = find(inner.fields(), name)?.1;
    }
    Some(field)
}

/// The fields of the struct at `parent` (the table's columns for an empty path).
pub fn fields_of<'s>(schema: &'s Schema, parent: &[String], table: &str) -> Result<&'s [NestedFieldRef]> {
    if parent.is_empty() {
        return Ok(schema.as_struct().fields());
    }
    match field_at(schema, parent).map(|f| f.field_type.as_ref()) {
        Some(Type::Struct(inner)) => Ok(inner.fields()),
        Some(_) => Err(Error::invalid_input(format!(
            "Column '{}' of table '{table}' is not a struct: it has no fields to add",
            parent.join(".")
        ))
        .with_fix("add a top-level column instead")),
        None => Err(missing(parent, table)),
    }
}

/// `schema` with the field at `path` replaced by what `edit` makes of it (removed if `None`).
pub fn edit(
    schema: &Schema,
    path: &[String],
    table: &str,
    edit: impl FnOnce(&NestedFieldRef) -> Result<Option<NestedFieldRef>>,
) -> Result<Schema> {
    let fields = edit_in(schema.as_struct().fields(), path, table, path, edit)?;
    rebuild(schema, fields, table)
}

/// `schema` with `field` added to the struct at `parent` (the top level for an empty path).
pub fn add(schema: &Schema, parent: &[String], field: NestedFieldRef, table: &str) -> Result<Schema> {
    if parent.is_empty() {
        let mut fields = schema.as_struct().fields().to_vec();
        fields.push(field);
        return rebuild(schema, fields, table);
    }
    edit(schema, parent, table, |existing| {
        let Type::Struct(inner) = existing.field_type.as_ref() else {
            return Err(Error::internal(format!("'{}' is no struct", parent.join("."))));
        };
        let mut fields = inner.fields().to_vec();
        fields.push(field);
        Ok(Some(with_type(existing, Type::Struct(StructType::new(fields)))))
    })
}

/// A copy of `field` with another type.
pub fn with_type(field: &NestedField, ty: Type) -> NestedFieldRef {
    let mut changed = field.clone();
    changed.field_type = Box::new(ty);
    Arc::new(changed)
}

/// The ids of `field` and of every field nested in it.
pub fn ids_within(field: &NestedField) -> Vec<i32> {
    let mut ids = vec![field.id];
    match field.field_type.as_ref() {
        Type::Struct(inner) => inner.fields().iter().for_each(|f| ids.extend(ids_within(f))),
        Type::List(list) => ids.extend(ids_within(&list.element_field)),
        Type::Map(map) => {
            ids.extend(ids_within(&map.key_field));
            ids.extend(ids_within(&map.value_field));
        }
        Type::Primitive(_) => {}
    }
    ids
}

pub fn missing(path: &[String], table: &str) -> Error {
    Error::invalid_input(format!("Table '{table}' has no column '{}'", path.join(".")))
        .with_fix("check the name with DESCRIBE; nested fields are written struct_column.field")
}

fn edit_in(
    fields: &[NestedFieldRef],
    path: &[String],
    table: &str,
    full: &[String],
    edit: impl FnOnce(&NestedFieldRef) -> Result<Option<NestedFieldRef>>,
) -> Result<Vec<NestedFieldRef>> {
    let Some((first, rest)) = path.split_first() else { return Err(missing(full, table)) };
    let Some((index, field)) = find(fields, first) else { return Err(missing(full, table)) };
    let mut result = fields.to_vec();
    let replacement = if rest.is_empty() {
        edit(field)?
    } else {
        let Type::Struct(inner) = field.field_type.as_ref() else { return Err(missing(full, table)) };
        let inner = edit_in(inner.fields(), rest, table, full, edit)?;
        Some(with_type(field, Type::Struct(StructType::new(inner))))
    };
    match replacement {
        Some(changed) => result[index] = changed,
        None => {
            result.remove(index);
        }
    }
    Ok(result)
}

fn rebuild(schema: &Schema, fields: Vec<NestedFieldRef>, table: &str) -> Result<Schema> {
    Schema::builder()
        .with_fields(fields)
        .with_identifier_field_ids(schema.identifier_field_ids())
        .build()
        .map_err(|e| Error::invalid_input(format!("The new schema of table '{table}' is not valid: {e}")))
}
