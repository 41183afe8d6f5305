#include "floe/view_chain.hpp"

namespace floe {

using namespace duckdb;

static thread_local vector<ViewName> chain;

void ViewChain::Enter(ViewName view) {
	chain.push_back(std::move(view));
}

void ViewChain::Leave(const ViewName &view) {
	for (idx_t i = chain.size(); i > 0; i--) {
		if (chain[i - 1].schema == view.schema && chain[i - 1].name == view.name) {
			chain.resize(i - 1);
			return;
		}
	}
}

const vector<ViewName> &ViewChain::Current() {
	return chain;
}

idx_t ViewChain::Depth() {
	return chain.size();
}

void ViewChain::Truncate(idx_t depth) {
	if (chain.size() > depth) {
		chain.resize(depth);
	}
}

namespace {
struct ViewChainReset : public ClientContextState {
	void QueryBegin(ClientContext &context) override {
		chain.clear();
	}
};
} // namespace

void ViewChain::ResetPerQuery(ClientContext &context) {
	context.registered_state->GetOrCreate<ViewChainReset>("floe_view_chain");
}

IcebergView::IcebergView(Catalog &catalog, SchemaCatalogEntry &schema, CreateViewInfo &info)
    : ViewCatalogEntry(catalog, schema, info) {
}

ViewName IcebergView::Name() const {
	return ViewName {compat::Str(ParentSchema().name), compat::Str(name)};
}

const SelectStatement &IcebergView::GetQuery() {
	ViewChain::Enter(Name());
	return ViewCatalogEntry::GetQuery();
}

void IcebergView::UpdateBinding(const vector<LogicalType> &types, const compat::Names &names) {
	ViewChain::Leave(Name());
	ViewCatalogEntry::UpdateBinding(types, names);
}

void IcebergView::BindView(ClientContext &context, BindViewAction action) {
	// Binds the query without UpdateBinding: whatever it entered is left here.
	auto depth = ViewChain::Depth();
	try {
		ViewCatalogEntry::BindView(context, action);
	} catch (...) {
		ViewChain::Truncate(depth);
		throw;
	}
	ViewChain::Truncate(depth);
}

} // namespace floe
