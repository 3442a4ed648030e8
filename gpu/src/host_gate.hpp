// A Gate whose counter the host can wait on: the emulated device's gates,
// the default Device::wait_gate (a blocking host function) and CUDA's
// fallback where the device cannot watch memory itself.
#pragma once

#include <cstdint>
#include <memory>

#include "diskcache/gpu/device.hpp"

namespace diskcache::gpu::detail {

class HostGate : public Gate {
 public:
  // A counter of its own, starting at 0.
  HostGate();
  // A counter at `word`, which the caller keeps alive longer than the gate
  // (CUDA: mapped pinned memory the device reads too).
  explicit HostGate(std::uint32_t* word);

  void open_to(std::uint32_t value) override;
  std::uint32_t value() const override;
  // Blocks until the counter has reached `target` (gate_reached).
  void wait_for(std::uint32_t target) const;
  std::uint32_t* word() const noexcept { return word_; }

 private:
  std::unique_ptr<std::uint32_t> own_;
  std::uint32_t* word_;
};

}  // namespace diskcache::gpu::detail
