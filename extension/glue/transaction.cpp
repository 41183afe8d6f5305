#include "floe/transaction.hpp"

#include "duckdb/main/database.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "floe/catalog.hpp"
#include "floe/duck_types.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/json.hpp"
#include "floe/partitioning.hpp"
#include "floe/schema_entry.hpp"
#include "floe/secret.hpp"
#include "floe/table_edits.hpp"
#include "floe/table_entry.hpp"

namespace floe {

using namespace duckdb;

IcebergTransaction::IcebergTransaction(TransactionManager &manager, ClientContext &context, IcebergCatalog &catalog)
    : Transaction(manager, context), catalog(catalog), entries(catalog) {
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
		                            compat::Str(catalog.GetName()));
	}
	return Get(*transaction.context, catalog);
}

void IcebergTransaction::NoteRead(const string &table, const Value &snapshot_id) {
	lock_guard<mutex> guard(writes_lock);
	transaction_t statement = active_query;
	if (statement != read_statement) {
		read_statement = statement;
		statement_reads.clear();
	}
	statement_reads.emplace_back(table, snapshot_id);
}

FloeTxn *IcebergTransaction::Writes() {
	lock_guard<mutex> guard(writes_lock);
	if (!writes) {
		Check(floe_txn_begin(catalog.Handle(), DuckDB::LibraryVersion(), Out(writes)));
	}
	SyncStatement();
	return writes.get();
}

void IcebergTransaction::SyncStatement() {
	transaction_t statement = active_query;
	idx_t reads = statement == read_statement ? statement_reads.size() : 0;
	if (statement == synced_statement && reads == synced_reads) {
		return;
	}
	auto context = this->context.lock();
	JsonBuilder json;
	auto request = json.Object();
	auto list = json.Array();
	for (idx_t i = 0; i < reads; i++) {
		auto &read = statement_reads[i];
		auto entry = json.Object();
		json.Add(entry, "table", json.String(read.first));
		json.Add(entry, "snapshot_id", read.second.IsNull() ? json.Null() : json.Int(read.second.GetValue<int64_t>()));
		json.Append(list, entry);
	}
	json.Add(request, "reads", list);
	// dbt puts a comment naming the model in front of each statement it sends.
	json.Add(request, "query", json.String(context ? context->GetCurrentQuery() : string()));
	Check(floe_txn_statement(writes.get(), json.Write(request).c_str()));
	synced_statement = statement;
	synced_reads = reads;
}

FloeTxn *IcebergTransaction::WritesFor(IcebergTableEntry &table) {
	auto writes = Writes();
	auto context = this->context.lock();
	if (context) {
		auto secret = StorageSecretJson(*context, table.Description().location);
		Check(floe_txn_use_storage_secret(writes, secret.c_str()));
	}
	return writes;
}

static string NotFound(const char *what, const string &schema, const string &name, IcebergCatalog &catalog) {
	return StringUtil::Format("%s '%s.%s' does not exist in Iceberg catalog '%s' or you may not see it", what, schema,
	                          name, compat::Str(catalog.GetName()));
}

optional_ptr<IcebergSchemaEntry> IcebergTransaction::CreateSchema(const string &name, OnCreateConflict on_conflict) {
	auto existing = entries.GetSchema(name);
	if (existing) {
		if (on_conflict == OnCreateConflict::IGNORE_ON_CONFLICT) {
			return existing;
		}
		throw CatalogException("Namespace '%s' already exists in Iceberg catalog '%s'", name,
		                       compat::Str(catalog.GetName()));
	}
	Check(floe_txn_create_namespace(Writes(), name.c_str()));
	return &entries.SchemaCreated(name);
}

void IcebergTransaction::DropSchema(const string &name, bool if_exists, bool cascade) {
	auto schema = entries.GetSchema(name);
	if (!schema) {
		if (if_exists) {
			return;
		}
		throw CatalogException(
		    "Namespace '%s' does not exist in Iceberg catalog '%s' or you may not see it. Fix: check the name with "
		    "SELECT schema_name FROM duckdb_schemas() WHERE database_name = '%s'",
		    name, compat::Str(catalog.GetName()), compat::Str(catalog.GetName()));
	}
	auto tables_in_schema = entries.AllTables(*schema);
	if (!tables_in_schema.empty() && !cascade) {
		throw CatalogException("Namespace '%s' of Iceberg catalog '%s' is not empty (it holds %s). Fix: drop its "
		                       "tables first, or use DROP SCHEMA ... CASCADE",
		                       name, compat::Str(catalog.GetName()), entries.TableNamesOf(compat::Str(schema->name)));
	}
	for (auto &table : tables_in_schema) {
		DropTable(*schema, compat::Str(table.get().name), false);
	}
	Check(floe_txn_drop_namespace(Writes(), schema->name.c_str()));
	catalog.RememberNamespace(compat::Str(schema->name), false);
	entries.SchemaDropped(compat::Str(schema->name));
}

//! A WITH (...) option as text: constants as their value, anything else as written.
optional_ptr<IcebergTableEntry> IcebergTransaction::CreateTable(IcebergSchemaEntry &schema, CreateTableInfo &info) {
	auto existing = entries.GetTable(schema, compat::Str(info.GetTableName()), SnapshotSelector::Current());
	if (existing) {
		switch (info.on_conflict) {
		case OnCreateConflict::IGNORE_ON_CONFLICT:
			return nullptr;
		case OnCreateConflict::ERROR_ON_CONFLICT:
			throw CatalogException("Table '%s.%s' already exists in Iceberg catalog '%s'. Fix: use CREATE OR REPLACE "
			                       "TABLE, CREATE TABLE IF NOT EXISTS, or another name",
			                       compat::Str(schema.name), compat::Str(info.GetTableName()),
			                       compat::Str(catalog.GetName()));
		default:
			break;
		}
	}
	JsonBuilder json;
	auto request = json.Object();
	json.Add(request, "columns", ColumnsToJson(json, info.columns, info.constraints));
	TableHandle table;
	if (existing) {
		Check(floe_txn_replace_table(WritesFor(*existing), existing->Table()->Get(), json.Write(request).c_str(),
		                             Out(table)));
		return &entries.TableChanged(schema, compat::Str(existing->name), std::move(table));
	}
	auto properties = json.Object();
	for (auto &option : info.options) {
		json.Add(properties, option.first, json.String(TableOptionText(*option.second)));
	}
	json.Add(request, "schema", json.String(compat::Str(schema.name)));
	json.Add(request, "table", json.String(compat::Str(info.GetTableName())));
	json.Add(request, "properties", properties);
	json.Add(request, "partition", PartitionKeysToJson(json, info.partition_keys));
	Check(floe_txn_create_table(Writes(), json.Write(request).c_str(), Out(table)));
	return &entries.TableCreated(schema, compat::Str(info.GetTableName()), std::move(table));
}

void IcebergTransaction::DropTable(IcebergSchemaEntry &schema, const string &name, bool if_exists) {
	auto table = entries.GetTable(schema, name, SnapshotSelector::Current());
	if (!table) {
		if (if_exists) {
			return;
		}
		throw CatalogException(NotFound("Table", compat::Str(schema.name), name, catalog));
	}
	auto real_name = compat::Str(table->name);
	auto purge = catalog.PurgeOnDrop() ? 1 : 0;
	Check(floe_txn_drop_table(Writes(), schema.name.c_str(), real_name.c_str(), purge));
	entries.TableDropped(schema, real_name);
}

void IcebergTransaction::RenameTable(IcebergSchemaEntry &schema, const string &from, const string &to) {
	auto table = entries.GetTable(schema, from, SnapshotSelector::Current());
	if (!table) {
		throw CatalogException(NotFound("Table", compat::Str(schema.name), from, catalog));
	}
	if (entries.GetTable(schema, to, SnapshotSelector::Current())) {
		throw CatalogException("Cannot rename '%s.%s' to '%s': a table of that name exists in Iceberg catalog '%s'",
		                       compat::Str(schema.name), from, to, compat::Str(catalog.GetName()));
	}
	auto real_name = compat::Str(table->name);
	Check(floe_txn_rename_table(WritesFor(*table), schema.name.c_str(), real_name.c_str(), to.c_str()));
	entries.TableRenamed(schema, real_name, to);
}

void IcebergTransaction::Repartition(IcebergSchemaEntry &schema, const string &name,
                                     const vector<unique_ptr<ParsedExpression>> &keys) {
	auto table = entries.GetTable(schema, name, SnapshotSelector::Current());
	if (!table) {
		throw CatalogException(NotFound("Table", compat::Str(schema.name), name, catalog));
	}
	JsonBuilder json;
	TableHandle repartitioned;
	Check(floe_txn_repartition(WritesFor(*table), table->Table()->Get(),
	                           json.Write(PartitionKeysToJson(json, keys)).c_str(), Out(repartitioned)));
	entries.TableChanged(schema, compat::Str(table->name), std::move(repartitioned));
}

void IcebergTransaction::Alter(IcebergSchemaEntry &schema, const string &name, const AlterInfo &info) {
	auto table = entries.GetTable(schema, name, SnapshotSelector::Current());
	if (!table) {
		throw CatalogException(NotFound("Table", compat::Str(schema.name), name, catalog));
	}
	auto context = this->context.lock();
	if (!context) {
		throw InternalException("floe: ALTER TABLE %s outside a client context", compat::Str(table->name));
	}
	auto edit = TableEditJson(*context, info, compat::Str(schema.name) + "." + compat::Str(table->name),
	                          table->Description().columns);
	TableHandle altered;
	Check(floe_txn_alter(WritesFor(*table), table->Table()->Get(), edit.c_str(), Out(altered)));
	entries.TableChanged(schema, compat::Str(table->name), std::move(altered));
}

idx_t IcebergTransaction::Truncate(IcebergTableEntry &table) {
	auto &schema = table.ParentSchema().Cast<IcebergSchemaEntry>();
	auto &total = table.Description().total_records;
	auto removed = total.IsValid() ? total.GetIndex() : 0;
	TableHandle emptied;
	Check(floe_txn_truncate_table(WritesFor(table), table.Table()->Get(), Out(emptied)));
	entries.TableChanged(schema, compat::Str(table.name), std::move(emptied));
	return removed;
}

optional_ptr<ViewCatalogEntry> IcebergTransaction::CreateView(IcebergSchemaEntry &schema, CreateViewInfo &info) {
	if (entries.GetTable(schema, compat::Str(info.GetViewName()), SnapshotSelector::Current())) {
		throw CatalogException("Cannot create view '%s.%s': Iceberg catalog '%s' has a table of that name. Fix: "
		                       "choose another name or drop the table",
		                       compat::Str(schema.name), compat::Str(info.GetViewName()),
		                       compat::Str(catalog.GetName()));
	}
	auto existing = entries.GetView(schema, compat::Str(info.GetViewName()));
	if (existing) {
		switch (info.on_conflict) {
		case OnCreateConflict::IGNORE_ON_CONFLICT:
			return nullptr;
		case OnCreateConflict::ERROR_ON_CONFLICT:
			throw CatalogException("View '%s.%s' already exists in Iceberg catalog '%s'. Fix: use CREATE OR REPLACE "
			                       "VIEW, CREATE VIEW IF NOT EXISTS, or another name",
			                       compat::Str(schema.name), compat::Str(info.GetViewName()),
			                       compat::Str(catalog.GetName()));
		default:
			break;
		}
	}
	ColumnList columns;
	for (idx_t i = 0; i < info.types.size(); i++) {
		auto name = i < info.aliases.size() ? info.aliases[i] : info.names[i];
		columns.AddColumn(ColumnDefinition(name, info.types[i]));
	}
	auto view_name = existing ? compat::Str(existing->name) : compat::Str(info.GetViewName());
	JsonBuilder json;
	auto request = json.Object();
	json.Add(request, "schema", json.String(compat::Str(schema.name)));
	json.Add(request, "view", json.String(view_name));
	json.Add(request, "columns", ColumnsToJson(json, columns, vector<unique_ptr<Constraint>>()));
	json.Add(request, "sql", json.String(info.query->ToString()));
	json.Add(request, "replace", json.Bool(existing != nullptr));
	Check(floe_txn_create_view(Writes(), json.Write(request).c_str()));
	auto copy = unique_ptr_cast<CreateInfo, CreateViewInfo>(info.Copy());
	copy->SetViewName(Identifier(view_name));
	copy->SetSchema(schema.name);
	return &entries.ViewCreated(schema, *copy);
}

void IcebergTransaction::DropView(IcebergSchemaEntry &schema, const string &name, bool if_exists) {
	auto view = entries.GetView(schema, name);
	if (!view) {
		if (if_exists) {
			return;
		}
		throw CatalogException(NotFound("View", compat::Str(schema.name), name, catalog));
	}
	auto real_name = compat::Str(view->name);
	Check(floe_txn_drop_view(Writes(), schema.name.c_str(), real_name.c_str()));
	entries.ViewDropped(schema, real_name);
}

void IcebergTransaction::RenameView(IcebergSchemaEntry &schema, const string &from, const string &to) {
	auto view = entries.GetView(schema, from);
	if (!view) {
		throw CatalogException(NotFound("View", compat::Str(schema.name), from, catalog));
	}
	if (entries.GetView(schema, to) || entries.GetTable(schema, to, SnapshotSelector::Current())) {
		throw CatalogException("Cannot rename '%s.%s' to '%s': Iceberg catalog '%s' has an object of that name",
		                       compat::Str(schema.name), from, to, compat::Str(catalog.GetName()));
	}
	auto real_name = compat::Str(view->name);
	Check(floe_txn_rename_view(Writes(), schema.name.c_str(), real_name.c_str(), to.c_str()));
	entries.ViewRenamed(schema, real_name, to);
}

ErrorData IcebergTransaction::Commit() {
	if (!commit_outcome) {
		try {
			ApplyWrites();
			commit_outcome = make_uniq<ErrorData>();
		} catch (std::exception &ex) {
			commit_outcome = make_uniq<ErrorData>(ex);
		}
	}
	return *commit_outcome;
}

void IcebergTransaction::ApplyWrites() {
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
			Check(floe_txn_govern(writes.get(), catalog.GetName().c_str(), text.c_str()));
		}
	}
	// Lineage the session adds (the dbt plugin: its invocation id).
	Value snapshot_properties;
	if (context && context->TryGetCurrentSetting("floe_snapshot_properties", snapshot_properties) &&
	    !snapshot_properties.IsNull()) {
		auto text = snapshot_properties.ToString();
		if (!text.empty()) {
			Check(floe_txn_snapshot_properties(writes.get(), text.c_str()));
		}
	}
	Check(floe_txn_commit(writes.get()));
}

void IcebergTransaction::Rollback() {
	// Once a commit was tried, its files belong to the catalog or to the core's reconciling.
	if (writes && !commit_outcome) {
		floe_txn_rollback(writes.get());
	}
}

} // namespace floe
