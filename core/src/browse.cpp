#include "diskcache/browse.hpp"

#include <sqlite3.h>

#include <array>
#include <string>

#include "cache_impl.hpp"
#include "diskcache/error.hpp"
#include "diskcache/pickle.hpp"
#include "tx_state.hpp"

namespace diskcache {
namespace {

using detail::Query;

constexpr int kOrders = 6;

const char* order_column(int order) {
  switch (static_cast<KeyOrder>(order)) {
    case KeyOrder::Kind: return "mode";
    case KeyOrder::Size: return "stored_size";
    case KeyOrder::Stored: return "store_time";
    case KeyOrder::Expires: return "expire_time";
    case KeyOrder::Tag: return "tag";
    case KeyOrder::Key: break;
  }
  return "key";
}

// Text and numbers through LIKE; bytes and pickled keys by their bytes (a
// pickle holds its strings verbatim, but also NULs LIKE stops at).
constexpr const char* kSearch =
    " WHERE (typeof(key) != 'blob' AND CAST(key AS TEXT) LIKE ?1 ESCAPE '\\')"
    " OR (typeof(key) = 'blob' AND instr(key, ?2) > 0)";

// The statements, built once: the connection caches statements by the
// address of their text, so each combination has one lasting string.
struct Statements {
  std::array<std::string, 2> count;                 // [searching]
  std::array<std::string, kOrders * 2 * 2> select;  // [order][descending][searching]
  Statements() {
    for (int searching = 0; searching < 2; ++searching) {
      const std::string where = searching ? kSearch : "";
      count[searching] = "SELECT COUNT(*) FROM Cache" + where;
      for (int order = 0; order < kOrders; ++order)
        for (int descending = 0; descending < 2; ++descending) {
          const std::string direction = descending ? " DESC" : " ASC";
          // Python records `size` for file-backed values only; a value kept
          // in the row is as large as its column.
          select[(order * 2 + descending) * 2 + searching] =
              "SELECT rowid, key, raw, mode, typeof(value), "
              "CASE WHEN filename IS NULL THEN length(value) ELSE size END AS stored_size, "
              "store_time, expire_time, tag FROM Cache" +
              where + " ORDER BY " + order_column(order) + direction + ", rowid" + direction + " LIMIT ?3 OFFSET ?4";
        }
    }
  }
};

const Statements& statements() {
  static const Statements s;
  return s;
}

// A stored key (or tag) as text, decoded the way Python stored it.
std::string shown(const Query& q, int col, bool raw) {
  switch (q.column_type(col)) {
    case SQLITE_INTEGER: return std::to_string(q.int64(col));
    case SQLITE_FLOAT: return Value(q.real(col)).repr();
    case SQLITE_TEXT: return std::string(q.text(col));
    case SQLITE_NULL: return {};
    default: break;
  }
  const std::string_view data = q.blob(col);
  if (raw) return Value(Bytes(std::string(data))).repr();
  try {
    pickle::DecodeLimits limits;
    limits.max_output = 1 << 16;  // shown, not used: a small bound
    return pickle::decode(data, limits).repr();
  } catch (const Error&) {
    return "<undecodable pickle, " + std::to_string(data.size()) + " bytes>";
  }
}

std::string kind_of(std::int64_t mode, std::string_view value_type) {
  switch (mode) {
    case 1:
      return value_type == "integer" ? "int" : value_type == "real" ? "float" : value_type == "text" ? "str" : "bytes";
    case 2: return "bytes (file)";
    case 3: return "str (file)";
    case 4: return "pickle";
    default: return "?";
  }
}

}  // namespace

KeyPage browse_keys(Cache& cache, const KeyQuery& query) {
  if (query.limit < 1 || query.limit > 100000)
    throw InvalidArgument("browse_keys: limit " + std::to_string(query.limit) + " is not between 1 and 100000");
  if (query.offset < 0) throw InvalidArgument("browse_keys: offset " + std::to_string(query.offset) + " is negative");
  Cache::Impl& d = detail::impl_of(cache);
  return d.with_context([&] {
    auto& c = d.conn();
    detail::ReadScope read(c);
    const bool searching = !query.search.empty();
    std::string pattern;
    if (searching) {
      for (char ch : query.search) {
        if (ch == '\\' || ch == '%' || ch == '_') pattern += '\\';
        pattern += ch;
      }
      pattern = "%" + pattern + "%";
    }
    auto bind_search = [&](Query& q) {
      if (searching) q.bind_text(1, pattern).bind_blob(2, query.search);
    };
    KeyPage page;
    if (query.count) {
      Query q(c, statements().count[searching].c_str());
      bind_search(q);
      if (q.step()) page.total = q.int64(0);
    }
    const int order = static_cast<int>(query.order);
    Query q(c, statements().select[(order * 2 + query.descending) * 2 + searching].c_str());
    bind_search(q);
    q.bind(3, query.limit).bind(4, query.offset);
    while (q.step()) {
      KeyListing row;
      row.rowid = q.int64(0);
      row.key = shown(q, 1, q.int64(2) != 0);
      row.kind = kind_of(q.int64(3), q.text(4));
      row.size = q.int64(5);
      row.store_time = q.real(6);
      if (!q.is_null(7)) row.expire_time = q.real(7);
      row.tag = shown(q, 8, true);
      page.rows.push_back(std::move(row));
    }
    return page;
  });
}

}  // namespace diskcache
