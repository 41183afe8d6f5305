//===----------------------------------------------------------------------===//
// floe: the DuckDB file system behind `floe://` paths — every data file floe's tables read or
// write, served by the core's storage layer (S3, GCS, Azure) with the table's own credentials.
//
// DuckDB's Parquet reader and writer see a table's files as `floe://<storage id>/<url>`; the core
// knows which table (and so which credentials) a storage id stands for. `s3://` and the other
// schemes stay with whoever serves them (httpfs), so a user's own read_parquet('s3://...') is
// untouched, and no storage key floe obtains ever enters DuckDB's secret manager.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/file_system.hpp"
#include "floe/ffi.hpp"

namespace floe {

using FileHandlePtr = CoreHandle<FloeFile, floe_file_free>;

//! One object opened for reading (ranged reads, no request until the first) or writing (a
//! streaming upload, completed by Close; dropped unclosed, the upload is abandoned).
class FloeFileHandle : public duckdb::FileHandle {
public:
	FloeFileHandle(duckdb::FileSystem &fs, const string &path, duckdb::FileOpenFlags flags, FileHandlePtr file,
	               duckdb::optional_idx size);

	void Close() override;

	//! The object's size: known from the manifest, asked once, or written so far.
	idx_t Size();
	void ReadAt(void *buffer, idx_t length, idx_t location);
	void Append(const void *data, idx_t length, idx_t location);
	bool Writing() const {
		return writing;
	}

	idx_t position = 0;

private:
	FileHandlePtr file;
	duckdb::optional_idx size;
	bool writing;
	bool closed = false;
};

class FloeFileSystem : public duckdb::FileSystem {
public:
	static constexpr const char *PREFIX = "floe://";
	//! The object's own URL behind a `floe://` path (the core decodes it); any other path as it is.
	static string RealPath(const string &path);

	std::string GetName() const override {
		return "FloeFileSystem";
	}
	bool CanHandleFile(const string &path) override;

	unique_ptr<duckdb::FileHandle> OpenFile(const string &path, duckdb::FileOpenFlags flags,
	                                        duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
	bool SupportsOpenFileExtended() const override {
		return true;
	}
	unique_ptr<duckdb::FileHandle> OpenFileExtended(const duckdb::OpenFileInfo &info, duckdb::FileOpenFlags flags,
	                                                duckdb::optional_ptr<duckdb::FileOpener> opener) override;

	void Read(duckdb::FileHandle &handle, void *buffer, int64_t nr_bytes, idx_t location) override;
	int64_t Read(duckdb::FileHandle &handle, void *buffer, int64_t nr_bytes) override;
	void Write(duckdb::FileHandle &handle, void *buffer, int64_t nr_bytes, idx_t location) override;
	int64_t Write(duckdb::FileHandle &handle, void *buffer, int64_t nr_bytes) override;
	int64_t GetFileSize(duckdb::FileHandle &handle) override;
	duckdb::timestamp_t GetLastModifiedTime(duckdb::FileHandle &handle) override;
	string GetVersionTag(duckdb::FileHandle &handle) override;
	duckdb::FileType GetFileType(duckdb::FileHandle &handle) override;
	void FileSync(duckdb::FileHandle &handle) override;

	bool CanSeek() override {
		return true;
	}
	bool OnDiskFile(duckdb::FileHandle &handle) override {
		// Read: remote, so DuckDB's Parquet reader prefetches whole column chunks in large reads.
		// Written: as a local file, because the upload gathers its own parts and sends them
		// concurrently (core/src/storage/object.rs). DuckDB 2.0 holds back writes to a remote file
		// until 8 MiB of them are queued, with the buffers they were prepared in: 85 MiB more at
		// the peak of a 10M-row CTAS, for nothing the upload needs.
		return handle.Cast<FloeFileHandle>().Writing();
	}
	void Seek(duckdb::FileHandle &handle, idx_t location) override;
	idx_t SeekPosition(duckdb::FileHandle &handle) override;
	void Reset(duckdb::FileHandle &handle) override;

	bool FileExists(const string &path, duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
	void RemoveFile(const string &path, duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
	bool TryRemoveFile(const string &path, duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
	bool DirectoryExists(const string &directory, duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
	void CreateDirectory(const string &directory, duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
	void RemoveDirectory(const string &directory, duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
	bool ListFiles(const string &directory, const std::function<void(const string &, bool)> &callback,
	               duckdb::FileOpener *opener = nullptr) override;
	vector<duckdb::OpenFileInfo> Glob(const string &path, duckdb::FileOpener *opener = nullptr) override;

private:
	//! The objects under `directory`, as floe:// paths.
	vector<string> List(const string &directory);
};

} // namespace floe
