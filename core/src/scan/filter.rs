//! Filters DuckDB pushed into a scan, as an Iceberg predicate for pruning manifests and files.
//!
//! Pruning only has to be conservative: DuckDB's Parquet reader applies every filter again to
//! the rows. So a filter this module cannot express is dropped — from an AND that only keeps
//! more files; an OR with such a branch is dropped as a whole.
//!
//! ```
//! use floe_core::scan::filter::Filter;
//! let filter: Filter = serde_json::from_str(
//!     r#"{"op":"cmp","cmp":"ge","field_id":3,"value":{"date":20454}}"#).unwrap();
//! # let _ = filter;
//! ```

use iceberg::expr::{Predicate, Reference};
use iceberg::spec::{PrimitiveType, Schema, Type};
use serde::Deserialize;

use super::promotion::Promotions;
use super::value::Value;

/// The glue's rendering of a DuckDB `TableFilter` tree.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Filter {
    And { args: Vec<Filter> },
    Or { args: Vec<Filter> },
    Cmp { cmp: Comparison, field_id: i32, value: Value },
    IsNull { field_id: i32 },
    NotNull { field_id: i32 },
    In { field_id: i32, values: Vec<Value> },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Filter {
    /// The Iceberg predicate over `schema`, or `None` if nothing of the filter can be expressed.
    /// Comparisons on `promoted` columns are left out: `iceberg` would misjudge the bounds of
    /// files written before the promotion (they are judged in [`super::promotion`]).
    pub fn to_predicate(&self, schema: &Schema, promoted: &Promotions) -> Option<Predicate> {
        match self {
            Filter::And { args } => args.iter().filter_map(|f| f.to_predicate(schema, promoted)).reduce(Predicate::and),
            Filter::Or { args } => {
                let branches: Option<Vec<_>> = args.iter().map(|f| f.to_predicate(schema, promoted)).collect();
                branches?.into_iter().reduce(Predicate::or)
            }
            Filter::Cmp { field_id, .. } | Filter::In { field_id, .. } if promoted.contains(*field_id) => None,
            Filter::Cmp { cmp, field_id, value } => {
                let (reference, ty) = reference(schema, *field_id)?;
                let datum = value.to_datum(ty)?;
                Some(match cmp {
                    Comparison::Eq => reference.equal_to(datum),
                    Comparison::Ne => reference.not_equal_to(datum),
                    Comparison::Lt => reference.less_than(datum),
                    Comparison::Le => reference.less_than_or_equal_to(datum),
                    Comparison::Gt => reference.greater_than(datum),
                    Comparison::Ge => reference.greater_than_or_equal_to(datum),
                })
            }
            Filter::IsNull { field_id } => Some(reference(schema, *field_id)?.0.is_null()),
            Filter::NotNull { field_id } => Some(reference(schema, *field_id)?.0.is_not_null()),
            Filter::In { field_id, values } => {
                let (reference, ty) = reference(schema, *field_id)?;
                let datums: Option<Vec<_>> = values.iter().map(|v| v.to_datum(ty)).collect();
                Some(reference.is_in(datums?))
            }
        }
    }
}

fn reference(schema: &Schema, field_id: i32) -> Option<(Reference, &PrimitiveType)> {
    let name = schema.name_by_field_id(field_id)?;
    match schema.field_by_id(field_id)?.field_type.as_ref() {
        Type::Primitive(ty) => Some((Reference::new(name), ty)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use iceberg::spec::NestedField;

    use super::*;

    fn schema() -> Schema {
        Schema::builder()
            .with_fields(vec![
                NestedField::optional(1, "region", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::optional(2, "amount", Type::Primitive(PrimitiveType::Decimal { precision: 12, scale: 2 }))
                    .into(),
                NestedField::optional(3, "day", Type::Primitive(PrimitiveType::Date)).into(),
            ])
            .build()
            .unwrap()
    }

    fn parse(json: &str) -> Filter {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn comparisons_become_predicates() {
        let filter = parse(
            r#"{"op":"and","args":[
                {"op":"cmp","cmp":"ge","field_id":3,"value":{"date":20454}},
                {"op":"in","field_id":1,"values":[{"str":"eu"},{"str":"us"}]},
                {"op":"cmp","cmp":"lt","field_id":2,"value":{"decimal":"10.50"}}]}"#,
        );
        let text = filter.to_predicate(&schema(), &Promotions::default()).unwrap().to_string();
        assert!(text.contains("day >= 2026-01-01"), "{text}");
        assert!(text.contains("region IN"), "{text}");
        assert!(text.contains("amount < 10.50"), "{text}");
    }

    #[test]
    fn what_cannot_be_expressed_only_widens() {
        // A type mismatch drops the conjunct, but an OR with such a branch is dropped whole.
        let none = Promotions::default();
        let and = parse(
            r#"{"op":"and","args":[{"op":"cmp","cmp":"eq","field_id":3,"value":{"str":"x"}},
                                   {"op":"not_null","field_id":1}]}"#,
        );
        assert_eq!(and.to_predicate(&schema(), &none).unwrap().to_string(), "region IS NOT NULL");
        let or = parse(
            r#"{"op":"or","args":[{"op":"cmp","cmp":"eq","field_id":3,"value":{"str":"x"}},
                                  {"op":"not_null","field_id":1}]}"#,
        );
        assert!(or.to_predicate(&schema(), &none).is_none());
    }

    #[test]
    fn comparisons_on_promoted_columns_are_left_out() {
        let narrower = Schema::builder()
            .with_fields(vec![NestedField::optional(
                2,
                "amount",
                Type::Primitive(PrimitiveType::Decimal { precision: 9, scale: 2 }),
            )
            .into()])
            .build()
            .unwrap();
        let promoted = Promotions::between([&narrower], &schema());
        let filter = parse(
            r#"{"op":"and","args":[
                {"op":"cmp","cmp":"lt","field_id":2,"value":{"decimal":"10.50"}},
                {"op":"in","field_id":2,"values":[{"decimal":"1.00"}]},
                {"op":"not_null","field_id":2},
                {"op":"cmp","cmp":"eq","field_id":1,"value":{"str":"eu"}}]}"#,
        );
        let text = filter.to_predicate(&schema(), &promoted).unwrap().to_string();
        assert_eq!(text, "(amount IS NOT NULL) AND (region = \"eu\")");
    }
}
