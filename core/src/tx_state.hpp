// The core's one transaction model. Every SQL transaction on a connection
// goes through one of three scopes, which alone change the connection's
// TransactionState:
//
//   ReadScope   one consistent view for several queries: BEGIN (deferred),
//               or nothing inside an open transaction (that one gives it).
//   WriteScope  one change: BEGIN IMMEDIATE; inside an open transaction a
//               SAVEPOINT, whose rollback undoes only this scope; under a
//               FlatScope nothing (the enclosing scope decides for all).
//   FlatScope   makes the write scopes opened while it lives flat: for
//               internal multi-step changes that fail as a whole.
//
// When the outermost write scope commits, the value files replaced inside
// are removed and the after-commit actions run; when a scope rolls back, the
// files written inside it are removed and its actions are dropped. The
// public Transaction is a WriteScope held by the user.
//
// Thread-safety: a Connection, and so its state, belongs to one thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace diskcache::detail {

class Connection;
class ValueFiles;

class TransactionState {
 public:
  bool open() const noexcept { return depth_ > 0; }
  // Runs `action` once the outermost transaction has committed, at once when
  // none is open; never when a scope enclosing this call rolls back.
  // `action` must not throw.
  void after_commit(std::function<void()> action);

 private:
  friend class WriteScope;
  friend class FlatScope;
  int depth_ = 0;
  int flat_ = 0;  // > 0: nested write scopes take no savepoint
  std::vector<std::string> remove_after_commit_;  // value files replaced inside
  std::vector<std::string> remove_on_rollback_;   // value files written inside
  std::vector<std::function<void()>> after_commit_;
};

// Whether the calling thread has a write transaction open on any connection
// (it must not wait for the write lock through another one: that waits for
// itself).
bool thread_in_write_transaction() noexcept;

class WriteScope {
 public:
  // `new_file`: a value file written for this change; removed if BEGIN fails.
  WriteScope(Connection& conn, ValueFiles& files, const std::optional<std::string>& new_file = std::nullopt);
  // A change that writes no value files (schema, side tables); as the
  // outermost scope it removes none either, so it must not enclose scopes
  // that write or replace value files.
  explicit WriteScope(Connection& conn);
  ~WriteScope();
  WriteScope(const WriteScope&) = delete;
  WriteScope& operator=(const WriteScope&) = delete;

  void wrote_file(const std::optional<std::string>& name);
  void remove_after_commit(const std::optional<std::string>& name);
  void commit();
  void rollback() noexcept;
  bool active() const noexcept { return active_; }

 private:
  void begin(const std::optional<std::string>& new_file);
  void remove_file(const std::string& name, bool prune_folders) noexcept;
  Connection& conn_;
  TransactionState& state_;
  ValueFiles* files_;  // null: this scope writes no value files
  bool nested_;
  bool savepoint_ = false;
  bool active_ = true;
  std::size_t wrote_mark_ = 0, remove_mark_ = 0, after_mark_ = 0;
};

class FlatScope {
 public:
  explicit FlatScope(Connection& conn);
  ~FlatScope();
  FlatScope(const FlatScope&) = delete;
  FlatScope& operator=(const FlatScope&) = delete;

 private:
  TransactionState& state_;
};

class ReadScope {
 public:
  explicit ReadScope(Connection& conn);
  // Ends with COMMIT, or ROLLBACK when that fails; never throws.
  ~ReadScope();
  ReadScope(const ReadScope&) = delete;
  ReadScope& operator=(const ReadScope&) = delete;

 private:
  Connection& conn_;
  bool own_;
};

}  // namespace diskcache::detail
