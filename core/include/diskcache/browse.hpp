// Paging through a cache's keys for tools (the monitor's key browser, the
// CLI): search and order are done in SQL over every key, not over the rows
// a tool has loaded, and each call reads one page in one read transaction.
// Keys are shown, not decoded for use: a pickled key is decoded with tight
// bounds and an undecodable one is named by its size, never thrown.
#pragma once

#include "diskcache/export.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diskcache/cache.hpp"

namespace diskcache {

enum class KeyOrder { Key, Kind, Size, Stored, Expires, Tag };

struct DISKCACHE_EXPORT KeyQuery {
  // Only keys containing this text: text and number keys through SQL LIKE
  // (case-insensitive for ASCII), bytes and pickled keys by their bytes.
  // Empty: every key.
  std::string search;
  KeyOrder order = KeyOrder::Key;
  bool descending = false;
  std::int64_t offset = 0;
  std::int64_t limit = 200;  // rows per page, 1 to 100,000
  bool count = true;         // also count every match (KeyPage::total)
};

struct DISKCACHE_EXPORT KeyListing {
  std::int64_t rowid = 0;
  // A text key as it is; a number as a number; bytes and pickled keys as
  // Python literals; "<undecodable pickle, N bytes>" for a damaged one.
  std::string key;
  // How the value is stored: "int", "float", "str", "bytes" (in the row),
  // "bytes (file)", "str (file)", "pickle" (Python's Disk modes).
  std::string kind;
  std::int64_t size = 0;  // bytes the value takes (its file's, or its column's)
  double store_time = 0;
  std::optional<double> expire_time;
  std::string tag;  // as `key` is shown; empty when none
};

struct DISKCACHE_EXPORT KeyPage {
  std::optional<std::int64_t> total;  // every match, when asked
  std::vector<KeyListing> rows;       // `limit` at most, from `offset` in the order asked
};

// One page of `cache`'s keys (expired ones included: they are there until
// culled). Throws diskcache::Error naming the database when it cannot be
// read, InvalidArgument for a limit out of range.
DISKCACHE_EXPORT KeyPage browse_keys(Cache& cache, const KeyQuery& query);

}  // namespace diskcache
