#include "keys_model.hpp"

#include <QDateTime>
#include <QtConcurrent/QtConcurrentRun>
#include <memory>
#include <mutex>

#include "inspector.hpp"
#include "units.hpp"

namespace dcview {

// One Inspector for the model's location, used by one query at a time.
struct KeysModel::Browser {
  std::mutex mutex;
  QString location;
  std::unique_ptr<Inspector> inspector;
};

namespace {

diskcache::KeyOrder order_of(int column) {
  switch (column) {
    case KeysModel::Kind: return diskcache::KeyOrder::Kind;
    case KeysModel::Size: return diskcache::KeyOrder::Size;
    case KeysModel::Stored: return diskcache::KeyOrder::Stored;
    case KeysModel::Expires: return diskcache::KeyOrder::Expires;
    case KeysModel::Tag: return diskcache::KeyOrder::Tag;
    default: return diskcache::KeyOrder::Key;
  }
}

KeysModel::Page run_query(const std::shared_ptr<KeysModel::Browser>& browser, std::size_t database,
                          diskcache::KeyQuery query, bool replace, quint64 generation) {
  KeysModel::Page page;
  page.generation = generation;
  page.offset = query.offset;
  page.replace = replace;
  std::lock_guard lock(browser->mutex);
  try {
    if (!browser->inspector) browser->inspector = open_inspector(browser->location, false);
    const diskcache::KeyPage found = browser->inspector->browse_keys(database, query);
    if (found.total) page.total = *found.total;
    for (const auto& r : found.rows)
      page.rows.push_back({QString::fromStdString(r.key), QString::fromStdString(r.kind),
                           QString::fromStdString(r.tag), r.size, r.store_time, r.expire_time});
  } catch (const std::exception& e) {
    page.error = QString::fromUtf8(e.what());
    browser->inspector.reset();  // reopen next time (a replaced or repaired database)
  }
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

void KeysModel::set_location(const QString& location, std::size_t database) {
  if (location != location_ || !browser_) {
    browser_ = std::make_shared<Browser>();  // a running query keeps the old one alive
    browser_->location = location;
  }
  location_ = location;
  database_ = database;
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
  if (!location_.isEmpty()) request(0);
}

void KeysModel::refresh() {
  if (location_.isEmpty() || watcher_.isRunning()) return;
  request(0, std::max<qint64>(kPage, rows_.size()), true);
}

void KeysModel::request(qint64 offset, qint64 limit, bool replace) {
  if (location_.isEmpty()) return;
  if (watcher_.isRunning()) {
    pending_ = true;  // the finished handler starts the current query
    return;
  }
  pending_ = true;
  diskcache::KeyQuery query;
  query.search = search_.toStdString();
  query.order = order_of(sort_column_);
  query.descending = sort_order_ == Qt::DescendingOrder;
  query.offset = offset;
  query.limit = std::min<qint64>(limit, 100000);  // browse_keys reads at most this many at once
  query.count = offset == 0;
  watcher_.setFuture(QtConcurrent::run(run_query, browser_, database_, query, replace, generation_));
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
    case Size: return bytes_text(static_cast<double>(r.size));
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
