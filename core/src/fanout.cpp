// FanoutCache: Python's shard function, shard-count bookkeeping, and the
// per-shard forwarding with Python's timeout behaviour.
#include "diskcache/fanout.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "cache_impl.hpp"
#include "diskcache/deque.hpp"
#include "diskcache/error.hpp"
#include "diskcache/index.hpp"

namespace diskcache {
namespace {

constexpr char kShardsSetting[] = "fanout_shards";
constexpr std::size_t kPythonDefaultShards = 8;

std::uint32_t adler32(std::string_view data) {
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : data) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

std::string shard_name(std::size_t i) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03zu", i);
  return buf;
}

// The shard folders (000, 001, ...) that hold a cache.db, sorted.
std::vector<std::size_t> existing_shards(const std::filesystem::path& dir) {
  std::vector<std::size_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 3 && std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }) &&
        std::filesystem::exists(entry.path() / "cache.db", ec))
      found.push_back(static_cast<std::size_t>(std::stoul(name)));
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::filesystem::path sub_store_path(const std::filesystem::path& dir, const char* kind, const std::string& name) {
  std::filesystem::path out = dir / kind;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      throw InvalidArgument(std::string(kind) + " name '" + name + "' must be '/'-separated names without '.' or '..'");
    out /= part;
    start = end + 1;
  }
  return out;
}

}  // namespace

namespace {
// Python's Disk.hash of a stored key column, modulo the shard count.
std::size_t shard_of_column(const detail::SqlScalar& column, std::size_t shards) {
  const detail::DbKey k{column, 0, std::nullopt};
  std::uint64_t hash = 0;
  switch (k.key.kind) {
    case detail::SqlScalar::Blob:
    case detail::SqlScalar::Text: hash = adler32(k.key.s); break;
    case detail::SqlScalar::Integer: {
      constexpr std::int64_t mask = 0xFFFFFFFF;
      std::int64_t r = k.key.i % mask;  // Python's floor modulo
      if (r < 0) r += mask;
      hash = static_cast<std::uint64_t>(r);
      break;
    }
    case detail::SqlScalar::Real: {
      std::uint64_t bits;
      std::memcpy(&bits, &k.key.d, sizeof bits);
      std::string big_endian;
      for (int i = 7; i >= 0; --i) big_endian += static_cast<char>((bits >> (8 * i)) & 0xFF);
      hash = adler32(big_endian);
      break;
    }
    case detail::SqlScalar::Null: break;
  }
  return static_cast<std::size_t>(hash % shards);
}
}  // namespace

std::size_t shard_index(const Value& key, std::size_t shards) {
  return shard_of_column(detail::encode_key(key).key, shards);
}

Cache& FanoutCache::shard_for(const Value& key) {
  const detail::DbKey k = detail::encode_key(key);
  Cache& primary = *shards_[shard_of_column(k.key, shards_.size())];
  if (!k.shared_form) return primary;
  Cache& shared = *shards_[shard_of_column({detail::SqlScalar::Blob, 0, 0, *k.shared_form}, shards_.size())];
  if (&shared == &primary || primary.contains(key) || !shared.contains(key)) return primary;
  return shared;
}

// ------------------------------------------------------------- iteration

namespace {
// SQLite's ORDER BY key, raw for two stored keys: NULL < numbers (integer and
// real compared by value) < TEXT < BLOB, text and blobs by their bytes.
int compare_stored(const detail::DbKey& a, const detail::DbKey& b) {
  using K = detail::SqlScalar;
  auto rank = [](K::Kind k) { return k == K::Null ? 0 : k == K::Integer || k == K::Real ? 1 : k == K::Text ? 2 : 3; };
  const int ra = rank(a.key.kind), rb = rank(b.key.kind);
  if (ra != rb) return ra < rb ? -1 : 1;
  int c = 0;
  if (ra == 1) {
    if (a.key.kind == K::Integer && b.key.kind == K::Integer)
      c = a.key.i < b.key.i ? -1 : a.key.i > b.key.i;
    else {
      const double x = a.key.kind == K::Integer ? static_cast<double>(a.key.i) : a.key.d;
      const double y = b.key.kind == K::Integer ? static_cast<double>(b.key.i) : b.key.d;
      c = x < y ? -1 : x > y;
    }
  } else if (ra >= 2) {
    c = a.key.s.compare(b.key.s);
    c = c < 0 ? -1 : c > 0;
  }
  if (c != 0) return c;
  return a.raw < b.raw ? -1 : a.raw > b.raw;
}
}  // namespace

FanoutKeyIterator::FanoutKeyIterator(std::vector<std::unique_ptr<Cache>>* shards, Order order, bool reverse)
    : shards_(shards), order_(order), reverse_(reverse), skipped_(std::make_shared<SkippedRows>()) {
  if (order_ == Order::Sorted) {
    for (auto& shard : *shards_) {
      cursors_.push_back(shard->sorted_keys(reverse_).first);
      cursors_.back().report_skips_to(skipped_);
    }
  } else {
    cursors_.emplace_back();
  }
  settle();
}

const SkippedRows& FanoutKeyIterator::skipped() const noexcept {
  static const SkippedRows none;
  return skipped_ ? *skipped_ : none;
}

void FanoutKeyIterator::settle() {
  if (order_ == Order::ShardOrder) {
    KeyIterator& cursor = cursors_.front();
    while (cursor == KeyIterator() && next_shard_ < shards_->size()) {
      const std::size_t i = reverse_ ? shards_->size() - 1 - next_shard_ : next_shard_;
      ++next_shard_;
      cursor = (*shards_)[i]->keys(reverse_).first;
      cursor.report_skips_to(skipped_);
    }
    if (cursor == KeyIterator()) shards_ = nullptr;
    return;
  }
  std::optional<std::size_t> best;
  detail::DbKey best_key;
  for (std::size_t i = 0; i < cursors_.size(); ++i) {
    if (cursors_[i] == KeyIterator()) continue;
    detail::DbKey key = detail::encode_key(*cursors_[i]);
    const int order = best ? compare_stored(key, best_key) : -1;
    if (!best || (reverse_ ? order > 0 : order < 0)) {
      best = i;
      best_key = std::move(key);
    }
  }
  if (best)
    current_ = *best;
  else
    shards_ = nullptr;
}

FanoutKeyIterator& FanoutKeyIterator::operator++() {
  ++cursors_[order_ == Order::ShardOrder ? 0 : current_];
  settle();
  return *this;
}

void FanoutTransaction::commit() {
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) it->commit();
}

void FanoutTransaction::rollback() noexcept {
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) it->rollback();
}

// ------------------------------------------------------------- opening

FanoutCache::FanoutCache(std::filesystem::path directory, FanoutOptions options)
    : dir_(std::move(directory)), options_(std::move(options)) {
  std::error_code ec;
  if (std::filesystem::exists(dir_ / "cache.db", ec))
    throw InvalidArgument(dir_.string() + " holds a plain cache (cache.db), not a fanout directory");
  const std::vector<std::size_t> found = existing_shards(dir_);

  std::optional<std::size_t> recorded;
  for (std::size_t number : found) {
    Options peek_options;
    peek_options.read_only = true;
    Cache shard(dir_ / shard_name(number), peek_options);
    if (auto n = detail::impl_of(shard).extra_setting(kShardsSetting)) {
      if (recorded && *recorded != static_cast<std::size_t>(*n))
        throw CorruptCache("shards of " + dir_.string() + " record different shard counts (" +
                           std::to_string(*recorded) + " and " + std::to_string(*n) + ")");
      recorded = static_cast<std::size_t>(*n);
    }
  }
  std::size_t count;
  std::string how;
  if (recorded) {
    if (!found.empty() && found.back() >= *recorded)
      throw InvalidArgument(dir_.string() + " records " + std::to_string(*recorded) + " shards but shard folder " +
                            shard_name(found.back()) + " exists: the shard count is ambiguous");
    count = *recorded;
    how = "recorded in its shards";
  } else if (!found.empty()) {
    if (found.back() + 1 != found.size()) {
      std::string names;
      for (auto n : found) names += " " + shard_name(n);
      throw InvalidArgument("cannot infer the shard count of " + dir_.string() + ": its shard folders (" + names +
                            " ) are not 000..N-1");
    }
    count = found.size();
    how = "inferred from its shard folders";
  } else {
    if (options_.cache.read_only) throw Error("no fanout cache at " + dir_.string() + " (opened read-only)");
    count = options_.shards.value_or(kPythonDefaultShards);
    how = "requested";
  }
  if (options_.shards && *options_.shards != count)
    throw InvalidArgument(dir_.string() + " has " + std::to_string(count) + " shards (" + how + "); opening it with " +
                          std::to_string(*options_.shards) + " would map keys to other shards");
  if (count == 0 || count > 999) throw InvalidArgument("a fanout cache needs 1 to 999 shards");

  Options per_shard = options_.cache;
  if (!per_shard.read_only) {  // Python passes size_limit / shards to every shard on every open
    const std::int64_t total = per_shard.settings.size_limit.value_or(std::int64_t{1} << 30);
    per_shard.settings.size_limit = total / static_cast<std::int64_t>(count);
  }
  for (std::size_t i = 0; i < count; ++i) {
    shards_.push_back(std::make_unique<Cache>(dir_ / shard_name(i), per_shard));
    auto& impl = detail::impl_of(*shards_.back());
    if (!per_shard.read_only && impl.extra_setting(kShardsSetting) != static_cast<std::int64_t>(count))
      impl.put_extra_setting(kShardsSetting, static_cast<std::int64_t>(count));
  }
}

FanoutCache::~FanoutCache() = default;

template <class R, class F>
R FanoutCache::guarded(R failed, F&& op) {
  try {
    return op();
  } catch (const Timeout&) {
    if (!options_.swallow_timeouts) throw;
    timeouts_.fetch_add(1);
    return failed;
  }
}

// ------------------------------------------------------------- items

bool FanoutCache::set(const Value& key, const Value& value, const SetOptions& options) {
  return guarded(false, [&] { return shard_for(key).set(key, value, options); });
}
bool FanoutCache::set_stream(const Value& key, std::istream& in, const SetOptions& options) {
  return guarded(false, [&] { return shard_for(key).set_stream(key, in, options); });
}
bool FanoutCache::add(const Value& key, const Value& value, const SetOptions& options) {
  return guarded(false, [&] { return shard_for(key).add(key, value, options); });
}
std::optional<Value> FanoutCache::get(const Value& key) {
  return guarded(std::optional<Value>(), [&] { return shard_for(key).get(key); });
}
std::optional<Entry> FanoutCache::get_entry(const Value& key) {
  return guarded(std::optional<Entry>(), [&] { return shard_for(key).get_entry(key); });
}
bool FanoutCache::set_chunks(const Value& key, const std::function<std::string_view()>& next_chunk,
                             const SetOptions& options) {
  return guarded(false, [&] { return shard_for(key).set_chunks(key, next_chunk, options); });
}
std::optional<ValueReader> FanoutCache::open_value(const Value& key) {
  return guarded(std::optional<ValueReader>(), [&] { return shard_for(key).open_value(key); });
}
bool FanoutCache::read(const Value& key, std::ostream& out) {
  return guarded(false, [&] { return shard_for(key).read(key, out); });
}
std::optional<std::int64_t> FanoutCache::incr(const Value& key, std::int64_t delta,
                                              std::optional<std::int64_t> default_value) {
  return guarded(std::optional<std::int64_t>(),
                 [&] { return std::optional<std::int64_t>(shard_for(key).incr(key, delta, default_value)); });
}
std::optional<std::int64_t> FanoutCache::decr(const Value& key, std::int64_t delta,
                                              std::optional<std::int64_t> default_value) {
  return guarded(std::optional<std::int64_t>(),
                 [&] { return std::optional<std::int64_t>(shard_for(key).decr(key, delta, default_value)); });
}
std::optional<Value> FanoutCache::pop(const Value& key) {
  return guarded(std::optional<Value>(), [&] { return shard_for(key).pop(key); });
}
std::optional<Entry> FanoutCache::pop_entry(const Value& key) {
  return guarded(std::optional<Entry>(), [&] { return shard_for(key).pop_entry(key); });
}
bool FanoutCache::erase(const Value& key) {
  return guarded(false, [&] { return shard_for(key).erase(key); });
}
bool FanoutCache::contains(const Value& key) { return shard_for(key).contains(key); }
bool FanoutCache::touch(const Value& key, std::optional<double> expire) {
  return guarded(false, [&] { return shard_for(key).touch(key, expire); });
}

// ------------------------------------------------------------- totals

std::int64_t FanoutCache::size() {
  std::int64_t total = 0;
  for (auto& s : shards_) total += s->size();
  return total;
}
std::int64_t FanoutCache::volume() {
  std::int64_t total = 0;
  for (auto& s : shards_) total += s->volume();
  return total;
}
Stats FanoutCache::stats(bool enable, bool reset) {
  Stats total;
  for (auto& s : shards_) {
    const Stats one = s->stats(enable, reset);
    total.hits += one.hits;
    total.misses += one.misses;
  }
  return total;
}
void FanoutCache::create_tag_index() {
  for (auto& s : shards_) s->create_tag_index();
}
void FanoutCache::drop_tag_index() {
  for (auto& s : shards_) s->drop_tag_index();
}

namespace {
// Python's _remove: each shard until it completes, counting partial work
// of timed-out attempts; progress is reported over all shards.
template <class Op>
std::int64_t remove_all(std::vector<std::unique_ptr<Cache>>& shards, const Progress& progress, Op op) {
  std::int64_t total = 0;
  for (auto& shard : shards) {
    const std::int64_t before = total;
    const Progress shard_progress = [&](std::int64_t done, std::int64_t expected) {
      if (progress) progress(before + done, before + expected);
    };
    while (true) {
      try {
        total += op(*shard, shard_progress);
        break;
      } catch (const Timeout& t) {
        total += t.completed();
      }
    }
  }
  return total;
}
}  // namespace

std::int64_t FanoutCache::expire(std::optional<double> now, const Progress& progress) {
  const double until = now ? *now : shards_.front()->now();
  return remove_all(shards_, progress, [&](Cache& c, const Progress& p) { return c.expire(until, p); });
}
std::int64_t FanoutCache::evict(const Value& tag, const Progress& progress) {
  return remove_all(shards_, progress, [&](Cache& c, const Progress& p) { return c.evict(tag, p); });
}
std::int64_t FanoutCache::clear(const Progress& progress) {
  return remove_all(shards_, progress, [&](Cache& c, const Progress& p) { return c.clear(p); });
}
std::int64_t FanoutCache::cull(const Progress& progress) {
  return remove_all(shards_, progress, [&](Cache& c, const Progress& p) { return c.cull(p); });
}
std::vector<std::string> FanoutCache::check(bool fix, const Progress& progress) {
  std::vector<std::string> all;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    auto warnings = shards_[i]->check(fix);
    all.insert(all.end(), warnings.begin(), warnings.end());
    if (progress) progress(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(shards_.size()));
  }
  return all;
}

FanoutKeyRange FanoutCache::keys(bool reverse) {
  return {FanoutKeyIterator(&shards_, FanoutKeyIterator::Order::ShardOrder, reverse)};
}
FanoutKeyRange FanoutCache::sorted_keys(bool reverse) {
  return {FanoutKeyIterator(&shards_, FanoutKeyIterator::Order::Sorted, reverse)};
}

namespace {
// The store time of a shard's newest (or oldest) unexpired row; std::nullopt
// when it has none.
std::optional<double> edge_store_time(Cache& shard, bool last) {
  Cache::Impl& d = detail::impl_of(shard);
  return d.with_context([&]() -> std::optional<double> {
    detail::Query q(d.conn(), last ? "SELECT store_time FROM Cache WHERE expire_time IS NULL OR expire_time >= ? "
                                     "ORDER BY rowid DESC LIMIT 1"
                                   : "SELECT store_time FROM Cache WHERE expire_time IS NULL OR expire_time >= ? "
                                     "ORDER BY rowid ASC LIMIT 1");
    q.bind(1, d.now());
    if (!q.step() || q.is_null(0)) return std::nullopt;
    return q.real(0);
  });
}
}  // namespace

Item FanoutCache::peekitem(bool last) {
  std::vector<bool> busy(shards_.size(), false);  // skipped after a swallowed timeout
  while (true) {
    std::optional<std::size_t> chosen;
    double chosen_time = 0;
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      if (busy[i]) continue;
      std::optional<double> time;
      if (!guarded(false, [&] {
            time = edge_store_time(*shards_[i], last);
            return true;
          })) busy[i] = true;
      if (time && (!chosen || (last ? *time > chosen_time : *time < chosen_time))) {
        chosen = i;
        chosen_time = *time;
      }
    }
    if (!chosen) throw KeyNotFound("peekitem: no item in the fanout cache " + dir_.string());
    try {
      std::optional<Item> item;
      if (guarded(false, [&] {
            item = shards_[*chosen]->peekitem(last);
            return true;
          })) return std::move(*item);
      busy[*chosen] = true;
    } catch (const KeyNotFound&) {
      // the shard emptied meanwhile (items expired or taken): look again
    }
  }
}

// ------------------------------------------------------------- side table, close

void FanoutCache::side_put(std::string_view space, const Value& name, const Value& value) {
  shards_.front()->side_put(space, name, value);
}
std::optional<Value> FanoutCache::side_get(std::string_view space, const Value& name) {
  return shards_.front()->side_get(space, name);
}
bool FanoutCache::side_erase(std::string_view space, const Value& name) {
  return shards_.front()->side_erase(space, name);
}
std::vector<std::pair<Value, Value>> FanoutCache::side_list(std::string_view space) {
  return shards_.front()->side_list(space);
}

void FanoutCache::close() {
  for (auto& shard : shards_) shard->close();
  std::lock_guard lock(stores_mu_);
  for (auto& [name, cache] : caches_) cache->close();
  for (auto& [name, deque] : deques_) deque->cache().close();
  for (auto& [name, index] : indexes_) index->cache().close();
}

// ------------------------------------------------------------- queues

Value FanoutCache::push(const Value& value, const std::optional<std::string>& prefix, Side side,
                        const SetOptions& options) {
  return shard_for(prefix ? Value(*prefix) : Value()).push(value, prefix, side, options);
}
std::optional<Item> FanoutCache::pull(const std::optional<std::string>& prefix, Side side) {
  return guarded(std::optional<Item>(), [&] { return shard_for(prefix ? Value(*prefix) : Value()).pull(prefix, side); });
}
std::optional<Item> FanoutCache::peek(const std::optional<std::string>& prefix, Side side) {
  return guarded(std::optional<Item>(), [&] { return shard_for(prefix ? Value(*prefix) : Value()).peek(prefix, side); });
}

FanoutTransaction FanoutCache::transact() {
  FanoutTransaction tx;
  for (auto& s : shards_) tx.shards_.push_back(s->transact());  // fixed order: 000 first
  return tx;
}

// ------------------------------------------------------------- sub-stores

Cache& FanoutCache::cache(const std::string& name) {
  std::lock_guard lock(stores_mu_);
  auto& slot = caches_[name];
  if (!slot) slot = std::make_unique<Cache>(sub_store_path(dir_, "cache", name), options_.cache);
  return *slot;
}

namespace {
Options ordered_store_options(Options o) {
  if (!o.settings.eviction_policy) o.settings.eviction_policy = EvictionPolicy::None;
  o.timeout = std::max(o.timeout, std::chrono::duration<double>(60.0));  // Python: Deque/Index retry
  return o;
}
}  // namespace

Deque& FanoutCache::deque(const std::string& name) {
  std::lock_guard lock(stores_mu_);
  auto& slot = deques_[name];
  if (!slot)
    slot = std::make_unique<Deque>(
        std::make_unique<Cache>(sub_store_path(dir_, "deque", name), ordered_store_options(options_.cache)));
  return *slot;
}

Index& FanoutCache::index(const std::string& name) {
  std::lock_guard lock(stores_mu_);
  auto& slot = indexes_[name];
  if (!slot)
    slot = std::make_unique<Index>(
        std::make_unique<Cache>(sub_store_path(dir_, "index", name), ordered_store_options(options_.cache)));
  return *slot;
}

}  // namespace diskcache
