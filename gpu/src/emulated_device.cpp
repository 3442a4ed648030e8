// The emulated device: a worker thread per stream running queued operations
// in order, with optional seeded delays, one host-function thread shared by
// all streams (as CUDA's driver may have), gates watched by the stream
// workers themselves, and poisoned allocations.
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

#include "diskcache/gpu/emulated_device.hpp"
#include "host_gate.hpp"

namespace diskcache::gpu {
namespace {

class EmulatedEvent final : public Event {
 public:
  void complete() {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  void synchronize() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
  }
  bool ready() override {
    std::lock_guard lock(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// A thread running queued operations in order, calling `before_each` first
// if given; destroying it runs what is queued first (like cudaStreamDestroy).
class OrderedWorker {
 public:
  explicit OrderedWorker(std::function<void()> before_each = {})
      : before_each_(std::move(before_each)), worker_([this] { run(); }) {}
  ~OrderedWorker() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    worker_.join();
  }
  void enqueue(std::function<void()> op) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(op));
    cv_.notify_all();
  }

 private:
  void run() {
    while (true) {
      std::function<void()> op;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        op = std::move(queue_.front());
        queue_.pop_front();
      }
      if (before_each_) before_each_();
      op();
    }
  }

  std::function<void()> before_each_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread worker_;                       // last: starts once the rest is built
};

// Runs host functions one at a time, in the order streams reach them: one
// blocked function holds back every stream's host functions, as it may on
// CUDA.
class HostFunctionThread {
 public:
  // Runs `fn` on the host-function thread and returns once it has returned.
  void call(const std::function<void()>& fn) {
    std::promise<void> returned;
    worker_.enqueue([&] {
      fn();
      returned.set_value();
    });
    returned.get_future().wait();
  }

 private:
  OrderedWorker worker_;
};

// A stream: its own worker, sleeping a seeded random time (up to
// max_delay) before each operation.
class EmulatedStream final : public Stream {
 public:
  EmulatedStream(std::chrono::microseconds max_delay, std::uint64_t seed, std::shared_ptr<HostFunctionThread> host)
      : max_delay_(max_delay), random_(seed), host_(std::move(host)), worker_([this] { random_delay(); }) {}
  void enqueue(std::function<void()> op) { worker_.enqueue(std::move(op)); }
  HostFunctionThread& host_functions() { return *host_; }

 private:
  void random_delay() {
    if (max_delay_.count() <= 0) return;
    std::uniform_int_distribution<std::int64_t> pick(0, max_delay_.count());
    std::this_thread::sleep_for(std::chrono::microseconds(pick(random_)));
  }

  std::chrono::microseconds max_delay_;
  std::mt19937_64 random_;  // used by the worker only
  std::shared_ptr<HostFunctionThread> host_;
  OrderedWorker worker_;  // last: destroyed first, running what is queued
};

class EmulatedDevice final : public Device {
 public:
  explicit EmulatedDevice(EmulatedOptions options) : options_(options) {}
  ~EmulatedDevice() override {
    for (auto& [pointer, bytes] : quarantine_) std::free(pointer);
    for (auto& [pointer, bytes] : live_) std::free(pointer);
  }

  std::string name() const override { return "emulated"; }

  std::unique_ptr<Stream> create_stream() override {
    std::lock_guard lock(mu_);
    if (!host_functions_) host_functions_ = std::make_shared<HostFunctionThread>();  // no thread until a stream
    return std::make_unique<EmulatedStream>(options_.max_delay, options_.seed + 7919 * streams_created_++,
                                            host_functions_);
  }
  std::shared_ptr<Event> record(Stream& stream) override {
    auto event = std::make_shared<EmulatedEvent>();
    as_emulated(stream).enqueue([event] { event->complete(); });
    return event;
  }
  void wait(Stream& stream, const std::shared_ptr<Event>& event) override {
    auto emulated = std::dynamic_pointer_cast<EmulatedEvent>(event);
    if (!emulated) throw DeviceError("emulated device: wait on an event of another device");
    as_emulated(stream).enqueue([emulated] { emulated->synchronize(); });
  }
  void synchronize(Stream& stream) override { record(stream)->synchronize(); }

  void copy_to_host(void* host, const void* device, std::size_t bytes, Stream& stream) override {
    count_copy();
    as_emulated(stream).enqueue([=] { std::memcpy(host, device, bytes); });
  }
  void copy_to_device(void* device, const void* host, std::size_t bytes, Stream& stream) override {
    count_copy();
    as_emulated(stream).enqueue([=] { std::memcpy(device, host, bytes); });
  }
  void host_call(Stream& stream, std::function<void()> fn) override {
    EmulatedStream& target = as_emulated(stream);
    target.enqueue([&target, fn = std::move(fn)] { target.host_functions().call(fn); });
  }
  // The stream's own worker waits, as a GPU's front end does: no host
  // function is involved.
  void wait_gate(Stream& stream, Gate& gate, std::uint32_t value) override {
    auto* host = dynamic_cast<detail::HostGate*>(&gate);
    if (!host) throw DeviceError("emulated device: wait_gate on a gate of another device");
    as_emulated(stream).enqueue([host, value] { host->wait_for(value); });
  }
  void delay(Stream& stream, std::chrono::microseconds duration) override {
    as_emulated(stream).enqueue([duration] { std::this_thread::sleep_for(duration); });
  }
  void fill(void* device, unsigned char byte, std::size_t bytes, Stream& stream) override {
    as_emulated(stream).enqueue([=] { std::memset(device, byte, bytes); });
  }

  void* allocate_device(std::size_t bytes) override { return allocate(bytes); }
  void free_device(void* pointer) override { release(pointer); }
  void* allocate_pinned(std::size_t bytes) override { return allocate(bytes); }
  void free_pinned(void* pointer) override { release(pointer); }

 private:
  static EmulatedStream& as_emulated(Stream& stream) {
    auto* emulated = dynamic_cast<EmulatedStream*>(&stream);
    if (!emulated) throw DeviceError("emulated device: a stream of another device");
    return *emulated;
  }

  void count_copy() {
    if (copies_.fetch_add(1) + 1 == options_.fail_copy)
      throw DeviceError("emulated device: injected failure of copy " + std::to_string(options_.fail_copy));
  }

  void* allocate(std::size_t bytes) {
    void* pointer = std::malloc(bytes == 0 ? 1 : bytes);
    if (!pointer) throw DeviceError("emulated device: out of memory allocating " + std::to_string(bytes) + " bytes");
    if (options_.poison) std::memset(pointer, kFreshPoison, bytes);
    std::lock_guard lock(mu_);
    live_[pointer] = bytes;
    return pointer;
  }

  void release(void* pointer) {
    if (!pointer) return;
    std::lock_guard lock(mu_);
    auto it = live_.find(pointer);
    if (it == live_.end()) throw DeviceError("emulated device: freeing memory it did not allocate (or twice)");
    const std::size_t bytes = it->second;
    live_.erase(it);
    if (!options_.poison) {
      std::free(pointer);
      return;
    }
    std::memset(pointer, kFreedPoison, bytes);
    quarantine_.emplace_back(pointer, bytes);
    quarantined_bytes_ += bytes;
    while (quarantined_bytes_ > kQuarantineBytes && !quarantine_.empty()) {
      quarantined_bytes_ -= quarantine_.front().second;
      std::free(quarantine_.front().first);
      quarantine_.pop_front();
    }
  }

  static constexpr std::size_t kQuarantineBytes = std::size_t{256} << 20;
  EmulatedOptions options_;
  std::atomic<std::uint64_t> copies_{0};
  std::mutex mu_;
  std::shared_ptr<HostFunctionThread> host_functions_;     // guarded by mu_
  std::uint64_t streams_created_ = 0;                      // guarded by mu_
  std::unordered_map<void*, std::size_t> live_;            // guarded by mu_
  std::list<std::pair<void*, std::size_t>> quarantine_;    // guarded by mu_
  std::size_t quarantined_bytes_ = 0;                      // guarded by mu_
};

}  // namespace

std::unique_ptr<Device> make_emulated_device(EmulatedOptions options) {
  return std::make_unique<EmulatedDevice>(options);
}

}  // namespace diskcache::gpu
