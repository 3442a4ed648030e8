// Offload/load bandwidth of diskcache::gpu beside plain sequential file
// write/read of the same bytes, and Python diskcache storing/reading them,
// in one run with interleaved repetitions (warm page cache, no fsync; the
// dirty pages of one measure are synced before the next write, untimed).
//
//   bench_gpu [--backend emulated|cuda] [--mib 256] [--reps 5] [--block-mib 8]
//             [--python /usr/bin/python3] [--json FILE] DIR
//
// Prints, per measure, the median GB/s with min-max spread and the ratio to
// the plain file. For the CUDA backend it also measures the device's own
// chunked device->host and host->device copy rate into pinned memory (the
// "cudaMemcpyAsync peak" the design targets at >= 90%).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "diskcache/diskcache.hpp"
#include "diskcache/gpu/cuda_device.hpp"
#include "diskcache/gpu/emulated_device.hpp"
#include "diskcache/gpu/offloader.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace diskcache;
using namespace diskcache::gpu;

double seconds_since(SteadyClock::time_point t) { return std::chrono::duration<double>(SteadyClock::now() - t).count(); }

void write_file(const std::string& path, const unsigned char* data, std::size_t bytes, std::size_t chunk) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open " + temp);
  for (std::size_t off = 0; off < bytes; off += chunk) {
    const std::size_t n = std::min(chunk, bytes - off);
    if (::write(fd, data + off, n) != static_cast<ssize_t>(n)) throw std::runtime_error("write " + temp);
  }
  ::close(fd);
  std::filesystem::rename(temp, path);  // replaces the previous copy, as a cache set does
}

void read_file(const std::string& path, unsigned char* out, std::size_t bytes, std::size_t chunk) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + path);
  for (std::size_t off = 0; off < bytes; off += chunk) {
    const std::size_t n = std::min(chunk, bytes - off);
    if (::read(fd, out + off, n) != static_cast<ssize_t>(n)) throw std::runtime_error("read " + path);
  }
  ::close(fd);
}

// Python diskcache storing and reading the same number of bytes: seconds for
// set and for get, measured inside Python.
std::pair<double, double> python_round(const std::string& python, const std::string& dir, std::size_t bytes) {
  const std::string cmd = python +
                          " -c \"import sys,time,diskcache; c=diskcache.Cache(sys.argv[1]); b=bytes(int(sys.argv[2])); "
                          "t=time.perf_counter(); c.set('k', b); s=time.perf_counter()-t; "
                          "t=time.perf_counter(); v=c.get('k'); g=time.perf_counter()-t; "
                          "assert len(v)==len(b); print(s, g)\" " +
                          dir + " " + std::to_string(bytes);
  FILE* p = ::popen(cmd.c_str(), "r");
  double s = 0, g = 0;
  if (!p || std::fscanf(p, "%lf %lf", &s, &g) != 2) s = g = 0;
  if (p) ::pclose(p);
  return {s, g};
}

struct Series {
  std::vector<double> gbps;
  void add(std::size_t bytes, double seconds) { gbps.push_back(seconds > 0 ? bytes / seconds / 1e9 : 0); }
  double median() const {
    auto v = gbps;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  double min() const { return gbps.empty() ? 0 : *std::min_element(gbps.begin(), gbps.end()); }
  double max() const { return gbps.empty() ? 0 : *std::max_element(gbps.begin(), gbps.end()); }
};

}  // namespace

int main(int argc, char** argv) {
  std::string backend = "emulated", python = "/usr/bin/python3", json, dir;
  std::size_t mib = 256, block_mib = 8;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--backend") backend = next();
    else if (a == "--mib") mib = std::stoul(next());
    else if (a == "--block-mib") block_mib = std::stoul(next());
    else if (a == "--reps") reps = std::stoi(next());
    else if (a == "--python") python = next();
    else if (a == "--json") json = next();
    else dir = a;
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: bench_gpu [--backend emulated|cuda] [--mib N] [--reps N] [--json FILE] DIR\n");
    return 2;
  }
  std::unique_ptr<Device> device;
  try {
    device = backend == "cuda" ? make_cuda_device(0) : make_emulated_device({.poison = false});
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_gpu: %s\n", e.what());
    return 3;
  }
  const std::size_t bytes = mib << 20, block = block_mib << 20;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/plain");
  Cache cache(dir + "/cache");
  Offloader offloader(*device, cache, {.block_bytes = block, .blocks = 4});
  auto stream = device->create_stream();
  auto* src = static_cast<unsigned char*>(device->allocate_device(bytes));
  auto* dst = static_cast<unsigned char*>(device->allocate_device(bytes));
  auto* host = static_cast<unsigned char*>(device->allocate_pinned(bytes));
  for (std::size_t i = 0; i < bytes; ++i) host[i] = static_cast<unsigned char>(i * 131 + (i >> 20));
  device->copy_to_device(src, host, bytes, *stream);
  device->synchronize(*stream);

  std::map<std::string, Series> s;
  const std::string plain = dir + "/plain/data";
  for (int rep = 0; rep < reps + 1; ++rep) {  // the first round warms up and is not counted
    const bool count = rep > 0;
    // Writes start from a clean page cache (sync outside the timed region),
    // so one writer does not pay for the other's dirty pages; they alternate
    // who goes first.
    auto time_plain_write = [&] {
      ::sync();
      const auto t0 = SteadyClock::now();
      write_file(plain, host, bytes, block);
      if (count) s["file write"].add(bytes, seconds_since(t0));
    };
    auto time_offload = [&] {
      ::sync();
      const auto t0 = SteadyClock::now();
      offloader.offload("tensor", src, bytes, *stream).done.get();
      if (count) s["offload"].add(bytes, seconds_since(t0));
    };
    if (rep % 2) {
      time_plain_write();
      time_offload();
    } else {
      time_offload();
      time_plain_write();
    }
    auto t = SteadyClock::now();
    read_file(plain, host, bytes, block);
    if (count) s["file read"].add(bytes, seconds_since(t));
    t = SteadyClock::now();
    offloader.load("tensor", dst, bytes, *stream).done.get();
    if (count) s["load"].add(bytes, seconds_since(t));
    // The device's own chunked copy rate (no disk): the peak to compare with.
    t = SteadyClock::now();
    for (std::size_t off = 0; off < bytes; off += block)
      device->copy_to_host(host + off, src + off, std::min(block, bytes - off), *stream);
    device->synchronize(*stream);
    if (count) s["device->host copy"].add(bytes, seconds_since(t));
    t = SteadyClock::now();
    for (std::size_t off = 0; off < bytes; off += block)
      device->copy_to_device(dst + off, host + off, std::min(block, bytes - off), *stream);
    device->synchronize(*stream);
    if (count) s["host->device copy"].add(bytes, seconds_since(t));
    if (!python.empty() && count) {
      ::sync();
      auto [set_s, get_s] = python_round(python, dir + "/python", bytes);
      if (set_s > 0) s["python set"].add(bytes, set_s);
      if (get_s > 0) s["python get"].add(bytes, get_s);
    }
  }
  // Integrity: what was loaded equals what was offloaded.
  device->copy_to_host(host, dst, bytes, *stream);
  device->synchronize(*stream);
  for (std::size_t i = 0; i < bytes; ++i)
    if (host[i] != static_cast<unsigned char>(i * 131 + (i >> 20))) {
      std::fprintf(stderr, "bench_gpu: loaded bytes differ at %zu\n", i);
      return 1;
    }

  std::printf("%s backend, %zu MiB in %zu MiB chunks, %d repetitions (median GB/s, min-max)\n",
              device->name().c_str(), mib, block_mib, reps);
  auto line = [&](const char* name, const char* base) {
    if (!s.count(name)) return;
    std::printf("  %-18s %6.2f GB/s  (%.2f-%.2f)", name, s[name].median(), s[name].min(), s[name].max());
    if (base && s.count(base)) std::printf("  = %3.0f%% of %s", 100 * s[name].median() / s[base].median(), base);
    std::printf("\n");
  };
  line("file write", nullptr);
  line("offload", "file write");
  line("python set", "file write");
  line("file read", nullptr);
  line("load", "file read");
  line("python get", "file read");
  line("device->host copy", nullptr);
  line("host->device copy", nullptr);
  if (!json.empty()) {
    std::ofstream out(json);
    out << "{\"backend\": \"" << device->name() << "\", \"mib\": " << mib << ", \"block_mib\": " << block_mib
        << ", \"reps\": " << reps << ", \"gbps\": {";
    bool first = true;
    for (auto& [name, series] : s) {
      out << (first ? "" : ", ") << "\"" << name << "\": [";
      for (std::size_t i = 0; i < series.gbps.size(); ++i) out << (i ? ", " : "") << series.gbps[i];
      out << "]";
      first = false;
    }
    out << "}}\n";
  }
  device->free_pinned(host);
  device->free_device(dst);
  device->free_device(src);
  return 0;
}
