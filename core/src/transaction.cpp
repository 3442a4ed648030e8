#include "cache_impl.hpp"
#include "diskcache/error.hpp"

namespace diskcache {

struct Transaction::State {
  Cache::Impl* impl;
  std::thread::id owner;
  detail::WriteScope scope;

  State(Cache::Impl& d, detail::Connection& c) : impl(&d), owner(std::this_thread::get_id()), scope(c, *d.files) {}
};

Transaction::Transaction(std::unique_ptr<State> state) : state_(std::move(state)) {}
Transaction::Transaction(Transaction&& other) noexcept = default;
Transaction::~Transaction() { rollback(); }

void Transaction::commit() {
  if (!state_ || !state_->scope.active()) throw Error("commit(): the transaction is already finished");
  if (state_->owner != std::this_thread::get_id())
    throw Error("commit(): a transaction must be committed on the thread that opened it");
  state_->scope.commit();
}

void Transaction::rollback() noexcept {
  if (state_ && state_->owner == std::this_thread::get_id()) state_->scope.rollback();
}

Transaction Cache::transact() {
  impl_->require_writable("transact");
  return Transaction(std::make_unique<Transaction::State>(*impl_, impl_->conn()));
}

}  // namespace diskcache
