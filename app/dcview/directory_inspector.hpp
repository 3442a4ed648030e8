// The Inspector of a cache directory (plain or fanout), over the library's
// inspection API.
#pragma once

#include "inspector.hpp"
#include "cache_directory.hpp"

namespace dcview {

class DirectoryInspector : public Inspector {
 public:
  DirectoryInspector(const std::string& directory, bool writable) : directory_(directory, writable) {}

  std::vector<diskcache::PrimitiveInfo> primitives(diskcache::SkippedRows& skipped, RLockScan scan) override;
  std::optional<diskcache::PrimitiveInfo> primitive(const diskcache::Value& key, std::size_t shard) override;
  std::vector<diskcache::HistoryEvent> history(std::vector<std::int64_t>& after_ids, std::size_t limit,
                                               diskcache::SkippedRows& skipped) override;
  diskcache::ForceReleaseResult force_release(const diskcache::Value& key, std::size_t shard, bool force,
                                              const std::optional<std::string>& holder) override;
  void register_primitive(const diskcache::Value& key, diskcache::PrimitiveKind kind,
                          std::optional<std::int64_t> bound) override;
  std::optional<diskcache::CacheTotals> totals() override { return directory_.totals(); }
  QString eviction_policy() override;
  bool fanout() const override { return directory_.fanout(); }
  std::size_t shard_of(const diskcache::Value& key) override;
  std::size_t parts() const override { return directory_.shards().size(); }
  QString description() const override;
  std::size_t key_databases() const override { return directory_.shards().size(); }
  diskcache::KeyPage browse_keys(std::size_t database, const diskcache::KeyQuery& query) override;
  std::int64_t purge_expired(const diskcache::Progress& progress) override;
  std::vector<diskcache::gpu::TransferReport> transfers(diskcache::SkippedRows& skipped) override;
  std::vector<std::filesystem::path> change_files() const override { return directory_.layout().change_files(); }
  CacheDirectory* directory() override { return &directory_; }

 private:
  diskcache::Cache& shard(std::size_t index);
  // One slice of the scan for Python RLocks in `shard`, and the RLocks
  // found so far followed key by key.
  std::vector<diskcache::PrimitiveInfo> sliced_primitives(std::size_t shard, diskcache::SkippedRows& skipped);

  CacheDirectory directory_;
  struct RLockFollow {
    std::vector<diskcache::Value> known;  // found by the last complete pass
    std::vector<diskcache::Value> pass;   // found so far by the current pass
    std::int64_t next_rowid = 0;
  };
  std::vector<RLockFollow> python_rlocks_;  // per shard
};

}  // namespace dcview
