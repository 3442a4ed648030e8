// The pinned staging pool: reference-counted blocks, loud on misuse.
#include "diskcache/gpu/staging_pool.hpp"

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace diskcache::gpu {

StagingPool::StagingPool(Device& device, std::size_t block_bytes, std::size_t blocks)
    : device_(device), block_bytes_(block_bytes), blocks_(blocks) {
  if (block_bytes == 0 || blocks == 0) throw InvalidArgument("a staging pool needs at least one non-empty block");
  try {
    for (Block& block : blocks_) {
      block.data_ = static_cast<unsigned char*>(device_.allocate_pinned(block_bytes));
      block.bytes_ = block_bytes;
      block.gate_ = device_.create_gate();
      free_.push_back(&block);
    }
  } catch (...) {
    for (Block& block : blocks_)
      if (block.data_) device_.free_pinned(block.data_);
    throw;
  }
}

StagingPool::~StagingPool() {
  if (const std::size_t busy = in_use(); busy != 0) {
    std::fprintf(stderr, "diskcache::gpu::StagingPool destroyed with %zu block(s) in use\n", busy);
    std::abort();
  }
  for (Block& block : blocks_) device_.free_pinned(block.data_);
}

StagingPool::Block& StagingPool::acquire() { return *acquire(1).front(); }

std::vector<StagingPool::Block*> StagingPool::acquire(std::size_t count) {
  if (count == 0 || count > blocks_.size())
    throw InvalidArgument("staging pool: " + std::to_string(count) + " blocks asked of a pool of " +
                          std::to_string(blocks_.size()));
  std::unique_lock lock(mu_);
  freed_.wait(lock, [&] { return free_.size() >= count; });
  std::vector<Block*> taken(free_.end() - static_cast<std::ptrdiff_t>(count), free_.end());
  free_.resize(free_.size() - count);
  for (Block* block : taken) {
    if (block->refs_ != 0) throw std::logic_error("staging block handed out while still referenced");
    block->refs_ = 1;
  }
  high_water_ = std::max(high_water_, blocks_.size() - free_.size());
  return taken;
}

void StagingPool::add_ref(Block& block) {
  std::lock_guard lock(mu_);
  if (block.refs_ <= 0) throw std::logic_error("add_ref on a staging block that is not in use");
  ++block.refs_;
}

void StagingPool::release(Block& block) {
  std::lock_guard lock(mu_);
  if (block.refs_ <= 0) throw std::logic_error("staging block released more often than it was referenced");
  if (--block.refs_ == 0) {
    free_.push_back(&block);
    freed_.notify_all();  // waiters may need different counts
  }
}

std::size_t StagingPool::in_use() const {
  std::lock_guard lock(mu_);
  return blocks_.size() - free_.size();
}

std::size_t StagingPool::high_water() const {
  std::lock_guard lock(mu_);
  return high_water_;
}

}  // namespace diskcache::gpu
