// Stand-in for the CUDA backend when the library is built without it.
#include "diskcache/gpu/cuda_device.hpp"

namespace diskcache::gpu {

bool cuda_backend_built() noexcept { return false; }
int cuda_device_count() noexcept { return 0; }
std::unique_ptr<Device> make_cuda_device(int) {
  throw DeviceError("this diskcache build has no CUDA backend (nvcc was not found or DISKCACHE_CUDA=OFF)");
}

}  // namespace diskcache::gpu
