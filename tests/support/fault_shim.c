/* A preloaded shim that injects file-layer failures for tests (LD_PRELOAD).
 * While armed through dc_fault_arm() (looked up with dlsym by the test):
 *   - write() to a file whose path contains `fragment` and ".tmp" fails with
 *     `write_errno` (ENOSPC, EIO, ...): a full or failing disk;
 *   - openat() creating a "*.tmp" file fails with `create_errno` (EACCES):
 *     an unwritable directory.
 * Everything else goes straight to the kernel. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int write_errno_ = 0;
static _Atomic int create_errno_ = 0;
static char fragment_[1024];

void dc_fault_arm(int write_errno, int create_errno, const char* fragment) {
  atomic_store(&write_errno_, 0);
  atomic_store(&create_errno_, 0);
  snprintf(fragment_, sizeof fragment_, "%s", fragment ? fragment : "");
  atomic_store(&write_errno_, write_errno);
  atomic_store(&create_errno_, create_errno);
}

static int is_target(int fd) {
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return strstr(path, fragment_) != NULL && strstr(path, ".tmp") != NULL;
}

ssize_t write(int fd, const void* buf, size_t count) {
  const int err = atomic_load(&write_errno_);
  if (err != 0 && is_target(fd)) {
    errno = err;
    return -1;
  }
  return syscall(SYS_write, fd, buf, count);
}

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & O_CREAT) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  const int err = atomic_load(&create_errno_);
  const size_t len = strlen(path);
  if (err != 0 && (flags & O_CREAT) && len > 4 && strcmp(path + len - 4, ".tmp") == 0) {
    errno = err;
    return -1;
  }
  return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}
