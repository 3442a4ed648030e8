#include "filtered_table.hpp"

#include <QHeaderView>
#include <QIdentityProxyModel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "keyed_table_model.hpp"

namespace dcview {
namespace {

// Colours the rows a KeyedTableModel marks as alerts (stale locks, failures).
class AlertColours : public QIdentityProxyModel {
 public:
  using QIdentityProxyModel::QIdentityProxyModel;
  QVariant data(const QModelIndex& index, int role) const override {
    if ((role == Qt::BackgroundRole || role == Qt::ForegroundRole) &&
        QIdentityProxyModel::data(index, KeyedTableModel::AlertRole).toBool())
      return role == Qt::BackgroundRole ? QColor(255, 205, 200) : QColor(120, 0, 0);
    return QIdentityProxyModel::data(index, role);
  }
};

// A table that fits its columns when shown and again, coalesced, after its
// rows change while it is shown. Only the rows in view are measured
// (QTableView::sizeHintForColumn), so a refresh of a large table stays cheap.
class FittingView : public QTableView {
 public:
  using QTableView::QTableView;

  void schedule_fit() {
    if (fit_pending_ || !isVisible()) return;
    fit_pending_ = true;
    QTimer::singleShot(0, this, [this] {
      fit_pending_ = false;
      fit_columns();
    });
  }

 protected:
  void showEvent(QShowEvent* event) override {
    QTableView::showEvent(event);
    fit_columns();
  }

 private:
  // Widens a column whose text in view needs more room (never narrows one
  // a person may have set), up to half the view's width; the last column
  // stretches to the edge.
  void fit_columns() {
    if (!isVisible() || !model() || model()->rowCount() == 0) return;
    QHeaderView* header = horizontalHeader();
    const int widest = std::max(120, viewport()->width() / 2);
    for (int c = 0; c + 1 < model()->columnCount(); ++c) {
      const int wanted = std::min(widest, std::max(sizeHintForColumn(c), header->sectionSizeHint(c)));
      if (header->sectionSize(c) < wanted) header->resizeSection(c, wanted);
    }
  }
  bool fit_pending_ = false;
};

}  // namespace

FilteredTable::FilteredTable(QAbstractItemModel* source, const QString& filter_hint, QWidget* parent)
    : QWidget(parent), source_(source) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 4, 0, 0);
  filter_ = new QLineEdit(this);
  filter_->setObjectName("filter");
  filter_->setPlaceholderText(filter_hint);
  filter_->setClearButtonEnabled(true);
  auto* colours = new AlertColours(this);
  colours->setSourceModel(source);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(colours);
  proxy_->setSortRole(KeyedTableModel::SortRole);
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  auto* view = new FittingView(this);
  view_ = view;
  view_->setModel(proxy_);
  view_->setSortingEnabled(true);
  view_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);  // the source's order until asked
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setSelectionMode(QAbstractItemView::SingleSelection);
  view_->setAlternatingRowColors(true);
  view_->horizontalHeader()->setStretchLastSection(true);
  view_->verticalHeader()->setVisible(false);
  view_->setWordWrap(false);
  layout->addWidget(filter_);
  layout->addWidget(view_);
  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  auto schedule_fit = [view] { view->schedule_fit(); };
  connect(proxy_, &QAbstractItemModel::dataChanged, this, schedule_fit);
  connect(proxy_, &QAbstractItemModel::rowsInserted, this, schedule_fit);
  connect(proxy_, &QAbstractItemModel::modelReset, this, schedule_fit);
  connect(proxy_, &QAbstractItemModel::layoutChanged, this, schedule_fit);
}

void FilteredTable::set_filter(const QString& text) { filter_->setText(text); }

void FilteredTable::sort_by(int column, Qt::SortOrder order) { view_->sortByColumn(column, order); }

bool FilteredTable::select_key(const QString& key) {
  const auto* keyed = qobject_cast<const KeyedTableModel*>(source_);
  const int source_row = keyed ? keyed->find(key) : -1;
  if (source_row < 0) return false;
  auto* colours = static_cast<QAbstractProxyModel*>(proxy_->sourceModel());
  QModelIndex shown = proxy_->mapFromSource(colours->mapFromSource(source_->index(source_row, 0)));
  if (!shown.isValid()) {  // filtered out: show everything again
    filter_->clear();
    shown = proxy_->mapFromSource(colours->mapFromSource(source_->index(source_row, 0)));
  }
  view_->selectionModel()->setCurrentIndex(shown, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  view_->scrollTo(shown);
  view_->setFocus();
  return true;
}

}  // namespace dcview
