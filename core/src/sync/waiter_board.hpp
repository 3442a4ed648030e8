// cache.db-waiters: who is waiting for which primitive, for inspection
// ("who blocks whom"). A small shared mapping of entries; a C++ waiter
// claims one (a compare-and-swap, no transaction) once its first try
// failed and clears it when it acquires or gives up. An entry left by a
// killed process is recognised by its dead pid and ignored (and reused).
// Python waiters write nothing and are not shown. Like cache.db-wake, the
// name contains "cache.db", so Python's check() ignores the file.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "shared_mapping.hpp"

namespace diskcache::detail {

class WaiterBoard {
 public:
  static constexpr std::size_t kEntries = 256;
  static constexpr std::size_t kEntryBytes = 64;

  // Maps `<dir>/cache.db-waiters`, creating it unless `read_only`. A board
  // that cannot be mapped shows no waiters.
  WaiterBoard(const std::filesystem::path& dir, bool read_only);
  ~WaiterBoard();
  WaiterBoard(const WaiterBoard&) = delete;
  WaiterBoard& operator=(const WaiterBoard&) = delete;

  // A 64-bit hash of a stored key (column bytes and raw flag).
  static std::uint64_t key_hash(std::string_view key_bytes, std::int64_t raw) noexcept;

  struct Waiter {
    std::int64_t pid = 0;
    std::int64_t thread = 0;
    double since = 0;  // Unix seconds when it started waiting
  };
  // The live waiters of a key.
  std::vector<Waiter> waiters(std::uint64_t key) const;

  // This thread waits for `key` while it lives (nothing when the board is
  // full or unmapped).
  class Waiting {
   public:
    Waiting(WaiterBoard& board, std::uint64_t key) noexcept;
    ~Waiting();
    Waiting(const Waiting&) = delete;
    Waiting& operator=(const Waiting&) = delete;

   private:
    WaiterBoard& board_;
    std::size_t entry_ = kEntries;  // kEntries: none claimed
  };

 private:
  struct Entry;
  Entry* entry(std::size_t i) const noexcept;
  SharedMapping mapping_;
  void* base_ = nullptr;
  bool writable_ = false;
};

}  // namespace diskcache::detail
