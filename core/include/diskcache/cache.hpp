// diskcache::Cache: a persistent, process-safe key-value cache on a local
// directory, sharing its on-disk format with Python diskcache 5.x so that C++
// and Python processes can use one directory at the same time.
//
// Thread-safety: a Cache may be shared by threads; each thread gets its own
// SQLite connection. A Cache handle survives fork(): the child opens fresh
// connections on first use.
// Cross-process: every change runs in one SQLite `BEGIN IMMEDIATE`
// transaction; value files are complete before the row naming them commits.
// Errors: a miss is an empty std::optional; faults throw diskcache::Error
// subclasses whose message names the directory and, where relevant, the key.
#pragma once

#include "diskcache/export.hpp"

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>
#include <iosfwd>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "diskcache/codec.hpp"
#include "diskcache/settings.hpp"
#include "diskcache/value.hpp"

namespace diskcache {

// Called by long operations with (items done, items expected); `expected`
// may grow while the operation runs if other processes add items.
using Progress = std::function<void(std::int64_t done, std::int64_t expected)>;

// Optional arguments of set/add/push.
struct DISKCACHE_EXPORT SetOptions {
  std::optional<double> expire;  // seconds from now; unset = never expires
  Value tag;                     // None = no tag; else int, float, str or bytes
};

// A stored value with its metadata (get_entry/pop_entry).
struct DISKCACHE_EXPORT Entry {
  Value value;
  std::optional<double> expire_time;  // Unix seconds
  Value tag;
};

// A key, its value and metadata (peekitem/pull/peek).
struct DISKCACHE_EXPORT Item {
  Value key;
  Value value;
  std::optional<double> expire_time;
  Value tag;
};

enum class Side { Front, Back };

struct DISKCACHE_EXPORT Stats {
  std::int64_t hits = 0;
  std::int64_t misses = 0;
};

struct DISKCACHE_EXPORT MemoizeOptions {
  std::optional<double> expire;  // <= 0: results are computed but not stored
  Value tag;
};

class Cache;
class FileLayer;

namespace detail {
struct SqlScalar;
struct CacheAccess;  // the library's own modules reach a Cache's internals through it
// Runs `body` in `tx`: commits when it returns, rolls back when it throws.
template <class Tx, class F>
decltype(auto) commit_after(Tx tx, F&& body) {
  if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
    std::forward<F>(body)();
    tx.commit();
  } else {
    decltype(auto) result = std::forward<F>(body)();
    tx.commit();
    return result;
  }
}

// Python's memoize over any cache with get/set (Cache, FanoutCache, Index):
// results are cached under (name, arg1, ..., argN, None). `store` must
// outlive the returned callable.
template <class AnyCache, class F>
auto memoize(AnyCache& store, Value name, F fn, MemoizeOptions options) {
  return [&store, name = std::move(name), fn = std::move(fn), options](const auto&... args) {
    using R = std::decay_t<std::invoke_result_t<const F&, decltype(args)...>>;
    const Value key = Value::tuple({name, Codec<std::decay_t<decltype(args)>>::encode(args)..., Value()});
    if (auto hit = store.get(key)) return Codec<R>::decode(*hit);
    R result = fn(args...);
    if (!options.expire || *options.expire > 0)
      store.set(key, Codec<R>::encode(result), SetOptions{options.expire, options.tag});
    return result;
  };
}
}  // namespace detail

// An open write transaction (SQLite BEGIN IMMEDIATE) on the calling thread.
// Every operation of the same Cache on this thread joins it; other threads
// and processes wait. commit() makes all of it visible at once; destroying
// an uncommitted Transaction rolls everything back. Value files replaced or
// deleted inside are removed only after the commit; files written inside are
// removed again on rollback. A transaction opened while another is open on
// the same thread is nested (an SQLite SAVEPOINT): its commit() keeps its
// changes as part of the outer one, which alone makes them visible, and
// rolling it back (or destroying it uncommitted) undoes only its own changes;
// the outer one can still commit the rest. Likewise a single operation that
// fails inside a transaction undoes only itself.
// Thread-safety: use it only on the thread that opened it.
class DISKCACHE_EXPORT Transaction {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();

  // Commits (a nested transaction: into the outer one). Throws Timeout when
  // the commit cannot get the database (everything is rolled back then),
  // Error when the transaction is already finished or this is not its thread.
  void commit();
  // Rolls back now. Never throws.
  void rollback() noexcept;

 private:
  friend class Cache;
  struct State;
  explicit Transaction(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A row passed over because it cannot be read: a key that does not decode
// (a hostile pickle, or a Python type this library does not read, such as a
// frozenset or the type objects of memoize(typed=True)), a column of the
// wrong type, an unknown kind. Key iteration, side_list and inspection
// report such rows here and go on with the others.
struct DISKCACHE_EXPORT SkippedRow {
  std::filesystem::path database;  // the cache.db holding the row
  std::string table;               // "Cache", "diskcache_side", "diskcache_holders", ...
  std::int64_t rowid = 0;          // the row's rowid in that table
  std::string reason;              // what is wrong with it
};
using SkippedRows = std::vector<SkippedRow>;

// Input iterator over a cache's keys, fetched in batches of 100 rows so no
// read transaction stays open between steps. Keys added or removed meanwhile
// may or may not be seen, as in Python. A key that cannot be decoded does
// not stop the iteration: its row is passed over and reported in skipped()
// (shared by every copy of the iterator, and by the range it came from).
class DISKCACHE_EXPORT KeyIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using pointer = const Value*;
  using reference = const Value&;

  KeyIterator() = default;  // end
  reference operator*() const { return batch_[index_]; }
  pointer operator->() const { return &batch_[index_]; }
  KeyIterator& operator++();
  void operator++(int) { ++*this; }
  friend bool operator==(const KeyIterator& a, const KeyIterator& b) { return a.done() == b.done(); }

  // The rows passed over so far (rowid order of the walk).
  const SkippedRows& skipped() const noexcept;
  // Reports the rows passed over from now on (and those so far) to `log`
  // instead; for iterations that combine several caches (FanoutCache).
  void report_skips_to(std::shared_ptr<SkippedRows> log);

 private:
  friend class Cache;
  enum class Order { RowidAscending, RowidDescending, KeyAscending, KeyDescending };
  KeyIterator(Cache* cache, Order order);
  bool done() const { return cache_ == nullptr; }
  void fetch();
  void fetch_batch();  // one batch of up to 100 rows
  // Decodes one stored key into the batch, or reports its row as skipped.
  void take(std::int64_t rowid, const detail::SqlScalar& key, std::int64_t raw);
  // Decodes a stored key into the batch, or records the row as skipped.

  std::shared_ptr<SkippedRows> skipped_;  // null only in an end iterator
  Cache* cache_ = nullptr;
  Order order_ = Order::RowidAscending;
  std::vector<Value> batch_;
  std::size_t index_ = 0;
  // Resume point after the last row fetched.
  std::int64_t last_rowid_ = 0, bound_rowid_ = 0;
  Value last_key_;
  std::int64_t last_raw_ = 0;
  std::size_t rows_seen_ = 0;  // rows read by the last fetch, skipped ones included
  bool started_ = false;
};

struct DISKCACHE_EXPORT KeyRange {
  KeyIterator first;
  KeyIterator begin() const { return first; }
  KeyIterator end() const { return {}; }
  // Rows the iteration has passed over so far (see KeyIterator).
  const SkippedRows& skipped() const noexcept { return first.skipped(); }
};

// Iterates items (key, value, expire time, tag) over a key range of
// `AnyCache` (Cache or FanoutCache), fetching each entry as it goes (a read,
// as get_entry is); keys removed meanwhile are skipped.
template <class AnyCache, class Keys>
class BasicItemIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Item;
  using difference_type = std::ptrdiff_t;
  using pointer = const Item*;
  using reference = const Item&;

  BasicItemIterator() = default;
  BasicItemIterator(AnyCache* store, Keys keys) : store_(store), keys_(std::move(keys)) { settle(); }
  reference operator*() const { return item_; }
  pointer operator->() const { return &item_; }
  BasicItemIterator& operator++() {
    ++keys_;
    settle();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const BasicItemIterator& a, const BasicItemIterator& b) { return a.keys_ == b.keys_; }
  // Rows whose key could not be decoded, passed over (see KeyIterator).
  const SkippedRows& skipped() const noexcept { return keys_.skipped(); }

 private:
  void settle() {
    for (; keys_ != Keys(); ++keys_) {
      if (auto entry = store_->get_entry(*keys_)) {
        item_.key = *keys_;
        item_.value = std::move(entry->value);
        item_.expire_time = entry->expire_time;
        item_.tag = std::move(entry->tag);
        return;
      }
    }
  }
  AnyCache* store_ = nullptr;
  Keys keys_;
  Item item_;
};

template <class Iterator>
struct BasicItemRange {
  Iterator first;
  Iterator begin() const { return first; }
  Iterator end() const { return {}; }
  const SkippedRows& skipped() const noexcept { return first.skipped(); }
};

using ItemIterator = BasicItemIterator<Cache, KeyIterator>;
using ItemRange = BasicItemRange<ItemIterator>;

// A stored bytes or text value opened for reading in pieces (Cache::
// open_value), for values too large to hold twice. Its bytes stay readable
// even when the key is overwritten or deleted meanwhile. Move-only; read()
// on one thread at a time, read_at() from several.
class DISKCACHE_EXPORT ValueReader {
 public:
  ValueReader(ValueReader&& other) noexcept;
  ValueReader& operator=(ValueReader&& other) noexcept;
  ~ValueReader();
  std::int64_t size() const noexcept { return size_; }
  // Copies up to `n` bytes from the current position into `out` and returns
  // how many (0 at the end). Throws IoError on a read failure, CorruptCache
  // when the file ends early.
  std::size_t read(void* out, std::size_t n);
  // Copies up to `n` bytes starting at `offset` into `out` and returns how
  // many (0 at or past the end); the current position is neither used nor
  // moved, so several threads may call read_at on one reader at once (each
  // with its own range). Errors as for read; a negative offset throws
  // InvalidArgument.
  std::size_t read_at(void* out, std::size_t n, std::int64_t offset) const;

 private:
  friend class Cache;
  ValueReader() = default;
  int fd_ = -1;          // file-backed value
  std::shared_ptr<FileLayer> layer_;  // reads fd_
  std::string inline_;   // value kept in the database row
  std::string path_;     // for messages
  std::int64_t size_ = 0, pos_ = 0;
};

class DISKCACHE_EXPORT Cache {
 public:
  // Opens (or, unless read-only, creates) the cache in `directory`.
  // Throws IoError when the directory cannot be created or written,
  // CorruptCache when cache.db is damaged or not a database or a Settings
  // row is of the wrong type, Error when read-only and no cache is there.
  explicit Cache(std::filesystem::path directory, Options options = {});
  ~Cache();
  Cache(Cache&&) noexcept;
  Cache& operator=(Cache&&) noexcept;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  const std::filesystem::path& directory() const noexcept;
  bool read_only() const noexcept;
  // The settings in force for this handle (resolved at open).
  std::int64_t size_limit() const noexcept;
  EvictionPolicy eviction_policy() const noexcept;
  std::int64_t cull_limit() const noexcept;
  std::int64_t min_file_size() const noexcept;
  bool statistics_enabled() const noexcept;
  bool tag_index() const noexcept;
  std::chrono::duration<double> timeout() const noexcept;
  // Current time of this handle's clock (Unix seconds).
  double now() const;

  // ---- items
  // Stores `value` under `key` (replacing any value), then culls. True.
  bool set(const Value& key, const Value& value, const SetOptions& options = {});
  template <class T>
    requires(!std::is_convertible_v<const T&, Value>)
  bool set(const Value& key, const T& value, const SetOptions& options = {}) {
    return set(key, Codec<T>::encode(value), options);
  }
  // Streams `in` to a value file without holding it in memory (Python's
  // set(read=True)); Python reads it back as bytes.
  bool set_stream(const Value& key, std::istream& in, const SetOptions& options = {});
  // Like set_stream, pulling the bytes from `next_chunk` until it returns an
  // empty view; each view must stay valid until the next call. No copy is
  // made: the views are written to the value file directly. If `next_chunk`
  // throws, nothing is stored and the exception propagates.
  bool set_chunks(const Value& key, const std::function<std::string_view()>& next_chunk,
                  const SetOptions& options = {});
  // Stores only when `key` is missing or expired. True when stored.
  bool add(const Value& key, const Value& value, const SetOptions& options = {});

  // The value, or std::nullopt on a miss (missing, expired, or its value
  // file vanished). Counts a hit or miss when statistics are on. Throws
  // UnsupportedValue for a value file larger than Options::max_read_bytes
  // (stream those with read or open_value), CorruptCache for a value file
  // that is not a regular file or whose size disagrees with its row.
  std::optional<Value> get(const Value& key);
  template <class T>
  std::optional<T> get(const Value& key) {
    auto v = get(key);
    if (!v) return std::nullopt;
    return Codec<T>::decode(*v);
  }
  // Like get, with expire_time and tag.
  std::optional<Entry> get_entry(const Value& key);
  // Writes a bytes or text value to `out` in chunks (file-backed values are
  // never loaded whole). False on a miss; TypeMismatch for other values.
  bool read(const Value& key, std::ostream& out);
  // Opens a bytes or text value for reading in pieces; std::nullopt on a
  // miss, TypeMismatch for other values, CorruptCache when its file's size
  // disagrees with the row.
  std::optional<ValueReader> open_value(const Value& key);

  // Adds `delta` to the integer under `key` atomically and returns the new
  // value. A missing or expired key starts from `default_value`; with no
  // default it throws KeyNotFound. Throws TypeMismatch when the value is not
  // an integer, UnsupportedValue when the result leaves int64.
  std::int64_t incr(const Value& key, std::int64_t delta = 1,
                    std::optional<std::int64_t> default_value = 0);
  std::int64_t decr(const Value& key, std::int64_t delta = 1,
                    std::optional<std::int64_t> default_value = 0);

  // Removes and returns the value; std::nullopt on a miss.
  std::optional<Value> pop(const Value& key);
  std::optional<Entry> pop_entry(const Value& key);
  // Removes the key (Python's delete). False when it was missing or expired.
  // On a full disk, erase, pop, clear, evict, expire and cull give back the
  // cache's reserve (cache.db-reserve) and try again, so space can always
  // be freed (outside a transaction of the caller's).
  bool erase(const Value& key);
  // True when present and not expired.
  bool contains(const Value& key);
  // Sets a new expiry (unset = never) on a present key. False on a miss.
  bool touch(const Value& key, std::optional<double> expire = std::nullopt);

  // Number of items (Settings.count, expired ones included, as in Python).
  std::int64_t size();
  // Bytes on disk: database pages plus value files.
  std::int64_t volume();
  Stats stats(bool enable = true, bool reset = false);
  void create_tag_index();
  void drop_tag_index();

  // ---- bulk operations; each returns the number of items removed and
  // reports progress. On Timeout the exception's completed() says how many
  // were removed before it.
  std::int64_t expire(std::optional<double> now = std::nullopt, const Progress& progress = {});
  std::int64_t evict(const Value& tag, const Progress& progress = {});
  std::int64_t clear(const Progress& progress = {});
  std::int64_t cull(const Progress& progress = {});
  // Verifies the database and the value files (Python's check). Returns the
  // warnings, empty when all is well; with `fix`, repairs what it reports
  // (removes unknown files and rows whose file is missing, fixes sizes and
  // counters, vacuums).
  std::vector<std::string> check(bool fix = false, const Progress& progress = {});

  // ---- order
  // Keys in insertion (rowid) order; `for (const Value& key : cache)`.
  KeyRange keys(bool reverse = false);
  KeyIterator begin() { return keys().begin(); }
  KeyIterator end() { return {}; }
  // Keys in SQLite's sort order of the stored key (Python's iterkeys).
  KeyRange sorted_keys(bool reverse = false);
  // (key, value) pairs in insertion order.
  ItemRange items(bool reverse = false) { return {ItemIterator(this, keys(reverse).first)}; }
  // The last (or first) inserted item; expired items met on the way are
  // removed. Throws KeyNotFound when the cache is empty.
  Item peekitem(bool last = true);

  // ---- queue (Python's push/pull/peek): integer keys from 500000000000000,
  // or "prefix-%015d" text keys.
  Value push(const Value& value, const std::optional<std::string>& prefix = std::nullopt,
             Side side = Side::Back, const SetOptions& options = {});
  std::optional<Item> pull(const std::optional<std::string>& prefix = std::nullopt, Side side = Side::Front);
  std::optional<Item> peek(const std::optional<std::string>& prefix = std::nullopt, Side side = Side::Front);

  // ---- transactions
  [[nodiscard]] Transaction transact();
  // Runs `body` in a transaction: commits when it returns, rolls back when
  // it throws (and rethrows).
  template <class F>
  decltype(auto) transact(F&& body) {
    return detail::commit_after(transact(), std::forward<F>(body));
  }

  // ---- memoize: wraps `fn` so results are cached under the key
  // (name, arg1, ..., argN, None), the key Python's memoize(name=...) uses
  // for positional arguments. The Cache must outlive the returned callable.
  template <class F>
  auto memoize(Value name, F fn, MemoizeOptions options = {}) {
    return detail::memoize(*this, std::move(name), std::move(fn), std::move(options));
  }

  // ---- side table: data kept in cache.db that Python never sees as cache
  // items (versioned table `diskcache_side`). Writes join the calling
  // thread's transaction, so they commit atomically with cache changes.
  void side_put(std::string_view space, const Value& name, const Value& value);
  std::optional<Value> side_get(std::string_view space, const Value& name);
  bool side_erase(std::string_view space, const Value& name);
  // Every row of `space`, by name. Rows that do not decode are passed over
  // and appended to `skipped` (when given).
  std::vector<std::pair<Value, Value>> side_list(std::string_view space, SkippedRows* skipped = nullptr);

  // Closes the calling thread's connection (reopened on next use).
  void close();

  struct Impl;

 private:
  friend class KeyIterator;
  friend struct detail::CacheAccess;
  std::unique_ptr<Impl> impl_;
};

// What Cache and FanoutCache both offer, for code written once for both
// (constrain a template with it, or take `CacheLike auto&`). incr/decr are
// not part of it: Cache::incr throws Timeout where FanoutCache::incr
// returns std::nullopt, as their Python counterparts raise or return None.
template <class C>
concept CacheLike = requires(C& c, const Value& key, const Value& value, const SetOptions& options) {
  { c.get(key) } -> std::same_as<std::optional<Value>>;
  { c.get_entry(key) } -> std::same_as<std::optional<Entry>>;
  { c.set(key, value, options) } -> std::same_as<bool>;
  { c.add(key, value, options) } -> std::same_as<bool>;
  { c.erase(key) } -> std::same_as<bool>;
  { c.contains(key) } -> std::same_as<bool>;
  { c.touch(key) } -> std::same_as<bool>;
  { c.size() } -> std::same_as<std::int64_t>;
  { c.volume() } -> std::same_as<std::int64_t>;
  c.keys();
  c.items();
  c.directory();
};
static_assert(CacheLike<Cache>);

}  // namespace diskcache
