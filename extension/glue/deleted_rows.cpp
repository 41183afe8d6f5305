#include "floe/deleted_rows.hpp"

#include "floe/duckdb_compat.hpp"
#include "floe/ffi.hpp"
#include "floe/secret.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

DeletedRows::DeletedRows(IcebergTableEntry &table, string request_json, Repeats repeats)
    : table(table), request_json(std::move(request_json)), repeats(repeats) {
}

//! The data file and position columns of `chunk` in unified form.
struct RowIds {
	RowIds(DataChunk &chunk, idx_t file_column, idx_t row_column, const string &table) : table(table) {
		chunk.data[file_column].ToUnifiedFormat(chunk.size(), files);
		chunk.data[row_column].ToUnifiedFormat(chunk.size(), rows);
	}
	const string_t &File(idx_t i) const {
		auto index = files.sel->get_index(i);
		Check(index, files);
		return UnifiedVectorFormat::GetData<string_t>(files)[index];
	}
	int64_t Row(idx_t i) const {
		auto index = rows.sel->get_index(i);
		Check(index, rows);
		return UnifiedVectorFormat::GetData<int64_t>(rows)[index];
	}
	void Check(idx_t index, const UnifiedVectorFormat &format) const {
		if (!format.validity.RowIsValid(index)) {
			throw InternalException("A row of Iceberg table '%s' to delete came without its data file or position",
			                        table);
		}
	}
	UnifiedVectorFormat files;
	UnifiedVectorFormat rows;
	const string &table;
};

void CheckRowLevelTarget(const IcebergTableEntry &table, const char *statement, bool returning) {
	auto name = compat::Str(table.name);
	if (returning) {
		throw BinderException("%s ... RETURNING is not supported for Iceberg table '%s'. Fix: SELECT the rows before "
		                      "or after the %s",
		                      statement, name, statement);
	}
	if (!table.Description().selector.IsCurrent()) {
		throw BinderException("Cannot %s Iceberg table '%s' at a past version (AT ...). Fix: drop the AT clause",
		                      statement, name);
	}
}

void CollectPositions(DataChunk &chunk, idx_t file_column, idx_t row_column, const string &table,
                      PositionsByFile &positions) {
	RowIds ids(chunk, file_column, row_column, table);
	vector<int64_t> *current = nullptr;
	string_t current_file("", 0);
	for (idx_t i = 0; i < chunk.size(); i++) {
		auto &file = ids.File(i);
		if (!current || !(file == current_file)) {
			current = &positions[file.GetString()];
			current_file = file;
		}
		current->push_back(ids.Row(i));
	}
}

void DeletedRows::Add(PositionsByFile &&added) {
	lock_guard<mutex> guard(lock);
	for (auto &entry : added) {
		auto &all = positions[entry.first];
		all.insert(all.end(), entry.second.begin(), entry.second.end());
	}
}

idx_t DeletedRows::AddFirst(DataChunk &chunk, idx_t file_column, idx_t row_column, const SelectionVector &sel,
                            idx_t count, SelectionVector &first) {
	auto &table_name = compat::Str(table.name);
	RowIds ids(chunk, file_column, row_column, table_name);
	idx_t kept = 0;
	lock_guard<mutex> guard(lock);
	// Rows of one data file come together: look the file up once per run.
	std::unordered_set<int64_t> *file_seen = nullptr;
	vector<int64_t> *file_positions = nullptr;
	string_t current_file("", 0);
	for (idx_t i = 0; i < count; i++) {
		auto row = sel.get_index(i);
		auto &file = ids.File(row);
		if (!file_seen || !(file == current_file)) {
			auto name = file.GetString();
			file_seen = &seen[name];
			file_positions = &positions[name];
			current_file = file;
		}
		auto position = ids.Row(row);
		if (repeats != Repeats::NONE && !file_seen->insert(position).second) {
			if (repeats == Repeats::REFUSE) {
				throw InvalidInputException(
				    "MERGE into Iceberg table '%s' matched one target row (row %lld of data file %s) with more than "
				    "one "
				    "source row; nothing was changed. Fix: make the ON condition match each target row at most once "
				    "(deduplicate the source)",
				    table_name, static_cast<long long>(position), file.GetString());
			}
			continue;
		}
		file_positions->push_back(position);
		first.set_index(kept++, row);
	}
	return kept;
}

uint64_t DeletedRows::Commit(ClientContext &context) {
	lock_guard<mutex> guard(lock);
	if (positions.empty()) {
		return 0;
	}
	DeletesHandle deletes;
	Check(floe_deletes_new(request_json.c_str(), Out(deletes)));
	for (auto &entry : positions) {
		Check(floe_deletes_add(deletes.get(), entry.first.c_str(), entry.second.data(), entry.second.size()));
	}
	auto &transaction = IcebergTransaction::Get(context, table.catalog);
	auto secret = StorageSecretJson(context, table.Description().location);
	uint64_t deleted = 0;
	// The core owns the handle from here, whatever the outcome.
	Check(floe_txn_delete(transaction.Writes(), table.Table()->Get(), deletes.release(), secret.c_str(), &deleted));
	positions.clear();
	return deleted;
}

} // namespace floe
