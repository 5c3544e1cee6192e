"""Which sides a run compares: ``stable``, an optional ``secondary`` and one or more candidates.

Two-sided runs (stable and one candidate named ``dark``) are the default and behave as before.
A *secondary* is a second copy of the stable version fed the same requests: stable compared with
it measures the noise of each field (Diffy's primary/secondary). *Candidates* are the versions
under test; each is compared with stable under the rules, apart from the others.

Side names label metrics and name inputs, so they are short and plain: lower-case letters,
digits, ``-`` and ``_``, starting with a letter, at most 32 characters; ``stable`` and
``secondary`` are the two reserved roles.

Version rule for the event's ``side`` field (``schemas/response-event.v1.json`` and
``response-event.v2.json``): an event without ``event_version`` is a version 1 event, whose
``side`` names a role: ``stable`` agrees with the stable and the secondary inputs, ``dark`` with
any candidate's. An event with ``"event_version": 2`` names the exact side it belongs to
(``stable``, ``secondary`` or a candidate's name). Either way the input an event arrives on
decides its side; ``side`` only has to agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STABLE = "stable"
SECONDARY = "secondary"
DARK = "dark"  # the default single candidate
SIDE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # the whole name (fullmatch)
RESERVED = (STABLE, SECONDARY)


def side_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a candidate, or None."""
    if not isinstance(name, str) or not SIDE_NAME.fullmatch(name):
        return (
            "a candidate name is 1-32 characters: lower-case letters, digits, '-' and '_', "
            "starting with a letter"
        )
    if name in RESERVED:
        return f"{name!r} is reserved (the stable and secondary inputs have their own keys)"
    return None


@dataclass(frozen=True, slots=True)
class Sides:
    """The sides of a run, stable first, then the secondary (if any), then the candidates."""

    candidates: tuple[str, ...] = (DARK,)
    secondary: bool = False

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ValueError("at least one candidate is needed")
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError(f"candidate names repeat: {list(self.candidates)}")
        for name in self.candidates:
            problem = side_name_problem(name)
            if problem is not None:
                raise ValueError(f"candidate {name!r}: {problem}")

    @property
    def all(self) -> tuple[str, ...]:
        """Every side, in a fixed order (stable, secondary, candidates)."""
        return (STABLE, *self.compared)

    @property
    def compared(self) -> tuple[str, ...]:
        """The sides compared with stable: the secondary (noise baseline), then candidates."""
        return ((SECONDARY,) if self.secondary else ()) + self.candidates

    @property
    def two_sided(self) -> bool:
        """Stable and one candidate only: every output looks as before sides beyond two."""
        return not self.secondary and len(self.candidates) == 1

    def role(self, side: str) -> str:
        """``stable``, ``secondary`` or ``candidate``."""
        if side in (STABLE, SECONDARY):
            return side
        return "candidate"

    def agrees(self, declared: object, side: str, *, version: object = None) -> bool:
        """True if an event arriving on ``side``'s input may say ``"side": declared``
        (module docstring: the version rule)."""
        if version == 2:
            return declared == side
        if declared == STABLE:
            return side in (STABLE, SECONDARY)
        if declared == DARK:
            return side not in RESERVED
        return False


TWO_SIDED = Sides()
