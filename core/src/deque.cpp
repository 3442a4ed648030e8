#include "diskcache/deque.hpp"

#include "diskcache/error.hpp"

namespace diskcache {
namespace {
Options deque_options(Options o) {
  if (!o.settings.eviction_policy) o.settings.eviction_policy = EvictionPolicy::None;  // as Python's Deque
  return o;
}
}  // namespace

Deque::Deque(std::filesystem::path directory, std::optional<std::int64_t> maxlen, Options options)
    : Deque(std::make_unique<Cache>(std::move(directory), deque_options(std::move(options))), maxlen) {}

Deque::Deque(std::unique_ptr<Cache> cache, std::optional<std::int64_t> maxlen)
    : cache_(std::move(cache)), maxlen_(maxlen) {
  if (maxlen_ && *maxlen_ < 0) throw InvalidArgument("maxlen must not be negative");
}

void Deque::set_maxlen(std::optional<std::int64_t> maxlen) {
  if (maxlen && *maxlen < 0) throw InvalidArgument("maxlen must not be negative");
  maxlen_ = maxlen;
  cache_->transact([&] { trim(Side::Front); });
}

void Deque::trim(Side drop_from) {
  if (!maxlen_) return;
  while (cache_->size() > *maxlen_)
    if (!cache_->pull(std::nullopt, drop_from)) break;
}

void Deque::append(const Value& value) {
  cache_->transact([&] {
    cache_->push(value, std::nullopt, Side::Back);
    trim(Side::Front);
  });
}

void Deque::appendleft(const Value& value) {
  cache_->transact([&] {
    cache_->push(value, std::nullopt, Side::Front);
    trim(Side::Back);
  });
}

std::optional<Value> Deque::pop() {
  auto item = cache_->pull(std::nullopt, Side::Back);
  if (!item) return std::nullopt;
  return std::move(item->value);
}

std::optional<Value> Deque::popleft() {
  auto item = cache_->pull(std::nullopt, Side::Front);
  if (!item) return std::nullopt;
  return std::move(item->value);
}

std::optional<Value> Deque::peek() {
  auto item = cache_->peek(std::nullopt, Side::Back);
  if (!item) return std::nullopt;
  return std::move(item->value);
}

std::optional<Value> Deque::peekleft() {
  auto item = cache_->peek(std::nullopt, Side::Front);
  if (!item) return std::nullopt;
  return std::move(item->value);
}

Value Deque::key_at(std::int64_t index) {
  const std::int64_t n = size();
  if (index >= n || index < -n)
    throw OutOfRange("deque index " + std::to_string(index) + " out of range (size " + std::to_string(n) + ") in " +
                     cache_->directory().string());
  std::int64_t steps = index >= 0 ? index : -index - 1;
  for (const Value& key : cache_->sorted_keys(index < 0))
    if (steps-- == 0) return key;
  throw OutOfRange("deque index " + std::to_string(index) + " out of range in " + cache_->directory().string());
}

Value Deque::at(std::int64_t index) {
  auto value = cache_->get(key_at(index));
  if (!value) throw OutOfRange("deque item " + std::to_string(index) + " was removed meanwhile");
  return std::move(*value);
}

void Deque::set_at(std::int64_t index, const Value& value) {
  cache_->transact([&] { cache_->set(key_at(index), value); });
}

void Deque::erase_at(std::int64_t index) {
  cache_->transact([&] { cache_->erase(key_at(index)); });
}

void Deque::rotate(std::int64_t steps) {
  cache_->transact([&] {
    const std::int64_t n = size();
    if (n == 0) return;
    const bool to_front = steps >= 0;
    std::int64_t moves = (to_front ? steps : -steps) % n;
    while (moves-- > 0) {
      auto item = cache_->pull(std::nullopt, to_front ? Side::Back : Side::Front);
      if (!item) return;
      cache_->push(item->value, std::nullopt, to_front ? Side::Front : Side::Back);
    }
  });
}

void Deque::reverse() {
  cache_->transact([&] {
    std::vector<Value> keys;
    for (const Value& key : cache_->sorted_keys()) keys.push_back(key);
    for (std::size_t i = 0, j = keys.size(); i + 1 < j; ++i) {
      --j;
      auto front = cache_->get(keys[i]);
      auto back = cache_->get(keys[j]);
      if (!front || !back) throw CorruptCache("deque item vanished during reverse()");
      cache_->set(keys[i], *back);
      cache_->set(keys[j], *front);
    }
  });
}

bool Deque::remove(const Value& value) {
  for (const Item& item : ItemRange{ItemIterator(cache_.get(), cache_->sorted_keys().first)})
    if (item.value == value && cache_->erase(item.key)) return true;
  return false;
}

std::int64_t Deque::count(const Value& value) {
  std::int64_t n = 0;
  for (const Value& v : *this) n += (v == value);
  return n;
}

void Deque::clear() { cache_->clear(); }
std::int64_t Deque::size() { return cache_->size(); }

Deque::Iterator Deque::begin() { return Iterator(ItemIterator(cache_.get(), cache_->sorted_keys().first)); }

Deque::Range Deque::reversed() { return {Iterator(ItemIterator(cache_.get(), cache_->sorted_keys(true).first))}; }

bool Deque::equals(Deque& other) {
  if (size() != other.size()) return false;
  auto a = begin(), b = other.begin();
  for (; a != end() && b != other.end(); ++a, ++b)
    if (!(*a == *b)) return false;
  return a == end() && b == other.end();
}

bool Deque::equals(const ValueList& values) {
  if (size() != static_cast<std::int64_t>(values.size())) return false;
  std::size_t i = 0;
  for (const Value& v : *this)
    if (i >= values.size() || !(v == values[i++])) return false;
  return i == values.size();
}

}  // namespace diskcache
