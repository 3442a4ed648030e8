#include "server_calls.hpp"

#include "diskcache/error.hpp"

namespace diskcache::redis::detail {

// The answers of one call, shared with the workers (a late answer lands
// here after the caller has gone).
struct ServerCalls::Round {
  std::mutex mu;
  std::condition_variable answered;
  std::vector<std::optional<std::int64_t>> results;  // guarded by mu
  std::vector<std::string> errors;                   // guarded by mu
  std::size_t pending = 0;                            // guarded by mu
};

struct ServerCalls::Worker {
  struct Job {
    std::function<std::int64_t(Link&)> call;
    Clock::time_point deadline;
    std::shared_ptr<Round> round;
    std::size_t index;
  };

  explicit Worker(Link& l) : link(l), thread([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    ready.notify_all();
    thread.join();
  }

  void post(Job job) {
    {
      std::lock_guard lock(mu);
      jobs.push_back(std::move(job));
    }
    ready.notify_all();
  }

  void loop() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu);
        ready.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      std::optional<std::int64_t> result;
      std::string error;
      if (Clock::now() >= job.deadline) {
        error = link.endpoint().url() + ": skipped, its deadline passed while the server was busy";
      } else {
        try {
          result = job.call(link);
        } catch (const Error& e) {
          error = e.what();
        }
      }
      std::lock_guard lock(job.round->mu);
      job.round->results[job.index] = result;
      job.round->errors[job.index] = std::move(error);
      --job.round->pending;
      job.round->answered.notify_all();
    }
  }

  Link& link;
  std::mutex mu;
  std::condition_variable ready;
  std::deque<Job> jobs;   // guarded by mu
  bool stopping = false;  // guarded by mu
  std::thread thread;     // last: starts once the rest is built
};

ServerCalls::ServerCalls(std::vector<Link*> links) {
  for (Link* link : links) workers_.push_back(std::make_unique<Worker>(*link));
}

ServerCalls::~ServerCalls() = default;

std::vector<std::optional<std::int64_t>> ServerCalls::run(
    const std::function<std::int64_t(Link&)>& call, Clock::time_point deadline,
    const std::function<bool(const std::vector<std::optional<std::int64_t>>&)>& enough, std::string& errors) {
  auto round = std::make_shared<Round>();
  round->results.resize(workers_.size());
  round->errors.resize(workers_.size());
  round->pending = workers_.size();
  for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i]->post({call, deadline, round, i});
  std::unique_lock lock(round->mu);
  round->answered.wait_until(lock, deadline, [&] { return round->pending == 0 || enough(round->results); });
  std::vector<std::optional<std::int64_t>> results = round->results;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    std::string error = round->errors[i];
    if (!results[i] && error.empty())
      error = workers_[i]->link.endpoint().url() + ": no answer within the call's deadline";
    if (!results[i]) errors += (errors.empty() ? "" : "; ") + error;
  }
  return results;
}

}  // namespace diskcache::redis::detail
