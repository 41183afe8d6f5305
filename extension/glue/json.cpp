#include "floe/json.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

Json::Json(const CoreString &text) : doc(yyjson_read(text.Data(), text.Size(), 0)) {
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

//! The text yyjson wrote (malloc'ed, or NULL when it could not write), as a string.
static string TakeWritten(char *raw, size_t len) {
	if (!raw) {
		// Only non-finite numbers fail to write; no caller adds them.
		throw IOException("floe internal error: cannot write JSON");
	}
	string result(raw, len);
	free(raw);
	return result;
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

bool Bool(yyjson_val *value) {
	if (!yyjson_is_bool(value)) {
		throw IOException("floe internal error: expected a JSON boolean from the core");
	}
	return yyjson_get_bool(value);
}

bool IsNull(yyjson_val *value) {
	return !value || yyjson_is_null(value);
}

string Write(yyjson_val *value) {
	size_t len = 0;
	auto raw = yyjson_val_write(value, 0, &len);
	return TakeWritten(raw, len);
}

} // namespace json

JsonBuilder::JsonBuilder() : doc(yyjson_mut_doc_new(nullptr)) {
	if (!doc) {
		throw std::bad_alloc();
	}
}

JsonBuilder::~JsonBuilder() {
	yyjson_mut_doc_free(doc);
}

//! yyjson returns NULL only when its allocator fails.
static JsonBuilder::Value Made(JsonBuilder::Value value) {
	if (!value) {
		throw std::bad_alloc();
	}
	return value;
}

JsonBuilder::Value JsonBuilder::Object() {
	return Made(yyjson_mut_obj(doc));
}

JsonBuilder::Value JsonBuilder::Array() {
	return Made(yyjson_mut_arr(doc));
}

JsonBuilder::Value JsonBuilder::String(const string &text) {
	return Made(yyjson_mut_strncpy(doc, text.c_str(), text.size()));
}

JsonBuilder::Value JsonBuilder::Int(int64_t number) {
	return Made(yyjson_mut_sint(doc, number));
}

JsonBuilder::Value JsonBuilder::UInt(uint64_t number) {
	return Made(yyjson_mut_uint(doc, number));
}

JsonBuilder::Value JsonBuilder::Double(double number) {
	return Made(yyjson_mut_real(doc, number));
}

JsonBuilder::Value JsonBuilder::Bool(bool flag) {
	return Made(yyjson_mut_bool(doc, flag));
}

JsonBuilder::Value JsonBuilder::Null() {
	return Made(yyjson_mut_null(doc));
}

JsonBuilder::Value JsonBuilder::Raw(const string &json) {
	return Made(yyjson_mut_rawncpy(doc, json.c_str(), json.size()));
}

JsonBuilder::Value JsonBuilder::Add(Value object, const string &key, Value value) {
	if (!yyjson_mut_obj_add(object, String(key), value)) {
		throw IOException("floe internal error: cannot add '%s' to a JSON object", key);
	}
	return object;
}

JsonBuilder::Value JsonBuilder::Append(Value array, Value value) {
	if (!yyjson_mut_arr_append(array, value)) {
		throw IOException("floe internal error: cannot append to a JSON array");
	}
	return array;
}

string JsonBuilder::Write(Value value) const {
	size_t len = 0;
	auto raw = yyjson_mut_val_write(value, 0, &len);
	return TakeWritten(raw, len);
}

} // namespace floe
