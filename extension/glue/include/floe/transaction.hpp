//===----------------------------------------------------------------------===//
// floe: a DuckDB transaction on an Iceberg catalog. It owns the schema and table entries it
// handed out, so each namespace is listed and each table loaded at most once per transaction:
// every statement of the transaction sees the same snapshot of a table.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_transaction.hpp"
#include "duckdb/transaction/transaction.hpp"
#include "floe/ffi.hpp"

namespace floe {

class IcebergCatalog;
class IcebergSchemaEntry;
class IcebergTableEntry;

class IcebergTransaction : public duckdb::Transaction {
public:
	IcebergTransaction(duckdb::TransactionManager &manager, duckdb::ClientContext &context, IcebergCatalog &catalog);
	~IcebergTransaction() override;

	static IcebergTransaction &Get(duckdb::ClientContext &context, duckdb::Catalog &catalog);
	static IcebergTransaction &Get(duckdb::CatalogTransaction transaction, duckdb::Catalog &catalog);

	IcebergCatalog &GetCatalog() {
		return catalog;
	}

	//! The schema for namespace `name`, or nullptr if the catalog has no such namespace.
	duckdb::optional_ptr<IcebergSchemaEntry> GetSchema(const string &name);
	vector<duckdb::reference<IcebergSchemaEntry>> AllSchemas();

	//! The table `name` of `schema` as of `selector` (the core's snapshot selector JSON), or
	//! nullptr if it does not exist.
	duckdb::optional_ptr<IcebergTableEntry> GetTable(IcebergSchemaEntry &schema, const string &name,
	                                                 const string &selector);
	//! Every table of `schema` at its current snapshot, loaded concurrently.
	vector<duckdb::reference<IcebergTableEntry>> AllTables(IcebergSchemaEntry &schema);

private:
	const vector<string> &Namespaces();
	const vector<string> &TableNames(const string &schema);
	IcebergTableEntry &AddTable(IcebergSchemaEntry &schema, shared_ptr<TableHandle> table, const string &selector);

	IcebergCatalog &catalog;
	duckdb::mutex lock;
	bool namespaces_loaded = false;
	vector<string> namespaces;
	duckdb::case_insensitive_map_t<unique_ptr<IcebergSchemaEntry>> schemas;
	duckdb::case_insensitive_map_t<vector<string>> table_names;
	//! Keyed by schema, table name (lower-case) and selector.
	duckdb::unordered_map<string, unique_ptr<IcebergTableEntry>> tables;
};

} // namespace floe
