#include "floe/transaction_manager.hpp"

#include "floe/catalog.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

IcebergTransactionManager::IcebergTransactionManager(AttachedDatabase &db, IcebergCatalog &catalog)
    : TransactionManager(db), catalog(catalog) {
}

IcebergTransactionManager::~IcebergTransactionManager() {
}

Transaction &IcebergTransactionManager::StartTransaction(ClientContext &context) {
	auto transaction = make_uniq<IcebergTransaction>(*this, context, catalog);
	auto &result = *transaction;
	lock_guard<mutex> guard(lock);
	transactions[result] = std::move(transaction);
	return result;
}

ErrorData IcebergTransactionManager::CommitTransaction(ClientContext &context, Transaction &transaction) {
	auto result = transaction.Cast<IcebergTransaction>().Commit();
	lock_guard<mutex> guard(lock);
	transactions.erase(transaction);
	return result;
}

void IcebergTransactionManager::RollbackTransaction(Transaction &transaction) {
	transaction.Cast<IcebergTransaction>().Rollback();
	lock_guard<mutex> guard(lock);
	transactions.erase(transaction);
}

void IcebergTransactionManager::Checkpoint(ClientContext &context, bool force) {
	// Every change is a catalog commit already; there is nothing local to checkpoint.
}

} // namespace floe
