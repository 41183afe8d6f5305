#include "floe/ffi.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

void Check(FloeError *error) {
	if (!error) {
		return;
	}
	auto code = floe_error_code(error);
	string message = floe_error_message(error);
	floe_error_free(error);
	switch (code) {
	case FLOE_NOT_FOUND:
	case FLOE_ALREADY_EXISTS:
		throw CatalogException(message);
	case FLOE_INVALID_INPUT:
		throw InvalidInputException(message);
	case FLOE_UNAUTHENTICATED:
	case FLOE_FORBIDDEN:
		throw PermissionException(message);
	case FLOE_COMMIT_CONFLICT:
	case FLOE_COMMIT_STATE_UNKNOWN:
		throw TransactionException(message);
	case FLOE_UNSUPPORTED:
		throw NotImplementedException(message);
	case FLOE_UNAVAILABLE:
	case FLOE_STORAGE:
		throw IOException(message);
	default:
		// Not InternalException: DuckDB invalidates the whole database on those.
		throw IOException("floe internal error: " + message);
	}
}

Json::Json(FloeString text) : doc(nullptr) {
	doc = yyjson_read(text.data, text.len, 0);
	floe_string_free(text);
	if (!doc) {
		throw IOException("floe internal error: unreadable JSON from the core");
	}
}

Json::Json(const string &text) : doc(yyjson_read(text.c_str(), text.size(), 0)) {
	if (!doc) {
		throw IOException("floe internal error: unreadable JSON");
	}
}

Json::~Json() {
	yyjson_doc_free(doc);
}

namespace json {

yyjson_val *Get(yyjson_val *object, const char *key) {
	auto value = yyjson_obj_get(object, key);
	if (!value) {
		throw IOException("floe internal error: JSON from the core lacks '%s'", key);
	}
	return value;
}

string String(yyjson_val *value) {
	if (!yyjson_is_str(value)) {
		throw IOException("floe internal error: expected a JSON string from the core");
	}
	return string(yyjson_get_str(value), yyjson_get_len(value));
}

string StringOr(yyjson_val *object, const char *key, const string &fallback) {
	auto value = yyjson_obj_get(object, key);
	return value && yyjson_is_str(value) ? String(value) : fallback;
}

int64_t Int(yyjson_val *value) {
	if (yyjson_is_sint(value)) {
		return yyjson_get_sint(value);
	}
	if (yyjson_is_uint(value)) {
		return static_cast<int64_t>(yyjson_get_uint(value));
	}
	throw IOException("floe internal error: expected a JSON integer from the core");
}

bool IsNull(yyjson_val *value) {
	return !value || yyjson_is_null(value);
}

string Quote(const string &text) {
	auto doc = yyjson_mut_doc_new(nullptr);
	auto value = yyjson_mut_strncpy(doc, text.c_str(), text.size());
	yyjson_mut_doc_set_root(doc, value);
	size_t len;
	auto raw = yyjson_mut_write(doc, 0, &len);
	string result(raw, len);
	free(raw);
	yyjson_mut_doc_free(doc);
	return result;
}

} // namespace json
} // namespace floe
