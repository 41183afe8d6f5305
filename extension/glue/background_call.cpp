#include "floe/background_call.hpp"

#include "duckdb/parallel/interrupt.hpp"
#include "floe/duckdb_compat.hpp"

namespace floe {

using namespace duckdb;

BackgroundCall::~BackgroundCall() {
	if (thread.joinable()) {
		thread.join();
	}
}

void BackgroundCall::Run(const std::function<void()> &work) {
	try {
		work();
	} catch (std::exception &ex) {
		error = ErrorData(ex);
	}
	stage = Stage::DONE;
}

bool BackgroundCall::Start(TableFunctionInput &input, std::function<void()> work) {
	stage = Stage::RUNNING;
	auto wake = compat::ParkingCallback(input);
	if (!wake) {
		Run(work);
		return false;
	}
	// DuckDB reschedules the parked scan when woken, also when the wake-up comes first.
	thread = std::thread([this, work, wake]() {
		Run(work);
		wake->Callback();
	});
	input.async_result = AsyncResultType::BLOCKED;
	return true;
}

bool BackgroundCall::Done() const {
	if (stage != Stage::DONE) {
		return false;
	}
	if (error.HasError()) {
		error.Throw();
	}
	return true;
}

} // namespace floe
