#include "wake_board.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>

namespace diskcache::detail {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && std::atomic<std::uint32_t>::is_always_lock_free);

void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t seen, std::chrono::nanoseconds timeout) {
  if (timeout.count() <= 0) return;
  timespec ts{static_cast<time_t>(timeout.count() / 1000000000), static_cast<long>(timeout.count() % 1000000000)};
  // Not FUTEX_PRIVATE: the word lives in a file mapping shared by processes.
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT, seen, &ts, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>* word, int count) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE, count, nullptr, nullptr, 0);
}
void futex_wake_all(std::atomic<std::uint32_t>* word) { futex_wake(word, INT_MAX); }

}  // namespace

WakeBoard::WakeBoard(const std::filesystem::path& dir, bool read_only)
    : mapping_(dir / "cache.db-wake", kFileSize, read_only), base_(mapping_.data()), writable_(mapping_.writable()) {}

WakeBoard::~WakeBoard() = default;

std::size_t WakeBoard::slot_of(std::string_view key_bytes) noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : key_bytes) h = (h ^ c) * 1099511628211ull;
  // Slot 0 is not used: it was a global word every release bumped, and
  // keeping the mapping keeps processes of earlier versions in step.
  return 1 + h % (kSlots - 1);
}

std::atomic<std::uint32_t>* WakeBoard::seq(std::size_t slot) const noexcept {
  return reinterpret_cast<std::atomic<std::uint32_t>*>(static_cast<char*>(base_) + slot * 64);
}
std::atomic<std::uint32_t>* WakeBoard::contending(std::size_t slot) const noexcept {
  return reinterpret_cast<std::atomic<std::uint32_t>*>(static_cast<char*>(base_) + slot * 64 + 4);
}

std::atomic<std::uint32_t>* WakeBoard::acquired_word(std::size_t slot) const noexcept {
  return reinterpret_cast<std::atomic<std::uint32_t>*>(static_cast<char*>(base_) + slot * 64 + 8);
}

std::uint32_t WakeBoard::acquisitions(std::size_t slot) const noexcept {
  return base_ ? acquired_word(slot)->load(std::memory_order_acquire) : 0;
}

void WakeBoard::acquired(std::size_t slot) noexcept {
  if (!base_ || !writable_) return;
  acquired_word(slot)->fetch_add(1, std::memory_order_release);
  futex_wake_all(acquired_word(slot));
}

void WakeBoard::wait_acquired(std::size_t slot, std::uint32_t seen, std::chrono::nanoseconds timeout) noexcept {
  if (base_) futex_wait(acquired_word(slot), seen, timeout);
}

std::uint32_t WakeBoard::sequence(std::size_t slot) const noexcept {
  return base_ ? seq(slot)->load(std::memory_order_acquire) : 0;
}

std::atomic<std::uint32_t>* WakeBoard::heartbeat(std::size_t slot) const noexcept {
  return reinterpret_cast<std::atomic<std::uint32_t>*>(static_cast<char*>(base_) + slot * 64 + 12);
}

std::uint32_t WakeBoard::now_ms() noexcept {
  using namespace std::chrono;
  return static_cast<std::uint32_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

std::uint32_t WakeBoard::contenders(std::size_t slot, std::uint32_t now) const noexcept {
  if (!base_) return 0;
  // Signed: a heartbeat written just after `now` was read is fresh too. One
  // far in the future comes from a process with another clock (a time
  // namespace): it cannot be aged, so it is not trusted either.
  const auto age = static_cast<std::int32_t>(now - heartbeat(slot)->load(std::memory_order_relaxed));
  const bool fresh = age <= kContendersFreshMs && age >= -kContendersFreshMs;
  return fresh ? contending(slot)->load(std::memory_order_relaxed) : 0;
}

WakeBoard::Contending::Contending(WakeBoard& board, std::size_t slot) noexcept : board_(board), slot_(slot) {
  if (!board_.base_ || !board_.writable_) return;
  board_.contending(slot_)->fetch_add(1, std::memory_order_relaxed);
  refresh();
}

WakeBoard::Contending::~Contending() {
  if (board_.base_ && board_.writable_) board_.contending(slot_)->fetch_sub(1, std::memory_order_relaxed);
}

void WakeBoard::Contending::refresh() noexcept {
  if (board_.base_ && board_.writable_) board_.heartbeat(slot_)->store(now_ms(), std::memory_order_relaxed);
}

void WakeBoard::wait(std::size_t slot, std::uint32_t seen, std::chrono::nanoseconds timeout) noexcept {
  if (!base_) {
    timespec ts{0, static_cast<long>(std::min<std::int64_t>(timeout.count(), 1000000))};
    ::nanosleep(&ts, nullptr);
    return;
  }
  futex_wait(seq(slot), seen, timeout);
}

void WakeBoard::notify(std::size_t slot) noexcept {
  if (!base_ || !writable_) return;
  seq(slot)->fetch_add(1, std::memory_order_release);
  futex_wake_all(seq(slot));
}

void WakeBoard::notify_one(std::size_t slot) noexcept {
  if (!base_ || !writable_) return;
  seq(slot)->fetch_add(1, std::memory_order_release);
  futex_wake(seq(slot), 1);
}

}  // namespace diskcache::detail
