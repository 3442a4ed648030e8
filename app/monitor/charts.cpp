#include "charts.hpp"

#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>

namespace dcview {

SeriesChart::SeriesChart(const QString& title, const QString& y_label, QWidget* parent)
    : QChartView(new QChart, parent) {
  chart()->setTitle(title);
  chart()->legend()->setAlignment(Qt::AlignBottom);
  auto* x = new QValueAxis;
  x->setTitleText("seconds");
  auto* y = new QValueAxis;
  y->setTitleText(y_label);
  chart()->addAxis(x, Qt::AlignBottom);
  chart()->addAxis(y, Qt::AlignLeft);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(180);
}

int SeriesChart::series_count() const { return static_cast<int>(chart()->series().size()); }

void SeriesChart::show_series(const QMap<QString, QVector<QPointF>>& series) {
  QChart* c = chart();
  // Reuse series by name; drop the ones that vanished.
  QMap<QString, QLineSeries*> existing;
  for (QAbstractSeries* s : c->series()) existing.insert(s->name(), static_cast<QLineSeries*>(s));
  for (auto it = existing.begin(); it != existing.end(); ++it)
    if (!series.contains(it.key())) {
      c->removeSeries(it.value());
      delete it.value();
    }
  double x_min = 0, x_max = 1, y_max = 1;
  bool any = false;
  for (auto it = series.begin(); it != series.end(); ++it) {
    QLineSeries* line = existing.value(it.key());
    if (!line || !c->series().contains(line)) {
      line = new QLineSeries;
      line->setName(it.key());
      c->addSeries(line);
      line->attachAxis(c->axes(Qt::Horizontal).front());
      line->attachAxis(c->axes(Qt::Vertical).front());
    }
    line->replace(QList<QPointF>(it.value().begin(), it.value().end()));
    for (const QPointF& p : it.value()) {
      x_min = any ? std::min(x_min, p.x()) : p.x();
      x_max = any ? std::max(x_max, p.x()) : p.x();
      y_max = std::max(y_max, p.y());
      any = true;
    }
  }
  c->axes(Qt::Horizontal).front()->setRange(x_min, std::max(x_max, x_min + 1));
  c->axes(Qt::Vertical).front()->setRange(0, y_max * 1.1);
}

}  // namespace dcview
