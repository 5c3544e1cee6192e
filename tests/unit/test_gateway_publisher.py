"""The gateway publisher's sides: stable and dark as before, any configured side with
``side_topics``, and the stamp a side beyond stable and dark gets (the event version rule)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from comparator.core.events.decoder import EventDecoder
from comparator.core.events.response_event import ResponseEvent
from comparator.core.events.sides import Sides
from comparator.io.gateway.capture import check_side
from comparator.io.gateway.publisher import ResponsePublisher

FOUR = {
    "stable": "r.stable",
    "secondary": "r.secondary",
    "model-a": "r.model-a",
    "model-b": "r.model-b",
}


class FakeProducer:
    def __init__(self) -> None:
        self.produced: list[tuple[str, bytes, Any]] = []

    def produce(self, topic: str, value: bytes, key: Any, **_: Any) -> None:
        self.produced.append((topic, value, key))

    def poll(self, timeout: float) -> int:
        return 0


def publisher(**options: Any) -> tuple[ResponsePublisher, FakeProducer]:
    made = ResponsePublisher("127.0.0.1:1", **options)
    fake = FakeProducer()
    made._producer = fake  # type: ignore[assignment]
    return made, fake


def test_two_sided_publisher_keeps_its_topics_and_publishes_v1_events():
    made, fake = publisher(stable_topic="s", dark_topic="d")
    assert made.sides == ("stable", "dark")
    made.publish("stable", {"request_id": "r1", "status": 200, "ts": 5})
    made.publish("dark", {"request_id": "r1", "status": 200, "ts": 5, "side": "dark"})
    assert [(t, orjson.loads(v), k) for t, v, k in fake.produced] == [
        ("s", {"request_id": "r1", "status": 200, "ts": 5}, "r1"),
        ("d", {"request_id": "r1", "status": 200, "ts": 5, "side": "dark"}, "r1"),
    ]
    defaults, _ = publisher()
    assert defaults._topics == {"stable": "responses.stable", "dark": "responses.dark"}


def test_side_topics_publish_every_side_and_stamp_sides_beyond_stable_and_dark():
    made, fake = publisher(side_topics=FOUR)
    assert made.sides == ("stable", "secondary", "model-a", "model-b")
    for side in made.sides:
        made.publish(side, {"request_id": "r1", "status": 200, "ts": 5, "side": "dark"})
    events = {topic: orjson.loads(value) for topic, value, _ in fake.produced}
    assert events["r.stable"] == {"request_id": "r1", "status": 200, "ts": 5, "side": "dark"}
    for side in ("secondary", "model-a", "model-b"):
        assert events[f"r.{side}"]["event_version"] == 2
        assert events[f"r.{side}"]["side"] == side
    # and the comparator's decoder takes each on its own input
    decoder = EventDecoder(
        max_event_bytes=4096, max_depth=8, sides=Sides(("model-a", "model-b"), secondary=True)
    )
    for side in ("secondary", "model-a", "model-b"):
        decoded = decoder.decode(orjson.dumps(events[f"r.{side}"]), side=side, default_ts_ms=0)
        assert isinstance(decoded, ResponseEvent) and decoded.side == side


def test_a_dark_side_among_side_topics_stays_a_v1_event():
    made, fake = publisher(side_topics={"stable": "s", "secondary": "s2", "dark": "d"})
    made.publish("dark", {"request_id": "r1", "status": 200, "ts": 1})
    made.publish("secondary", {"request_id": "r1", "status": 200, "ts": 1})
    dark, secondary = (orjson.loads(value) for _, value, _ in fake.produced)
    assert "event_version" not in dark and "side" not in dark
    assert secondary["event_version"] == 2 and secondary["side"] == "secondary"


def test_publish_raw_sends_the_bytes_as_given():
    made, fake = publisher(side_topics=FOUR)
    made.publish_raw("model-a", "r1", b'{"request_id": "r1"}')
    assert fake.produced == [("r.model-a", b'{"request_id": "r1"}', "r1")]


def test_an_unknown_side_is_refused_naming_the_sides():
    made, fake = publisher(side_topics=FOUR)
    with pytest.raises(ValueError, match=r"'dark' has no topic.*model-a"):
        made.publish("dark", {"request_id": "r1", "status": 200})
    with pytest.raises(ValueError, match="has no topic"):
        made.publish_raw("model-c", "r1", b"{}")
    assert fake.produced == []


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"side_topics": FOUR, "stable_topic": "s"}, "not both"),
        ({"side_topics": FOUR, "dark_topic": "d"}, "not both"),
        ({"side_topics": {"dark": "d", "model-a": "a"}}, "needs a 'stable' topic"),
        ({"side_topics": {"stable": "s"}}, "at least one other side"),
        ({"side_topics": {"stable": "s", "Model A": "a"}}, "'Model A'"),
        ({"side_topics": {"stable": "s", "dark": "s"}}, "its own topic"),
        ({"side_topics": {"stable": "s", "dark": ""}}, "needs a topic name"),
    ],
)
def test_bad_side_topics_are_refused(options: dict[str, Any], says: str):
    with pytest.raises(ValueError, match=says):
        ResponsePublisher("127.0.0.1:1", **options)


@pytest.mark.parametrize("side", ["stable", "dark", "secondary", "model-a", "b2"])
def test_middlewares_take_any_side_name(side: str):
    assert check_side(side) == side


@pytest.mark.parametrize("side", ["", "Dark", "model a", "x" * 33, "1a", "dark\n"])
def test_middlewares_refuse_what_cannot_name_a_side(side: str):
    with pytest.raises(ValueError, match="side must be"):
        check_side(side)
