"""Driving the core's :class:`Pipeline` one event at a time in unit tests: each event fed
reaches the join at once (both sides count as caught up), and each call returns the records
the pipeline sent because of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from comparator.config.settings import Config
from comparator.core.outcomes import Failed, Handlers, LabelFolded
from comparator.core.outputs.record_publisher import Emission
from comparator.core.pipeline import Pipeline
from comparator.core.settings import CoreSettings

KEY = b"k" * 32


class HeardOnce:
    """An outcome observer keeping what the application logs once per kind."""

    def __init__(self) -> None:
        self.failures: list[tuple[str, str]] = []
        self.folds: list[tuple[str, int]] = []

    def handlers(self) -> Handlers:
        return {Failed: self._failed, LabelFolded: self._folded}

    def _failed(self, outcome: Failed) -> None:
        key = (outcome.stage, type(outcome.error).__name__)
        if key not in self.failures:
            self.failures.append(key)

    def _folded(self, outcome: LabelFolded) -> None:
        fold = (outcome.label, outcome.limit)
        if fold not in self.folds:
            self.folds.append(fold)


class PipelineHarness:
    def __init__(
        self, config: Config | CoreSettings, *, redaction_key: bytes = KEY, **options: Any
    ) -> None:
        settings = config.core() if isinstance(config, Config) else config
        self.sent: list[Emission] = []
        self.heard = HeardOnce()
        self.pipeline = Pipeline(
            settings,
            redaction_key=redaction_key,
            send=self.sent.append,
            observers=[self.heard],
            **options,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipeline, name)

    def _drain(self) -> list[Emission]:
        out = list(self.sent)
        self.sent.clear()
        return out

    def process(
        self,
        raw: bytes,
        *,
        side: str,
        partition: int = 0,
        default_ts_ms: int = 0,
        wall_ms: int = 0,
        position: Any = None,
    ) -> list[Emission]:
        p = self.pipeline
        p.feed(
            raw,
            side=side,  # type: ignore[arg-type]
            partition=partition,
            default_ts_ms=default_ts_ms,
            position=position,
        )
        for each_side in p.sides.all:
            p.side_caught_up(partition, each_side)
        p.release(wall_ms)
        return self._drain()

    def tick(
        self, wall_ms: int, still_reading: Callable[[int], bool] | None = None
    ) -> list[Emission]:
        self.pipeline.tick(wall_ms, still_reading)
        return self._drain()

    def close_all(self, wall_ms: int) -> list[Emission]:
        self.pipeline.close_all(wall_ms)
        return self._drain()
