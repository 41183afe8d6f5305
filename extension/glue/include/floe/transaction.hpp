//===----------------------------------------------------------------------===//
// floe: a DuckDB transaction on an Iceberg catalog. It owns the schema and table entries it
// handed out, so each namespace is listed and each table loaded at most once per transaction:
// every statement of the transaction sees the same snapshot of a table. Its DDL and writes are
// visible to its own statements at once and reach the catalog at COMMIT.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_transaction.hpp"
#include "duckdb/catalog/catalog_entry/view_catalog_entry.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/parser/parsed_data/create_view_info.hpp"
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

	//! DDL, applied to the catalog at COMMIT.
	duckdb::optional_ptr<IcebergSchemaEntry> CreateSchema(const string &name, duckdb::OnCreateConflict on_conflict);
	void DropSchema(const string &name, bool if_exists, bool cascade);
	//! CREATE TABLE: stages a new table (or replaces the existing one for CREATE OR REPLACE);
	//! nullptr for IF NOT EXISTS of an existing table.
	duckdb::optional_ptr<IcebergTableEntry> CreateTable(IcebergSchemaEntry &schema, duckdb::CreateTableInfo &info);
	void DropTable(IcebergSchemaEntry &schema, const string &name, bool if_exists);
	void RenameTable(IcebergSchemaEntry &schema, const string &from, const string &to);
	//! ALTER TABLE ... SET PARTITIONED BY: later writes of this transaction follow the new spec.
	void Repartition(IcebergSchemaEntry &schema, const string &name, const string &fields_json);
	//! TRUNCATE / DELETE without a condition: every row removed at COMMIT; later writes of this
	//! transaction go into the emptied table. Returns the number of rows removed.
	idx_t Truncate(IcebergTableEntry &table);

	//! Iceberg views (the catalog's views API, SQL in the duckdb dialect); nullptr if none.
	duckdb::optional_ptr<duckdb::ViewCatalogEntry> GetView(IcebergSchemaEntry &schema, const string &name);
	vector<duckdb::reference<duckdb::ViewCatalogEntry>> AllViews(IcebergSchemaEntry &schema);
	duckdb::optional_ptr<duckdb::ViewCatalogEntry> CreateView(IcebergSchemaEntry &schema, duckdb::CreateViewInfo &info);
	void DropView(IcebergSchemaEntry &schema, const string &name, bool if_exists);
	void RenameView(IcebergSchemaEntry &schema, const string &from, const string &to);

	//! The core's record of this transaction's writes, begun on first use.
	FloeTxn *Writes();
	//! Writes() for a change of `table`, with the user's S3 secret for its location.
	FloeTxn *WritesFor(IcebergTableEntry &table);
	//! The writes so far, or nullptr if the transaction wrote nothing.
	const FloeTxn *PendingWrites() const {
		return writes;
	}
	//! Applies the writes to the catalog; throws what the catalog refused.
	void Commit();
	void Rollback();

private:
	const vector<string> &Namespaces();
	vector<string> &TableNames(const string &schema);
	IcebergTableEntry &AddTable(IcebergSchemaEntry &schema, shared_ptr<TableHandle> table, const string &selector,
	                            const string &name);
	IcebergSchemaEntry &AddSchema(const string &name);
	string TablesOf(const string &schema) const;
	vector<string> &ViewNames(const string &schema);
	//! The names `list` gives for `schema`, listed once per transaction into `lists`.
	vector<string> &Listed(duckdb::case_insensitive_map_t<vector<string>> &lists, const string &schema,
	                       FloeError *(*list)(const FloeCatalog *, const char *, FloeString *));
	//! Removes view `name` from what this transaction sees (dropped or renamed away).
	void RetireView(IcebergSchemaEntry &schema, const string &name);
	duckdb::ViewCatalogEntry &AddView(IcebergSchemaEntry &schema, duckdb::CreateViewInfo &info);

	IcebergCatalog &catalog;
	FloeTxn *writes = nullptr;
	duckdb::mutex lock;
	bool namespaces_loaded = false;
	vector<string> namespaces;
	duckdb::case_insensitive_map_t<unique_ptr<IcebergSchemaEntry>> schemas;
	duckdb::case_insensitive_map_t<vector<string>> table_names;
	//! Keyed by schema, table name (lower-case) and selector.
	duckdb::unordered_map<string, unique_ptr<IcebergTableEntry>> tables;
	//! Namespaces created in this transaction: the catalog has no tables of theirs to list.
	duckdb::case_insensitive_set_t created_schemas;
	//! Entries replaced in this transaction (CREATE OR REPLACE, SET PARTITIONED BY), kept alive
	//! for the statements that still refer to them.
	vector<unique_ptr<IcebergTableEntry>> retired_tables;
	//! Tables dropped or renamed away in this transaction (schema, lower-case name).
	duckdb::unordered_set<string> removed_tables;
	duckdb::case_insensitive_map_t<vector<string>> view_names;
	//! Keyed by schema and view name (lower-case); views dropped or renamed away are kept in
	//! retired_views for the statements that still refer to them.
	duckdb::unordered_map<string, unique_ptr<duckdb::ViewCatalogEntry>> views;
	vector<unique_ptr<duckdb::ViewCatalogEntry>> retired_views;
	duckdb::unordered_set<string> removed_views;
};

} // namespace floe
