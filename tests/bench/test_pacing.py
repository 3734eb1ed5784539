"""bench.pacing: reading pace and fairness back from claim times."""

from datetime import UTC, datetime, timedelta

from bench.pacing import busiest_second, pacing

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_it_finds_the_busiest_one_second_window_wherever_it_starts():
    # 10 in each whole second, but 0.5 … 1.4 holds 5 + 10: over a pace of 10.
    times = [at(0.5 + i * 0.1) for i in range(5)] + [at(1.0 + i * 0.04) for i in range(10)]
    assert busiest_second(times) == 15
    assert busiest_second([at(0), at(1), at(2)]) == 1  # a window is [t, t + 1 s)
    assert busiest_second([]) == 0


def test_it_counts_the_rate_and_the_slowest_and_fastest_channel_inside_the_window():
    claims = [(1, at(s)) for s in (0.1, 1.1, 2.1, 9.0)] + [(2, at(s)) for s in (0.5, 1.5)]
    seen = pacing(claims, channels=[1, 2, 3], start=at(0), end=at(4))
    assert seen.rate == 5 / 4  # the claim at 9 s is outside the counted window
    assert (seen.slowest, seen.fastest) == (0, 3)  # channel 3 was never served
    assert seen.fairness == 0
    assert seen.worst_second == 1
