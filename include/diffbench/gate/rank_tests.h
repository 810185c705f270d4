#pragma once
/// The rank tests the gate decides with (Mann-Whitney U, Wilcoxon signed-rank), exact where the sizes
/// allow, and the normal-approximation helpers around them.
#include <cstddef>
#include <vector>

namespace diffbench {

/// The two one-sided p-values of a rank test: `greater` for the alternative that the second
/// sample is larger (or the paired differences positive), `less` for the opposite one.
struct RankTails {
  double less = 1, greater = 1;
};

/// One-sided p-values of the Mann-Whitney U test for samples a and b (`greater`: b tends to be
/// larger than a): exact (the U distribution by dynamic programming) without ties and for
/// n_a * n_b <= 10,000; otherwise the normal approximation with tie and continuity corrections.
RankTails mann_whitney_tails(const std::vector<double>& a, const std::vector<double>& b);

/// The smallest one-sided p-value the exact test can reach with these sample sizes: 1 / C(n_a + n_b, n_a).
double mann_whitney_min_p(size_t n_a, size_t n_b);

/// One-sided p-values of the Wilcoxon signed-rank test that the differences `d` are centred on 0
/// (zeros dropped; `greater`: they lean positive): exact without ties (n <= 60), else the normal
/// approximation with tie and continuity corrections.
RankTails wilcoxon_signed_rank_tails(const std::vector<double>& d);

/// The smallest relative change (fraction of base_median) that a one-sided test at `alpha` detects
/// with 80% power, from the two samples' standard deviations (normal approximation); infinity when
/// the sizes cannot reach alpha at all or a side has a single figure (its spread is unknown).
double detectable_change(const std::vector<double>& base, const std::vector<double>& updated, double base_median,
                         double alpha);

}  // namespace diffbench
