"""HeldRecords: a record is released only once the cut lies above every event it was made from,
and each is committed once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from comparator.core.events.response_event import SourcePosition
from comparator.core.outputs.held_records import HeldRecords
from comparator.core.outputs.record_publisher import Emission


def pair(partition: int, stable: int, dark: int, name: str = "r") -> Emission:
    return Emission(
        "mismatches",
        name.encode(),
        b"{}",
        (SourcePosition("s", partition, stable), SourcePosition("d", partition, dark)),
    )


def test_a_pair_waits_until_the_cut_passes_both_of_its_events():
    held = HeldRecords()
    record = pair(0, 10, 12)
    held.hold(record)
    assert held.releasable({("s", 0): 11, ("d", 0): 12}) == []  # dark 12 not below 12
    assert held.releasable({("s", 0): 11}) == []  # the cut does not name dark: not passed
    assert held.releasable({("s", 0): 11, ("d", 0): 13}) == [record]
    assert held.count == 1  # released is not committed
    held.committed([record])
    assert held.count == 0
    assert held.releasable({("s", 0): 99, ("d", 0): 99}) == []


def test_a_record_from_no_kafka_event_is_releasable_at_once():
    held = HeldRecords()
    record = Emission("dead_letters", b"k", b"x")
    held.hold(record)
    assert held.releasable({}) == [record]


def test_dropping_a_partition_forgets_only_its_records():
    held = HeldRecords()
    mine, theirs = pair(0, 1, 1, "mine"), pair(1, 1, 1, "theirs")
    held.hold(mine)
    held.hold(theirs)
    assert held.drop_partitions({1}) == 1
    cut = {("s", 0): 5, ("d", 0): 5, ("s", 1): 5, ("d", 1): 5}
    assert held.releasable(cut) == [mine]
    assert held.count == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 50), st.integers(0, 50)),
        max_size=60,
    ),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 60), st.integers(0, 60)), max_size=20),
)
def test_every_record_is_committed_once_and_never_before_the_cut_passes_it(records, cuts):
    held = HeldRecords()
    emissions = [pair(p, s, d, f"r{i}") for i, (p, s, d) in enumerate(records)]
    for emission in emissions:
        held.hold(emission)
    cut: dict[tuple[str, int], int] = {}
    committed: list[Emission] = []
    for partition, stable, dark in [*cuts, *[(p, 61, 61) for p in range(3)]]:
        # cuts only move forward
        cut[("s", partition)] = max(cut.get(("s", partition), 0), stable)
        cut[("d", partition)] = max(cut.get(("d", partition), 0), dark)
        released = held.releasable(cut)
        for emission in released:
            assert all(
                position.offset < cut[(position.source, position.partition)]
                for position in emission.sources
            )
        held.committed(released)
        committed += released
    assert sorted(e.key for e in committed) == sorted(e.key for e in emissions)
    assert held.count == 0
