#include "floe/file_system.hpp"

#include "duckdb/common/string_util.hpp"
#include "floe/json.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

FloeFileHandle::FloeFileHandle(FileSystem &fs, const string &path, FileOpenFlags flags, FileHandlePtr file_p,
                               optional_idx size_p)
    : FileHandle(fs, path, flags), file(std::move(file_p)), size(size_p), writing(flags.OpenForWriting()) {
}

void FloeFileHandle::Close() {
	if (writing && !closed) {
		// Marked first: a failed upload is not completed again by a second Close.
		closed = true;
		Check(floe_file_close(file.get()));
	}
}

idx_t FloeFileHandle::Size() {
	if (!size.IsValid() || writing) {
		uint64_t result = 0;
		Check(floe_file_size(file.get(), &result));
		if (writing) {
			return result;
		}
		size = result;
	}
	return size.GetIndex();
}

void FloeFileHandle::ReadAt(void *buffer, idx_t length, idx_t location) {
	if (writing) {
		throw IOException("Cannot read \"%s\": it is open for writing", path);
	}
	Check(floe_file_read(file.get(), location, static_cast<uint8_t *>(buffer), length));
}

void FloeFileHandle::Append(const void *data, idx_t length, idx_t location) {
	if (!writing) {
		throw IOException("Cannot write \"%s\": it is open for reading", path);
	}
	if (location != position) {
		// Object stores take a file as one stream; DuckDB's writers only ever append.
		throw IOException("Cannot write \"%s\" at offset %llu: floe writes objects front to back (at %llu)", path,
		                  location, position);
	}
	Check(floe_file_write(file.get(), static_cast<const uint8_t *>(data), length));
	position += length;
}

string FloeFileSystem::RealPath(const string &path) {
	if (!StringUtil::StartsWith(path, PREFIX)) {
		return path;
	}
	CoreString url;
	Check(floe_path_real(path.c_str(), url.Out()));
	return string(url.Data(), url.Size());
}

bool FloeFileSystem::CanHandleFile(const string &path) {
	return StringUtil::StartsWith(path, PREFIX);
}

unique_ptr<FileHandle> FloeFileSystem::OpenFile(const string &path, FileOpenFlags flags,
                                                optional_ptr<FileOpener> opener) {
	return OpenFileExtended(OpenFileInfo(path), flags, opener);
}

unique_ptr<FileHandle> FloeFileSystem::OpenFileExtended(const OpenFileInfo &info, FileOpenFlags flags,
                                                        optional_ptr<FileOpener> opener) {
	auto writing = flags.OpenForWriting();
	if (writing && flags.OpenForReading()) {
		throw IOException("Cannot open \"%s\" for reading and writing at once: objects are read or written whole",
		                  info.path);
	}
	if (!writing && flags.ReturnNullIfNotExists() && !FileExists(info.path, opener)) {
		return nullptr;
	}
	// The size a manifest recorded saves the request that would ask for it.
	optional_idx size;
	if (!writing && info.extended_info) {
		auto entry = info.extended_info->options.find("file_size");
		if (entry != info.extended_info->options.end() && !entry->second.IsNull()) {
			size = entry->second.GetValue<uint64_t>();
		}
	}
	FileHandlePtr file;
	Check(floe_file_open(info.path.c_str(), writing, Out(file)));
	return make_uniq<FloeFileHandle>(*this, info.path, flags, std::move(file), size);
}

void FloeFileSystem::Read(FileHandle &handle, void *buffer, int64_t nr_bytes, idx_t location) {
	handle.Cast<FloeFileHandle>().ReadAt(buffer, NumericCast<idx_t>(nr_bytes), location);
}

int64_t FloeFileSystem::Read(FileHandle &handle, void *buffer, int64_t nr_bytes) {
	auto &file = handle.Cast<FloeFileHandle>();
	auto size = file.Size();
	auto available = file.position < size ? size - file.position : 0;
	auto length = MinValue<idx_t>(available, NumericCast<idx_t>(nr_bytes));
	if (length > 0) {
		file.ReadAt(buffer, length, file.position);
		file.position += length;
	}
	return NumericCast<int64_t>(length);
}

void FloeFileSystem::Write(FileHandle &handle, void *buffer, int64_t nr_bytes, idx_t location) {
	handle.Cast<FloeFileHandle>().Append(buffer, NumericCast<idx_t>(nr_bytes), location);
}

int64_t FloeFileSystem::Write(FileHandle &handle, void *buffer, int64_t nr_bytes) {
	auto &file = handle.Cast<FloeFileHandle>();
	file.Append(buffer, NumericCast<idx_t>(nr_bytes), file.position);
	return nr_bytes;
}

int64_t FloeFileSystem::GetFileSize(FileHandle &handle) {
	return NumericCast<int64_t>(handle.Cast<FloeFileHandle>().Size());
}

timestamp_t FloeFileSystem::GetLastModifiedTime(FileHandle &handle) {
	// Iceberg data files are written once and never change: no time or tag to revalidate.
	return timestamp_t(0);
}

string FloeFileSystem::GetVersionTag(FileHandle &handle) {
	return "";
}

FileType FloeFileSystem::GetFileType(FileHandle &handle) {
	return FileType::FILE_TYPE_REGULAR;
}

void FloeFileSystem::FileSync(FileHandle &handle) {
	// Nothing to flush early: an upload becomes the object when the handle closes.
}

void FloeFileSystem::Seek(FileHandle &handle, idx_t location) {
	handle.Cast<FloeFileHandle>().position = location;
}

idx_t FloeFileSystem::SeekPosition(FileHandle &handle) {
	return handle.Cast<FloeFileHandle>().position;
}

void FloeFileSystem::Reset(FileHandle &handle) {
	Seek(handle, 0);
}

bool FloeFileSystem::FileExists(const string &path, optional_ptr<FileOpener> opener) {
	bool exists = false;
	Check(floe_path_exists(path.c_str(), &exists));
	return exists;
}

void FloeFileSystem::RemoveFile(const string &path, optional_ptr<FileOpener> opener) {
	Check(floe_path_remove(path.c_str()));
}

bool FloeFileSystem::TryRemoveFile(const string &path, optional_ptr<FileOpener> opener) {
	if (!FileExists(path, opener)) {
		return false;
	}
	RemoveFile(path, opener);
	return true;
}

bool FloeFileSystem::DirectoryExists(const string &directory, optional_ptr<FileOpener> opener) {
	// Object stores have no directories; answering "no" makes DuckDB's writers create (below:
	// nothing to do) rather than list and check what is under a prefix.
	return false;
}

void FloeFileSystem::CreateDirectory(const string &directory, optional_ptr<FileOpener> opener) {
}

void FloeFileSystem::RemoveDirectory(const string &directory, optional_ptr<FileOpener> opener) {
	for (auto &path : List(directory)) {
		RemoveFile(path, opener);
	}
}

vector<string> FloeFileSystem::List(const string &directory) {
	CoreString text;
	Check(floe_path_list(directory.c_str(), text.Out()));
	Json doc(text);
	vector<string> paths;
	size_t index, count;
	yyjson_val *entry;
	yyjson_arr_foreach(doc.Root(), index, count, entry) {
		paths.push_back(json::String(entry));
	}
	return paths;
}

bool FloeFileSystem::ListFiles(const string &directory, const std::function<void(const string &, bool)> &callback,
                               FileOpener *opener) {
	auto prefix = StringUtil::EndsWith(directory, "/") ? directory : directory + "/";
	bool any = false;
	for (auto &path : List(prefix)) {
		any = true;
		callback(StringUtil::StartsWith(path, prefix) ? path.substr(prefix.size()) : path, false);
	}
	return any;
}

vector<OpenFileInfo> FloeFileSystem::Glob(const string &path, FileOpener *opener) {
	// floe names every file it reads; there is no pattern to expand.
	return {OpenFileInfo(path)};
}

} // namespace floe
