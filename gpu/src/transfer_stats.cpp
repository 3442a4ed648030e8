// Transfer statistics: accumulation per direction, and the dict published
// into the side table (see transfer_stats.hpp for its shape).
#include "diskcache/gpu/transfer_stats.hpp"

#include <algorithm>
#include <cmath>

namespace diskcache::gpu {
namespace {

Value direction_value(const DirectionStats& s) {
  return Value::dict({{"bytes", s.bytes},
                      {"operations", s.operations},
                      {"failures", s.failures},
                      {"latency_mean_ms", s.latency_mean_ms},
                      {"latency_p50_ms", s.latency_p50_ms},
                      {"latency_p95_ms", s.latency_p95_ms},
                      {"latency_p99_ms", s.latency_p99_ms},
                      {"throughput_bps", s.throughput_bps}});
}

// A field of an untrusted dict as a number; 0 when missing or not a number.
double number(const Value& dict, const char* field) {
  if (dict.type() != Value::Type::Dict) return 0;
  const Value* v = dict.find(Value(field));
  if (!v) return 0;
  if (v->type() == Value::Type::Int || v->type() == Value::Type::Float) {
    const double d = v->as_double();
    return std::isfinite(d) ? d : 0;
  }
  return 0;
}
std::int64_t integer(const Value& dict, const char* field) {
  if (dict.type() != Value::Type::Dict) return 0;
  const Value* v = dict.find(Value(field));
  return v && v->type() == Value::Type::Int ? v->as_int() : 0;
}
const Value& member(const Value& dict, const char* field) {
  static const Value none;
  if (dict.type() != Value::Type::Dict) return none;
  const Value* v = dict.find(Value(field));
  return v ? *v : none;
}

DirectionStats direction_from(const Value& v) {
  DirectionStats s;
  s.bytes = integer(v, "bytes");
  s.operations = integer(v, "operations");
  s.failures = integer(v, "failures");
  s.latency_mean_ms = number(v, "latency_mean_ms");
  s.latency_p50_ms = number(v, "latency_p50_ms");
  s.latency_p95_ms = number(v, "latency_p95_ms");
  s.latency_p99_ms = number(v, "latency_p99_ms");
  s.throughput_bps = number(v, "throughput_bps");
  return s;
}

}  // namespace

Value to_value(const TransferReport& r) {
  return Value::dict({{"device", r.device},
                      {"pid", r.pid},
                      {"updated", r.updated},
                      {"offload", direction_value(r.offload)},
                      {"load", direction_value(r.load)},
                      {"pool", Value::dict({{"blocks", r.pool.blocks},
                                            {"block_bytes", r.pool.block_bytes},
                                            {"in_use", r.pool.in_use},
                                            {"high_water", r.pool.high_water}})}});
}

TransferReport report_from_value(std::string name, const Value& v) {
  TransferReport r;
  r.name = std::move(name);
  const Value& device = member(v, "device");
  if (device.type() == Value::Type::Text) r.device = device.as_text().substr(0, 200);
  r.pid = integer(v, "pid");
  r.updated = number(v, "updated");
  r.offload = direction_from(member(v, "offload"));
  r.load = direction_from(member(v, "load"));
  const Value& pool = member(v, "pool");
  r.pool = {integer(pool, "blocks"), integer(pool, "block_bytes"), integer(pool, "in_use"),
            integer(pool, "high_water")};
  return r;
}

void DirectionRecorder::record(Clock::time_point start, std::int64_t bytes, bool ok) {
  const Clock::time_point end = Clock::now();
  const double ms = std::chrono::duration<double, std::milli>(end - start).count();
  std::lock_guard lock(mu_);
  ++totals_.operations;
  if (!ok) {
    ++totals_.failures;
    return;
  }
  totals_.bytes += bytes;
  latency_sum_ms_ += ms;
  latencies_ms_.push_back(ms);
  if (latencies_ms_.size() > kLatencyWindow) latencies_ms_.pop_front();
  // Busy time is the union of the transfers' intervals.
  const Clock::time_point from = std::max(start, busy_until_);
  if (end > from) busy_seconds_ += std::chrono::duration<double>(end - from).count();
  busy_until_ = std::max(busy_until_, end);
}

DirectionStats DirectionRecorder::snapshot() const {
  std::lock_guard lock(mu_);
  DirectionStats s = totals_;
  const std::int64_t succeeded = s.operations - s.failures;
  if (succeeded > 0) s.latency_mean_ms = latency_sum_ms_ / static_cast<double>(succeeded);
  if (!latencies_ms_.empty()) {
    std::vector<double> sorted(latencies_ms_.begin(), latencies_ms_.end());
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) { return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))]; };
    s.latency_p50_ms = at(0.50);
    s.latency_p95_ms = at(0.95);
    s.latency_p99_ms = at(0.99);
  }
  if (busy_seconds_ > 0) s.throughput_bps = static_cast<double>(s.bytes) / busy_seconds_;
  return s;
}

}  // namespace diskcache::gpu
