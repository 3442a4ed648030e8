// DISKCACHE_EXPORT marks what the shared libraries (diskcache, diskcache_gpu,
// diskcache_redis) export: the public API. They are built with hidden
// visibility, so everything else (the internals) stays inside them. Linux
// only (ELF visibility); in a static build the attribute does nothing.
#pragma once

#define DISKCACHE_EXPORT __attribute__((visibility("default")))
