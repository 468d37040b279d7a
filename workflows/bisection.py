"""Dependency bisection: which of the distributions that changed since the last green build
break it, found in O(log n) builds (delta debugging, Zeller and Hildebrandt 2002).

A probe build holds some changes back at their last green versions and lets the others (the
*floating* ones) take their failing versions, through pip constraints. The planner is a pure
function of the probes made so far, so the workflow drives it (each probe a durable build;
replay rebuilds the plan) and tests drive it without Temporal:

1. Binary search for a single culprit: float the first half of the suspects; failing, the
   culprit is in it; passing, it is taken to be in the other half without a build.
2. A suspect reached without a build of its own is confirmed by one (it alone floating must
   fail); one that is not falls back to ddmin over every change, which finds a minimal set of
   interacting culprits (all earlier probes are reused).
3. If no probe passed along the way, one more holds every change back: failing too, the build
   fails with the last green versions, and dependency drift is not the cause.

One culprit among n changes costs ceil(log2 n) + 1 builds at most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from models import BuildResult
from models.bisection import Bisection, BisectionProbe, ProbeOutcome, VersionChange
from specialists.releases import parse_freeze


def changed(known_good: str | None, failing: str | None) -> list[VersionChange]:
    """The distributions installed in both builds at different versions, by name. Ones only the
    failing build installed cannot be held back (they float); ones it dropped are gone."""
    good, bad = parse_freeze(known_good), parse_freeze(failing)
    return [VersionChange(name=name, good=good[name], bad=bad[name]) for name in sorted(good.keys() & bad.keys()) if good[name] != bad[name]]


def constraints(changes: Sequence[VersionChange], floating: Sequence[str]) -> str:
    """pip constraints for a probe: floating changes at their failing versions (so every probe
    builds what the failing build had, whatever the index publishes meanwhile), the rest at
    their last green versions."""
    up = set(floating)
    return "".join(f"{c.name}=={c.bad if c.name in up else c.good}\n" for c in changes)


def reproduces(probe: BuildResult, failing: BuildResult) -> bool:
    """The probe failed the way the failing build did: the same failure, or the same tests."""
    if probe.passed:
        return False
    if probe.signature == failing.signature:
        return True
    failed_before = set(failing.tests.failed_ids) if failing.tests else set()
    failed_now = set(probe.tests.failed_ids) if probe.tests else set()
    return bool(failed_before & failed_now)


class _NeedProbe(Exception):
    def __init__(self, floating: list[str]) -> None:
        super().__init__(floating)
        self.floating = floating


def next_step(changes: Sequence[VersionChange], outcomes: Sequence[ProbeOutcome], *, max_probes: int) -> BisectionProbe | Bisection:
    """The next probe to build, or the result when the probes made so far settle it (or
    ``max_probes`` allows no more)."""
    names = [c.name for c in changes]
    everything = frozenset(names)
    known = {frozenset(o.floating): o.reproduced for o in outcomes}

    def fails(subset: Sequence[str]) -> bool:
        key = frozenset(subset)
        if key == everything:
            return True  # the failing build itself
        if key in known:
            return known[key]
        raise _NeedProbe([n for n in names if n in key])

    def result(culprits: Sequence[str], conclusive: bool, reason: str) -> Bisection:
        chosen = set(culprits)
        return Bisection(
            changes=list(changes), culprits=[c for c in changes if c.name in chosen], probes=list(outcomes), conclusive=conclusive, reason=reason
        )

    try:
        suspects = _binary_search(names, fails)
        if suspects is None:
            suspects = _ddmin(names, fails)
        if not any(reproduced is False for reproduced in known.values()) and fails([]):
            return result([], False, f"the build fails with every one of the {len(names)} changed distributions at its last green version too: the failure does not come from dependency drift")
    except _NeedProbe as need:
        if len(outcomes) >= max_probes:
            return result([], False, f"no culprit found within {max_probes} probe builds")
        return BisectionProbe(floating=need.floating)
    described = ", ".join(c.describe() for c in changes if c.name in set(suspects))
    return result(suspects, True, f"{described} breaks the build: found among {len(names)} changed distributions in {len(outcomes)} probe build(s)")


def _binary_search(names: list[str], fails: Callable[[Sequence[str]], bool]) -> list[str] | None:
    """The single culprit, if the failure has one; ``None`` when the inferred one is refuted."""
    suspects, inferred = list(names), False
    while len(suspects) > 1:
        half = len(suspects) // 2
        first, second = suspects[:half], suspects[half:]
        if fails(first):
            suspects, inferred = first, False
        else:
            suspects, inferred = second, True
    if inferred and not fails(suspects):
        return None
    return suspects


def _ddmin(names: list[str], fails: Callable[[Sequence[str]], bool]) -> list[str]:
    """A 1-minimal failing subset of ``names`` (which fails as a whole)."""
    current, n = list(names), 2
    while len(current) >= 2:
        chunks = _split(current, n)
        for chunk in chunks:
            if fails(chunk):
                current, n = chunk, 2
                break
        else:
            for chunk in chunks:
                rest = [x for x in current if x not in chunk]
                if fails(rest):
                    current, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(current):
                    break
                n = min(len(current), 2 * n)
    return current


def _split(items: list[str], n: int) -> list[list[str]]:
    size, extra = divmod(len(items), n)
    chunks, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        chunks.append(items[start:end])
        start = end
    return [c for c in chunks if c]
