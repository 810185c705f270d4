// Binary segmentation with Student's two-sample t-test (see change_points.h) and the Student t distribution it
// needs (the regularized incomplete beta function by its continued fraction, Lentz's method).
#include "diffbench/gate/change_points.h"

#include <algorithm>
#include <cmath>

namespace diffbench {
namespace {

// I_x(a, b) by the continued fraction, valid for x < (a + 1) / (a + b + 2) (the caller flips).
double beta_continued_fraction(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  d = 1 / (std::abs(d) < tiny ? tiny : d);
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    for (int odd = 0; odd < 2; ++odd) {
      const double num = odd ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                             : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
      d = 1 + num * d;
      d = 1 / (std::abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      c = std::abs(c) < tiny ? tiny : c;
      h *= d * c;
      if (odd && std::abs(d * c - 1) < 1e-15) return h;
    }
  }
  return h;
}

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

struct Segment {
  double mean = 0, var = 0;
  size_t n = 0;
};

Segment segment(const std::vector<double>& x, size_t a, size_t b) {
  Segment m;
  m.n = b - a;
  for (size_t i = a; i < b; ++i) m.mean += x[i];
  m.mean /= double(m.n);
  for (size_t i = a; i < b; ++i) m.var += (x[i] - m.mean) * (x[i] - m.mean);
  m.var = m.n > 1 ? m.var / double(m.n - 1) : 0;
  return m;
}

struct TTest {
  double t = 0, df = 1, se = 0, diff = 0;
};

// Student's two-sample t with the pooled variance: exact for normal figures of one spread (the
// null hypothesis: one level, one noise). Welch's version was tried first: with segments of three
// points its approximate degrees of freedom made a flat series split 4% of the time at alpha 1%.
TTest t_test(const Segment& l, const Segment& r) {
  TTest w;
  w.diff = r.mean - l.mean;
  w.df = double(l.n + r.n - 2);
  const double pooled = (l.var * double(l.n - 1) + r.var * double(r.n - 1)) / w.df;
  w.se = std::sqrt(pooled * (1.0 / double(l.n) + 1.0 / double(r.n)));
  if (w.se == 0)  // two flat segments: any difference is infinitely significant, none is nothing
    w.t = w.diff == 0 ? 0 : std::copysign(INFINITY, w.diff);
  else
    w.t = w.diff / w.se;
  return w;
}

void split(const std::vector<double>& x, size_t a, size_t b, const ChangePointSettings& s,
           std::vector<ChangePoint>* out) {
  if (b - a < 2 * s.min_segment) return;
  size_t best = 0;
  TTest top;
  for (size_t k = a + s.min_segment; k + s.min_segment <= b; ++k) {
    TTest w = t_test(segment(x, a, k), segment(x, k, b));
    if (best == 0 || std::abs(w.t) > std::abs(top.t)) best = k, top = w;
  }
  const double positions = double(b - a - 2 * s.min_segment + 1);
  const double p = std::min(1.0, 2 * student_t_upper(std::abs(top.t), top.df) * positions);
  if (!(p < s.alpha) || std::abs(std::expm1(top.diff)) < s.min_change) return;
  const double q = top.se > 0 ? student_t_quantile(0.025, top.df) * top.se : 0;
  out->push_back({best, std::expm1(top.diff), std::expm1(top.diff - q), std::expm1(top.diff + q), p});
  split(x, a, best, s, out);
  split(x, best, b, s, out);
}

}  // namespace

double student_t_upper(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 0 : 1;
  const double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? tail : 1 - tail;
}

double student_t_quantile(double p, double df) {
  double low = -1e3, high = 1e3;
  for (int i = 0; i < 200; ++i) {
    const double mid = (low + high) / 2;
    (student_t_upper(mid, df) > p ? low : high) = mid;
  }
  return (low + high) / 2;
}

std::vector<ChangePoint> find_change_points(const std::vector<double>& series, const ChangePointSettings& s) {
  std::vector<double> logs;
  for (double v : series) logs.push_back(std::log(v));
  std::vector<ChangePoint> points;
  split(logs, 0, logs.size(), s, &points);
  std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  // Each step is measured between its neighbours (a split found first was measured against a
  // segment that held other levels); the p-value stays the one that admitted it.
  for (size_t i = 0; i < points.size(); ++i) {
    const size_t a = i ? points[i - 1].index : 0, b = i + 1 < points.size() ? points[i + 1].index : logs.size();
    const TTest t = t_test(segment(logs, a, points[i].index), segment(logs, points[i].index, b));
    const double q = t.se > 0 ? student_t_quantile(0.025, t.df) * t.se : 0;
    points[i].change = std::expm1(t.diff);
    points[i].low = std::expm1(t.diff - q);
    points[i].high = std::expm1(t.diff + q);
  }
  return points;
}

bool newest_point_steps_up(const std::vector<double>& series, size_t segment_start, const ChangePointSettings& s,
                           ChangePoint* step) {
  if (series.size() < segment_start + 3) return false;  // at least two points before the newest one
  std::vector<double> logs;
  for (double v : series) logs.push_back(std::log(v));
  const Segment m = segment(logs, segment_start, logs.size() - 1);
  const double x = logs.back(), sd = std::sqrt(m.var) * std::sqrt(1 + 1 / double(m.n));
  const double df = double(m.n - 1);
  const double t = sd > 0 ? (x - m.mean) / sd : (x > m.mean ? INFINITY : 0);
  const double p = student_t_upper(t, df);
  if (!(p < s.alpha) || std::expm1(x - m.mean) < s.min_change) return false;
  const double q = sd > 0 ? student_t_quantile(0.025, df) * sd : 0;
  *step = {series.size() - 1, std::expm1(x - m.mean), std::expm1(x - m.mean - q), std::expm1(x - m.mean + q), p};
  return true;
}

}  // namespace diffbench
