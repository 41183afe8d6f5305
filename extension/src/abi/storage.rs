//! Objects behind DuckDB's `floe://<storage id>/<url>` paths: the glue's DuckDB file system reads,
//! writes, lists and removes a table's files through the core's storage layer, with the table's
//! own credentials (renewed before they expire) and never through DuckDB's secret manager.

use std::ffi::c_char;
use std::sync::{Arc, OnceLock};

use floe_core::runtime::block_on;
use floe_core::storage::{self, Entry, ObjectWriter};
use floe_core::{Error, Result};

use super::{guard, str_arg, write_json, FloeError, FloeString};

/// One object opened for reading (ranged reads) or writing (a streaming upload).
pub struct FloeFile {
    entry: Arc<Entry>,
    url: String,
    mode: Mode,
}

enum Mode {
    Read { size: OnceLock<u64> },
    Write { writer: ObjectWriter, closed: bool },
}

impl FloeFile {
    fn named(&self, err: Error) -> Error {
        err.context(format!("Table '{}'", self.entry.table()))
    }

    fn writer(&mut self) -> Result<(&mut ObjectWriter, &mut bool)> {
        match &mut self.mode {
            Mode::Write { writer, closed } => Ok((writer, closed)),
            Mode::Read { .. } => Err(Error::internal(format!("{} was opened for reading, not writing", self.url))),
        }
    }
}

/// Opens path ("floe://<id>/<scheme>/<rest>") for reading or, with write, for writing. Opening for read
/// makes no request; for write the upload starts once a part's worth of bytes is written (a
/// small file is one request at close).
///
/// # Safety
/// `path` must be a NUL-terminated string; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn floe_file_open(path: *const c_char, write: bool, out: *mut *mut FloeFile) -> *mut FloeError {
    guard(|| {
        let (entry, url) = storage::unwrap(str_arg(path, "path")?)?;
        let mode = match write {
            true => Mode::Write { writer: entry.writer(&url), closed: false },
            false => Mode::Read { size: OnceLock::new() },
        };
        *out = Box::into_raw(Box::new(FloeFile { url, entry, mode }));
        Ok(())
    })
}

/// Read: the object's size (one request, remembered); write: the bytes written so far.
///
/// # Safety
/// `file` must be a live handle; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn floe_file_size(file: *mut FloeFile, out: *mut u64) -> *mut FloeError {
    guard(|| {
        let file = &*file;
        *out = match &file.mode {
            Mode::Write { writer, .. } => writer.written(),
            Mode::Read { size } => match size.get() {
                Some(size) => *size,
                None => {
                    let url = file.url.as_str();
                    let found = block_on(file.entry.with_store(|store| async move { store.size(url).await }))?;
                    *size.get_or_init(|| found)
                }
            },
        };
        Ok(())
    })
}

/// Reads exactly length bytes at offset into buffer (an object shorter than that is an error).
///
/// # Safety
/// `file` must be a live handle; `buffer` must have room for `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn floe_file_read(
    file: *mut FloeFile,
    offset: u64,
    buffer: *mut u8,
    length: u64,
) -> *mut FloeError {
    guard(|| {
        let file = &*file;
        let url = file.url.as_str();
        let range = offset..offset + length;
        let chunks = block_on(file.entry.read_range(url, range))?;
        // Exactly `length` bytes (read_chunks checks), copied once into DuckDB's buffer.
        let mut at = buffer;
        for chunk in chunks {
            std::ptr::copy_nonoverlapping(chunk.as_ptr(), at, chunk.len());
            at = at.add(chunk.len());
        }
        Ok(())
    })
}

/// Appends length bytes of data to a file opened for writing.
///
/// # Safety
/// `file` must be a live handle; `data` must hold `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn floe_file_write(file: *mut FloeFile, data: *const u8, length: u64) -> *mut FloeError {
    guard(|| {
        let file = &mut *file;
        let data = if length == 0 { &[][..] } else { std::slice::from_raw_parts(data, length as usize) };
        let outcome = block_on(file.writer()?.0.write(data));
        outcome.map_err(|e| file.named(e))
    })
}

/// Completes the upload of a file opened for writing: the object exists from now on. For a file
/// opened for reading, nothing.
///
/// # Safety
/// `file` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn floe_file_close(file: *mut FloeFile) -> *mut FloeError {
    guard(|| {
        let file = &mut *file;
        if let Mode::Read { .. } = file.mode {
            return Ok(());
        }
        let (writer, closed) = file.writer()?;
        if !*closed {
            block_on(writer.close()).map_err(|e| file.named(e))?;
            if let Mode::Write { closed, .. } = &mut file.mode {
                *closed = true;
            }
        }
        Ok(())
    })
}

/// Frees the handle; an upload that was not closed is aborted (nothing of it becomes visible).
///
/// # Safety
/// `file` must be NULL or a handle from `floe_file_open`, freed once.
#[no_mangle]
pub unsafe extern "C" fn floe_file_free(file: *mut FloeFile) {
    if file.is_null() {
        return;
    }
    let mut file = Box::from_raw(file);
    if let Mode::Write { writer, closed: false } = &mut file.mode {
        // Best effort: an upload left behind is removed by the store's lifecycle rules.
        let _ = guard(|| block_on(writer.abort()));
    }
}

/// Whether the object at path ("floe://<id>/<scheme>/<rest>") exists.
///
/// # Safety
/// `path` must be a NUL-terminated string; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn floe_path_exists(path: *const c_char, out: *mut bool) -> *mut FloeError {
    guard(|| {
        let (entry, url) = storage::unwrap(str_arg(path, "path")?)?;
        let url = url.as_str();
        *out = block_on(entry.with_store(|store| async move { store.exists(url).await }))?;
        Ok(())
    })
}

/// Removes the object at path; one that does not exist is no error.
///
/// # Safety
/// `path` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn floe_path_remove(path: *const c_char) -> *mut FloeError {
    guard(|| {
        let (entry, url) = storage::unwrap(str_arg(path, "path")?)?;
        let url = url.as_str();
        block_on(entry.with_store(|store| async move { store.delete(url).await }))
    })
}

/// The objects under the directory path, at any depth, as a JSON array of floe:// paths.
///
/// # Safety
/// `path` must be a NUL-terminated string; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn floe_path_list(path: *const c_char, out: *mut FloeString) -> *mut FloeError {
    guard(|| {
        let (entry, url) = storage::unwrap(str_arg(path, "path")?)?;
        let url = url.as_str();
        let urls = block_on(entry.with_store(|store| async move { store.list(url).await }))?;
        let paths: Vec<String> = urls.iter().map(|url| entry.wrap(url)).collect();
        write_json(out, &paths)
    })
}

/// The object's own URL behind a floe:// path, for the `filename` column; any other path as it is.
///
/// # Safety
/// `path` must be a NUL-terminated string; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn floe_path_real(path: *const c_char, out: *mut FloeString) -> *mut FloeError {
    guard(|| {
        *out = FloeString::from_string(storage::real_path(str_arg(path, "path")?).into_owned());
        Ok(())
    })
}
