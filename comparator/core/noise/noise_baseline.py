"""The noise baseline: per route and field, how often stable differs from the secondary (a second
copy of the stable version, fed the same requests) against how often it differs from each
candidate.

This is Twitter Diffy's raw/noise split (``analysis/JoinedDifferences.scala``,
``DifferencesFilterFactory``; Apache-2.0): a field's candidate differences are *real* only if
there are more of them than of noise differences, and the gap is above both thresholds:

- relative: ``|raw - noise| / (raw + noise) * 100 > relative_threshold_percent`` (Diffy 20);
- absolute: ``|raw - noise| * 100 > absolute_threshold_percent`` as a share of the requests
  (Diffy 0.03, i.e. 0.03% of requests).

Diffy counts both over the same requests, so it compares counts. Here the secondary and each
candidate can see different numbers of pairs (orphans, a candidate that starts later), so
``raw`` and ``noise`` are rates: each side's differences on the field over its own pairs on
the route. Anything else is *noise*. A route is judged only once both its secondary and the
candidate have ``min_pairs`` pairs there; before that nothing is noise (divergence is never
hidden on too little evidence).

Counts are raw (Diffy's ``RawDifferenceCounter``): a difference judged noise still counts, so
the judgement follows the traffic both ways. Routes and fields are labels the pipeline already
bounded (``limits.max_route_labels``, ``limits.max_field_labels``), so memory is bounded.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from comparator.core.settings import NoiseConfig


@dataclass(slots=True)
class _Tally:
    pairs: int = 0
    fields: Counter[str] = field(default_factory=Counter)


class NoiseBaseline:
    def __init__(self, config: NoiseConfig) -> None:
        self.config = config
        self._relative = config.relative_threshold_percent
        self._absolute = config.absolute_threshold_percent
        self._noise: dict[str, _Tally] = {}  # route -> the secondary's differences
        self._raw: dict[tuple[str, str], _Tally] = {}  # (candidate, route) -> differences

    # -- counting ----------------------------------------------------------------------------

    def secondary_pair(self, route: str, fields: frozenset[str]) -> None:
        tally = self._noise.get(route)
        if tally is None:
            tally = self._noise[route] = _Tally()
        tally.pairs += 1
        if fields:
            tally.fields.update(fields)

    def candidate_pair(self, candidate: str, route: str, fields: frozenset[str]) -> None:
        key = (candidate, route)
        tally = self._raw.get(key)
        if tally is None:
            tally = self._raw[key] = _Tally()
        tally.pairs += 1
        if fields:
            tally.fields.update(fields)

    # -- judging -----------------------------------------------------------------------------

    def judged(self, candidate: str, route: str) -> bool:
        """Both the secondary and the candidate have enough pairs on the route."""
        noise = self._noise.get(route)
        raw = self._raw.get((candidate, route))
        need = self.config.min_pairs
        return noise is not None and raw is not None and noise.pairs >= need and raw.pairs >= need

    def is_noise(self, candidate: str, route: str, path: str) -> bool:
        """The candidate's differences on ``path`` are within the secondary's (Diffy's rule);
        False while the route is not judged yet."""
        if not self.judged(candidate, route):
            return False
        return not self._real(self.raw_rate(candidate, route, path), self.noise_share(route, path))

    def _real(self, raw: float, noise: float) -> bool:
        gap = raw - noise
        if gap <= 0:
            return False
        return gap / (raw + noise) * 100 > self._relative and gap * 100 > self._absolute

    def noise_share(self, route: str, path: str) -> float:
        """The share of the secondary's pairs on the route where ``path`` differed."""
        tally = self._noise.get(route)
        if tally is None or not tally.pairs:
            return 0.0
        return tally.fields.get(path, 0) / tally.pairs

    def raw_rate(self, candidate: str, route: str, path: str) -> float:
        tally = self._raw.get((candidate, route))
        if tally is None or not tally.pairs:
            return 0.0
        return tally.fields.get(path, 0) / tally.pairs

    # -- reporting ---------------------------------------------------------------------------

    def secondary_routes(self) -> dict[str, dict[str, Any]]:
        """Per route: the secondary's pairs and, per field, how many differed and its share."""
        return {
            route: {
                "pairs": tally.pairs,
                "fields": {
                    path: {"differences": n, "noise_share": round(n / tally.pairs, 6)}
                    for path, n in sorted(tally.fields.items(), key=_by_count_then_name)
                },
            }
            for route, tally in sorted(self._noise.items())
        }

    def fields_report(self, candidate: str, route: str) -> dict[str, dict[str, Any]]:
        """Per field the candidate differed on: its divergence, the secondary's noise share
        there, and the verdict (``divergence``, ``noise``, or ``undecided`` while the route
        has too few pairs)."""
        tally = self._raw.get((candidate, route))
        if tally is None:
            return {}
        judged = self.judged(candidate, route)
        out: dict[str, dict[str, Any]] = {}
        for path, n in sorted(tally.fields.items(), key=_by_count_then_name):
            raw = n / tally.pairs
            noise = self.noise_share(route, path)
            verdict = (
                "undecided" if not judged else "divergence" if self._real(raw, noise) else "noise"
            )
            out[path] = {
                "differences": n,
                "divergence": round(raw, 6),
                "noise_share": round(noise, 6),
                "verdict": verdict,
            }
        return out


def _by_count_then_name(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])
