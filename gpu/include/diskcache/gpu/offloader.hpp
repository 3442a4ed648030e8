// diskcache::gpu::Offloader: moves device buffers into a Cache or FanoutCache
// and back, ordered by device events so that no copy reads a buffer before
// its producer finished or overwrites one a consumer still reads.
//
//   offload(key, src, bytes, producer):
//     the offload stream waits on an event recorded on `producer` now; chunks are
//     copied device->host into pinned staging blocks; the I/O thread writes
//     each chunk to the value file once its copy has finished and only then
//     lets the block be reused; the row commits (atomically, fsynced when the
//     cache is durable) after the last chunk. ticket.source_free completes
//     when src may be overwritten; ticket.done when the value is stored.
//   load(key, dst, bytes, consumer):
//     the value is opened now (a missing key, a non-bytes value or a size
//     other than `bytes` fails the ticket before anything is queued, so dst
//     is never partly written by them); the load stream waits on an event
//     recorded on `consumer` now (dst may still be in use there); two reader
//     threads (one per staging block) read the chunks into their blocks, the
//     load stream copies each host->device once it was read, and a block is
//     refilled only after that copy finished.
//     `consumer` is made to wait on ticket.source_free (here: "dst is
//     filled"), so its later work sees the data; ticket.done completes after
//     the last copy. A read error part-way fails the ticket and leaves dst's
//     contents unspecified.
//
// Large buffers move in chunks of the pool's block size through two blocks
// per transfer, so copying one chunk overlaps the disk I/O of the previous;
// a block's next copy waits at the block's Gate on the device, never in a
// host function. Offloads run in submission order on a stream and an I/O
// thread of their own, loads on another pair, so neither direction waits
// behind the other.
//
// A transfer's errors (cache, file, device) are reported in its ticket;
// offload/load throw only when the device fails so badly that not even an
// event can be recorded.
//
// Thread-safety: offload/load/stats may be called from any thread. The
// destructor waits for all transfers; afterwards the pool has no block in use.
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <string>

#include "diskcache/cache.hpp"
#include "diskcache/fanout.hpp"
#include "diskcache/gpu/device.hpp"
#include "diskcache/gpu/transfer_stats.hpp"

namespace diskcache::gpu {

struct DISKCACHE_EXPORT OffloaderOptions {
  std::size_t block_bytes = std::size_t{8} << 20;  // chunk size
  std::size_t blocks = 4;                          // pinned staging blocks (>= 2)
  // Side-table row the statistics are published under (space "gpu").
  // Empty: "<host>:<pid>:<device>".
  std::string stats_name;
  // Statistics are published at most this often, and at shutdown.
  std::chrono::milliseconds publish_every{200};
  // Options for stored values (expire, tag).
  SetOptions set_options;
};

struct DISKCACHE_EXPORT Ticket {
  // offload: the source buffer may be reused. load: the destination holds the
  // value (the consumer stream already waits on it). Null when the transfer
  // failed before anything was queued.
  std::shared_ptr<Event> source_free;
  // Completes when the transfer is finished: stored (offload) or copied
  // (load); holds the error otherwise.
  std::shared_future<void> done;
};

class DISKCACHE_EXPORT Offloader {
 public:
  Offloader(Device& device, Cache& cache, OffloaderOptions options = {});
  Offloader(Device& device, FanoutCache& cache, OffloaderOptions options = {});
  ~Offloader();
  Offloader(const Offloader&) = delete;
  Offloader& operator=(const Offloader&) = delete;

  Ticket offload(const Value& key, const void* device_source, std::size_t bytes, Stream& producer);
  Ticket load(const Value& key, void* device_destination, std::size_t bytes, Stream& consumer);

  // Waits until every transfer submitted so far has finished.
  void drain();
  TransferReport stats() const;
  // Writes the statistics into the side table now.
  void publish();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace diskcache::gpu
