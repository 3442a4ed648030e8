// A small line chart (Qt Charts) showing named series that grow over time:
// x is clock time (points carry ms since the Unix epoch), y starts at 0 and
// its ticks are round numbers.
#pragma once

#include <QMap>
#include <QPointF>
#include <QVector>
#include <QtCharts/QChartView>

namespace dcview {

class SeriesChart : public QChartView {
  Q_OBJECT
 public:
  SeriesChart(const QString& title, const QString& y_label, QWidget* parent = nullptr);
  // Replaces the plotted data with `series` (name -> points, x in ms since
  // the Unix epoch).
  void show_series(const QMap<QString, QVector<QPointF>>& series);
  int series_count() const;
};

}  // namespace dcview
