// A table whose rows are identified by a key. merge() updates rows in place
// (dataChanged), removes vanished ones and appends new ones, so views keep
// their selection and scroll position across refreshes.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <QVariant>
#include <QVector>

namespace dcview {

struct KeyedRow {
  QString key;
  QVector<QVariant> cells;  // one per column (display values)
  bool alert = false;       // to stand out (e.g. a stale lock): AlertRole
  QVariant payload;         // for actions (e.g. the cache key)
  // What each column sorts by (SortRole) where it differs from its text
  // (durations, times, counts); missing or null entries sort by the text.
  QVector<QVariant> sort = {};
};

class KeyedTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  explicit KeyedTableModel(QStringList headers, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  // Replaces the rows with `rows` (keys must be unique), keeping the order
  // of rows that stay and appending new ones.
  void merge(const QVector<KeyedRow>& rows);
  // A log: appends `added` (new keys) and drops the oldest rows beyond
  // `limit`, without looking at the rows that stay.
  void append_window(QVector<KeyedRow> added, int limit);
  const KeyedRow& row(int index) const { return rows_.at(index); }
  int find(const QString& key) const;

  // Roles returning KeyedRow::payload, KeyedRow::alert (the view colours
  // alert rows; this library has no Qt GUI dependency) and the sort value.
  static constexpr int PayloadRole = Qt::UserRole;
  static constexpr int AlertRole = Qt::UserRole + 1;
  static constexpr int SortRole = Qt::UserRole + 2;

 private:
  QStringList headers_;
  QVector<KeyedRow> rows_;
};

}  // namespace dcview
