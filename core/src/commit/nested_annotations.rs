//! The files a statement wrote into a table with a list or map column, rewritten so that their
//! list and map groups carry the Parquet LogicalType annotation DuckDB's writer leaves out
//! (see `parquet_footer`): without it, engines such as Daft cannot read the table.
//!
//! A file is copied to a new path in its statement's directory with the annotated footer, and
//! the original is removed: object stores cannot change part of an object, and a new path
//! keeps the original intact should the copy fail (the statement then fails and its directory
//! is removed). The body is streamed in chunks, so memory stays bounded whatever the file size.
//! Tables without lists or maps are not touched: their files are neither read nor rewritten.

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use iceberg::io::{FileIO, FileRead};
use iceberg::spec::{Schema, Type};

use super::data_file::WrittenFile;
use super::parquet_footer::annotate_lists_and_maps;
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"PAR1";
/// The bytes read from a file's end at first: its footer, in all but very wide tables.
const TAIL_BYTES: u64 = 64 << 10;
/// Body bytes read and written at a time; above S3's 5 MiB minimum for a multipart part.
const CHUNK_BYTES: u64 = 8 << 20;
/// Files rewritten at the same time.
const CONCURRENT_FILES: usize = 4;

/// `files`, written into a table of `schema`, with annotated list and map groups: the paths
/// and sizes of the rewritten files replace those DuckDB reported.
pub async fn annotate_written_files(
    file_io: &FileIO,
    schema: &Schema,
    files: Vec<WrittenFile>,
) -> Result<Vec<WrittenFile>> {
    if !has_list_or_map(schema) {
        return Ok(files);
    }
    futures::stream::iter(files).map(|file| annotate_file(file_io, file)).buffered(CONCURRENT_FILES).try_collect().await
}

/// Whether any column of `schema`, at any depth, is a list or a map.
pub fn has_list_or_map(schema: &Schema) -> bool {
    fn nested(ty: &Type) -> bool {
        match ty {
            Type::Primitive(_) => false,
            Type::Struct(fields) => fields.fields().iter().any(|f| nested(&f.field_type)),
            Type::List(_) | Type::Map(_) => true,
        }
    }
    schema.as_struct().fields().iter().any(|f| nested(&f.field_type))
}

async fn annotate_file(file_io: &FileIO, mut file: WrittenFile) -> Result<WrittenFile> {
    let context = || format!("Cannot annotate the lists and maps of the written data file {}", file.path);
    let reader = file_io.new_input(&file.path)?.reader().await.map_err(|e| Error::from(e).context(context()))?;
    let (body_len, footer) = read_footer(reader.as_ref(), file.file_size).await.map_err(|e| e.context(context()))?;
    let Some(footer) = annotate_lists_and_maps(&footer).map_err(|e| e.context(context()))? else {
        return Ok(file);
    };
    let directory = file.path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let path = format!("{directory}/{}.parquet", uuid::Uuid::now_v7());
    copy_with_footer(file_io, reader.as_ref(), body_len, &footer, &path, CHUNK_BYTES)
        .await
        .map_err(|e| e.context(context()))?;
    file_io.delete(&file.path).await.map_err(|e| Error::from(e).context(context()))?;
    file.path = path;
    file.file_size = body_len + footer.len() as u64 + 8;
    Ok(file)
}

/// The length of the file's body (everything before the footer) and its footer, for a file of
/// `size` bytes.
async fn read_footer(reader: &dyn FileRead, size: u64) -> Result<(u64, Bytes)> {
    let not_parquet = || Error::storage(format!("the file of {size} bytes does not end like a Parquet file"));
    if size < 12 {
        return Err(not_parquet());
    }
    let tail_start = size.saturating_sub(TAIL_BYTES);
    let tail = reader.read(tail_start..size).await?;
    if tail.len() as u64 != size - tail_start {
        return Err(not_parquet());
    }
    let trailer = &tail[tail.len() - 8..];
    if &trailer[4..] != MAGIC {
        return Err(not_parquet());
    }
    let footer_len = u64::from(u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]));
    let body_len = (size - 8).checked_sub(footer_len).filter(|&len| len >= 4).ok_or_else(not_parquet)?;
    let footer = if body_len >= tail_start {
        tail.slice((body_len - tail_start) as usize..tail.len() - 8)
    } else {
        reader.read(body_len..size - 8).await?
    };
    Ok((body_len, footer))
}

/// Writes the first `body_len` bytes of `reader`'s file, then `footer`, its length and the
/// magic, to `path`, `chunk_bytes` at a time, reading the next chunk while writing one. The
/// last chunk of the body goes with the footer, so that every write but the last is a full
/// chunk.
async fn copy_with_footer(
    file_io: &FileIO,
    reader: &dyn FileRead,
    body_len: u64,
    footer: &[u8],
    path: &str,
    chunk_bytes: u64,
) -> Result<()> {
    let mut writer = file_io.new_output(path)?.writer().await?;
    let read = |start: u64| async move {
        if start < body_len {
            reader.read(start..(start + chunk_bytes).min(body_len)).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let mut offset = 0;
    let mut chunk = read(offset).await?;
    while let Some(body) = chunk {
        offset += body.len() as u64;
        let data = if offset < body_len {
            body
        } else {
            let mut last = BytesMut::with_capacity(body.len() + footer.len() + 8);
            last.extend_from_slice(&body);
            last.extend_from_slice(footer);
            last.extend_from_slice(&(footer.len() as u32).to_le_bytes());
            last.extend_from_slice(MAGIC);
            last.freeze()
        };
        let ((), next) = futures::try_join!(writer.write(data), read(offset))?;
        chunk = next;
    }
    writer.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use iceberg::spec::{ListType, NestedField, PrimitiveType};

    use super::*;
    use crate::ErrorKind;

    /// Written by DuckDB 1.5.5 with core/tests/fixtures/duckdb_nested.sql (lists and a map).
    const DUCKDB_FILE: &[u8] = include_bytes!("../../tests/fixtures/duckdb_nested.parquet");
    const DIR: &str = "memory://warehouse/t/data/0190";

    fn schema(with_list: bool) -> Schema {
        let long = || Type::Primitive(PrimitiveType::Long);
        let mut fields = vec![NestedField::optional(1, "id", long()).into()];
        if with_list {
            let list = ListType { element_field: NestedField::list_element(5, long(), false).into() };
            fields.push(NestedField::optional(2, "tags", Type::List(list)).into());
        }
        Schema::builder().with_fields(fields).build().unwrap()
    }

    fn written(path: &str, size: u64) -> WrittenFile {
        WrittenFile { path: path.into(), record_count: 2100, file_size: size, columns: vec![], partition: vec![] }
    }

    /// The DuckDB file as `annotate_lists_and_maps` makes it.
    fn expected_file() -> Vec<u8> {
        let footer_len =
            u32::from_le_bytes(DUCKDB_FILE[DUCKDB_FILE.len() - 8..DUCKDB_FILE.len() - 4].try_into().unwrap());
        let body_len = DUCKDB_FILE.len() - 8 - footer_len as usize;
        let footer = annotate_lists_and_maps(&DUCKDB_FILE[body_len..DUCKDB_FILE.len() - 8]).unwrap().unwrap();
        let mut file = DUCKDB_FILE[..body_len].to_vec();
        file.extend_from_slice(&footer);
        file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        file.extend_from_slice(MAGIC);
        file
    }

    #[tokio::test]
    async fn files_of_a_table_without_lists_or_maps_are_not_read() {
        // Nothing exists at these paths: reading one would fail.
        let files = vec![written(&format!("{DIR}/a.parquet"), 10), written(&format!("{DIR}/b.parquet"), 20)];
        let file_io = FileIO::new_with_memory();
        let kept = annotate_written_files(&file_io, &schema(false), files).await.unwrap();
        assert_eq!(
            kept.iter().map(|f| (f.path.as_str(), f.file_size)).collect::<Vec<_>>(),
            [(format!("{DIR}/a.parquet").as_str(), 10), (format!("{DIR}/b.parquet").as_str(), 20)]
        );
        assert!(!has_list_or_map(&schema(false)));
        assert!(has_list_or_map(&schema(true)));
    }

    #[tokio::test]
    async fn a_file_with_lists_is_replaced_by_its_annotated_copy_in_the_same_directory() {
        let file_io = FileIO::new_with_memory();
        let original = format!("{DIR}/duckdb.parquet");
        file_io.new_output(&original).unwrap().write(Bytes::from_static(DUCKDB_FILE)).await.unwrap();

        let files = vec![written(&original, DUCKDB_FILE.len() as u64)];
        let annotated = annotate_written_files(&file_io, &schema(true), files).await.unwrap();

        let [file] = annotated.as_slice() else { panic!("{annotated:?}") };
        let expected = expected_file();
        assert!(
            file.path.starts_with(&format!("{DIR}/")) && file.path.ends_with(".parquet") && file.path != original,
            "{}",
            file.path
        );
        assert_eq!(file.file_size, expected.len() as u64);
        assert_eq!(file_io.new_input(&file.path).unwrap().read().await.unwrap(), expected);
        assert!(!file_io.exists(&original).await.unwrap());
        assert_eq!((file.record_count, file.file_size - DUCKDB_FILE.len() as u64), (2100, 12));
    }

    #[tokio::test]
    async fn a_body_copied_in_many_chunks_is_copied_whole() {
        let file_io = FileIO::new_with_memory();
        let original = format!("{DIR}/duckdb.parquet");
        file_io.new_output(&original).unwrap().write(Bytes::from_static(DUCKDB_FILE)).await.unwrap();
        let reader = file_io.new_input(&original).unwrap().reader().await.unwrap();
        let (body_len, footer) = read_footer(reader.as_ref(), DUCKDB_FILE.len() as u64).await.unwrap();
        let footer = annotate_lists_and_maps(&footer).unwrap().unwrap();
        // 700-byte chunks, the last one shorter.
        assert!(body_len > 2000 && body_len % 700 != 0);
        let copy = format!("{DIR}/copy.parquet");
        copy_with_footer(&file_io, reader.as_ref(), body_len, &footer, &copy, 700).await.unwrap();
        assert_eq!(file_io.new_input(&copy).unwrap().read().await.unwrap(), expected_file());
    }

    #[tokio::test]
    async fn a_file_that_is_not_parquet_fails_naming_the_file() {
        let file_io = FileIO::new_with_memory();
        let path = format!("{DIR}/broken.parquet");
        file_io.new_output(&path).unwrap().write(Bytes::from_static(b"PAR1 not a footer PAR0")).await.unwrap();
        let err = annotate_written_files(&file_io, &schema(true), vec![written(&path, 22)]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        assert_eq!(
            err.message(),
            format!("Cannot annotate the lists and maps of the written data file {path}: the file of 22 bytes does not end like a Parquet file")
        );
    }
}
