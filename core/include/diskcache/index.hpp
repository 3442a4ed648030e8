// diskcache::Index: a persistent ordered mapping in a cache directory
// (first-insertion order, eviction policy 'none'), shared with Python's
// diskcache.Index.
//
// Thread-safety: as Cache. Cross-process: each operation is atomic; use
// transact() to group several.
#pragma once

#include "diskcache/export.hpp"

#include <filesystem>
#include <optional>

#include "diskcache/cache.hpp"

namespace diskcache {

class DISKCACHE_EXPORT Index {
 public:
  explicit Index(std::filesystem::path directory, Options options = {});
  // Wraps an open cache (Python's Index.fromcache).
  explicit Index(std::unique_ptr<Cache> cache);

  Cache& cache() noexcept { return *cache_; }

  std::optional<Value> get(const Value& key) { return cache_->get(key); }
  template <class T>
  std::optional<T> get(const Value& key) {
    return cache_->get<T>(key);
  }
  // As Cache::set: false only when the cache stayed busy past its timeout.
  bool set(const Value& key, const Value& value) { return cache_->set(key, value); }
  template <class T>
    requires(!std::is_convertible_v<const T&, Value>)
  bool set(const Value& key, const T& value) {
    return cache_->set(key, value);
  }
  bool erase(const Value& key) { return cache_->erase(key); }
  bool contains(const Value& key) { return cache_->contains(key); }
  std::optional<Value> pop(const Value& key) { return cache_->pop(key); }
  // The value under `key`, storing `default_value` first when it is missing.
  Value setdefault(const Value& key, const Value& default_value);
  // The last (or first) inserted item; throws KeyNotFound when empty.
  Item peekitem(bool last = true) { return cache_->peekitem(last); }
  // Removes and returns the last (or first) item; std::nullopt when empty.
  std::optional<Item> popitem(bool last = true);
  Value push(const Value& value, const std::optional<std::string>& prefix = std::nullopt, Side side = Side::Back) {
    return cache_->push(value, prefix, side);
  }
  std::optional<Item> pull(const std::optional<std::string>& prefix = std::nullopt, Side side = Side::Front) {
    return cache_->pull(prefix, side);
  }
  void clear() { cache_->clear(); }
  std::int64_t size() { return cache_->size(); }

  // Keys in insertion order: `for (const Value& key : index)`.
  KeyIterator begin() { return cache_->begin(); }
  KeyIterator end() { return {}; }
  KeyRange keys(bool reverse = false) { return cache_->keys(reverse); }
  ItemRange items(bool reverse = false) { return cache_->items(reverse); }

  // Same items in the same order (Python's Index == Index / OrderedDict).
  bool equals(Index& other);
  bool equals(const ValuePairs& ordered);

  template <class F>
  auto memoize(Value name, F fn, MemoizeOptions options = {}) {
    return cache_->memoize(std::move(name), std::move(fn), std::move(options));
  }
  [[nodiscard]] Transaction transact() { return cache_->transact(); }

 private:
  std::unique_ptr<Cache> cache_;
};

}  // namespace diskcache
