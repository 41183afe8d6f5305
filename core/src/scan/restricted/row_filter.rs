//! A `required-row-filter` (an Iceberg expression in the REST spec's JSON form, columns by field
//! id) as a DuckDB SQL predicate over the table's raw columns.
//!
//! Iceberg predicates are two-valued (the spec's expression rules): a null field makes `eq`,
//! `lt`, `lt-eq`, `gt`, `gt-eq`, `in` and `starts-with` false, and their negations `not-eq`,
//! `not-in` and `not-starts-with` true. SQL's three-valued comparisons would drop the null rows
//! of a `not-eq` filter the policy keeps, or keep a `not (eq ...)` row it drops, so every leaf
//! spells its null case out and the whole predicate is never NULL.

use iceberg::spec::{PrimitiveType, Schema};
use serde_json::{Map, Value};

use super::sql::{self, ColumnPath};
use crate::error::Result;

/// The predicate for `filter`, resolved against `schema`; `source` qualifies the columns.
pub fn predicate(filter: &Value, schema: &Schema, source: &str) -> Result<String> {
    Renderer { schema, source }.node(filter)
}

struct Renderer<'a> {
    schema: &'a Schema,
    source: &'a str,
}

impl Renderer<'_> {
    fn node(&self, node: &Value) -> Result<String> {
        if let Some(flag) = node.as_bool() {
            return Ok(if flag { "TRUE" } else { "FALSE" }.to_string());
        }
        let Some(object) = node.as_object() else { return Err(unsupported("a row filter that is not a predicate")) };
        let kind = object.get("type").and_then(Value::as_str).unwrap_or_default();
        Ok(match kind {
            "true" => "TRUE".to_string(),
            "false" => "FALSE".to_string(),
            "and" | "or" => format!(
                "({} {} {})",
                self.node(member(object, &["left"])?)?,
                kind.to_uppercase(),
                self.node(member(object, &["right"])?)?
            ),
            "not" => format!("(NOT {})", self.node(member(object, &["child"])?)?),
            "is-null" | "not-null" | "is-nan" | "not-nan" => {
                let (column, ty) = self.term(member(object, &["child", "term"])?)?;
                match kind {
                    "is-null" => format!("({column} IS NULL)"),
                    "not-null" => format!("({column} IS NOT NULL)"),
                    _ if !matches!(ty, PrimitiveType::Float | PrimitiveType::Double) => {
                        return Err(unsupported(&format!("'{kind}' on a column of type {ty}")))
                    }
                    "is-nan" => format!("({column} IS NOT NULL AND isnan({column}))"),
                    _ => format!("({column} IS NULL OR NOT isnan({column}))"),
                }
            }
            "lt" | "lt-eq" | "gt" | "gt-eq" | "eq" | "not-eq" | "starts-with" | "not-starts-with" => {
                let (column, ty) = self.term(member(object, &["left", "term"])?)?;
                let value = sql::literal(literal_value(member(object, &["right", "value", "literal"])?), &ty)?;
                let null_true = matches!(kind, "not-eq" | "not-starts-with");
                let test = match kind {
                    "lt" => format!("{column} < {value}"),
                    "lt-eq" => format!("{column} <= {value}"),
                    "gt" => format!("{column} > {value}"),
                    "gt-eq" => format!("{column} >= {value}"),
                    "eq" => format!("{column} = {value}"),
                    "not-eq" => format!("{column} <> {value}"),
                    _ if ty != PrimitiveType::String => {
                        return Err(unsupported(&format!("'{kind}' on a column of type {ty}")))
                    }
                    "starts-with" => format!("starts_with({column}, {value})"),
                    _ => format!("NOT starts_with({column}, {value})"),
                };
                null_guarded(&column, null_true, &test)
            }
            "in" | "not-in" => {
                let (column, ty) = self.term(member(object, &["child", "term"])?)?;
                let values = member(object, &["values"])?
                    .as_array()
                    .filter(|values| !values.is_empty())
                    .ok_or_else(|| unsupported(&format!("an '{kind}' without values")))?
                    .iter()
                    .map(|value| sql::literal(literal_value(value), &ty))
                    .collect::<Result<Vec<_>>>()?
                    .join(", ");
                if kind == "in" {
                    null_guarded(&column, false, &format!("{column} IN ({values})"))
                } else {
                    null_guarded(&column, true, &format!("{column} NOT IN ({values})"))
                }
            }
            other => return Err(unsupported(&format!("the expression type '{other}'"))),
        })
    }

    /// The column a term names (an id reference, a named reference, or a bare name) and its type.
    fn term(&self, term: &Value) -> Result<(String, PrimitiveType)> {
        let field_id = match term {
            Value::String(name) => self.field_id_by_name(name)?,
            Value::Object(reference) if reference.get("type").and_then(Value::as_str) == Some("reference") => {
                match (reference.get("id").and_then(Value::as_i64), reference.get("name").and_then(Value::as_str)) {
                    (Some(id), _) => i32::try_from(id).map_err(|_| unsupported(&format!("field id {id}")))?,
                    (None, Some(name)) => self.field_id_by_name(name)?,
                    (None, None) => return Err(unsupported("a reference with neither id nor name")),
                }
            }
            _ => return Err(unsupported("a term that is not a column reference (a transform or function)")),
        };
        let path = ColumnPath::resolve(self.schema, field_id)?;
        let ty = path.primitive().cloned().ok_or_else(|| {
            unsupported(&format!("a comparison on column '{}', which is not of a primitive type", path.display()))
        })?;
        Ok((path.sql(self.source), ty))
    }

    fn field_id_by_name(&self, name: &str) -> Result<i32> {
        self.schema
            .field_id_by_name(name)
            .or_else(|| self.schema.field_by_name_case_insensitive(name).map(|field| field.id))
            .ok_or_else(|| unsupported(&format!("a reference to column '{name}', which the table does not have")))
    }
}

/// `test` made two-valued: a null column makes the leaf `null_true`.
fn null_guarded(column: &str, null_true: bool, test: &str) -> String {
    if null_true {
        format!("({column} IS NULL OR {test})")
    } else {
        format!("({column} IS NOT NULL AND {test})")
    }
}

/// The first present member of `keys` (the current spelling first, then older ones).
fn member<'a>(object: &'a Map<String, Value>, keys: &[&str]) -> Result<&'a Value> {
    keys.iter()
        .find_map(|key| object.get(*key))
        .ok_or_else(|| unsupported(&format!("a predicate without '{}'", keys[0])))
}

/// A literal operand: `{"type": "literal", "value": v}` or the bare value.
fn literal_value(value: &Value) -> &Value {
    match value {
        Value::Object(literal) if literal.get("type").and_then(Value::as_str) == Some("literal") => {
            literal.get("value").unwrap_or(&Value::Null)
        }
        other => other,
    }
}

fn unsupported(what: &str) -> crate::error::Error {
    super::cannot_apply(format!("its row filter uses {what}"))
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{NestedField, StructType, Type};
    use serde_json::json;

    use super::*;

    fn schema() -> Schema {
        Schema::builder()
            .with_fields(vec![
                NestedField::optional(1, "region", Type::Primitive(PrimitiveType::String)).into(),
                NestedField::required(2, "age", Type::Primitive(PrimitiveType::Int)).into(),
                NestedField::optional(3, "born", Type::Primitive(PrimitiveType::Date)).into(),
                NestedField::optional(
                    4,
                    "address",
                    Type::Struct(StructType::new(vec![NestedField::optional(
                        5,
                        "country",
                        Type::Primitive(PrimitiveType::String),
                    )
                    .into()])),
                )
                .into(),
                NestedField::optional(6, "score", Type::Primitive(PrimitiveType::Double)).into(),
            ])
            .build()
            .unwrap()
    }

    fn render(filter: Value) -> Result<String> {
        predicate(&filter, &schema(), "s")
    }

    #[test]
    fn comparisons_spell_out_their_null_case() {
        let eq =
            json!({"type": "eq", "left": {"type": "reference", "id": 1}, "right": {"type": "literal", "value": "EU"}});
        assert_eq!(render(eq).unwrap(), "(s.\"region\" IS NOT NULL AND s.\"region\" = 'EU')");
        let not_eq = json!({"type": "not-eq", "term": "region", "value": "O'Hara"});
        assert_eq!(render(not_eq).unwrap(), "(s.\"region\" IS NULL OR s.\"region\" <> 'O''Hara')");
        let lt = json!({"type": "lt", "left": {"type": "reference", "id": 2}, "right": 30});
        assert_eq!(render(lt).unwrap(), "(s.\"age\" IS NOT NULL AND s.\"age\" < CAST(30 AS INTEGER))");
    }

    #[test]
    fn typed_literals_nested_fields_and_sets() {
        let filter = json!({"type": "and",
            "left": {"type": "gt-eq", "left": {"type": "reference", "id": 3}, "right": "2000-01-01"},
            "right": {"type": "not-in", "child": {"type": "reference", "id": 5}, "values": ["US", "CA"]}});
        assert_eq!(
            render(filter).unwrap(),
            "((s.\"born\" IS NOT NULL AND s.\"born\" >= CAST('2000-01-01' AS DATE)) AND \
             (struct_extract(s.\"address\", 'country') IS NULL OR \
             struct_extract(s.\"address\", 'country') NOT IN ('US', 'CA')))"
        );
        assert_eq!(render(json!(false)).unwrap(), "FALSE");
        assert_eq!(
            render(json!({"type": "not", "child": {"type": "is-nan", "term": "score"}})).unwrap(),
            "(NOT (s.\"score\" IS NOT NULL AND isnan(s.\"score\")))"
        );
    }

    #[test]
    fn what_cannot_be_applied_fails() {
        for (filter, says) in [
            (json!({"type": "eq", "left": {"type": "reference", "id": 99}, "right": 1}), "field id 99"),
            (
                json!({"type": "eq", "left": {"type": "transform", "transform": "day", "term": "born"}, "right": 1}),
                "transform",
            ),
            (json!({"type": "starts-with", "term": "age", "value": 1}), "'starts-with' on a column of type int"),
            (json!({"type": "st-within", "term": "region", "value": "x"}), "'st-within'"),
            (json!({"type": "eq", "term": "address", "value": "x"}), "not of a primitive type"),
            (json!({"type": "in", "term": "region", "values": []}), "without values"),
        ] {
            let err = render(filter).unwrap_err().to_string();
            assert!(err.contains(says), "{says}: {err}");
        }
    }
}
