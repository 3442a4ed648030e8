// Value files: large values live in `<dir>/xx/yy/<28 hex>.val`, the names
// Python diskcache generates. Files are written under a temporary name and
// renamed into place; names read from the database are checked against that
// exact form and opened one path component at a time with O_NOFOLLOW, so a
// hostile row or a planted symlink never leads outside the directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "diskcache/file_layer.hpp"

struct stat;

namespace diskcache::detail {

// "a FIFO", "a folder", ... for messages about a file of mode `mode`.
const char* file_kind(unsigned mode) noexcept;

class ValueFiles {
 public:
  // Opens `directory` (which must exist). `durable`: fsync each file and its
  // folders before returning from a write. `max_read`: the most bytes read()
  // loads into memory. `layer`: the file operations (null: the system's).
  ValueFiles(const std::filesystem::path& directory, bool durable, std::int64_t max_read,
             std::shared_ptr<FileLayer> layer = nullptr);
  ~ValueFiles();
  ValueFiles(const ValueFiles&) = delete;
  ValueFiles& operator=(const ValueFiles&) = delete;

  // True for exactly "xx/yy/<28 lowercase hex>.val".
  static bool valid_name(std::string_view name) noexcept;

  // Writes `data` to a new value file; returns its relative name. The file
  // is complete (and synced when durable) before this returns. Throws
  // IoError naming the path (ENOSPC, EACCES, ...); nothing is left behind.
  std::string write(std::string_view data);
  // Like write, pulling chunks from `next_chunk` until it returns an empty
  // view (each view stays valid until the next call). Returns the name and
  // sets `size` to the bytes written.
  std::string write_chunks(const std::function<std::string_view()>& next_chunk, std::int64_t& size);

  // Reads a whole value file. std::nullopt when it does not exist (a
  // concurrent delete: a miss). Throws CorruptCache for an invalid name, a
  // symlink, a non-regular file or a size other than `expected_size` (the
  // row's claim, checked against the file before anything is allocated),
  // UnsupportedValue for a file larger than `max_read`,
  // IoError for read failures.
  std::optional<std::string> read(const std::string& name, std::int64_t expected_size);
  // Streams a value file to `out`; false when it does not exist.
  bool read_to(const std::string& name, std::int64_t expected_size, std::ostream& out);
  // Opens a value file for reading, as read() checks it; returns the file
  // descriptor (the caller closes it), or -1 when it does not exist. Sets
  // `*size` (when given) to the file's size.
  int open_sized(const std::string& name, std::int64_t expected_size, std::int64_t* size = nullptr);

  // Deletes a value file and, with `prune_folders`, its folders if that
  // leaves them empty (pass false when the folder is known to hold another
  // value: two rmdir calls saved). Never throws; invalid names are ignored.
  void remove(const std::string& name, bool prune_folders = true) noexcept;
  // "xx/yy" of a value file name.
  static std::string_view folder_of(std::string_view name) noexcept { return name.substr(0, 5); }

  // Size in bytes of a value file, or -1 when missing (check()).
  std::int64_t file_size(const std::string& name);
  std::string full_path(const std::string& name) const;
  const std::shared_ptr<FileLayer>& layer() const noexcept { return layer_; }

 private:
  int open_file(const std::string& name, struct stat& st);  // -1 when missing; `st` of the open file
  int open_by_walk(const std::string& name);  // openat per component, O_NOFOLLOW
  // The folder "xx/yy" the next value file goes to, open. It is reused for a
  // run of files (Python's names are fully random, which costs two mkdir and
  // two rmdir per value); the 112 bits of the file name stay random. `gone`:
  // the folder a create just found removed (it is opened again).
  struct Folder;
  std::shared_ptr<const Folder> take_folder(const Folder* gone);

  std::shared_ptr<FileLayer> layer_;
  std::mutex folder_mu_;
  std::shared_ptr<const Folder> folder_;  // guarded by folder_mu_
  int folder_uses_ = 0;  // guarded by folder_mu_
  std::filesystem::path dir_;
  int dir_fd_ = -1;
  bool durable_;
  std::int64_t max_read_;
};

}  // namespace diskcache::detail
