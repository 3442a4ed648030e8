#include "dashboard.hpp"

#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QProgressBar>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include "units.hpp"

namespace dcview {

// A figure with its title and a line of detail; a click jumps to its tab.
class DashboardView::Tile : public QFrame {
 public:
  Tile(const QString& title, QString tab, DashboardView* owner) : QFrame(owner), tab_(std::move(tab)), owner_(owner) {
    setFrameShape(QFrame::StyledPanel);
    setCursor(tab_.isEmpty() ? Qt::ArrowCursor : Qt::PointingHandCursor);
    if (!tab_.isEmpty()) setToolTip(QString("Show the %1 tab").arg(tab_));
    auto* layout = new QVBoxLayout(this);
    auto* caption = new QLabel(title, this);
    figure_ = new QLabel("-", this);
    QFont big = figure_->font();
    big.setPointSizeF(big.pointSizeF() * 2);
    big.setBold(true);
    figure_->setFont(big);
    detail_ = new QLabel(this);
    layout->addWidget(caption);
    layout->addWidget(figure_);
    layout->addWidget(detail_);
  }
  void set(const QString& figure, const QString& detail, bool alarming) {
    figure_->setText(figure);
    detail_->setText(detail);
    figure_->setStyleSheet(alarming ? "color: #b00020" : "");
  }
  QString text() const { return figure_->text() + " | " + detail_->text(); }

 protected:
  void mouseReleaseEvent(QMouseEvent* event) override {
    if (!tab_.isEmpty() && event->button() == Qt::LeftButton) emit owner_->jump_requested(tab_, {});
  }

 private:
  QString tab_;
  DashboardView* owner_;
  QLabel* figure_ = nullptr;
  QLabel* detail_ = nullptr;
};

DashboardView::DashboardView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* grid = new QGridLayout;
  layout->addLayout(grid);
  int column = 0;
  for (auto [title, tab] : {std::pair{"Locks held", "Locks"}, std::pair{"Semaphores saturated", "Semaphores"},
                            std::pair{"Processes waiting", "Locks"}, std::pair{"Averagers", "Averagers"},
                            std::pair{"GPU throughput now", "GPU transfers"}, std::pair{"Items", "Keys"}})
  {
    grid->addWidget(add_tile(title, tab), 0, column);
    ++column;
  }

  auto* alerts_box = new QGroupBox("Alerts (activate one to go to its row)", this);
  auto* alerts_layout = new QVBoxLayout(alerts_box);
  auto* threshold_row = new QHBoxLayout;
  wait_threshold_ = new QSpinBox(alerts_box);
  wait_threshold_->setRange(1, 3600);
  wait_threshold_->setSuffix(" s");
  wait_threshold_->setValue(QSettings().value("alerts/wait_seconds", 5).toInt());
  connect(wait_threshold_, &QSpinBox::valueChanged, this,
          [](int seconds) { QSettings().setValue("alerts/wait_seconds", seconds); });
  threshold_row->addWidget(new QLabel("Report a wait longer than", alerts_box));
  threshold_row->addWidget(wait_threshold_);
  threshold_row->addStretch(1);
  alerts_layout->addLayout(threshold_row);
  alerts_ = new QListWidget(alerts_box);
  alerts_->setObjectName("alerts");
  alerts_layout->addWidget(alerts_);
  connect(alerts_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    const QString tab = item->data(Qt::UserRole).toString();
    if (!tab.isEmpty()) emit jump_requested(tab, item->data(Qt::UserRole + 1).toString());
  });
  layout->addWidget(alerts_box, 1);

  auto* facts_box = new QGroupBox("Cache", this);
  auto* form = new QFormLayout(facts_box);
  for (const char* field : {"Location", "Eviction policy", "Shards", "Hits / misses", "Last refresh"}) {
    auto* label = new QLabel("-", facts_box);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(QString(field) + ":", label);
    facts_.insert(field, label);
  }
  fill_ = new QProgressBar(facts_box);
  fill_->setRange(0, 1000);
  fill_->setFormat("-");
  form->addRow("Volume / size limit:", fill_);
  layout->addWidget(facts_box);
}

DashboardView::Tile* DashboardView::add_tile(const QString& title, const QString& tab) {
  auto* tile = new Tile(title, tab, this);
  tiles_.insert(title, tile);
  return tile;
}

void DashboardView::set_tile(const QString& title, const QString& figure, const QString& detail, bool alarming) {
  tiles_[title]->set(figure, detail, alarming);
}

QString DashboardView::tile_text(const QString& title) const {
  return tiles_.contains(title) ? tiles_[title]->text() : QString();
}

AlertThresholds DashboardView::thresholds() const { return {.wait_seconds = static_cast<double>(wait_threshold_->value())}; }

void DashboardView::show_snapshot(const Snapshot& s, std::optional<double> gpu_rate) {
  const DashboardFigures f = dashboard_figures(s);
  set_tile("Locks held", QString("%1 of %2").arg(f.locks_held).arg(f.locks),
           f.locks_stale ? QString("%1 stale").arg(f.locks_stale) : QString("none stale"), f.locks_stale > 0);
  set_tile("Semaphores saturated", QString("%1 of %2").arg(f.semaphores_saturated).arg(f.semaphores),
           "every permit taken", false);
  set_tile("Processes waiting", QString::number(f.waiting),
           f.waiting ? QString("longest %1").arg(duration_text(f.longest_wait)) : QString("nobody waits"),
           f.longest_wait > thresholds().wait_seconds);
  set_tile("Averagers", QString::number(f.averagers), "running means", false);
  set_tile("GPU throughput now", s.transfers.empty() ? QString("-") : gpu_rate ? rate_text(*gpu_rate) : QString("..."),
           s.transfers.empty() ? QString("no offloader reported")
                               : QString("%1 failed transfer(s)").arg(f.transfer_failures),
           f.transfer_failures > 0);
  const Overview& o = s.overview;
  set_tile("Items", QString::number(o.count), bytes_text(static_cast<double>(o.volume)), false);

  alerts_->clear();
  const auto alerts = alerts_of(s, thresholds());
  for (const Alert& a : alerts) {
    auto* item = new QListWidgetItem(a.text, alerts_);
    item->setData(Qt::UserRole, a.tab);
    item->setData(Qt::UserRole + 1, a.row_key);
    item->setForeground(a.severity == Alert::Severity::Critical ? QColor(176, 0, 32) : QColor(140, 80, 0));
    item->setToolTip(a.tab.isEmpty() ? a.text : QString("Enter or double-click: show it on the %1 tab").arg(a.tab));
  }
  if (alerts.empty())
    new QListWidgetItem(QString("No alerts: no stale holder, no wait over %1 s, no failed transfer, no unreadable row")
                            .arg(wait_threshold_->value()),
                        alerts_);

  facts_["Location"]->setText(s.directory + (o.fanout ? QString(" (fanout)") : QString()));
  facts_["Eviction policy"]->setText(o.eviction_policy);
  facts_["Shards"]->setText(QString::number(o.shards));
  const qint64 lookups = o.hits + o.misses;
  facts_["Hits / misses"]->setText(
      lookups ? QString("%1 / %2 (%3 % hits)").arg(o.hits).arg(o.misses).arg(100.0 * o.hits / lookups, 0, 'f', 1)
              : QString("%1 / %2 (statistics off or no lookups)").arg(o.hits).arg(o.misses));
  facts_["Last refresh"]->setText(
      QString("%1, took %2").arg(s.taken.toString("HH:mm:ss"), precise_duration_text(s.elapsed_ms / 1000)));
  const double used = o.size_limit > 0 ? static_cast<double>(o.volume) / static_cast<double>(o.size_limit) : 0;
  fill_->setValue(static_cast<int>(std::clamp(used, 0.0, 1.0) * 1000));
  fill_->setFormat(QString("%1 of %2 (%3 %)")
                       .arg(bytes_text(static_cast<double>(o.volume)), bytes_text(static_cast<double>(o.size_limit)))
                       .arg(used * 100, 0, 'f', 1));
}

void DashboardView::show_error(const QString& error) {
  alerts_->clear();
  auto* item = new QListWidgetItem(error, alerts_);
  item->setForeground(QColor(176, 0, 32));
}

}  // namespace dcview
