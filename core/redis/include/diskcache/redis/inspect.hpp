// Inspection of the primitives kept on Redis, with the types of the local
// inspection API (diskcache/inspect.hpp), so the monitor and the CLI show
// both alike. Every primitive registers itself on first use; there is
// nothing to register by hand.
//
// A holder whose lease is current is Alive, or Stale when it ran on this
// host and its process is gone (or a zombie, or its pid was reused);
// Unknown on another host. In quorum mode these read the first server that
// answers.
#pragma once

#include "diskcache/export.hpp"

#include <optional>
#include <string>
#include <vector>

#include "diskcache/inspect.hpp"
#include "diskcache/redis/store.hpp"

namespace diskcache::redis {

// Every registered primitive, read by one script (a consistent view).
DISKCACHE_EXPORT std::vector<PrimitiveInfo> inspect_primitives(Store& store);
DISKCACHE_EXPORT std::optional<PrimitiveInfo> inspect_primitive(Store& store, const std::string& key);

// Frees `key` from its stale holders (all servers in quorum mode); refuses
// when a holder is alive or unknown unless `force`; `holder_id` limits it
// to one holder. Wakes waiters and records "force-release" in the history.
DISKCACHE_EXPORT ForceReleaseResult force_release(Store& store, const std::string& key, bool force = false,
                                 const std::optional<std::string>& holder_id = std::nullopt);

// Events with id > after_id, oldest first, at most `limit` (the latest
// 10,000 are kept).
DISKCACHE_EXPORT std::vector<HistoryEvent> primitive_history(Store& store, std::int64_t after_id = 0, std::size_t limit = 1000);

}  // namespace diskcache::redis
