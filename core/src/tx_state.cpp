// The transaction scopes and their state (tx_state.hpp).
#include "tx_state.hpp"

#include <sqlite3.h>

#include <algorithm>

#include "sqlite_db.hpp"
#include "value_files.hpp"

namespace diskcache::detail {
namespace {
thread_local int t_outermost_scopes = 0;  // this thread's open write transactions, any connection
}

bool thread_in_write_transaction() noexcept { return t_outermost_scopes > 0; }

void TransactionState::after_commit(std::function<void()> action) {
  if (open())
    after_commit_.push_back(std::move(action));
  else
    action();
}

// ------------------------------------------------------------------ WriteScope

WriteScope::WriteScope(Connection& conn, ValueFiles& files, const std::optional<std::string>& new_file)
    : conn_(conn), state_(conn.tx()), files_(&files), nested_(state_.open()), savepoint_(nested_ && state_.flat_ == 0) {
  begin(new_file);
}

WriteScope::WriteScope(Connection& conn)
    : conn_(conn), state_(conn.tx()), files_(nullptr), nested_(state_.open()), savepoint_(nested_ && state_.flat_ == 0) {
  begin(std::nullopt);
}

void WriteScope::begin(const std::optional<std::string>& new_file) {
  try {
    if (!nested_)
      Query(conn_, "BEGIN IMMEDIATE").run();
    else if (savepoint_)
      Query(conn_, "SAVEPOINT dc").run();
  } catch (...) {
    if (new_file) remove_file(*new_file, true);
    throw;
  }
  if (!nested_) ++t_outermost_scopes;
  wrote_mark_ = state_.remove_on_rollback_.size();
  remove_mark_ = state_.remove_after_commit_.size();
  after_mark_ = state_.after_commit_.size();
  ++state_.depth_;
  wrote_file(new_file);
}

WriteScope::~WriteScope() { rollback(); }

void WriteScope::remove_file(const std::string& name, bool prune_folders) noexcept {
  if (files_) files_->remove(name, prune_folders);
}

void WriteScope::wrote_file(const std::optional<std::string>& name) {
  if (name) state_.remove_on_rollback_.push_back(*name);
}

void WriteScope::remove_after_commit(const std::optional<std::string>& name) {
  if (name) state_.remove_after_commit_.push_back(*name);
}

void WriteScope::commit() {
  if (!active_) return;
  if (nested_) {
    if (savepoint_) Query(conn_, "RELEASE dc").run();
    active_ = false;
    --state_.depth_;
    return;
  }
  try {
    Query(conn_, "COMMIT").run();
  } catch (...) {
    rollback();
    throw;
  }
  active_ = false;
  --state_.depth_;
  --t_outermost_scopes;
  std::vector<std::string> obsolete = std::move(state_.remove_after_commit_);
  std::vector<std::string> written = std::move(state_.remove_on_rollback_);
  std::vector<std::function<void()>> actions = std::move(state_.after_commit_);
  state_.remove_after_commit_.clear();
  state_.remove_on_rollback_.clear();
  state_.after_commit_.clear();
  for (auto& action : actions) action();
  // A folder holding a file this transaction stored (and kept) is not empty:
  // removing an old file from it need not try to remove the folder too (an
  // overwrite usually writes into the folder of the value it replaces).
  std::sort(obsolete.begin(), obsolete.end());
  std::vector<std::string_view> live_folders;
  for (const auto& name : written)
    if (!std::binary_search(obsolete.begin(), obsolete.end(), name)) live_folders.push_back(ValueFiles::folder_of(name));
  for (const auto& name : obsolete) {
    const bool shared = std::find(live_folders.begin(), live_folders.end(), ValueFiles::folder_of(name)) != live_folders.end();
    remove_file(name, !shared);
  }
}

void WriteScope::rollback() noexcept {
  if (!active_) return;
  active_ = false;
  --state_.depth_;
  if (!nested_) --t_outermost_scopes;
  try {
    if (savepoint_) {
      Query(conn_, "ROLLBACK TO dc").run();
      Query(conn_, "RELEASE dc").run();
    } else if (!nested_) {
      Query(conn_, "ROLLBACK").run();
    }
  } catch (...) {
    // SQLite may already have rolled back (disk full, I/O error).
  }
  auto& written = state_.remove_on_rollback_;
  for (std::size_t i = wrote_mark_; i < written.size(); ++i) remove_file(written[i], true);
  written.resize(std::min(written.size(), wrote_mark_));
  auto& obsolete = state_.remove_after_commit_;
  obsolete.resize(std::min(obsolete.size(), remove_mark_));  // still referenced after rollback
  auto& actions = state_.after_commit_;
  actions.resize(std::min(actions.size(), after_mark_));
}

// ------------------------------------------------------------------ FlatScope, ReadScope

FlatScope::FlatScope(Connection& conn) : state_(conn.tx()) { ++state_.flat_; }
FlatScope::~FlatScope() { --state_.flat_; }

ReadScope::ReadScope(Connection& conn) : conn_(conn), own_(sqlite3_get_autocommit(conn.handle()) != 0) {
  if (own_) conn_.exec("BEGIN");
}

ReadScope::~ReadScope() {
  if (own_ && sqlite3_exec(conn_.handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    sqlite3_exec(conn_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace diskcache::detail
