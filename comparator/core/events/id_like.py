"""Which strings name a thing (an id, a UUID, a hash, an e-mail address) rather than a field
or a route segment. Map keys and path segments like these become ``[*]`` and ``{id}`` in metric
labels and summaries, or every request could add label values without bound."""

from __future__ import annotations

import re

_ID_LIKE = re.compile(
    r"[+-]?\d+(?:\.\d+)?"  # 123, -4, 1.5
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # UUID
    r"|(?=[a-z]*\d)[0-9a-f]{12,}",  # long hex with a digit: hashes, object ids
    re.IGNORECASE,
)


def is_id_like(key: str) -> bool:
    """True for map keys that name a thing, not a field: numbers, UUIDs, long hex, e-mail
    addresses, and tokens of 8 or more characters at least 40% digits (``ord_20240101``)."""
    if not key:
        return False
    if "@" in key or _ID_LIKE.fullmatch(key):
        return True
    if len(key) < 8:
        return False
    digits = sum(1 for c in key if c.isdigit())
    return digits * 10 >= len(key) * 4
