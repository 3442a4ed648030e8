// The Inspector of a Redis store: its primitives, their history and
// force-release, in the local inspection API's types. It holds no items,
// keys or GPU statistics.
#include "diskcache/error.hpp"
#include "diskcache/redis/inspect.hpp"
#include "inspector.hpp"

namespace dcview {
namespace {

class RedisInspector : public Inspector {
 public:
  explicit RedisInspector(const std::string& urls) : store_(diskcache::redis::Store::open(urls)) {}

  std::vector<diskcache::PrimitiveInfo> primitives(diskcache::SkippedRows&, RLockScan) override {
    return diskcache::redis::inspect_primitives(store_);
  }
  std::optional<diskcache::PrimitiveInfo> primitive(const diskcache::Value& key, std::size_t) override {
    return diskcache::redis::inspect_primitive(store_, text_key(key));
  }
  std::vector<diskcache::HistoryEvent> history(std::vector<std::int64_t>& after_ids, std::size_t limit,
                                               diskcache::SkippedRows&) override {
    after_ids.resize(1, 0);
    auto events = diskcache::redis::primitive_history(store_, after_ids[0], limit);
    if (!events.empty()) after_ids[0] = events.back().id;
    return events;
  }
  diskcache::ForceReleaseResult force_release(const diskcache::Value& key, std::size_t, bool force,
                                              const std::optional<std::string>& holder) override {
    return diskcache::redis::force_release(store_, text_key(key), force, holder);
  }
  void register_primitive(const diskcache::Value&, diskcache::PrimitiveKind, std::optional<std::int64_t>) override {
    throw diskcache::InvalidArgument("nothing to register: a Redis store's primitives register themselves");
  }
  std::optional<diskcache::CacheTotals> totals() override { return std::nullopt; }
  QString eviction_policy() override { return "redis"; }
  bool fanout() const override { return false; }
  std::size_t shard_of(const diskcache::Value&) override { return 0; }
  std::size_t parts() const override { return store_.servers().size(); }
  QString description() const override { return QString("Redis store (%1 server(s))").arg(parts()); }
  std::size_t key_databases() const override { return 0; }
  diskcache::KeyPage browse_keys(std::size_t, const diskcache::KeyQuery&) override {
    throw diskcache::InvalidArgument("a Redis store holds primitives only: no keys to browse");
  }
  std::int64_t purge_expired(const diskcache::Progress&) override {
    throw diskcache::InvalidArgument("nothing to purge: a Redis store keeps no cache items");
  }
  std::vector<diskcache::gpu::TransferReport> transfers(diskcache::SkippedRows&) override { return {}; }
  std::vector<std::filesystem::path> change_files() const override { return {}; }

 private:
  // Redis primitives are named by text.
  static std::string text_key(const diskcache::Value& key) {
    if (key.type() != diskcache::Value::Type::Text)
      throw diskcache::InvalidArgument("a Redis primitive's key is text, not " + key.repr());
    return key.as_text();
  }
  diskcache::redis::Store store_;
};

}  // namespace

std::unique_ptr<Inspector> open_redis_inspector(const std::string& urls) { return std::make_unique<RedisInspector>(urls); }

}  // namespace dcview
