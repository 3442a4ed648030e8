// diskcache::gpu device interface: the few operations the offloader needs
// from a GPU runtime (streams, ordering events, asynchronous copies, pinned
// host memory, host callbacks). Two backends implement it: the CUDA runtime
// (cuda_device.hpp) and an emulated device (emulated_device.hpp) whose
// streams are real worker threads, so ordering bugs show up without a GPU.
//
// Semantics follow CUDA's: work queued on one stream runs in order; work on
// different streams is unordered unless a stream waits on an event recorded
// on the other. Thread-safety: a Device and its streams may be used from any
// thread; calls on one stream from several threads are ordered by whichever
// call returns first.
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "diskcache/error.hpp"

namespace diskcache::gpu {

// A failure reported by the device runtime (names the call and the reason).
class DISKCACHE_EXPORT DeviceError : public Error {
 public:
  using Error::Error;
};

// An in-order queue of device work (cudaStream_t).
class DISKCACHE_EXPORT Stream {
 public:
  virtual ~Stream() = default;
};

// A completion point in a stream (cudaEvent_t without timing).
class DISKCACHE_EXPORT Event {
 public:
  virtual ~Event() = default;
  // Blocks until the work queued before the event has completed.
  virtual void synchronize() = 0;
  virtual bool ready() = 0;
};

// A gate a stream can wait at without occupying a host thread: a 32-bit
// counter in host memory the device can read (CUDA: mapped pinned memory
// watched by cuStreamWaitValue32). The host only ever opens it further.
// Thread-safety: open_to and value may be called from any thread.
class DISKCACHE_EXPORT Gate {
 public:
  virtual ~Gate() = default;
  // Sets the counter to `value`, releasing every stream waiting for a value
  // at or before it; host writes made before the call are visible to the
  // work it releases.
  virtual void open_to(std::uint32_t value) = 0;
  virtual std::uint32_t value() const = 0;
};

// True when `counter` has reached `target`, compared as CUDA's
// CU_STREAM_WAIT_VALUE_GEQ does: (int32_t)(counter - target) >= 0, so a
// counter may wrap as long as waiters stay within 2^31 of it.
constexpr bool gate_reached(std::uint32_t counter, std::uint32_t target) noexcept {
  return static_cast<std::int32_t>(counter - target) >= 0;
}

class DISKCACHE_EXPORT Device {
 public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;

  // A stream that does not synchronise with the legacy default stream.
  virtual std::unique_ptr<Stream> create_stream() = 0;
  // An event completing once everything queued on `stream` so far has.
  virtual std::shared_ptr<Event> record(Stream& stream) = 0;
  // Work queued on `stream` after this call starts only after `event`.
  virtual void wait(Stream& stream, const std::shared_ptr<Event>& event) = 0;
  // Blocks until all work queued on `stream` has completed.
  virtual void synchronize(Stream& stream) = 0;

  // Asynchronous copies, queued on `stream`. `host` must be pinned memory
  // from allocate_pinned for the copy to be truly asynchronous.
  virtual void copy_to_host(void* host, const void* device, std::size_t bytes, Stream& stream) = 0;
  virtual void copy_to_device(void* device, const void* host, std::size_t bytes, Stream& stream) = 0;
  // Runs `fn` on a host thread when the stream reaches this point; the
  // stream's later work waits for it to return. `fn` must not call the
  // Device (CUDA forbids it) and must not throw. It should not block either:
  // CUDA may run every stream's host functions on one driver thread, so a
  // blocked `fn` stalls the host functions of all streams (the emulated
  // device does the same, so such a stall shows in tests).
  virtual void host_call(Stream& stream, std::function<void()> fn) = 0;

  // A gate in memory this device can watch, its counter at 0.
  virtual std::unique_ptr<Gate> create_gate();
  // Work queued on `stream` after this call starts only once `gate` (made by
  // this device, and kept alive until that work has started) has reached
  // `value` (see gate_reached). Backends wait on the
  // device side (CUDA: cuStreamWaitValue32); the default implementation, and
  // CUDA's fallback where stream memory operations are unsupported, waits in
  // a host function, with the stall described at host_call.
  virtual void wait_gate(Stream& stream, Gate& gate, std::uint32_t value);

  // Two small kernels, for tests and demos: `delay` keeps `stream` busy for
  // about `duration`; `fill` sets `bytes` bytes at `device` to `byte`.
  virtual void delay(Stream& stream, std::chrono::microseconds duration) = 0;
  virtual void fill(void* device, unsigned char byte, std::size_t bytes, Stream& stream) = 0;

  virtual void* allocate_device(std::size_t bytes) = 0;
  virtual void free_device(void* pointer) = 0;
  virtual void* allocate_pinned(std::size_t bytes) = 0;
  virtual void free_pinned(void* pointer) = 0;
};

}  // namespace diskcache::gpu
