"""Compare one stable/dark pair under its route's rules (the per-pair hot path).

Every rule is a relaxation, so two subtrees that are equal as JSON values are equal under any
rules: each level is checked with ``==`` first and only the members and elements that differ
are descended into, consulting the route's path matcher on the way down. A typical equal pair
whose bodies differ only in ignored fields costs a few ``==`` calls and one matcher step per
differing member.

Python's ``==`` is not quite JSON equality: it has ``True == 1`` and ``False == 0.0``. The
containers found ``==`` at one level are therefore confirmed together by comparing their
``orjson`` serialisations (equal bytes mean identical JSON; about 1 µs per typical pair),
falling back to a type-strict walk when the bytes differ (another key order, ``1`` vs ``1.0``).
So ``true`` vs ``1`` is reported as a ``type_changed``, as a rewritten service emitting numbers
for booleans should be.

Differences: ``added`` has ``stable=None`` and ``removed`` has ``dark=None`` (meaning absent);
``order_changed`` carries both whole arrays; ``path`` is concrete, ``field`` normalised.

Body semantics:

- ``ignore``: matching locations are removed from both sides before comparing (a member under
  an ignored path is neither added nor removed; an ignored array index is skipped in place,
  without shifting the other elements).
- ``numbers``: ``|a-b| <= abs`` or ``|a-b| <= rel*max(|a|,|b|)``; bools are not numbers; an int
  and a float of equal value are equal everywhere.
- ``unordered``: arrays compared as multisets (a maximum matching under the rules below the
  array, so tolerances work inside unordered arrays); unmatched elements are removed/added.
  The matching makes at most ``MATCH_BUDGET`` element comparisons beyond identical elements.
- ``match_by_key``: elements paired by the value of a field (the n-th occurrence of a value on
  one side with the n-th on the other); elements without the field (or whose value is an object
  or an array, or whose field is ignored) are paired by their order among such elements, or as
  a multiset if the array is also ``unordered``; unpaired ones are removed/added. Order is not
  significant. Paths of paired elements use the stable index; added ones the dark index.
- other arrays are positional; if both hold the same multiset in a different order, a single
  ``order_changed`` at the array path replaces the per-element differences.
- Inside unordered and keyed arrays and for the order check, index-specific paths (``[3]``)
  do not apply to elements (positions carry no meaning there); ``[*]`` and ``..key`` do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import orjson

from comparator.core.compare.comparison import Change, Comparison, Difference, Kind
from comparator.core.compare.json_path import MatchState, render_field_key, render_index, render_key
from comparator.core.compare.rules import LocationRules, RouteRules
from comparator.core.events.response_event import ResponseEvent

State = MatchState[LocationRules]

_NUMBER_TYPES = frozenset((int, float))
_CONTAINERS = frozenset((dict, list))
_ABSENT: Any = object()  # a member missing from a dict
MATCH_BUDGET = 20_000  # element comparisons per unordered array / order check
_SCALAR_KEY_TYPES = frozenset((str, int, float, bool, type(None)))


def compare_pair(stable: ResponseEvent, dark: ResponseEvent, rules: RouteRules) -> Comparison:
    """Compare ``stable`` and ``dark`` (one request) under ``rules``; pure but for the calls
    of ``hooks`` rules (the team's own functions), no I/O."""
    if rules.conditions:
        rules = rules.resolve(stable, dark)
    if rules.hooks:
        before = sum(hook.failures for hook in rules.hooks.values())
        comparison = _compare(stable, dark, rules)
        comparison.hook_failures = sum(h.failures for h in rules.hooks.values()) - before
        return comparison
    return _compare(stable, dark, rules)


def _compare(stable: ResponseEvent, dark: ResponseEvent, rules: RouteRules) -> Comparison:
    latency_regression = _latency_regression(stable, dark, rules)
    if stable.error is not None or dark.error is not None:
        return _compare_errors(stable.error, dark.error, latency_regression)

    kinds: list[Kind] = []
    differences: list[Difference] = []
    parts = rules.parts

    # status
    s_status = stable.status
    d_status = dark.status
    if (
        s_status != d_status
        and "status" in parts
        and (
            rules.status_mode == "exact"
            or s_status is None
            or d_status is None
            or s_status // 100 != d_status // 100
        )
    ):
        kinds.append("status")
        differences.append(
            Difference("status", "status", _presence_change(s_status, d_status), s_status, d_status)
        )

    # body
    if "body" not in parts:
        pass
    elif stable.has_body and dark.has_body:
        s_body = stable.body
        d_body = dark.body
        # No ``==`` on the whole bodies first: most pairs differ in ignored members, and the
        # differ's per-member ``==`` covers the equal case at about the same cost.
        # Decide first without recording (no path strings are built: most pairs are equal
        # after rules), then walk again to record the differences of the few that are not.
        root = rules.root
        if (
            s_body is not d_body
            and not root.info.ignored
            and _diff(s_body, d_body, root, "$", "$", None)
        ):
            _diff(s_body, d_body, root, "$", "$", differences)
            kinds.append("body")
    elif _compare_other_bodies(stable, dark, rules, differences):
        kinds.append("body")

    # headers
    names = rules.header_names
    if names and "headers" in parts:
        s_headers = stable.headers or {}
        d_headers = dark.headers or {}
        found = False
        for name in names:
            s_value = s_headers.get(name)
            d_value = d_headers.get(name)
            if s_value != d_value:
                found = True
                path = "headers." + name
                change = _presence_change(s_value, d_value)
                differences.append(Difference(path, path, change, s_value, d_value))
        if found:
            kinds.append("headers")

    return Comparison(tuple(kinds), differences, latency_regression)


def _presence_change(stable: Any, dark: Any) -> Change:
    if stable is None:
        return "added"
    if dark is None:
        return "removed"
    return "value_changed"


def _latency_regression(stable: ResponseEvent, dark: ResponseEvent, rules: RouteRules) -> bool:
    max_ratio = rules.latency_max_ratio
    if max_ratio is None:
        return False
    s_latency = stable.latency_ms
    d_latency = dark.latency_ms
    if s_latency is None or d_latency is None:
        return False
    min_delta = rules.latency_min_delta_ms or 0.0
    return d_latency > s_latency * max_ratio and d_latency - s_latency >= min_delta


def _compare_errors(
    stable: dict[str, Any] | None, dark: dict[str, Any] | None, latency_regression: bool
) -> Comparison:
    if stable is not None and dark is not None:
        s_type = stable.get("type")
        d_type = dark.get("type")
        if s_type == d_type:
            return Comparison((), [], latency_regression)
        difference = Difference("error.type", "error.type", "value_changed", s_type, d_type)
    else:
        difference = Difference("error", "error", _presence_change(stable, dark), stable, dark)
    return Comparison(("error",), [difference], latency_regression)


def _compare_other_bodies(
    stable: ResponseEvent, dark: ResponseEvent, rules: RouteRules, out: list[Difference]
) -> bool:
    """Bodies when not both sides have a JSON body: text vs text, or presence/kind differs."""
    s_text = stable.body_text
    d_text = dark.body_text
    if stable.has_body:
        out.append(_body_presence(stable.body, d_text, d_text is not None))
        return True
    if dark.has_body:
        out.append(_body_presence(s_text, dark.body, s_text is not None, stable_is_json=False))
        return True
    if s_text is None and d_text is None:
        return False
    if s_text is not None and d_text is not None:
        if rules.ignore_whitespace:
            if s_text.split() == d_text.split():
                return False
        elif s_text == d_text:
            return False
        out.append(Difference("$", "$", "value_changed", s_text, d_text))
        return True
    out.append(Difference("$", "$", _presence_change(s_text, d_text), s_text, d_text))
    return True


def _body_presence(
    stable: Any, dark: Any, both_present: bool, stable_is_json: bool = True
) -> Difference:
    """One side has a JSON body; the other has a text body (type_changed) or none."""
    if both_present:
        return Difference("$", "$", "type_changed", stable, dark)
    if stable_is_json:
        return Difference("$", "$", "removed", stable, None)
    return Difference("$", "$", "added", None, dark)


# ---------------------------------------------------------------------------------------------
# JSON equality


def _same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are equal JSON values (numbers by value, bools apart from numbers)."""
    return a is b or (a == b and _json_equal(a, b))


def _not_json_equal(a: Any, b: Any, keys: list[Any]) -> list[Any]:
    """Of ``keys`` (members or indices) whose container values are ``==`` in ``a`` and ``b``,
    those whose values are not equal JSON values; one serialisation per side in the usual case.
    """
    values_a = [a[key] for key in keys]
    values_b = [b[key] for key in keys]
    try:
        if orjson.dumps(values_a) == orjson.dumps(values_b):
            return []
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
        pass
    return [
        key for key, x, y in zip(keys, values_a, values_b, strict=True) if not _strict_equal(x, y)
    ]


def _json_equal(a: Any, b: Any) -> bool:
    """Given ``a == b`` in Python, whether they are also equal as JSON values."""
    type_a = type(a)
    if type_a is dict or type_a is list:
        try:
            if orjson.dumps(a) == orjson.dumps(b):
                return True
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
            pass
        return _strict_equal(a, b)
    type_b = type(b)
    return type_a is type_b or (type_a is not bool and type_b is not bool)


def _strict_equal(a: Any, b: Any) -> bool:
    """JSON equality by walking: like ``==`` but a bool never equals a number."""
    type_a = type(a)
    type_b = type(b)
    if type_a is dict:
        if type_b is not dict or len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not _strict_equal(value, b[key]):
                return False
        return True
    if type_a is list:
        if type_b is not list or len(a) != len(b):
            return False
        return all(_strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if (type_a is bool) is not (type_b is bool):
        return False
    return a == b


# ---------------------------------------------------------------------------------------------
# The JSON differ. Each function records differences into ``out`` and returns True if there
# were any; with ``out`` None it only decides (stops at the first difference, builds no path).
# Callers have already checked that the location is not ignored.


def _diff(
    a: Any, b: Any, state: State, path: str, field: str, out: list[Difference] | None
) -> bool:
    info = state.info
    if info.hook is not None or info.normalize is not None:
        return _diff_custom(a, b, state, path, field, out)
    return _diff_plain(a, b, state, path, field, out)


def _diff_custom(
    a: Any, b: Any, state: State, path: str, field: str, out: list[Difference] | None
) -> bool:
    """A location with a ``hooks`` function (it decides, unless it fails) or a ``normalize``
    rule (scalars are compared normalised; the difference keeps the received values)."""
    info = state.info
    if info.hook is not None:
        verdict = info.hook.equal(a, b)
        if verdict is not None:
            if not verdict and out is not None:
                out.append(Difference(path, field, "value_changed", a, b))
            return not verdict
    normalize = info.normalize
    if normalize is not None and type(a) not in _CONTAINERS and type(b) not in _CONTAINERS:
        na, nb = normalize(a), normalize(b)
        local: list[Difference] | None = [] if out is not None else None
        found = _diff_scalar(na, nb, type(na), type(nb), state, path, field, local)
        if found and out is not None and local:
            out.append(Difference(path, field, local[0].change, a, b))
        return found
    return _diff_plain(a, b, state, path, field, out)


def _diff_plain(
    a: Any, b: Any, state: State, path: str, field: str, out: list[Difference] | None
) -> bool:
    type_a = type(a)
    type_b = type(b)
    if type_a is dict:
        if type_b is dict:
            return _diff_dict(a, b, state, path, field, out)
    elif type_a is list:
        if type_b is list:
            return _diff_list(a, b, state, path, field, out)
    elif type_b is not dict and type_b is not list:
        return _diff_scalar(a, b, type_a, type_b, state, path, field, out)
    if out is not None:
        out.append(Difference(path, field, "type_changed", a, b))
    return True


def _diff_scalar(
    a: Any,
    b: Any,
    type_a: type,
    type_b: type,
    state: State,
    path: str,
    field: str,
    out: list[Difference] | None,
) -> bool:
    if type_a in _NUMBER_TYPES and type_b in _NUMBER_TYPES:
        if a == b:
            return False
        tolerance = state.info.tolerance
        if tolerance is not None and _within(a, b, tolerance):
            return False
        change: Change = "value_changed"
    elif type_a is type_b:
        if a == b:
            return False
        change = "value_changed"
    else:
        change = "type_changed"
    if out is not None:
        out.append(Difference(path, field, change, a, b))
    return True


def _within(a: float, b: float, tolerance: tuple[float, float]) -> bool:
    abs_tol, rel_tol = tolerance
    try:
        delta = abs(a - b)
        return delta <= abs_tol or delta <= rel_tol * max(abs(a), abs(b))
    except OverflowError:  # an integer too large for a float: compare exactly
        fa = Fraction(a)
        fb = Fraction(b)
        delta_exact = abs(fa - fb)
        return delta_exact <= Fraction(abs_tol) or delta_exact <= Fraction(rel_tol) * max(
            abs(fa), abs(fb)
        )


def _diff_dict(
    a: dict[str, Any],
    b: dict[str, Any],
    state: State,
    path: str,
    field: str,
    out: list[Difference] | None,
) -> bool:
    # Members of ``a`` to look at: absent from ``b`` or not equal.
    differing: list[str] = []
    deferred: list[str] = []  # containers found ``==``, confirmed in one batch below
    missing = 0
    for key, value_a in a.items():
        value_b = b.get(key, _ABSENT)
        if value_a is value_b:
            continue
        if value_a == value_b:
            type_a = type(value_a)
            if type_a is dict or type_a is list:
                deferred.append(key)
                continue
            type_b = type(value_b)
            if type_a is type_b or (type_a is not bool and type_b is not bool):
                continue
        elif value_b is _ABSENT:
            missing += 1
        differing.append(key)
    if deferred:
        confused = _not_json_equal(a, b, deferred)
        if confused:  # keep document order
            look_at = {*differing, *confused}
            differing = [key for key in a if key in look_at]

    found = False
    for key in differing:
        child = state.key(key)
        if child.info.ignored:
            continue
        value_a = a[key]
        value_b = b.get(key, _ABSENT)
        if value_b is _ABSENT:
            if out is None:
                return True
            found = True
            child_field = render_field_key(field, key)
            out.append(Difference(render_key(path, key), child_field, "removed", value_a, None))
        elif out is None:
            if _diff(value_a, value_b, child, path, field, None):
                return True
        elif _diff(
            value_a, value_b, child, render_key(path, key), render_field_key(field, key), out
        ):
            found = True
    if len(b) > len(a) - missing:  # ``b`` has members ``a`` lacks
        for key, value_b in b.items():
            if key in a:
                continue
            child = state.key(key)
            if child.info.ignored:
                continue
            if out is None:
                return True
            found = True
            child_field = render_field_key(field, key)
            out.append(Difference(render_key(path, key), child_field, "added", None, value_b))
    return found


def _diff_list(
    a: list[Any], b: list[Any], state: State, path: str, field: str, out: list[Difference] | None
) -> bool:
    info = state.info
    if info.key_field is not None:
        return _diff_keyed(a, b, info.key_field, state, path, field, out)
    if info.unordered:
        return _diff_unordered(a, b, state, path, field, out)

    # Positional: elements to look at (as in _diff_dict).
    common = min(len(a), len(b))
    differing: list[int] = []
    deferred: list[int] = []
    for i in range(common):
        value_a = a[i]
        value_b = b[i]
        if value_a is value_b:
            continue
        if value_a == value_b:
            type_a = type(value_a)
            if type_a is dict or type_a is list:
                deferred.append(i)
                continue
            type_b = type(value_b)
            if type_a is type_b or (type_a is not bool and type_b is not bool):
                continue
        differing.append(i)
    if deferred:
        confused = _not_json_equal(a, b, deferred)
        if confused:
            differing = sorted(differing + confused)

    local: list[Difference] | None = None if out is None else []
    found = False
    element_field = field + "[*]"
    for i in differing:
        child = state.index(i)
        if child.info.ignored:
            continue
        if local is None:
            if _diff(a[i], b[i], child, path, field, None):
                return True
        elif _diff(a[i], b[i], child, render_index(path, i), element_field, local):
            found = True
    ends: tuple[tuple[list[Any], Change], ...] = ((a, "removed"), (b, "added"))
    for longer, change in ends:
        for i in range(common, len(longer)):
            if state.index(i).info.ignored:
                continue
            if local is None:
                return True
            found = True
            value = longer[i]
            stable_value, dark_value = (value, None) if change == "removed" else (None, value)
            local.append(
                Difference(render_index(path, i), element_field, change, stable_value, dark_value)
            )
    if not found or local is None or out is None:
        return found

    # Same multiset in a different order: one order_changed instead of per-element noise.
    if len(a) == len(b):
        kept = [i for i in range(len(a)) if not state.index(i).info.ignored]
        kept_a = [a[i] for i in kept]
        kept_b = [b[i] for i in kept]
        unmatched_a, unmatched_b = _match_elements(kept_a, kept_b, state.any_index())
        if not unmatched_a and not unmatched_b:
            out.append(Difference(path, field, "order_changed", a, b))
            return True
    out.extend(local)
    return True


def _diff_unordered(
    a: list[Any], b: list[Any], state: State, path: str, field: str, out: list[Difference] | None
) -> bool:
    element = state.any_index()
    if element.info.ignored:
        return False
    if len(a) == len(b):
        # Most often the order is the same and only ignored or tolerated parts differ.
        for value_a, value_b in zip(a, b, strict=True):
            if not _same(value_a, value_b) and _diff(value_a, value_b, element, "", "", None):
                break
        else:
            return False
    elif out is None:
        return True
    unmatched_a, unmatched_b = _match_elements(a, b, element)
    if not unmatched_a and not unmatched_b:
        return False
    if out is not None:
        element_field = field + "[*]"
        for i in unmatched_a:
            out.append(Difference(render_index(path, i), element_field, "removed", a[i], None))
        for j in unmatched_b:
            out.append(Difference(render_index(path, j), element_field, "added", None, b[j]))
    return True


def _diff_keyed(
    a: list[Any],
    b: list[Any],
    key_field: str,
    state: State,
    path: str,
    field: str,
    out: list[Difference] | None,
) -> bool:
    element = state.any_index()
    if element.info.ignored:
        return False
    # Ignored locations are removed before comparing: an ignored key field is no key at all.
    usable_field = None if element.key(key_field).info.ignored else key_field
    pairs, unmatched_a, unmatched_b = _pair_by_key(
        a, b, usable_field, state.info.unordered, element
    )
    if out is None and (unmatched_a or unmatched_b):
        return True

    found = False
    element_field = field + "[*]"
    for i, j in pairs:
        value_a = a[i]
        value_b = b[j]
        if _same(value_a, value_b):
            continue
        if out is None:
            if _diff(value_a, value_b, element, path, field, None):
                return True
        elif _diff(value_a, value_b, element, render_index(path, i), element_field, out):
            found = True
    if out is not None:
        for i in unmatched_a:
            out.append(Difference(render_index(path, i), element_field, "removed", a[i], None))
            found = True
        for j in unmatched_b:
            out.append(Difference(render_index(path, j), element_field, "added", None, b[j]))
            found = True
    return found


def _pair_by_key(
    a: list[Any], b: list[Any], key_field: str | None, unordered: bool, element: State
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pairs ``(i, j)`` by key value (the n-th occurrence with the n-th), then the keyless
    elements: in order, or as a multiset when the array is also unordered; and the unpaired
    indices of each side. All sorted by index."""
    keyed_a, keyless_a = _group_by_key(a, key_field)
    keyed_b, keyless_b = _group_by_key(b, key_field)
    pairs: list[tuple[int, int]] = []
    unmatched_a: list[int] = []
    unmatched_b: list[int] = []
    for value, indices_a in keyed_a.items():
        indices_b = keyed_b.get(value, [])
        pairs.extend(zip(indices_a, indices_b, strict=False))
        unmatched_a.extend(indices_a[len(indices_b) :])
    for value, indices_b in keyed_b.items():
        indices_a = keyed_a.get(value, [])
        unmatched_b.extend(indices_b[len(indices_a) :])
    if unordered and keyless_a and keyless_b:
        # Matched keyless elements are equal; only the unmatched ones are differences.
        left_a, left_b = _match_elements(
            [a[i] for i in keyless_a], [b[j] for j in keyless_b], element
        )
        unmatched_a.extend(keyless_a[i] for i in left_a)
        unmatched_b.extend(keyless_b[j] for j in left_b)
    else:
        pairs.extend(zip(keyless_a, keyless_b, strict=False))
        unmatched_a.extend(keyless_a[len(keyless_b) :])
        unmatched_b.extend(keyless_b[len(keyless_a) :])
    pairs.sort()
    unmatched_a.sort()
    unmatched_b.sort()
    return pairs, unmatched_a, unmatched_b


def _group_by_key(
    items: list[Any], key_field: str | None
) -> tuple[dict[tuple[bool, Any], list[int]], list[int]]:
    """Indices by key value (bools kept apart from 1/0), and the indices without a usable key
    (not an object, no such field, a value that is an object or an array, or no key field)."""
    keyed: dict[tuple[bool, Any], list[int]] = {}
    keyless: list[int] = []
    if key_field is None:
        return keyed, list(range(len(items)))
    for i, item in enumerate(items):
        if type(item) is dict and key_field in item:
            value = item[key_field]
            value_type = type(value)
            if value_type in _SCALAR_KEY_TYPES:
                keyed.setdefault((value_type is bool, value), []).append(i)
                continue
        keyless.append(i)
    return keyed, keyless


# ---------------------------------------------------------------------------------------------
# Multiset matching (unordered arrays and the order check)


def _match_elements(a: list[Any], b: list[Any], element: State) -> tuple[list[int], list[int]]:
    """A maximum matching of ``a``'s elements to equal (under the rules) elements of ``b``.

    Returns the unmatched indices of ``a`` and of ``b``. Elements identical once their ignored
    parts are removed are paired first through a hash of their canonical JSON (linear time);
    the rest by augmenting paths (Kuhn's algorithm), because equality with a tolerance is not
    transitive and a greedy pairing could miss a perfect matching.
    """
    match_a: list[int] = [-1] * len(a)
    match_b: list[int] = [-1] * len(b)
    buckets: dict[Any, list[int]] = {}
    for j in range(len(b) - 1, -1, -1):  # reversed, so that pop() pairs in order
        buckets.setdefault(_identity_key(b[j], element, j, "b"), []).append(j)
    for i, value in enumerate(a):
        candidates = buckets.get(_identity_key(value, element, i, "a"))
        if candidates:
            j = candidates.pop()
            match_a[i] = j
            match_b[j] = i
    left = [i for i in range(len(a)) if match_a[i] < 0]
    if left and -1 in match_b:
        _augment_all(a, b, element, left, match_a, match_b)
    return (
        [i for i in range(len(a)) if match_a[i] < 0],
        [j for j in range(len(b)) if match_b[j] < 0],
    )


def _identity_key(value: Any, element: State, index: int, side: str) -> Any:
    """A hashable key, equal for two elements only if they are equal under the rules: their
    canonical JSON once ignored locations are removed (bools kept apart from numbers)."""
    value_type = type(value)
    if value_type in _SCALAR_KEY_TYPES:
        return (value_type is bool, value)
    try:
        return orjson.dumps(_without_ignored(value, element), option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        return (side, index)


def _without_ignored(value: Any, state: State) -> Any:
    """``value`` with the locations ignored under ``state`` removed, as the differ sees it:
    ignored members dropped, ignored positional elements replaced by null (no shifting),
    elements of unordered and keyed arrays under the any-index state."""
    if not state.live:
        return value
    value_type = type(value)
    if value_type is dict:
        kept: dict[str, Any] = {}
        for key, child_value in value.items():
            child = state.key(key)
            if not child.info.ignored:
                kept[key] = _without_ignored(child_value, child)
        return kept
    if value_type is list:
        info = state.info
        if info.unordered or info.key_field is not None:
            element = state.any_index()
            if element.info.ignored:
                return []
            return [_without_ignored(item, element) for item in value]
        items: list[Any] = []
        for i, item in enumerate(value):
            child = state.index(i)
            items.append(None if child.info.ignored else _without_ignored(item, child))
        return items
    return value


def _augment_all(
    a: list[Any],
    b: list[Any],
    element: State,
    left: list[int],
    match_a: list[int],
    match_b: list[int],
) -> None:
    """Extend the matching by augmenting paths from each index in ``left``.

    At most ``MATCH_BUDGET`` element comparisons are made; past that the matching is left as
    it is (huge, mostly differing arrays then report more removed/added than a perfect
    matching would, instead of stalling the pipeline for seconds).
    """
    equal_cache: dict[tuple[int, int], bool] = {}

    def equal(i: int, j: int) -> bool:
        known = equal_cache.get((i, j))
        if known is None:
            if len(equal_cache) >= MATCH_BUDGET:
                raise _BudgetExhausted
            known = not _diff(a[i], b[j], element, "", "", None)
            equal_cache[(i, j)] = known
        return known

    with contextlib.suppress(_BudgetExhausted):
        _augment_from(left, len(b), equal, match_a, match_b)


class _BudgetExhausted(Exception):
    pass


def _augment_from(
    left: list[int],
    size_b: int,
    equal: Callable[[int, int], bool],
    match_a: list[int],
    match_b: list[int],
) -> None:
    for root in left:
        # Iterative DFS for an augmenting path from ``root``.
        visited: set[int] = set()
        stack: list[tuple[int, int]] = [(root, 0)]  # (a index, next b index to try)
        chosen: list[int] = []  # b index taken at each stack level but the last
        while stack:
            i, start = stack[-1]
            for j in range(start, size_b):
                if j in visited or not equal(i, j):
                    continue
                visited.add(j)
                stack[-1] = (i, j + 1)
                if match_b[j] < 0:
                    chosen.append(j)
                    for (level_a, _), level_b in zip(stack, chosen, strict=True):
                        match_a[level_a] = level_b
                        match_b[level_b] = level_a
                    stack = []
                    break
                chosen.append(j)
                stack.append((match_b[j], 0))
                break
            else:
                stack.pop()
                if chosen:
                    chosen.pop()
