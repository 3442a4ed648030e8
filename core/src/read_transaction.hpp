// A read transaction: one consistent view for several queries on this
// thread's connection, unless the caller is inside a transaction already
// (then that one gives the view). Ends with COMMIT, or ROLLBACK when that
// fails; never throws from its destructor.
#pragma once

#include <sqlite3.h>

#include "sqlite_db.hpp"

namespace diskcache::detail {

class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& c) : c_(c), own_(sqlite3_get_autocommit(c.handle()) != 0) {
    if (own_) c_.exec("BEGIN");
  }
  ~ReadTransaction() {
    if (own_ && sqlite3_exec(c_.handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      sqlite3_exec(c_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Connection& c_;
  bool own_;
};

}  // namespace diskcache::detail
