// HostGate over std::atomic_ref: release stores, waits through the futex
// behind std::atomic wait/notify.
#include "host_gate.hpp"

#include <atomic>

namespace diskcache::gpu::detail {

HostGate::HostGate() : own_(std::make_unique<std::uint32_t>(0)), word_(own_.get()) {}
HostGate::HostGate(std::uint32_t* word) : word_(word) { std::atomic_ref(*word_).store(0, std::memory_order_release); }

void HostGate::open_to(std::uint32_t value) {
  std::atomic_ref counter(*word_);
  counter.store(value, std::memory_order_release);
  counter.notify_all();
}

std::uint32_t HostGate::value() const { return std::atomic_ref(*word_).load(std::memory_order_acquire); }

void HostGate::wait_for(std::uint32_t target) const {
  std::atomic_ref counter(*word_);
  for (std::uint32_t seen = counter.load(std::memory_order_acquire); !gate_reached(seen, target);
       seen = counter.load(std::memory_order_acquire))
    counter.wait(seen, std::memory_order_acquire);
}

}  // namespace diskcache::gpu::detail

namespace diskcache::gpu {

std::unique_ptr<Gate> Device::create_gate() { return std::make_unique<detail::HostGate>(); }

void Device::wait_gate(Stream& stream, Gate& gate, std::uint32_t value) {
  auto* host = dynamic_cast<detail::HostGate*>(&gate);
  if (!host) throw DeviceError(name() + ": wait_gate on a gate of another device");
  host_call(stream, [host, value] { host->wait_for(value); });
}

}  // namespace diskcache::gpu
