// An emulated GPU for machines without one: every stream is a worker thread
// running its queue in order, events are real completion points, copies are
// done by the worker when it reaches them, and gates are watched by the
// worker too. Host functions of all streams run on one shared thread, as
// CUDA's driver may run them, so one that blocks stalls them all. Seeded random delays before
// each queued operation and poisoned fresh and freed buffers make a missing
// wait produce wrong bytes in a test instead of passing by luck.
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <cstdint>
#include <memory>

#include "diskcache/gpu/device.hpp"

namespace diskcache::gpu {

struct DISKCACHE_EXPORT EmulatedOptions {
  // Each stream sleeps a random time in [0, max_delay] before every queued
  // operation (0: no delays). The sequence is fixed by `seed`.
  std::chrono::microseconds max_delay{0};
  std::uint64_t seed = 1;
  // Fill fresh allocations with kFreshPoison and freed ones with
  // kFreedPoison (freed memory is kept in a bounded quarantine, so a late
  // read sees poison rather than someone else's data).
  bool poison = true;
  // For tests: the n-th copy queued (1-based, either direction) throws
  // DeviceError instead of being queued, as a failing runtime would. 0: never.
  std::uint64_t fail_copy = 0;
};

inline constexpr unsigned char kFreshPoison = 0xA5;
inline constexpr unsigned char kFreedPoison = 0xDD;

DISKCACHE_EXPORT std::unique_ptr<Device> make_emulated_device(EmulatedOptions options = {});

}  // namespace diskcache::gpu
