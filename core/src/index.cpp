#include "diskcache/index.hpp"

#include "diskcache/error.hpp"

namespace diskcache {

Index::Index(std::filesystem::path directory, Options options) {
  if (!options.settings.eviction_policy) options.settings.eviction_policy = EvictionPolicy::None;  // as Python
  cache_ = std::make_unique<Cache>(std::move(directory), std::move(options));
}

Index::Index(std::unique_ptr<Cache> cache) : cache_(std::move(cache)) {}

Value Index::setdefault(const Value& key, const Value& default_value) {
  while (true) {
    if (auto value = cache_->get(key)) return std::move(*value);
    cache_->add(key, default_value);
  }
}

std::optional<Item> Index::popitem(bool last) {
  return cache_->transact([&]() -> std::optional<Item> {
    try {
      Item item = cache_->peekitem(last);
      cache_->erase(item.key);
      return item;
    } catch (const KeyNotFound&) {
      return std::nullopt;
    }
  });
}

bool Index::equals(Index& other) {
  if (size() != other.size()) return false;
  auto a = items().begin(), b = other.items().begin();
  for (; a != ItemIterator() && b != ItemIterator(); ++a, ++b)
    if (!(a->key == b->key) || !(a->value == b->value)) return false;
  return a == ItemIterator() && b == ItemIterator();
}

bool Index::equals(const ValuePairs& ordered) {
  if (size() != static_cast<std::int64_t>(ordered.size())) return false;
  std::size_t i = 0;
  for (const Item& item : items()) {
    if (i >= ordered.size() || !(item.key == ordered[i].first) || !(item.value == ordered[i].second)) return false;
    ++i;
  }
  return i == ordered.size();
}

}  // namespace diskcache
