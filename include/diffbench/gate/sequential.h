#pragma once
/// The sequential A/B decision of `diffbench ab`: figures arrive block by block (one log ratio
/// new/base per block), the data are looked at on a growing schedule, and each look either decides
/// (slower, faster, not slower) or asks for more blocks. The error rate holds over all the looks:
/// look j may spend alpha / (j (j + 1)) of each one-sided error, and these sum to alpha (a
/// Bonferroni alpha-spending design: valid whatever the dependence between looks, conservative
/// next to exact group-sequential boundaries, which assume normal figures). Each look's interval
/// is the Wilcoxon signed-rank interval for the centre of the log ratios (Hodges & Lehmann 1963):
/// distribution-free for symmetric figures, and one disturbed block cannot move it far.
#include <string>
#include <vector>

namespace diffbench {

/// Hodges-Lehmann estimate of the centre of `x` and its one-sided bounds, each holding with
/// probability at least 1 - level: low = -inf / high = +inf when n is too small for that level.
struct ShiftInterval {
  double estimate = 0, low = 0, high = 0;
};
ShiftInterval signed_rank_interval(const std::vector<double>& x, double level);

/// P(T+ <= t) for the Wilcoxon signed-rank statistic of n untied figures centred on 0, for
/// t = 0 .. n(n+1)/2: exact (dynamic programming) up to n = 400, the normal approximation above.
std::vector<double> signed_rank_cdf(int n);

/// The three answers of the sequential gate, and "not yet".
enum class SequentialVerdict { undecided, slower, faster, not_slower };
/// "undecided", "slower", "faster", "not slower": the spelling of the tables and the JSON.
const char* sequential_verdict_name(SequentialVerdict v);

struct SequentialSettings {
  double threshold = 0.05;  ///< fraction: a change smaller than this does not count as slower
  double alpha = 0.05;  ///< each one-sided error rate, over every look
  int first_look = 6;  ///< blocks at the first look; each next look has 1.25x as many (at least 1 more)
};

/// One look at one cell's figures.
struct SequentialLook {
  int look = 0;  ///< j, from 1
  int n = 0;  ///< blocks (log ratios) looked at
  double level = 0;  ///< alpha spent on each one-sided bound at this look
  double change = 0, low = 0, high = 0;  ///< new/base - 1: estimate and one-sided bounds (+-inf: none yet)
  SequentialVerdict verdict = SequentialVerdict::undecided;
};

/// Blocks at look j (j >= 1): first_look, then 1.25x the previous (rounded, at least one more).
int look_blocks(int j, int first_look);
/// Alpha spent on each one-sided bound at look j: alpha / (j (j + 1)) (the sum over j is alpha).
double look_level(double alpha, int j);

/// The verdict of look j on `log_ratios` (log of new/base per block):
/// slower: the lower bound is above 0 and the estimate above the threshold;
/// faster: the upper bound is below 0 and the estimate below -threshold;
/// not slower: the upper bound is below the threshold; else undecided.
SequentialLook sequential_look(const std::vector<double>& log_ratios, int j, const SequentialSettings& s);

/// The smallest first look at which the one-sided bound can exist at look 1 (2^-n <= alpha / 2).
int smallest_first_look(double alpha);

/// Each cell's settings when a run of `cells` cells may make a false call with probability at most
/// `alpha` in all: alpha split equally between the cells (Bonferroni), the first look the smallest
/// that can reach the cell's share (at least 6 blocks).
SequentialSettings cell_settings(double alpha, int cells, double threshold);

/// Whether the data are looked at after `blocks` blocks, `look` being the next look's number: at
/// the schedule's look_blocks(look), or on the `last` block (budget or block cap reached) once the
/// first look's count is there, so a run that stops between looks still gets its final look.
bool look_due(int blocks, int look, int first_look, bool last);

}  // namespace diffbench
