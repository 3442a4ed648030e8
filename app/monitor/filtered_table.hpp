// A table tab: a filter line over a sortable table whose columns follow
// their text. Rows of the source model marked as alerts are coloured.
// Filtering matches any column (case-insensitive substring); sorting uses
// KeyedTableModel::SortRole (numbers and times sort as such). Until a
// header is clicked the rows keep the source model's order, or the order
// given by sort_by().
#pragma once

#include <QWidget>

class QAbstractItemModel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace dcview {

class FilteredTable : public QWidget {
  Q_OBJECT
 public:
  FilteredTable(QAbstractItemModel* source, const QString& filter_hint, QWidget* parent = nullptr);

  QTableView* view() const { return view_; }
  void set_filter(const QString& text);
  void sort_by(int column, Qt::SortOrder order);
  // Selects and scrolls to the row whose KeyedTableModel key is `key`,
  // clearing a filter that hides it. False when no such row exists.
  bool select_key(const QString& key);

 private:
  QLineEdit* filter_ = nullptr;
  QAbstractItemModel* source_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QTableView* view_ = nullptr;
};

}  // namespace dcview
