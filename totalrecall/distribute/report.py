"""The plan (printed before any write) and the result (after), in the same rows, order and terms.

Per target and data type: planned adds + removals + excluded = written adds + removals + excluded (the
plan's and those the target refused, with reasons) + failed (not done: the target failed or did not say).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from totalrecall.distribute.plan import TargetPlan
from totalrecall.model import describe_entry

if TYPE_CHECKING:
    from totalrecall.pipeline.context import RunReport
    from totalrecall.sources.base import Excluded, WriteResult

__all__ = ["Outcome", "outcome", "describe_outcome", "render_plan", "render_changes", "render_result",
           "render_summary"]

_HEADER = ["target", "data", "mode", "adds", "removals", "rating changes", "excluded"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, [("-" * width) for width in widths], *rows]]
    return "\n".join(lines)


@attrs.frozen
class Outcome:
    """What became of one plan, in the plan's terms."""

    adds: int
    removals: int
    rating_changes: int
    excluded: tuple[Excluded, ...]
    failed: int
    state: str  # "written", "dry-run", "failed", "not-sent" (the run stopped first)


def outcome(plan: TargetPlan, result: WriteResult | None, state: str = "written") -> Outcome:
    """`result` None: nothing is known to have reached the target (it failed, or the run was dry)."""
    if result is None:
        failed = 0 if state == "dry-run" else len(plan.adds) + len(plan.removals)
        return Outcome(0, 0, 0, plan.excluded, failed, state)
    rerated = set(plan.rerated)
    changes = sum(1 for entry in result.added if entry in rerated)
    # A passing refusal (the outcome unknown, offered again next run) is a failure, not an exclusion.
    refused = tuple(item for item in result.excluded if not item.retry)
    done = len(result.added) + len(result.removed) + len(refused)
    failed = max(0, len(plan.adds) + len(plan.removals) - done)
    return Outcome(len(result.added) - changes, len(result.removed), changes, (*plan.excluded, *refused),
                   failed, state)


def describe_outcome(plan: TargetPlan, result: WriteResult) -> str:
    """One log line in the plan's terms: `trakt ratings: 3 adds, 0 removals, 1 rating change, 0 excluded`."""
    done = outcome(plan, result)
    return (f"{plan.target} {plan.data_type.value}: {done.adds} adds, {done.removals} removals, "
            f"{done.rating_changes} rating changes, {len(done.excluded)} excluded, {done.failed} failed")


def render_plan(plans: Sequence[TargetPlan]) -> str:
    """One row per target and data type: adds, removals, rating changes, excluded; then the total."""
    if not plans:
        return "plan: nothing to distribute"
    rows = [
        [plan.target, plan.data_type.value, plan.mode, str(len(plan.adds) - plan.rating_changes),
         str(len(plan.removals)), str(plan.rating_changes), str(len(plan.excluded))]
        for plan in plans
    ]
    total = sum(len(plan.adds) + len(plan.removals) for plan in plans)
    excluded = sum(len(plan.excluded) for plan in plans)
    verdict = "plan: no changes" if total == 0 else f"plan: {total} change{'' if total == 1 else 's'}"
    if excluded:
        verdict += f", {excluded} excluded"
    return f"{_table(_HEADER, rows)}\n{verdict}"


def render_changes(plans: Sequence[TargetPlan]) -> str:
    """Every planned change with its title and year (and every exclusion with its reason), for -v."""
    lines = []
    for plan in plans:
        where = f"{plan.target} {plan.data_type.value}"
        rerated = set(plan.rerated)
        lines += [f"  {'~' if entry in rerated else '+'} {where}: {describe_entry(entry)}" for entry in plan.adds]
        lines += [f"  - {where}: {describe_entry(entry)}" for entry in plan.removals]
        lines += [f"  x {where}: {describe_entry(item.entry)}: {item.reason}" for item in plan.excluded]
    return "\n".join(lines)


def _outcomes(report: RunReport) -> list[tuple[TargetPlan, Outcome]]:
    found = []
    for plan in report.plans:
        result = report.results.get((plan.target, plan.data_type))
        if result is not None:
            found.append((plan, outcome(plan, result)))
        elif plan.target in report.dry_run_targets:
            found.append((plan, outcome(plan, None, "dry-run")))
        elif plan.target in report.failed:
            found.append((plan, outcome(plan, None, "failed")))
        else:  # the run stopped before this target (removal guard, a cache miss)
            found.append((plan, outcome(plan, None, "not-sent")))
    return found


_CODE = re.compile(r"^[a-z][a-z0-9_]*(?=:)")


def _reasons(excluded: Sequence[Excluded]) -> str:
    """Counts per kind of reason (`unsupported_kind`, `discover_only`); each title's reason is in
    excluded.json and, at -v, in the log."""
    counts = Counter((found.group() if (found := _CODE.match(item.reason)) else item.reason) for item in excluded)
    return ", ".join(f"{count} {reason}" for reason, count in counts.most_common())


def render_result(report: RunReport) -> str:
    """The plan's rows again, with what was done: adds, removals, rating changes, excluded, failed."""
    outcomes = _outcomes(report)
    if not outcomes:
        return ""
    rows = [[plan.target, plan.data_type.value, done.state, str(done.adds), str(done.removals),
             str(done.rating_changes), str(len(done.excluded)), str(done.failed)] for plan, done in outcomes]
    header = ["target", "data", "result", *_HEADER[3:], "failed"]
    lines = [_table(header, rows)]
    written = sum(done.adds + done.removals + done.rating_changes for _plan, done in outcomes)
    excluded = sum(len(done.excluded) for _plan, done in outcomes)
    failed = sum(done.failed for _plan, done in outcomes)
    lines.append(f"result: {written} change{'' if written == 1 else 's'} written, {excluded} excluded, {failed} failed")
    for plan, done in outcomes:
        if done.excluded:
            lines.append(f"excluded: {plan.target} {plan.data_type.value}: {_reasons(done.excluded)} "
                         f"(per title: data/cache/distribute/{plan.target}/excluded.json)")
    return "\n".join(lines)


def render_summary(report: RunReport) -> str:
    """The closing lines: the result table, suspects, failures, notes; a dry run ends with its files."""
    lines = []
    result = render_result(report)
    if result:
        lines.append(result)
    for service, reason in sorted(report.suspects.items()):
        lines.append(f"suspect: {service} {reason}; it caused no removals")
    for _service, message in sorted(report.failed.items()):
        lines.append(f"failed: {message}")
    lines.extend(report.notes)
    if not any(plan.adds or plan.removals for plan in report.plans) and not report.failed and not report.notes:
        lines.append("everything was already in sync")
    if report.dry_run_targets:
        lines.append("dry run: nothing written to " + ", ".join(sorted(report.dry_run_targets)) + "; files written:")
        lines.extend(f"  {path}" for path in report.files)
    return "\n".join(lines)
