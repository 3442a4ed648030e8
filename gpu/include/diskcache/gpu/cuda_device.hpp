// The CUDA backend: non-blocking streams, events without timing,
// cudaMemcpyAsync, cudaHostAlloc'd pinned memory, cudaLaunchHostFunc.
#pragma once

#include "diskcache/export.hpp"

#include <memory>

#include "diskcache/gpu/device.hpp"

namespace diskcache::gpu {

// True when this library was built with its CUDA backend.
DISKCACHE_EXPORT bool cuda_backend_built() noexcept;
// Number of CUDA devices usable now (0 without a GPU or driver, or when the
// backend was not built).
DISKCACHE_EXPORT int cuda_device_count() noexcept;
// Device `ordinal`. Throws DeviceError when the backend was not built or the
// device cannot be used (the message says why).
DISKCACHE_EXPORT std::unique_ptr<Device> make_cuda_device(int ordinal = 0);

}  // namespace diskcache::gpu
