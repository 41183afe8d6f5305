//! Which column type changes Iceberg allows: the promotions its spec lists (int to long, float
//! to double, decimal precision up at the same scale). Everything else could lose data or make
//! old files unreadable, so it is refused with the rewrite that does it safely.

use iceberg::spec::{PrimitiveType, Type};

use crate::commit::schema::DuckType;
use crate::error::{Error, Result};

/// DuckDB types whose Iceberg type is wider than they are: changing a column to one of them
/// would not narrow the Iceberg column, but the user asked for a narrower column than they get.
const WIDENED_BY_ICEBERG: &[&str] =
    &["TINYINT", "SMALLINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT"];

/// Whether column `path` of `table`, of Iceberg type `from`, may become `to` (DuckDB's type
/// `duck`): Ok(true) for a promotion, Ok(false) for no change, an error citing the rule else.
pub fn check_promotion(from: &Type, to: &Type, duck: &DuckType, table: &str, path: &str) -> Result<bool> {
    use PrimitiveType as P;
    let allowed = match (from, to) {
        (Type::Primitive(P::Int), Type::Primitive(P::Long)) => true,
        (Type::Primitive(P::Float), Type::Primitive(P::Double)) => true,
        (
            Type::Primitive(P::Decimal { precision: p1, scale: s1 }),
            Type::Primitive(P::Decimal { precision: p2, scale: s2 }),
        ) => s1 == s2 && p2 > p1,
        _ => false,
    };
    if allowed && !WIDENED_BY_ICEBERG.contains(&duck.id.as_str()) {
        return Ok(true);
    }
    if from == to && !WIDENED_BY_ICEBERG.contains(&duck.id.as_str()) {
        return Ok(false);
    }
    Err(Error::invalid_input(format!(
        "Cannot change column '{path}' of table '{table}' from {from} to {}: Iceberg only widens types \
         (int to bigint, float to double, decimal precision up at the same scale); any other change could lose data \
         or leave existing files unreadable",
        duck_name(duck)
    ))
    .with_fix(format!(
        "rewrite the table with the cast: CREATE OR REPLACE TABLE {table} AS SELECT * REPLACE (CAST({column} AS {}) AS {column}) FROM {table}",
        duck_name(duck),
        column = path.rsplit('.').next().unwrap_or(path)
    )))
}

/// The DuckDB type as SQL spells it.
fn duck_name(ty: &DuckType) -> String {
    match (ty.id.as_str(), ty.width, ty.scale) {
        ("DECIMAL", Some(width), Some(scale)) => format!("DECIMAL({width},{scale})"),
        (id, _, _) => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duck(id: &str) -> DuckType {
        serde_json::from_value(serde_json::json!({ "id": id })).unwrap()
    }

    fn decimal(precision: u32, scale: u32) -> Type {
        Type::Primitive(PrimitiveType::Decimal { precision, scale })
    }

    #[test]
    fn the_spec_promotions_are_allowed() {
        let int = Type::Primitive(PrimitiveType::Int);
        let long = Type::Primitive(PrimitiveType::Long);
        assert!(check_promotion(&int, &long, &duck("BIGINT"), "t", "c").unwrap());
        let wider: DuckType =
            serde_json::from_value(serde_json::json!({"id": "DECIMAL", "width": 12, "scale": 2})).unwrap();
        assert!(check_promotion(&decimal(10, 2), &decimal(12, 2), &wider, "t", "c").unwrap());
        assert!(!check_promotion(&long, &long, &duck("BIGINT"), "t", "c").unwrap());
    }

    #[test]
    fn narrowing_and_scale_changes_are_refused_with_the_rewrite() {
        let int = Type::Primitive(PrimitiveType::Int);
        let long = Type::Primitive(PrimitiveType::Long);
        let err = check_promotion(&long, &int, &duck("INTEGER"), "gold.m", "n").unwrap_err();
        assert!(err.message().contains("from long to INTEGER"), "{err}");
        assert_eq!(
            err.fix(),
            Some("rewrite the table with the cast: CREATE OR REPLACE TABLE gold.m AS SELECT * REPLACE (CAST(n AS INTEGER) AS n) FROM gold.m")
        );
        // SMALLINT would be stored as int: the column would not become what was asked for.
        assert!(check_promotion(&int, &int, &duck("SMALLINT"), "t", "c").is_err());
        let scaled: DuckType =
            serde_json::from_value(serde_json::json!({"id": "DECIMAL", "width": 12, "scale": 3})).unwrap();
        assert!(check_promotion(&decimal(10, 2), &decimal(12, 3), &scaled, "t", "c").is_err());
    }
}
