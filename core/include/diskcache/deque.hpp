// diskcache::Deque: a persistent double-ended queue in a cache directory,
// with Python diskcache's key scheme (integer keys from 500000000000000),
// so C++ and Python processes share one deque.
//
// Thread-safety: as Cache. Cross-process: each operation is atomic; use
// transact() to group several.
#pragma once

#include "diskcache/export.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>

#include "diskcache/cache.hpp"

namespace diskcache {

class DISKCACHE_EXPORT Deque {
 public:
  // Opens the deque stored in `directory` (a cache with eviction policy
  // 'none', as Python's Deque). `maxlen`: appending beyond it drops items
  // from the other end (per handle, as in Python; not stored).
  explicit Deque(std::filesystem::path directory, std::optional<std::int64_t> maxlen = std::nullopt,
                 Options options = {});
  // Wraps an open cache (Python's Deque.fromcache).
  explicit Deque(std::unique_ptr<Cache> cache, std::optional<std::int64_t> maxlen = std::nullopt);

  Cache& cache() noexcept { return *cache_; }
  std::optional<std::int64_t> maxlen() const noexcept { return maxlen_; }
  // Changes maxlen, dropping items from the front until it fits.
  void set_maxlen(std::optional<std::int64_t> maxlen);

  void append(const Value& value);
  void appendleft(const Value& value);
  // Remove and return an end item; std::nullopt when empty.
  std::optional<Value> pop();
  std::optional<Value> popleft();
  std::optional<Value> peek();
  std::optional<Value> peekleft();

  // Indexed access like Python (negative counts from the back). Throws
  // OutOfRange past either end. O(n): it walks the keys.
  Value at(std::int64_t index);
  void set_at(std::int64_t index, const Value& value);
  void erase_at(std::int64_t index);

  // Moves `steps` items from the back to the front (negative: the reverse),
  // in one transaction.
  void rotate(std::int64_t steps = 1);
  // Reverses the order in place, in one transaction.
  void reverse();
  // Removes the first item equal to `value`; false when there is none.
  bool remove(const Value& value);
  std::int64_t count(const Value& value);
  void clear();
  std::int64_t size();

  // Front-to-back values: `for (const Value& v : deque)`.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    using pointer = const Value*;
    using reference = const Value&;
    Iterator() = default;
    explicit Iterator(ItemIterator items) : items_(std::move(items)) {}
    reference operator*() const { return items_->value; }
    pointer operator->() const { return &items_->value; }
    Iterator& operator++() {
      ++items_;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.items_ == b.items_; }

   private:
    ItemIterator items_;
  };
  struct Range {
    Iterator first;
    Iterator begin() const { return first; }
    Iterator end() const { return {}; }
  };
  Iterator begin();
  Iterator end() { return {}; }
  // Back-to-front values.
  Range reversed();

  // Same items in the same order.
  bool equals(Deque& other);
  bool equals(const ValueList& values);

  [[nodiscard]] Transaction transact() { return cache_->transact(); }

 private:
  // The key at `index` (Python's _index), or throws OutOfRange.
  Value key_at(std::int64_t index);
  void trim(Side drop_from);
  std::unique_ptr<Cache> cache_;
  std::optional<std::int64_t> maxlen_;
};

}  // namespace diskcache
