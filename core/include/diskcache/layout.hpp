// What a directory holds, for tools that watch or browse caches they did
// not create: a plain cache (cache.db), a fanout directory (shard folders
// 000..N-1, each a cache), or neither. The layout's file names are spelled
// out here and nowhere else a tool needs them.
#pragma once

#include "diskcache/export.hpp"

#include <filesystem>
#include <vector>

namespace diskcache {

struct DISKCACHE_EXPORT Layout {
  enum class Kind {
    None,    // neither cache.db nor shard folders
    Plain,   // a Cache: directory/cache.db
    Fanout,  // a FanoutCache: directory/000/cache.db ... in shard order
  };
  Kind kind = Kind::None;
  std::filesystem::path directory;
  // The database of the cache, or of each shard in shard order (the shard
  // folders found, 000 up to the first gap; FanoutCache checks the count
  // against the one recorded when it opens the directory).
  std::vector<std::filesystem::path> databases;

  // The files whose change means the cache changed: each database and its
  // write-ahead log (which may not exist yet).
  std::vector<std::filesystem::path> change_files() const;
};

// Looks without opening anything or creating anything. A `cache.db` next to
// shard folders is a plain cache (as FanoutCache refuses such a directory).
DISKCACHE_EXPORT Layout detect_layout(const std::filesystem::path& directory);

}  // namespace diskcache
