//===----------------------------------------------------------------------===//
// floe: a procedure's long core call run on a thread of its own while the table function is
// parked, so DuckDB's executor stays free to poll the procedure's progress (and the progress
// bar moves). DuckDB's own async tasks would not do: the thread that waits for the query may
// pick such a task up itself and stop polling until it is done.
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "duckdb/common/error_data.hpp"
#include "duckdb/function/table_function.hpp"

namespace floe {

class BackgroundCall {
public:
	BackgroundCall() = default;
	BackgroundCall(const BackgroundCall &) = delete;
	BackgroundCall &operator=(const BackgroundCall &) = delete;
	//! Waits for the work: what it uses lives as long as the table function's state.
	~BackgroundCall();

	bool Started() const {
		return stage != Stage::NOT_STARTED;
	}
	//! Starts `work`: on a thread of its own where the scan may park, else in place. True when it
	//! parked: the table function must then return at once, with no rows (even if the work is
	//! already done), and DuckDB calls it again once the work is done.
	bool Start(duckdb::TableFunctionInput &input, std::function<void()> work);
	//! Whether the work is done; its error, if it failed, is thrown here.
	bool Done() const;

private:
	enum class Stage : uint8_t { NOT_STARTED, RUNNING, DONE };
	void Run(const std::function<void()> &work);

	std::atomic<Stage> stage {Stage::NOT_STARTED};
	duckdb::ErrorData error;
	std::thread thread;
};

} // namespace floe
