"""The operations endpoint on a loopback port: /metrics, /healthz, /readyz."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from comparator.app.ops.ops_server import OpsServer


class State:
    live = True
    ready = (True, "consuming 4 partitions")


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[OpsServer, State, CollectorRegistry]]:
    # one server for the module: stopping one waits out serve_forever's 0.5 s poll
    registry = CollectorRegistry()
    state = State()
    ops = OpsServer(
        "127.0.0.1", 0, registry, is_live=lambda: state.live, is_ready=lambda: state.ready
    ).start()
    try:
        yield ops, state, registry
    finally:
        ops.stop()


@pytest.fixture
def server(running) -> Iterator[tuple[OpsServer, State, Counter]]:
    ops, state, registry = running
    state.live, state.ready = True, (True, "consuming 4 partitions")
    counter = Counter("comparator_test_things", "Things.", ["kind"], registry=registry)
    try:
        yield ops, state, counter
    finally:
        registry.unregister(counter)


def get(ops: OpsServer, path: str) -> tuple[int, str, str]:
    url = f"http://{ops.address}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read().decode()


def test_binds_a_free_loopback_port(server):
    ops, _, _ = server
    host, _, port = ops.address.rpartition(":")
    assert host == "127.0.0.1" and int(port) > 0


def test_metrics_serves_the_registry(server):
    ops, _, counter = server
    counter.labels("a").inc(3)
    status, ctype, body = get(ops, "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain") and "version=" in ctype
    assert 'comparator_test_things_total{kind="a"} 3.0' in body
    counter.labels("a").inc()
    assert 'comparator_test_things_total{kind="a"} 4.0' in get(ops, "/metrics")[2]


def test_metrics_ignores_the_query_string(server):
    ops, _, _ = server
    assert get(ops, "/metrics?name[]=x")[0] == 200


def test_healthz_reflects_liveness(server):
    ops, state, _ = server
    assert get(ops, "/healthz")[::2] == (200, "ok\n")
    state.live = False
    assert get(ops, "/healthz")[::2] == (503, "stalled\n")
    state.live = True
    assert get(ops, "/healthz?verbose=1")[0] == 200


def test_readyz_reflects_readiness_and_says_why(server):
    ops, state, _ = server
    assert get(ops, "/readyz")[::2] == (200, "consuming 4 partitions\n")
    state.ready = (False, "broker unreachable")
    assert get(ops, "/readyz")[::2] == (503, "broker unreachable\n")


@pytest.mark.parametrize("path", ["/", "/metric", "/metrics/x", "/health"])
def test_unknown_path_is_404(server, path):
    ops, _, _ = server
    status, _, body = get(ops, path)
    assert status == 404
    assert "/metrics" in body


def test_stop_closes_the_port():
    ops = OpsServer(
        "127.0.0.1", 0, CollectorRegistry(), is_live=lambda: True, is_ready=lambda: (True, "")
    ).start()
    address = ops.address
    ops.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://{address}/healthz", timeout=2)
