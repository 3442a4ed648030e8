// The Offloader: device<->cache transfers ordered by events, chunked through
// reference-counted staging blocks, written and read by one I/O thread.
#include "diskcache/gpu/offloader.hpp"

#include <unistd.h>

#include <algorithm>
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

// One transfer. Chunk i goes through slot i % slots.size(). Each slot's
// `mark` tells the copy stream's gate which chunk may use the slot's block:
//   offload: the chunk that may be copied into it (the previous chunk in it
//            has been written to disk);
//   load:    the chunk whose bytes it holds, ready to be copied to the device.
struct Job {
  enum class Kind { Offload, Load } kind;
  Value key;
  unsigned char* device = nullptr;
  std::size_t bytes = 0, chunk_bytes = 0, chunks = 0;
  std::vector<BlockRef> blocks;
  std::vector<std::shared_ptr<Event>> chunk_copied;  // per chunk, on the copy stream
  std::shared_ptr<Event> finished;                   // after the job's last copy
  std::optional<ValueReader> reader;                 // load
  std::exception_ptr submit_error;                   // queuing the device work failed
  std::promise<void> done;
  Clock::time_point start = Clock::now();

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> marks;  // guarded by mu
  bool abandoned = false;           // guarded by mu: a failed job lets its gates pass

  std::size_t chunk_length(std::size_t i) const { return std::min(chunk_bytes, bytes - i * chunk_bytes); }
  unsigned char* staging(std::size_t i) const { return blocks[i % blocks.size()]->data(); }

  void wait_mark(std::size_t i) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return abandoned || marks[i % blocks.size()] >= static_cast<std::int64_t>(i); });
  }
  void set_mark(std::size_t slot, std::int64_t value) {
    std::lock_guard lock(mu);
    marks[slot] = value;
    cv.notify_all();
  }
  void abandon() {
    std::lock_guard lock(mu);
    abandoned = true;
    cv.notify_all();
  }
};

Ticket failed_ticket(std::exception_ptr error) {
  std::promise<void> promise;
  promise.set_exception(std::move(error));
  return {nullptr, promise.get_future().share()};
}

}  // namespace

struct Offloader::Impl {
  Impl(Device& d, TargetCache s, OffloaderOptions o)
      : device(d),
        store(s),
        options(std::move(o)),
        pool(d, options.block_bytes, std::max<std::size_t>(options.blocks, 2)),
        copy_stream(d.create_stream()),
        stats_name(options.stats_name.empty() ? default_stats_name(d) : options.stats_name),
        io([this] { run_io(); }) {}

  Device& device;
  TargetCache store;
  OffloaderOptions options;
  StagingPool pool;
  std::unique_ptr<Stream> copy_stream;
  std::string stats_name;
  DirectionRecorder offloads, loads;

  std::mutex submit_mu;  // queue order = copy-stream order
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Job>> queue;  // guarded by mu
  std::size_t unfinished = 0;              // guarded by mu
  bool stopping = false;                   // guarded by mu
  Clock::time_point last_publish{};        // I/O thread only
  std::thread io;

  std::shared_ptr<Job> new_job(Job::Kind kind, const Value& key, void* device_pointer, std::size_t bytes) {
    auto job = std::make_shared<Job>();
    job->kind = kind;
    job->key = key;
    job->device = static_cast<unsigned char*>(device_pointer);
    job->bytes = bytes;
    job->chunk_bytes = pool.block_bytes();
    job->chunks = (bytes + job->chunk_bytes - 1) / job->chunk_bytes;
    const std::size_t slots = std::clamp<std::size_t>(job->chunks, 1, 2);
    // Taken before submit_mu: a full pool waits for earlier jobs, which need
    // neither this thread nor that mutex to finish. All of a job's blocks
    // are taken at once: jobs each holding one and waiting for a second
    // would deadlock.
    for (StagingPool::Block* block : pool.acquire(slots)) job->blocks.emplace_back(pool, *block);
    job->marks.assign(slots, kind == Job::Kind::Offload ? 0 : -1);
    for (std::size_t s = 0; s < slots && kind == Job::Kind::Offload; ++s) job->marks[s] = static_cast<std::int64_t>(s);
    return job;
  }

  // Queues a job's device work (in copy-stream order) and hands the job to
  // the I/O thread. If queuing fails part-way (a device error), the job's
  // gates are opened and it still goes to the I/O thread, which waits for
  // what was queued before returning its blocks; the ticket holds the error.
  template <class F>
  Ticket submit(const std::shared_ptr<Job>& job, F&& queue_device_work) {
    std::lock_guard submit(submit_mu);
    try {
      queue_device_work();
    } catch (const std::exception&) {
      job->submit_error = std::current_exception();
      job->abandon();
      job->finished = device.record(*copy_stream);  // throws only if the device is gone altogether
    }
    return enqueue(job);
  }

  Ticket enqueue(const std::shared_ptr<Job>& job) {
    Ticket ticket{job->finished, job->done.get_future().share()};
    std::lock_guard lock(mu);
    queue.push_back(job);
    ++unfinished;
    cv.notify_all();
    return ticket;
  }

  void run_io() {
    while (true) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        job = queue.front();
        queue.pop_front();
      }
      std::exception_ptr error = job->submit_error;
      try {
        if (!error) job->kind == Job::Kind::Offload ? write_job(*job) : read_job(*job);
      } catch (...) {
        error = std::current_exception();
      }
      job->abandon();                // a failed job's remaining gates pass...
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

  // Streams the chunks into the cache as their copies complete; a block is
  // handed back to its gate only once the write of its chunk has returned.
  void write_job(Job& job) {
    std::size_t next = 0;
    const bool stored = store.set_chunks(
        job.key,
        [&]() -> std::string_view {
          if (next > 0) job.set_mark((next - 1) % job.blocks.size(), static_cast<std::int64_t>(next - 1 + job.blocks.size()));
          if (next == job.chunks) return {};
          job.chunk_copied[next]->synchronize();
          const std::size_t i = next++;
          return {reinterpret_cast<const char*>(job.staging(i)), job.chunk_length(i)};
        },
        options.set_options);
    if (!stored) throw Timeout("offload: the shard for " + job.key.repr() + " in " + store.directory() + " stayed busy");
  }

  // Reads each chunk into its block once the copy of the chunk before it in
  // that block has completed.
  void read_job(Job& job) {
    for (std::size_t i = 0; i < job.chunks; ++i) {
      if (i >= job.blocks.size()) job.chunk_copied[i - job.blocks.size()]->synchronize();
      unsigned char* out = job.staging(i);
      std::size_t got = 0;
      while (got < job.chunk_length(i)) {
        const std::size_t n = job.reader->read(out + got, job.chunk_length(i) - got);
        if (n == 0)
          throw CorruptCache("load: the value of " + job.key.repr() + " in " + store.directory() + " ended early");
        got += n;
      }
      job.set_mark(i % job.blocks.size(), static_cast<std::int64_t>(i));
    }
  }

  void maybe_publish() {
    if (Clock::now() - last_publish < options.publish_every) return;
    last_publish = Clock::now();
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
  impl_->io.join();
  try {
    impl_->publish();
  } catch (const Error&) {
  }
}

Ticket Offloader::offload(const Value& key, const void* device_source, std::size_t bytes, Stream& producer) {
  Impl& d = *impl_;
  auto job = d.new_job(Job::Kind::Offload, key, const_cast<void*>(device_source), bytes);
  return d.submit(job, [&] {
    d.device.wait(*d.copy_stream, d.device.record(producer));
    for (std::size_t i = 0; i < job->chunks; ++i) {
      if (i >= job->blocks.size()) d.device.host_call(*d.copy_stream, [job, i] { job->wait_mark(i); });
      d.device.copy_to_host(job->staging(i), job->device + i * job->chunk_bytes, job->chunk_length(i), *d.copy_stream);
      job->chunk_copied.push_back(d.device.record(*d.copy_stream));
    }
    job->finished = job->chunks ? job->chunk_copied.back() : d.device.record(*d.copy_stream);
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
  return d.submit(job, [&] {
    d.device.wait(*d.copy_stream, d.device.record(consumer));
    for (std::size_t i = 0; i < job->chunks; ++i) {
      d.device.host_call(*d.copy_stream, [job, i] { job->wait_mark(i); });
      d.device.copy_to_device(job->device + i * job->chunk_bytes, job->staging(i), job->chunk_length(i),
                              *d.copy_stream);
      job->chunk_copied.push_back(d.device.record(*d.copy_stream));
    }
    job->finished = job->chunks ? job->chunk_copied.back() : d.device.record(*d.copy_stream);
    d.device.wait(consumer, job->finished);
  });
}

void Offloader::drain() { impl_->drain(); }
TransferReport Offloader::stats() const { return impl_->report(); }
void Offloader::publish() { impl_->publish(); }

}  // namespace diskcache::gpu
