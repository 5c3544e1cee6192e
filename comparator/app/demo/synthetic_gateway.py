"""A synthetic gateway: mirrored traffic with realistic divergences and planted PII.

Every request produces a stable and a dark response event. Most pairs differ only in volatile
fields (trace ids, generation timestamps, cache flags) or within numeric tolerance, or return
arrays in another order, all of which the demo rules absorb. While its regressions are on
(``regressions``: always, or from some moment: ``comparator demo --regressions after:60``), a
few are real regressions:

* orders: the dark service rounds discounts differently on ~3% of orders (``$.discount``);
* search: the dark service returns HTTP 500 on ~1% of searches;
* customers: the dark service drops the ``loyalty_tier`` field on ~2% of responses; the
  responses carry customer emails, card numbers and IBANs (redacted in every output);
* render: the dark service times out on ~1% of requests (an ``error`` event);
* customers: the dark service dumps the stored card into a ``debug`` member on ~0.3% of
  lookups (a new secret exposure: the critical audit rule ``no-new-secrets`` hits);
* everywhere: the dark side is slower on some customer lookups (latency regressions).

The dark side is lost for ~0.5% of requests (orphans) whether regressions are on or not: a
transport problem, not the dark version's.

With more sides (``SyntheticGateway(sides=FOUR_SIDES)``, ``comparator demo --sides 4``) every
request also has a *secondary* response (a second copy of stable) and the candidates are named:
the last one (``model-b``) is the dark side above, regressions and all; the others
(``model-a``) are healthy copies of stable. The secondary and the healthy candidates differ from
stable only where two instances of the same version do: the volatile fields above and
``$.meta.nonce``, a random value every instance draws for each response, which the demo's rules
do not ignore: the secondary measures it as noise and the comparator cancels it
(``noise.cancel``), while ``model-b``'s regressions stay divergence, attributed to it only.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from comparator.core.events.sides import DARK, STABLE, TWO_SIDED, Sides

DEMO_RULES: dict[str, Any] = {
    "default": {
        "ignore": ["$..trace_id", "$.meta.generated_at", "$.meta.served_by"],
        "numbers": {"$..price": {"abs": 0.01}, "$.total": {"rel": 0.001}},
        "headers": {"compare": ["content-type"]},
        "latency": {"max_ratio": 2.0, "min_delta_ms": 50},
    },
    "routes": {
        "GET /v1/orders/{id}": {"ignore": ["$.cache_hit"], "match_by_key": {"$.items": "sku"}},
        "GET /v1/search": {"unordered": ["$.results"]},
        "POST /v1/render": {"text": {"ignore_whitespace": True}},
    },
}

# The audit rules (M6) the demo's worker runs: what the dark version must never do.
DEMO_AUDIT: dict[str, Any] = {
    "rules": [
        {"name": "no-new-secrets", "severity": "critical", "no_new_secrets": True,
         "ignore": ["$..trace_id"]},
        {"name": "order-total-not-negative", "severity": "critical",
         "routes": ["GET /v1/orders/{id}"], "path": "$.total", "type": "number", "min": 0},
        {"name": "loyalty-tier-present", "severity": "warning",
         "routes": ["GET /v1/customers/{id}"], "exists": "$.loyalty_tier"},
    ]
}  # fmt: skip

# ``comparator demo --sides 4``: a secondary, a healthy candidate and a regressed one (the last)
HEALTHY, REGRESSED = "model-a", "model-b"
FOUR_SIDES = Sides(candidates=(HEALTHY, REGRESSED), secondary=True)
NOISY_FIELD = "$.meta.nonce"  # random on every side (more than two sides only): noise

FIRST = ("ada", "grace", "alan", "edsger", "barbara", "ken", "margaret", "linus")
CARDS = ("4111 1111 1111 1111", "5500-0000-0000-0004", "4012888888881881")
IBANS = ("DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606")


@dataclass(frozen=True, slots=True)
class MirroredRequest:
    request_id: str
    stable: dict[str, Any] | None
    dark: dict[str, Any] | None  # with more sides: the regressed candidate's (``dark_side``)
    dark_side: str = DARK
    others: tuple[tuple[str, dict[str, Any]], ...] = ()  # the secondary, healthy candidates

    def responses(self) -> list[tuple[str, dict[str, Any]]]:
        """``(side, event)`` of every response the gateway saw (a lost one left out), stable
        first."""
        out = [(STABLE, self.stable)] if self.stable is not None else []
        out.extend(self.others)
        if self.dark is not None:
            out.append((self.dark_side, self.dark))
        return out


class SyntheticGateway:
    def __init__(
        self,
        seed: int | None = None,
        regressions: Callable[[], bool] = lambda: True,
        sides: Sides = TWO_SIDED,
    ) -> None:
        """``regressions`` says, for each request, whether the dark side's regressions are
        on (the noise the rules absorb is always there). ``sides``: stable and ``dark`` (the
        default), or more: the secondary (if any) and every candidate but the last are healthy
        copies of stable, the last candidate is the dark side (module docstring)."""
        self.rng = random.Random(seed)
        self.regressions = regressions
        self._regressing = True
        self.sides = sides
        self.dark_side = sides.candidates[-1]
        self.healthy: tuple[str, ...] = sides.compared[:-1]  # secondary, healthy candidates

    def requests(self) -> Iterator[MirroredRequest]:
        while True:
            yield self.next_request()

    def next_request(self) -> MirroredRequest:
        rng = self.rng
        self._regressing = self.regressions()
        request_id = str(uuid.UUID(int=rng.getrandbits(128)))
        now = int(time.time() * 1000)
        maker = rng.choices(
            (self._order, self._search, self._customer, self._render, self._health),
            weights=(35, 30, 20, 10, 5),
        )[0]
        stable, dark = maker(request_id)
        for side, event in (("stable", stable), ("dark", dark)):
            event.setdefault("request_id", request_id)
            event["ts"] = now + (rng.randrange(0, 40) if side == "dark" else 0)
            event["trace_id"] = uuid.UUID(int=rng.getrandbits(128)).hex
            event.setdefault("latency_ms", round(rng.lognormvariate(3.0, 0.4), 1))
        lost = rng.random() < 0.005
        if self.sides.two_sided:
            return MirroredRequest(request_id, stable, None if lost else dark)
        others = tuple((side, self._copy_of_stable(stable, side, now)) for side in self.healthy)
        for _, event in ((STABLE, stable), *others, (self.dark_side, dark)):
            self._nonce(event)
        return MirroredRequest(request_id, stable, None if lost else dark, self.dark_side, others)

    # -- more than two sides -----------------------------------------------------------------

    def _copy_of_stable(self, stable: dict[str, Any], side: str, now: int) -> dict[str, Any]:
        """Another instance of the stable version answering the same request: what differs is
        what differs between any two instances (volatile fields, a little latency)."""
        rng = self.rng
        event: dict[str, Any] = orjson.loads(orjson.dumps(stable))
        body = event.get("body")
        if isinstance(body, dict):
            if "meta" in body:
                body["meta"] = self._meta(side)
            if "cache_hit" in body:
                body["cache_hit"] = rng.random() < 0.5
        event["ts"] = now + rng.randrange(0, 40)
        event["trace_id"] = uuid.UUID(int=rng.getrandbits(128)).hex
        event["latency_ms"] = round(stable["latency_ms"] * rng.uniform(0.97, 1.03), 1)
        return event

    def _nonce(self, event: dict[str, Any]) -> None:
        """``$.meta.nonce``: what each instance draws for each response (noise)."""
        body = event.get("body")
        if isinstance(body, dict) and isinstance(body.get("meta"), dict):
            body["meta"]["nonce"] = f"n{self.rng.getrandbits(48):012x}"

    # -- routes ----------------------------------------------------------------------------

    def _meta(self, side: str) -> dict[str, Any]:
        return {
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "served_by": f"{side}-{self.rng.randrange(1, 6)}",
            "trace_id": uuid.UUID(int=self.rng.getrandbits(128)).hex,
        }

    def _order(self, request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        order_id = rng.randrange(10_000, 99_999)
        skus = rng.sample(range(1000), rng.randrange(1, 4))
        items: list[dict[str, Any]] = [
            {
                "sku": f"SKU-{sku:04d}",
                "qty": rng.randrange(1, 4),
                "price": round(rng.uniform(2, 80), 2),
            }
            for sku in skus
        ]
        total = round(sum(i["qty"] * i["price"] for i in items), 2)
        discount = round(total * 0.05, 2)
        base = {"route": "GET /v1/orders/{id}", "method": "GET", "path": f"/v1/orders/{order_id}",
                "status": 200, "headers": {"content-type": "application/json"}}  # fmt: skip
        stable = {**base, "body": {"id": order_id, "items": items, "total": total,
                                   "discount": discount, "cache_hit": rng.random() < 0.5,
                                   "meta": self._meta("stable")}}  # fmt: skip
        dark_items = [dict(i, price=round(i["price"] + rng.choice((0, 0.004)), 3)) for i in items]
        rng.shuffle(dark_items)
        dark_discount = discount
        if self._bug(0.03):
            dark_discount = round(total * 0.05 + 0.05, 2)
        dark = {**base, "body": {"id": order_id, "items": dark_items, "total": total * 1.0002,
                                 "discount": dark_discount, "cache_hit": rng.random() < 0.5,
                                 "meta": self._meta("dark")}}  # fmt: skip
        return stable, dark

    def _search(self, request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        results = [{"id": rng.randrange(10**6), "score": rng.randrange(100)} for _ in range(5)]
        query = rng.choice(("lamp", "desk", "chair", "monitor"))
        base = {"route": "GET /v1/search", "method": "GET", "path": f"/v1/search?q={query}",
                "headers": {"content-type": "application/json"}}  # fmt: skip
        stable = {**base, "status": 200, "body": {"results": results, "meta": self._meta("stable")}}
        shuffled = results[:]
        rng.shuffle(shuffled)
        if self._bug(0.01):
            dark = {**base, "status": 500, "body": {"error": "index unavailable"}}
        else:
            dark = {
                **base,
                "status": 200,
                "body": {"results": shuffled, "meta": self._meta("dark")},
            }
        return stable, dark

    def _customer(self, request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        customer_id = rng.randrange(1000, 9999)
        name = rng.choice(FIRST)
        body = {
            "id": customer_id,
            "email": f"{name}.{customer_id}@example.com",
            "payment": {"card_number": rng.choice(CARDS), "iban": rng.choice(IBANS)},
            "note": f"call {name} at {name}@example.org about card {rng.choice(CARDS)}",
            "loyalty_tier": rng.choice(("gold", "silver", "bronze")),
        }
        headers = {"content-type": "application/json",
                   "authorization": f"Bearer tok_{rng.getrandbits(64):016x}"}  # fmt: skip
        base = {
            "route": "GET /v1/customers/{id}",
            "method": "GET",
            "path": f"/v1/customers/{customer_id}",
            "status": 200,
            "headers": headers,
        }
        stable: dict[str, Any] = {**base, "body": {**body, "meta": self._meta("stable")}}
        dark_body = {**body, "meta": self._meta("dark")}
        if self._bug(0.02):
            del dark_body["loyalty_tier"]
        if self._bug(0.003):
            dark_body["debug"] = {"card_on_file": rng.choice(CARDS), "cache": "miss"}
        dark = {**base, "body": dark_body}
        stable["latency_ms"] = round(rng.lognormvariate(3.0, 0.3), 1)
        slow = self._bug(0.05)  # a slow dark code path on some lookups
        if slow:
            dark["latency_ms"] = round(stable["latency_ms"] * 3.0 + 60, 1)
        elif self._regressing:  # a little slower on every lookup
            dark["latency_ms"] = round(stable["latency_ms"] * 1.05 + 2, 1)
        else:
            dark["latency_ms"] = round(stable["latency_ms"] * rng.uniform(0.97, 1.03), 1)
        return stable, dark

    def _render(self, request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        text = f"<h1>Invoice {rng.randrange(10**5)}</h1>\n<p>Thank you</p>"
        base: dict[str, Any] = {
            "route": "POST /v1/render",
            "method": "POST",
            "path": "/v1/render",
            "headers": {"content-type": "text/html"},
        }
        stable = {**base, "status": 200, "body_text": text}
        if self._bug(0.01):
            dark = {**base, "error": {"type": "timeout", "message": "upstream timed out after 2s"}}
        else:
            dark = {**base, "status": 200, "body_text": text.replace("\n", "\n  ")}
        return stable, dark

    def _bug(self, share: float) -> bool:
        """Whether this request hits a regression of the dark side that happens on ``share``
        of requests (one random draw either way, so the traffic itself stays the same)."""
        hit = self.rng.random() < share
        return hit and self._regressing

    def _health(self, request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        base = {"route": "GET /healthz", "method": "GET", "path": "/healthz", "status": 200}
        return {**base, "body_text": "ok"}, {**base, "body_text": "ok"}
