// The Offloader: device<->cache transfers ordered by events and by the
// staging blocks' gates, chunked through reference-counted staging blocks;
// offloads and loads each have a stream and an I/O thread.
#include "diskcache/gpu/offloader.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <variant>

#include "diskcache/gpu/staging_pool.hpp"

namespace diskcache::gpu {
namespace {

using Clock = std::chrono::steady_clock;

// The cache being written: a Cache or a FanoutCache.
struct TargetCache {
  std::variant<Cache*, FanoutCache*> target;

  bool set_chunks(const Value& key, const std::function<std::string_view()>& next, const SetOptions& options) {
    return std::visit([&](auto* c) { return c->set_chunks(key, next, options); }, target);
  }
  std::optional<ValueReader> open_value(const Value& key) {
    return std::visit([&](auto* c) { return c->open_value(key); }, target);
  }
  void side_put(const Value& name, const Value& value) {
    std::visit([&](auto* c) { c->side_put(kStatsSpace, name, value); }, target);
  }
  std::string directory() const {
    return std::visit([](auto* c) { return c->directory().string(); }, target);
  }
};

std::string default_stats_name(const Device& device) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + device.name();
}

// One transfer. Chunk i goes through slot i % slots() and is that slot's
// use i / slots() in this job. The slot's block gate (counter `base` when the
// job took the block) orders the copies with the I/O thread, on the device:
//   offload: the copy of chunk i waits until the chunk before it in the slot
//            has been written to disk (the gate at base + i / slots());
//   load:    the copy of chunk i waits until chunk i has been read into the
//            slot (base + i / slots() + 1).
// The I/O thread opens the gate one step per chunk written (offload) or read
// (load); abandon() opens every gate past the job's last copy.
struct Job {
  enum class Kind { Offload, Load } kind;
  Value key;
  unsigned char* device = nullptr;
  std::size_t bytes = 0, chunk_bytes = 0, chunks = 0;
  std::vector<BlockRef> blocks;
  std::vector<std::uint32_t> base;                   // each slot's gate counter when taken
  std::vector<std::shared_ptr<Event>> chunk_copied;  // per chunk, on the lane's stream
  std::shared_ptr<Event> finished;                   // after the job's last copy
  std::optional<ValueReader> reader;                 // load
  std::exception_ptr submit_error;                   // queuing the device work failed
  std::promise<void> done;
  Clock::time_point start = Clock::now();

  std::size_t slots() const { return blocks.size(); }
  std::size_t chunk_length(std::size_t i) const { return std::min(chunk_bytes, bytes - i * chunk_bytes); }
  unsigned char* staging(std::size_t i) const { return blocks[i % slots()]->data(); }
  Gate& gate(std::size_t i) const { return blocks[i % slots()]->gate(); }
  std::uint32_t step(std::size_t i) const { return base[i % slots()] + static_cast<std::uint32_t>(i / slots()); }

  // The gate value the copy of chunk i waits for.
  std::uint32_t copy_may_start(std::size_t i) const { return step(i) + (kind == Kind::Load ? 1 : 0); }
  // The I/O is done with chunk i (written, or read into its block).
  void io_done(std::size_t i) { raise_gate(i % slots(), step(i) + 1); }
  // Lets every copy of the job pass (a failed job's copies are unordered).
  void abandon() {
    for (std::size_t s = 0; s < slots(); ++s) raise_gate(s, base[s] + static_cast<std::uint32_t>(chunks) + 1);
  }

 private:
  // A slot's gate only ever opens further, whichever thread gets here last.
  void raise_gate(std::size_t slot, std::uint32_t value) {
    std::lock_guard lock(gate_mu);
    Gate& gate = blocks[slot]->gate();
    if (!gate_reached(gate.value(), value)) gate.open_to(value);
  }
  std::mutex gate_mu;
};

Ticket failed_ticket(std::exception_ptr error) {
  std::promise<void> promise;
  promise.set_exception(std::move(error));
  return {nullptr, promise.get_future().share()};
}

}  // namespace

// A direction's stream and I/O thread: offloads and loads never queue
// behind each other, on the device or at the disk.
struct Lane {
  std::unique_ptr<Stream> stream;
  std::mutex submit_mu;                    // queue order = stream order
  std::deque<std::shared_ptr<Job>> queue;  // guarded by Offloader::Impl::mu
  std::thread io;
};

struct Offloader::Impl {
  Impl(Device& d, TargetCache s, OffloaderOptions o)
      : device(d),
        store(s),
        options(std::move(o)),
        pool(d, options.block_bytes, std::max<std::size_t>(options.blocks, 2)),
        stats_name(options.stats_name.empty() ? default_stats_name(d) : options.stats_name) {
    for (Lane* lane : {&offload_lane, &load_lane}) lane->stream = device.create_stream();
    for (Lane* lane : {&offload_lane, &load_lane}) lane->io = std::thread([this, lane] { run_io(*lane); });
  }

  Device& device;
  TargetCache store;
  OffloaderOptions options;
  StagingPool pool;  // outlives the lanes' streams, which wait on its gates
  std::string stats_name;
  DirectionRecorder offloads, loads;
  Lane offload_lane, load_lane;

  std::mutex mu;
  std::condition_variable cv;
  std::size_t unfinished = 0;  // guarded by mu
  bool stopping = false;       // guarded by mu
  std::mutex publish_mu;
  Clock::time_point last_publish{};  // guarded by publish_mu

  Lane& lane_of(const Job& job) { return job.kind == Job::Kind::Offload ? offload_lane : load_lane; }

  std::shared_ptr<Job> new_job(Job::Kind kind, const Value& key, void* device_pointer, std::size_t bytes) {
    auto job = std::make_shared<Job>();
    job->kind = kind;
    job->key = key;
    job->device = static_cast<unsigned char*>(device_pointer);
    job->bytes = bytes;
    job->chunk_bytes = pool.block_bytes();
    job->chunks = (bytes + job->chunk_bytes - 1) / job->chunk_bytes;
    const std::size_t slots = std::clamp<std::size_t>(job->chunks, 1, 2);
    // Taken before the lane's submit_mu: a full pool waits for earlier jobs,
    // which need neither this thread nor that mutex to finish. All of a
    // job's blocks are taken at once: jobs each holding one and waiting for
    // a second would deadlock.
    for (StagingPool::Block* block : pool.acquire(slots)) {
      job->blocks.emplace_back(pool, *block);
      job->base.push_back(block->gate().value());
    }
    return job;
  }

  // Queues a job's device work on its lane's stream and hands the job to the
  // lane's I/O thread. If queuing fails part-way (a device error), the job's
  // gates are opened and it still goes to the I/O thread, which waits for
  // what was queued before returning its blocks; the ticket holds the error.
  template <class F>
  Ticket submit(const std::shared_ptr<Job>& job, F&& queue_device_work) {
    Lane& lane = lane_of(*job);
    std::lock_guard submit(lane.submit_mu);
    try {
      queue_device_work(*lane.stream);
    } catch (const std::exception&) {
      job->submit_error = std::current_exception();
      job->abandon();
      job->finished = device.record(*lane.stream);  // throws only if the device is gone altogether
    }
    Ticket ticket{job->finished, job->done.get_future().share()};
    std::lock_guard lock(mu);
    lane.queue.push_back(job);
    ++unfinished;
    cv.notify_all();
    return ticket;
  }

  void run_io(Lane& lane) {
    while (true) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !lane.queue.empty(); });
        if (lane.queue.empty()) return;
        job = lane.queue.front();
        lane.queue.pop_front();
      }
      std::exception_ptr error = job->submit_error;
      try {
        if (!error) job->kind == Job::Kind::Offload ? write_job(*job) : read_job(*job);
      } catch (...) {
        error = std::current_exception();
      }
      job->abandon();                // a failed job's remaining copies pass...
      job->finished->synchronize();  // ...and no copy touches its blocks any more
      job->blocks.clear();           // back to the pool
      job->reader.reset();
      (job->kind == Job::Kind::Offload ? offloads : loads).record(job->start, static_cast<std::int64_t>(job->bytes),
                                                                   !error);
      maybe_publish();
      error ? job->done.set_exception(error) : job->done.set_value();
      std::lock_guard lock(mu);
      --unfinished;
      cv.notify_all();
    }
  }

  // Streams the chunks into the cache as their copies complete; a block's
  // gate lets the next copy into it only once the write of its chunk has
  // returned.
  void write_job(Job& job) {
    std::size_t next = 0;
    const bool stored = store.set_chunks(
        job.key,
        [&]() -> std::string_view {
          if (next > 0) job.io_done(next - 1);
          if (next == job.chunks) return {};
          job.chunk_copied[next]->synchronize();
          const std::size_t i = next++;
          return {reinterpret_cast<const char*>(job.staging(i)), job.chunk_length(i)};
        },
        options.set_options);
    if (!stored) throw Timeout("offload: the shard for " + job.key.repr() + " in " + store.directory() + " stayed busy");
  }

  // Reads each chunk into its block once the copy of the chunk before it in
  // that block has completed, one thread per block (the chunks of a load are
  // read in parallel, and each block's gate is opened by one thread, in
  // order). A failing read abandons the job, so the other thread's waits end.
  void read_job(Job& job) {
    std::atomic<bool> failed{false};
    std::mutex error_mu;
    std::exception_ptr error;  // guarded by error_mu
    auto read_slot = [&](std::size_t slot) {
      try {
        for (std::size_t i = slot; i < job.chunks && !failed; i += job.slots()) {
          if (i >= job.slots()) job.chunk_copied[i - job.slots()]->synchronize();
          const std::size_t length = job.chunk_length(i);
          if (job.reader->read_at(job.staging(i), length, static_cast<std::int64_t>(i * job.chunk_bytes)) != length)
            throw CorruptCache("load: the value of " + job.key.repr() + " in " + store.directory() + " ended early");
          job.io_done(i);
        }
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!error) error = std::current_exception();
        failed = true;
        job.abandon();
      }
    };
    std::thread second_reader;
    if (job.slots() > 1) second_reader = std::thread(read_slot, 1);
    read_slot(0);
    if (second_reader.joinable()) second_reader.join();
    if (error) std::rethrow_exception(error);
  }

  void maybe_publish() {
    {
      std::lock_guard lock(publish_mu);
      if (Clock::now() - last_publish < options.publish_every) return;
      last_publish = Clock::now();
    }
    try {
      publish();
    } catch (const Error&) {
      // Statistics are best effort: a busy cache must not fail transfers.
    }
  }

  TransferReport report() const {
    TransferReport r;
    r.name = stats_name;
    r.device = device.name();
    r.pid = ::getpid();
    r.updated = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    r.offload = offloads.snapshot();
    r.load = loads.snapshot();
    r.pool = {static_cast<std::int64_t>(pool.capacity()), static_cast<std::int64_t>(pool.block_bytes()),
              static_cast<std::int64_t>(pool.in_use()), static_cast<std::int64_t>(pool.high_water())};
    return r;
  }
  void publish() { store.side_put(stats_name, to_value(report())); }

  void drain() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return unfinished == 0; });
  }
};

Offloader::Offloader(Device& device, Cache& cache, OffloaderOptions options)
    : impl_(std::make_unique<Impl>(device, TargetCache{&cache}, std::move(options))) {}
Offloader::Offloader(Device& device, FanoutCache& cache, OffloaderOptions options)
    : impl_(std::make_unique<Impl>(device, TargetCache{&cache}, std::move(options))) {}

Offloader::~Offloader() {
  impl_->drain();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  impl_->offload_lane.io.join();
  impl_->load_lane.io.join();
  try {
    impl_->publish();
  } catch (const Error&) {
  }
}

Ticket Offloader::offload(const Value& key, const void* device_source, std::size_t bytes, Stream& producer) {
  Impl& d = *impl_;
  auto job = d.new_job(Job::Kind::Offload, key, const_cast<void*>(device_source), bytes);
  return d.submit(job, [&](Stream& stream) {
    d.device.wait(stream, d.device.record(producer));
    for (std::size_t i = 0; i < job->chunks; ++i) {
      if (i >= job->slots()) d.device.wait_gate(stream, job->gate(i), job->copy_may_start(i));
      d.device.copy_to_host(job->staging(i), job->device + i * job->chunk_bytes, job->chunk_length(i), stream);
      job->chunk_copied.push_back(d.device.record(stream));
    }
    job->finished = job->chunks ? job->chunk_copied.back() : d.device.record(stream);
  });
}

Ticket Offloader::load(const Value& key, void* device_destination, std::size_t bytes, Stream& consumer) {
  Impl& d = *impl_;
  std::optional<ValueReader> reader;
  try {
    reader = d.store.open_value(key);
    if (!reader) throw KeyNotFound("load: no value for " + key.repr() + " in " + d.store.directory());
    if (reader->size() != static_cast<std::int64_t>(bytes))
      throw InvalidArgument("load: " + key.repr() + " in " + d.store.directory() + " holds " +
                            std::to_string(reader->size()) + " bytes, the destination " + std::to_string(bytes));
  } catch (const std::exception&) {
    d.loads.record(Clock::now(), 0, false);
    return failed_ticket(std::current_exception());
  }
  auto job = d.new_job(Job::Kind::Load, key, device_destination, bytes);
  job->reader = std::move(reader);
  return d.submit(job, [&](Stream& stream) {
    d.device.wait(stream, d.device.record(consumer));
    for (std::size_t i = 0; i < job->chunks; ++i) {
      d.device.wait_gate(stream, job->gate(i), job->copy_may_start(i));
      d.device.copy_to_device(job->device + i * job->chunk_bytes, job->staging(i), job->chunk_length(i), stream);
      job->chunk_copied.push_back(d.device.record(stream));
    }
    job->finished = job->chunks ? job->chunk_copied.back() : d.device.record(stream);
    d.device.wait(consumer, job->finished);
  });
}

void Offloader::drain() { impl_->drain(); }
TransferReport Offloader::stats() const { return impl_->report(); }
void Offloader::publish() { impl_->publish(); }

}  // namespace diskcache::gpu
