#include "waiter_board.hpp"

#include <chrono>

#include "identity.hpp"

namespace diskcache::detail {

// One waiter. `pid` is the claim word: 0 free; a claimer sets it first and
// `ready` last, so a reader sees an entry only once it is complete.
struct WaiterBoard::Entry {
  std::atomic<std::int64_t> pid;
  std::atomic<std::int64_t> start_time;  // the process's, to tell a reused pid
  std::atomic<std::uint64_t> key;
  std::atomic<std::int64_t> thread;
  std::atomic<std::int64_t> since_us;  // Unix microseconds
  std::atomic<std::uint32_t> ready;
};
static_assert(sizeof(WaiterBoard::Waiter) > 0);

namespace {
constexpr std::size_t kFileSize = WaiterBoard::kEntries * WaiterBoard::kEntryBytes;

bool alive(std::int64_t pid, std::int64_t start_time) {
  ProcessIdentity id = self_identity();
  id.pid = pid;
  id.start_time = start_time;
  return liveness_of(id) == Liveness::Alive;
}
}  // namespace

WaiterBoard::WaiterBoard(const std::filesystem::path& dir, bool read_only)
    : mapping_(dir / "cache.db-waiters", kFileSize, read_only), base_(mapping_.data()), writable_(mapping_.writable()) {
  static_assert(sizeof(Entry) <= kEntryBytes && std::atomic<std::int64_t>::is_always_lock_free);
}

WaiterBoard::~WaiterBoard() = default;

WaiterBoard::Entry* WaiterBoard::entry(std::size_t i) const noexcept {
  return reinterpret_cast<Entry*>(static_cast<char*>(base_) + i * kEntryBytes);
}

std::uint64_t WaiterBoard::key_hash(std::string_view key_bytes, std::int64_t raw) noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : key_bytes) h = (h ^ c) * 1099511628211ull;
  h = (h ^ static_cast<std::uint64_t>(raw)) * 1099511628211ull;
  return h | 1;  // never 0
}

std::vector<WaiterBoard::Waiter> WaiterBoard::waiters(std::uint64_t key) const {
  std::vector<Waiter> out;
  if (!base_) return out;
  for (std::size_t i = 0; i < kEntries; ++i) {
    const Entry* e = entry(i);
    const std::int64_t pid = e->pid.load(std::memory_order_acquire);
    if (pid == 0 || e->ready.load(std::memory_order_acquire) == 0 || e->key.load(std::memory_order_relaxed) != key)
      continue;
    if (!alive(pid, e->start_time.load(std::memory_order_relaxed))) continue;  // left by a killed process
    out.push_back({pid, e->thread.load(std::memory_order_relaxed),
                   static_cast<double>(e->since_us.load(std::memory_order_relaxed)) / 1e6});
  }
  return out;
}

WaiterBoard::Waiting::Waiting(WaiterBoard& board, std::uint64_t key) noexcept : board_(board) {
  if (!board_.base_ || !board_.writable_) return;
  const ProcessIdentity& me = self_identity();
  const auto claim = [&](std::size_t i, std::int64_t expected) {
    Entry* e = board_.entry(i);
    if (!e->pid.compare_exchange_strong(expected, me.pid, std::memory_order_acq_rel)) return false;
    e->ready.store(0, std::memory_order_relaxed);
    e->start_time.store(me.start_time, std::memory_order_relaxed);
    e->key.store(key, std::memory_order_relaxed);
    e->thread.store(self_thread_id(), std::memory_order_relaxed);
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    e->since_us.store(std::chrono::duration_cast<std::chrono::microseconds>(now).count(), std::memory_order_relaxed);
    e->ready.store(1, std::memory_order_release);
    entry_ = i;
    return true;
  };
  const std::size_t start = static_cast<std::size_t>(self_thread_id()) % kEntries;
  for (std::size_t n = 0; n < kEntries; ++n)
    if (claim((start + n) % kEntries, 0)) return;
  for (std::size_t i = 0; i < kEntries; ++i) {  // full: take over one a killed process left
    Entry* e = board_.entry(i);
    const std::int64_t pid = e->pid.load(std::memory_order_acquire);
    if (pid != 0 && !alive(pid, e->start_time.load(std::memory_order_relaxed)) && claim(i, pid)) return;
  }
}

WaiterBoard::Waiting::~Waiting() {
  if (entry_ == kEntries) return;
  Entry* e = board_.entry(entry_);
  e->ready.store(0, std::memory_order_relaxed);
  e->pid.store(0, std::memory_order_release);
}

}  // namespace diskcache::detail
