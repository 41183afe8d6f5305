#include "floe/ffi.hpp"

namespace floe {

using namespace duckdb;

void Check(FloeError *raw) {
	ErrorHandle error(raw);
	if (!error) {
		return;
	}
	string message = floe_error_message(error.get());
	switch (floe_error_code(error.get())) {
	case FLOE_ERROR_CODE_NOT_FOUND:
	case FLOE_ERROR_CODE_ALREADY_EXISTS:
		throw CatalogException(message);
	case FLOE_ERROR_CODE_INVALID_INPUT:
		throw InvalidInputException(message);
	case FLOE_ERROR_CODE_UNAUTHENTICATED:
	case FLOE_ERROR_CODE_FORBIDDEN:
		throw PermissionException(message);
	case FLOE_ERROR_CODE_COMMIT_CONFLICT:
	case FLOE_ERROR_CODE_COMMIT_STATE_UNKNOWN:
		throw TransactionException(message);
	case FLOE_ERROR_CODE_CONSTRAINT_VIOLATION:
		throw ConstraintException(message);
	case FLOE_ERROR_CODE_UNSUPPORTED:
		throw NotImplementedException(message);
	case FLOE_ERROR_CODE_UNAVAILABLE:
	case FLOE_ERROR_CODE_STORAGE:
		throw IOException(message);
	default:
		// Not InternalException: DuckDB invalidates the whole database on those.
		throw IOException("floe internal error: " + message);
	}
}

} // namespace floe
