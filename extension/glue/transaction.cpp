#include "floe/transaction.hpp"

#include "duckdb/parser/parsed_data/create_schema_info.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "floe/catalog.hpp"
#include "floe/schema_entry.hpp"
#include "floe/table_entry.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static const char *const CURRENT = "\"current\"";

IcebergTransaction::IcebergTransaction(TransactionManager &manager, ClientContext &context, IcebergCatalog &catalog)
    : Transaction(manager, context), catalog(catalog) {
}

IcebergTransaction::~IcebergTransaction() {
}

IcebergTransaction &IcebergTransaction::Get(ClientContext &context, Catalog &catalog) {
	return Transaction::Get(context, catalog).Cast<IcebergTransaction>();
}

IcebergTransaction &IcebergTransaction::Get(CatalogTransaction transaction, Catalog &catalog) {
	if (transaction.transaction) {
		return transaction.transaction->Cast<IcebergTransaction>();
	}
	if (!transaction.context) {
		throw InvalidInputException("Iceberg catalog '%s' can only be used from a client connection",
		                            catalog.GetName());
	}
	return Get(*transaction.context, catalog);
}

static vector<string> StringArray(FloeString text) {
	Json doc(text);
	vector<string> result;
	size_t index, count;
	yyjson_val *item;
	yyjson_arr_foreach(doc.Root(), index, count, item) {
		result.push_back(json::String(item));
	}
	return result;
}

const vector<string> &IcebergTransaction::Namespaces() {
	if (!namespaces_loaded) {
		FloeString text;
		Check(floe_catalog_list_namespaces(catalog.Handle(), &text));
		namespaces = StringArray(text);
		namespaces_loaded = true;
	}
	return namespaces;
}

const vector<string> &IcebergTransaction::TableNames(const string &schema) {
	auto entry = table_names.find(schema);
	if (entry == table_names.end()) {
		FloeString text;
		Check(floe_catalog_list_tables(catalog.Handle(), schema.c_str(), &text));
		entry = table_names.emplace(schema, StringArray(text)).first;
	}
	return entry->second;
}

optional_ptr<IcebergSchemaEntry> IcebergTransaction::GetSchema(const string &name) {
	lock_guard<mutex> guard(lock);
	auto cached = schemas.find(name);
	if (cached != schemas.end()) {
		return cached->second.get();
	}
	// Iceberg names are case-sensitive, DuckDB's are not: prefer the exact name.
	optional_ptr<const string> found;
	for (auto &candidate : Namespaces()) {
		if (candidate == name) {
			found = &candidate;
			break;
		}
		if (!found && StringUtil::CIEquals(candidate, name)) {
			found = &candidate;
		}
	}
	if (!found) {
		return nullptr;
	}
	CreateSchemaInfo info;
	info.schema = *found;
	info.internal = false;
	auto schema = make_uniq<IcebergSchemaEntry>(catalog, info);
	auto &result = *schema;
	schemas[name] = std::move(schema);
	return &result;
}

vector<reference<IcebergSchemaEntry>> IcebergTransaction::AllSchemas() {
	vector<string> names;
	{
		lock_guard<mutex> guard(lock);
		names = Namespaces();
	}
	vector<reference<IcebergSchemaEntry>> result;
	for (auto &name : names) {
		auto schema = GetSchema(name);
		if (schema) {
			result.push_back(*schema);
		}
	}
	return result;
}

static string TableKey(const string &schema, const string &name, const string &selector) {
	return schema + '\x1f' + StringUtil::Lower(name) + '\x1f' + selector;
}

IcebergTableEntry &IcebergTransaction::AddTable(IcebergSchemaEntry &schema, shared_ptr<TableHandle> table,
                                                const string &selector) {
	FloeString text;
	Check(floe_table_describe(table->Get(), selector.c_str(), &text));
	Json doc(text);
	auto root = doc.Root();
	TableDescription description;
	description.name = json::String(json::Get(root, "name"));
	description.location = json::String(json::Get(root, "location"));
	description.selector = selector;
	auto snapshot_id = json::Get(root, "snapshot_id");
	description.snapshot_id = json::IsNull(snapshot_id) ? "null" : std::to_string(json::Int(snapshot_id));
	auto total_records = json::Get(root, "total_records");
	if (!json::IsNull(total_records)) {
		description.total_records = NumericCast<idx_t>(json::Int(total_records));
	}
	description.columns = ParseColumns(json::Get(root, "columns"));
	auto vended = json::Get(root, "duckdb_secret");
	if (!json::IsNull(vended)) {
		size_t len;
		auto raw = yyjson_val_write(vended, 0, &len);
		description.vended_secret = string(raw, len);
		free(raw);
	}
	auto info = IcebergTableEntry::CreateInfo(schema, description);
	auto key = TableKey(schema.name, info->table, selector);
	auto entry = make_uniq<IcebergTableEntry>(catalog, schema, *info, std::move(table), std::move(description));
	auto &result = *entry;
	tables[key] = std::move(entry);
	return result;
}

optional_ptr<IcebergTableEntry> IcebergTransaction::GetTable(IcebergSchemaEntry &schema, const string &name,
                                                             const string &selector) {
	lock_guard<mutex> guard(lock);
	auto cached = tables.find(TableKey(schema.name, name, selector));
	if (cached != tables.end()) {
		return cached->second.get();
	}
	FloeTable *handle = nullptr;
	Check(floe_catalog_load_table(catalog.Handle(), schema.name.c_str(), name.c_str(), &handle));
	if (!handle) {
		// DuckDB matches names case-insensitively; the catalog may hold `Metrics` for `metrics`.
		for (auto &candidate : TableNames(schema.name)) {
			if (candidate != name && StringUtil::CIEquals(candidate, name)) {
				Check(floe_catalog_load_table(catalog.Handle(), schema.name.c_str(), candidate.c_str(), &handle));
				break;
			}
		}
	}
	if (!handle) {
		return nullptr;
	}
	return &AddTable(schema, make_shared_ptr<TableHandle>(handle), selector);
}

vector<reference<IcebergTableEntry>> IcebergTransaction::AllTables(IcebergSchemaEntry &schema) {
	lock_guard<mutex> guard(lock);
	auto names = TableNames(schema.name);
	vector<string> missing;
	for (auto &name : names) {
		if (!tables.count(TableKey(schema.name, name, CURRENT))) {
			missing.push_back(name);
		}
	}
	if (!missing.empty()) {
		string names_json;
		for (auto &name : missing) {
			names_json += (names_json.empty() ? "" : ",") + json::Quote(name);
		}
		names_json = "[" + names_json + "]";
		vector<FloeTable *> handles(missing.size(), nullptr);
		Check(floe_catalog_load_tables(catalog.Handle(), schema.name.c_str(), names_json.c_str(), handles.data(),
		                               handles.size()));
		vector<shared_ptr<TableHandle>> loaded;
		for (auto handle : handles) {
			// A table dropped between listing and loading is simply not there any more.
			if (handle) {
				loaded.push_back(make_shared_ptr<TableHandle>(handle));
			}
		}
		for (auto &table : loaded) {
			AddTable(schema, table, CURRENT);
		}
	}
	vector<reference<IcebergTableEntry>> result;
	for (auto &name : names) {
		auto entry = tables.find(TableKey(schema.name, name, CURRENT));
		if (entry != tables.end()) {
			result.push_back(*entry->second);
		}
	}
	return result;
}

} // namespace floe
