//! What a catalog's refusal means to the user: which request was refused on which object, and
//! which privilege to ask for. The catalog decides who may do what; floe only words its answer.
//!
//! ```
//! use floe_core::rest::access::{Object, Operation, Request};
//! use floe_core::{Error, ErrorKind};
//! let namespace = vec!["gold".to_string()];
//! let request = Request::new(Operation::Create, Object::Table(&namespace, "metrics"));
//! let refused = Error::new(ErrorKind::Forbidden, "catalog returned 403: ForbiddenException: Not permitted to create table 'gold.metrics'");
//! let err = request.describe(refused, "lake", "client 'etl'");
//! assert_eq!(
//!     err.to_string(),
//!     "Access denied: client 'etl' may not create table 'gold.metrics' in Iceberg catalog 'lake': \
//!      catalog returned 403: ForbiddenException: Not permitted to create table 'gold.metrics'. \
//!      Fix: ask the catalog's administrator for CREATE TABLE on namespace 'gold'"
//! );
//! ```
//!
//! A 404 may be the catalog hiding a resource from a caller who may not see it (the REST spec
//! leaves this open and governed catalogs do it so a denial does not reveal what exists), so
//! "does not exist" always says "or you may not see it".

use super::catalog::{display_namespace, Namespace};
use crate::error::{Error, ErrorKind};

/// What a request asks the catalog to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Load a table's or view's metadata, or a namespace's properties.
    Read,
    /// List the tables or views of a namespace.
    List,
    /// Create the object.
    Create,
    /// Commit a change to a table's data or metadata, or a view's new version.
    Write,
    /// Drop the object.
    Drop,
    /// Rename the object.
    Rename,
}

/// The object a request is about.
#[derive(Clone, Copy, Debug)]
pub enum Object<'a> {
    Namespace(&'a Namespace),
    Table(&'a Namespace, &'a str),
    View(&'a Namespace, &'a str),
    /// The tables of one multi-table commit.
    Tables(&'a [(Namespace, String)]),
}

impl Object<'_> {
    /// As messages name it: `table 'gold.metrics'`.
    fn name(&self) -> String {
        match self {
            Object::Namespace(ns) => format!("namespace '{}'", display_namespace(ns)),
            Object::Table(ns, table) => format!("table '{}.{table}'", display_namespace(ns)),
            Object::View(ns, view) => format!("view '{}.{view}'", display_namespace(ns)),
            Object::Tables(tables) => {
                let names: Vec<String> =
                    tables.iter().map(|(ns, table)| format!("'{}.{table}'", display_namespace(ns))).collect();
                format!("tables {}", names.join(", "))
            }
        }
    }

    /// Where a new object of this kind is created: the privilege to create is held there.
    fn container(&self) -> String {
        match self {
            Object::Namespace(ns) if ns.len() > 1 => {
                format!("namespace '{}'", display_namespace(&ns[..ns.len() - 1].to_vec()))
            }
            Object::Namespace(_) => "the catalog".to_string(),
            Object::Table(ns, _) | Object::View(ns, _) => format!("namespace '{}'", display_namespace(ns)),
            Object::Tables(_) => self.name(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Object::Namespace(_) => "NAMESPACE",
            Object::Table(..) | Object::Tables(_) => "TABLE",
            Object::View(..) => "VIEW",
        }
    }
}

/// One request to the catalog, as its errors describe it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    operation: Operation,
    object: Object<'a>,
}

impl<'a> Request<'a> {
    pub fn new(operation: Operation, object: Object<'a>) -> Self {
        Request { operation, object }
    }

    /// `err` (the catalog's answer, its secrets already redacted) worded for this request to
    /// `catalog` made as `principal`: a refusal names what was refused and the privilege to ask
    /// for, an absence allows for the object being hidden. Other errors are returned as they are.
    pub fn describe(&self, err: Error, catalog: &str, principal: &str) -> Error {
        let object = self.object.name();
        match err.kind() {
            ErrorKind::Forbidden => Error::new(
                ErrorKind::Forbidden,
                format!(
                    "Access denied: {principal} may not {} {object} in Iceberg catalog '{catalog}': {}",
                    self.verb(),
                    err.message()
                ),
            )
            .with_fix(format!("ask the catalog's administrator for {}", self.privilege())),
            ErrorKind::NotFound => Error::new(
                ErrorKind::NotFound,
                format!(
                    "{} does not exist in Iceberg catalog '{catalog}' or you may not see it ({})",
                    capitalized(&object),
                    err.message()
                ),
            )
            .with_fix("check the name; SHOW ALL TABLES lists what the catalog shows you, and its administrator can grant you read access"),
            _ => err,
        }
    }

    /// The object as messages name it: `table 'gold.metrics'`.
    pub fn object_name(&self) -> String {
        self.object.name()
    }

    fn verb(&self) -> &'static str {
        match self.operation {
            Operation::Read => "read",
            Operation::List => "list the contents of",
            Operation::Create => "create",
            Operation::Write => "write to",
            Operation::Drop => "drop",
            Operation::Rename => "rename",
        }
    }

    /// The privilege in the words of SQL grants (what Unity, Polaris and Snowflake call them),
    /// and the object it is granted on.
    fn privilege(&self) -> String {
        let object = self.object.name();
        match self.operation {
            Operation::Read => format!("SELECT (read) on {object}"),
            Operation::List => format!("USAGE (list) on {object}"),
            Operation::Create => format!("CREATE {} on {}", self.object.kind(), self.object.container()),
            Operation::Write => match self.object {
                Object::View(..) => format!("write access (replace the view) on {object}"),
                _ => format!("INSERT / MODIFY (write) on {object}"),
            },
            Operation::Drop => format!("DROP on {object}"),
            Operation::Rename => format!("the right to rename (usually ownership of) {object}"),
        }
    }
}

/// `text` with its first letter upper-case, to open a message.
pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden() -> Error {
        Error::new(ErrorKind::Forbidden, "catalog returned 403: ForbiddenException: Not permitted")
    }

    fn worded(operation: Operation, object: Object<'_>) -> String {
        Request::new(operation, object).describe(forbidden(), "lake", "client 'etl'").to_string()
    }

    #[test]
    fn each_operation_names_its_privilege_and_where_it_is_granted() {
        let ns = vec!["gold".to_string()];
        let read = worded(Operation::Read, Object::Table(&ns, "t"));
        assert!(read.starts_with("Access denied: client 'etl' may not read table 'gold.t' in Iceberg catalog 'lake': catalog returned 403"), "{read}");
        assert!(read.ends_with("Fix: ask the catalog's administrator for SELECT (read) on table 'gold.t'"), "{read}");
        let create = worded(Operation::Create, Object::Table(&ns, "t"));
        assert!(create.ends_with("for CREATE TABLE on namespace 'gold'"), "{create}");
        let create_view = worded(Operation::Create, Object::View(&ns, "v"));
        assert!(create_view.ends_with("for CREATE VIEW on namespace 'gold'"), "{create_view}");
        let create_ns = worded(Operation::Create, Object::Namespace(&ns));
        assert!(create_ns.ends_with("for CREATE NAMESPACE on the catalog"), "{create_ns}");
        let nested = vec!["gold".to_string(), "eu".to_string()];
        let create_nested = worded(Operation::Create, Object::Namespace(&nested));
        assert!(create_nested.ends_with("for CREATE NAMESPACE on namespace 'gold'"), "{create_nested}");
        let write = worded(Operation::Write, Object::Table(&ns, "t"));
        assert!(write.contains("may not write to table 'gold.t'"), "{write}");
        assert!(write.ends_with("for INSERT / MODIFY (write) on table 'gold.t'"), "{write}");
        let drop = worded(Operation::Drop, Object::Table(&ns, "t"));
        assert!(drop.contains("may not drop table 'gold.t'") && drop.ends_with("for DROP on table 'gold.t'"), "{drop}");
        let tables = [(ns.clone(), "a".to_string()), (ns.clone(), "b".to_string())];
        let several = worded(Operation::Write, Object::Tables(&tables));
        assert!(several.contains("may not write to tables 'gold.a', 'gold.b'"), "{several}");
    }

    #[test]
    fn an_absence_allows_for_a_hidden_object() {
        let ns = vec!["gold".to_string()];
        let missing = Error::new(ErrorKind::NotFound, "catalog returned 404: NoSuchTableException: gold.t");
        let err = Request::new(Operation::Read, Object::Table(&ns, "t")).describe(missing, "lake", "client 'etl'");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.message()
                .starts_with("Table 'gold.t' does not exist in Iceberg catalog 'lake' or you may not see it ("),
            "{err}"
        );
    }

    #[test]
    fn other_errors_pass_unchanged() {
        let ns = vec!["gold".to_string()];
        let conflict = Error::new(ErrorKind::CommitConflict, "catalog returned 409");
        let err = Request::new(Operation::Write, Object::Table(&ns, "t")).describe(conflict.clone(), "lake", "x");
        assert_eq!(err, conflict);
    }
}
