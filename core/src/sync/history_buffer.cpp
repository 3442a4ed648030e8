// HistoryBuffer: committed history events, inserted in batches by one thread.
#include "history_buffer.hpp"

#include <sqlite3.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <tuple>

namespace diskcache::detail {
namespace {

// Every live buffer of the process, so that any handle's read flushes all
// handles' events on the same database. flush_all borrows the buffers it
// flushes and holds the mutex only to pick and return them (a flush may wait
// for the database, and a thread registering a buffer may hold its write
// lock); a buffer unregisters, and waits until no flush borrows it, before it
// goes away.
struct Registry {
  std::mutex mu;
  std::condition_variable returned;
  std::vector<HistoryBuffer*> buffers;  // guarded by mu
};
Registry& registry() {
  static auto* registry = new Registry;  // never destroyed: a Cache destroyed during exit still unregisters
  return *registry;
}

std::pair<std::uint64_t, std::uint64_t> identity_of(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return {0, 0};
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

HistoryBuffer::HistoryBuffer(Cache::Impl& impl) : impl_(impl), fork_generation_(detail::fork_generation()) {
  std::tie(device_, inode_) = identity_of(impl.dir);
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.buffers.push_back(this);
}

void HistoryBuffer::flush_all(const Cache::Impl& impl) noexcept {
  const auto [device, inode] = identity_of(impl.dir);
  Registry& r = registry();
  std::vector<HistoryBuffer*> borrowed;
  {
    std::lock_guard lock(r.mu);
    for (HistoryBuffer* buffer : r.buffers)
      if (buffer->device_ == device && buffer->inode_ == inode) {
        ++buffer->borrowed_;
        borrowed.push_back(buffer);
      }
  }
  for (HistoryBuffer* buffer : borrowed) buffer->flush();
  {
    std::lock_guard lock(r.mu);
    for (HistoryBuffer* buffer : borrowed) --buffer->borrowed_;
  }
  r.returned.notify_all();
}

HistoryBuffer::~HistoryBuffer() {
  {
    Registry& r = registry();
    std::unique_lock lock(r.mu);
    r.buffers.erase(std::remove(r.buffers.begin(), r.buffers.end(), this), r.buffers.end());
    r.returned.wait(lock, [&] { return borrowed_ == 0; });
  }
  std::unique_ptr<std::thread> thread;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    if (fork_generation_ == detail::fork_generation())
      thread = std::move(thread_);
    else
      (void)thread_.release();  // the parent's thread: not ours to join
  }
  if (thread && thread->joinable()) thread->join();
  write_pending();
}

void HistoryBuffer::start_if_needed() {
  const std::uint64_t generation = detail::fork_generation();
  if (generation != fork_generation_) {  // a forked child: the parent flushes its own events
    (void)thread_.release();
    pending_.clear();
    fork_generation_ = generation;
  }
  if (!thread_ && !stopping_) thread_ = std::make_unique<std::thread>([this] { run(); });
}

void HistoryBuffer::add(std::vector<PendingEvent> events) {
  if (events.empty()) return;
  std::lock_guard lock(mu_);
  start_if_needed();
  const bool was_empty = pending_.empty();  // the flushing thread waits for a first event
  if (was_empty)
    pending_ = std::move(events);
  else
    pending_.insert(pending_.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
  if (pending_.size() > kMaxPending)
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_.size() - kMaxPending));
  if (was_empty || pending_.size() >= kEagerFlush) cv_.notify_all();
}

void HistoryBuffer::flush() noexcept { write_pending(); }

void HistoryBuffer::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;  // the destructor writes what is left
    // Let a burst gather: one transaction for everything of the next kFlushDelay.
    cv_.wait_for(lock, kFlushDelay, [&] { return stopping_ || pending_.size() >= kEagerFlush; });
    if (stopping_) return;
    lock.unlock();
    write_pending();
    lock.lock();
  }
}

void HistoryBuffer::write_pending() noexcept {
  // Inside a transaction of this thread the batch would join it, or wait for
  // the lock this thread holds: leave it to the flushing thread.
  if (thread_in_write_transaction()) return;
  std::lock_guard writing(write_mu_);
  std::vector<PendingEvent> batch;
  {
    std::lock_guard lock(mu_);
    if (fork_generation_ != detail::fork_generation()) return;  // the parent's events
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  try {
    impl_.keep_reserve();
    auto& c = impl_.conn();
    WriteScope scope(c, *impl_.files);
    // Checked holding the write lock: a change that gave the reserve back to
    // free space retries after its rollback, and must find that space unused.
    if (!impl_.reserve_present()) throw IoError("no free-space reserve: history waits for room", ENOSPC);
    std::int64_t first_id = 0, last_id = 0;
    for (const PendingEvent& e : batch) {
      Query insert(c,
                   "INSERT INTO diskcache_history (at, key, raw, kind, event, holder, pid, thread, host, waited) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      insert.bind(1, e.at);
      e.key.bind(insert, 2);
      insert.bind(3, e.raw).bind_text(4, e.kind).bind_text(5, e.event).bind_text(6, e.holder);
      insert.bind(7, e.pid).bind(8, e.thread).bind_text(9, e.host).bind(10, e.waited);
      insert.run();
      last_id = sqlite3_last_insert_rowid(c.handle());
      if (!first_id) first_id = last_id;
    }
    // Trim once per 256 ids: keep the latest kHistoryRows.
    if (first_id / 256 != last_id / 256 || first_id % 256 == 0)
      Query(c, "DELETE FROM diskcache_history WHERE id <= ?").bind(1, last_id - kHistoryRows).run();
    scope.commit();
  } catch (...) {
    // Busy, full or closed: keep the batch (ahead of newer events) for the next flush.
    std::lock_guard lock(mu_);
    if (fork_generation_ != detail::fork_generation()) return;
    batch.insert(batch.end(), std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()));
    pending_ = std::move(batch);
    if (pending_.size() > kMaxPending)
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_.size() - kMaxPending));
  }
}

}  // namespace diskcache::detail
