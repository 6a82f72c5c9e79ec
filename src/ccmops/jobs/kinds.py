"""The kinds of job and the schedules: declared by each app in its `jobs` module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ccmops.errors import ConfigurationError


@dataclass(frozen=True)
class Kind:
    """`run(ctx, **params)` does the work and returns a small JSON result. It must be safe to run again after a
    crash (a killed worker's job is run again): either `atomic` — the whole run is one transaction that also marks
    the job done — or resumable by design (each step commits its effects idempotently, a re-run carries on)."""

    name: str
    run: Callable
    atomic: bool = False
    max_attempts: int = 3
    queue: str = "default"


@dataclass(frozen=True)
class Schedule:
    """Recurring work: `targets(now)` lists (practice id or None, params, label) to start this period; a period
    key built from `every` makes each run once per period however many workers tick."""

    kind: str
    every: str  # "day" or "hour"
    targets: Callable[[dt.datetime], Iterable[tuple[int | None, dict, str]]]
    at_hour: int = 2  # for daily work: the hour (UTC) from which the day's run may start


KINDS: dict[str, Kind] = {}
SCHEDULES: list[Schedule] = []


def job_kind(name: str, *, atomic: bool = False, max_attempts: int = 3, queue: str = "default"):
    """Register `run` as the job kind `name`."""

    def register(run: Callable) -> Callable:
        if name in KINDS and KINDS[name].run is not run:
            raise ConfigurationError(f"job kind {name!r} is declared twice")
        KINDS[name] = Kind(name, run, atomic, max_attempts, queue)
        return run

    return register


def scheduled(kind: str, *, every: str, at_hour: int = 2):
    """Register `targets` as the schedule of `kind`."""
    if every not in ("day", "hour"):
        raise ConfigurationError(f"schedule of {kind}: every must be 'day' or 'hour', got {every!r}")

    def register(targets: Callable) -> Callable:
        SCHEDULES.append(Schedule(kind, every, targets, at_hour))
        return targets

    return register


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ConfigurationError(f"no job kind {name!r} (known: {', '.join(sorted(KINDS))})") from None


def period_of(schedule: Schedule, now: dt.datetime) -> str | None:
    """The period `now` falls in, or None before a daily schedule's hour."""
    if schedule.every == "hour":
        return now.strftime("%Y-%m-%dT%H")
    if now.hour < schedule.at_hour:
        return None
    return now.strftime("%Y-%m-%d")
