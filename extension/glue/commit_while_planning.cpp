#include "floe/commit_while_planning.hpp"

#include "duckdb/main/attached_database.hpp"
#include "duckdb/main/valid_checker.hpp"
#include "duckdb/parser/parsed_data/transaction_info.hpp"
#include "duckdb/catalog/catalog.hpp"
#include "floe/duckdb_compat.hpp"
#include "duckdb/transaction/meta_transaction.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

void CommitWhilePlanning(OptimizerExtensionInput &input, unique_ptr<LogicalOperator> &plan) {
	if (plan->type != LogicalOperatorType::LOGICAL_TRANSACTION ||
	    compat::TransactionInfoOf(*plan).type != TransactionType::COMMIT) {
		return;
	}
	auto &context = input.context;
	// Without an explicit transaction the COMMIT fails as it runs; an invalidated transaction's
	// COMMIT rolls it back.
	if (context.transaction.IsAutoCommit() || !context.transaction.HasActiveTransaction() ||
	    ValidChecker::IsInvalidated(context.ActiveTransaction())) {
		return;
	}
	auto &meta = MetaTransaction::Get(context);
	auto databases = meta.OpenedTransactions();
	for (auto &db : databases) {
		if (db.get().GetCatalog().GetCatalogType() != "iceberg") {
			continue;
		}
		auto transaction = meta.TryGetTransaction(db);
		if (transaction) {
			// A failure is kept for the COMMIT to report as it runs.
			transaction->Cast<IcebergTransaction>().Commit();
		}
	}
}

} // namespace floe
