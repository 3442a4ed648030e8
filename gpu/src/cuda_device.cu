// The CUDA backend of the device interface (built when CMake finds nvcc).
#include <cuda.h>
#include <cuda_runtime.h>
#include <cudaTypedefs.h>

#include <atomic>
#include <memory>
#include <string>

#include "diskcache/gpu/cuda_device.hpp"
#include "host_gate.hpp"

namespace diskcache::gpu {
namespace {

void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess)
    throw DeviceError(std::string("CUDA ") + call + " failed: " + cudaGetErrorName(status) + " (" +
                      cudaGetErrorString(status) + ")");
}

__global__ void spin_kernel(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

__global__ void fill_kernel(unsigned char* out, unsigned char byte, std::size_t bytes) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < bytes;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = byte;
}

class CudaStream final : public Stream {
 public:
  explicit CudaStream(int ordinal) {
    check(cudaSetDevice(ordinal), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  }
  ~CudaStream() override { cudaStreamDestroy(stream); }
  cudaStream_t stream = nullptr;
};

class CudaEvent final : public Event {
 public:
  CudaEvent() { check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreateWithFlags"); }
  ~CudaEvent() override { cudaEventDestroy(event); }
  void synchronize() override { check(cudaEventSynchronize(event), "cudaEventSynchronize"); }
  bool ready() override {
    const cudaError_t status = cudaEventQuery(event);
    if (status == cudaErrorNotReady) return false;
    check(status, "cudaEventQuery");
    return true;
  }
  cudaEvent_t event = nullptr;
};

// A gate's counter in mapped pinned memory: the host opens it (HostGate's
// release store) and the device watches it with cuStreamWaitValue32.
class CudaGate final : public detail::HostGate {
 public:
  explicit CudaGate(std::uint32_t* word) : HostGate(word) {
    check(cudaHostGetDevicePointer(&device_word, word, 0), "cudaHostGetDevicePointer");
  }
  ~CudaGate() override { cudaFreeHost(word()); }
  void* device_word = nullptr;

  static std::unique_ptr<CudaGate> make() {
    void* word = nullptr;
    check(cudaHostAlloc(&word, sizeof(std::uint32_t), cudaHostAllocMapped | cudaHostAllocPortable),
          "cudaHostAlloc(gate)");
    try {
      return std::make_unique<CudaGate>(static_cast<std::uint32_t*>(word));
    } catch (...) {
      cudaFreeHost(word);
      throw;
    }
  }
};

// cuStreamWaitValue32 from the driver, found through the runtime (no link
// against libcuda); null where the driver or device lacks stream memory
// operations, and gates then wait in host functions (Device::wait_gate).
PFN_cuStreamWaitValue32_v11070 find_stream_wait_value() {
  void* function = nullptr;
  cudaDriverEntryPointQueryResult found{};
  if (cudaGetDriverEntryPointByVersion("cuStreamWaitValue32", &function, 12000, cudaEnableDefault, &found) !=
          cudaSuccess ||
      found != cudaDriverEntryPointSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return reinterpret_cast<PFN_cuStreamWaitValue32_v11070>(function);
}

class CudaDevice final : public Device {
 public:
  explicit CudaDevice(int ordinal) : ordinal_(ordinal) {
    check(cudaSetDevice(ordinal), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties");
    name_ = std::string("cuda:") + std::to_string(ordinal) + " " + prop.name;
    int khz = 0;
    check(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, ordinal), "cudaDeviceGetAttribute");
    cycles_per_us_ = khz / 1000.0;
    stream_wait_value_ = find_stream_wait_value();
  }
  std::string name() const override { return name_; }

  std::unique_ptr<Stream> create_stream() override { return std::make_unique<CudaStream>(ordinal_); }
  std::shared_ptr<Event> record(Stream& stream) override {
    select();
    auto event = std::make_shared<CudaEvent>();
    check(cudaEventRecord(event->event, native(stream)), "cudaEventRecord");
    return event;
  }
  void wait(Stream& stream, const std::shared_ptr<Event>& event) override {
    auto* cuda = dynamic_cast<CudaEvent*>(event.get());
    if (!cuda) throw DeviceError("CUDA device: wait on an event of another device");
    select();
    check(cudaStreamWaitEvent(native(stream), cuda->event, 0), "cudaStreamWaitEvent");
  }
  void synchronize(Stream& stream) override { check(cudaStreamSynchronize(native(stream)), "cudaStreamSynchronize"); }

  void copy_to_host(void* host, const void* device, std::size_t bytes, Stream& stream) override {
    select();
    check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, native(stream)), "cudaMemcpyAsync(D2H)");
  }
  void copy_to_device(void* device, const void* host, std::size_t bytes, Stream& stream) override {
    select();
    check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, native(stream)), "cudaMemcpyAsync(H2D)");
  }
  void host_call(Stream& stream, std::function<void()> fn) override {
    select();
    auto* heap = new std::function<void()>(std::move(fn));
    const cudaError_t status = cudaLaunchHostFunc(
        native(stream),
        [](void* data) {
          std::unique_ptr<std::function<void()>> call(static_cast<std::function<void()>*>(data));
          (*call)();
        },
        heap);
    if (status != cudaSuccess) delete heap;
    check(status, "cudaLaunchHostFunc");
  }
  std::unique_ptr<Gate> create_gate() override {
    select();
    return CudaGate::make();
  }
  void wait_gate(Stream& stream, Gate& gate, std::uint32_t value) override {
    auto* cuda = dynamic_cast<CudaGate*>(&gate);
    if (!cuda) throw DeviceError("CUDA device: wait_gate on a gate of another device");
    select();
    if (const auto wait_value = stream_wait_value_.load()) {
      const CUresult status = wait_value(reinterpret_cast<CUstream>(native(stream)),
                                                 reinterpret_cast<CUdeviceptr>(cuda->device_word), value,
                                                 CU_STREAM_WAIT_VALUE_GEQ);
      if (status == CUDA_SUCCESS) return;
      if (status != CUDA_ERROR_NOT_SUPPORTED)
        throw DeviceError("CUDA cuStreamWaitValue32 failed with CUresult " + std::to_string(status));
      stream_wait_value_ = nullptr;  // this device cannot: wait in host functions from now on
    }
    Device::wait_gate(stream, gate, value);
  }
  void delay(Stream& stream, std::chrono::microseconds duration) override {
    select();
    spin_kernel<<<1, 1, 0, native(stream)>>>(static_cast<long long>(duration.count() * cycles_per_us_));
    check(cudaGetLastError(), "spin kernel launch");
  }
  void fill(void* device, unsigned char byte, std::size_t bytes, Stream& stream) override {
    select();
    fill_kernel<<<256, 256, 0, native(stream)>>>(static_cast<unsigned char*>(device), byte, bytes);
    check(cudaGetLastError(), "fill kernel launch");
  }

  void* allocate_device(std::size_t bytes) override {
    select();
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
  void free_device(void* pointer) override { check(cudaFree(pointer), "cudaFree"); }
  void* allocate_pinned(std::size_t bytes) override {
    select();
    void* p = nullptr;
    check(cudaHostAlloc(&p, bytes, cudaHostAllocDefault), "cudaHostAlloc");
    return p;
  }
  void free_pinned(void* pointer) override { check(cudaFreeHost(pointer), "cudaFreeHost"); }

 private:
  void select() const { check(cudaSetDevice(ordinal_), "cudaSetDevice"); }
  static cudaStream_t native(Stream& stream) {
    auto* cuda = dynamic_cast<CudaStream*>(&stream);
    if (!cuda) throw DeviceError("CUDA device: a stream of another device");
    return cuda->stream;
  }
  int ordinal_;
  std::string name_;
  double cycles_per_us_ = 1000;
  std::atomic<PFN_cuStreamWaitValue32_v11070> stream_wait_value_{nullptr};
};

}  // namespace

bool cuda_backend_built() noexcept { return true; }

int cuda_device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
}

std::unique_ptr<Device> make_cuda_device(int ordinal) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    check(status, "cudaGetDeviceCount");
  }
  if (ordinal < 0 || ordinal >= count)
    throw DeviceError("no CUDA device " + std::to_string(ordinal) + " (" + std::to_string(count) + " present)");
  return std::make_unique<CudaDevice>(ordinal);
}

}  // namespace diskcache::gpu
