// diskcache::FanoutCache: N shard caches (`<dir>/000`, `<dir>/001`, ...)
// with Python diskcache's shard function, so C++ and Python map every key to
// the same shard. Writers to different shards do not wait for each other.
//
// Shard count: Python does not record it, and opening a fanout directory
// with another count silently loses data (keys map to other shards). This
// library records it (Settings row `fanout_shards` in every shard, which
// Python keeps) and, for a directory Python created, infers it from the
// shard folders; it refuses a count that disagrees and a layout that is
// ambiguous.
//
// Timeouts: like Python, a shard that stays busy past the (short, 10 ms by
// default) timeout makes set/add/touch/erase return false, get/pop/incr
// return std::nullopt, instead of throwing; unlike Python each such event is
// counted (timeouts()) so it is never silent. Set swallow_timeouts = false
// to get diskcache::Timeout instead.
//
// Thread-safety: as Cache. Cross-process: as Cache, per shard.
#pragma once

#include "diskcache/export.hpp"

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "diskcache/cache.hpp"

namespace diskcache {

class Deque;
class Index;

// Python's shard function: the index of `key`'s shard among `shards`.
DISKCACHE_EXPORT std::size_t shard_index(const Value& key, std::size_t shards);

// Python's FanoutCache defaults for its shards: a 10 ms timeout.
inline Options fanout_shard_defaults() {
  Options options;
  options.timeout = std::chrono::milliseconds(10);
  return options;
}

struct DISKCACHE_EXPORT FanoutOptions {
  // Unset: the recorded or inferred count, or 8 (Python's default) for a
  // new directory.
  std::optional<std::size_t> shards;
  // Options for every shard. size_limit is the total, split evenly across
  // shards as Python does. Python's FanoutCache timeout is 10 ms.
  Options cache = fanout_shard_defaults();
  // Python's behaviour: a timeout is a failed result, counted in timeouts().
  bool swallow_timeouts = true;
};

// Iterates the keys of every shard, either shard after shard (Python's
// __iter__: shard 000's keys in insertion order first) or merged across
// shards in SQLite's sort order of the stored key (as Cache::sorted_keys).
class DISKCACHE_EXPORT FanoutKeyIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using pointer = const Value*;
  using reference = const Value&;

  FanoutKeyIterator() = default;
  reference operator*() const { return *cursors_[current_]; }
  pointer operator->() const { return &*cursors_[current_]; }
  FanoutKeyIterator& operator++();
  void operator++(int) { ++*this; }
  friend bool operator==(const FanoutKeyIterator& a, const FanoutKeyIterator& b) {
    return (a.shards_ == nullptr) == (b.shards_ == nullptr);
  }
  // Rows of any shard passed over because their key cannot be decoded.
  const SkippedRows& skipped() const noexcept;

 private:
  friend class FanoutCache;
  enum class Order { ShardOrder, Sorted };
  FanoutKeyIterator(std::vector<std::unique_ptr<Cache>>* shards, Order order, bool reverse);
  void settle();  // moves to the next key to yield, or to the end
  std::vector<std::unique_ptr<Cache>>* shards_ = nullptr;
  Order order_ = Order::ShardOrder;
  bool reverse_ = false;
  // ShardOrder: one cursor, opened on each shard in turn.
  // Sorted: one cursor per shard; current_ is the one holding the next key.
  std::vector<KeyIterator> cursors_;
  std::size_t next_shard_ = 0, current_ = 0;
  std::shared_ptr<SkippedRows> skipped_;  // every cursor reports here; null in an end iterator
};

struct DISKCACHE_EXPORT FanoutKeyRange {
  FanoutKeyIterator first;
  FanoutKeyIterator begin() const { return first; }
  FanoutKeyIterator end() const { return {}; }
  const SkippedRows& skipped() const noexcept { return first.skipped(); }
};

class FanoutCache;
using FanoutItemIterator = BasicItemIterator<FanoutCache, FanoutKeyIterator>;

// All shards' transactions, taken in shard order (so two fanout
// transactions never deadlock) and committed together.
class DISKCACHE_EXPORT FanoutTransaction {
 public:
  void commit();
  void rollback() noexcept;

 private:
  friend class FanoutCache;
  std::vector<Transaction> shards_;
};

class DISKCACHE_EXPORT FanoutCache {
 public:
  // Opens or creates a fanout directory. Throws InvalidArgument when the
  // requested shard count disagrees with the recorded or inferred one, or
  // the directory's shard folders do not tell the count unambiguously, or
  // the directory is a plain cache.
  explicit FanoutCache(std::filesystem::path directory, FanoutOptions options = {});
  ~FanoutCache();
  FanoutCache(const FanoutCache&) = delete;
  FanoutCache& operator=(const FanoutCache&) = delete;

  const std::filesystem::path& directory() const noexcept { return dir_; }
  std::size_t shard_count() const noexcept { return shards_.size(); }
  Cache& shard(std::size_t index) { return *shards_.at(index); }
  // The shard of `key`: shard_index's, unless the key has a second pickled
  // form (pickle::Form::SharedKey) whose shard holds it, as Python's
  // FanoutCache put it when the key's equal strings were one object.
  Cache& shard_for(const Value& key);
  // Timeouts swallowed so far by this handle.
  std::uint64_t timeouts() const noexcept { return timeouts_.load(); }

  // ---- items (see Cache; a swallowed timeout gives the failed result)
  bool set(const Value& key, const Value& value, const SetOptions& options = {});
  template <class T>
    requires(!std::is_convertible_v<const T&, Value>)
  bool set(const Value& key, const T& value, const SetOptions& options = {}) {
    return set(key, Codec<T>::encode(value), options);
  }
  bool set_stream(const Value& key, std::istream& in, const SetOptions& options = {});
  bool set_chunks(const Value& key, const std::function<std::string_view()>& next_chunk,
                  const SetOptions& options = {});
  bool add(const Value& key, const Value& value, const SetOptions& options = {});
  std::optional<Value> get(const Value& key);
  template <class T>
  std::optional<T> get(const Value& key) {
    auto v = get(key);
    if (!v) return std::nullopt;
    return Codec<T>::decode(*v);
  }
  std::optional<Entry> get_entry(const Value& key);
  bool read(const Value& key, std::ostream& out);
  std::optional<ValueReader> open_value(const Value& key);
  std::optional<std::int64_t> incr(const Value& key, std::int64_t delta = 1,
                                   std::optional<std::int64_t> default_value = 0);
  std::optional<std::int64_t> decr(const Value& key, std::int64_t delta = 1,
                                   std::optional<std::int64_t> default_value = 0);
  std::optional<Value> pop(const Value& key);
  std::optional<Entry> pop_entry(const Value& key);
  bool erase(const Value& key);
  bool contains(const Value& key);
  bool touch(const Value& key, std::optional<double> expire = std::nullopt);

  // ---- totals over shards; bulk operations retry busy shards until done
  std::int64_t size();
  std::int64_t volume();
  Stats stats(bool enable = true, bool reset = false);
  void create_tag_index();
  void drop_tag_index();
  std::int64_t expire(std::optional<double> now = std::nullopt, const Progress& progress = {});
  std::int64_t evict(const Value& tag, const Progress& progress = {});
  std::int64_t clear(const Progress& progress = {});
  std::int64_t cull(const Progress& progress = {});
  std::vector<std::string> check(bool fix = false, const Progress& progress = {});

  // ---- order: shard 000's keys first (Python's iteration order)
  FanoutKeyRange keys(bool reverse = false);
  FanoutKeyIterator begin() { return keys().begin(); }
  FanoutKeyIterator end() { return {}; }
  // All shards' keys merged in SQLite's sort order of the stored key.
  FanoutKeyRange sorted_keys(bool reverse = false);
  // (key, value) pairs in keys() order.
  BasicItemRange<FanoutItemIterator> items(bool reverse = false) {
    return {FanoutItemIterator(this, keys(reverse).first)};
  }
  // Across shards, the item stored last (or first), judged by each shard's
  // newest (or oldest) row's store time; expired items met on the way are
  // removed. Throws KeyNotFound when every shard is empty. A swallowed
  // timeout skips the busy shard (and is counted).
  Item peekitem(bool last = true);

  // ---- queues: Python's FanoutCache has none; here a queue lives in the
  // shard its prefix (or None) hashes to, so all processes agree.
  Value push(const Value& value, const std::optional<std::string>& prefix = std::nullopt, Side side = Side::Back,
             const SetOptions& options = {});
  std::optional<Item> pull(const std::optional<std::string>& prefix = std::nullopt, Side side = Side::Front);
  std::optional<Item> peek(const std::optional<std::string>& prefix = std::nullopt, Side side = Side::Front);

  // ---- transactions over all shards
  [[nodiscard]] FanoutTransaction transact();
  template <class F>
  decltype(auto) transact(F&& body) {
    return detail::commit_after(transact(), std::forward<F>(body));
  }

  // Same key scheme as Cache::memoize (and Python's FanoutCache.memoize).
  template <class F>
  auto memoize(Value name, F fn, MemoizeOptions options = {}) {
    return detail::memoize(*this, std::move(name), std::move(fn), std::move(options));
  }

  // ---- named sub-stores, as Python: <dir>/cache/<name>, <dir>/deque/<name>,
  // <dir>/index/<name>. `name` may contain '/', never '..' or a leading '/'.
  // The returned object lives as long as this FanoutCache.
  Cache& cache(const std::string& name);
  Deque& deque(const std::string& name);
  Index& index(const std::string& name);

  // ---- side table (see Cache): kept in shard 000's database.
  void side_put(std::string_view space, const Value& name, const Value& value);
  std::optional<Value> side_get(std::string_view space, const Value& name);
  bool side_erase(std::string_view space, const Value& name);
  std::vector<std::pair<Value, Value>> side_list(std::string_view space);

  // Closes the calling thread's connections to every shard and sub-store
  // (reopened on next use).
  void close();

 private:
  template <class R, class F>
  R guarded(R failed, F&& op);

  std::filesystem::path dir_;
  FanoutOptions options_;
  std::vector<std::unique_ptr<Cache>> shards_;
  std::atomic<std::uint64_t> timeouts_{0};
  std::mutex stores_mu_;
  std::map<std::string, std::unique_ptr<Cache>> caches_;   // guarded by stores_mu_
  std::map<std::string, std::unique_ptr<Deque>> deques_;   // guarded by stores_mu_
  std::map<std::string, std::unique_ptr<Index>> indexes_;  // guarded by stores_mu_
};

static_assert(CacheLike<FanoutCache>);

}  // namespace diskcache
