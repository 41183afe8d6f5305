#include "floe/transaction.hpp"

#include "duckdb/main/database.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/parsed_data/create_schema_info.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "floe/catalog.hpp"
#include "floe/columns.hpp"
#include "floe/duck_types.hpp"
#include "floe/partitioning.hpp"
#include "floe/schema_entry.hpp"
#include "floe/secret.hpp"
#include "floe/table_entry.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static const char *const CURRENT = "\"current\"";

IcebergTransaction::IcebergTransaction(TransactionManager &manager, ClientContext &context, IcebergCatalog &catalog)
    : Transaction(manager, context), catalog(catalog) {
}

IcebergTransaction::~IcebergTransaction() {
	floe_txn_free(writes);
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

static string TableKey(const string &schema, const string &name) {
	return schema + '\x1f' + StringUtil::Lower(name);
}

static string TableKey(const string &schema, const string &name, const string &selector) {
	return TableKey(schema, name) + '\x1f' + selector;
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

vector<string> &IcebergTransaction::Listed(case_insensitive_map_t<vector<string>> &lists, const string &schema,
                                           FloeError *(*list)(const FloeCatalog *, const char *, FloeString *)) {
	auto entry = lists.find(schema);
	if (entry == lists.end()) {
		vector<string> names;
		// A namespace created in this transaction has nothing in the catalog yet.
		if (!created_schemas.count(schema)) {
			FloeString text;
			Check(list(catalog.Handle(), schema.c_str(), &text));
			names = StringArray(text);
		}
		entry = lists.emplace(schema, std::move(names)).first;
	}
	return entry->second;
}

vector<string> &IcebergTransaction::TableNames(const string &schema) {
	return Listed(table_names, schema, floe_catalog_list_tables);
}

IcebergSchemaEntry &IcebergTransaction::AddSchema(const string &name) {
	CreateSchemaInfo info;
	info.schema = name;
	info.internal = false;
	auto schema = make_uniq<IcebergSchemaEntry>(catalog, info);
	auto &result = *schema;
	schemas[name] = std::move(schema);
	return result;
}

optional_ptr<IcebergSchemaEntry> IcebergTransaction::GetSchema(const string &name) {
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

IcebergTableEntry &IcebergTransaction::AddTable(IcebergSchemaEntry &schema, shared_ptr<TableHandle> table,
                                                const string &selector, const string &name) {
	FloeString text;
	Check(floe_table_describe(table->Get(), selector.c_str(), &text));
	Json doc(text);
	auto root = doc.Root();
	TableDescription description;
	description.name = schema.name + "." + name;
	description.location = json::String(json::Get(root, "location"));
	description.selector = selector;
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
	size_t index, count;
	yyjson_val *key, *value;
	yyjson_obj_foreach(json::Get(root, "properties"), index, count, key, value) {
		description.properties[json::String(key)] = json::String(value);
	}
	description.partition_spec = ParsePartitionSpec(json::Get(root, "partition_spec"));
	auto info = IcebergTableEntry::CreateInfo(schema, name, description);
	auto entry = make_uniq<IcebergTableEntry>(catalog, schema, *info, std::move(table), std::move(description));
	auto &result = *entry;
	auto &slot = tables[TableKey(schema.name, name, selector)];
	if (slot) {
		// The statement that replaced it may still hold the old entry.
		retired_tables.push_back(std::move(slot));
	}
	slot = std::move(entry);
	return result;
}

optional_ptr<IcebergTableEntry> IcebergTransaction::GetTable(IcebergSchemaEntry &schema, const string &name,
                                                             const string &selector) {
	lock_guard<mutex> guard(lock);
	auto cached = tables.find(TableKey(schema.name, name, selector));
	if (cached != tables.end()) {
		return cached->second.get();
	}
	if (removed_tables.count(TableKey(schema.name, name))) {
		return nullptr;
	}
	FloeTable *handle = nullptr;
	string found_name = name;
	Check(floe_catalog_load_table(catalog.Handle(), schema.name.c_str(), name.c_str(), &handle));
	if (!handle) {
		// DuckDB matches names case-insensitively; the catalog may hold `Metrics` for `metrics`.
		for (auto &candidate : TableNames(schema.name)) {
			if (candidate != name && StringUtil::CIEquals(candidate, name)) {
				Check(floe_catalog_load_table(catalog.Handle(), schema.name.c_str(), candidate.c_str(), &handle));
				found_name = candidate;
				break;
			}
		}
	}
	if (!handle) {
		return nullptr;
	}
	return &AddTable(schema, make_shared_ptr<TableHandle>(handle), selector, found_name);
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
		vector<FloeTable *> handles(missing.size(), nullptr);
		Check(floe_catalog_load_tables(catalog.Handle(), schema.name.c_str(), ("[" + names_json + "]").c_str(),
		                               handles.data(), handles.size()));
		vector<std::pair<string, shared_ptr<TableHandle>>> loaded;
		for (idx_t i = 0; i < handles.size(); i++) {
			// A table dropped between listing and loading is simply not there any more.
			if (handles[i]) {
				loaded.emplace_back(missing[i], make_shared_ptr<TableHandle>(handles[i]));
			}
		}
		for (auto &table : loaded) {
			AddTable(schema, table.second, CURRENT, table.first);
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

FloeTxn *IcebergTransaction::Writes() {
	lock_guard<mutex> guard(lock);
	if (!writes) {
		Check(floe_txn_begin(catalog.Handle(), DuckDB::LibraryVersion(), &writes));
	}
	return writes;
}

FloeTxn *IcebergTransaction::WritesFor(IcebergTableEntry &table) {
	auto writes = Writes();
	auto context = this->context.lock();
	if (context) {
		auto secret = S3SecretJson(*context, table.Description().location);
		Check(floe_txn_use_s3_secret(writes, secret.c_str()));
	}
	return writes;
}

optional_ptr<IcebergSchemaEntry> IcebergTransaction::CreateSchema(const string &name, OnCreateConflict on_conflict) {
	auto existing = GetSchema(name);
	if (existing) {
		if (on_conflict == OnCreateConflict::IGNORE_ON_CONFLICT) {
			return existing;
		}
		throw CatalogException("Namespace '%s' already exists in Iceberg catalog '%s'", name, catalog.GetName());
	}
	Check(floe_txn_create_namespace(Writes(), name.c_str()));
	lock_guard<mutex> guard(lock);
	auto &schema = AddSchema(name);
	created_schemas.insert(name);
	namespaces.push_back(name);
	return &schema;
}

void IcebergTransaction::DropSchema(const string &name, bool if_exists, bool cascade) {
	auto schema = GetSchema(name);
	if (!schema) {
		if (if_exists) {
			return;
		}
		throw CatalogException("Namespace '%s' does not exist in Iceberg catalog '%s'. Fix: check the name with "
		                       "SELECT schema_name FROM duckdb_schemas() WHERE database_name = '%s'",
		                       name, catalog.GetName(), catalog.GetName());
	}
	auto tables_in_schema = AllTables(*schema);
	if (!tables_in_schema.empty() && !cascade) {
		throw CatalogException("Namespace '%s' of Iceberg catalog '%s' is not empty (it holds %s). Fix: drop its "
		                       "tables first, or use DROP SCHEMA ... CASCADE",
		                       name, catalog.GetName(), TablesOf(schema->name));
	}
	for (auto &table : tables_in_schema) {
		DropTable(*schema, table.get().name, false);
	}
	Check(floe_txn_drop_namespace(Writes(), schema->name.c_str()));
	catalog.RememberNamespace(schema->name, false);
	lock_guard<mutex> guard(lock);
	namespaces.erase(std::remove(namespaces.begin(), namespaces.end(), schema->name), namespaces.end());
}

string IcebergTransaction::TablesOf(const string &schema) const {
	auto entry = table_names.find(schema);
	if (entry == table_names.end()) {
		return "tables";
	}
	return StringUtil::Join(entry->second, ", ");
}

//! A WITH (...) option as text: constants as their value, anything else as written.
static string OptionText(const ParsedExpression &expression) {
	if (expression.type == ExpressionType::VALUE_CONSTANT) {
		return expression.Cast<ConstantExpression>().value.ToString();
	}
	return expression.ToString();
}

optional_ptr<IcebergTableEntry> IcebergTransaction::CreateTable(IcebergSchemaEntry &schema, CreateTableInfo &info) {
	auto existing = GetTable(schema, info.table, CURRENT);
	if (existing) {
		switch (info.on_conflict) {
		case OnCreateConflict::IGNORE_ON_CONFLICT:
			return nullptr;
		case OnCreateConflict::ERROR_ON_CONFLICT:
			throw CatalogException("Table '%s.%s' already exists in Iceberg catalog '%s'. Fix: use CREATE OR REPLACE "
			                       "TABLE, CREATE TABLE IF NOT EXISTS, or another name",
			                       schema.name, info.table, catalog.GetName());
		default:
			break;
		}
	}
	auto columns = ColumnsToJson(info.columns, info.constraints);
	FloeTable *handle = nullptr;
	if (existing) {
		auto request = StringUtil::Format("{\"columns\":%s}", columns);
		Check(floe_txn_replace_table(WritesFor(*existing), existing->Table()->Get(), request.c_str(), &handle));
	} else {
		string properties;
		for (auto &option : info.options) {
			properties += (properties.empty() ? "" : ",") + json::Quote(option.first) + ":" +
			              json::Quote(OptionText(*option.second));
		}
		auto request = StringUtil::Format(
		    "{\"schema\":%s,\"table\":%s,\"columns\":%s,\"properties\":{%s},\"partition\":%s}",
		    json::Quote(schema.name), json::Quote(info.table), columns, properties, PartitionKeysToJson(info.partition_keys));
		Check(floe_txn_create_table(Writes(), request.c_str(), &handle));
	}
	lock_guard<mutex> guard(lock);
	auto name = existing ? existing->name : info.table;
	if (!existing) {
		TableNames(schema.name).push_back(name);
	}
	removed_tables.erase(TableKey(schema.name, name));
	return &AddTable(schema, make_shared_ptr<TableHandle>(handle), CURRENT, name);
}

void IcebergTransaction::DropTable(IcebergSchemaEntry &schema, const string &name, bool if_exists) {
	auto table = GetTable(schema, name, CURRENT);
	if (!table) {
		if (if_exists) {
			return;
		}
		throw CatalogException("Table '%s.%s' does not exist in Iceberg catalog '%s'", schema.name, name,
		                       catalog.GetName());
	}
	auto real_name = table->name;
	auto purge = catalog.PurgeOnDrop() ? 1 : 0;
	Check(floe_txn_drop_table(Writes(), schema.name.c_str(), real_name.c_str(), purge));
	lock_guard<mutex> guard(lock);
	retired_tables.push_back(std::move(tables[TableKey(schema.name, real_name, CURRENT)]));
	tables.erase(TableKey(schema.name, real_name, CURRENT));
	removed_tables.insert(TableKey(schema.name, real_name));
	auto &names = TableNames(schema.name);
	names.erase(std::remove(names.begin(), names.end(), real_name), names.end());
}

void IcebergTransaction::RenameTable(IcebergSchemaEntry &schema, const string &from, const string &to) {
	auto table = GetTable(schema, from, CURRENT);
	if (!table) {
		throw CatalogException("Table '%s.%s' does not exist in Iceberg catalog '%s'", schema.name, from,
		                       catalog.GetName());
	}
	if (GetTable(schema, to, CURRENT)) {
		throw CatalogException("Cannot rename '%s.%s' to '%s': a table of that name exists in Iceberg catalog '%s'",
		                       schema.name, from, to, catalog.GetName());
	}
	auto real_name = table->name;
	Check(floe_txn_rename_table(WritesFor(*table), schema.name.c_str(), real_name.c_str(), to.c_str()));
	lock_guard<mutex> guard(lock);
	auto handle = table->Table();
	retired_tables.push_back(std::move(tables[TableKey(schema.name, real_name, CURRENT)]));
	tables.erase(TableKey(schema.name, real_name, CURRENT));
	removed_tables.insert(TableKey(schema.name, real_name));
	removed_tables.erase(TableKey(schema.name, to));
	auto &names = TableNames(schema.name);
	names.erase(std::remove(names.begin(), names.end(), real_name), names.end());
	names.push_back(to);
	AddTable(schema, handle, CURRENT, to);
}

void IcebergTransaction::Repartition(IcebergSchemaEntry &schema, const string &name, const string &fields_json) {
	auto table = GetTable(schema, name, CURRENT);
	if (!table) {
		throw CatalogException("Table '%s.%s' does not exist in Iceberg catalog '%s'", schema.name, name,
		                       catalog.GetName());
	}
	FloeTable *handle = nullptr;
	Check(floe_txn_repartition(WritesFor(*table), table->Table()->Get(), fields_json.c_str(), &handle));
	auto real_name = table->name;
	lock_guard<mutex> guard(lock);
	AddTable(schema, make_shared_ptr<TableHandle>(handle), CURRENT, real_name);
}

idx_t IcebergTransaction::Truncate(IcebergTableEntry &table) {
	auto &schema = table.ParentSchema().Cast<IcebergSchemaEntry>();
	auto &total = table.Description().total_records;
	auto removed = total.IsValid() ? total.GetIndex() : 0;
	FloeTable *handle = nullptr;
	Check(floe_txn_truncate_table(WritesFor(table), table.Table()->Get(), &handle));
	auto name = table.name;
	lock_guard<mutex> guard(lock);
	AddTable(schema, make_shared_ptr<TableHandle>(handle), CURRENT, name);
	return removed;
}

vector<string> &IcebergTransaction::ViewNames(const string &schema) {
	return Listed(view_names, schema, floe_catalog_list_views);
}

ViewCatalogEntry &IcebergTransaction::AddView(IcebergSchemaEntry &schema, CreateViewInfo &info) {
	auto entry = make_uniq<ViewCatalogEntry>(catalog, schema, info);
	auto &result = *entry;
	auto &slot = views[TableKey(schema.name, info.view_name)];
	if (slot) {
		retired_views.push_back(std::move(slot));
	}
	slot = std::move(entry);
	return result;
}

optional_ptr<ViewCatalogEntry> IcebergTransaction::GetView(IcebergSchemaEntry &schema, const string &name) {
	lock_guard<mutex> guard(lock);
	auto cached = views.find(TableKey(schema.name, name));
	if (cached != views.end()) {
		return cached->second.get();
	}
	if (removed_views.count(TableKey(schema.name, name))) {
		return nullptr;
	}
	// Listing first: most lookups are of tables, and a list is one request per namespace.
	auto found = MatchName(ViewNames(schema.name), name);
	if (!found) {
		return nullptr;
	}
	auto view_name = *found;
	FloeString text;
	Check(floe_catalog_load_view(catalog.Handle(), schema.name.c_str(), view_name.c_str(), &text));
	Json doc(text);
	if (json::IsNull(doc.Root())) {
		return nullptr;
	}
	auto sql = json::String(json::Get(doc.Root(), "sql"));
	Parser parser;
	try {
		parser.ParseQuery(sql);
	} catch (std::exception &e) {
		throw InvalidInputException("View '%s.%s' of Iceberg catalog '%s' has SQL DuckDB cannot parse (%s). Fix: "
		                            "replace the view with CREATE OR REPLACE VIEW",
		                            schema.name, view_name, catalog.GetName(), e.what());
	}
	if (parser.statements.size() != 1 || parser.statements[0]->type != StatementType::SELECT_STATEMENT) {
		throw InvalidInputException("View '%s.%s' of Iceberg catalog '%s' is not a single SELECT. Fix: replace the "
		                            "view with CREATE OR REPLACE VIEW",
		                            schema.name, view_name, catalog.GetName());
	}
	CreateViewInfo info;
	info.catalog = catalog.GetName();
	info.schema = schema.name;
	info.view_name = view_name;
	info.sql = sql;
	info.query = unique_ptr_cast<SQLStatement, SelectStatement>(std::move(parser.statements[0]));
	// The Iceberg schema names the columns (CREATE VIEW v(a, b) AS ...); DuckDB binds the types.
	for (auto &column : ParseColumns(json::Get(doc.Root(), "columns"))) {
		info.aliases.push_back(column.name);
	}
	return &AddView(schema, info);
}

vector<reference<ViewCatalogEntry>> IcebergTransaction::AllViews(IcebergSchemaEntry &schema) {
	vector<string> names;
	{
		lock_guard<mutex> guard(lock);
		names = ViewNames(schema.name);
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

optional_ptr<ViewCatalogEntry> IcebergTransaction::CreateView(IcebergSchemaEntry &schema, CreateViewInfo &info) {
	if (GetTable(schema, info.view_name, CURRENT)) {
		throw CatalogException("Cannot create view '%s.%s': Iceberg catalog '%s' has a table of that name. Fix: "
		                       "choose another name or drop the table",
		                       schema.name, info.view_name, catalog.GetName());
	}
	auto existing = GetView(schema, info.view_name);
	if (existing) {
		switch (info.on_conflict) {
		case OnCreateConflict::IGNORE_ON_CONFLICT:
			return nullptr;
		case OnCreateConflict::ERROR_ON_CONFLICT:
			throw CatalogException("View '%s.%s' already exists in Iceberg catalog '%s'. Fix: use CREATE OR REPLACE "
			                       "VIEW, CREATE VIEW IF NOT EXISTS, or another name",
			                       schema.name, info.view_name, catalog.GetName());
		default:
			break;
		}
	}
	ColumnList columns;
	for (idx_t i = 0; i < info.types.size(); i++) {
		auto name = i < info.aliases.size() ? info.aliases[i] : info.names[i];
		columns.AddColumn(ColumnDefinition(name, info.types[i]));
	}
	auto view_name = existing ? existing->name : info.view_name;
	auto request = StringUtil::Format("{\"schema\":%s,\"view\":%s,\"columns\":%s,\"sql\":%s,\"replace\":%s}",
	                                  json::Quote(schema.name), json::Quote(view_name),
	                                  ColumnsToJson(columns, vector<unique_ptr<Constraint>>()),
	                                  json::Quote(info.query->ToString()), existing ? "true" : "false");
	Check(floe_txn_create_view(Writes(), request.c_str()));
	lock_guard<mutex> guard(lock);
	if (!existing) {
		ViewNames(schema.name).push_back(view_name);
	}
	removed_views.erase(TableKey(schema.name, view_name));
	auto copy = unique_ptr_cast<CreateInfo, CreateViewInfo>(info.Copy());
	copy->view_name = view_name;
	copy->schema = schema.name;
	return &AddView(schema, *copy);
}

void IcebergTransaction::DropView(IcebergSchemaEntry &schema, const string &name, bool if_exists) {
	auto view = GetView(schema, name);
	if (!view) {
		if (if_exists) {
			return;
		}
		throw CatalogException("View '%s.%s' does not exist in Iceberg catalog '%s'", schema.name, name,
		                       catalog.GetName());
	}
	auto real_name = view->name;
	Check(floe_txn_drop_view(Writes(), schema.name.c_str(), real_name.c_str()));
	lock_guard<mutex> guard(lock);
	RetireView(schema, real_name);
}

void IcebergTransaction::RetireView(IcebergSchemaEntry &schema, const string &name) {
	auto key = TableKey(schema.name, name);
	// Statements of this transaction may still hold the entry.
	retired_views.push_back(std::move(views[key]));
	views.erase(key);
	removed_views.insert(key);
	auto &names = ViewNames(schema.name);
	names.erase(std::remove(names.begin(), names.end(), name), names.end());
}

void IcebergTransaction::RenameView(IcebergSchemaEntry &schema, const string &from, const string &to) {
	auto view = GetView(schema, from);
	if (!view) {
		throw CatalogException("View '%s.%s' does not exist in Iceberg catalog '%s'", schema.name, from,
		                       catalog.GetName());
	}
	if (GetView(schema, to) || GetTable(schema, to, CURRENT)) {
		throw CatalogException("Cannot rename '%s.%s' to '%s': Iceberg catalog '%s' has an object of that name",
		                       schema.name, from, to, catalog.GetName());
	}
	auto real_name = view->name;
	Check(floe_txn_rename_view(Writes(), schema.name.c_str(), real_name.c_str(), to.c_str()));
	auto info = unique_ptr_cast<CreateInfo, CreateViewInfo>(view->GetInfo());
	info->view_name = to;
	lock_guard<mutex> guard(lock);
	RetireView(schema, real_name);
	removed_views.erase(TableKey(schema.name, to));
	ViewNames(schema.name).push_back(to);
	AddView(schema, *info);
}

void IcebergTransaction::Commit() {
	if (!writes) {
		return;
	}
	// Governance: the properties the platform asks for on the tables this transaction writes
	// (the dbt plugin sets them from model meta).
	auto context = this->context.lock();
	Value properties;
	if (context && context->TryGetCurrentSetting("floe_table_properties", properties) && !properties.IsNull()) {
		auto text = properties.ToString();
		if (!text.empty()) {
			Check(floe_txn_govern(writes, catalog.GetName().c_str(), text.c_str()));
		}
	}
	Check(floe_txn_commit(writes));
}

void IcebergTransaction::Rollback() {
	if (writes) {
		floe_txn_rollback(writes);
	}
}

} // namespace floe
