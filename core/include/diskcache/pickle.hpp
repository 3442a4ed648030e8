// The pickle subset Python diskcache writes for keys and values
// (protocol 5, readable back to protocol 2): None, bool, int of any size,
// float, str, bytes, tuple, list and dict of those.
//
// Decoding never executes anything: every opcode that could name a class or
// call a function (GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ,
// PERSID, EXT*, ...) is refused, as are sets and bytearrays, which Value
// cannot represent. Every length is checked against the bytes present;
// nesting depth and the size of the decoded result are bounded.
//
// Thread-safety: free functions without shared state.
#pragma once

#include "diskcache/export.hpp"

#include <cstddef>
#include <string>
#include <string_view>

#include "diskcache/value.hpp"

namespace diskcache::pickle {

// Bounds applied while decoding untrusted bytes.
struct DISKCACHE_EXPORT DecodeLimits {
  std::size_t max_depth = 1000;  // nesting of tuples/lists/dicts
  // Budget for the decoded result in bytes of memory: sizeof(Value) for
  // each element plus the bytes of its text or bytes. Shared sub-objects
  // (memo GETs) count each time they are copied, so a small pickle cannot
  // expand into a huge Value. 0 means "4 × input + 64 MiB".
  std::size_t max_output = 0;
};

enum class Form {
  // pickletools.optimize(pickle.dumps(key, 5)): byte-for-byte what Python
  // stores for a key whose equal strings are distinct objects (strings built
  // at run time), so the same key finds the same row. CPython always shares
  // its singleton objects (empty or one-character latin-1 str, empty or
  // one-byte bytes), which are written once and fetched again with a memo
  // GET.
  Key,
  // The same key as Python pickles it when its equal str (or bytes) objects
  // are one object: a literal repeated in one function, ('cd', 'cd'), or
  // memoize's f(s, s). Every repeat is a memo GET. A key has these two forms
  // only when it repeats a string longer than a singleton; lookups try both
  // (mixed sharing, some repeats one object and some not, is not matched).
  SharedKey,
  // pickle.dumps(value, 5) with MEMOIZE after each object, as Python stores
  // values. Python reads either form; this one mirrors its bytes.
  Value,
};

// Encodes `value`. Throws UnsupportedValue for text that is not UTF-8 or a
// dict key Python could not hash (list or dict).
DISKCACHE_EXPORT std::string encode(const Value& value, Form form);

// Decodes untrusted bytes. Throws CorruptCache for malformed or truncated
// data and UnsupportedValue for an opcode outside the subset; each message
// names the opcode and its offset.
DISKCACHE_EXPORT Value decode(std::string_view data, const DecodeLimits& limits = {});

}  // namespace diskcache::pickle
