#include "floe/snapshot_selector.hpp"

#include "floe/duckdb_compat.hpp"

namespace floe {

using namespace duckdb;

SnapshotSelector SnapshotSelector::Current() {
	return SnapshotSelector(Kind::CURRENT, 0);
}

SnapshotSelector SnapshotSelector::FromAtClause(optional_ptr<BoundAtClause> at) {
	if (!at) {
		return Current();
	}
	auto unit = StringUtil::Upper(compat::Str(at->Unit()));
	if (unit == "VERSION") {
		return SnapshotSelector(Kind::ID, at->GetValue().DefaultCastAs(LogicalType::BIGINT).GetValue<int64_t>());
	}
	if (unit == "TIMESTAMP") {
		auto ts = at->GetValue().DefaultCastAs(LogicalType::TIMESTAMP_TZ).GetValue<timestamp_tz_t>();
		return SnapshotSelector(Kind::AS_OF_MS, Timestamp::GetEpochMs(timestamp_t(ts.value)));
	}
	throw InvalidInputException("AT (%s => ...) is not a time travel unit of Iceberg tables. Fix: use AT (VERSION => "
	                            "<snapshot id>) or AT (TIMESTAMP => <timestamp>)",
	                            at->Unit());
}

JsonBuilder::Value SnapshotSelector::ToJson(JsonBuilder &json) const {
	switch (kind) {
	case Kind::CURRENT:
		return json.String("current");
	case Kind::ID:
		return json.Add(json.Object(), "id", json.Int(value));
	default:
		return json.Add(json.Object(), "as_of_ms", json.Int(value));
	}
}

string SnapshotSelector::Key() const {
	switch (kind) {
	case Kind::CURRENT:
		return "current";
	case Kind::ID:
		return "id=" + std::to_string(value);
	default:
		return "as_of_ms=" + std::to_string(value);
	}
}

} // namespace floe
