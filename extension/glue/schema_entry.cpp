#include "floe/schema_entry.hpp"

#include "duckdb/catalog/entry_lookup_info.hpp"
#include "duckdb/parser/parsed_data/create_schema_info.hpp"
#include "duckdb/planner/tableref/bound_at_clause.hpp"
#include "floe/table_entry.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

IcebergSchemaEntry::IcebergSchemaEntry(Catalog &catalog, CreateSchemaInfo &info) : SchemaCatalogEntry(catalog, info) {
}

void IcebergSchemaEntry::Scan(ClientContext &context, CatalogType type,
                              const std::function<void(CatalogEntry &)> &callback) {
	if (type != CatalogType::TABLE_ENTRY) {
		return;
	}
	for (auto &table : IcebergTransaction::Get(context, catalog).AllTables(*this)) {
		callback(table.get());
	}
}

void IcebergSchemaEntry::Scan(CatalogType type, const std::function<void(CatalogEntry &)> &callback) {
	// Without a client context there is no transaction to load tables in; DuckDB only uses this
	// for its own storage.
}

//! The core's snapshot selector for an AT clause: VERSION => snapshot id, TIMESTAMP => as of.
static string Selector(optional_ptr<BoundAtClause> at) {
	if (!at) {
		return "\"current\"";
	}
	auto unit = StringUtil::Upper(at->Unit());
	if (unit == "VERSION") {
		auto id = at->GetValue().DefaultCastAs(LogicalType::BIGINT).GetValue<int64_t>();
		return StringUtil::Format("{\"id\":%lld}", id);
	}
	if (unit == "TIMESTAMP") {
		auto ts = at->GetValue().DefaultCastAs(LogicalType::TIMESTAMP_TZ).GetValue<timestamp_tz_t>();
		return StringUtil::Format("{\"as_of_ms\":%lld}", Timestamp::GetEpochMs(ts));
	}
	throw InvalidInputException("AT (%s => ...) is not a time travel unit of Iceberg tables. Fix: use AT (VERSION => "
	                            "<snapshot id>) or AT (TIMESTAMP => <timestamp>)",
	                            at->Unit());
}

optional_ptr<CatalogEntry> IcebergSchemaEntry::LookupEntry(CatalogTransaction transaction,
                                                           const EntryLookupInfo &lookup_info) {
	if (lookup_info.GetCatalogType() != CatalogType::TABLE_ENTRY) {
		return nullptr;
	}
	auto &iceberg_transaction = IcebergTransaction::Get(transaction, catalog);
	return iceberg_transaction.GetTable(*this, lookup_info.GetEntryName(), Selector(lookup_info.GetAtClause())).get();
}

void IcebergSchemaEntry::Unsupported(const string &what) const {
	throw NotImplementedException("%s in Iceberg namespace '%s.%s' is not supported by this floe version", what,
	                              catalog.GetName(), name);
}

optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateIndex(CatalogTransaction, CreateIndexInfo &, TableCatalogEntry &) {
	Unsupported("CREATE INDEX");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateFunction(CatalogTransaction, CreateFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateTable(CatalogTransaction, BoundCreateTableInfo &) {
	Unsupported("CREATE TABLE");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateView(CatalogTransaction, CreateViewInfo &) {
	Unsupported("CREATE VIEW");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateSequence(CatalogTransaction, CreateSequenceInfo &) {
	Unsupported("CREATE SEQUENCE");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateTableFunction(CatalogTransaction, CreateTableFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateCopyFunction(CatalogTransaction, CreateCopyFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreatePragmaFunction(CatalogTransaction, CreatePragmaFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateCollation(CatalogTransaction, CreateCollationInfo &) {
	Unsupported("CREATE COLLATION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateType(CatalogTransaction, CreateTypeInfo &) {
	Unsupported("CREATE TYPE");
}
void IcebergSchemaEntry::DropEntry(ClientContext &, DropInfo &) {
	Unsupported("DROP");
}
void IcebergSchemaEntry::Alter(CatalogTransaction, AlterInfo &) {
	Unsupported("ALTER");
}

} // namespace floe
