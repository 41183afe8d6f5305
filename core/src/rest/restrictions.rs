//! `read-restrictions` on a LoadTable answer: a row filter and column masks the catalog requires
//! of every read by this principal (the REST spec's proposal, apache/iceberg PR #13879; Rustberg
//! sends them for policies annotated `@row_filter` / `@column_mask`). Reads apply them
//! (`scan::restricted`); everything else that would see or change the rows they hide — writes,
//! maintenance, metadata functions that expose file statistics — is refused here.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// Refuses `operation` on table `table` when `restrictions` (the answer's `read-restrictions`)
/// asks for anything.
pub fn refuse_restricted(restrictions: Option<&Value>, table: &str, operation: &str) -> Result<()> {
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
            "Cannot {operation} table '{table}': the catalog restricts this principal's reads of it to {}, and \
             floe applies those to reads only, so it refuses anything that would see or change the rows and values \
             they hide",
            what.join(" and "),
        ),
    )
    .with_fix("do this as a principal the catalog does not restrict on the table"))
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
        refuse_restricted(Some(&value), "gov.people", "insert into").err().map(|e| e.to_string())
    }

    #[test]
    fn a_table_without_restrictions_is_not_refused() {
        assert_eq!(refuse_restricted(None, "gov.people", "insert into").ok(), Some(()));
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
            err.contains("Cannot insert into table 'gov.people': the catalog restricts this principal's reads of it to a row filter and 1 masked column"),
            "{err}"
        );
        assert!(err.contains("Fix: do this as a principal the catalog does not restrict"), "{err}");
        let err = refused(json!({"required-column-projections": [{}, {}]})).unwrap();
        assert!(err.contains("to 2 masked columns"), "{err}");
        // A shape not known yet is refused too.
        assert!(refused(json!({"required-something": {"x": 1}})).unwrap().contains("reads of it to restrictions"));
    }
}
