// The key browser's model: pages through a cache's keys (one shard's for a
// fanout directory) with the sorting and the search done in SQL
// (diskcache::browse_keys through the location's Inspector, opened
// read-only), one query at a time on a worker thread, so the GUI never
// waits for a query. Rows arrive 200 at a time as the view scrolls
// (fetchMore).
#pragma once

#include <QAbstractTableModel>
#include <QFutureWatcher>
#include <QVector>
#include <memory>
#include <optional>

namespace dcview {

class KeysModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Key, Kind, Size, Stored, Expires, Tag, ColumnCount };
  static constexpr int kPage = 200;

  explicit KeysModel(QObject* parent = nullptr);
  ~KeysModel() override;

  // The location to browse and which of its key databases (a fanout
  // directory's shard); an empty location: none.
  void set_location(const QString& location, std::size_t database = 0);
  const QString& location() const { return location_; }
  // Only keys containing `text`: text and number keys through SQL LIKE
  // (case-insensitive for ASCII), bytes and pickled keys by their bytes.
  void set_search(const QString& text);
  void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
  // Reads the rows loaded so far (at least a page) and the total again,
  // updating rows in place: the view keeps its scroll position and
  // selection. Does nothing while a query is running (the next call will).
  void refresh();

  // Matching keys in the database (from a COUNT query); -1 until known.
  qint64 total() const { return total_; }
  QString error() const { return error_; }
  bool busy() const { return watcher_.isRunning(); }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;

  struct Row {
    QString key, kind, tag;
    qint64 size = 0;
    double stored = 0;
    std::optional<double> expires;
  };
  struct Browser;  // the worker's Inspector, opened on first use (keys_model.cpp)
  struct Page {
    quint64 generation = 0;
    qint64 offset = 0;
    qint64 total = -1;      // filled by the first page of a query
    bool replace = false;   // a refresh: these rows replace those loaded
    QVector<Row> rows;
    QString error;
  };

 signals:
  void loaded();  // a page (or an error) arrived

 private:
  void reload();
  void request(qint64 offset, qint64 limit = kPage, bool replace = false);
  void replace_rows(QVector<Row> fresh);

  QString location_, search_;
  std::size_t database_ = 0;
  std::shared_ptr<Browser> browser_;
  int sort_column_ = Key;
  Qt::SortOrder sort_order_ = Qt::AscendingOrder;
  quint64 generation_ = 0;
  QVector<Row> rows_;
  qint64 total_ = -1;
  QString error_;
  bool pending_ = false;
  QFutureWatcher<Page> watcher_;
};

}  // namespace dcview
