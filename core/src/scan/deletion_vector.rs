//! Deletion vectors (Iceberg format version 3): the rows deleted from one data file as a bitmap
//! of positions, stored as a `deletion-vector-v1` blob in a Puffin file.
//!
//! A Puffin file may hold the vectors of many data files, each blob naming its data file in the
//! `referenced-data-file` property the Puffin spec requires. `iceberg`'s planner hands a scan the
//! Puffin file of a delete entry but not the entry's `content_offset` and
//! `content_size_in_bytes`, so a data file's blob is found through the file's footer instead.
//! That can also find a vector a later one replaced (its manifest entry removed while the
//! Puffin file lives on for the vectors of other data files); such a vector is a subset of the
//! one that replaced it, as deleted rows stay deleted, so the union of all found is exact.

use std::collections::HashMap;

use iceberg::io::FileIO;
use iceberg::puffin::{BlobMetadata, PuffinReader, DELETION_VECTOR_V1};
use roaring::RoaringTreemap;

use crate::error::{Error, Result};

/// The 4 bytes after a blob's length (Puffin spec, "deletion-vector-v1 blob type").
const MAGIC: [u8; 4] = [0xD1, 0xD3, 0x39, 0x64];

/// The blob property naming the data file a vector applies to.
const REFERENCED_DATA_FILE: &str = "referenced-data-file";

/// What a damaged vector leaves a reader to do: its positions cannot be trusted.
const CORRUPT_FIX: &str =
    "the deletion vector is damaged: restore the Puffin file, or rewrite the data file's deletes with the engine that wrote it";

/// The deletion vectors of one Puffin file, by the data file each applies to.
#[derive(Debug)]
pub struct PuffinDeletionVectors {
    path: String,
    blobs: HashMap<String, BlobMetadata>,
}

impl PuffinDeletionVectors {
    /// Reads the footer of Puffin file `path`.
    pub async fn read(file_io: &FileIO, path: &str) -> Result<PuffinDeletionVectors> {
        let unreadable = |e: iceberg::Error| Error::from(e).context(format!("Cannot read Puffin file {path}"));
        let reader = PuffinReader::new(file_io.new_input(path)?);
        let footer = reader.file_metadata().await.map_err(unreadable)?;
        let mut blobs = HashMap::new();
        for blob in footer.blobs().iter().filter(|b| b.blob_type() == DELETION_VECTOR_V1) {
            let data_file = blob.properties().get(REFERENCED_DATA_FILE).ok_or_else(|| {
                Error::storage(format!(
                    "Puffin file {path} has a {DELETION_VECTOR_V1} blob at offset {} without the required \
                     '{REFERENCED_DATA_FILE}' property",
                    blob.offset()
                ))
                .with_fix(CORRUPT_FIX)
            })?;
            if blobs.insert(data_file.clone(), blob.clone()).is_some() {
                return Err(Error::storage(format!(
                    "Puffin file {path} has two deletion vectors for data file {data_file}"
                ))
                .with_fix(CORRUPT_FIX));
            }
        }
        Ok(PuffinDeletionVectors { path: path.to_string(), blobs })
    }

    /// Sorted positions deleted from `data_file` by this file's vector for it, if it has one.
    pub async fn positions(&self, file_io: &FileIO, data_file: &str) -> Result<Vec<i64>> {
        let Some(blob) = self.blobs.get(data_file) else {
            return Ok(Vec::new());
        };
        let path = &self.path;
        let read = PuffinReader::new(file_io.new_input(path)?).blob(blob).await.map_err(|e| {
            Error::from(e).context(format!("Cannot read the deletion vector for data file {data_file} from {path}"))
        })?;
        decode_blob(read.data(), path, data_file)
    }
}

/// The sorted positions a `deletion-vector-v1` blob holds, after checking its length, magic
/// and CRC-32. `puffin_file` and `data_file` name the blob in errors.
pub fn decode_blob(blob: &[u8], puffin_file: &str, data_file: &str) -> Result<Vec<i64>> {
    let corrupt = |what: String| {
        Error::storage(format!("The deletion vector for data file {data_file} in Puffin file {puffin_file} {what}"))
            .with_fix(CORRUPT_FIX)
    };
    // Length (4 bytes, big-endian), magic, vector, CRC-32 of magic and vector (4 bytes, big-endian).
    let framing = 4 + MAGIC.len() + 4;
    if blob.len() < framing {
        return Err(corrupt(format!("is {} bytes long, shorter than the {framing} bytes of its framing", blob.len())));
    }
    let (length, rest) = blob.split_at(4);
    let (checked, crc) = rest.split_at(rest.len() - 4);
    let length = u32::from_be_bytes(length.try_into().expect("4 bytes")) as usize;
    if length != checked.len() {
        return Err(corrupt(format!("says its vector is {length} bytes long, but {} are stored", checked.len())));
    }
    let (magic, vector) = checked.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err(corrupt(format!("starts with {magic:02X?}, not the magic bytes {MAGIC:02X?}")));
    }
    let (stored, computed) = (u32::from_be_bytes(crc.try_into().expect("4 bytes")), crc32fast::hash(checked));
    if stored != computed {
        return Err(corrupt(format!("fails its CRC-32 check (stored {stored:08x}, computed {computed:08x})")));
    }
    // The spec's "portable" 64-bit Roaring format (a little-endian count, then a 4-byte key and a
    // 32-bit Roaring bitmap per key) is the one roaring's RoaringTreemap reads and writes.
    let mut reader = vector;
    let bitmap = RoaringTreemap::deserialize_from(&mut reader)
        .map_err(|e| corrupt(format!("is not a 64-bit Roaring bitmap: {e}")))?;
    if !reader.is_empty() {
        return Err(corrupt(format!("has {} bytes after its bitmap", reader.len())));
    }
    bitmap
        .iter()
        .map(|position| {
            i64::try_from(position).map_err(|_| corrupt(format!("holds position {position}, beyond 2^63 - 1")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob as the Puffin spec lays it out, around `bitmap`.
    fn blob(bitmap: &RoaringTreemap) -> Vec<u8> {
        let mut checked = MAGIC.to_vec();
        bitmap.serialize_into(&mut checked).unwrap();
        let mut blob = (checked.len() as u32).to_be_bytes().to_vec();
        blob.extend_from_slice(&checked);
        blob.extend_from_slice(&crc32fast::hash(&checked).to_be_bytes());
        blob
    }

    fn blob_of(positions: &[u64]) -> Vec<u8> {
        blob(&RoaringTreemap::from_iter(positions.iter().copied()))
    }

    fn decode(blob: &[u8]) -> Result<Vec<i64>> {
        decode_blob(blob, "s3://lake/t/data/dv.puffin", "s3://lake/t/data/a.parquet")
    }

    #[test]
    fn positions_on_both_sides_of_the_32_bit_boundary() {
        let positions = [5, 6, u32::MAX as u64, (1 << 32) + 7, 3 << 40];
        assert_eq!(decode(&blob_of(&positions)).unwrap(), positions.map(|p| p as i64));
    }

    #[test]
    fn run_containers_decode() {
        // Java and CRoaring writers run-optimize their bitmaps: long ranges of deleted rows
        // arrive as run containers, which roaring writes after `optimize`.
        let mut bitmap = RoaringTreemap::from_iter((1_000..11_000u64).chain([1 << 33]));
        assert!(bitmap.optimize());
        let expected: Vec<i64> = (1_000..11_000).chain([1 << 33]).collect();
        assert_eq!(decode(&blob(&bitmap)).unwrap(), expected);
    }

    #[test]
    fn an_empty_vector_deletes_nothing() {
        assert_eq!(decode(&blob_of(&[])).unwrap(), Vec::<i64>::new());
    }

    #[test]
    fn a_flipped_bit_fails_the_crc() {
        let mut damaged = blob_of(&[5, (1 << 32) + 7]);
        let last_vector_byte = damaged.len() - 5;
        damaged[last_vector_byte] ^= 1;
        let err = decode(&damaged).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Storage);
        assert!(err.message().contains("fails its CRC-32 check"), "{err}");
        assert!(err.message().contains("s3://lake/t/data/dv.puffin"), "{err}");
        assert!(err.message().contains("s3://lake/t/data/a.parquet"), "{err}");
        assert!(err.fix().is_some());
    }

    #[test]
    fn wrong_magic_length_and_size_are_named() {
        let good = blob_of(&[1, 2, 3]);
        let mut bad_magic = good.clone();
        bad_magic[4] = 0;
        assert!(decode(&bad_magic).unwrap_err().message().contains("not the magic bytes"));
        let mut bad_length = good.clone();
        bad_length[3] += 1;
        assert!(decode(&bad_length).unwrap_err().message().contains("bytes long, but"));
        assert!(decode(&good[..6]).unwrap_err().message().contains("shorter than the 12 bytes"));
    }

    #[test]
    fn a_position_with_the_sign_bit_is_refused() {
        let err = decode(&blob_of(&[1, 1 << 63])).unwrap_err();
        assert!(err.message().contains("beyond 2^63 - 1"), "{err}");
    }
}
