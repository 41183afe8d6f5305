//! Errors that name the object, say what failed and what to do about it.
//!
//! ```
//! use floe_core::{Error, ErrorKind};
//! let err = Error::new(ErrorKind::NotFound, "Table 'gold.metrics' does not exist")
//!     .with_fix("check the name with SHOW ALL TABLES");
//! assert_eq!(err.to_string(), "Table 'gold.metrics' does not exist. Fix: check the name with SHOW ALL TABLES");
//! ```
//!
//! Messages are shown to users as they are, so nothing secret may ever be formatted into one;
//! text that comes from outside (a catalog's error body) passes through [`crate::Redactor`] first.

use std::fmt;

/// What went wrong, coarse enough for callers to decide what to do (retry, reload, report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input is wrong: an option, a name, a value.
    InvalidInput,
    /// The object does not exist in the catalog.
    NotFound,
    /// The object exists already.
    AlreadyExists,
    /// The catalog refused the credentials (401/419 after a fresh token).
    Unauthenticated,
    /// The principal lacks a privilege (403).
    Forbidden,
    /// A commit lost an optimistic-concurrency race (409): reload, re-apply, retry.
    CommitConflict,
    /// The catalog may or may not have applied a commit (500/502/504 on commit): reconcile.
    CommitStateUnknown,
    /// The catalog or storage could not be reached or answered with a server error.
    Unavailable,
    /// Reading or writing table files failed.
    Storage,
    /// The request is valid Iceberg but floe does not do it.
    Unsupported,
    /// Written rows break a constraint of the table's schema (a NULL in a required column).
    ConstraintViolation,
    /// A bug in floe.
    Internal,
}

impl ErrorKind {
    /// A stable code for the C ABI, mirrored in `floe_abi.h`.
    pub fn code(self) -> i32 {
        match self {
            ErrorKind::InvalidInput => 1,
            ErrorKind::NotFound => 2,
            ErrorKind::AlreadyExists => 3,
            ErrorKind::Unauthenticated => 4,
            ErrorKind::Forbidden => 5,
            ErrorKind::CommitConflict => 6,
            ErrorKind::CommitStateUnknown => 7,
            ErrorKind::Unavailable => 8,
            ErrorKind::Storage => 9,
            ErrorKind::Unsupported => 10,
            ErrorKind::Internal => 11,
            ErrorKind::ConstraintViolation => 12,
        }
    }
}

/// A floe error: kind, message, and the fix a user can apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    fix: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), fix: None }
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Prefixes the message with what was being done, e.g. `Cannot load table 'a.b'`.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn fix(&self) -> Option<&str> {
        self.fix.as_deref()
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    pub fn storage(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Storage, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, ". Fix: {fix}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<iceberg::Error> for Error {
    fn from(err: iceberg::Error) -> Self {
        // A storage failure reported through iceberg's FileIO (crate::storage) keeps its kind,
        // its message naming the object and its fix.
        let mut source = std::error::Error::source(&err);
        while let Some(inner) = source {
            if let Some(floe) = inner.downcast_ref::<Error>() {
                return floe.clone();
            }
            source = inner.source();
        }
        let kind = match err.kind() {
            iceberg::ErrorKind::DataInvalid | iceberg::ErrorKind::Unexpected => ErrorKind::Storage,
            iceberg::ErrorKind::FeatureUnsupported => ErrorKind::Unsupported,
            iceberg::ErrorKind::TableNotFound | iceberg::ErrorKind::NamespaceNotFound => ErrorKind::NotFound,
            iceberg::ErrorKind::CatalogCommitConflicts => ErrorKind::CommitConflict,
            _ => ErrorKind::Internal,
        };
        // iceberg's Display carries the context (file paths, field ids) users need to act on.
        Error::new(kind, err.to_string())
    }
}
