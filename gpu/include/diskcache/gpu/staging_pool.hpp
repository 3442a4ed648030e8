// A pool of pinned host blocks through which the offloader moves data.
// Each block carries a Gate (made by the pool's device) whose counter only
// grows: a user of the block opens it as the block's contents become ready
// for the next device copy. Blocks are reference counted: a block returns to the pool when its last
// reference is dropped, never earlier. Misuse fails loudly: dropping more
// references than were taken throws std::logic_error, and destroying the pool
// while a block is in use aborts with a message (it would free memory that a
// copy or a write still touches).
//
// Thread-safety: all members may be called from any thread.
#pragma once

#include "diskcache/export.hpp"

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "diskcache/gpu/device.hpp"

namespace diskcache::gpu {

class DISKCACHE_EXPORT StagingPool {
 public:
  class Block {
   public:
    unsigned char* data() const noexcept { return data_; }
    std::size_t bytes() const noexcept { return bytes_; }
    Gate& gate() const noexcept { return *gate_; }

   private:
    friend class StagingPool;
    unsigned char* data_ = nullptr;
    std::size_t bytes_ = 0;
    std::unique_ptr<Gate> gate_;
    int refs_ = 0;  // guarded by the pool's mutex
  };

  // Allocates `blocks` pinned blocks of `block_bytes` each from `device`.
  StagingPool(Device& device, std::size_t block_bytes, std::size_t blocks);
  ~StagingPool();
  StagingPool(const StagingPool&) = delete;
  StagingPool& operator=(const StagingPool&) = delete;

  // Takes a free block (one reference), waiting until one is free.
  Block& acquire();
  // Takes `count` free blocks at once (one reference each), waiting until
  // that many are free: callers that need several never each hold part of
  // the pool while waiting for the rest (which deadlocks once every block is
  // held that way). Throws InvalidArgument when `count` exceeds the pool.
  std::vector<Block*> acquire(std::size_t count);
  // One more reference to a block in use.
  void add_ref(Block& block);
  // Drops a reference; at zero the block is free again.
  void release(Block& block);

  std::size_t block_bytes() const noexcept { return block_bytes_; }
  std::size_t capacity() const noexcept { return blocks_.size(); }
  std::size_t in_use() const;
  std::size_t high_water() const;

 private:
  Device& device_;
  std::size_t block_bytes_;
  std::vector<Block> blocks_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<Block*> free_;  // guarded by mu_
  std::size_t high_water_ = 0;  // guarded by mu_
};

// Holds one reference to a block for a scope.
class DISKCACHE_EXPORT BlockRef {
 public:
  BlockRef() = default;
  BlockRef(StagingPool& pool, StagingPool::Block& block) : pool_(&pool), block_(&block) {}
  BlockRef(BlockRef&& other) noexcept : pool_(other.pool_), block_(other.block_) { other.block_ = nullptr; }
  BlockRef& operator=(BlockRef&& other) noexcept {
    if (this != &other) {
      reset();
      pool_ = other.pool_;
      block_ = other.block_;
      other.block_ = nullptr;
    }
    return *this;
  }
  ~BlockRef() { reset(); }
  StagingPool::Block* get() const noexcept { return block_; }
  StagingPool::Block* operator->() const noexcept { return block_; }
  void reset() {
    if (block_) pool_->release(*std::exchange(block_, nullptr));
  }

 private:
  StagingPool* pool_ = nullptr;
  StagingPool::Block* block_ = nullptr;
};

}  // namespace diskcache::gpu
