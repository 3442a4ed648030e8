#include "diskcache/layout.hpp"

#include <cstdio>

namespace diskcache {
namespace {

constexpr const char* kDatabase = "cache.db";

std::filesystem::path shard_folder(const std::filesystem::path& dir, std::size_t i) {
  char name[8];
  std::snprintf(name, sizeof name, "%03zu", i);
  return dir / name;
}

}  // namespace

std::vector<std::filesystem::path> Layout::change_files() const {
  std::vector<std::filesystem::path> files;
  for (const auto& db : databases) {
    files.push_back(db);
    files.push_back(std::filesystem::path(db.string() + "-wal"));
  }
  return files;
}

Layout detect_layout(const std::filesystem::path& directory) {
  Layout layout;
  layout.directory = directory;
  std::error_code ec;
  if (std::filesystem::exists(directory / kDatabase, ec)) {
    layout.kind = Layout::Kind::Plain;
    layout.databases.push_back(directory / kDatabase);
    return layout;
  }
  for (std::size_t i = 0; i < 1000; ++i) {
    const auto db = shard_folder(directory, i) / kDatabase;
    if (!std::filesystem::exists(db, ec)) break;
    layout.databases.push_back(db);
  }
  if (!layout.databases.empty()) layout.kind = Layout::Kind::Fanout;
  return layout;
}

}  // namespace diskcache
