// Exceptions thrown by diskcache. A miss is never an exception (it is an
// empty std::optional); contention in try_* calls is a `false` result. Every
// fault derives from diskcache::Error, and its message names the directory
// (and the key, where one is involved).
#pragma once

#include "diskcache/export.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace diskcache {

// Base of every exception this library throws.
class DISKCACHE_EXPORT Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The database stayed busy past the cache's timeout. `completed` counts the
// items a bulk operation (clear, evict, expire, cull) had already removed.
class DISKCACHE_EXPORT Timeout : public Error {
 public:
  explicit Timeout(const std::string& what, std::int64_t completed = 0)
      : Error(what), completed_(completed) {}
  std::int64_t completed() const noexcept { return completed_; }

 private:
  std::int64_t completed_;
};

// The directory holds data this library refuses to trust: a damaged or
// non-SQLite cache.db, a hostile filename, a malformed pickle, a Settings row
// of the wrong type.
class DISKCACHE_EXPORT CorruptCache : public Error {
 public:
  using Error::Error;
};

// A value or key outside the supported shapes (e.g. a pickle opcode that
// would execute code, invalid UTF-8 text, an integer that overflows incr).
class DISKCACHE_EXPORT UnsupportedValue : public Error {
 public:
  using Error::Error;
};

// A value had another type than the one asked for (get<T>, incr on text...).
class DISKCACHE_EXPORT TypeMismatch : public Error {
 public:
  using Error::Error;
};

// An operation that requires an existing key did not find it (incr without
// a default, an empty peekitem, ...).
class DISKCACHE_EXPORT KeyNotFound : public Error {
 public:
  using Error::Error;
};

// Releasing (or renewing) a lock or permit the caller does not hold, or a
// semaphore beyond its bound. Nothing was changed.
class DISKCACHE_EXPORT NotHeld : public Error {
 public:
  using Error::Error;
};

// An index past either end of a Deque.
class DISKCACHE_EXPORT OutOfRange : public Error {
 public:
  using Error::Error;
};

// An operating-system level failure (unwritable directory, disk full, I/O
// error). `error_code()` is the errno value, 0 when not from the OS.
class DISKCACHE_EXPORT IoError : public Error {
 public:
  IoError(const std::string& what, int error_code) : Error(what), code_(error_code) {}
  int error_code() const noexcept { return code_; }

 private:
  int code_;
};

// A write was attempted through a cache opened read-only.
class DISKCACHE_EXPORT ReadOnlyCache : public Error {
 public:
  using Error::Error;
};

// A caller passed an argument that cannot be honoured (bad setting value,
// unknown eviction policy, negative size...).
class DISKCACHE_EXPORT InvalidArgument : public Error {
 public:
  using Error::Error;
};

}  // namespace diskcache
