//! The LogicalType annotation of list and map groups, added to a Parquet footer that has only
//! the legacy ConvertedType.
//!
//! DuckDB's Parquet writer annotates a list group with ConvertedType LIST and a map group with
//! ConvertedType MAP, and never sets the SchemaElement's `logicalType` (field 10). The format
//! keeps ConvertedType-only files valid, but readers that decide by LogicalType alone do not
//! recognise these groups: Daft's field-id projection drops their id-less `list` / `key_value`
//! child and then rejects the emptied LIST group. pyarrow annotates the same schema with
//! LogicalType LIST on list groups and MAP on map groups, next to the ConvertedType, and
//! nothing on the repeated `key_value` group; LogicalType has no counterpart of MAP_KEY_VALUE
//! (which readers ignore at that level), so a group annotated so is left as it is.
//!
//! The footer is the Thrift compact-protocol encoding of `FileMetaData`. It is changed by
//! inserting, just before the STOP byte of each such SchemaElement, the field `10: LogicalType`
//! holding an empty `ListType` or `MapType`: four bytes, every other byte as written. A field
//! header in the compact protocol is relative to the struct's previous field only, so nothing
//! before or after the insertion changes meaning; column chunk offsets count from the start of
//! the file, whose body is untouched.
//!
//! Why not the `parquet` crate (58): it has no API that edits a footer. Its metadata writer
//! (`ParquetMetaDataWriter`) re-encodes the whole footer from its own model, and for a DuckDB
//! file that model is not the file's: the rewrite drops the legacy `min`/`max` statistics next
//! to `min_value`/`max_value`, drops the root element's repetition, adds row group ordinals and
//! derives column orders itself (1376 footer bytes became 1188 for the test fixture). Its
//! Thrift-generated `format` structs are deprecated, to be removed in parquet 59, and drop
//! fields they do not know. The tests read the annotated footer back with the crate.

use crate::error::{Error, Result};

// Thrift compact-protocol types (the low nibble of a field header or a list header).
const STOP: u8 = 0;
const BOOLEAN_TRUE: u8 = 1;
const BOOLEAN_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

/// `FileMetaData.schema: list<SchemaElement>`.
const FILE_METADATA_SCHEMA: i16 = 2;
const SCHEMA_ELEMENT_CONVERTED_TYPE: i16 = 6;
const SCHEMA_ELEMENT_LOGICAL_TYPE: i16 = 10;
/// ConvertedType values.
const CONVERTED_MAP: i32 = 1;
const CONVERTED_LIST: i32 = 3;
/// Fields of the LogicalType union.
const LOGICAL_MAP: u8 = 2;
const LOGICAL_LIST: u8 = 3;

/// Thrift structs nest a few levels deep in a footer; deeper input is malformed.
const MAX_DEPTH: usize = 32;

/// The footer (the Thrift `FileMetaData`, without its length and magic) with LogicalType LIST
/// or MAP added to each group whose ConvertedType is LIST or MAP and that has no LogicalType;
/// `None` when no group needs it. Fails on a footer that is not a well-formed `FileMetaData`.
pub fn annotate_lists_and_maps(footer: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut reader = Reader { bytes: footer, pos: 0 };
    let mut insertions: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut last = 0;
    while let Some((id, ty)) = reader.field_header(last)? {
        if id == FILE_METADATA_SCHEMA && ty == LIST {
            let (count, element) = reader.collection_header()?;
            if element != STRUCT {
                return Err(malformed(reader.pos, "the schema is not a list of structs"));
            }
            for _ in 0..count {
                insertions.extend(schema_element(&mut reader)?);
            }
        } else {
            reader.skip_value(ty, 1)?;
        }
        last = id;
    }
    if reader.pos != footer.len() {
        return Err(malformed(reader.pos, "bytes follow the end of FileMetaData"));
    }
    if insertions.is_empty() {
        return Ok(None);
    }
    let mut annotated = Vec::with_capacity(footer.len() + 4 * insertions.len());
    let mut copied = 0;
    for (at, bytes) in insertions {
        annotated.extend_from_slice(&footer[copied..at]);
        annotated.extend_from_slice(&bytes);
        copied = at;
    }
    annotated.extend_from_slice(&footer[copied..]);
    Ok(Some(annotated))
}

/// Reads one SchemaElement; returns where to insert its LogicalType (the position of its STOP
/// byte) and the encoded field, if it needs one.
fn schema_element(reader: &mut Reader) -> Result<Option<(usize, Vec<u8>)>> {
    let mut last = 0;
    let mut converted = None;
    let mut has_logical_type = false;
    while let Some((id, ty)) = reader.field_header(last)? {
        match id {
            SCHEMA_ELEMENT_CONVERTED_TYPE if ty == I32 => converted = Some(reader.i32()?),
            SCHEMA_ELEMENT_LOGICAL_TYPE => {
                has_logical_type = true;
                reader.skip_value(ty, 2)?;
            }
            _ => reader.skip_value(ty, 2)?,
        }
        last = id;
    }
    let logical = match converted {
        Some(CONVERTED_LIST) => LOGICAL_LIST,
        Some(CONVERTED_MAP) => LOGICAL_MAP,
        _ => return Ok(None),
    };
    if has_logical_type {
        return Ok(None);
    }
    let mut field = field_header(last, SCHEMA_ELEMENT_LOGICAL_TYPE, STRUCT);
    // LogicalType { <logical>: ListType {} | MapType {} }: the union's field, the empty struct's
    // STOP, the union's STOP.
    field.extend_from_slice(&[(logical << 4) | STRUCT, STOP, STOP]);
    Ok(Some((reader.pos - 1, field)))
}

/// A compact-protocol field header for field `id` of type `ty` following field `last`: the id
/// as a delta in the high nibble where it fits, else as a zigzag varint after the type.
fn field_header(last: i16, id: i16, ty: u8) -> Vec<u8> {
    let delta = i32::from(id) - i32::from(last);
    if (1..=15).contains(&delta) {
        return vec![((delta as u8) << 4) | ty];
    }
    let mut header = vec![ty];
    let mut zigzag = ((id << 1) ^ (id >> 15)) as u16;
    while zigzag >= 0x80 {
        header.push((zigzag as u8 & 0x7f) | 0x80);
        zigzag >>= 7;
    }
    header.push(zigzag as u8);
    header
}

fn malformed(pos: usize, what: &str) -> Error {
    Error::storage(format!("the Parquet footer is malformed at byte {pos}: {what}"))
}

/// A cursor over compact-protocol bytes that skips what it does not need to understand.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8> {
        let byte = *self.bytes.get(self.pos).ok_or_else(|| malformed(self.pos, "it ends early"))?;
        self.pos += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed(self.pos, "a varint is longer than 10 bytes"))
    }

    fn i32(&mut self) -> Result<i32> {
        let zigzag = u32::try_from(self.varint()?).map_err(|_| malformed(self.pos, "an i32 is out of range"))?;
        Ok((zigzag >> 1) as i32 ^ -((zigzag & 1) as i32))
    }

    fn skip(&mut self, n: u64) -> Result<()> {
        let end = usize::try_from(n).ok().and_then(|n| self.pos.checked_add(n)).filter(|&end| end <= self.bytes.len());
        self.pos = end.ok_or_else(|| malformed(self.pos, "a value runs past the end"))?;
        Ok(())
    }

    /// The next field's id and type, or `None` at the struct's STOP.
    fn field_header(&mut self, last: i16) -> Result<Option<(i16, u8)>> {
        let header = self.byte()?;
        let ty = header & 0x0f;
        if ty == STOP {
            return Ok(None);
        }
        let delta = header >> 4;
        let id = if delta != 0 {
            last.checked_add(i16::from(delta)).ok_or_else(|| malformed(self.pos, "a field id overflows"))?
        } else {
            let zigzag =
                u16::try_from(self.varint()?).map_err(|_| malformed(self.pos, "a field id is out of range"))?;
            (zigzag >> 1) as i16 ^ -((zigzag & 1) as i16)
        };
        Ok(Some((id, ty)))
    }

    /// A list's or set's element count and element type.
    fn collection_header(&mut self) -> Result<(u64, u8)> {
        let header = self.byte()?;
        let count = match header >> 4 {
            15 => self.varint()?,
            short => u64::from(short),
        };
        Ok((count, header & 0x0f))
    }

    fn skip_value(&mut self, ty: u8, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(malformed(self.pos, "structs nest too deep"));
        }
        match ty {
            BOOLEAN_TRUE | BOOLEAN_FALSE => Ok(()),
            BYTE => self.skip(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.skip(8),
            BINARY => {
                let len = self.varint()?;
                self.skip(len)
            }
            LIST | SET => {
                let (count, element) = self.collection_header()?;
                for _ in 0..count {
                    self.skip_element(element, depth + 1)?;
                }
                Ok(())
            }
            MAP => {
                let count = self.varint()?;
                if count > 0 {
                    let types = self.byte()?;
                    for _ in 0..count {
                        self.skip_element(types >> 4, depth + 1)?;
                        self.skip_element(types & 0x0f, depth + 1)?;
                    }
                }
                Ok(())
            }
            STRUCT => {
                let mut last = 0;
                while let Some((id, ty)) = self.field_header(last)? {
                    self.skip_value(ty, depth + 1)?;
                    last = id;
                }
                Ok(())
            }
            other => Err(malformed(self.pos, &format!("unknown Thrift type {other}"))),
        }
    }

    /// A collection element: as a field value, except that a boolean takes one byte.
    fn skip_element(&mut self, ty: u8, depth: usize) -> Result<()> {
        match ty {
            BOOLEAN_TRUE | BOOLEAN_FALSE => self.skip(1),
            _ => self.skip_value(ty, depth),
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::RecordBatch;
    use bytes::Bytes;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::basic::{ConvertedType, LogicalType};
    use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};
    use parquet::schema::types::Type as ParquetType;

    use super::*;

    /// Written by DuckDB 1.5.5 with core/tests/fixtures/duckdb_nested.sql: a flat column, a list,
    /// a map and a list of structs, with NULL and empty lists and maps, in two row groups.
    const DUCKDB_FILE: &[u8] = include_bytes!("../../tests/fixtures/duckdb_nested.parquet");

    fn footer_of(file: &[u8]) -> &[u8] {
        let len = u32::from_le_bytes(file[file.len() - 8..file.len() - 4].try_into().unwrap()) as usize;
        &file[file.len() - 8 - len..file.len() - 8]
    }

    /// A Parquet file of `body` (from the leading magic to the footer) and `footer`.
    fn parquet_file(body: &[u8], footer: &[u8]) -> Bytes {
        let mut out = body.to_vec();
        out.extend_from_slice(footer);
        out.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        out.extend_from_slice(b"PAR1");
        Bytes::from(out)
    }

    /// The DuckDB file with `footer`.
    fn with_footer(footer: &[u8]) -> Bytes {
        parquet_file(&DUCKDB_FILE[..DUCKDB_FILE.len() - 8 - footer_of(DUCKDB_FILE).len()], footer)
    }

    fn metadata(file: &Bytes) -> ParquetMetaData {
        ParquetMetaDataReader::new().with_page_index_policy(PageIndexPolicy::Optional).parse_and_finish(file).unwrap()
    }

    fn rows(file: Bytes) -> Vec<RecordBatch> {
        ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// The groups of a schema, as (name, converted type, logical type), depth first.
    fn groups(ty: &ParquetType, out: &mut Vec<(String, ConvertedType, Option<LogicalType>)>) {
        if let ParquetType::GroupType { basic_info, fields } = ty {
            out.push((
                basic_info.name().to_string(),
                basic_info.converted_type(),
                basic_info.logical_type_ref().cloned(),
            ));
            for field in fields {
                groups(field, out);
            }
        }
    }

    fn group_annotations(metadata: &ParquetMetaData) -> Vec<(String, ConvertedType, Option<LogicalType>)> {
        let mut out = Vec::new();
        groups(metadata.file_metadata().schema(), &mut out);
        out
    }

    #[test]
    fn duckdb_lists_and_maps_get_the_logical_types_pyarrow_writes() {
        let original = Bytes::from_static(DUCKDB_FILE);
        let footer =
            annotate_lists_and_maps(footer_of(DUCKDB_FILE)).unwrap().expect("DuckDB's groups lack LogicalType");
        let annotated = with_footer(&footer);
        let none = |name: &str, converted| (name.to_string(), converted, None);
        assert_eq!(
            group_annotations(&metadata(&original)),
            [
                none("duckdb_schema", ConvertedType::NONE),
                none("tags", ConvertedType::LIST),
                none("list", ConvertedType::NONE),
                none("attrs", ConvertedType::MAP),
                none("key_value", ConvertedType::NONE),
                none("points", ConvertedType::LIST),
                none("list", ConvertedType::NONE),
                none("element", ConvertedType::NONE),
            ]
        );
        // As pyarrow annotates the same schema: LIST and MAP next to the ConvertedType, nothing
        // on the repeated groups.
        assert_eq!(
            group_annotations(&metadata(&annotated)),
            [
                none("duckdb_schema", ConvertedType::NONE),
                ("tags".into(), ConvertedType::LIST, Some(LogicalType::List)),
                none("list", ConvertedType::NONE),
                ("attrs".into(), ConvertedType::MAP, Some(LogicalType::Map)),
                none("key_value", ConvertedType::NONE),
                ("points".into(), ConvertedType::LIST, Some(LogicalType::List)),
                none("list", ConvertedType::NONE),
                none("element", ConvertedType::NONE),
            ]
        );
    }

    #[test]
    fn only_the_logical_types_are_added_every_other_byte_is_kept() {
        let original = footer_of(DUCKDB_FILE);
        let annotated = annotate_lists_and_maps(original).unwrap().unwrap();
        // Each group's last field is its field id (9), so field 10 follows with a delta of 1.
        let list = [0x1c, 0x3c, 0x00, 0x00];
        let map = [0x1c, 0x2c, 0x00, 0x00];
        let (mut a, mut o, mut inserted) = (0, 0, Vec::new());
        while o < original.len() {
            if annotated[a] == original[o] {
                (a, o) = (a + 1, o + 1);
            } else {
                let run: [u8; 4] = annotated[a..a + 4].try_into().unwrap();
                assert!(run == list || run == map, "unexpected bytes {run:x?} at {a}");
                inserted.push(run);
                a += 4;
            }
        }
        assert_eq!(a, annotated.len());
        assert_eq!(inserted, [list, map, list]);

        // The parsed metadata agrees too: rows, row groups, column chunks, created_by.
        let (before, after) = (metadata(&Bytes::from_static(DUCKDB_FILE)), metadata(&with_footer(&annotated)));
        assert_eq!(before.file_metadata().num_rows(), after.file_metadata().num_rows());
        assert_eq!(before.file_metadata().created_by(), after.file_metadata().created_by());
        assert_eq!(before.file_metadata().column_orders(), after.file_metadata().column_orders());
        assert_eq!(before.num_row_groups(), 2);
        for (b, a) in before.row_groups().iter().zip(after.row_groups()) {
            assert_eq!(
                (b.num_rows(), b.total_byte_size(), b.file_offset()),
                (a.num_rows(), a.total_byte_size(), a.file_offset())
            );
            assert_eq!(b.columns(), a.columns());
        }
    }

    #[test]
    fn rows_read_the_same_before_and_after() {
        let before = rows(Bytes::from_static(DUCKDB_FILE));
        let footer = annotate_lists_and_maps(footer_of(DUCKDB_FILE)).unwrap().unwrap();
        let after = rows(with_footer(&footer));
        assert_eq!(before.iter().map(RecordBatch::num_rows).sum::<usize>(), 2100);
        assert_eq!(before, after);
    }

    #[test]
    fn an_annotated_footer_is_left_alone() {
        let annotated = annotate_lists_and_maps(footer_of(DUCKDB_FILE)).unwrap().unwrap();
        assert_eq!(annotate_lists_and_maps(&annotated).unwrap(), None);
    }

    /// A hand-encoded FileMetaData: version 1, the schema `schema { optional group tags (LIST)
    /// { repeated group list { optional int32 element } } }` with `extra` appended to the
    /// fields of `tags`, no rows, no row groups.
    fn minimal_footer(extra: &[u8]) -> Vec<u8> {
        let mut footer = vec![0x15, 0x02, 0x19, 0x4c];
        footer.extend_from_slice(&[0x48, 0x06]);
        footer.extend_from_slice(b"schema");
        footer.extend_from_slice(&[0x15, 0x02, 0x00]);
        // tags: 3 repetition OPTIONAL, 4 name, 5 num_children 1, 6 converted_type LIST
        footer.extend_from_slice(&[0x35, 0x02, 0x18, 0x04]);
        footer.extend_from_slice(b"tags");
        footer.extend_from_slice(&[0x15, 0x02, 0x15, 0x06]);
        footer.extend_from_slice(extra);
        footer.push(0x00);
        footer.extend_from_slice(&[0x35, 0x04, 0x18, 0x04]);
        footer.extend_from_slice(b"list");
        footer.extend_from_slice(&[0x15, 0x02, 0x00]);
        footer.extend_from_slice(&[0x15, 0x02, 0x25, 0x02, 0x18, 0x07]);
        footer.extend_from_slice(b"element");
        footer.push(0x00);
        // 3 num_rows 0, 4 row_groups [], STOP
        footer.extend_from_slice(&[0x16, 0x00, 0x19, 0x0c, 0x00]);
        footer
    }

    fn tags_logical_type(footer: &[u8]) -> Option<LogicalType> {
        let metadata = metadata(&parquet_file(b"PAR1", footer));
        metadata.file_metadata().schema_descr().root_schema().get_fields()[0]
            .get_basic_info()
            .logical_type_ref()
            .cloned()
    }

    #[test]
    fn a_group_without_field_id_gets_its_logical_type_after_its_converted_type() {
        let footer = minimal_footer(&[]);
        assert_eq!(tags_logical_type(&footer), None);
        let annotated = annotate_lists_and_maps(&footer).unwrap().unwrap();
        // Field 10 four ids after field 6.
        assert_eq!(annotated.len(), footer.len() + 4);
        assert!(annotated.windows(4).any(|w| w == [0x4c, 0x3c, 0x00, 0x00]));
        assert_eq!(tags_logical_type(&annotated), Some(LogicalType::List));
    }

    #[test]
    fn a_group_whose_last_field_is_past_10_gets_a_long_field_header() {
        // Field 12 (unknown to parquet-format today), an i32 0.
        let footer = minimal_footer(&[0x65, 0x00]);
        let annotated = annotate_lists_and_maps(&footer).unwrap().unwrap();
        // Type STRUCT with delta 0, then field id 10 as zigzag varint (20).
        assert!(annotated.windows(5).any(|w| w == [0x0c, 0x14, 0x3c, 0x00, 0x00]));
        assert_eq!(tags_logical_type(&annotated), Some(LogicalType::List));
    }

    #[test]
    fn a_malformed_footer_fails_without_panicking() {
        let footer = footer_of(DUCKDB_FILE);
        for len in 0..footer.len() {
            assert!(annotate_lists_and_maps(&footer[..len]).is_err(), "a footer cut at {len} bytes passed");
        }
        let mut trailing = footer.to_vec();
        trailing.push(0x00);
        let err = annotate_lists_and_maps(&trailing).unwrap_err();
        assert_eq!(
            err.message(),
            format!("the Parquet footer is malformed at byte {}: bytes follow the end of FileMetaData", footer.len())
        );
        // A list whose element type is not a Thrift type.
        assert!(annotate_lists_and_maps(&[0x19, 0x1f, 0x00]).is_err());
    }
}
