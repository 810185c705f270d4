// The simulation behind docs/compare.md's false-alarm figures for `ab`: the sequential procedure at
// ab's settings on blocks like this VM's (SD 4-7%, lag-1 correlation 0.1), 3,000 series per row.
// Usage: diffbench_ab_simulation [SERIES]   (prints one table; a few minutes at 3,000)
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "ab_blocks.h"

using namespace diffbench;
using namespace diffbench::simulation;

int main(int argc, char** argv) {
  const int sims = argc > 1 ? std::atoi(argv[1]) : 3000;
  if (sims <= 0) {
    std::fprintf(stderr, "error: SERIES must be a positive count of simulated series\n");
    return 2;
  }
  std::printf("| alpha | cells | block SD | change | P(slower) | P(not slower) | median blocks |\n|---|---|---|---|---|---|---|\n");
  for (double alpha : {0.05, 0.02}) {
    for (int cells : {1, 2}) {
      for (double sd : {0.04, 0.07}) {
        for (double change : {0.0, 0.05}) {
          const SequentialSettings s = cell_settings(alpha, cells, 0.02);
          std::mt19937_64 rng(2026);
          std::vector<int> blocks;
          int slower = 0, not_slower = 0;
          for (int i = 0; i < sims; ++i) {
            bool any_slower = false, all_not = true;
            int most = 0;
            for (int c = 0; c < cells; ++c) {
              const Decision d = decide_series(correlated_blocks(rng, 200, change, sd, 0.1), s);
              any_slower |= d.verdict == SequentialVerdict::slower;
              all_not &= d.verdict == SequentialVerdict::not_slower;
              most = std::max(most, d.blocks);
            }
            slower += any_slower;
            not_slower += all_not;
            blocks.push_back(most);
          }
          std::nth_element(blocks.begin(), blocks.begin() + sims / 2, blocks.end());
          std::printf("| %.2f | %d | %.0f%% | %+.0f%% | %.2f%% | %.2f%% | %d |\n", alpha, cells, 100 * sd, 100 * change,
                      100.0 * slower / sims, 100.0 * not_slower / sims, blocks[sims / 2]);
        }
      }
    }
  }
  return 0;
}
