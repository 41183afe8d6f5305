//! Reads under the catalog's `read-restrictions` (the REST spec's LoadTable field; Rustberg sends
//! it for policies annotated `@row_filter` / `@column_mask`): the row filter and the column masks
//! become one SELECT over the table's raw columns, which the glue binds as a secure view in place
//! of the table. The filter is evaluated on the raw values, the masks apply to the rows it keeps,
//! and every column keeps its name and type. A restriction floe cannot apply exactly fails the
//! read, naming what it could not apply: it never returns the rows or values it hides.

mod masks;
mod row_filter;
mod sql;

use std::collections::BTreeMap;

use iceberg::spec::{NestedFieldRef, Schema, Type};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use sql::{identifier, string, ColumnPath};

/// The alias the raw table has in the restricted SELECT.
pub const SOURCE: &str = "restricted_source";

/// `SELECT {select} FROM <raw table> AS restricted_source WHERE {filter}`.
#[derive(Debug, Serialize, PartialEq)]
pub struct RestrictedRead {
    pub select: String,
    pub filter: String,
}

/// Fresh random bytes (hex) for `sha-256-query-local`, which the spec wants cryptographically
/// random and at least 16 bytes long: two version-4 UUIDs from the OS generator, 244 random bits.
/// One per table entry, so per table and transaction.
pub fn query_salt() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The restricted read of a table with `schema` (the schema of the snapshot read), or none when
/// `restrictions` asks for nothing. `salt_hex`: the random bytes of `sha-256-query-local`.
pub fn restricted_read(
    restrictions: Option<&Value>,
    schema: &Schema,
    salt_hex: &str,
) -> Result<Option<RestrictedRead>> {
    let Some(restrictions) = restrictions.filter(|r| !r.is_null()) else { return Ok(None) };
    let Some(fields) = restrictions.as_object() else {
        return Err(cannot_apply("they are not an object".to_string()));
    };
    if let Some(unknown) =
        fields.keys().find(|k| !matches!(k.as_str(), "required-row-filter" | "required-column-projections"))
    {
        return Err(cannot_apply(format!("they ask for '{unknown}', which floe does not know")));
    }
    let filter = fields.get("required-row-filter").filter(|f| !f.is_null());
    let masks = masks_by_field(fields.get("required-column-projections"))?;
    if filter.is_none() && masks.is_empty() {
        return Ok(None);
    }
    let filter = match filter {
        Some(filter) => row_filter::predicate(filter, schema, SOURCE)?,
        None => "TRUE".to_string(),
    };
    let mut used = Vec::new();
    let select = schema
        .as_struct()
        .fields()
        .iter()
        .map(|field| {
            let raw = format!("{SOURCE}.{}", identifier(&field.name));
            Ok(format!("{} AS {}", project(field, &raw, &masks, salt_hex, &mut used)?, identifier(&field.name)))
        })
        .collect::<Result<Vec<_>>>()?
        .join(", ");
    for field_id in masks.keys().filter(|id| !used.contains(id)) {
        // A column this snapshot's schema lacks has nothing to mask; one inside a list or map
        // cannot be masked by floe.
        if schema.field_by_id(*field_id).is_some() {
            ColumnPath::resolve(schema, *field_id)?;
            return Err(cannot_apply(format!("it masks field id {field_id}, which floe cannot reach")));
        }
    }
    Ok(Some(RestrictedRead { select, filter }))
}

/// The column-projection actions by field id; the spec makes a reader fail on a field named twice.
fn masks_by_field(projections: Option<&Value>) -> Result<BTreeMap<i32, String>> {
    let mut masks = BTreeMap::new();
    let Some(projections) = projections.filter(|p| !p.is_null()) else { return Ok(masks) };
    let Some(projections) = projections.as_array() else {
        return Err(cannot_apply("its column projections are not a list".to_string()));
    };
    for projection in projections {
        let field_id = projection.get("field-id").and_then(Value::as_i64).and_then(|id| i32::try_from(id).ok());
        let action = projection.get("action").and_then(Value::as_str);
        let (Some(field_id), Some(action)) = (field_id, action) else {
            return Err(cannot_apply(format!("it has a column projection without a field id or action: {projection}")));
        };
        if masks.insert(field_id, action.to_string()).is_some() {
            return Err(cannot_apply(format!("it names field id {field_id} in two column projections")));
        }
    }
    Ok(masks)
}

/// The SQL of `field` (raw value `raw`) with the masks on it or inside it applied.
fn project(
    field: &NestedFieldRef,
    raw: &str,
    masks: &BTreeMap<i32, String>,
    salt_hex: &str,
    used: &mut Vec<i32>,
) -> Result<String> {
    if let Some(action) = masks.get(&field.id) {
        used.push(field.id);
        if let Some(nested) = masks.keys().find(|id| *id != &field.id && contains(&field.field_type, **id)) {
            return Err(cannot_apply(format!(
                "it masks field id {nested} inside column '{}', which it masks as a whole too",
                field.name
            )));
        }
        return masks::masked(action, field, raw, salt_hex);
    }
    let Type::Struct(nested) = &*field.field_type else { return Ok(raw.to_string()) };
    if !masks.keys().any(|id| contains(&field.field_type, *id)) {
        return Ok(raw.to_string());
    }
    // Rebuilt field by field; a NULL struct stays NULL.
    let fields = nested
        .fields()
        .iter()
        .map(|child| {
            let value = format!("struct_extract({raw}, {})", string(&child.name));
            Ok(format!("{}: {}", string(&child.name), project(child, &value, masks, salt_hex, used)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(format!("CASE WHEN {raw} IS NULL THEN NULL ELSE {{{}}} END", fields.join(", ")))
}

/// Whether field id `id` is somewhere inside `ty`.
fn contains(ty: &Type, id: i32) -> bool {
    let children: Vec<&NestedFieldRef> = match ty {
        Type::Primitive(_) => return false,
        Type::Struct(fields) => fields.fields().iter().collect(),
        Type::List(list) => vec![&list.element_field],
        Type::Map(map) => vec![&map.key_field, &map.value_field],
    };
    children.iter().any(|child| child.id == id || contains(&child.field_type, id))
}

/// The error of a restriction floe cannot apply: the read fails rather than return raw rows.
pub(crate) fn cannot_apply(what: String) -> Error {
    Error::new(
        ErrorKind::Forbidden,
        format!("the catalog restricts reads of this table for this principal and floe cannot apply the restriction: {what}"),
    )
    .with_fix("read it as a principal the catalog does not restrict, or ask the catalog's administrator for a restriction in the spec's vocabulary")
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{NestedField, PrimitiveType, StructType};
    use serde_json::json;

    use super::*;

    fn schema() -> Schema {
        let string = || Type::Primitive(PrimitiveType::String);
        Schema::builder()
            .with_fields(vec![
                NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
                NestedField::optional(2, "email", string()).into(),
                NestedField::optional(
                    3,
                    "address",
                    Type::Struct(StructType::new(vec![
                        NestedField::optional(4, "street", string()).into(),
                        NestedField::optional(5, "country", string()).into(),
                    ])),
                )
                .into(),
            ])
            .build()
            .unwrap()
    }

    fn read(restrictions: Value) -> Result<Option<RestrictedRead>> {
        restricted_read(Some(&restrictions), &schema(), "00")
    }

    #[test]
    fn no_restrictions_is_a_plain_read() {
        assert_eq!(restricted_read(None, &schema(), "00").unwrap(), None);
        assert_eq!(read(json!({})).unwrap(), None);
        assert_eq!(read(json!({"required-row-filter": null, "required-column-projections": []})).unwrap(), None);
    }

    #[test]
    fn masks_keep_every_column_and_rebuild_structs() {
        let read = read(json!({
            "required-row-filter": {"type": "eq", "left": {"type": "reference", "id": 5}, "right": "NL"},
            "required-column-projections": [
                {"action": "replace-with-null", "field-id": 2},
                {"action": "mask-to-fixed-value", "field-id": 4},
            ],
        }))
        .unwrap()
        .unwrap();
        assert_eq!(
            read.select,
            "restricted_source.\"id\" AS \"id\", CAST(NULL AS VARCHAR) AS \"email\", \
             CASE WHEN restricted_source.\"address\" IS NULL THEN NULL ELSE {'street': 'XXXXXXXX', \
             'country': struct_extract(restricted_source.\"address\", 'country')} END AS \"address\""
        );
        assert_eq!(
            read.filter,
            "(struct_extract(restricted_source.\"address\", 'country') IS NOT NULL AND \
             struct_extract(restricted_source.\"address\", 'country') = 'NL')"
        );
    }

    #[test]
    fn a_filter_alone_keeps_the_columns_raw() {
        let read = read(json!({"required-row-filter": false})).unwrap().unwrap();
        assert_eq!(read.filter, "FALSE");
        assert!(read
            .select
            .starts_with("restricted_source.\"id\" AS \"id\", restricted_source.\"email\" AS \"email\""));
    }

    #[test]
    fn what_floe_cannot_apply_fails_the_read() {
        for (restrictions, says) in [
            (
                json!({"required-column-projections": [{"action": "replace-with-null", "field-id": 1}]}),
                "required column 'id'",
            ),
            (json!({"required-column-projections": [{"action": "blur", "field-id": 2}]}), "unknown action 'blur'"),
            (
                json!({"required-column-projections": [{"action": "show-last-4", "field-id": 1}]}),
                "'show-last-4' on column 'id' of type long",
            ),
            (
                json!({"required-column-projections": [
                {"action": "sha-256-global", "field-id": 2}, {"action": "mask-alphanum", "field-id": 2}]}),
                "field id 2 in two",
            ),
            (
                json!({"required-column-projections": [
                {"action": "replace-with-null", "field-id": 3}, {"action": "mask-alphanum", "field-id": 4}]}),
                "field id 4 inside column 'address'",
            ),
            (json!({"required-row-filter": true, "required-audit": {}}), "'required-audit'"),
        ] {
            let err = read(restrictions).unwrap_err().to_string();
            assert!(err.contains(says), "{says}: {err}");
            assert!(err.contains("floe cannot apply the restriction"), "{err}");
        }
    }

    #[test]
    fn a_masked_column_the_snapshot_lacks_has_nothing_to_mask() {
        let read = read(json!({"required-column-projections": [{"action": "replace-with-null", "field-id": 9}]}));
        assert!(read.unwrap().unwrap().select.contains("restricted_source.\"email\" AS \"email\""));
    }
}
