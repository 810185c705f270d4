// Paired quality differences as tables and JSON.
#include "diffbench/report/quality_pairs.h"

#include <fmt/format.h>

namespace diffbench {
namespace {

std::string name(const RunResult& r) { return fmt::format("{}:{}", r.spec.sampler->name, r.spec.steps); }

nlohmann::json difference_json(const PairedDifference& d) {
  return {{"a", d.a},
          {"b", d.b},
          {"difference", d.difference},
          {"ci_low", d.ci_low},
          {"ci_high", d.ci_high},
          {"ci_level", 0.95},
          {"bootstrap_resamples", d.resamples},
          {"margin", d.margin},
          {"verdict", verdict_name(d.verdict)},
          {"samples", d.n},
          {"samples_to_decide", d.samples_to_decide ? nlohmann::json(d.samples_to_decide) : nlohmann::json(nullptr)}};
}

std::string verdict_text(const PairedDifference& d) {
  switch (d.verdict) {
    case QualityVerdict::lower: return "a better";
    case QualityVerdict::higher: return "b better";
    case QualityVerdict::same: return fmt::format("same (within {:g})", d.margin);
    case QualityVerdict::undecided: break;
  }
  return d.samples_to_decide ? fmt::format("undecided (n ~ {})", d.samples_to_decide) : "undecided";
}

// FD to two decimals; KID, whose scale depends on the features, to four significant digits.
std::string interval(const PairedDifference& d) {
  if (d.metric == "fd") return fmt::format("{:+.2f} [{:+.2f}, {:+.2f}]", d.difference, d.ci_low, d.ci_high);
  return fmt::format("{:+.4g} [{:+.4g}, {:+.4g}]", d.difference, d.ci_low, d.ci_high);
}

}  // namespace

nlohmann::json quality_pairs_json(const std::vector<CellPair>& pairs, const std::vector<RunResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const CellPair& p : pairs) {
    out.push_back({{"a", name(results[p.a])},
                   {"b", name(results[p.b])},
                   {"kind", p.kind},
                   {"shape", results[p.a].spec.shape},
                   {"seed", results[p.a].spec.seed},
                   {"fd", difference_json(p.fd)},
                   {"unpaired_half_width", p.unpaired_half_width},
                   {"kid", p.kid ? difference_json(*p.kid) : nlohmann::json(nullptr)}});
  }
  return out;
}

std::string quality_pairs_table(const std::vector<CellPair>& pairs, const std::vector<RunResult>& results,
                                bool markdown) {
  if (pairs.empty()) return "";
  bool kid = false;
  for (const CellPair& p : pairs) kid = kid || p.kid.has_value();
  std::string out = markdown ? "| a | b | FD a - b [95% CI] | unpaired +- | verdict |" +
                                   std::string(kid ? " KID a - b [95% CI] | verdict |" : "") +
                                   "\n|---|---|---:|---:|---|" + (kid ? "---:|---|" : "") + "\n"
                             : fmt::format("{:<16} {:<16} {:>26} {:>11}  {:<24}{}\n", "a", "b", "FD a - b [95% CI]",
                                           "unpaired +-", "verdict", kid ? "  KID a - b [95% CI]" : "");
  for (const CellPair& p : pairs) {
    const std::string a = name(results[p.a]), b = name(results[p.b]);
    const std::string k = p.kid ? interval(*p.kid) : "-", kv = p.kid ? verdict_text(*p.kid) : "-";
    out += markdown ? fmt::format("| {} | {} | {} | {:.2f} | {} |{}\n", a, b, interval(p.fd), p.unpaired_half_width,
                                  verdict_text(p.fd), kid ? fmt::format(" {} | {} |", k, kv) : "")
                    : fmt::format("{:<16} {:<16} {:>26} {:>11.2f}  {:<24}{}\n", a, b, interval(p.fd),
                                  p.unpaired_half_width, verdict_text(p.fd), kid ? "  " + k + "  " + kv : "");
  }
  out += fmt::format(
      "{}Paired differences: both cells made image i from the same noise (same seed and shape), and the "
      "bootstrap resamples the same images on both sides. 'a better': the interval lies below 0 (lower "
      "is better); 'same': it lies within +-margin; 'undecided (n ~ N)': about N images per cell would "
      "exclude 0 at this difference. 'unpaired +-': the half-width an unpaired comparison of the two "
      "cells' own intervals would have.\n",
      markdown ? "\n" : "");
  return out;
}

}  // namespace diffbench
