#include "charts.hpp"

#include <QDateTime>
#include <QtCharts/QChart>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>

namespace dcview {

SeriesChart::SeriesChart(const QString& title, const QString& y_label, QWidget* parent)
    : QChartView(new QChart, parent) {
  chart()->setTitle(title);
  chart()->legend()->setAlignment(Qt::AlignBottom);
  auto* x = new QDateTimeAxis;
  x->setFormat("HH:mm:ss");
  x->setTickCount(5);
  // A range before the first layout: an axis laid out with the default
  // (empty) range never draws its labels, whatever range comes later.
  const QDateTime now = QDateTime::currentDateTime();
  x->setRange(now.addSecs(-60), now);
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
  double x_min = 0, x_max = 1, y_max = 0;
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
  if (!any) x_min = x_max = static_cast<double>(QDateTime::currentMSecsSinceEpoch());
  static_cast<QDateTimeAxis*>(c->axes(Qt::Horizontal).front())
      ->setRange(QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(x_min)),
                 QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(std::max(x_max, x_min + 1000))));
  auto* y = static_cast<QValueAxis*>(c->axes(Qt::Vertical).front());
  y->setRange(0, y_max > 0 ? y_max * 1.1 : 1);
  y->applyNiceNumbers();  // ticks at 1, 2, 2.5 or 5 times a power of ten
}

}  // namespace dcview
