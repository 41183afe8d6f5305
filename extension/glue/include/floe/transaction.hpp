//===----------------------------------------------------------------------===//
// floe: a DuckDB transaction on an Iceberg catalog. Its DDL and writes are recorded by the core
// and reach the catalog at COMMIT; what the transaction sees of the catalog, its own changes
// included, is its entry cache.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_transaction.hpp"
#include "duckdb/common/error_data.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/transaction/transaction.hpp"
#include "floe/entry_cache.hpp"

namespace floe {

class IcebergTransaction : public duckdb::Transaction {
public:
	IcebergTransaction(duckdb::TransactionManager &manager, duckdb::ClientContext &context, IcebergCatalog &catalog);

	static IcebergTransaction &Get(duckdb::ClientContext &context, duckdb::Catalog &catalog);
	static IcebergTransaction &Get(duckdb::CatalogTransaction transaction, duckdb::Catalog &catalog);

	IcebergCatalog &GetCatalog() {
		return catalog;
	}
	IcebergEntryCache &Entries() {
		return entries;
	}

	//! DDL, applied to the catalog at COMMIT.
	duckdb::optional_ptr<IcebergSchemaEntry> CreateSchema(const string &name, duckdb::OnCreateConflict on_conflict);
	void DropSchema(const string &name, bool if_exists, bool cascade);
	//! CREATE TABLE: stages a new table (or replaces the existing one for CREATE OR REPLACE);
	//! nullptr for IF NOT EXISTS of an existing table.
	duckdb::optional_ptr<IcebergTableEntry> CreateTable(IcebergSchemaEntry &schema, duckdb::CreateTableInfo &info);
	void DropTable(IcebergSchemaEntry &schema, const string &name, bool if_exists);
	void RenameTable(IcebergSchemaEntry &schema, const string &from, const string &to);
	//! ALTER TABLE ... SET PARTITIONED BY: later writes of this transaction follow the new spec.
	//! ALTER TABLE edits of the schema, properties and comments (floe/table_edits.hpp).
	void Alter(IcebergSchemaEntry &schema, const string &name, const duckdb::AlterInfo &info);
	void Repartition(IcebergSchemaEntry &schema, const string &name,
	                 const vector<unique_ptr<duckdb::ParsedExpression>> &keys);
	//! TRUNCATE / DELETE without a condition: every row removed at COMMIT; later writes of this
	//! transaction go into the emptied table. Returns the number of rows removed.
	idx_t Truncate(IcebergTableEntry &table);
	duckdb::optional_ptr<duckdb::ViewCatalogEntry> CreateView(IcebergSchemaEntry &schema, duckdb::CreateViewInfo &info);
	void DropView(IcebergSchemaEntry &schema, const string &name, bool if_exists);
	void RenameView(IcebergSchemaEntry &schema, const string &from, const string &to);

	//! Lineage: the running statement reads `table` (schema.name) at `snapshot_id` (none for an
	//! empty table); the snapshots it makes name what it read.
	void NoteRead(const string &table, const duckdb::Value &snapshot_id);

	//! The core's record of this transaction's writes, begun on first use; told which statement
	//! is running.
	FloeTxn *Writes();
	//! Writes() for a change of `table`, with the user's storage secret for its location.
	FloeTxn *WritesFor(IcebergTableEntry &table);
	//! The writes so far, or nullptr if the transaction wrote nothing.
	const FloeTxn *PendingWrites() const {
		return writes.get();
	}
	//! Applies the writes to the catalog, the first time it is called (while the COMMIT is
	//! planned, or as it runs); returns what the catalog refused, every time.
	duckdb::ErrorData Commit();
	void Rollback();

private:
	void ApplyWrites();
	//! Hands the core the running statement's reads and SQL text when they changed (writes_lock held).
	void SyncStatement();

	IcebergCatalog &catalog;
	IcebergEntryCache entries;
	duckdb::mutex writes_lock;
	TxnHandle writes;
	//! Set once the commit was tried: empty on success.
	unique_ptr<duckdb::ErrorData> commit_outcome;
	//! The reads of statement `read_statement` (DuckDB's query number), and what the core was told.
	duckdb::transaction_t read_statement = 0;
	vector<std::pair<string, duckdb::Value>> statement_reads;
	duckdb::transaction_t synced_statement = 0;
	idx_t synced_reads = 0;
};

} // namespace floe
