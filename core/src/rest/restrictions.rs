//! `read-restrictions` on a LoadTable answer: a row filter and column masks the catalog requires
//! of every read by this principal (the REST spec's proposal, apache/iceberg PR #13879; Rustberg
//! sends them for policies annotated `@row_filter` / `@column_mask`). floe does not apply them
//! yet, so it refuses a restricted table outright, reads and writes alike: a restriction an engine
//! cannot apply must fail the query, never return the rows or values it hides.

use serde_json::Value;

use super::catalog::{display_namespace, Namespace};
use crate::error::{Error, ErrorKind, Result};

/// Refuses table `namespace.table` of catalog `catalog` when `restrictions` (the answer's
/// `read-restrictions`) asks for anything.
pub fn refuse_restricted(
    restrictions: Option<&Value>,
    namespace: &Namespace,
    table: &str,
    catalog: &str,
) -> Result<()> {
    let Some(restrictions) = restrictions.filter(|r| !is_empty(r)) else { return Ok(()) };
    let mut what = Vec::new();
    if restrictions.get("required-row-filter").is_some_and(|f| !f.is_null()) {
        what.push("a row filter".to_string());
    }
    let masked = restrictions.get("required-column-projections").and_then(Value::as_array).map_or(0, Vec::len);
    if masked > 0 {
        what.push(format!("{masked} masked column{}", if masked == 1 { "" } else { "s" }));
    }
    if what.is_empty() {
        what.push("restrictions".to_string());
    }
    Err(Error::new(
        ErrorKind::Forbidden,
        format!(
            "Table '{}.{table}' in Iceberg catalog '{catalog}' may only be read with {} the catalog requires for this \
             principal; floe does not apply read restrictions yet, so it refuses the table rather than return rows or \
             values the policy hides",
            display_namespace(namespace),
            what.join(" and "),
        ),
    )
    .with_fix("read it as a principal the catalog does not restrict, or with an engine that applies the catalog's read restrictions"))
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(fields) => fields.values().all(is_empty),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(value: Value) -> Option<String> {
        refuse_restricted(Some(&value), &vec!["gov".into()], "people", "lake").err().map(|e| e.to_string())
    }

    #[test]
    fn a_table_without_restrictions_is_read() {
        assert_eq!(refuse_restricted(None, &vec!["gov".into()], "people", "lake").ok(), Some(()));
        assert_eq!(refused(json!({})), None);
        assert_eq!(refused(json!({"required-row-filter": null, "required-column-projections": []})), None);
    }

    #[test]
    fn a_restricted_table_is_refused_naming_what_it_requires() {
        let err = refused(json!({
            "required-row-filter": {"type": "eq", "term": "region", "value": "EU"},
            "required-column-projections": [{"field-id": 3, "action": "replace-with-null"}],
        }))
        .unwrap();
        assert!(
            err.contains(
                "Table 'gov.people' in Iceberg catalog 'lake' may only be read with a row filter and 1 masked column"
            ),
            "{err}"
        );
        assert!(err.contains("Fix: read it as a principal the catalog does not restrict"), "{err}");
        let err = refused(json!({"required-column-projections": [{}, {}]})).unwrap();
        assert!(err.contains("with 2 masked columns the catalog"), "{err}");
        // A shape not known yet is refused too.
        assert!(refused(json!({"required-something": {"x": 1}})).unwrap().contains("with restrictions the catalog"));
    }
}
