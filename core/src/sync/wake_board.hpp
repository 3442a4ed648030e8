// cache.db-wake: a small shared mapping beside cache.db whose slots hold
// sequence words. A release bumps the slot of its key and wakes the futex
// waiters of that slot, in every process. The file's space is reserved when
// it is created, it holds no state that a crash could leave wrong (only
// counters), and its name contains "cache.db" so Python's check() ignores it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "shared_mapping.hpp"

namespace diskcache::detail {

class WakeBoard {
 public:
  static constexpr std::size_t kSlots = 64;
  static constexpr std::size_t kFileSize = kSlots * 64;  // one cache line a slot

  // Maps `<dir>/cache.db-wake`, creating it unless `read_only`. A board
  // that cannot be mapped degrades to polling (valid() == false).
  WakeBoard(const std::filesystem::path& dir, bool read_only);
  ~WakeBoard();
  WakeBoard(const WakeBoard&) = delete;
  WakeBoard& operator=(const WakeBoard&) = delete;

  bool valid() const noexcept { return base_ != nullptr; }
  static std::size_t slot_of(std::string_view key_bytes) noexcept;

  // The current sequence of a slot (read before trying to acquire).
  std::uint32_t sequence(std::size_t slot) const noexcept;
  // Waits until the slot's sequence differs from `seen` or `timeout`
  // passes (spurious returns are allowed).
  void wait(std::size_t slot, std::uint32_t seen, std::chrono::nanoseconds timeout) noexcept;
  // Bumps the slot's sequence and wakes all its waiters.
  void notify(std::size_t slot) noexcept;
  // Bumps the slot's sequence and wakes one of its waiters (the others see
  // the new sequence at their next poll, within 2 ms).
  void notify_one(std::size_t slot) noexcept;
  // Acquisitions bump a second word of the slot, so a process that has just
  // released can sleep until a waiter took the key (fair hand-off).
  std::uint32_t acquisitions(std::size_t slot) const noexcept;
  void acquired(std::size_t slot) noexcept;
  void wait_acquired(std::size_t slot, std::uint32_t seen, std::chrono::nanoseconds timeout) noexcept;
  // Threads currently inside an acquisition of a key of the slot, counted
  // until they acquire or give up, whether asleep on the slot, retrying or
  // deferring to others. Live contenders refresh a heartbeat at least every
  // poll (2 ms); when none has for kContendersFresh, the count is taken for
  // leftovers of killed processes and contenders() is 0, so a crash never
  // leaves releasers deferring to no one.
  static constexpr std::int32_t kContendersFreshMs = 50;
  std::uint32_t contenders(std::size_t slot) const noexcept { return contenders(slot, now_ms()); }
  std::uint32_t contenders(std::size_t slot, std::uint32_t now_ms) const noexcept;  // time injected (tests)
  // CLOCK_MONOTONIC in ms: one clock for the processes of a host (those in
  // another time namespace look stale, so releasers do not defer to them).
  static std::uint32_t now_ms() noexcept;
  class Contending {  // counts this thread as a contender while it lives
   public:
    Contending(WakeBoard& board, std::size_t slot) noexcept;
    ~Contending();
    Contending(const Contending&) = delete;
    Contending& operator=(const Contending&) = delete;
    void refresh() noexcept;  // still contending: renews the slot's heartbeat

   private:
    WakeBoard& board_;
    std::size_t slot_;
  };

 private:
  std::atomic<std::uint32_t>* seq(std::size_t slot) const noexcept;
  std::atomic<std::uint32_t>* contending(std::size_t slot) const noexcept;
  std::atomic<std::uint32_t>* heartbeat(std::size_t slot) const noexcept;
  std::atomic<std::uint32_t>* acquired_word(std::size_t slot) const noexcept;
  SharedMapping mapping_;
  void* base_ = nullptr;
  bool writable_ = false;
};

}  // namespace diskcache::detail
