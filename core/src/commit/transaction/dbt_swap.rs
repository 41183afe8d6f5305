//! dbt rebuilds a table or view by renames: `CREATE x__dbt_tmp ...; ALTER x RENAME TO
//! x__dbt_backup; ALTER x__dbt_tmp RENAME TO x`. Committed as written, readers of `x` would find
//! it missing between the renames and its history would start again; detected here, the dance
//! becomes one replace of `x` (see docs/commit-protocol.md).

use super::operation::{NewView, Op};
use crate::rest::model::TableIdentifier;

/// Turns `rename existing -> backup` followed by `rename new -> existing` (new created in this
/// transaction) into one `Swap`, committed as a replace of `existing`.
pub(super) fn find_swaps(mut ops: Vec<Op>) -> Vec<Op> {
    let created =
        |ops: &[Op], id: &TableIdentifier| ops.iter().any(|op| matches!(op, Op::Create { id: c, .. } if c == id));
    let mut j = 0;
    while j < ops.len() {
        if let Op::Rename { from: replacement, to: existing } = &ops[j] {
            if created(&ops[..j], replacement) && !created(&ops[..j], existing) {
                let earlier = ops[..j].iter().rposition(|op| matches!(op, Op::Rename { from, .. } if from == existing));
                if let Some(i) = earlier {
                    let (replacement, existing) = (replacement.clone(), existing.clone());
                    let Op::Rename { to: backup, .. } = ops.remove(i) else { unreachable!("found as a Rename") };
                    // The removal moved the second rename to j - 1.
                    ops[j - 1] = Op::Swap { existing, backup, replacement };
                    continue;
                }
            }
        }
        j += 1;
    }
    ops
}

/// Folds the renames of views created in this transaction into their creation, and turns
/// `rename existing -> backup` + `rename new -> existing` into one `ViewSwap` (what dbt does to
/// rebuild a view), so readers never find the view missing.
pub(super) fn find_view_swaps(ops: Vec<Op>) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::with_capacity(ops.len());
    for op in ops {
        let Op::RenameView { from, to } = op else {
            out.push(op);
            continue;
        };
        let Some(created) = out.iter().rposition(|o| matches!(o, Op::CreateView { id, .. } if *id == from)) else {
            out.push(Op::RenameView { from, to });
            continue;
        };
        let Op::CreateView { view, .. } = out.remove(created) else { unreachable!("found as a CreateView") };
        let moved_away = out.iter().rposition(|o| matches!(o, Op::RenameView { from: f, .. } if *f == to));
        match moved_away {
            Some(index) if !view.replace => {
                let Op::RenameView { to: backup, .. } = out.remove(index) else {
                    unreachable!("found as a RenameView")
                };
                out.push(Op::ViewSwap { existing: to, backup, view: NewView { replace: true, ..view } });
            }
            _ => out.push(Op::CreateView { id: to, view }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use iceberg::spec::{NestedField, PrimitiveType, Schema, Type};

    use super::*;
    use crate::rest::model::LoadTableResult;
    use crate::storage::{self, StorageProps};
    use crate::table::LoadedTable;

    fn id(name: &str) -> TableIdentifier {
        TableIdentifier { namespace: vec!["s".into()], name: name.into() }
    }

    fn create_view(name: &str) -> Op {
        let view =
            NewView { schema: Schema::builder().build().unwrap(), sql: format!("SELECT '{name}'"), replace: false };
        Op::CreateView { id: id(name), view }
    }

    fn rename_view(from: &str, to: &str) -> Op {
        Op::RenameView { from: id(from), to: id(to) }
    }

    fn create_table(name: &str) -> Op {
        let schema = Schema::builder()
            .with_fields(vec![NestedField::optional(1, "x", Type::Primitive(PrimitiveType::Int)).into()])
            .build()
            .unwrap();
        let metadata = iceberg::spec::TableMetadataBuilder::new(
            schema,
            iceberg::spec::PartitionSpec::unpartition_spec().into_unbound(),
            iceberg::spec::SortOrder::unsorted_order(),
            format!("file:///tmp/s/{name}"),
            iceberg::spec::FormatVersion::V2,
            HashMap::new(),
        )
        .unwrap()
        .build()
        .unwrap()
        .metadata;
        let result = LoadTableResult {
            metadata_location: None,
            metadata,
            config: HashMap::new(),
            storage_credentials: vec![],
            read_restrictions: None,
        };
        let storage = storage::register(
            &Arc::new(()),
            name,
            result.metadata.location(),
            StorageProps::default(),
            None,
            storage::Caches::off(),
        );
        let table = LoadedTable::new(vec!["s".into()], name.into(), result, storage);
        Op::Create { id: id(name), table: Arc::new(table) }
    }

    fn rename_table(from: &str, to: &str) -> Op {
        Op::Rename { from: id(from), to: id(to) }
    }

    #[test]
    fn dbt_table_rebuild_becomes_one_swap() {
        // CREATE TABLE m__dbt_tmp AS ...; ALTER TABLE m RENAME TO m__dbt_backup;
        // ALTER TABLE m__dbt_tmp RENAME TO m
        let ops = find_swaps(vec![
            create_table("m__dbt_tmp"),
            rename_table("m", "m__dbt_backup"),
            rename_table("m__dbt_tmp", "m"),
        ]);
        match &ops[..] {
            [Op::Create { id: created, .. }, Op::Swap { existing, backup, replacement }] => {
                assert_eq!(created.name, "m__dbt_tmp");
                assert_eq!((existing.name.as_str(), backup.name.as_str()), ("m", "m__dbt_backup"));
                assert_eq!(replacement.name, "m__dbt_tmp");
            }
            _ => panic!("expected the creation and one swap, got {} operations", ops.len()),
        }
    }

    #[test]
    fn renames_that_are_no_rebuild_stay_renames() {
        // First build: nothing is moved away, the new table is only renamed.
        let ops = find_swaps(vec![create_table("m__dbt_tmp"), rename_table("m__dbt_tmp", "m")]);
        assert!(matches!(&ops[..], [Op::Create { .. }, Op::Rename { .. }]));
        // Both tables existed before the transaction: two plain renames.
        let ops = find_swaps(vec![rename_table("m", "m_old"), rename_table("n", "m")]);
        assert!(matches!(&ops[..], [Op::Rename { .. }, Op::Rename { .. }]));
        // A table created and renamed over another table created in the same transaction.
        let ops =
            find_swaps(vec![create_table("a"), create_table("b"), rename_table("a", "c"), rename_table("b", "a")]);
        assert!(!ops.iter().any(|op| matches!(op, Op::Swap { .. })));
    }

    #[test]
    fn dbt_view_rebuild_becomes_one_swap() {
        // What dbt does: create v__dbt_tmp, move v to v__dbt_backup, move v__dbt_tmp to v.
        let ops = find_view_swaps(vec![
            create_view("v__dbt_tmp"),
            rename_view("v", "v__dbt_backup"),
            rename_view("v__dbt_tmp", "v"),
        ]);
        assert_eq!(ops.len(), 1);
        match &ops[0] {
            Op::ViewSwap { existing, backup, view } => {
                assert_eq!(existing.name, "v");
                assert_eq!(backup.name, "v__dbt_backup");
                assert!(view.replace);
                assert_eq!(view.sql, "SELECT 'v__dbt_tmp'");
            }
            _ => panic!("expected a swap"),
        }
        // First build: nothing to move away, the view is created under its final name.
        let ops = find_view_swaps(vec![create_view("v__dbt_tmp"), rename_view("v__dbt_tmp", "v")]);
        assert!(matches!(&ops[..], [Op::CreateView { id, view }] if id.name == "v" && !view.replace));
        // Renames of views that exist already stay renames.
        let ops = find_view_swaps(vec![rename_view("a", "b")]);
        assert!(matches!(&ops[..], [Op::RenameView { .. }]));
    }
}
