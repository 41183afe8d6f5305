#include "floe/catalog.hpp"

#include <random>

#include "duckdb/parser/parsed_data/create_schema_info.hpp"
#include "duckdb/parser/parsed_data/drop_info.hpp"
#include "duckdb/planner/operator/logical_create_table.hpp"
#include "duckdb/planner/operator/logical_insert.hpp"
#include "duckdb/planner/parsed_data/bound_create_table_info.hpp"
#include "floe/delete.hpp"
#include "floe/deleted_rows.hpp"
#include "floe/insert.hpp"
#include "floe/merge.hpp"
#include "floe/pending_attach.hpp"
#include "floe/table_entry.hpp"

#include "duckdb/main/attached_database.hpp"
#include "duckdb/main/secret/secret_manager.hpp"
#include "duckdb/parser/parsed_data/attach_info.hpp"
#include "duckdb/storage/database_size.hpp"
#include "floe/schema_entry.hpp"
#include "floe/secret.hpp"
#include "floe/storage_extension.hpp"
#include "floe/transaction.hpp"
#include "floe/truncate.hpp"
#include "floe/update.hpp"

#include <map>

namespace floe {

using namespace duckdb;

IcebergCatalog::IcebergCatalog(AttachedDatabase &db, CatalogHandle handle_p, TableFunction scan_function)
    : Catalog(db), handle(std::move(handle_p)), scan_function(std::move(scan_function)) {
	CoreString description;
	Check(floe_catalog_describe(handle.get(), description.Out()));
	Json doc(description);
	warehouse = json::String(json::Get(doc.Root(), "warehouse"));
	default_schema = json::StringOr(doc.Root(), "default_schema", "");
	purge_on_drop = duckdb_yyjson::yyjson_get_bool(json::Get(doc.Root(), "purge_requested"));
	// 128 bits from the OS generator: the raw name of a restricted table cannot be guessed.
	std::random_device random;
	for (int i = 0; i < 4; i++) {
		raw_token += StringUtil::Format("%08x", static_cast<uint32_t>(random()));
	}
}

string IcebergCatalog::AttachRequest(ClientContext &context, const string &path,
                                     const unordered_map<string, Value> &options) {
	JsonBuilder json;
	string secret_name;
	auto options_json = json.Object();
	bool inline_credentials = false;
	bool sigv4 = false;
	string endpoint = "s3://";
	// In name order: the request is the key of a catalog connected while the ATTACH was planned.
	std::map<string, Value> sorted(options.begin(), options.end());
	for (auto &entry : sorted) {
		if (entry.first == "secret") {
			secret_name = entry.second.ToString();
		}
		if (entry.first == "client_id" || entry.first == "token" || entry.first == "authorization_type") {
			inline_credentials = true;
		}
		auto text = StringUtil::Lower(entry.second.ToString());
		if ((entry.first == "authorization_type" && text == "sigv4") || entry.first == "endpoint_type") {
			sigv4 = true;
		}
		if (entry.first == "endpoint") {
			endpoint = entry.second.ToString();
		}
		json.Add(options_json, entry.first, json.String(entry.second.IsNull() ? "" : entry.second.ToString()));
	}
	auto secret = json.Object();
	auto aws = json.Null();
	if (sigv4) {
		// Signed with AWS credentials: SECRET names an S3 secret, else the one scoped to the endpoint.
		aws = AwsSecretFields(json, context, secret_name, endpoint);
	} else if (!secret_name.empty()) {
		secret = IcebergSecretFields(json, context, secret_name);
	} else if (!inline_credentials) {
		secret = DefaultIcebergSecretFields(json, context, path);
	}
	auto request = json.Object();
	json.Add(request, "aws", aws);
	json.Add(request, "warehouse", json.String(path));
	json.Add(request, "options", options_json);
	json.Add(request, "secret", secret);
	return json.Write(request);
}

unique_ptr<Catalog> IcebergCatalog::Attach(optional_ptr<StorageExtensionInfo> storage_info, ClientContext &context,
                                           AttachedDatabase &db, const string &name, AttachInfo &info,
                                           AttachOptions &options) {
	auto request = AttachRequest(context, info.path, options.options);
	auto handle = PendingAttaches::Take(context, request);
	if (!handle) {
		Check(floe_catalog_attach(request.c_str(), Out(handle)));
	}
	auto &scan = dynamic_cast<IcebergStorageInfo &>(*storage_info).scan_function;
	return make_uniq<IcebergCatalog>(db, std::move(handle), scan);
}

void IcebergCatalog::Initialize(bool load_builtin) {
}

compat::DefaultSchema IcebergCatalog::GetDefaultSchema() const {
	return compat::MakeDefaultSchema(default_schema.empty() ? DEFAULT_SCHEMA : default_schema);
}

CatalogLookupBehavior IcebergCatalog::CatalogTypeLookupRule(CatalogType type) const {
	switch (type) {
	case CatalogType::TABLE_ENTRY:
	case CatalogType::VIEW_ENTRY:
		return CatalogLookupBehavior::STANDARD;
	default:
		// Functions, types, sequences... live in DuckDB, never in an Iceberg catalog.
		return CatalogLookupBehavior::NEVER_LOOKUP;
	}
}

optional_ptr<CatalogEntry> IcebergCatalog::CreateSchema(CatalogTransaction transaction, CreateSchemaInfo &info) {
	return IcebergTransaction::Get(transaction, *this)
	    .CreateSchema(compat::Str(info.GetQualifiedName().Schema()), info.on_conflict)
	    .get();
}

void IcebergCatalog::DropSchema(ClientContext &context, DropInfo &info) {
	IcebergTransaction::Get(context, *this)
	    .DropSchema(compat::Str(info.GetQualifiedName().Name()), info.if_not_found == OnEntryNotFound::RETURN_NULL,
	                info.cascade);
}

void IcebergCatalog::ScanSchemas(ClientContext &context, std::function<void(SchemaCatalogEntry &)> callback) {
	auto &transaction = IcebergTransaction::Get(context, *this);
	for (auto &schema : transaction.Entries().AllSchemas()) {
		callback(schema.get());
	}
}

optional_ptr<SchemaCatalogEntry> IcebergCatalog::LookupSchema(CatalogTransaction transaction,
                                                              const EntryLookupInfo &schema_lookup,
                                                              OnEntryNotFound if_not_found) {
	auto &iceberg_transaction = IcebergTransaction::Get(transaction, *this);
	auto schema = iceberg_transaction.Entries().GetSchema(schema_lookup.GetEntryName());
	if (!schema && if_not_found == OnEntryNotFound::THROW_EXCEPTION) {
		throw CatalogException(
		    schema_lookup.GetErrorContext(),
		    "Namespace '%s' does not exist in Iceberg catalog '%s' (warehouse '%s') or you may not see it",
		    schema_lookup.GetEntryName(), compat::Str(GetName()), warehouse);
	}
	return schema.get();
}

PhysicalOperator &IcebergCatalog::PlanCreateTableAs(ClientContext &context, PhysicalPlanGenerator &planner,
                                                    LogicalCreateTable &op, PhysicalOperator &plan) {
	auto &schema = op.schema.Cast<IcebergSchemaEntry>();
	auto &info = op.info->Base();
	auto table = IcebergTransaction::Get(context, *this).CreateTable(schema, info);
	if (!table) {
		throw NotImplementedException("CREATE TABLE IF NOT EXISTS ... AS over the existing Iceberg table '%s.%s' is "
		                              "not supported. Fix: INSERT INTO it, or CREATE OR REPLACE TABLE ... AS",
		                              schema.name, info.GetTableName());
	}
	return IcebergInsert::Plan(context, planner, *table, plan);
}

PhysicalOperator &IcebergCatalog::PlanInsert(ClientContext &context, PhysicalPlanGenerator &planner, LogicalInsert &op,
                                             optional_ptr<PhysicalOperator> plan) {
	auto &table = op.table.Cast<IcebergTableEntry>();
	if (op.return_chunk) {
		throw BinderException("INSERT ... RETURNING is not supported for Iceberg table '%s'", compat::Str(table.name));
	}
	if (op.on_conflict_info.action_type != OnConflictAction::THROW) {
		throw BinderException("INSERT ... ON CONFLICT is not supported for Iceberg table '%s' (Iceberg tables have "
		                      "no keys). Fix: use MERGE INTO or DELETE + INSERT",
		                      compat::Str(table.name));
	}
	if (!table.Description().selector.IsCurrent()) {
		throw BinderException("Cannot INSERT into Iceberg table '%s' AT a past version", compat::Str(table.name));
	}
	if (!plan) {
		throw BinderException("INSERT into Iceberg table '%s' needs rows to insert", compat::Str(table.name));
	}
	// Column lists and omitted columns: DuckDB fills in defaults (NULL for Iceberg columns).
	auto &rows = op.column_index_map.empty() ? *plan : planner.ResolveDefaultsProjection(op, *plan);
	return IcebergInsert::Plan(context, planner, table, rows);
}

PhysicalOperator &IcebergCatalog::PlanDelete(ClientContext &context, PhysicalPlanGenerator &planner,
                                             LogicalDelete &op) {
	// Planned without the scan below it: a truncate reads no file.
	if (IcebergTruncate::Applies(op)) {
		return IcebergTruncate::Plan(context, planner, op);
	}
	return Catalog::PlanDelete(context, planner, op);
}

PhysicalOperator &IcebergCatalog::PlanDelete(ClientContext &context, PhysicalPlanGenerator &planner, LogicalDelete &op,
                                             PhysicalOperator &plan) {
	CheckRowLevelTarget(op.table.Cast<IcebergTableEntry>(), "DELETE", op.return_chunk);
	if (IcebergTruncate::Applies(op)) {
		return IcebergTruncate::Plan(context, planner, op);
	}
	return IcebergDelete::Plan(context, planner, op, plan);
}

PhysicalOperator &IcebergCatalog::PlanUpdate(ClientContext &context, PhysicalPlanGenerator &planner, LogicalUpdate &op,
                                             PhysicalOperator &plan) {
	return IcebergUpdate::Plan(context, planner, op, plan);
}

PhysicalOperator &IcebergCatalog::PlanMergeInto(ClientContext &context, PhysicalPlanGenerator &planner,
                                                LogicalMergeInto &op, PhysicalOperator &plan) {
	return IcebergMerge::Plan(context, planner, op, plan);
}

ErrorData IcebergCatalog::SupportsCreateTable(BoundCreateTableInfo &info) {
	auto &base = info.Base().Cast<CreateTableInfo>();
	if (!base.sort_keys.empty()) {
		return ErrorData(ExceptionType::CATALOG,
		                 StringUtil::Format("CREATE TABLE ... SORTED BY is not supported for Iceberg table '%s' of "
		                                    "catalog '%s'. Fix: create the table, then ALTER TABLE %s SET SORTED BY "
		                                    "(...) before writing to it",
		                                    compat::Str(base.GetTableName()), compat::Str(GetName()),
		                                    compat::Str(base.GetTableName())));
	}
	return ErrorData();
}

DatabaseSize IcebergCatalog::GetDatabaseSize(ClientContext &context) {
	DatabaseSize size;
	return size;
}

} // namespace floe
