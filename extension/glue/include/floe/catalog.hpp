//===----------------------------------------------------------------------===//
// floe: the attached Iceberg REST catalog, a DuckDB Catalog whose schemas and tables mirror
// the REST catalog lazily, per transaction.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog.hpp"
#include "duckdb/function/table_function.hpp"
#include "duckdb/storage/storage_extension.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/json.hpp"

namespace floe {

class IcebergCatalog : public duckdb::Catalog {
public:
	IcebergCatalog(duckdb::AttachedDatabase &db, CatalogHandle handle, duckdb::TableFunction scan_function);

	static unique_ptr<duckdb::Catalog> Attach(duckdb::optional_ptr<duckdb::StorageExtensionInfo> storage_info,
	                                          duckdb::ClientContext &context, duckdb::AttachedDatabase &db,
	                                          const string &name, duckdb::AttachInfo &info,
	                                          duckdb::AttachOptions &options);
	//! The ATTACH request for the core: path, options as typed, and the fields of the iceberg
	//! secret (named by SECRET, or found by scope when no credentials were given inline).
	static string AttachRequest(duckdb::ClientContext &context, const string &path,
	                            const duckdb::unordered_map<string, duckdb::Value> &options);

	const FloeCatalog *Handle() const {
		return handle.get();
	}
	//! DuckDB's Parquet scan with floe's multi-file reader plugged in.
	const duckdb::TableFunction &ScanFunction() const {
		return scan_function;
	}
	//! The random part of the names raw restricted tables are looked up by (restricted_view.hpp).
	const string &RawToken() const {
		return raw_token;
	}
	const string &Warehouse() const {
		return warehouse;
	}
	//! PURGE_REQUESTED: DROP TABLE also deletes the table's files.
	bool PurgeOnDrop() const {
		return purge_on_drop;
	}

	//! Namespaces seen to exist, across transactions: a statement on a known namespace costs no
	//! request for it. A namespace dropped elsewhere then shows as its tables being missing.
	bool KnowsNamespace(const string &name) {
		duckdb::lock_guard<duckdb::mutex> guard(namespaces_lock);
		return known_namespaces.count(name) > 0;
	}
	void RememberNamespace(const string &name, bool exists) {
		duckdb::lock_guard<duckdb::mutex> guard(namespaces_lock);
		if (exists) {
			known_namespaces.insert(name);
		} else {
			known_namespaces.erase(name);
		}
	}

	void Initialize(bool load_builtin) override;
	string GetCatalogType() override {
		return "iceberg";
	}
	bool SupportsTimeTravel() const override {
		return true;
	}
	compat::DefaultSchema GetDefaultSchema() const override;
	duckdb::CatalogLookupBehavior CatalogTypeLookupRule(duckdb::CatalogType type) const override;
	bool CheckAmbiguousCatalogOrSchema(duckdb::ClientContext &context, const compat::SchemaArgument &schema) override {
		return false;
	}

	duckdb::optional_ptr<duckdb::CatalogEntry> CreateSchema(duckdb::CatalogTransaction transaction,
	                                                        duckdb::CreateSchemaInfo &info) override;
	void ScanSchemas(duckdb::ClientContext &context,
	                 std::function<void(duckdb::SchemaCatalogEntry &)> callback) override;
	duckdb::optional_ptr<duckdb::SchemaCatalogEntry> LookupSchema(duckdb::CatalogTransaction transaction,
	                                                              const duckdb::EntryLookupInfo &schema_lookup,
	                                                              duckdb::OnEntryNotFound if_not_found) override;

	duckdb::PhysicalOperator &PlanCreateTableAs(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                            duckdb::LogicalCreateTable &op,
	                                            duckdb::PhysicalOperator &plan) override;
	duckdb::PhysicalOperator &PlanInsert(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                     duckdb::LogicalInsert &op,
	                                     duckdb::optional_ptr<duckdb::PhysicalOperator> plan) override;
	duckdb::PhysicalOperator &PlanDelete(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                     duckdb::LogicalDelete &op) override;
	duckdb::PhysicalOperator &PlanDelete(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                     duckdb::LogicalDelete &op, duckdb::PhysicalOperator &plan) override;
	duckdb::PhysicalOperator &PlanUpdate(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                     duckdb::LogicalUpdate &op, duckdb::PhysicalOperator &plan) override;
	duckdb::PhysicalOperator &PlanMergeInto(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                        duckdb::LogicalMergeInto &op, duckdb::PhysicalOperator &plan) override;

	//! WITH (...) sets table properties and PARTITIONED BY the partition spec; SORTED BY is refused.
	duckdb::ErrorData SupportsCreateTable(duckdb::BoundCreateTableInfo &info) override;
	duckdb::DatabaseSize GetDatabaseSize(duckdb::ClientContext &context) override;
	bool InMemory() override {
		return false;
	}
	string GetDBPath() override {
		return warehouse;
	}

private:
	void DropSchema(duckdb::ClientContext &context, duckdb::DropInfo &info) override;

	CatalogHandle handle;
	duckdb::TableFunction scan_function;
	string warehouse;
	string raw_token;
	string default_schema;
	bool purge_on_drop = false;
	duckdb::mutex namespaces_lock;
	duckdb::unordered_set<string> known_namespaces;
};

} // namespace floe
