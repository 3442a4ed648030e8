#include "keys_model.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <QDateTime>
#include <QtConcurrent/QtConcurrentRun>
#include <memory>

#include "diskcache/pickle.hpp"

namespace dcview {
namespace {

const char* order_by(int column) {
  switch (column) {
    case KeysModel::Kind: return "mode";
    case KeysModel::Size: return "stored_size";
    case KeysModel::Stored: return "store_time";
    case KeysModel::Expires: return "expire_time";
    case KeysModel::Tag: return "tag";
    default: return "key";
  }
}

// A stored key as text, decoded the way Python stored it (untrusted bytes).
QString key_cell(sqlite3_stmt* st, int col, bool raw) {
  const int type = sqlite3_column_type(st, col);
  const auto* data = static_cast<const char*>(sqlite3_column_blob(st, col));
  const int size = sqlite3_column_bytes(st, col);
  if (type == SQLITE_INTEGER) return QString::number(sqlite3_column_int64(st, col));
  if (type == SQLITE_FLOAT) return QString::number(sqlite3_column_double(st, col), 'g', 17);
  if (type == SQLITE_TEXT) return QString::fromUtf8(data, size);
  if (type == SQLITE_BLOB && raw) return QString::fromStdString(diskcache::Value(diskcache::Bytes(std::string(data, size))).repr());
  if (type == SQLITE_BLOB) {
    try {
      diskcache::pickle::DecodeLimits limits;
      limits.max_output = 1 << 16;
      return QString::fromStdString(diskcache::pickle::decode(std::string_view(data, size), limits).repr());
    } catch (const std::exception&) {
      return QString("<undecodable pickle, %1 bytes>").arg(size);
    }
  }
  return "None";
}

QString kind_cell(int mode, int value_type) {
  switch (mode) {
    case 1:
      return value_type == SQLITE_INTEGER ? "int" : value_type == SQLITE_FLOAT ? "float"
             : value_type == SQLITE_TEXT ? "str" : "bytes";
    case 2: return "bytes (file)";
    case 3: return "str (file)";
    case 4: return "pickle";
    default: return "?";
  }
}

KeysModel::Page run_query(QString db_path, QString search, int column, Qt::SortOrder order, qint64 offset,
                          qint64 limit, bool replace, quint64 generation) {
  KeysModel::Page page;
  page.generation = generation;
  page.offset = offset;
  page.replace = replace;
  // Nothing in the directory is trusted: a FIFO would block the open for
  // ever, a symlink would browse another database.
  struct stat db_stat {};
  if (::lstat(db_path.toUtf8().constData(), &db_stat) == 0 && !S_ISREG(db_stat.st_mode)) {
    page.error = QString("refusing %1: not a regular file").arg(db_path);
    return page;
  }
  sqlite3* raw_db = nullptr;
  const int rc = sqlite3_open_v2(db_path.toUtf8().constData(), &raw_db,
                                 SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw_db, &sqlite3_close);
  if (rc != SQLITE_OK) {
    page.error = QString("cannot open %1: %2").arg(db_path, raw_db ? sqlite3_errmsg(raw_db) : "out of memory");
    return page;
  }
  sqlite3_busy_timeout(db.get(), 2000);
  QString where;
  QByteArray pattern;
  QByteArray needle;
  if (!search.isEmpty()) {
    // Text and numbers through LIKE; bytes and pickled keys by their bytes
    // (a pickle holds its strings verbatim, but also NULs LIKE stops at).
    where = " WHERE (typeof(key) != 'blob' AND CAST(key AS TEXT) LIKE ?1 ESCAPE '\\')"
            " OR (typeof(key) = 'blob' AND instr(key, ?2) > 0)";
    QString escaped = search;
    escaped.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    pattern = ("%" + escaped + "%").toUtf8();
    needle = search.toUtf8();
  }
  auto prepare = [&](const QString& sql) -> sqlite3_stmt* {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.toUtf8().constData(), -1, &st, nullptr) != SQLITE_OK) {
      page.error = QString("query failed: %1").arg(sqlite3_errmsg(db.get()));
      return nullptr;
    }
    if (!pattern.isEmpty()) {
      sqlite3_bind_text(st, 1, pattern.constData(), pattern.size(), SQLITE_TRANSIENT);
      sqlite3_bind_blob(st, 2, needle.constData(), needle.size(), SQLITE_TRANSIENT);
    }
    return st;
  };
  if (offset == 0) {
    if (sqlite3_stmt* st = prepare("SELECT COUNT(*) FROM Cache" + where)) {
      if (sqlite3_step(st) == SQLITE_ROW) page.total = sqlite3_column_int64(st, 0);
      else page.error = QString("query failed: %1").arg(sqlite3_errmsg(db.get()));
      sqlite3_finalize(st);
    }
    if (!page.error.isEmpty()) return page;
  }
  const QString direction = order == Qt::AscendingOrder ? " ASC" : " DESC";
  // Python records `size` for file-backed values only; a value kept in the
  // row is as large as its column.
  const QString sql = "SELECT key, raw, mode, typeof(value), "
                      "CASE WHEN filename IS NULL THEN length(value) ELSE size END AS stored_size, "
                      "store_time, expire_time, tag FROM Cache" + where +
                      " ORDER BY " + order_by(column) + direction + ", rowid" + direction +
                      QString(" LIMIT %1 OFFSET %2").arg(limit).arg(offset);
  sqlite3_stmt* st = prepare(sql);
  if (!st) return page;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    KeysModel::Row row;
    row.key = key_cell(st, 0, sqlite3_column_int(st, 1) != 0);
    const QString value_type = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(st, 3)));
    const int type = value_type == "integer" ? SQLITE_INTEGER : value_type == "real" ? SQLITE_FLOAT
                     : value_type == "text" ? SQLITE_TEXT : SQLITE_BLOB;
    row.kind = kind_cell(sqlite3_column_int(st, 2), type);
    row.size = sqlite3_column_int64(st, 4);
    row.stored = sqlite3_column_double(st, 5);
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) row.expires = sqlite3_column_double(st, 6);
    row.tag = sqlite3_column_type(st, 7) == SQLITE_NULL ? QString() : key_cell(st, 7, true);
    page.rows.push_back(std::move(row));
  }
  if (step != SQLITE_DONE) page.error = QString("query failed: %1").arg(sqlite3_errmsg(db.get()));
  sqlite3_finalize(st);
  return page;
}

}  // namespace

KeysModel::KeysModel(QObject* parent) : QAbstractTableModel(parent) {
  connect(&watcher_, &QFutureWatcher<Page>::finished, this, [this] {
    Page page = watcher_.result();
    pending_ = false;
    if (page.generation == generation_) {
      error_ = page.error;
      if (page.total >= 0) total_ = page.total;
      if (page.replace) {
        replace_rows(std::move(page.rows));
      } else if (!page.rows.isEmpty() && page.offset == rows_.size()) {
        beginInsertRows({}, rows_.size(), rows_.size() + page.rows.size() - 1);
        rows_ += page.rows;
        endInsertRows();
      }
      emit loaded();
    } else {
      request(0);  // the query changed meanwhile: start the new one
    }
  });
}

KeysModel::~KeysModel() { watcher_.waitForFinished(); }

void KeysModel::set_database(const QString& db_path) {
  db_path_ = db_path;
  reload();
}
void KeysModel::set_search(const QString& text) {
  search_ = text;
  reload();
}
void KeysModel::sort(int column, Qt::SortOrder order) {
  sort_column_ = column;
  sort_order_ = order;
  reload();
}

void KeysModel::reload() {
  ++generation_;
  beginResetModel();
  rows_.clear();
  total_ = -1;
  error_.clear();
  endResetModel();
  if (!db_path_.isEmpty()) request(0);
}

void KeysModel::refresh() {
  if (db_path_.isEmpty() || watcher_.isRunning()) return;
  request(0, std::max<qint64>(kPage, rows_.size()), true);
}

void KeysModel::request(qint64 offset, qint64 limit, bool replace) {
  if (db_path_.isEmpty()) return;
  if (watcher_.isRunning()) {
    pending_ = true;  // the finished handler starts the current query
    return;
  }
  pending_ = true;
  watcher_.setFuture(
      QtConcurrent::run(run_query, db_path_, search_, sort_column_, sort_order_, offset, limit, replace, generation_));
}

// Rows that stay are changed in place, the rest removed or appended.
void KeysModel::replace_rows(QVector<Row> fresh) {
  const qsizetype common = std::min(rows_.size(), fresh.size());
  if (fresh.size() < rows_.size()) {
    beginRemoveRows({}, fresh.size(), rows_.size() - 1);
    rows_.resize(fresh.size());
    endRemoveRows();
  }
  for (qsizetype i = 0; i < common; ++i) rows_[i] = std::move(fresh[i]);
  if (common > 0) emit dataChanged(index(0, 0), index(common - 1, ColumnCount - 1));
  if (fresh.size() > common) {
    beginInsertRows({}, common, fresh.size() - 1);
    for (qsizetype i = common; i < fresh.size(); ++i) rows_.push_back(std::move(fresh[i]));
    endInsertRows();
  }
}

int KeysModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : rows_.size(); }
int KeysModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant KeysModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  const Row& r = rows_[index.row()];
  auto time = [](double t) { return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(t * 1000)).toString("yyyy-MM-dd HH:mm:ss"); };
  switch (index.column()) {
    case Key: return r.key;
    case Kind: return r.kind;
    case Size: return r.size;
    case Stored: return time(r.stored);
    case Expires: return r.expires ? time(*r.expires) : QString("never");
    case Tag: return r.tag;
    default: return {};
  }
}

QVariant KeysModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return section + 1;
  static const char* names[] = {"Key", "Kind", "Size", "Stored", "Expires", "Tag"};
  return section >= 0 && section < ColumnCount ? QVariant(names[section]) : QVariant();
}

bool KeysModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && !pending_ && total_ > rows_.size();
}

void KeysModel::fetchMore(const QModelIndex& parent) {
  if (canFetchMore(parent)) request(rows_.size());
}

}  // namespace dcview
