#include "floe/partitioning.hpp"

#include "duckdb/function/cast/default_casts.hpp"
#include "duckdb/function/function_binder.hpp"
#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/expression/function_expression.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "duckdb/planner/expression/bound_constant_expression.hpp"
#include "duckdb/planner/expression/bound_function_expression.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "floe/duckdb_compat.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

vector<PartitionField> ParsePartitionSpec(yyjson_val *array) {
	vector<PartitionField> fields;
	size_t index, count;
	yyjson_val *field;
	yyjson_arr_foreach(array, index, count, field) {
		auto parameter = json::Get(field, "parameter");
		fields.push_back({NumericCast<int32_t>(json::Int(json::Get(field, "source_id"))),
		                  json::String(json::Get(field, "name")), json::String(json::Get(field, "transform")),
		                  json::IsNull(parameter) ? 0 : NumericCast<int32_t>(json::Int(parameter))});
	}
	return fields;
}

static bool IsColumnOrConstant(const ParsedExpression &expression) {
	return expression.GetExpressionClass() == ExpressionClass::COLUMN_REF ||
	       expression.GetExpressionClass() == ExpressionClass::CONSTANT;
}

//! Only a column, or a function of columns and constants, can be a transform: anything else
//! goes with its text alone, for the core to refuse.
JsonBuilder::Value PartitionKeyToJson(JsonBuilder &json, const ParsedExpression &key) {
	auto result = json.Add(json.Object(), "expression", json.String(key.ToString()));
	auto columns = json.Array();
	auto constants = json.Array();
	json.Add(result, "columns", columns);
	json.Add(result, "constants", constants);
	vector<reference<const ParsedExpression>> arguments;
	if (key.GetExpressionClass() == ExpressionClass::COLUMN_REF) {
		arguments.push_back(key);
	} else if (key.GetExpressionClass() == ExpressionClass::FUNCTION) {
		auto &function = key.Cast<FunctionExpression>();
		for (auto &child : compat::Arguments(function)) {
			if (!IsColumnOrConstant(child)) {
				return result;
			}
			arguments.push_back(child);
		}
		json.Add(result, "function", json.String(compat::FunctionName(function)));
	}
	for (auto &argument : arguments) {
		if (argument.get().GetExpressionClass() == ExpressionClass::COLUMN_REF) {
			json.Append(columns, json.String(compat::Str(argument.get().Cast<ColumnRefExpression>().GetColumnName())));
		} else {
			json.Append(constants,
			            json.String(compat::ConstantValue(argument.get().Cast<ConstantExpression>()).ToString()));
		}
	}
	return result;
}

JsonBuilder::Value PartitionKeysToJson(JsonBuilder &json, const vector<unique_ptr<ParsedExpression>> &keys) {
	auto result = json.Array();
	for (auto &key : keys) {
		json.Append(result, PartitionKeyToJson(json, *key));
	}
	return result;
}

//===--------------------------------------------------------------------===//
// Iceberg's bucket transform: (murmur3_x86_32(bytes(v)) & INT_MAX) % N, seed 0, over the
// spec's byte representation of each type. DuckDB has no murmur3 and the iceberg crate's lives
// behind Arrow arrays; a per-vector trip across the C ABI would cost more than the hash.
//===--------------------------------------------------------------------===//
static uint32_t Murmur3(const uint8_t *data, idx_t length) {
	const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
	uint32_t hash = 0;
	idx_t blocks = length / 4;
	for (idx_t i = 0; i < blocks; i++) {
		uint32_t k;
		memcpy(&k, data + i * 4, 4);
		k *= c1;
		k = (k << 15) | (k >> 17);
		k *= c2;
		hash ^= k;
		hash = (hash << 13) | (hash >> 19);
		hash = hash * 5 + 0xe6546b64;
	}
	uint32_t k = 0;
	auto tail = data + blocks * 4;
	switch (length & 3) {
	case 3:
		k ^= uint32_t(tail[2]) << 16;
		DUCKDB_EXPLICIT_FALLTHROUGH;
	case 2:
		k ^= uint32_t(tail[1]) << 8;
		DUCKDB_EXPLICIT_FALLTHROUGH;
	case 1:
		k ^= tail[0];
		k *= c1;
		k = (k << 15) | (k >> 17);
		k *= c2;
		hash ^= k;
	}
	hash ^= uint32_t(length);
	hash ^= hash >> 16;
	hash *= 0x85ebca6b;
	hash ^= hash >> 13;
	hash *= 0xc2b2ae35;
	hash ^= hash >> 16;
	return hash;
}

static int32_t Bucket(uint32_t hash, int32_t buckets) {
	return static_cast<int32_t>((hash & 0x7FFFFFFF) % static_cast<uint32_t>(buckets));
}

//! Integers, dates, times and timestamps hash as 8-byte little-endian longs.
static int32_t BucketLong(int64_t value, int32_t buckets) {
	uint8_t bytes[8];
	for (idx_t i = 0; i < 8; i++) {
		bytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i));
	}
	return Bucket(Murmur3(bytes, 8), buckets);
}

//! Decimals hash as the unscaled value's minimal big-endian two's complement bytes.
static int32_t BucketDecimal(hugeint_t value, int32_t buckets) {
	uint8_t bytes[16];
	uint64_t upper = static_cast<uint64_t>(value.upper), lower = value.lower;
	for (idx_t i = 0; i < 8; i++) {
		bytes[i] = static_cast<uint8_t>(upper >> (56 - 8 * i));
		bytes[8 + i] = static_cast<uint8_t>(lower >> (56 - 8 * i));
	}
	idx_t start = 0;
	while (start < 15 && ((bytes[start] == 0x00 && !(bytes[start + 1] & 0x80)) ||
	                      (bytes[start] == 0xFF && (bytes[start + 1] & 0x80)))) {
		start++;
	}
	return Bucket(Murmur3(bytes + start, 16 - start), buckets);
}

static void BucketFunction(DataChunk &args, ExpressionState &state, Vector &result) {
	auto &values = args.data[0];
	auto buckets = args.data[1].GetValue(0).GetValue<int32_t>();
	auto &type = values.GetType();
	switch (type.id()) {
	case LogicalTypeId::INTEGER:
	case LogicalTypeId::DATE:
		UnaryExecutor::Execute<int32_t, int32_t>(values, result, args.size(),
		                                         [&](int32_t v) { return BucketLong(v, buckets); });
		break;
	case LogicalTypeId::BIGINT:
	case LogicalTypeId::TIME:
	case LogicalTypeId::TIMESTAMP:
	case LogicalTypeId::TIMESTAMP_TZ:
		UnaryExecutor::Execute<int64_t, int32_t>(values, result, args.size(),
		                                         [&](int64_t v) { return BucketLong(v, buckets); });
		break;
	case LogicalTypeId::VARCHAR:
	case LogicalTypeId::BLOB:
		UnaryExecutor::Execute<string_t, int32_t>(values, result, args.size(), [&](string_t v) {
			return Bucket(Murmur3(const_data_ptr_cast(v.GetData()), v.GetSize()), buckets);
		});
		break;
	case LogicalTypeId::UUID:
		// DuckDB stores UUIDs with the top bit flipped to sort them; Iceberg hashes the 16 bytes.
		UnaryExecutor::Execute<hugeint_t, int32_t>(values, result, args.size(), [&](hugeint_t v) {
			uint8_t bytes[16];
			uint64_t upper = static_cast<uint64_t>(v.upper) ^ (uint64_t(1) << 63);
			for (idx_t i = 0; i < 8; i++) {
				bytes[i] = static_cast<uint8_t>(upper >> (56 - 8 * i));
				bytes[8 + i] = static_cast<uint8_t>(v.lower >> (56 - 8 * i));
			}
			return Bucket(Murmur3(bytes, 16), buckets);
		});
		break;
	case LogicalTypeId::DECIMAL:
		switch (type.InternalType()) {
		case PhysicalType::INT16:
			UnaryExecutor::Execute<int16_t, int32_t>(values, result, args.size(),
			                                         [&](int16_t v) { return BucketDecimal(hugeint_t(v), buckets); });
			break;
		case PhysicalType::INT32:
			UnaryExecutor::Execute<int32_t, int32_t>(values, result, args.size(),
			                                         [&](int32_t v) { return BucketDecimal(hugeint_t(v), buckets); });
			break;
		case PhysicalType::INT64:
			UnaryExecutor::Execute<int64_t, int32_t>(values, result, args.size(),
			                                         [&](int64_t v) { return BucketDecimal(hugeint_t(v), buckets); });
			break;
		default:
			UnaryExecutor::Execute<hugeint_t, int32_t>(values, result, args.size(),
			                                           [&](hugeint_t v) { return BucketDecimal(v, buckets); });
		}
		break;
	default:
		throw NotImplementedException("bucket partitioning of %s columns is not supported", type.ToString());
	}
}

static unique_ptr<Expression> Bind(ClientContext &context, const string &name, vector<unique_ptr<Expression>> children,
                                   bool is_operator = false) {
	FunctionBinder binder(context);
	ErrorData error;
	auto result = binder.BindScalarFunction(DEFAULT_SCHEMA, Identifier(name), std::move(children), error, is_operator);
	if (!result) {
		error.Throw();
	}
	return result;
}

//! year/month/day/hour: whole units since 1970-01-01 00:00 UTC.
static unique_ptr<Expression> TimeUnits(ClientContext &context, const string &part, unique_ptr<Expression> column) {
	Value epoch = Value::TIMESTAMP(timestamp_t(0));
	if (compat::ReturnType(*column).id() == LogicalTypeId::DATE) {
		epoch = Value::DATE(date_t(0));
	} else if (compat::ReturnType(*column).id() == LogicalTypeId::TIMESTAMP_TZ) {
		// Same microseconds, read as UTC: a cast would convert to the session's time zone.
		column = compat::ReinterpretCast(std::move(column), LogicalType::TIMESTAMP);
	}
	vector<unique_ptr<Expression>> children;
	children.push_back(make_uniq<BoundConstantExpression>(Value(part)));
	children.push_back(make_uniq<BoundConstantExpression>(epoch));
	children.push_back(std::move(column));
	return BoundCastExpression::AddCastToType(context, Bind(context, "date_diff", std::move(children)),
	                                          LogicalType::INTEGER);
}

//! truncate[W]: numbers down to a multiple of W (in unscaled units), strings to W characters.
static unique_ptr<Expression> Truncate(ClientContext &context, int32_t width, unique_ptr<Expression> column) {
	auto type = compat::ReturnType(*column);
	if (type.id() == LogicalTypeId::VARCHAR) {
		vector<unique_ptr<Expression>> children;
		children.push_back(std::move(column));
		children.push_back(make_uniq<BoundConstantExpression>(Value::BIGINT(1)));
		children.push_back(make_uniq<BoundConstantExpression>(Value::BIGINT(width)));
		return Bind(context, "substring", std::move(children));
	}
	Value w = Value::BIGINT(width);
	if (type.id() == LogicalTypeId::DECIMAL) {
		w = Value::DECIMAL(hugeint_t(width), DecimalType::GetWidth(type), DecimalType::GetScale(type));
	} else if (type.id() != LogicalTypeId::INTEGER && type.id() != LogicalTypeId::BIGINT) {
		throw NotImplementedException("truncate partitioning of %s columns is not supported", type.ToString());
	}
	w = w.DefaultCastAs(type);
	auto modulo = [&](unique_ptr<Expression> a) {
		vector<unique_ptr<Expression>> children;
		children.push_back(std::move(a));
		children.push_back(make_uniq<BoundConstantExpression>(w));
		return Bind(context, "%", std::move(children), true);
	};
	auto plus_w = [&](unique_ptr<Expression> a) {
		vector<unique_ptr<Expression>> children;
		children.push_back(std::move(a));
		children.push_back(make_uniq<BoundConstantExpression>(w));
		return Bind(context, "+", std::move(children), true);
	};
	// v - ((v % W) + W) % W, which rounds towards minus infinity as Iceberg requires.
	auto offset = modulo(plus_w(modulo(column->Copy())));
	vector<unique_ptr<Expression>> children;
	children.push_back(std::move(column));
	children.push_back(std::move(offset));
	return BoundCastExpression::AddCastToType(context, Bind(context, "-", std::move(children), true), type);
}

unique_ptr<Expression> PartitionValue(ClientContext &context, const PartitionField &field,
                                      const vector<IcebergColumn> &columns) {
	optional_idx index;
	for (idx_t i = 0; i < columns.size(); i++) {
		if (columns[i].field_id == field.source_id) {
			index = i;
		}
	}
	if (!index.IsValid()) {
		throw NotImplementedException("partition field '%s' has a nested source column, which floe cannot write",
		                              field.name);
	}
	auto &column = columns[index.GetIndex()];
	unique_ptr<Expression> value = make_uniq<BoundReferenceExpression>(column.type, index.GetIndex());
	auto &transform = field.transform;
	if (transform == "identity") {
		return value;
	}
	if (transform == "year" || transform == "month" || transform == "day" || transform == "hour") {
		return TimeUnits(context, transform, std::move(value));
	}
	if (transform == "truncate") {
		return Truncate(context, field.parameter, std::move(value));
	}
	if (transform == "bucket") {
		ScalarFunction bucket("iceberg_bucket", {column.type, LogicalType::INTEGER}, LogicalType::INTEGER,
		                      BucketFunction);
		vector<unique_ptr<Expression>> children;
		children.push_back(std::move(value));
		children.push_back(make_uniq<BoundConstantExpression>(Value::INTEGER(field.parameter)));
		return FunctionBinder(context).BindScalarFunction(bucket, std::move(children));
	}
	throw NotImplementedException("floe cannot write partition transform '%s' (field '%s')", transform, field.name);
}

} // namespace floe
