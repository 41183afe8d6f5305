#include "floe/pending_attach.hpp"

#include "duckdb/main/attached_database.hpp"
#include "duckdb/main/database_manager.hpp"
#include "duckdb/parser/parsed_data/attach_info.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/catalog.hpp"

namespace floe {

using namespace duckdb;

static constexpr const char *STATE_KEY = "floe_pending_attaches";

void PendingAttaches::ConnectWhilePlanning(OptimizerExtensionInput &input, unique_ptr<LogicalOperator> &plan) {
	if (plan->type != LogicalOperatorType::LOGICAL_ATTACH) {
		return;
	}
	auto &info = compat::AttachInfoOf(*plan);
	AttachOptions options(info.options, AccessMode::AUTOMATIC);
	if (options.db_type != "iceberg") {
		return;
	}
	// ATTACH IF NOT EXISTS of a name attached already keeps it and asks for no catalog. The name
	// is derived from the path as PhysicalAttach derives it.
	auto name = info.name.empty()
	                ? AttachedDatabase::ExtractDatabaseName(info.path, FileSystem::GetFileSystem(input.context))
	                : info.name;
	if (info.on_conflict == OnCreateConflict::IGNORE_ON_CONFLICT &&
	    DatabaseManager::Get(input.context).GetDatabase(name)) {
		return;
	}
	auto request = IcebergCatalog::AttachRequest(input.context, info.path, options.options);
	auto state = input.context.registered_state->GetOrCreate<PendingAttaches>(STATE_KEY);
	{
		lock_guard<mutex> guard(state->lock);
		if (state->connected.count(request)) {
			return;
		}
	}
	CatalogHandle handle;
	Check(floe_catalog_attach(request.c_str(), Out(handle)));
	lock_guard<mutex> guard(state->lock);
	state->connected.emplace(request, std::move(handle));
}

CatalogHandle PendingAttaches::Take(ClientContext &context, const string &request) {
	auto state = context.registered_state->Get<PendingAttaches>(STATE_KEY);
	if (!state) {
		return CatalogHandle();
	}
	lock_guard<mutex> guard(state->lock);
	auto entry = state->connected.find(request);
	if (entry == state->connected.end()) {
		return CatalogHandle();
	}
	auto handle = std::move(entry->second);
	state->connected.erase(entry);
	return handle;
}

void PendingAttaches::QueryEnd(ClientContext &context, optional_ptr<ErrorData> error) {
	lock_guard<mutex> guard(lock);
	connected.clear();
}

} // namespace floe
