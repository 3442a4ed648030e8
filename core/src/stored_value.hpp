// How keys and values map onto Cache rows, exactly as Python diskcache's
// Disk.put/get/store/fetch (see docs/format.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "diskcache/value.hpp"
#include "sqlite_db.hpp"

namespace diskcache::detail {

class ValueFiles;

enum Mode : int { kModeNone = 0, kModeRaw = 1, kModeBinary = 2, kModeText = 3, kModePickle = 4 };

// A SQLite scalar: what one column holds.
struct SqlScalar {
  enum Kind { Null, Integer, Real, Text, Blob } kind = Null;
  std::int64_t i = 0;
  double d = 0;
  std::string s;

  void bind(Query& q, int index) const;
  static SqlScalar column(const Query& q, int col);
};

// The (key, raw) pair of a key: bytes/str/int64/float raw, else pickled.
struct DbKey {
  SqlScalar key;
  std::int64_t raw = 1;
  // The pickle Python writes when the key's equal strings are one object
  // (pickle::Form::SharedKey), where it differs from `key`; else empty.
  std::optional<std::string> shared_form;
};
DbKey encode_key(const Value& key);
// `key` as its row in `c` stores it: the shared form when only that form has
// a row, else the key as encoded. Run it inside the transaction that uses it.
DbKey stored_key(Connection& c, DbKey key);
// Decodes a stored key (untrusted: a pickled key is decoded with limits).
Value decode_key(const SqlScalar& key, std::int64_t raw);

// Tags are stored as plain SQLite values (None, int, float, str, bytes).
SqlScalar encode_tag(const Value& tag);
// A column as a Value. Throws CorruptCache for TEXT that is not UTF-8, as
// Python does (the same rule as for text value files).
Value decode_scalar(const SqlScalar& s);

// The columns describing a stored value.
struct StoredValue {
  std::int64_t size = 0;
  int mode = kModeRaw;
  std::optional<std::string> filename;
  SqlScalar value;
};

// Chooses the representation of `value` (Python's Disk.store) and writes
// its file when it is large. The caller owns the file until its row commits.
StoredValue store_value(const Value& value, std::int64_t min_file_size, ValueFiles& files);

// Reads a stored value back; std::nullopt when its file has vanished.
std::optional<Value> fetch_value(int mode, const std::optional<std::string>& filename, const SqlScalar& value,
                                 std::int64_t size, ValueFiles& files);

}  // namespace diskcache::detail
