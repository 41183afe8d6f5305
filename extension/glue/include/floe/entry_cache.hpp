//===----------------------------------------------------------------------===//
// floe: what one transaction sees of an Iceberg catalog — its namespaces, the names of each
// schema's tables and views, and the entries loaded for them. Each namespace is listed and each
// table loaded at most once per transaction, so every statement of the transaction sees the
// same snapshot of a table; the transaction's own DDL updates what it sees at once.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_entry/view_catalog_entry.hpp"
#include "duckdb/parser/parsed_data/create_view_info.hpp"
#include "floe/view_chain.hpp"
#include "floe/snapshot_selector.hpp"

namespace floe {

class IcebergCatalog;
class IcebergSchemaEntry;
class IcebergTableEntry;

class IcebergEntryCache {
public:
	explicit IcebergEntryCache(IcebergCatalog &catalog);
	~IcebergEntryCache();

	//! The schema for namespace `name`, or nullptr if the catalog has no such namespace.
	duckdb::optional_ptr<IcebergSchemaEntry> GetSchema(const string &name);
	vector<duckdb::reference<IcebergSchemaEntry>> AllSchemas();

	//! The table `name` of `schema` at `selector`, or nullptr if it does not exist. Loaded (once
	//! per transaction) through the views `through`, which the load names (view_chain.hpp).
	duckdb::optional_ptr<IcebergTableEntry> GetTable(IcebergSchemaEntry &schema, const string &name,
	                                                 const SnapshotSelector &selector,
	                                                 const vector<ViewName> &through = {});
	//! Every table of `schema` at its current snapshot, loaded concurrently.
	vector<duckdb::reference<IcebergTableEntry>> AllTables(IcebergSchemaEntry &schema);
	//! The names of the tables of `schema`, for messages.
	string TableNamesOf(const string &schema);

	//! Iceberg views (the catalog's views API, SQL in the duckdb dialect); nullptr if none.
	duckdb::optional_ptr<duckdb::ViewCatalogEntry> GetView(IcebergSchemaEntry &schema, const string &name);
	vector<duckdb::reference<duckdb::ViewCatalogEntry>> AllViews(IcebergSchemaEntry &schema);

	//! What the transaction's DDL changed, seen by its later statements.
	IcebergSchemaEntry &SchemaCreated(const string &name);
	void SchemaDropped(const string &name);
	//! `table`, staged by CREATE TABLE, is the new table `name` of `schema`.
	IcebergTableEntry &TableCreated(IcebergSchemaEntry &schema, const string &name, TableHandle table);
	//! `table` (replaced, emptied or repartitioned) is now the current `name` of `schema`.
	IcebergTableEntry &TableChanged(IcebergSchemaEntry &schema, const string &name, TableHandle table);
	void TableDropped(IcebergSchemaEntry &schema, const string &name);
	void TableRenamed(IcebergSchemaEntry &schema, const string &from, const string &to);
	duckdb::ViewCatalogEntry &ViewCreated(IcebergSchemaEntry &schema, duckdb::CreateViewInfo &info);
	void ViewDropped(IcebergSchemaEntry &schema, const string &name);
	void ViewRenamed(IcebergSchemaEntry &schema, const string &from, const string &to);

private:
	const vector<string> &Namespaces();
	vector<string> &TableNames(const string &schema);
	vector<string> &ViewNames(const string &schema);
	//! The names `list` gives for `schema`, listed once per transaction into `lists`.
	vector<string> &Listed(duckdb::case_insensitive_map_t<vector<string>> &lists, const string &schema,
	                       FloeError *(*list)(const FloeCatalog *, const char *, FloeString *));
	IcebergSchemaEntry &AddSchema(const string &name);
	IcebergTableEntry &AddTable(IcebergSchemaEntry &schema, shared_ptr<SharedTable> table,
	                            const SnapshotSelector &selector, const string &name);
	//! Removes the current table `name` from what this transaction sees (dropped or renamed away).
	void RetireTable(IcebergSchemaEntry &schema, const string &name);
	duckdb::ViewCatalogEntry &AddView(IcebergSchemaEntry &schema, duckdb::CreateViewInfo &info);
	//! Removes view `name` from what this transaction sees (dropped or renamed away).
	void RetireView(IcebergSchemaEntry &schema, const string &name);
	duckdb::optional_ptr<duckdb::ViewCatalogEntry> LoadView(IcebergSchemaEntry &schema, const string &name);

	IcebergCatalog &catalog;
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
