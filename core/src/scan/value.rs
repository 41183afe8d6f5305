//! Scalar values crossing between floe and DuckDB, in DuckDB's physical representation and
//! tagged by kind, so neither side parses text in the other's format.
//!
//! ```
//! use floe_core::scan::value::Value;
//! assert_eq!(serde_json::to_string(&Value::Date(20454)).unwrap(), r#"{"date":20454}"#);
//! ```

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int32Type, Int64Type, Time64MicrosecondType,
    TimestampMicrosecondType, TimestampNanosecondType,
};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use iceberg::spec::{Datum, PrimitiveLiteral, PrimitiveType, Type};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since the epoch (TIMESTAMP and TIMESTAMPTZ alike).
    Ts(i64),
    /// Nanoseconds since the epoch.
    TsNs(i64),
    /// The decimal as text, e.g. "-12.50".
    Decimal(String),
    /// Bytes in hex.
    Blob(String),
}

impl Value {
    /// A partition or bound literal of Iceberg type `ty`.
    pub fn from_literal(literal: &PrimitiveLiteral, ty: &PrimitiveType) -> Option<Value> {
        use PrimitiveLiteral as L;
        use PrimitiveType as P;
        Some(match (literal, ty) {
            (L::Boolean(v), _) => Value::Bool(*v),
            (L::Int(v), P::Date) => Value::Date(*v),
            (L::Int(v), _) => Value::Int(i64::from(*v)),
            (L::Long(v), P::Time) => Value::Time(*v),
            (L::Long(v), P::Timestamp | P::Timestamptz) => Value::Ts(*v),
            (L::Long(v), P::TimestampNs | P::TimestamptzNs) => Value::TsNs(*v),
            (L::Long(v), _) => Value::Int(*v),
            (L::Float(v), _) => Value::Float(f64::from(v.0)),
            (L::Double(v), _) => Value::Float(v.0),
            (L::String(v), _) => Value::Str(v.clone()),
            (L::Binary(v), _) => Value::Blob(encode_hex(v)),
            (L::Int128(v), P::Decimal { scale, .. }) => Value::Decimal(decimal_text(*v, *scale)),
            (L::UInt128(v), P::Uuid) => Value::Str(uuid::Uuid::from_u128(*v).to_string()),
            _ => return None,
        })
    }

    /// The value as a datum of Iceberg type `ty`; `None` where they do not line up (callers then
    /// leave out what needed it: a pruning filter, a column bound).
    pub fn to_datum(&self, ty: &PrimitiveType) -> Option<Datum> {
        use PrimitiveType as P;
        Some(match (self, ty) {
            (Value::Bool(v), P::Boolean) => Datum::bool(*v),
            (Value::Int(v), P::Int) => Datum::int(i32::try_from(*v).ok()?),
            (Value::Int(v), P::Long) => Datum::long(*v),
            (Value::Int(v), P::Decimal { .. }) => {
                Datum::decimal_from_str(v.to_string()).ok()?.to(&Type::Primitive(ty.clone())).ok()?
            }
            (Value::Float(v), P::Float) if !v.is_nan() => Datum::float(*v as f32),
            (Value::Float(v), P::Double) if !v.is_nan() => Datum::double(*v),
            (Value::Str(v), P::String) => Datum::string(v),
            (Value::Str(v), P::Uuid) => Datum::uuid(uuid::Uuid::parse_str(v).ok()?),
            (Value::Date(v), P::Date) => Datum::date(*v),
            // The day transform's value: days since the epoch, computed as a number.
            (Value::Int(v), P::Date) => Datum::date(i32::try_from(*v).ok()?),
            (Value::Time(v), P::Time) => Datum::time_micros(*v).ok()?,
            (Value::Ts(v), P::Timestamp) => Datum::timestamp_micros(*v),
            (Value::Ts(v), P::Timestamptz) => Datum::timestamptz_micros(*v),
            (Value::Ts(v), P::TimestampNs) => Datum::timestamp_nanos(v.checked_mul(1000)?),
            (Value::Ts(v), P::TimestamptzNs) => Datum::timestamptz_nanos(v.checked_mul(1000)?),
            (Value::TsNs(v), P::TimestampNs) => Datum::timestamp_nanos(*v),
            (Value::Decimal(v), P::Decimal { .. }) => {
                Datum::decimal_from_str(v).ok()?.to(&Type::Primitive(ty.clone())).ok()?
            }
            (Value::Blob(hex), P::Binary) => Datum::binary(decode_hex(hex)?),
            (Value::Blob(hex), P::Fixed(_)) => Datum::fixed(decode_hex(hex)?),
            _ => return None,
        })
    }

    /// Row `row` of an Arrow column of Iceberg type `ty` read from a delete file; `None` for
    /// NULL.
    pub fn from_arrow(array: &dyn Array, row: usize, ty: &PrimitiveType) -> Option<Value> {
        if array.is_null(row) {
            return None;
        }
        Some(match array.data_type() {
            DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
            DataType::Int32 => Value::Int(i64::from(array.as_primitive::<Int32Type>().value(row))),
            DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(row)),
            DataType::Float32 => Value::Float(f64::from(array.as_primitive::<Float32Type>().value(row))),
            DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
            DataType::Utf8 => Value::Str(array.as_string::<i32>().value(row).to_string()),
            DataType::LargeUtf8 => Value::Str(array.as_string::<i64>().value(row).to_string()),
            DataType::Date32 => Value::Date(array.as_primitive::<Date32Type>().value(row)),
            DataType::Time64(TimeUnit::Microsecond) => {
                Value::Time(array.as_primitive::<Time64MicrosecondType>().value(row))
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                Value::Ts(array.as_primitive::<TimestampMicrosecondType>().value(row))
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                Value::TsNs(array.as_primitive::<TimestampNanosecondType>().value(row))
            }
            DataType::Decimal128(_, scale) => Value::Decimal(decimal_text(
                array.as_primitive::<Decimal128Type>().value(row),
                u32::try_from(*scale).ok()?,
            )),
            DataType::Binary => Value::Blob(encode_hex(array.as_binary::<i32>().value(row))),
            DataType::LargeBinary => Value::Blob(encode_hex(array.as_binary::<i64>().value(row))),
            // Parquet stores UUIDs as 16 bytes; only the Iceberg type tells them from fixed[16].
            DataType::FixedSizeBinary(16) if *ty == PrimitiveType::Uuid => {
                Value::Str(uuid::Uuid::from_slice(array.as_fixed_size_binary().value(row)).ok()?.to_string())
            }
            DataType::FixedSizeBinary(_) => Value::Blob(encode_hex(array.as_fixed_size_binary().value(row))),
            _ => return None,
        })
    }
}

fn decimal_text(unscaled: i128, scale: u32) -> String {
    if scale == 0 {
        return unscaled.to_string();
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    let sign = if unscaled < 0 { "-" } else { "" };
    format!("{sign}{int}.{frac}")
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(decimal_text(-1250, 2), "-12.50");
        assert_eq!(decimal_text(5, 3), "0.005");
        assert_eq!(decimal_text(42, 0), "42");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(decode_hex(&encode_hex(&[0, 255, 16])).unwrap(), vec![0, 255, 16]);
        assert!(decode_hex("abc").is_none());
    }
}
