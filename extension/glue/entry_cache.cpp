#include "floe/entry_cache.hpp"

#include "duckdb/parser/parsed_data/create_schema_info.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/catalog.hpp"
#include "floe/columns.hpp"
#include "floe/partitioning.hpp"
#include "floe/schema_entry.hpp"
#include "floe/table_entry.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

IcebergEntryCache::IcebergEntryCache(IcebergCatalog &catalog) : catalog(catalog) {
}

IcebergEntryCache::~IcebergEntryCache() {
}

static vector<string> StringArray(const CoreString &text) {
	Json doc(text);
	vector<string> result;
	size_t index, count;
	yyjson_val *item;
	yyjson_arr_foreach(doc.Root(), index, count, item) {
		result.push_back(json::String(item));
	}
	return result;
}

//! `name` among `candidates`: Iceberg names are case-sensitive, DuckDB's are not, so the exact
//! name wins and otherwise the first that differs only in case; nullptr if none.
static optional_ptr<const string> MatchName(const vector<string> &candidates, const string &name) {
	optional_ptr<const string> found;
	for (auto &candidate : candidates) {
		if (candidate == name) {
			return &candidate;
		}
		if (!found && StringUtil::CIEquals(candidate, name)) {
			found = &candidate;
		}
	}
	return found;
}

static string EntryKey(const string &schema, const string &name) {
	return schema + '\x1f' + StringUtil::Lower(name);
}

static string EntryKey(const string &schema, const string &name, const SnapshotSelector &selector) {
	return EntryKey(schema, name) + '\x1f' + selector.Key();
}

const vector<string> &IcebergEntryCache::Namespaces() {
	if (!namespaces_loaded) {
		CoreString text;
		Check(floe_catalog_list_namespaces(catalog.Handle(), text.Out()));
		namespaces = StringArray(text);
		namespaces_loaded = true;
	}
	return namespaces;
}

vector<string> &IcebergEntryCache::Listed(case_insensitive_map_t<vector<string>> &lists, const string &schema,
                                          FloeError *(*list)(const FloeCatalog *, const char *, FloeString *)) {
	auto entry = lists.find(schema);
	if (entry == lists.end()) {
		vector<string> names;
		// A namespace created in this transaction has nothing in the catalog yet.
		if (!created_schemas.count(schema)) {
			CoreString text;
			Check(list(catalog.Handle(), schema.c_str(), text.Out()));
			names = StringArray(text);
		}
		entry = lists.emplace(schema, std::move(names)).first;
	}
	return entry->second;
}

vector<string> &IcebergEntryCache::TableNames(const string &schema) {
	return Listed(table_names, schema, floe_catalog_list_tables);
}

vector<string> &IcebergEntryCache::ViewNames(const string &schema) {
	return Listed(view_names, schema, floe_catalog_list_views);
}

//===--------------------------------------------------------------------===//
// Schemas
//===--------------------------------------------------------------------===//
IcebergSchemaEntry &IcebergEntryCache::AddSchema(const string &name) {
	CreateSchemaInfo info;
	info.SetSchema(Identifier(name));
	info.internal = false;
	auto schema = make_uniq<IcebergSchemaEntry>(catalog, info);
	auto &result = *schema;
	schemas[name] = std::move(schema);
	return result;
}

optional_ptr<IcebergSchemaEntry> IcebergEntryCache::GetSchema(const string &name) {
	lock_guard<mutex> guard(lock);
	auto cached = schemas.find(name);
	if (cached != schemas.end()) {
		return cached->second.get();
	}
	if (!namespaces_loaded && !name.empty()) {
		if (catalog.KnowsNamespace(name)) {
			return &AddSchema(name);
		}
		// A statement names one namespace: ask for it rather than list them all (one request
		// whatever the catalog holds; the listing is only needed for other spellings).
		int32_t exists = 0;
		Check(floe_catalog_namespace_exists(catalog.Handle(), name.c_str(), &exists));
		if (exists) {
			catalog.RememberNamespace(name, true);
			return &AddSchema(name);
		}
	}
	auto found = MatchName(Namespaces(), name);
	if (!found) {
		return nullptr;
	}
	return &AddSchema(*found);
}

vector<reference<IcebergSchemaEntry>> IcebergEntryCache::AllSchemas() {
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

IcebergSchemaEntry &IcebergEntryCache::SchemaCreated(const string &name) {
	lock_guard<mutex> guard(lock);
	auto &schema = AddSchema(name);
	created_schemas.insert(name);
	namespaces.push_back(name);
	return schema;
}

void IcebergEntryCache::SchemaDropped(const string &name) {
	lock_guard<mutex> guard(lock);
	namespaces.erase(std::remove(namespaces.begin(), namespaces.end(), name), namespaces.end());
}

//===--------------------------------------------------------------------===//
// Tables
//===--------------------------------------------------------------------===//
IcebergTableEntry &IcebergEntryCache::AddTable(IcebergSchemaEntry &schema, shared_ptr<SharedTable> table,
                                               const SnapshotSelector &selector, const string &name) {
	JsonBuilder json;
	CoreString text;
	Check(floe_table_describe(table->Get(), json.Write(selector.ToJson(json)).c_str(), text.Out()));
	Json doc(text);
	auto root = doc.Root();
	TableDescription description;
	description.name = compat::Str(schema.name) + "." + name;
	description.location = json::String(json::Get(root, "location"));
	description.selector = selector;
	auto snapshot_id = json::Get(root, "snapshot_id");
	if (!json::IsNull(snapshot_id)) {
		description.snapshot_id = Value::BIGINT(json::Int(snapshot_id));
	}
	auto total_records = json::Get(root, "total_records");
	if (!json::IsNull(total_records)) {
		description.total_records = NumericCast<idx_t>(json::Int(total_records));
	}
	description.columns = ParseColumns(json::Get(root, "columns"));
	description.partition_spec = ParsePartitionSpec(json::Get(root, "partition_spec"));
	description.sort_order = ParseSortOrder(json::Get(root, "sort_order"));
	auto restricted = json::Get(root, "restricted");
	if (!json::IsNull(restricted)) {
		description.restricted = true;
		description.restricted_select = json::String(json::Get(restricted, "select"));
		description.restricted_filter = json::String(json::Get(restricted, "filter"));
	}
	auto info = IcebergTableEntry::CreateInfo(schema, name, description);
	auto entry = make_uniq<IcebergTableEntry>(catalog, schema, *info, std::move(table), std::move(description));
	auto &described = entry->Description();
	if (described.restricted && RestrictedView::Supported()) {
		entry->SetRestrictedView(RestrictedView::Create(catalog, schema, *entry, described.restricted_select,
		                                                described.restricted_filter, catalog.RawToken()));
	}
	auto &result = *entry;
	auto &slot = tables[EntryKey(compat::Str(schema.name), name, selector)];
	if (slot) {
		// The statement that replaced it may still hold the old entry.
		retired_tables.push_back(std::move(slot));
	}
	slot = std::move(entry);
	return result;
}

optional_ptr<IcebergTableEntry> IcebergEntryCache::GetTable(IcebergSchemaEntry &schema, const string &name,
                                                            const SnapshotSelector &selector,
                                                            const vector<ViewName> &through) {
	lock_guard<mutex> guard(lock);
	auto cached = tables.find(EntryKey(compat::Str(schema.name), name, selector));
	if (cached != tables.end()) {
		return cached->second.get();
	}
	if (removed_tables.count(EntryKey(compat::Str(schema.name), name))) {
		return nullptr;
	}
	TableHandle handle;
	string found_name = name;
	JsonBuilder json;
	auto views = json.Array();
	for (auto &view : through) {
		auto object = json.Object();
		json.Add(object, "schema", json.String(view.schema));
		json.Add(object, "name", json.String(view.name));
		json.Append(views, object);
	}
	auto views_json = json.Write(views);
	Check(
	    floe_catalog_load_table(catalog.Handle(), schema.name.c_str(), name.c_str(), views_json.c_str(), Out(handle)));
	if (!handle) {
		// DuckDB matches names case-insensitively; the catalog may hold `Metrics` for `metrics`.
		for (auto &candidate : TableNames(compat::Str(schema.name))) {
			if (candidate != name && StringUtil::CIEquals(candidate, name)) {
				Check(floe_catalog_load_table(catalog.Handle(), schema.name.c_str(), candidate.c_str(),
				                              views_json.c_str(), Out(handle)));
				found_name = candidate;
				break;
			}
		}
	}
	if (!handle) {
		return nullptr;
	}
	return &AddTable(schema, make_shared_ptr<SharedTable>(std::move(handle)), selector, found_name);
}

vector<reference<IcebergTableEntry>> IcebergEntryCache::AllTables(IcebergSchemaEntry &schema) {
	lock_guard<mutex> guard(lock);
	auto current = SnapshotSelector::Current();
	auto names = TableNames(compat::Str(schema.name));
	vector<string> missing;
	for (auto &name : names) {
		if (!tables.count(EntryKey(compat::Str(schema.name), name, current))) {
			missing.push_back(name);
		}
	}
	if (!missing.empty()) {
		JsonBuilder json;
		auto names_json = json.Array();
		for (auto &name : missing) {
			json.Append(names_json, json.String(name));
		}
		vector<FloeTable *> raw(missing.size(), nullptr);
		auto error = floe_catalog_load_tables(catalog.Handle(), schema.name.c_str(), json.Write(names_json).c_str(),
		                                      raw.data(), raw.size());
		vector<TableHandle> handles;
		for (auto table : raw) {
			handles.emplace_back(table);
		}
		Check(error);
		for (idx_t i = 0; i < handles.size(); i++) {
			// A table dropped between listing and loading is simply not there any more.
			if (handles[i]) {
				AddTable(schema, make_shared_ptr<SharedTable>(std::move(handles[i])), current, missing[i]);
			}
		}
	}
	vector<reference<IcebergTableEntry>> result;
	for (auto &name : names) {
		auto entry = tables.find(EntryKey(compat::Str(schema.name), name, current));
		if (entry != tables.end()) {
			result.push_back(*entry->second);
		}
	}
	return result;
}

string IcebergEntryCache::TableNamesOf(const string &schema) {
	lock_guard<mutex> guard(lock);
	auto entry = table_names.find(schema);
	if (entry == table_names.end()) {
		return "tables";
	}
	return StringUtil::Join(entry->second, ", ");
}

IcebergTableEntry &IcebergEntryCache::TableCreated(IcebergSchemaEntry &schema, const string &name, TableHandle table) {
	lock_guard<mutex> guard(lock);
	TableNames(compat::Str(schema.name)).push_back(name);
	removed_tables.erase(EntryKey(compat::Str(schema.name), name));
	return AddTable(schema, make_shared_ptr<SharedTable>(std::move(table)), SnapshotSelector::Current(), name);
}

IcebergTableEntry &IcebergEntryCache::TableChanged(IcebergSchemaEntry &schema, const string &name, TableHandle table) {
	lock_guard<mutex> guard(lock);
	return AddTable(schema, make_shared_ptr<SharedTable>(std::move(table)), SnapshotSelector::Current(), name);
}

void IcebergEntryCache::RetireTable(IcebergSchemaEntry &schema, const string &name) {
	auto key = EntryKey(compat::Str(schema.name), name, SnapshotSelector::Current());
	// Statements of this transaction may still hold the entry.
	retired_tables.push_back(std::move(tables[key]));
	tables.erase(key);
	removed_tables.insert(EntryKey(compat::Str(schema.name), name));
	auto &names = TableNames(compat::Str(schema.name));
	names.erase(std::remove(names.begin(), names.end(), name), names.end());
}

void IcebergEntryCache::TableDropped(IcebergSchemaEntry &schema, const string &name) {
	lock_guard<mutex> guard(lock);
	RetireTable(schema, name);
}

void IcebergEntryCache::TableRenamed(IcebergSchemaEntry &schema, const string &from, const string &to) {
	lock_guard<mutex> guard(lock);
	auto table = tables[EntryKey(compat::Str(schema.name), from, SnapshotSelector::Current())]->Table();
	RetireTable(schema, from);
	removed_tables.erase(EntryKey(compat::Str(schema.name), to));
	TableNames(compat::Str(schema.name)).push_back(to);
	AddTable(schema, table, SnapshotSelector::Current(), to);
}

//===--------------------------------------------------------------------===//
// Views
//===--------------------------------------------------------------------===//
ViewCatalogEntry &IcebergEntryCache::AddView(IcebergSchemaEntry &schema, CreateViewInfo &info) {
	auto entry = make_uniq<IcebergView>(catalog, schema, info);
	auto &result = *entry;
	auto &slot = views[EntryKey(compat::Str(schema.name), compat::Str(info.GetViewName()))];
	if (slot) {
		retired_views.push_back(std::move(slot));
	}
	slot = std::move(entry);
	return result;
}

optional_ptr<ViewCatalogEntry> IcebergEntryCache::GetView(IcebergSchemaEntry &schema, const string &name) {
	lock_guard<mutex> guard(lock);
	auto cached = views.find(EntryKey(compat::Str(schema.name), name));
	if (cached != views.end()) {
		return cached->second.get();
	}
	if (removed_views.count(EntryKey(compat::Str(schema.name), name))) {
		return nullptr;
	}
	// Listing first: most lookups are of tables, and a list is one request per namespace.
	auto found = MatchName(ViewNames(compat::Str(schema.name)), name);
	if (!found) {
		return nullptr;
	}
	return LoadView(schema, *found);
}

optional_ptr<ViewCatalogEntry> IcebergEntryCache::LoadView(IcebergSchemaEntry &schema, const string &view_name) {
	CoreString text;
	Check(floe_catalog_load_view(catalog.Handle(), schema.name.c_str(), view_name.c_str(), text.Out()));
	Json doc(text);
	if (json::IsNull(doc.Root())) {
		return nullptr;
	}
	auto sql = json::String(json::Get(doc.Root(), "sql"));
	auto parser = compat::BuiltinParser();
	try {
		parser.ParseQuery(sql);
	} catch (std::exception &e) {
		throw InvalidInputException("View '%s.%s' of Iceberg catalog '%s' has SQL DuckDB cannot parse (%s). Fix: "
		                            "replace the view with CREATE OR REPLACE VIEW",
		                            compat::Str(schema.name), view_name, compat::Str(catalog.GetName()), e.what());
	}
	if (parser.statements.size() != 1 || parser.statements[0]->type != StatementType::SELECT_STATEMENT) {
		throw InvalidInputException("View '%s.%s' of Iceberg catalog '%s' is not a single SELECT. Fix: replace the "
		                            "view with CREATE OR REPLACE VIEW",
		                            compat::Str(schema.name), view_name, compat::Str(catalog.GetName()));
	}
	CreateViewInfo info;
	info.SetQualifiedName(QualifiedName(Identifier(catalog.GetName()), schema.name, Identifier(view_name)));
	info.sql = sql;
	info.query = unique_ptr_cast<SQLStatement, SelectStatement>(std::move(parser.statements[0]));
	// The Iceberg schema names the columns (CREATE VIEW v(a, b) AS ...); DuckDB binds the types.
	for (auto &column : ParseColumns(json::Get(doc.Root(), "columns"))) {
		info.aliases.push_back(Identifier(column.name));
	}
	return &AddView(schema, info);
}

vector<reference<ViewCatalogEntry>> IcebergEntryCache::AllViews(IcebergSchemaEntry &schema) {
	vector<string> names;
	{
		lock_guard<mutex> guard(lock);
		names = ViewNames(compat::Str(schema.name));
	}
	vector<reference<ViewCatalogEntry>> result;
	for (auto &name : names) {
		auto view = GetView(schema, name);
		if (view) {
			result.push_back(*view);
		}
	}
	return result;
}

ViewCatalogEntry &IcebergEntryCache::ViewCreated(IcebergSchemaEntry &schema, CreateViewInfo &info) {
	lock_guard<mutex> guard(lock);
	auto &names = ViewNames(compat::Str(schema.name));
	if (std::find(names.begin(), names.end(), compat::Str(info.GetViewName())) == names.end()) {
		names.push_back(compat::Str(info.GetViewName()));
	}
	removed_views.erase(EntryKey(compat::Str(schema.name), compat::Str(info.GetViewName())));
	return AddView(schema, info);
}

void IcebergEntryCache::RetireView(IcebergSchemaEntry &schema, const string &name) {
	auto key = EntryKey(compat::Str(schema.name), name);
	// Statements of this transaction may still hold the entry.
	retired_views.push_back(std::move(views[key]));
	views.erase(key);
	removed_views.insert(key);
	auto &names = ViewNames(compat::Str(schema.name));
	names.erase(std::remove(names.begin(), names.end(), name), names.end());
}

void IcebergEntryCache::ViewDropped(IcebergSchemaEntry &schema, const string &name) {
	lock_guard<mutex> guard(lock);
	RetireView(schema, name);
}

void IcebergEntryCache::ViewRenamed(IcebergSchemaEntry &schema, const string &from, const string &to) {
	lock_guard<mutex> guard(lock);
	auto info = unique_ptr_cast<CreateInfo, CreateViewInfo>(views[EntryKey(compat::Str(schema.name), from)]->GetInfo());
	info->SetViewName(Identifier(to));
	RetireView(schema, from);
	removed_views.erase(EntryKey(compat::Str(schema.name), to));
	ViewNames(compat::Str(schema.name)).push_back(to);
	AddView(schema, *info);
}

} // namespace floe
