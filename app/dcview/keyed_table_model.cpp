#include "keyed_table_model.hpp"

#include <QHash>
#include <algorithm>
#include <QSet>

namespace dcview {

KeyedTableModel::KeyedTableModel(QStringList headers, QObject* parent)
    : QAbstractTableModel(parent), headers_(std::move(headers)) {}

int KeyedTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : rows_.size(); }
int KeyedTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : headers_.size(); }

QVariant KeyedTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const KeyedRow& r = rows_[index.row()];
  switch (role) {
    case Qt::DisplayRole:
    case Qt::ToolTipRole:
      return index.column() < r.cells.size() ? r.cells[index.column()] : QVariant();
    case PayloadRole:
      return r.payload;
    case AlertRole:
      return r.alert;
    case SortRole:
      if (index.column() < r.sort.size() && !r.sort[index.column()].isNull()) return r.sort[index.column()];
      return index.column() < r.cells.size() ? r.cells[index.column()] : QVariant();
    default:
      return {};
  }
}

QVariant KeyedTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Horizontal) return section >= 0 && section < headers_.size() ? headers_[section] : QVariant();
  return section + 1;
}

int KeyedTableModel::find(const QString& key) const {
  for (int i = 0; i < rows_.size(); ++i)
    if (rows_[i].key == key) return i;
  return -1;
}

void KeyedTableModel::merge(const QVector<KeyedRow>& rows) {
  QHash<QString, int> incoming;
  for (int i = 0; i < rows.size(); ++i) incoming.insert(rows[i].key, i);
  // Remove vanished rows, last first, in contiguous runs.
  for (int i = rows_.size() - 1; i >= 0;) {
    if (incoming.contains(rows_[i].key)) {
      --i;
      continue;
    }
    int first = i;
    while (first > 0 && !incoming.contains(rows_[first - 1].key)) --first;
    beginRemoveRows({}, first, i);
    rows_.remove(first, i - first + 1);
    endRemoveRows();
    i = first - 1;
  }
  // Update the rows that stay: one dataChanged per run of changed rows.
  QSet<QString> present;
  int run_start = -1;
  auto end_run = [&](int end) {
    if (run_start >= 0) emit dataChanged(index(run_start, 0), index(end - 1, headers_.size() - 1));
    run_start = -1;
  };
  for (int i = 0; i < rows_.size(); ++i) {
    const KeyedRow& fresh = rows[incoming.value(rows_[i].key)];
    present.insert(fresh.key);
    if (fresh.cells != rows_[i].cells || fresh.alert != rows_[i].alert || fresh.payload != rows_[i].payload ||
        fresh.sort != rows_[i].sort) {
      rows_[i] = fresh;
      if (run_start < 0) run_start = i;
    } else {
      end_run(i);
    }
  }
  end_run(rows_.size());
  // Append new rows.
  QVector<KeyedRow> added;
  for (const KeyedRow& r : rows)
    if (!present.contains(r.key)) added.push_back(r);
  if (!added.isEmpty()) {
    beginInsertRows({}, rows_.size(), rows_.size() + added.size() - 1);
    rows_ += added;
    endInsertRows();
  }
}

void KeyedTableModel::append_window(QVector<KeyedRow> added, int limit) {
  if (added.size() > limit) added.remove(0, added.size() - limit);
  const int drop = std::max(0, static_cast<int>(rows_.size() + added.size()) - limit);
  if (drop > 0) {
    beginRemoveRows({}, 0, drop - 1);
    rows_.remove(0, drop);
    endRemoveRows();
  }
  if (added.isEmpty()) return;
  beginInsertRows({}, rows_.size(), rows_.size() + added.size() - 1);
  rows_ += added;
  endInsertRows();
}

}  // namespace dcview
