from comparator.core.outputs.route_sampler import RouteSampler


def test_limit_per_route_per_event_time_minute():
    sampler = RouteSampler(2)
    assert [sampler.allow("a", t) for t in (0, 1, 2)] == [True, True, False]
    assert sampler.allow("b", 3)  # routes are independent
    assert sampler.allow("a", 60_000) and sampler.allow("a", 60_001)
    assert not sampler.allow("a", 60_002)


def test_older_minute_counts_against_the_newest_window():
    sampler = RouteSampler(1)
    assert sampler.allow("a", 120_000)
    assert not sampler.allow("a", 0)


def test_zero_disables_records():
    assert not RouteSampler(0).allow("a", 0)


def test_same_input_same_selection():
    times = [i * 700 for i in range(500)]
    first = [RouteSampler(5).allow("r", t) for t in times]
    assert first == [RouteSampler(5).allow("r", t) for t in times]
