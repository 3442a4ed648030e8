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
  // stream's later work waits for it to return. `fn` may block, but must not
  // call the Device (CUDA forbids it) and must not throw.
  virtual void host_call(Stream& stream, std::function<void()> fn) = 0;

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
