// Who holds a primitive: enough to tell, from any process on the same host,
// whether that holder is still alive (and is the same process, not a reuse
// of its pid). Shared by the primitives here and by diskcache::redis, whose
// holders are recorded the same way.
#pragma once

#include "diskcache/export.hpp"

#include <cstdint>
#include <string>

namespace diskcache {

struct DISKCACHE_EXPORT ProcessIdentity {
  std::string host;
  std::string boot_id;             // /proc/sys/kernel/random/boot_id
  std::uint64_t pid_namespace = 0;  // inode of /proc/self/ns/pid
  std::int64_t pid = 0;
  std::int64_t start_time = 0;  // clock ticks after boot (/proc/<pid>/stat field 22)
};

// This process (recomputed after fork).
DISKCACHE_EXPORT const ProcessIdentity& self_identity();
// The calling thread's kernel id (gettid).
DISKCACHE_EXPORT std::int64_t self_thread_id();

enum class Liveness { Alive, Dead, Zombie, Unknown };
// Alive/Dead/Zombie for a process of this host and pid namespace (a pid
// reused by another process counts as Dead); Unknown for other hosts.
DISKCACHE_EXPORT Liveness liveness_of(const ProcessIdentity& holder);

}  // namespace diskcache
