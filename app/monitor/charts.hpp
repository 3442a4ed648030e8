// A small line chart (Qt Charts) showing named series that grow over time.
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
  // Replaces the plotted data with `series` (name -> points, x in seconds).
  void show_series(const QMap<QString, QVector<QPointF>>& series);
  int series_count() const;
};

}  // namespace dcview
