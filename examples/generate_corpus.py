#!/usr/bin/env python3
"""Generate the example corpus for file mode, and its known truth.

    python examples/generate_corpus.py      # rewrites the files below in place (deterministic)

Writes, next to this script:

- ``stable.jsonl`` / ``dark.jsonl``: about 2,000 mirrored requests (one event every ~50 ms of
  event time, ~500-byte events) for ``files.yaml``: matches that differ only in ignored volatile
  fields, numbers within tolerance, reordered arrays under ``unordered``/``match_by_key``, status
  classes, whitespace-only text differences; real mismatches of every kind; latency regressions;
  orphans of both sides; duplicates; late lines; invalid lines of every reason; planted PII.
- ``expected-summary.json``: the summary the comparator must write for this corpus. It is
  computed here from the scenarios this script planted, never by running the comparator.
- ``planted-secrets.txt``: every planted secret string, one per line; none may appear in any
  output of the comparator.

The script also re-plays its own lines through a small model of the join semantics of the
design (streaming merge by event time, window + grace, late, duplicates) and refuses to write
anything if a planted scenario would not land as planned (e.g. a "pair" whose partner would be
late). That check guards the planting; the expected counts come from the plan.

Only the standard library is used: the truth must not depend on the comparator's code.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = 20240501
T0 = 1_714_557_600_000  # 2024-05-01T10:00:00Z
STEP_MS = 50
WINDOW_MS = 30_000
GRACE_MS = 5_000
HORIZON_MS = WINDOW_MS + GRACE_MS
MAX_EVENT_BYTES = 65_536
MAX_DEPTH = 32

INVALID_REASONS = (
    "oversize",
    "invalid_utf8",
    "bad_json",
    "too_deep",
    "not_an_object",
    "missing_request_id",
    "invalid_field",
    "no_payload",
    "side_mismatch",
    "bad_timestamp",
)
KINDS = ("status", "body", "headers", "error")

ORDERS = "GET /v1/orders/{id}"
SEARCH = "GET /v1/search"
SUGGEST = "GET /v1/search/suggest"
USERS = "GET /v1/users/{id}"
HEALTH = "GET /v1/health"  # events carry method + path only: the route is the default
RENDER = "POST /v1/render"
SESSIONS = "POST /v1/sessions"

rng = random.Random(SEED)


# ---------------------------------------------------------------------------------------------
# Planted secrets (PII). Every value made here is recorded in planted-secrets.txt.

SECRETS: list[str] = []


def secret(value: str) -> str:
    if value not in SECRETS:
        SECRETS.append(value)
    return value


FIRST = ["maria", "john", "aiko", "lena", "omar", "chen", "sofia", "lukas", "nina", "raj"]
LAST = ["gonzalez", "smith", "tanaka", "muller", "haddad", "wei", "rossi", "becker", "ivanova"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example.io"]


def email() -> str:
    local = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 9999)}"
    return secret(f"{local}@{rng.choice(DOMAINS)}")


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card(style: str = "spaces") -> str:
    """A Luhn-valid card number: compact, in groups of 4 with spaces, or with dashes."""
    if style == "amex":
        body = "37" + "".join(str(rng.randint(0, 9)) for _ in range(12))
        digits = body + luhn_check_digit(body)
        return secret(f"{digits[:4]} {digits[4:10]} {digits[10:]}")
    body = rng.choice(["4", "51", "55"])
    body += "".join(str(rng.randint(0, 9)) for _ in range(15 - len(body)))
    digits = body + luhn_check_digit(body)
    if style == "compact":
        return secret(digits)
    sep = " " if style == "spaces" else "-"
    return secret(sep.join(digits[i : i + 4] for i in range(0, 16, 4)))


def iban(printed: bool = True) -> str:
    """A German IBAN with valid mod-97 check digits."""
    bban = "".join(str(rng.randint(0, 9)) for _ in range(18))
    rearranged = bban + "DE00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(numeric) % 97
    compact = f"DE{check:02d}{bban}"
    if not printed:
        return secret(compact)
    return secret(" ".join(compact[i : i + 4] for i in range(0, len(compact), 4)))


def ssn() -> str:
    area = rng.randint(100, 665)
    return secret(f"{area:03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt() -> str:
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    claims = {"sub": f"usr-{rng.randint(1000, 99999)}", "iat": 1714550000 + rng.randint(0, 9999)}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = b64url(rng.randbytes(32))
    return secret(f"{header}.{payload}.{signature}")


def opaque(prefix: str, length: int = 32) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return secret(prefix + "".join(rng.choice(alphabet) for _ in range(length)))


def password() -> str:
    words = ["Correct", "Horse", "Battery", "Staple", "Purple", "Monkey", "Dishwasher"]
    return secret(f"{rng.choice(words)}-{rng.choice(words)}!{rng.randint(100, 999)}")


# ---------------------------------------------------------------------------------------------
# Building blocks of events


def hexid(n: int = 32) -> str:
    """Random hex without long digit runs (so it never looks like a card number)."""
    while True:
        value = f"{rng.getrandbits(4 * n):0{n}x}"
        if not re.search(r"[0-9]{8}", value):
            return value


def iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def http_date(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


PRODUCTS = [
    ("Espresso beans 1kg", 18.5),
    ("Ceramic pour-over dripper", 24.9),
    ("Paper filters (100)", 4.25),
    ("Burr grinder", 129.0),
    ("Milk frothing jug 600ml", 15.75),
    ("Gooseneck kettle", 59.99),
    ("Cold brew bottle", 21.4),
    ("Digital scale", 34.95),
]
TAGS = ["express", "gift", "first-order", "subscription", "b2b", "fragile", "priority"]
QUERIES = ["espresso", "grinder", "kettle", "filters", "milk jug", "scale", "cold brew"]
LOCALES = ["de-DE", "en-GB", "fr-FR", "ja-JP", "es-ES", "it-IT"]
ROLES = ["viewer", "editor", "billing", "admin", "support"]


@dataclass
class Req:
    """One mirrored request: both sides' event documents (``None`` for a missing side)."""

    rid: str
    route: str
    stable: dict[str, Any] | None
    dark: dict[str, Any] | None
    scenario: str
    kinds: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    latency_regression: bool = False


def request_id() -> str:
    return f"req-{hexid(20)}"


def headers(side: str, ts: int, content_type: str | None) -> dict:
    h: dict[str, str] = {}
    if content_type is not None:
        h["content-type"] = content_type
    h["server"] = "envoy" if side == "stable" else "envoy-canary"
    h["date"] = http_date(ts)
    h["x-envoy-upstream-service-time"] = str(rng.randint(3, 180))
    h["x-served-by"] = "checkout-v41" if side == "stable" else "checkout-v42-rc1"
    return h


def meta(ts: int) -> dict:
    return {"generated_at": iso(ts), "trace_id": hexid(), "region": "eu-west-1"}


def orders_body(ts: int) -> dict:
    n = rng.randint(1, 4)
    skus = rng.sample(range(1000, 10000), n)  # unique: items are matched by sku
    items = [
        {"sku": f"SKU-{sku}", "name": name, "qty": rng.randint(1, 3), "price": price}
        for sku, (name, price) in zip(skus, rng.sample(PRODUCTS, n), strict=True)
    ]
    total = round(sum(i["price"] * i["qty"] for i in items) + 4.9, 2)
    return {
        "order_id": f"ord-{rng.randint(10000, 99999)}",
        "customer": {"id": f"cus-{rng.randint(1000, 9999)}", "tier": rng.choice(["gold", "std"])},
        "items": items,
        "tags": rng.sample(TAGS, rng.randint(1, 3)),
        "currency": "EUR",
        "state": rng.choice(["confirmed", "packed", "shipped"]),
        "total": total,
        "shipping": {"method": rng.choice(["dhl", "ups", "pickup"]), "eta_days": rng.randint(1, 5)},
        "cache_hit": rng.random() < 0.5,
        "meta": meta(ts),
    }


def search_body(ts: int, suggest: bool) -> dict:
    query = rng.choice(QUERIES)
    if suggest:
        results = [
            {"text": f"{query} {w}", "score": round(rng.uniform(0.2, 0.99), 3)}
            for w in rng.sample(["beans", "machine", "set", "pro", "mini", "travel"], 4)
        ]
        return {"prefix": query[:3], "results": results, "cache_hit": False, "meta": meta(ts)}
    results = [
        {
            "id": f"p-{rng.randint(100, 999)}",
            "title": name,
            "price": price,
            "score": round(rng.uniform(0.2, 0.99), 3),
        }
        for name, price in rng.sample(PRODUCTS, rng.randint(3, 5))
    ]
    return {
        "query": query,
        "page": 1,
        "total_hits": rng.randint(5, 400),
        "results": results,
        "cache_hit": rng.random() < 0.3,
        "meta": meta(ts),
    }


def users_body(ts: int) -> dict:
    return {
        "id": f"usr-{rng.randint(1000, 99999)}",
        "name": f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}",
        "email": email(),
        "age": rng.randint(19, 77),
        "roles": rng.sample(ROLES, rng.randint(2, 3)),
        "locale": rng.choice(LOCALES),
        "preferences": {"newsletter": rng.random() < 0.5, "theme": rng.choice(["dark", "light"])},
        "trace_id": hexid(),
        "meta": meta(ts),
    }


def sessions_body(ts: int) -> dict:
    return {
        "user_id": f"usr-{rng.randint(1000, 99999)}",
        "session": {"token": opaque("sess_"), "expires_in": 3600},
        "mfa_required": False,
        "meta": meta(ts),
    }


def render_text(indent: int = 2, newline: str = "\n", total: str | None = None) -> str:
    invoice = rng.randint(1000, 9999)
    total = total or f"{rng.randint(20, 400)}.{rng.randint(0, 99):02d}"
    lines = [
        "<!doctype html>",
        "<html>",
        "<head><title>Invoice</title></head>",
        "<body>",
        f"<h1>Invoice {invoice}</h1>",
        "<p>Thank you for your order.</p>",
        f'<p class="total">Total: {total} EUR</p>',
        "<p>Questions? Reply to this e-mail.</p>",
        "</body>",
        "</html>",
    ]
    pad = " " * indent
    return (
        newline.join(
            pad * (1 if 0 < i < len(lines) - 1 else 0) + line for i, line in enumerate(lines)
        )
        + newline
    )


def respace(text: str) -> str:
    """Whitespace-only variant of ``text``: other indentation, CRLF, doubled spaces, trailer."""
    out = text.replace("\n  ", "\r\n    \t").replace("Thank you", "Thank  you")
    return out.replace("</html>\n", "</html>\r\n\r\n") + "  "


ROUTE_INFO = {
    ORDERS: ("GET", "/v1/orders/{n}"),
    SEARCH: ("GET", "/v1/search"),
    SUGGEST: ("GET", "/v1/search/suggest"),
    USERS: ("GET", "/v1/users/{n}"),
    HEALTH: ("GET", "/v1/health"),
    RENDER: ("POST", "/v1/render"),
    SESSIONS: ("POST", "/v1/sessions"),
}


def base_pair(route: str, ts_stable: int, ts_dark: int) -> tuple[dict, dict]:
    """A matching pair: identical up to ignored volatile fields and uncompared headers."""
    method, path = ROUTE_INFO[route]
    path = path.replace("{n}", str(rng.randint(1000, 99999)))
    trace = hexid()
    latency = round(rng.uniform(12, 140), 1)
    dark_latency = round(latency * rng.uniform(0.75, 1.3), 1)
    docs = []
    for side, lat in (("stable", latency), ("dark", dark_latency)):
        doc: dict[str, Any] = {"request_id": "", "side": side}
        if route != HEALTH:
            doc["route"] = route
        doc["method"] = method
        doc["path"] = path
        doc["status"] = 200
        doc["latency_ms"] = lat
        docs.append(doc)
    s, d = docs
    if route == HEALTH:
        s["latency_ms"] = round(rng.uniform(0.8, 4.0), 1)
        d["latency_ms"] = round(s["latency_ms"] * rng.uniform(0.8, 1.2), 1)
        s["headers"] = headers("stable", ts_stable, None)
        d["headers"] = headers("dark", ts_dark, None)
    elif route == RENDER:
        s["headers"] = headers("stable", ts_stable, "text/html; charset=utf-8")
        d["headers"] = headers("dark", ts_dark, "text/html; charset=utf-8")
        s["body_text"] = d["body_text"] = render_text()
    else:
        s["headers"] = headers("stable", ts_stable, "application/json")
        d["headers"] = headers("dark", ts_dark, "application/json")
        if route == ORDERS:
            body = orders_body(ts_stable)
        elif route in (SEARCH, SUGGEST):
            body = search_body(ts_stable, route == SUGGEST)
        elif route == USERS:
            body = users_body(ts_stable)
        else:
            body = sessions_body(ts_stable)
        s["body"] = body
        dark_body = copy.deepcopy(body)
        # volatile fields, all ignored by the rules
        dark_body["meta"]["generated_at"] = iso(ts_dark + rng.randint(0, 40))
        dark_body["meta"]["trace_id"] = hexid()
        if "trace_id" in dark_body:
            dark_body["trace_id"] = hexid()
        if route == ORDERS:
            dark_body["cache_hit"] = rng.random() < 0.5
        d["body"] = dark_body
    s["trace_id"] = d["trace_id"] = trace
    return s, d


# ---------------------------------------------------------------------------------------------
# PII planting: identical on both sides (so it adds no difference), in bodies, headers, errors.

PII_STYLES = 6


def plant_pii(doc: dict, other: dict | None, style: int) -> None:
    """Put PII into ``doc`` and, identically, into ``other`` (if given, and where comparable)."""
    targets = [doc] if other is None else [doc, other]
    h = {}
    body_extra: dict[str, Any] = {}
    text_extra = ""
    if style == 0:
        h["authorization"] = f"Bearer {jwt()}"
        body_extra = {"customer_email": email()}
        text_extra = f"<p>Billed to {email()}</p>"
    elif style == 1:
        h["set-cookie"] = f"sid={opaque('s_', 28)}; Path=/; HttpOnly; Secure"
        h["x-api-key"] = opaque("ak_live_", 24)
        body_extra = {"payment": {"card_number": card("spaces"), "iban": iban(printed=True)}}
        text_extra = f"<p>Paid by card {card('dashes')}</p>"
    elif style == 2:
        h["x-customer-email"] = email()
        body_extra = {"note": f"refund to {iban(printed=False)} or card {card('compact')}"}
        text_extra = f"<p>IBAN {iban(printed=True)}</p>"
    elif style == 3:
        h["cookie"] = f"session={opaque('c_', 30)}; theme=dark"
        body_extra = {
            "kyc": {"ssn": ssn(), "verified": True},
            "support_note": f"caller gave SSN {ssn()}",
        }
        text_extra = f"<p>SSN on file: {ssn()}</p>"
    elif style == 4:
        token = jwt()
        h["x-forwarded-authorization"] = f"Bearer {token}"
        body_extra = {"account": {"password": password(), "login": email()}, "session_jwt": jwt()}
        text_extra = f"<p>Card {card('amex')}</p>"
    else:
        bearer = opaque("tok_", 36)
        h["authorization"] = f"Bearer {bearer}"
        body_extra = {
            "debug": f"upstream call with Authorization: Bearer {opaque('up_', 30)}",
            "backup_card": card("dashes"),
        }
        text_extra = f"<p>Contact {email()}</p>"
    for target in targets:
        if "headers" in target:
            target["headers"].update(h)
        elif "error" not in target:
            target["headers"] = dict(h)
        if isinstance(target.get("body"), dict):
            target["body"].update(copy.deepcopy(body_extra))
        elif "body_text" in target:
            target["body_text"] = target["body_text"].replace("</body>", text_extra + "\n</body>")


def make_error(doc: dict, etype: str, with_pii: bool) -> None:
    """Turn ``doc`` into an error event: the side gave no response."""
    for name in ("status", "body", "body_text", "headers"):
        doc.pop(name, None)
    path = doc.get("path", "/")
    if etype == "timeout":
        who = f" for {email()}" if with_pii else ""
        doc["error"] = {
            "type": "timeout",
            "message": f"upstream request timeout after 5000 ms on {path}{who}",
        }
        doc["latency_ms"] = round(5000 + rng.uniform(0, 3), 1)
    else:
        extra = f" (client cert of {email()}, card {card('spaces')})" if with_pii else ""
        doc["error"] = {
            "type": etype,
            "message": "upstream connect error or disconnect/reset before headers. reset reason:"
            f" connection failure{extra}",
        }
        doc["latency_ms"] = round(rng.uniform(0.3, 2.5), 1)


# ---------------------------------------------------------------------------------------------
# Scenarios. Each takes a base pair and returns (kinds, fields, latency_regression).

MATCH: tuple[frozenset, frozenset, bool] = (frozenset(), frozenset(), False)


def mismatch(*kinds_and_fields: tuple[str, str], latency: bool = False):
    kinds = frozenset(k for k, _ in kinds_and_fields)
    fields = frozenset(f for _, f in kinds_and_fields)
    return kinds, fields, latency


def sc_baseline(s, d):
    return MATCH


def sc_tolerance_orders(s, d):
    for item in d["body"]["items"]:
        item["price"] = round(item["price"] + rng.choice([-1, 1]) * rng.uniform(0.002, 0.008), 4)
    d["body"]["total"] = round(s["body"]["total"] * (1 + rng.uniform(-0.0005, 0.0005)), 4)
    return MATCH


def sc_tolerance_search(s, d):
    result = rng.choice(d["body"]["results"])
    result["price"] = round(result["price"] + rng.uniform(0.002, 0.008), 4)
    return MATCH


def _shuffle_differently(items: list) -> None:
    original = list(items)
    while items == original:
        rng.shuffle(items)


def _at_least_two_items(s, d) -> None:
    items = s["body"]["items"]
    while len(items) < 2:
        name, price = next(p for p in PRODUCTS if p[0] not in {i["name"] for i in items})
        item = {"sku": f"SKU-{rng.randint(1000, 9999)}", "name": name, "qty": 1, "price": price}
        if item["sku"] not in {i["sku"] for i in items}:
            items.append(item)
            d["body"]["items"].append(dict(item))


def sc_keyed_reorder(s, d):
    _at_least_two_items(s, d)
    _shuffle_differently(d["body"]["items"])
    return MATCH


def sc_unordered_reorder(s, d):
    _shuffle_differently(d["body"]["results"])
    return MATCH


def sc_health_class(s, d):
    d["status"] = 204
    return MATCH


def sc_render_whitespace(s, d):
    d["body_text"] = respace(s["body_text"])
    return MATCH


def sc_header_case(s, d):
    s["headers"]["Content-Type"] = s["headers"].pop("content-type")
    d["headers"]["x-served-by"] = "checkout-v42-rc1 (canary)"
    d["headers"]["cache-control"] = "no-store"
    return MATCH


def sc_ignored_one_sided(s, d):
    del s["body"]["meta"]["generated_at"]
    del s["body"]["meta"]["trace_id"]
    return MATCH


def sc_latency_regression(s, d):
    d["latency_ms"] = round(s["latency_ms"] * 3 + 80, 1)
    return (frozenset(), frozenset(), True)


def sc_latency_below_min_delta(s, d):
    # ratio > 2 but the delta stays under min_delta_ms: not a regression
    d["latency_ms"] = round(s["latency_ms"] * 3.5, 1)
    assert d["latency_ms"] - s["latency_ms"] < 50
    return MATCH


def sc_latency_below_ratio(s, d):
    # delta well over min_delta_ms but ratio under max_ratio: not a regression
    s["latency_ms"] = round(rng.uniform(300, 400), 1)
    d["latency_ms"] = round(s["latency_ms"] * 1.7, 1)
    return MATCH


def sc_both_errors_same_type(s, d):
    make_error(s, "timeout", with_pii=False)
    make_error(d, "timeout", with_pii=False)
    d["error"]["message"] = "upstream request timeout (deadline exceeded)"
    d["latency_ms"] = s["latency_ms"]
    return MATCH


def sc_price_beyond(s, d):
    items = d["body"]["items"]
    item = rng.choice(items)
    item["price"] = round(item["price"] + rng.choice([-1, 1]) * rng.uniform(0.05, 2.0), 2)
    if len(items) > 1 and rng.random() < 0.5:
        _shuffle_differently(items)  # keyed: still only the price differs
    return mismatch(("body", "$.items[*].price"))


def sc_total_beyond(s, d):
    d["body"]["total"] = round(s["body"]["total"] * 1.05 + 1, 2)
    return mismatch(("body", "$.total"))


def sc_state_changed(s, d):
    d["body"]["state"] = "cancelled" if s["body"]["state"] != "cancelled" else "shipped"
    return mismatch(("body", "$.state"))


def sc_search_cache_hit(s, d):
    # cache_hit is ignored on the orders route only
    d["body"]["cache_hit"] = not s["body"]["cache_hit"]
    return mismatch(("body", "$.cache_hit"))


def sc_age_type(s, d):
    d["body"]["age"] = str(s["body"]["age"])
    return mismatch(("body", "$.age"))


def sc_age_type_and_slow(s, d):
    d["body"]["age"] = str(s["body"]["age"])
    d["latency_ms"] = round(s["latency_ms"] * 4 + 60, 1)
    return mismatch(("body", "$.age"), latency=True)


def sc_total_hits_null(s, d):
    d["body"]["total_hits"] = None
    return mismatch(("body", "$.total_hits"))


def sc_added_key(s, d):
    d["body"]["nickname"] = s["body"]["name"].split()[0].lower()
    return mismatch(("body", "$.nickname"))


def sc_added_item_field(s, d):
    rng.choice(d["body"]["items"])["discount"] = 0.1
    return mismatch(("body", "$.items[*].discount"))


def sc_removed_key(s, d):
    del d["body"]["shipping"]
    return mismatch(("body", "$.shipping"))


def sc_removed_nested(s, d):
    del d["body"]["preferences"]["theme"]
    return mismatch(("body", "$.preferences.theme"))


def sc_added_and_removed(s, d):
    d["body"]["nickname"] = "nick"
    del d["body"]["locale"]
    return mismatch(("body", "$.nickname"), ("body", "$.locale"))


def sc_roles_order(s, d):
    d["body"]["roles"] = list(reversed(s["body"]["roles"]))
    return mismatch(("body", "$.roles"))


def sc_tags_order(s, d):
    tags = s["body"]["tags"]
    if len(tags) < 2:
        tags.append(next(t for t in TAGS if t not in tags))
    d["body"]["tags"] = list(reversed(tags))
    return mismatch(("body", "$.tags"))


def sc_email_changed(s, d):
    d["body"]["email"] = email()
    return mismatch(("body", "$.email"))


def sc_token_changed(s, d):
    d["body"]["session"]["token"] = opaque("sess_")
    return mismatch(("body", "$.session.token"))


def sc_status_only(s, d):
    d["status"] = 202
    return mismatch(("status", "status"))


def sc_health_down(s, d):
    d["status"] = 503
    return mismatch(("status", "status"))


def failed_response(kinds_and_fields):
    """A pair whose status class differs counts as the field ``status`` alone: what differs
    in its body comes with the failure (comparator/core/compare/headline.py)."""
    kinds, _, latency = kinds_and_fields
    return kinds, frozenset({"status"}), latency


def sc_status_and_body(s, d):
    d["status"] = 409
    d["body"]["state"] = "conflict"
    return failed_response(mismatch(("status", "status"), ("body", "$.state")))


def sc_content_type(s, d):
    d["headers"]["content-type"] = "application/json; charset=utf-8"
    return mismatch(("headers", "headers.content-type"))


def sc_content_type_missing(s, d):
    del d["headers"]["content-type"]
    return mismatch(("headers", "headers.content-type"))


def sc_render_text(s, d):
    d["body_text"] = re.sub(r"Total: [0-9.]+ EUR", "Total: 0.00 EUR", s["body_text"])
    assert d["body_text"] != s["body_text"]
    return mismatch(("body", "$"))


def sc_render_content_type(s, d):
    d["headers"]["content-type"] = "text/plain; charset=utf-8"
    return mismatch(("headers", "headers.content-type"))


def sc_everything(s, d):
    d["status"] = 500
    d["headers"]["content-type"] = "text/plain"
    d["body"]["state"] = "unknown"
    return failed_response(
        mismatch(("status", "status"), ("headers", "headers.content-type"), ("body", "$.state"))
    )


def sc_dark_error(s, d):
    make_error(d, rng.choice(["connect_error", "reset"]), with_pii=True)
    return mismatch(("error", "error"))


def sc_stable_error(s, d):
    make_error(s, "timeout", with_pii=True)
    return mismatch(("error", "error"))


def sc_both_errors_differ(s, d):
    make_error(s, "timeout", with_pii=True)
    make_error(d, "connect_error", with_pii=True)
    return mismatch(("error", "error.type"))


# (scenario, routes, count, plant PII?)
PAIR_PLAN: list[tuple[Any, tuple[str, ...], int, bool]] = [
    # matches
    (sc_tolerance_orders, (ORDERS,), 40, False),
    (sc_tolerance_search, (SEARCH,), 10, False),
    (sc_keyed_reorder, (ORDERS,), 30, False),
    (sc_unordered_reorder, (SEARCH, SUGGEST), 40, False),
    (sc_health_class, (HEALTH,), 20, False),
    (sc_render_whitespace, (RENDER,), 30, False),
    (sc_header_case, (USERS, ORDERS), 15, False),
    (sc_ignored_one_sided, (USERS, ORDERS, SEARCH), 10, False),
    (sc_latency_regression, (ORDERS, USERS, SEARCH, RENDER), 25, False),
    (sc_latency_below_min_delta, (HEALTH,), 10, False),
    (sc_latency_below_ratio, (ORDERS, USERS), 6, False),
    (sc_both_errors_same_type, (USERS, ORDERS), 4, False),
    # mismatches
    (sc_price_beyond, (ORDERS,), 12, True),
    (sc_total_beyond, (ORDERS,), 8, True),
    (sc_state_changed, (ORDERS,), 8, True),
    (sc_search_cache_hit, (SEARCH,), 6, True),
    (sc_age_type, (USERS,), 5, True),
    (sc_age_type_and_slow, (USERS,), 3, True),
    (sc_total_hits_null, (SEARCH,), 5, True),
    (sc_added_key, (USERS,), 6, True),
    (sc_added_item_field, (ORDERS,), 4, True),
    (sc_removed_key, (ORDERS,), 6, True),
    (sc_removed_nested, (USERS,), 4, True),
    (sc_added_and_removed, (USERS,), 3, True),
    (sc_roles_order, (USERS,), 6, True),
    (sc_tags_order, (ORDERS,), 5, True),
    (sc_email_changed, (USERS,), 4, True),
    (sc_token_changed, (SESSIONS,), 5, True),
    (sc_status_only, (ORDERS,), 6, True),
    (sc_health_down, (HEALTH,), 6, True),
    (sc_status_and_body, (ORDERS,), 5, True),
    (sc_content_type, (USERS, ORDERS), 8, True),
    (sc_content_type_missing, (USERS,), 2, True),
    (sc_render_text, (RENDER,), 8, True),
    (sc_render_content_type, (RENDER,), 3, True),
    (sc_everything, (ORDERS,), 4, True),
    (sc_dark_error, (ORDERS, USERS, SEARCH), 8, True),
    (sc_stable_error, (ORDERS, USERS), 4, True),
    (sc_both_errors_differ, (USERS, SEARCH), 5, True),
]
BASELINE_ROUTES = (
    [ORDERS] * 34
    + [SEARCH] * 16
    + [SUGGEST] * 6
    + [USERS] * 18
    + [HEALTH] * 12
    + [RENDER] * 9
    + [SESSIONS] * 5
)
GRID = 1990  # request slots on the 50 ms grid (pairs and lone orphans)
LONE_ORPHANS = {"missing_dark": 12, "missing_stable": 10}
DARK_FIRST = 15  # pairs whose dark event is slightly older than the stable one
DUPLICATES = {"stable": 12, "dark": 12}
MISSING_TS = 6  # dark events without ts: they take the previous line's ts
RFC3339_TS = 24  # events whose ts is an RFC 3339 string


# ---------------------------------------------------------------------------------------------
# Lines of the two files


@dataclass
class Line:
    side: str
    write_at: float  # the line's position in its file (files are written in this order)
    raw: bytes = b""
    doc: dict | None = None
    role: str = "event"  # event | late | dup | invalid | blank
    rid: str = ""
    ts: int = 0  # effective event time
    ts_mode: str = "int"  # int | rfc | missing
    reason: str = ""
    orig: Line | None = field(default=None, repr=False)


def build() -> tuple[list[Req], list[Line], list[Line]]:
    reqs: list[Req] = []
    lines: list[Line] = []

    # 1. the grid: pairs (planned scenarios + baseline matches) and lone orphans
    slots: list[tuple[str, Any, str, bool]] = []  # (kind, scenario, route, pii)
    for scenario, routes, count, pii in PAIR_PLAN:
        for i in range(count):
            slots.append(("pair", scenario, routes[i % len(routes)], pii))
    for missing, count in LONE_ORPHANS.items():
        routes = [ORDERS, USERS, SEARCH, RENDER, HEALTH, SESSIONS]
        for i in range(count):
            slots.append((missing, None, routes[i % len(routes)], True))
    baseline = GRID - len(slots)
    assert baseline > 1500, baseline
    for _ in range(baseline):
        slots.append(("pair", sc_baseline, rng.choice(BASELINE_ROUTES), False))
    rng.shuffle(slots)

    pii_style = 0
    dark_first = set(rng.sample([i for i, s in enumerate(slots) if s[0] == "pair"], DARK_FIRST))
    for i, (kind, scenario, route, pii) in enumerate(slots):
        ts_s = T0 + 1_000 + i * STEP_MS + rng.randint(0, 10)
        ts_d = ts_s - rng.randint(5, 40) if i in dark_first else ts_s + rng.randint(0, 200)
        s, d = base_pair(route, ts_s, ts_d)
        rid = request_id()
        s["request_id"] = d["request_id"] = rid
        if kind == "pair":
            if pii:
                plant_pii(s, d, pii_style % PII_STYLES)
                pii_style += 1
            kinds, fields, latency = scenario(s, d)
            reqs.append(Req(rid, route, s, d, scenario.__name__[3:], kinds, fields, latency))
        else:
            present = s if kind == "missing_dark" else d
            if kind == "missing_stable" and i % 5 == 0 and route != RENDER:
                make_error(present, "connect_error", with_pii=True)
            plant_pii(present, None, pii_style % PII_STYLES)
            pii_style += 1
            reqs.append(
                Req(rid, route, s if present is s else None, d if present is d else None, kind)
            )
        for side, doc, ts in (("stable", s, ts_s), ("dark", d, ts_d)):
            if kind == "pair" or (kind == "missing_dark") == (side == "stable"):
                lines.append(Line(side, ts, doc=doc, rid=rid, ts=ts))

    # 2. late lines: written ~50 s after their event time (stream time is past ts + 35 s)
    late_plan = [
        # (event time offset from T0, which sides, late side)
        (6_000, ("stable",), "stable"),
        (9_500, ("dark",), "dark"),
        (14_200, ("stable",), "stable"),
        (21_000, ("dark",), "dark"),
        (33_300, ("stable",), "stable"),
        (40_100, ("dark",), "dark"),
        # partner on time, this side late: the partner becomes an orphan
        (17_000, ("stable", "dark"), "stable"),
        (26_000, ("stable", "dark"), "dark"),
    ]
    for offset, sides, late_side in late_plan:
        route = rng.choice([ORDERS, USERS, SEARCH])
        ts_s = T0 + offset + 3
        ts_d = ts_s + rng.randint(20, 150)
        s, d = base_pair(route, ts_s, ts_d)
        rid = request_id()
        s["request_id"] = d["request_id"] = rid
        plant_pii(s, d, pii_style % PII_STYLES)
        pii_style += 1
        partner = None
        for side, doc, ts in (("stable", s, ts_s), ("dark", d, ts_d)):
            if side not in sides:
                continue
            if side == late_side:
                write_at = ts + 50_000 + rng.randint(0, 3_000)
                lines.append(Line(side, write_at, doc=doc, rid=rid, ts=ts, role="late"))
            else:
                lines.append(Line(side, ts, doc=doc, rid=rid, ts=ts))
                partner = (side, doc)
        if partner is None:
            reqs.append(Req(rid, route, s, d, f"late_lone_{late_side}"))
        else:
            missing = "missing_dark" if partner[0] == "stable" else "missing_stable"
            reqs.append(
                Req(
                    rid,
                    route,
                    s if partner[0] == "stable" else None,
                    d if partner[0] == "dark" else None,
                    f"late_partner_{missing}",
                )
            )

    # 3. duplicates: an identical second copy of one side's line, shortly after the first
    candidates = [ln for ln in lines if ln.role == "event"]
    for side, count in DUPLICATES.items():
        for original in rng.sample([ln for ln in candidates if ln.side == side], count):
            lines.append(
                Line(
                    side,
                    original.write_at + rng.randint(150, 900),
                    doc=original.doc,
                    rid=original.rid,
                    ts=original.ts,
                    role="dup",
                    orig=original,
                )
            )
    dup_origins = {id(ln.orig) for ln in lines if ln.role == "dup"}

    # 4. invalid lines of every reason, blank lines
    for reason, side, raw in invalid_lines():
        lines.append(
            Line(side, T0 + rng.randint(2_000, 98_000), raw=raw, role="invalid", reason=reason)
        )
    for side in ("stable", "dark", "dark"):
        lines.append(Line(side, T0 + rng.randint(2_000, 98_000), raw=b"   ", role="blank"))

    stable_lines = sorted((ln for ln in lines if ln.side == "stable"), key=lambda ln: ln.write_at)
    dark_lines = sorted((ln for ln in lines if ln.side == "dark"), key=lambda ln: ln.write_at)

    # 5. timestamp forms: some RFC 3339 strings, some dark lines without ts (previous line's ts)
    plain = [
        ln for ln in stable_lines + dark_lines if ln.role == "event" and id(ln) not in dup_origins
    ]
    for ln in rng.sample(plain, RFC3339_TS):
        ln.ts_mode = "rfc"
    chosen = 0
    dark_events = [ln for ln in dark_lines if ln.role != "invalid" and ln.role != "blank"]
    for index in sorted(rng.sample(range(100, len(dark_events) - 100), 60)):
        ln, previous = dark_events[index], dark_events[index - 1]
        if chosen == MISSING_TS:
            break
        if (
            (ln.role, previous.role, ln.ts_mode) != ("event", "event", "int")
            or id(ln) in dup_origins
            or id(previous) in dup_origins
        ):
            continue
        ln.ts_mode = "missing"
        ln.ts = previous.ts
        chosen += 1
    assert chosen == MISSING_TS

    for ln in stable_lines + dark_lines:
        if ln.doc is not None:
            ln.raw = serialise(ln.doc, ln.ts, ln.ts_mode, ln.rid)
            assert len(ln.raw) < MAX_EVENT_BYTES
    return reqs, stable_lines, dark_lines


def serialise(doc: dict, ts: int, ts_mode: str, rid: str) -> bytes:
    out = dict(doc)
    out.pop("ts", None)
    trace = out.pop("trace_id", None)
    if rid.endswith(("0", "5", "a", "f")):  # a quarter of the lines leave side to the file
        out.pop("side", None)
    if ts_mode == "int":
        out["ts"] = ts
    elif ts_mode == "rfc":
        zone = timezone(timedelta(hours=2)) if ts % 2 else UTC
        text = datetime.fromtimestamp(ts / 1000, tz=zone).isoformat(timespec="milliseconds")
        out["ts"] = text.replace("+00:00", "Z")
    if trace is not None:
        out["trace_id"] = trace
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode()


def invalid_lines() -> list[tuple[str, str, bytes]]:
    """(reason, side, raw line) for every reason of the decoder, with PII inside."""

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    deep: Any = {"contact": email(), "card": card("spaces")}
    for _ in range(MAX_DEPTH + 6):
        deep = {"child": deep}
    deep_list: Any = [jwt()]
    for _ in range(MAX_DEPTH + 2):
        deep_list = [deep_list]
    blob = "".join(rng.choice("abcdefghij ") for _ in range(MAX_EVENT_BYTES + 4_000))
    return [
        (
            "bad_json",
            "stable",
            b'{"request_id":"inv-bad-json-1","status":200,"body":{"email":"'
            + email().encode()
            + b'","password":"'
            + password().encode()
            + b'","items":[1,2,',
        ),
        (
            "bad_json",
            "dark",
            b"HTTP/1.1 200 OK Authorization: Bearer "
            + opaque("raw_", 30).encode()
            + b" X-User: "
            + email().encode(),
        ),
        (
            "bad_json",
            "dark",
            b"{'request_id': 'inv-bad-json-3', 'status': 200, 'card': '"
            + card("spaces").encode()
            + b"'}",
        ),
        (
            "invalid_utf8",
            "stable",
            b'{"request_id":"inv-utf8-1","status":200,"body":{"name":"Ren\xe9e Dubois",'
            b'"email":"' + email().encode() + b'","card":"' + card("dashes").encode() + b'"}}',
        ),
        (
            "invalid_utf8",
            "dark",
            b'{"request_id":"inv-utf8-2","status":200,"body_text":"\xff\xfe ssn '
            + ssn().encode()
            + b" iban "
            + iban().encode()
            + b'"}',
        ),
        ("too_deep", "stable", dumps({"request_id": "inv-deep-1", "status": 200, "body": deep})),
        ("too_deep", "dark", dumps({"request_id": "inv-deep-2", "status": 200, "body": deep_list})),
        ("not_an_object", "stable", dumps(["inv-array-1", 200, {"email": email()}])),
        ("not_an_object", "dark", dumps(f"Bearer {jwt()}")),
        (
            "missing_request_id",
            "stable",
            dumps(
                {
                    "route": USERS,
                    "status": 200,
                    "headers": {"authorization": f"Bearer {jwt()}"},
                    "body": {"email": email(), "ssn": ssn()},
                }
            ),
        ),
        (
            "missing_request_id",
            "dark",
            dumps({"requestId": "inv-camel-1", "status": 200, "body": {"iban": iban()}}),
        ),
        (
            "invalid_field",
            "stable",
            dumps(
                {
                    "request_id": "inv-field-1",
                    "status": "200",
                    "body": {"card_number": card("compact")},
                }
            ),
        ),
        (
            "invalid_field",
            "dark",
            dumps(
                {
                    "request_id": "inv-field-2",
                    "status": 200,
                    "headers": {"x-retry": 3},
                    "body": {"contact": email()},
                }
            ),
        ),
        (
            "invalid_field",
            "dark",
            dumps(
                {
                    "request_id": "inv-field-3",
                    "status": 200,
                    "error": "timeout talking to " + email(),
                }
            ),
        ),
        (
            "no_payload",
            "stable",
            dumps(
                {
                    "request_id": "inv-nopayload-1",
                    "route": ORDERS,
                    "latency_ms": 12.5,
                    "headers": {"set-cookie": f"sid={opaque('np_', 28)}"},
                }
            ),
        ),
        (
            "no_payload",
            "dark",
            dumps(
                {
                    "request_id": "inv-nopayload-2",
                    "route": USERS,
                    "trace_id": hexid(),
                    "headers": {"authorization": f"Bearer {jwt()}"},
                }
            ),
        ),
        (
            "side_mismatch",
            "stable",
            dumps(
                {
                    "request_id": "inv-side-1",
                    "side": "dark",
                    "status": 200,
                    "body": {"iban": iban()},
                }
            ),
        ),
        (
            "side_mismatch",
            "dark",
            dumps(
                {
                    "request_id": "inv-side-2",
                    "side": "stable",
                    "status": 200,
                    "body": {"password": password()},
                }
            ),
        ),
        (
            "oversize",
            "stable",
            dumps(
                {"request_id": "inv-big-1", "status": 200, "body": {"email": email(), "blob": blob}}
            ),
        ),
        (
            "oversize",
            "dark",
            dumps(
                {"request_id": "inv-big-2", "status": 200, "body_text": f"{card('spaces')} " + blob}
            ),
        ),
        (
            "bad_timestamp",
            "stable",
            dumps(
                {
                    "request_id": "inv-ts-1",
                    "status": 200,
                    "ts": "last tuesday",
                    "body": {"email": email()},
                }
            ),
        ),
        (
            "bad_timestamp",
            "dark",
            dumps(
                {
                    "request_id": "inv-ts-2",
                    "status": 200,
                    "ts": "2024-05-01 10:00:31",  # no time zone
                    "body": {"ssn": ssn()},
                }
            ),
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Planting check: the join semantics of the design replayed over the lines as written


def replay(stable_lines: list[Line], dark_lines: list[Line]) -> dict[str, Any]:
    def merged():
        streams = [iter(stable_lines), iter(dark_lines)]
        heads: list[Line | None] = [None, None]
        done = [False, False]
        while True:
            for i in (0, 1):
                while heads[i] is None and not done[i]:
                    ln = next(streams[i], None)
                    if ln is None:
                        done[i] = True
                    elif ln.role in ("event", "late", "dup"):
                        heads[i] = ln
            if heads[0] is None and heads[1] is None:
                return
            if heads[1] is None or (heads[0] is not None and heads[0].ts <= heads[1].ts):
                yield heads[0]
                heads[0] = None
            else:
                yield heads[1]
                heads[1] = None

    stream_time: int | None = None
    pending: dict[str, tuple[str, int]] = {}  # rid -> (side, deadline)
    compared: dict[str, int] = {}  # rid -> deadline
    out: dict[str, Any] = {"pairs": set(), "orphans": {}, "late": [], "dups": Counter()}
    for ln in merged():
        deadline = ln.ts + HORIZON_MS
        if stream_time is not None and stream_time >= deadline:
            out["late"].append((ln.side, ln.rid))
        elif ln.rid in pending:
            side, other_deadline = pending[ln.rid]
            if side == ln.side:
                out["dups"][ln.side] += 1
            else:
                del pending[ln.rid]
                compared[ln.rid] = max(deadline, other_deadline)
                out["pairs"].add(ln.rid)
        elif ln.rid in compared:
            out["dups"][ln.side] += 1
        else:
            pending[ln.rid] = (ln.side, deadline)
        stream_time = ln.ts if stream_time is None else max(stream_time, ln.ts)
        for rid, (side, dl) in list(pending.items()):
            if dl <= stream_time:
                del pending[rid]
                out["orphans"][rid] = "missing_dark" if side == "stable" else "missing_stable"
        for rid, dl in list(compared.items()):
            if dl <= stream_time:
                del compared[rid]
    for rid, (side, _) in pending.items():
        out["orphans"][rid] = "missing_dark" if side == "stable" else "missing_stable"
    return out


# ---------------------------------------------------------------------------------------------
# The truth


def expected_summary(reqs: list[Req], stable_lines: list[Line], dark_lines: list[Line]) -> dict:
    all_lines = stable_lines + dark_lines
    valid = [ln for ln in all_lines if ln.role in ("event", "late", "dup")]
    invalid = Counter(ln.reason for ln in all_lines if ln.role == "invalid")
    pairs = [
        r
        for r in reqs
        if r.stable is not None and r.dark is not None and not r.scenario.startswith("late_")
    ]
    orphans = {}
    for r in reqs:
        if r.scenario in LONE_ORPHANS:
            orphans[r.rid] = r.scenario
        elif r.scenario.startswith("late_partner_"):
            orphans[r.rid] = r.scenario[len("late_partner_") :]
    late = [ln for ln in all_lines if ln.role == "late"]
    dups = Counter(ln.side for ln in all_lines if ln.role == "dup")

    # the planting check
    seen = replay(stable_lines, dark_lines)
    assert seen["pairs"] == {r.rid for r in pairs}, "a planted pair does not pair"
    assert seen["orphans"] == orphans, "planted orphans do not close as planned"
    assert sorted(seen["late"]) == sorted((ln.side, ln.rid) for ln in late)
    assert seen["dups"] == dups

    routes: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "pairs": 0,
            "mismatches": 0,
            "orphans": 0,
            "latency_regressions": 0,
            "fields": Counter(),
        }
    )
    kinds: Counter[str] = Counter()
    mismatches = regressions = 0
    for r in pairs:
        tally = routes[r.route]
        tally["pairs"] += 1
        if r.latency_regression:
            regressions += 1
            tally["latency_regressions"] += 1
        if r.kinds:
            mismatches += 1
            tally["mismatches"] += 1
            kinds.update(r.kinds)
            tally["fields"].update(r.fields)
    route_of = {r.rid: r.route for r in reqs}
    for rid in orphans:
        routes[route_of[rid]]["orphans"] += 1
    orphan_counts = Counter(orphans.values())
    n_orphans = sum(orphan_counts.values())
    return {
        "events": {
            "stable": sum(1 for ln in valid if ln.side == "stable"),
            "dark": sum(1 for ln in valid if ln.side == "dark"),
        },
        "invalid": sum(invalid.values()),
        "invalid_reasons": dict(sorted(invalid.items())),
        "pairs": len(pairs),
        "matches": len(pairs) - mismatches,
        "mismatches": mismatches,
        "mismatch_kinds": {k: kinds[k] for k in KINDS},
        "orphans": {
            "missing_dark": orphan_counts["missing_dark"],
            "missing_stable": orphan_counts["missing_stable"],
        },
        "duplicates": sum(dups.values()),
        "late": len(late),
        "evicted": 0,
        "latency_regressions": regressions,
        "samples": {"published": mismatches + n_orphans, "dropped": {}},
        "dead_letters": sum(invalid.values()),
        "routes": {
            route: {
                "pairs": t["pairs"],
                "mismatches": t["mismatches"],
                "divergence_rate": round(t["mismatches"] / t["pairs"], 6) if t["pairs"] else 0.0,
                "orphans": t["orphans"],
                "latency_regressions": t["latency_regressions"],
                "fields": dict(sorted(t["fields"].items(), key=lambda kv: (-kv[1], kv[0]))),
                "audit_hits": {},  # the corpus's config has no audit rules
            }
            for route, t in sorted(routes.items())
        },
    }


def scenario_counts(reqs: list[Req], stable_lines: list[Line], dark_lines: list[Line]) -> str:
    counts = Counter(r.scenario for r in reqs)
    roles = Counter((ln.side, ln.role) for ln in stable_lines + dark_lines)
    lines = [f"  {name:<28} {n:>5}" for name, n in sorted(counts.items())]
    lines += [f"  lines {side}/{role:<17} {n:>5}" for (side, role), n in sorted(roles.items())]
    return "\n".join(lines)


def written_secrets(stable_lines: list[Line], dark_lines: list[Line]) -> list[str]:
    """The planted secrets that made it into the files (some styles only fit JSON or text)."""
    corpus = b"\n".join(ln.raw for ln in stable_lines + dark_lines)
    return [s for s in SECRETS if s.encode() in corpus]


def main() -> None:
    reqs, stable_lines, dark_lines = build()
    summary = expected_summary(reqs, stable_lines, dark_lines)
    for name, file_lines in (("stable.jsonl", stable_lines), ("dark.jsonl", dark_lines)):
        (HERE / name).write_bytes(b"".join(ln.raw + b"\n" for ln in file_lines))
    (HERE / "expected-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    planted = written_secrets(stable_lines, dark_lines)
    (HERE / "planted-secrets.txt").write_text("".join(s + "\n" for s in planted))
    digest = hashlib.sha256(
        (HERE / "stable.jsonl").read_bytes() + (HERE / "dark.jsonl").read_bytes()
    ).hexdigest()[:12]
    print(f"requests: {len(reqs)}  secrets: {len(planted)}  corpus sha256: {digest}")
    print(scenario_counts(reqs, stable_lines, dark_lines))


if __name__ == "__main__":
    main()
