"""A small corpus with known noise and known regressions, for the tools' tests.

``GET /v1/orders/{id}``: 60 pairs.
- ``$.served_at`` differs on every pair with unrelated values (a timestamp per side): noise;
- ``$.state`` is ``cancelled`` on the dark side of pairs 0-5 (6 pairs): a real regression;
- ``$.total`` differs by a relative 1e-4..4e-4 on the 30 odd pairs (tolerated by the config's
  ``numbers: {$.total: {rel: 0.001}}``) and by +10% on pairs 10, 20, 30 (3 regressions);
- ``$.payment.card_number`` (a planted card) differs on pair 7 (1 regression, secret values);
- every pair carries a planted e-mail and a bearer token (equal on both sides).

``GET /v1/users/{id}``: 20 pairs.
- ``$.request_host`` comes from a pool of hosts on each side, unrelated: noise, ignored by the
  config's rules;
- the dark side answers 500 on pairs 3 and 11 (2 status regressions);
- the ``x-version`` header is ``1.4`` vs ``1.5`` on every pair (not compared by the config).

Plus 2 stable events without a dark partner (orphans) and one invalid dark line.

Under the config's rules: 62 mismatching pairs (60 orders, 2 users). Ignoring ``$.served_at``
as well: 12 (10 orders: 6 state + 3 total + 1 card; 2 users), so 50 disappear.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

T0 = 1_714_557_600_000
ORDERS = "GET /v1/orders/{id}"
USERS = "GET /v1/users/{id}"
REDACTION_KEY = "tools-test-redaction-key-0123456789"

ORDER_PAIRS = 60
USER_PAIRS = 20
STATE_REGRESSIONS = range(0, 6)
TOTAL_REGRESSIONS = (10, 20, 30)
CARD_REGRESSION = 7
STATUS_REGRESSIONS = (3, 11)

CONFIG_RULES: dict[str, Any] = {
    "default": {"numbers": {"$.total": {"rel": 0.001}}},
    "routes": {USERS: {"ignore": ["$.request_host"]}},
}
IGNORE_SERVED_AT: dict[str, Any] = {
    "default": {"ignore": ["$.served_at"], "numbers": {"$.total": {"rel": 0.001}}},
    "routes": {USERS: {"ignore": ["$.request_host"]}},
}


@dataclass
class Corpus:
    directory: Path
    stable: Path
    dark: Path
    config: Path
    secrets: list[str] = field(default_factory=list)

    def rules_file(self, name: str, rules: dict[str, Any]) -> Path:
        path = self.directory / name
        path.write_text(yaml.safe_dump({"rules": rules}, sort_keys=False), encoding="utf-8")
        return path


def luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def write_corpus(directory: Path, *, sampling: int = 1_000_000) -> Corpus:
    rng = random.Random(6)
    directory.mkdir(parents=True, exist_ok=True)
    secrets: list[str] = []
    stable_lines: list[dict[str, Any]] = []
    dark_lines: list[dict[str, Any]] = []
    token = "Bearer tk_live_" + "".join(
        rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(28)
    )
    secrets.append(token.split(" ", 1)[1])
    ts = T0
    for i in range(ORDER_PAIRS):
        ts += 100
        email = f"buyer.{i}.{rng.randint(1000, 9999)}@shop.example.com"
        card = luhn("4" + "".join(str(rng.randint(0, 9)) for _ in range(14)))
        secrets += [email, card]
        total = round(rng.uniform(20, 400), 2)
        body = {
            "order_id": f"ord-{1000 + i}",
            "state": "confirmed",
            "total": total,
            "served_at": _iso(ts + rng.randint(0, 30)),
            "customer": {"email": email, "tier": rng.choice(["gold", "std"])},
            "payment": {"card_number": card, "method": "card"},
        }
        dark_body = json.loads(json.dumps(body))
        dark_body["served_at"] = _iso(ts + 40 + rng.randint(0, 30))
        if i in STATE_REGRESSIONS:
            dark_body["state"] = "cancelled"
        if i % 2 == 1:
            dark_body["total"] = round(total * (1 + rng.uniform(1e-4, 4e-4)), 4)
        if i in TOTAL_REGRESSIONS:
            dark_body["total"] = round(total * 1.1, 2)
        if i == CARD_REGRESSION:
            other = luhn("5" + "".join(str(rng.randint(0, 9)) for _ in range(14)))
            secrets.append(other)
            dark_body["payment"]["card_number"] = other
        rid = f"req-o{i:03d}"
        headers = {"content-type": "application/json", "authorization": token}
        stable_lines.append(_event(rid, ORDERS, ts, 200, body, headers))
        dark_lines.append(_event(rid, ORDERS, ts + 20, 200, dark_body, headers))
        if i < USER_PAIRS:
            ts += 50
            uid = f"req-u{i:03d}"
            user_email = f"user.{i}.{rng.randint(1000, 9999)}@corp.example.org"
            secrets.append(user_email)
            user = {
                "id": f"usr-{i}",
                "email": user_email,
                "request_host": f"web-{rng.randint(1, 8)}.internal",
            }
            dark_user = dict(user, request_host=f"web-{rng.randint(1, 8)}.internal")
            status = 500 if i in STATUS_REGRESSIONS else 200
            stable_lines.append(_event(uid, USERS, ts, 200, user, {"x-version": "1.4"}))
            dark_lines.append(_event(uid, USERS, ts + 10, status, dark_user, {"x-version": "1.5"}))
    for k in range(2):  # orphans: no dark partner
        ts += 100
        stable_lines.append(
            _event(f"req-x{k}", ORDERS, ts, 200, {"state": "confirmed", "note": secrets[1]}, {})
        )
    stable = directory / "stable.jsonl"
    dark = directory / "dark.jsonl"
    stable.write_text("".join(json.dumps(e) + "\n" for e in stable_lines), encoding="utf-8")
    dark.write_text(
        "".join(json.dumps(e) + "\n" for e in dark_lines) + '{"request_id": 5, "bad": true}\n',
        encoding="utf-8",
    )
    config = directory / "comparator.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "source": {"kind": "files", "files": {"stable": str(stable), "dark": str(dark)}},
                "outputs": {
                    "mismatches": {"kind": "file", "path": str(directory / "out/mismatches.jsonl")},
                    "dead_letters": {"kind": "file", "path": str(directory / "out/dead.jsonl")},
                    "summary": str(directory / "out/summary.json"),
                },
                "sampling": {"max_records_per_route_per_minute": sampling},
                "rules": CONFIG_RULES,
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return Corpus(directory, stable, dark, config, secrets)


def _event(
    rid: str, route: str, ts: int, status: int, body: Any, headers: dict[str, str]
) -> dict[str, Any]:
    method, template = route.split(" ", 1)
    event: dict[str, Any] = {
        "request_id": rid,
        "route": route,
        "method": method,
        "path": template.replace("{id}", rid) + "?lang=en",
        "status": status,
        "latency_ms": 20.0,
        "body": body,
        "ts": ts,
    }
    if headers:
        event["headers"] = headers
    return event


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"planted secret {secret[:6]}... appears in {where}"
        digits = "".join(c for c in secret if c.isdigit())
        if len(digits) >= 13 and secret.isdigit():
            assert digits not in text.replace(" ", "").replace("-", ""), where
