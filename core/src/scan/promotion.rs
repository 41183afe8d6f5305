//! Pruning by columns whose type was promoted (int → long, float → double, a decimal's
//! precision) after data files were written.
//!
//! A manifest keeps the bounds its writer gave each file: after `int` → `long`, older files
//! still carry 4-byte bounds (the spec's single-value serialization lets a reader take them as
//! the wider type). `iceberg` decodes every manifest's bounds with the schema stored in that
//! manifest, so an old file's bound stays an `int` while a filter on the promoted column
//! compares a `long`; its metrics evaluator finds the two incomparable and, for `<`, `<=`, `>`
//! and `>=`, rules the file out, losing its rows. Comparisons on promoted columns are therefore
//! kept out of the predicate `iceberg` plans with (see [`Filter::to_predicate`]) and judged
//! here, against each file's bounds widened to the type the scan reads.
//!
//! ```
//! use floe_core::scan::promotion::Promotions;
//! use iceberg::spec::{NestedField, PrimitiveType, Schema, Type};
//! let schema = |ty| Schema::builder()
//!     .with_fields(vec![NestedField::optional(1, "n", Type::Primitive(ty)).into()])
//!     .build().unwrap();
//! let old = schema(PrimitiveType::Int);
//! let now = schema(PrimitiveType::Long);
//! assert!(Promotions::between([&old, &now], &now).contains(1));
//! ```

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use futures::future::try_join_all;
use iceberg::spec::{Datum, ManifestContentType, PrimitiveType, Schema, SnapshotRef, TableMetadata};
use iceberg::table::Table;

use super::filter::{Comparison, Filter};
use super::value::Value;
use crate::error::Result;

/// The fields of a read schema whose type differs in another schema of the table, with the
/// type the scan reads them as.
#[derive(Debug, Default)]
pub struct Promotions {
    read_types: HashMap<i32, PrimitiveType>,
}

impl Promotions {
    /// The promoted fields of `read` among all schemas of the table `metadata` describes.
    pub fn of(metadata: &TableMetadata, read: &Schema) -> Promotions {
        Promotions::between(metadata.schemas_iter().map(|schema| schema.as_ref()), read)
    }

    /// The fields of `read` whose primitive type is another in one of `schemas`.
    pub fn between<'a>(schemas: impl IntoIterator<Item = &'a Schema>, read: &Schema) -> Promotions {
        let schemas: Vec<&Schema> = schemas.into_iter().collect();
        let read_types = read
            .field_id_to_fields()
            .iter()
            .filter_map(|(&id, field)| Some((id, field.field_type.as_primitive_type()?.clone())))
            .filter(|(id, ty)| {
                schemas.iter().any(|schema| {
                    schema.field_by_id(*id).and_then(|f| f.field_type.as_primitive_type()).is_some_and(|t| t != ty)
                })
            })
            .collect();
        Promotions { read_types }
    }

    pub fn contains(&self, field_id: i32) -> bool {
        self.read_types.contains_key(&field_id)
    }

    /// Field ids of promoted columns that `filter` compares with values.
    fn compared_in(&self, filter: &Filter, ids: &mut HashSet<i32>) {
        match filter {
            Filter::And { args } | Filter::Or { args } => args.iter().for_each(|f| self.compared_in(f, ids)),
            Filter::Cmp { field_id, .. } | Filter::In { field_id, .. } if self.contains(*field_id) => {
                ids.insert(*field_id);
            }
            _ => {}
        }
    }

    /// Paths of the data files of `snapshot` that cannot hold rows matching `filter`'s
    /// comparisons on promoted columns, judged by their bounds; empty (and no manifest read)
    /// when the filter compares no promoted column.
    pub async fn excluded_files(
        &self,
        table: &Table,
        snapshot: &SnapshotRef,
        filter: &Filter,
    ) -> Result<HashSet<String>> {
        let mut compared = HashSet::new();
        self.compared_in(filter, &mut compared);
        if compared.is_empty() {
            return Ok(HashSet::new());
        }
        let list = table.manifest_list_reader(snapshot).load().await?;
        let file_io = table.file_io();
        let data_manifests = list.entries().iter().filter(|m| m.content == ManifestContentType::Data);
        let manifests = try_join_all(data_manifests.map(|m| m.load_manifest(file_io))).await?;
        let mut excluded = HashSet::new();
        for entry in manifests.iter().flat_map(|m| m.entries()).filter(|e| e.is_alive()) {
            let file = entry.data_file();
            let bounds: FileBounds = compared
                .iter()
                .map(|id| {
                    let ty = &self.read_types[id];
                    let widened = |bound: Option<&Datum>| bound.and_then(|b| widen(b, ty));
                    (
                        *id,
                        Bounds {
                            lower: widened(file.lower_bounds().get(id)),
                            upper: widened(file.upper_bounds().get(id)),
                        },
                    )
                })
                .collect();
            if !self.may_match(filter, &bounds) {
                excluded.insert(file.file_path().to_string());
            }
        }
        Ok(excluded)
    }

    /// Whether a file with `bounds` may hold rows matching `filter`, judging only comparisons
    /// on promoted columns (`iceberg` judged the rest); whatever cannot be judged may match.
    fn may_match(&self, filter: &Filter, bounds: &FileBounds) -> bool {
        match filter {
            Filter::And { args } => args.iter().all(|f| self.may_match(f, bounds)),
            Filter::Or { args } => args.iter().any(|f| self.may_match(f, bounds)),
            Filter::Cmp { cmp, field_id, value } => {
                let Some((bounds, value)) = self.bounds_and_datum(bounds, *field_id, value) else {
                    return true;
                };
                match cmp {
                    Comparison::Eq => bounds.may_hold(&value),
                    Comparison::Ne => true,
                    Comparison::Lt => holds(&bounds.lower, &value, |o| o == Ordering::Less),
                    Comparison::Le => holds(&bounds.lower, &value, |o| o != Ordering::Greater),
                    Comparison::Gt => holds(&bounds.upper, &value, |o| o == Ordering::Greater),
                    Comparison::Ge => holds(&bounds.upper, &value, |o| o != Ordering::Less),
                }
            }
            Filter::In { field_id, values } => values.iter().any(|value| {
                self.bounds_and_datum(bounds, *field_id, value).is_none_or(|(bounds, value)| bounds.may_hold(&value))
            }),
            Filter::IsNull { .. } | Filter::NotNull { .. } => true,
        }
    }

    fn bounds_and_datum<'a>(
        &self,
        bounds: &'a FileBounds,
        field_id: i32,
        value: &Value,
    ) -> Option<(&'a Bounds, Datum)> {
        Some((bounds.get(&field_id)?, value.to_datum(self.read_types.get(&field_id)?)?))
    }
}

/// A column's lower and upper bounds in one data file, as the type read.
struct Bounds {
    lower: Option<Datum>,
    upper: Option<Datum>,
}

impl Bounds {
    /// Whether `value` may lie between the bounds.
    fn may_hold(&self, value: &Datum) -> bool {
        holds(&self.lower, value, |o| o != Ordering::Greater) && holds(&self.upper, value, |o| o != Ordering::Less)
    }
}

/// A data file's bounds by field id.
type FileBounds = HashMap<i32, Bounds>;

/// `bound` as a datum of type `ty`: a 4-byte int as a long, a float as a double, a decimal at
/// the wider precision (Iceberg never changes a decimal's scale). `None` where no promotion
/// leads from its type to `ty`, or for NaN, which orders nothing.
pub fn widen(bound: &Datum, ty: &PrimitiveType) -> Option<Datum> {
    Value::from_literal(bound.literal(), ty)?.to_datum(ty)
}

/// Whether `bound ⋈ value` holds, `ordering_holds` telling it from the ordering; a missing or
/// incomparable bound decides nothing, so it holds.
fn holds(bound: &Option<Datum>, value: &Datum, ordering_holds: fn(Ordering) -> bool) -> bool {
    bound.as_ref().and_then(|b| b.partial_cmp(value)).is_none_or(ordering_holds)
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{NestedField, StructType, Type};

    use super::*;

    fn schema(n: PrimitiveType, x: PrimitiveType, amount: PrimitiveType) -> Schema {
        let point = StructType::new(vec![NestedField::optional(5, "x", Type::Primitive(n.clone())).into()]);
        Schema::builder()
            .with_fields(vec![
                NestedField::optional(1, "n", Type::Primitive(n)).into(),
                NestedField::optional(2, "x", Type::Primitive(x)).into(),
                NestedField::optional(3, "amount", Type::Primitive(amount)).into(),
                NestedField::optional(4, "point", Type::Struct(point)).into(),
            ])
            .build()
            .unwrap()
    }

    fn old() -> Schema {
        schema(PrimitiveType::Int, PrimitiveType::Float, PrimitiveType::Decimal { precision: 9, scale: 2 })
    }

    fn now() -> Schema {
        schema(PrimitiveType::Long, PrimitiveType::Double, PrimitiveType::Decimal { precision: 18, scale: 2 })
    }

    fn parse(json: &str) -> Filter {
        serde_json::from_str(json).unwrap()
    }

    /// The bounds a manifest written before the promotion holds, as `iceberg` decodes them.
    fn old_bounds(promotions: &Promotions, field_id: i32, lower: Datum, upper: Datum) -> FileBounds {
        let ty = &promotions.read_types[&field_id];
        HashMap::from([(field_id, Bounds { lower: widen(&lower, ty), upper: widen(&upper, ty) })])
    }

    #[test]
    fn promoted_fields_are_those_whose_type_changed_nested_ones_too() {
        let (old, now) = (old(), now());
        let promotions = Promotions::between([&old, &now], &now);
        let mut ids: Vec<i32> = promotions.read_types.keys().copied().collect();
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3, 5]);
        assert!(Promotions::between([&now], &now).read_types.is_empty());
        // Reading an old snapshot: the later, wider type makes the field one to judge here too.
        assert_eq!(Promotions::between([&old, &now], &old).read_types[&1], PrimitiveType::Int);
    }

    #[test]
    fn narrower_bounds_widen_to_the_type_read() {
        assert_eq!(widen(&Datum::int(-7), &PrimitiveType::Long), Some(Datum::long(-7)));
        assert_eq!(widen(&Datum::float(2.5), &PrimitiveType::Double), Some(Datum::double(2.5)));
        let wide = PrimitiveType::Decimal { precision: 18, scale: 2 };
        let narrow = Datum::decimal_from_str("-3.50")
            .unwrap()
            .to(&Type::Primitive(PrimitiveType::Decimal { precision: 9, scale: 2 }));
        assert_eq!(
            widen(&narrow.unwrap(), &wide),
            Datum::decimal_from_str("-3.50").unwrap().to(&Type::Primitive(wide)).ok()
        );
        assert_eq!(widen(&Datum::long(i64::MAX), &PrimitiveType::Int), None);
        assert_eq!(widen(&Datum::float(f32::NAN), &PrimitiveType::Double), None);
    }

    #[test]
    fn comparisons_on_promoted_columns_prune_by_widened_bounds() {
        let (old, now) = (old(), now());
        let promotions = Promotions::between([&old, &now], &now);
        let ints = old_bounds(&promotions, 1, Datum::int(5), Datum::int(7));
        let cases = [
            (r#"{"op":"cmp","cmp":"gt","field_id":1,"value":{"int":3000000000}}"#, false),
            (r#"{"op":"cmp","cmp":"ge","field_id":1,"value":{"int":7}}"#, true),
            (r#"{"op":"cmp","cmp":"lt","field_id":1,"value":{"int":5}}"#, false),
            (r#"{"op":"cmp","cmp":"le","field_id":1,"value":{"int":5}}"#, true),
            (r#"{"op":"cmp","cmp":"eq","field_id":1,"value":{"int":6}}"#, true),
            (r#"{"op":"cmp","cmp":"eq","field_id":1,"value":{"int":8}}"#, false),
            (r#"{"op":"cmp","cmp":"ne","field_id":1,"value":{"int":5}}"#, true),
            (r#"{"op":"in","field_id":1,"values":[{"int":1},{"int":3000000001}]}"#, false),
            (r#"{"op":"in","field_id":1,"values":[{"int":1},{"int":7}]}"#, true),
            // A column not promoted is iceberg's to judge: it may match here.
            (r#"{"op":"cmp","cmp":"eq","field_id":9,"value":{"int":1}}"#, true),
            (
                r#"{"op":"or","args":[{"op":"cmp","cmp":"gt","field_id":1,"value":{"int":100}},
                                      {"op":"cmp","cmp":"lt","field_id":1,"value":{"int":0}}]}"#,
                false,
            ),
            (
                r#"{"op":"and","args":[{"op":"cmp","cmp":"gt","field_id":1,"value":{"int":100}},
                                       {"op":"is_null","field_id":1}]}"#,
                false,
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(promotions.may_match(&parse(json), &ints), expected, "{json}");
        }
        let floats = old_bounds(&promotions, 2, Datum::float(1.5), Datum::float(2.5));
        assert!(
            !promotions.may_match(&parse(r#"{"op":"cmp","cmp":"gt","field_id":2,"value":{"float":1e200}}"#), &floats)
        );
        assert!(promotions.may_match(&parse(r#"{"op":"cmp","cmp":"eq","field_id":2,"value":{"float":2.5}}"#), &floats));
        let nan =
            HashMap::from([(2, Bounds { lower: None, upper: widen(&Datum::float(f32::NAN), &PrimitiveType::Double) })]);
        assert!(promotions.may_match(&parse(r#"{"op":"cmp","cmp":"gt","field_id":2,"value":{"float":1e200}}"#), &nan));
    }

    #[test]
    fn only_comparisons_on_promoted_columns_need_bounds() {
        let (old, now) = (old(), now());
        let promotions = Promotions::between([&old, &now], &now);
        let mut ids = HashSet::new();
        promotions.compared_in(
            &parse(
                r#"{"op":"and","args":[{"op":"not_null","field_id":2},
                                       {"op":"cmp","cmp":"eq","field_id":9,"value":{"int":1}},
                                       {"op":"in","field_id":5,"values":[{"int":1}]}]}"#,
            ),
            &mut ids,
        );
        assert_eq!(ids, HashSet::from([5]));
    }
}
