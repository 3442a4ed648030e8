// Internal state of a Cache, shared by the files that implement it.
#pragma once

#include <atomic>
#include <cerrno>
#include <type_traits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "diskcache/cache.hpp"
#include "diskcache/error.hpp"
#include "sqlite_db.hpp"
#include "stored_value.hpp"
#include "tx_state.hpp"
#include "value_files.hpp"

namespace diskcache {
namespace detail {
class WakeBoard;
class WaiterBoard;
class HistoryBuffer;
}

// Settings after precedence (defaults < stored < opener), typed.
struct ResolvedSettings {
  std::int64_t size_limit = std::int64_t{1} << 30;
  EvictionPolicy eviction_policy = EvictionPolicy::LeastRecentlyStored;
  std::int64_t cull_limit = 10;
  bool statistics = false;
  bool tag_index = false;
  std::int64_t min_file_size = 1 << 15;
  std::int64_t pickle_protocol = 5;
  std::int64_t sqlite_auto_vacuum = 1;
  std::int64_t sqlite_cache_size = 1 << 13;
  std::string sqlite_journal_mode = "wal";
  std::int64_t sqlite_mmap_size = 1 << 26;
  std::int64_t sqlite_synchronous = 1;
  std::vector<std::string> ignored_pragmas;  // unknown sqlite_* rows
};

struct Cache::Impl {
  Impl(std::filesystem::path directory, Options options);
  ~Impl();

  std::filesystem::path dir;
  std::string db_path;
  Options options;
  ResolvedSettings settings;
  std::atomic<bool> statistics{false};
  // settings.tag_index as it changes (create/drop_tag_index); read by any thread.
  std::atomic<bool> tag_index{false};
  std::int64_t page_size = 4096;
  std::unique_ptr<detail::ValueFiles> files;

  // The calling thread's connection (opened on first use, fresh after fork).
  detail::Connection& conn();
  void close_thread_connection();

  double now() const;
  // "in /dir" or "for key 'k' in /dir": the tail of every error message.
  std::string where() const;
  std::string where(const Value& key) const;
  void require_writable(const char* operation) const;
  // Runs `fn`, adding the key (or just the directory) to any diskcache::Error.
  // The context text is built only when an error passes.
  template <class F>
  decltype(auto) with_context(const Value& key, F&& fn) {
    return add_context([&] { return where(key); }, std::forward<F>(fn));
  }
  template <class F>
  decltype(auto) with_context(F&& fn) {
    return add_context([this] { return where(); }, std::forward<F>(fn));
  }
  template <class Context, class F>
  decltype(auto) add_context(const Context& context, F&& fn);

  // Settings.value for `key` read now (counters: count, size, hits, misses).
  std::int64_t setting_int(detail::Connection& c, const char* key);
  std::int64_t volume(detail::Connection& c);
  // A Settings row this library adds (e.g. fanout_shards): read it, or
  // write it (Python keeps unknown rows). std::nullopt when missing.
  std::optional<std::int64_t> extra_setting(const char* key);
  // cache.db-wake, mapped on first use.
  detail::WakeBoard& wake_board();
  // cache.db-waiters, mapped on first use.
  detail::WaiterBoard& waiter_board();
  // The primitives' history on its way to diskcache_history (made on first use).
  detail::HistoryBuffer& history();
  void put_extra_setting(const char* key, std::int64_t value);
  // Python's _cull: expired rows first, then by policy while over the limit.
  void cull_on_write(detail::Connection& c, detail::WriteScope& scope, double now);

  // The reserve: cache.db-reserve, a file of kReserveBytes this cache keeps
  // so that a disk the database filled can still delete and cull (deleting
  // rows writes to the WAL first). Runs `change`, a change that frees space;
  // when it fails for a full disk outside a caller's transaction, gives the
  // reserve back and runs it once more. The reserve is made again once the
  // disk has room for it twice over.
  template <class F>
  decltype(auto) freeing_space(F&& change);
  static constexpr std::int64_t kReserveBytes = 512 << 10;
  bool give_back_reserve() noexcept;  // true when there was one to remove
  // Makes the reserve when this handle found it missing (at open, or after
  // giving it back); otherwise only an atomic load. Best effort, never throws.
  void keep_reserve() noexcept;
  // Whether cache.db-reserve is there now (any handle may have given it back).
  bool reserve_present() const noexcept;
  std::atomic<bool> reserve_missing{true};

 private:
  std::unique_ptr<detail::Connection> open_connection(bool for_setup);
  void apply_pragmas(detail::Connection& c, bool writable_setup);
  void initialise();

  const std::uint64_t id_;
  std::once_flag wake_once_, waiters_once_, history_once_;
  std::unique_ptr<detail::WakeBoard> wake_;
  std::unique_ptr<detail::WaiterBoard> waiters_;
  std::mutex mu_;
  std::uint64_t fork_generation_;
  std::unordered_map<std::thread::id, std::unique_ptr<detail::Connection>> conns_;  // guarded by mu_
  // Declared last: destroyed first, its last flush still has connections.
  std::unique_ptr<detail::HistoryBuffer> history_;
};

namespace detail {
// A Cache's internals, for the library's own modules (fanout, primitives,
// inspection, browsing); not exported.
struct CacheAccess {
  static Cache::Impl& impl(Cache& cache) noexcept { return *cache.impl_; }
};
inline Cache::Impl& impl_of(Cache& cache) noexcept { return CacheAccess::impl(cache); }
}  // namespace detail

template <class F>
decltype(auto) Cache::Impl::freeing_space(F&& change) {
  const bool own_transaction = !conn().tx().open();
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      change();
      keep_reserve();
      return;  // done: only a full disk runs `change` again, below
    } else {
      decltype(auto) result = change();
      keep_reserve();
      return result;
    }
  } catch (const IoError& e) {
    if (e.error_code() != ENOSPC || !own_transaction || !give_back_reserve()) throw;
  }
  return change();
}

template <class Context, class F>
decltype(auto) Cache::Impl::add_context(const Context& context, F&& fn) {
  try {
    return std::forward<F>(fn)();
  } catch (const IoError& e) {
    throw IoError(std::string(e.what()) + " " + context(), e.error_code());
  } catch (const ReadOnlyCache& e) {
    throw ReadOnlyCache(std::string(e.what()) + " " + context());
  } catch (const Timeout& e) {
    throw Timeout(std::string(e.what()) + " " + context(), e.completed());
  } catch (const CorruptCache& e) {
    throw CorruptCache(std::string(e.what()) + " " + context());
  } catch (const UnsupportedValue& e) {
    throw UnsupportedValue(std::string(e.what()) + " " + context());
  } catch (const TypeMismatch& e) {
    throw TypeMismatch(std::string(e.what()) + " " + context());
  }
}

}  // namespace diskcache
