//===----------------------------------------------------------------------===//
// floe: which snapshot of a table a statement reads — the current one, a snapshot id
// (AT (VERSION => ..)) or the one current at a time (AT (TIMESTAMP => ..)).
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/planner/tableref/bound_at_clause.hpp"
#include "floe/json.hpp"

namespace floe {

class SnapshotSelector {
public:
	static SnapshotSelector Current();
	//! The selector of an AT clause; the current snapshot without one.
	static SnapshotSelector FromAtClause(duckdb::optional_ptr<duckdb::BoundAtClause> at);

	bool IsCurrent() const {
		return kind == Kind::CURRENT;
	}
	//! As the core reads it (floe_table_describe): "current", {"id": N} or {"as_of_ms": N}.
	JsonBuilder::Value ToJson(JsonBuilder &json) const;
	//! Tells selectors apart, e.g. in a cache key.
	string Key() const;

private:
	enum class Kind { CURRENT, ID, AS_OF_MS };
	SnapshotSelector(Kind kind, int64_t value) : kind(kind), value(value) {
	}

	Kind kind;
	//! The snapshot id, or the time in milliseconds since the epoch.
	int64_t value;
};

} // namespace floe
