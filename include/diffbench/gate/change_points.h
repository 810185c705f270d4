/// Change points in a branch's history of one cell (`diffbench history`): binary segmentation with
/// Student's two-sample t-test, the method of Apache Otava (formerly Hunter; Fleming et al., "Hunter: Using
/// Change Point Detection to Hunt for Performance Regressions", ICPE 2023). The series is split
/// where the two sides differ most by t (pooled variance); the split stands when its p-value, multiplied by
/// the number of positions tried (Bonferroni: the best of many splits is no ordinary t), is below
/// alpha and the step is at least min_change; each side is then split again. Times are compared in
/// log space, so a step is a ratio.
#pragma once
#include <cstddef>
#include <vector>

namespace diffbench {

struct ChangePointSettings {
  double alpha = 0.01;  ///< per split, after the Bonferroni correction over its positions
  double min_change = 0.02;  ///< a smaller step (fraction) is not reported
  size_t min_segment = 3;  ///< points on each side of a split
};

struct ChangePoint {
  size_t index = 0;  ///< the first point of the new level
  double change = 0;  ///< after/before - 1 (geometric means of the two segments around it)
  double low = 0, high = 0;  ///< its 95% interval (t, pooled variance)
  double p_value = 1;  ///< corrected for the positions tried
};

/// Every change point of `series` (positive times), in index order.
std::vector<ChangePoint> find_change_points(const std::vector<double>& series, const ChangePointSettings& s);

/// Whether the newest point alone steps up from the segment it ends (the points since the last
/// change point): a one-sided prediction test, t = (x - mean) / (sd sqrt(1 + 1/m)) with m - 1
/// degrees of freedom. Set when significant at alpha and at least min_change; index = last point.
bool newest_point_steps_up(const std::vector<double>& series, size_t segment_start, const ChangePointSettings& s,
                           ChangePoint* step);

/// P(T > t) for Student's t with `df` degrees of freedom (df may be fractional).
double student_t_upper(double t, double df);
/// t with P(T > t) = p.
double student_t_quantile(double p, double df);

}  // namespace diffbench
