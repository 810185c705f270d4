"""The minimum-steps rule on synthetic quality curves with known answers."""
import unittest

from diffbench_tools.min_steps import minimum_steps, minimum_steps_paired, neighbours  # PYTHONPATH=scripts


def curve(values, width=2.0):
    return [(s, f, f - width, f + width) for s, f in values]


class MinimumSteps(unittest.TestCase):
    def test_monotone_curve_reaches_the_band_at_twenty(self):
        r = minimum_steps(curve([(1, 400), (2, 200), (4, 100), (8, 60), (20, 52), (50, 50)]), 0.10)
        self.assertEqual(r["best_steps"], 50)
        self.assertAlmostEqual(r["band"], 55.0)
        self.assertEqual(r["min_steps"], 20)  # 8 steps: 60 - 2 > 55
        self.assertTrue(r["estimate_within"])

    def test_a_noisy_dip_at_few_steps_does_not_count(self):
        r = minimum_steps(curve([(1, 400), (2, 54), (4, 100), (8, 60), (20, 52), (50, 50)]), 0.10)
        self.assertEqual(r["min_steps"], 20)

    def test_best_in_the_middle_and_worse_after_stays_undetermined_only_if_outside(self):
        r = minimum_steps(curve([(1, 400), (4, 50), (20, 53), (50, 54)]), 0.10)
        self.assertEqual(r["best_steps"], 4)
        self.assertEqual(r["min_steps"], 4)

    def test_never_within_tolerance_before_the_last_says_so(self):
        r = minimum_steps(curve([(1, 400), (2, 200), (4, 100), (8, 80), (20, 70), (50, 50)]), 0.10)
        self.assertIsNone(r["min_steps"])
        self.assertIn("still falling at 50 steps", r["why"])

    def test_an_interval_that_reaches_the_band_counts_and_says_so(self):
        r = minimum_steps(curve([(1, 400), (20, 58), (50, 50)], width=10.0), 0.10)
        self.assertEqual(r["min_steps"], 20)  # 58 - 10 <= 55
        self.assertFalse(r["estimate_within"])

    def test_a_best_at_few_steps_with_noisier_later_points_is_not_still_falling(self):
        # measured shape of DDIM on the digit teacher: best at 8, later points higher but within noise
        r = minimum_steps([(1, 618, 598, 647), (2, 67, 58, 85), (4, 39, 28, 56), (8, 37, 26, 55), (20, 43, 32, 63),
                           (50, 47, 36, 68)], 0.10)
        self.assertEqual(r["min_steps"], 4)



class PairedMinimumSteps(unittest.TestCase):
    def test_walks_down_while_pairs_say_same(self):
        r = minimum_steps_paired([(1, 2, "higher", None), (2, 4, "higher", None), (4, 8, "same", None),
                                  (8, 20, "same", None), (20, 50, "lower", None)])
        self.assertEqual(r["min_steps"], 4)
        self.assertEqual(r["why"], "4 steps are better than 2; from 4 up no pair differs")

    def test_more_steps_still_better_at_the_top_is_not_determined(self):
        r = minimum_steps_paired([(4, 8, "same", None), (8, 20, "higher", None)])
        self.assertIsNone(r["min_steps"])
        self.assertIn("more steps are needed", r["why"])

    def test_an_undecided_pair_stops_the_walk_and_says_how_many_images(self):
        r = minimum_steps_paired([(2, 4, "undecided", 4200), (4, 8, "same", None)])
        self.assertEqual(r["min_steps"], 4)
        self.assertIn("about 4200 images", r["why"])

    def test_neighbours_keep_the_next_step_count_only(self):
        pairs = [(4, 50, "higher", None), (4, 8, "same", None), (8, 50, "same", None)]
        self.assertEqual(neighbours(pairs), [(4, 8, "same", None), (8, 50, "same", None)])


if __name__ == "__main__":
    unittest.main()
