// Caches on real, small or read-only mounts (tmpfs; needs root to mount):
// a disk the database itself filled can still delete and cull, errors name
// the key; a cleanly closed cache on a read-only mount opens read-only.
#include <sys/mount.h>
#include <unistd.h>

#include <QtTest>

#include "diskcache/cache.hpp"
#include "diskcache/error.hpp"
#include "diskcache/primitives.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {

// A tmpfs of `size` mounted at `path` for the life of the object.
class SmallMount {
 public:
  SmallMount(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path);
    ok_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0755").c_str()) == 0;
  }
  ~SmallMount() {
    if (ok_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  bool remount_read_only() {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::string path_;
  bool ok_ = false;
};

template <class F>
IoError io_error_of(F&& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e;
  }
  return IoError("<no IoError>", 0);
}

}  // namespace

class TestMedia : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private slots:
  void initTestCase() {
    if (::geteuid() != 0) QSKIP("mounting a tmpfs needs root (CI runs as root)");
  }

  // Issue 18.9: the database fills the disk; deleting and culling still
  // work (the cache gives back a reserve it keeps), errors name the key, and
  // Python can open the cache again afterwards.
  void full_disk_can_always_free_space() {
    const std::string mount_point = (tmp_.path() + "/full").toStdString();
    SmallMount mount(mount_point, "3m");
    QVERIFY(mount.ok());
    const std::string dir = mount_point + "/cache";
    Cache cache(dir, Options{.settings = {.min_file_size = 1 << 20}});
    // Opened while there is room: opening writes its settings, which a full
    // disk refuses (or not, as the WAL's free frames happen to allow).
    Cache files(dir, Options{.settings = {.min_file_size = 1024}});
    Lock held(cache, "held");
    held.lock();
    const Value payload = Bytes(std::string(16 << 10, 'x'));
    int stored = 0;
    IoError full("", 0);
    for (;; ++stored) {
      try {
        cache.set(stored, payload);
      } catch (const IoError& e) {
        full = e;
        break;
      }
      QVERIFY(stored < 1000);
    }
    QVERIFY2(stored > 10, full.what());
    QCOMPARE(full.error_code(), ENOSPC);
    QVERIFY2(std::string(full.what()).find("for key " + std::to_string(stored)) != std::string::npos, full.what());

    // A value file that cannot be written names its key too.
    const IoError file_full = io_error_of([&] { files.set("big file", Bytes(std::string(2 << 20, 'f'))); });
    QCOMPARE(file_full.error_code(), ENOSPC);
    QVERIFY2(std::string(file_full.what()).find("'big file'") != std::string::npos, file_full.what());

    // Nothing can be added, yet everything can be removed. A lock's release
    // works too (here its commit may still fit in WAL pages written before;
    // the erase below is the change that needs the reserve).
    held.release();
    QVERIFY(!held.owns_lock());
    QVERIFY(cache.erase(0));
    QVERIFY(cache.pop(1).has_value());
    QVERIFY(cache.cull() >= 0);
    QCOMPARE(cache.clear(), std::int64_t(stored - 2));
    QCOMPARE(cache.size(), std::int64_t{0});
    QVERIFY(cache.set("after", 1));  // and space is usable again
    const auto r = run_python("pyexec.py", {QString::fromStdString(dir), "len(cache)"});
    EXPECT_RUN_OK(r);
    QCOMPARE(r.out.trimmed(), QByteArray("1"));
  }

  // Issue 18.10: a cleanly closed cache (no -wal, no -shm) on read-only
  // media opens read-only and shows its data.
  void read_only_media_open_read_only() {
    const std::string mount_point = (tmp_.path() + "/ro").toStdString();
    SmallMount mount(mount_point, "4m");
    QVERIFY(mount.ok());
    const std::string dir = mount_point + "/cache";
    {
      Cache cache(dir);
      cache.set("k", "v");
      cache.set("file", Bytes(std::string(100000, 'f')));
    }
    QVERIFY(!std::filesystem::exists(dir + "/cache.db-wal"));
    QVERIFY(mount.remount_read_only());
    Options ro;
    ro.read_only = true;
    Cache cache(dir, ro);
    QCOMPARE(cache.get("k"), std::optional<Value>("v"));
    QCOMPARE(cache.get("file")->as_bytes().size(), std::size_t{100000});
    QCOMPARE(cache.size(), std::int64_t{2});
    std::vector<Value> keys(cache.keys().begin(), cache.keys().end());
    QCOMPARE(keys.size(), std::size_t{2});
    QVERIFY(cache.check().empty());
    QVERIFY_THROWS_EXCEPTION(Error, Cache{dir});  // a writable open says why it cannot
  }
};

QTEST_GUILESS_MAIN(TestMedia)
#include "tst_media.moc"
