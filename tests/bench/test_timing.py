"""bench.timing: timings of one page over several rounds, pooled."""

from bench.timing import PageTiming, pooled


def test_it_pools_the_samples_of_every_round():
    rounds = [
        PageTiming(first=0.5, median=0.02, queries=7, samples=(0.01, 0.02, 0.03)),
        PageTiming(first=0.1, median=0.2, queries=7, samples=(0.1, 0.2, 0.3)),
    ]
    timing = pooled(rounds)
    assert timing.median == (0.03 + 0.1) / 2  # of all six samples, not of the two medians
    assert timing.first == 0.5  # the coldest: the first round's
    assert timing.samples == (0.01, 0.02, 0.03, 0.1, 0.2, 0.3)
    assert timing.queries == 7
