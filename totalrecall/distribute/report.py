"""Human-readable plan and result tables for the end of a run."""

from __future__ import annotations

from collections.abc import Sequence

from totalrecall.distribute.plan import TargetPlan

__all__ = ["render_plan", "render_summary"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, [("-" * width) for width in widths], *rows]]
    return "\n".join(lines)


def render_plan(plans: Sequence[TargetPlan]) -> str:
    """One row per target and data type: adds, removals, rating changes, excluded."""
    if not plans:
        return "plan: nothing to distribute"
    rows = [
        [
            plan.target,
            plan.data_type.value,
            plan.mode,
            str(len(plan.adds) - plan.rating_changes),
            str(len(plan.removals)),
            str(plan.rating_changes),
            str(len(plan.excluded)),
        ]
        for plan in plans
    ]
    total = sum(len(plan.adds) + len(plan.removals) for plan in plans)
    header = ["target", "data", "mode", "adds", "removals", "rating changes", "excluded"]
    verdict = "plan: no changes" if total == 0 else f"plan: {total} change{'' if total == 1 else 's'}"
    return f"{_table(header, rows)}\n{verdict}"


def render_summary(report: object) -> str:
    """The closing lines: what was written, which services failed or were suspect."""
    from totalrecall.pipeline.interpreter import RunReport

    assert isinstance(report, RunReport)
    lines = []
    for (target, data_type), result in sorted(report.results.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
        if result.added or result.removed or result.excluded:
            lines.append(
                f"{target} {data_type.value}: {len(result.added)} written, {len(result.removed)} removed,"
                f" {len(result.excluded)} excluded"
            )
    if report.dry_run_targets:
        lines.append("dry run: nothing written to " + ", ".join(sorted(report.dry_run_targets))
                     + " (see data/cache/distribute/)")
    for service, reason in sorted(report.suspects.items()):
        lines.append(f"suspect: {service} {reason}; it caused no removals")
    for _service, message in sorted(report.failed.items()):
        lines.append(f"failed: {message}")
    lines.extend(report.notes)
    if not lines:
        lines.append("everything was already in sync")
    return "\n".join(lines)
