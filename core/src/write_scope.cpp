#include "cache_impl.hpp"

#include <algorithm>

namespace diskcache::detail {
namespace {
thread_local int t_outermost_scopes = 0;  // this thread's open write transactions, any connection
}

bool thread_in_write_transaction() noexcept { return t_outermost_scopes > 0; }

WriteScope::WriteScope(Connection& conn, ValueFiles& files, const std::optional<std::string>& new_file)
    : conn_(conn), files_(files), nested_(conn.tx_depth > 0), savepoint_(nested_ && conn.flat_nesting == 0) {
  try {
    if (!nested_)
      Query(conn_, "BEGIN IMMEDIATE").run();
    else if (savepoint_)
      Query(conn_, "SAVEPOINT dc").run();
  } catch (...) {
    if (new_file) files_.remove(*new_file);
    throw;
  }
  if (!nested_) ++t_outermost_scopes;
  wrote_mark_ = conn_.tx_remove_on_rollback.size();
  remove_mark_ = conn_.tx_remove_after_commit.size();
  after_mark_ = conn_.tx_after_commit.size();
  ++conn_.tx_depth;
  wrote_file(new_file);
}

WriteScope::~WriteScope() { rollback(); }

void WriteScope::wrote_file(const std::optional<std::string>& name) {
  if (name) conn_.tx_remove_on_rollback.push_back(*name);
}

void WriteScope::remove_after_commit(const std::optional<std::string>& name) {
  if (name) conn_.tx_remove_after_commit.push_back(*name);
}

void WriteScope::after_commit(std::function<void()> action) { conn_.tx_after_commit.push_back(std::move(action)); }

void WriteScope::commit() {
  if (!active_) return;
  if (nested_) {
    if (savepoint_) Query(conn_, "RELEASE dc").run();
    active_ = false;
    --conn_.tx_depth;
    return;
  }
  try {
    Query(conn_, "COMMIT").run();
  } catch (...) {
    rollback();
    throw;
  }
  active_ = false;
  --conn_.tx_depth;
  --t_outermost_scopes;
  std::vector<std::string> obsolete = std::move(conn_.tx_remove_after_commit);
  std::vector<std::string> written = std::move(conn_.tx_remove_on_rollback);
  std::vector<std::function<void()>> actions = std::move(conn_.tx_after_commit);
  conn_.tx_remove_after_commit.clear();
  conn_.tx_remove_on_rollback.clear();
  conn_.tx_after_commit.clear();
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
    files_.remove(name, !shared);
  }
}

void WriteScope::rollback() noexcept {
  if (!active_) return;
  active_ = false;
  --conn_.tx_depth;
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
  auto& written = conn_.tx_remove_on_rollback;
  for (std::size_t i = wrote_mark_; i < written.size(); ++i) files_.remove(written[i]);
  written.resize(std::min(written.size(), wrote_mark_));
  auto& obsolete = conn_.tx_remove_after_commit;
  obsolete.resize(std::min(obsolete.size(), remove_mark_));  // still referenced after rollback
  auto& actions = conn_.tx_after_commit;
  actions.resize(std::min(actions.size(), after_mark_));
}

}  // namespace diskcache::detail
