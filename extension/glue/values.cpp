#include "floe/values.hpp"

#include "duckdb/common/types/blob.hpp"
#include "duckdb/common/types/date.hpp"
#include "duckdb/common/types/time.hpp"
#include "duckdb/common/types/timestamp.hpp"
#include "floe/duckdb_compat.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static JsonBuilder::Value Tagged(JsonBuilder &json, const char *tag, JsonBuilder::Value value) {
	return json.Add(json.Object(), tag, value);
}

static string Hex(const string &bytes) {
	static const char *digits = "0123456789abcdef";
	string out;
	out.reserve(bytes.size() * 2);
	for (unsigned char byte : bytes) {
		out.push_back(digits[byte >> 4]);
		out.push_back(digits[byte & 0xF]);
	}
	return out;
}

JsonBuilder::Value ValueToJson(JsonBuilder &json, const Value &value) {
	if (value.IsNull()) {
		return nullptr;
	}
	auto &type = value.type();
	switch (type.id()) {
	case LogicalTypeId::BOOLEAN:
		return Tagged(json, "bool", json.Bool(value.GetValue<bool>()));
	case LogicalTypeId::TINYINT:
	case LogicalTypeId::SMALLINT:
	case LogicalTypeId::INTEGER:
	case LogicalTypeId::BIGINT:
	case LogicalTypeId::UTINYINT:
	case LogicalTypeId::USMALLINT:
	case LogicalTypeId::UINTEGER:
		return Tagged(json, "int", json.Int(value.GetValue<int64_t>()));
	case LogicalTypeId::FLOAT:
	case LogicalTypeId::DOUBLE: {
		auto number = value.GetValue<double>();
		if (!Value::DoubleIsFinite(number)) {
			return nullptr;
		}
		return Tagged(json, "float", json.Double(number));
	}
	case LogicalTypeId::VARCHAR:
		return Tagged(json, "str", json.String(StringValue::Get(value)));
	case LogicalTypeId::UUID:
		return Tagged(json, "str", json.String(value.ToString()));
	// Temporal values are read in their physical form: GetValue<T> would cast through DuckDB's
	// built-in casts, which lack the time zone ones (those come with ICU in the host).
	case LogicalTypeId::DATE: {
		auto date = value.GetValueUnsafe<date_t>();
		if (!compat::IsFinite(date)) {
			return nullptr;
		}
		return Tagged(json, "date", json.Int(date.days));
	}
	case LogicalTypeId::TIME:
		return Tagged(json, "time", json.Int(static_cast<int64_t>(value.GetValueUnsafe<dtime_t>())));
	case LogicalTypeId::TIMESTAMP:
	case LogicalTypeId::TIMESTAMP_TZ: {
		auto ts = value.GetValueUnsafe<timestamp_t>();
		if (!compat::IsFinite(ts)) {
			return nullptr;
		}
		return Tagged(json, "ts", json.Int(ts.value));
	}
	case LogicalTypeId::TIMESTAMP_NS:
		return Tagged(json, "ts_ns", json.Int(value.GetValueUnsafe<int64_t>()));
	case LogicalTypeId::DECIMAL:
		return Tagged(json, "decimal", json.String(value.ToString()));
	case LogicalTypeId::BLOB:
		return Tagged(json, "blob", json.String(Hex(StringValue::Get(value))));
	default:
		return nullptr;
	}
}

static string Unhex(const string &hex) {
	string out;
	for (idx_t i = 0; i + 1 < hex.size(); i += 2) {
		out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
	}
	return out;
}

Value ValueFromJson(yyjson_val *tagged, const LogicalType &type) {
	if (json::IsNull(tagged)) {
		return Value(type);
	}
	if (!yyjson_is_obj(tagged) || yyjson_obj_size(tagged) != 1) {
		throw IOException("floe internal error: malformed tagged value from the core");
	}
	yyjson_obj_iter iter = yyjson_obj_iter_with(tagged);
	auto key = yyjson_obj_iter_next(&iter);
	auto payload = yyjson_obj_iter_get_val(key);
	string tag = yyjson_get_str(key);
	Value raw;
	if (tag == "bool") {
		raw = Value::BOOLEAN(yyjson_get_bool(payload));
	} else if (tag == "int") {
		raw = Value::BIGINT(json::Int(payload));
	} else if (tag == "float") {
		raw = Value::DOUBLE(yyjson_get_num(payload));
	} else if (tag == "str" || tag == "decimal") {
		raw = Value(json::String(payload));
	} else if (tag == "date") {
		raw = Value::DATE(date_t(static_cast<int32_t>(json::Int(payload))));
	} else if (tag == "time") {
		raw = Value::TIME(dtime_t(json::Int(payload)));
	} else if (tag == "ts") {
		raw = type.id() == LogicalTypeId::TIMESTAMP_TZ ? Value::TIMESTAMPTZ(timestamp_tz_t(json::Int(payload)))
		                                               : Value::TIMESTAMP(timestamp_t(json::Int(payload)));
	} else if (tag == "ts_ns") {
		timestamp_ns_t ns;
		ns.value = json::Int(payload);
		raw = Value::TIMESTAMPNS(ns);
	} else if (tag == "blob") {
		raw = Value::BLOB_RAW(Unhex(json::String(payload)));
	} else {
		throw IOException("floe internal error: unknown value tag '%s' from the core", tag);
	}
	return raw.type() == type ? raw : raw.DefaultCastAs(type);
}

} // namespace floe
