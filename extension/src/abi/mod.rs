//! The Rust side of `floe_abi.h`, which `extension/abi-header` writes from this module with
//! cbindgen (and `make lint` checks), so the header cannot drift from these signatures. Every
//! exported function runs its body through [`guard`], so errors come back as `FloeError` values
//! and a panic never unwinds into DuckDB.

mod catalog;
mod maintenance;
mod progress;
mod rewrites;
mod row_delete;
mod scan;
mod secret;
mod storage;
mod table;
mod transaction;

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use floe_core::{Error, ErrorKind, Result};
use serde::Serialize;

/// An error returned by a fallible call; free it with `floe_error_free`.
pub struct FloeError {
    code: FloeErrorCode,
    message: CString,
}

/// What kind of error a `FloeError` is: the glue throws the DuckDB exception matching it.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloeErrorCode {
    /// The user's input is wrong: an option, a name, a value.
    InvalidInput = 1,
    /// The object does not exist in the catalog.
    NotFound = 2,
    /// The object exists already.
    AlreadyExists = 3,
    /// The catalog refused the credentials.
    Unauthenticated = 4,
    /// The principal lacks a privilege.
    Forbidden = 5,
    /// A commit lost an optimistic-concurrency race.
    CommitConflict = 6,
    /// The catalog may or may not have applied a commit.
    CommitStateUnknown = 7,
    /// The catalog or storage could not be reached or answered with a server error.
    Unavailable = 8,
    /// Reading or writing table files failed.
    Storage = 9,
    /// The request is valid Iceberg but floe does not do it.
    Unsupported = 10,
    /// A bug in floe.
    Internal = 11,
    /// Written rows break a constraint of the table's schema.
    ConstraintViolation = 12,
}

impl From<ErrorKind> for FloeErrorCode {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidInput => FloeErrorCode::InvalidInput,
            ErrorKind::NotFound => FloeErrorCode::NotFound,
            ErrorKind::AlreadyExists => FloeErrorCode::AlreadyExists,
            ErrorKind::Unauthenticated => FloeErrorCode::Unauthenticated,
            ErrorKind::Forbidden => FloeErrorCode::Forbidden,
            ErrorKind::CommitConflict => FloeErrorCode::CommitConflict,
            ErrorKind::CommitStateUnknown => FloeErrorCode::CommitStateUnknown,
            ErrorKind::Unavailable => FloeErrorCode::Unavailable,
            ErrorKind::Storage => FloeErrorCode::Storage,
            ErrorKind::Unsupported => FloeErrorCode::Unsupported,
            ErrorKind::Internal => FloeErrorCode::Internal,
            ErrorKind::ConstraintViolation => FloeErrorCode::ConstraintViolation,
        }
    }
}

/// UTF-8 text the core returned (JSON, unless a function says otherwise), not NUL-terminated;
/// free it with `floe_string_free`.
#[repr(C)]
pub struct FloeString {
    data: *mut c_char,
    len: usize,
}

impl FloeString {
    fn from_string(text: String) -> FloeString {
        let bytes = Box::into_raw(text.into_bytes().into_boxed_slice());
        FloeString { data: bytes as *mut c_char, len: bytes.len() }
    }
}

/// Runs `body`, turning its error or panic into a `FloeError` for the caller to free.
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> *mut FloeError {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(Error::internal(format!("floe panicked: {what}")))
    });
    match outcome {
        Ok(()) => std::ptr::null_mut(),
        Err(err) => Box::into_raw(Box::new(FloeError {
            code: err.kind().into(),
            message: CString::new(err.to_string().replace('\0', " ")).expect("NULs were replaced"),
        })),
    }
}

/// A NUL-terminated UTF-8 argument.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::internal(format!("{what} is NULL")));
    }
    CStr::from_ptr(ptr).to_str().map_err(|_| Error::new(ErrorKind::InvalidInput, format!("{what} is not valid UTF-8")))
}

/// A JSON argument the glue built: one that does not parse is a bug in floe.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn json_arg<T: serde::de::DeserializeOwned>(ptr: *const c_char, what: &str) -> Result<T> {
    serde_json::from_str(str_arg(ptr, what)?)
        .map_err(|e| Error::internal(format!("{what} is not the JSON the ABI describes: {e}")))
}

/// A JSON argument the user wrote (a setting's value): one that does not parse is the user's
/// error, reported with what `fix` says to write instead.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn user_json_arg<T: serde::de::DeserializeOwned>(
    ptr: *const c_char,
    what: &str,
    fix: &str,
) -> Result<T> {
    serde_json::from_str(str_arg(ptr, what)?)
        .map_err(|e| Error::invalid_input(format!("{what} is not valid: {e}")).with_fix(fix))
}

pub(crate) unsafe fn write_json(out: *mut FloeString, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))?;
    *out = FloeString::from_string(text);
    Ok(())
}

/// The kind of `error`.
///
/// # Safety
/// `error` must be a live error returned by this library.
#[no_mangle]
pub unsafe extern "C" fn floe_error_code(error: *const FloeError) -> FloeErrorCode {
    (*error).code
}

/// The message, valid until the error is freed. Never contains a secret.
///
/// # Safety
/// `error` must be a live error returned by this library.
#[no_mangle]
pub unsafe extern "C" fn floe_error_message(error: *const FloeError) -> *const c_char {
    (*error).message.as_ptr()
}

/// # Safety
/// `error` must be NULL or an error returned by this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_error_free(error: *mut FloeError) {
    if !error.is_null() {
        drop(Box::from_raw(error));
    }
}

/// # Safety
/// `string` must come from this library (or be all zero), freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_string_free(string: FloeString) {
    if !string.data.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(string.data as *mut u8, string.len)));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use floe_core::sync::lock;

    use super::*;

    const KINDS: [ErrorKind; 11] = [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Unauthenticated,
        ErrorKind::Forbidden,
        ErrorKind::CommitConflict,
        ErrorKind::CommitStateUnknown,
        ErrorKind::Unavailable,
        ErrorKind::Storage,
        ErrorKind::Unsupported,
        ErrorKind::Internal,
    ];

    #[test]
    fn error_codes_are_the_cores() {
        for kind in KINDS {
            assert_eq!(FloeErrorCode::from(kind) as i32, kind.code(), "{kind:?}");
        }
    }

    /// A panic inside a call that holds one of the core's locks fails that call, and the next
    /// call that takes the lock goes on.
    #[test]
    fn a_panic_while_locked_fails_that_call_only() {
        let state = Arc::new(Mutex::new(vec![1]));
        let held = state.clone();
        let error = guard(move || {
            let mut values = lock(&held);
            values.push(2);
            panic!("while holding the lock");
        });
        assert!(!error.is_null());
        let message = unsafe { CStr::from_ptr(floe_error_message(error)) }.to_str().unwrap().to_string();
        assert_eq!(unsafe { floe_error_code(error) }, FloeErrorCode::Internal);
        unsafe { floe_error_free(error) };
        assert_eq!(message, "floe panicked: while holding the lock");
        assert!(state.is_poisoned());

        let error = guard(|| {
            lock(&state).push(3);
            Ok(())
        });
        assert!(error.is_null());
        assert!(!state.is_poisoned());
        assert_eq!(*lock(&state), [1, 2, 3]);
    }
}
