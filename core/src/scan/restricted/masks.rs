//! The REST spec's column-projection actions (`required-column-projections`) as DuckDB SQL over
//! a column's raw value. Every action keeps the column's type; all but `mask-to-fixed-value`
//! keep NULL as NULL. An action the spec does not allow on the column's type fails the query.

use iceberg::spec::{NestedFieldRef, PrimitiveType, Type};

use super::sql::{duck_type_of, string};
use crate::error::Result;

/// Characters `mask-alphanum` keeps; ASCII digits become `n`, every other code point `x`.
const KEPT: &str = "(),.@-";

/// `action` applied to `value`, the SQL of column `field`'s raw value. `salt` is the hex of the
/// random bytes `sha-256-query-local` prefixes (one per read of the table).
pub fn masked(action: &str, field: &NestedFieldRef, value: &str, salt: &str) -> Result<String> {
    let ty = &*field.field_type;
    let primitive = ty.as_primitive_type();
    let wrong_type = || super::cannot_apply(format!("it asks for '{action}' on column '{}' of type {ty}", field.name));
    Ok(match action {
        "replace-with-null" => {
            if field.required {
                return Err(super::cannot_apply(format!(
                    "it asks for 'replace-with-null' on required column '{}', which the spec forbids",
                    field.name
                )));
            }
            format!("CAST(NULL AS {})", duck_type_of(ty)?)
        }
        "mask-to-fixed-value" => fixed_value(ty).ok_or_else(wrong_type)?,
        "mask-alphanum" | "show-first-4" | "show-last-4" => {
            if primitive != Some(&PrimitiveType::String) {
                return Err(wrong_type());
            }
            match action {
                "mask-alphanum" => alphanum(value),
                "show-first-4" => {
                    format!(
                        "CASE WHEN length({value}) <= 4 THEN {value} ELSE left({value}, 4) || {} END",
                        alphanum(&format!("substr({value}, 5)"))
                    )
                }
                _ => format!(
                    "CASE WHEN length({value}) <= 4 THEN {value} ELSE {} || right({value}, 4) END",
                    alphanum(&format!("left({value}, length({value}) - 4)"))
                ),
            }
        }
        "truncate-to-year" | "truncate-to-month" => {
            let part = if action == "truncate-to-year" { "'year'" } else { "'month'" };
            match primitive.ok_or_else(wrong_type)? {
                PrimitiveType::Date => format!("CAST(date_trunc({part}, {value}) AS DATE)"),
                PrimitiveType::Timestamp => format!("CAST(date_trunc({part}, {value}) AS TIMESTAMP)"),
                PrimitiveType::TimestampNs => format!("CAST(date_trunc({part}, {value}) AS TIMESTAMP_NS)"),
                // In UTC, whatever the session's time zone.
                PrimitiveType::Timestamptz | PrimitiveType::TimestamptzNs => {
                    format!("timezone('UTC', date_trunc({part}, timezone('UTC', {value})))")
                }
                _ => return Err(wrong_type()),
            }
        }
        "sha-256-global" | "sha-256-query-local" => {
            let primitive = primitive.ok_or_else(wrong_type)?;
            // The hashed bytes: UTF-8 of a string, the bytes of a binary, little-endian integers.
            let bytes = match primitive {
                PrimitiveType::String => format!("encode({value})"),
                PrimitiveType::Binary => value.to_string(),
                PrimitiveType::Int => little_endian(value, 4),
                PrimitiveType::Long => little_endian(value, 8),
                _ => return Err(wrong_type()),
            };
            let bytes = if action == "sha-256-query-local" { format!("from_hex('{salt}') || {bytes}") } else { bytes };
            let digest = format!("sha256({bytes})");
            let masked = match primitive {
                PrimitiveType::String => digest,
                PrimitiveType::Binary => format!("from_hex({digest})"),
                // The digest's first 4 (8) bytes read as a signed little-endian integer.
                PrimitiveType::Int => signed_little_endian(&digest, 4, "INTEGER"),
                _ => signed_little_endian(&digest, 8, "BIGINT"),
            };
            format!("CASE WHEN {value} IS NULL THEN NULL ELSE {masked} END")
        }
        other => {
            return Err(super::cannot_apply(format!(
                "it asks for the unknown action '{other}' on column '{}'",
                field.name
            )))
        }
    })
}

/// `mask-alphanum` of a string value, code point by code point.
fn alphanum(value: &str) -> String {
    let kept = KEPT.replace('-', "\\-");
    format!("regexp_replace(regexp_replace({value}, '[^0-9{kept}]', 'x', 'gs'), '[0-9]', 'n', 'g')")
}

/// The `width` bytes of integer `value`, little-endian, as a BLOB.
fn little_endian(value: &str, width: u32) -> String {
    let bytes: Vec<String> = (0..width)
        .map(|i| format!("printf('%02x', ((CAST({value} AS HUGEINT) >> {}) & 255)::INTEGER)", i * 8))
        .collect();
    format!("from_hex({})", bytes.join(" || "))
}

/// The first `width` bytes of hex digest `digest`, read as a signed little-endian integer.
fn signed_little_endian(digest: &str, width: u32, ty: &str) -> String {
    let reversed =
        format!("array_to_string(list_reverse(regexp_extract_all(left({digest}, {}), '..')), '')", width * 2);
    let unsigned = format!("CAST(CAST('0x' || {reversed} AS UBIGINT) AS HUGEINT)");
    let range = 1u128 << (width * 8);
    format!("CAST(CASE WHEN {unsigned} >= {} THEN {unsigned} - {range} ELSE {unsigned} END AS {ty})", range / 2)
}

/// `mask-to-fixed-value`: the spec's value for the type, NULL replaced too; none for a type the
/// action does not apply to.
fn fixed_value(ty: &Type) -> Option<String> {
    let typed = |literal: &str| Some(format!("CAST({literal} AS {})", duck_type_of(ty).ok()?));
    match ty {
        Type::Primitive(primitive) => match primitive {
            PrimitiveType::Boolean => Some("FALSE".to_string()),
            PrimitiveType::Int
            | PrimitiveType::Long
            | PrimitiveType::Float
            | PrimitiveType::Double
            | PrimitiveType::Decimal { .. } => typed("0"),
            PrimitiveType::String => Some(string("XXXXXXXX")),
            PrimitiveType::Date => typed("'1970-01-01'"),
            PrimitiveType::Time => typed("'00:00:00'"),
            PrimitiveType::Timestamp | PrimitiveType::TimestampNs => typed("'1970-01-01 00:00:00'"),
            PrimitiveType::Timestamptz | PrimitiveType::TimestamptzNs => typed("'1970-01-01 00:00:00+00'"),
            PrimitiveType::Uuid => typed("'00000000-0000-0000-0000-000000000000'"),
            PrimitiveType::Binary => Some("''::BLOB".to_string()),
            PrimitiveType::Fixed(length) => Some(format!("from_hex({})", string(&"00".repeat(*length as usize)))),
            #[allow(unreachable_patterns)]
            _ => None,
        },
        Type::List(_) => typed("[]"),
        Type::Map(_) => typed("MAP {}"),
        Type::Struct(fields) => {
            let fields = fields
                .fields()
                .iter()
                .map(|field| Some(format!("{}: {}", string(&field.name), fixed_value(&field.field_type)?)))
                .collect::<Option<Vec<_>>>()?;
            Some(format!("{{{}}}", fields.join(", ")))
        }
    }
}
