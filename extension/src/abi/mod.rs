//! The Rust side of `floe_abi.h`. Every exported function runs its body through [`guard`], so
//! errors come back as `FloeError` values and a panic never unwinds into DuckDB.

mod catalog;
mod scan;
mod secret;
mod table;
mod transaction;

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use floe_core::{Error, ErrorKind, Result};
use serde::Serialize;

pub struct FloeError {
    code: i32,
    message: CString,
}

#[repr(C)]
pub struct FloeString {
    data: *mut c_char,
    len: usize,
}

impl FloeString {
    fn from_string(text: String) -> FloeString {
        let mut bytes = text.into_bytes().into_boxed_slice();
        let len = bytes.len();
        let data = bytes.as_mut_ptr() as *mut c_char;
        std::mem::forget(bytes);
        FloeString { data, len }
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
            code: err.kind().code(),
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
    CStr::from_ptr(ptr)
        .to_str()
        .map_err(|_| Error::new(ErrorKind::InvalidInput, format!("{what} is not valid UTF-8")))
}

pub(crate) unsafe fn json_arg<T: serde::de::DeserializeOwned>(ptr: *const c_char, what: &str) -> Result<T> {
    serde_json::from_str(str_arg(ptr, what)?)
        .map_err(|e| Error::internal(format!("{what} is not the JSON the ABI describes: {e}")))
}

pub(crate) unsafe fn write_json(out: *mut FloeString, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))?;
    *out = FloeString::from_string(text);
    Ok(())
}

/// # Safety
/// `error` must be a live error returned by this library.
#[no_mangle]
pub unsafe extern "C" fn floe_error_code(error: *const FloeError) -> i32 {
    (*error).code
}

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
/// `string` must come from this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_string_free(string: FloeString) {
    if !string.data.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(string.data as *mut u8, string.len)));
    }
}
