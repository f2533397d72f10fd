"""The web page's own pages: Overview, Plan (dry run), Runs (journal, undo with confirmation), Excluded, Sync now.

Reads come from the same files as `status` and `history`; writes (a dry run's files, a sync, an undo) go
through the same code as the commands, and only from POST forms carrying the CSRF token.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from totalrecall.config.settings import load_settings
from totalrecall.errors import TotalRecallError
from totalrecall.logsetup import redact_text
from totalrecall.model import describe_entry
from totalrecall.web.app import COOKIE, WebContext, read_form, register_routes, session_value
from totalrecall.web.chart import held_chart

__all__ = ["pages"]


def _status(ctx: WebContext) -> Any:
    from totalrecall.status import gather_status

    return gather_status(ctx.paths, load_settings(ctx.paths.config_file, required=True))


def _charts(ctx: WebContext, services: Sequence[str]) -> dict[str, str]:
    from totalrecall.runlog import read_run_log

    runs = [run for run in read_run_log(ctx.paths.state_dir, 20) if run.held]
    return {name: held_chart(name, [run.held[name] for run in runs if name in run.held]) for name in services}


def _plan_rows(plans: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    for plan in plans:
        rerated = set(plan.rerated)
        changes = [("re-rate" if entry in rerated else "add", describe_entry(entry)) for entry in plan.adds]
        changes += [("remove", describe_entry(entry)) for entry in plan.removals]
        rows.append({"target": plan.target, "data_type": plan.data_type.value, "mode": plan.mode,
                     "adds": len(plan.adds) - plan.rating_changes, "removals": len(plan.removals),
                     "rating_changes": plan.rating_changes, "excluded": len(plan.excluded), "changes": changes})
    return rows


def _excluded(ctx: WebContext, service: str, text: str) -> tuple[list[dict[str, str]], list[str]]:
    root = ctx.paths.cache_dir / "distribute"
    found, services = [], []
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        try:
            document = json.loads((folder / "excluded.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        services.append(folder.name)
        if service and folder.name != service:
            continue
        for data_type, items in (document.items() if isinstance(document, dict) else ()):
            for item in items if isinstance(items, list) else ():
                entry = item.get("entry", {}) if isinstance(item, dict) else {}
                row = {"service": folder.name, "data_type": str(data_type), "reason": str(item.get("reason", "")),
                       "title": _title(entry) if entry else str(item.get("record", ""))[:80]}
                if not text or text.lower() in (row["title"] + " " + row["reason"]).lower():
                    found.append(row)
    return found, services


def _title(entry: dict[str, Any]) -> str:
    item = entry.get("item", {})
    title = item.get("show_title") or item.get("title") or item.get("ids", {}).get("imdb") or "?"
    if item.get("season") is not None and item.get("episode") is not None:
        return f"{title} S{int(item['season']):02d}E{int(item['episode']):02d}"
    return f"{title} ({item['year']})" if item.get("year") else str(title)


def pages(ctx: WebContext) -> list[BaseRoute]:
    """The routes of the built-in pages."""

    def overview(request: Request) -> Response:
        status = _status(ctx)
        return ctx.render(request, "overview.html", page="overview", status=status,
                          charts=_charts(ctx, [service.name for service in status.services]),
                          busy=ctx.jobs.busy(), live=ctx.jobs.live_status())

    def plan(request: Request) -> Response:
        job = ctx.jobs.last.get("dry run")
        current = ctx.jobs.current if ctx.jobs.current and ctx.jobs.current.kind == "dry run" else None
        return ctx.render(request, "plan.html", page="plan", job=job, running=current is not None and current.running,
                          live=ctx.jobs.live_status(), rows=_plan_rows(job.plans) if job else [])

    async def start(request: Request, kind: str, back: str) -> Response:
        ctx.check_csrf(await read_form(request))
        refused = ctx.jobs.start(kind)
        if refused is not None:
            what = "Sync now" if kind == "sync" else "Dry run"
            return ctx.render(request, "refused.html", status_code=409, page=back.strip("/") or "overview",
                              message=f"{what} refused: {refused}. Try again when it has finished.")
        return RedirectResponse(back, status_code=303)

    async def dry_run(request: Request) -> Response:
        return await start(request, "dry run", "/plan")

    async def sync_now(request: Request) -> Response:
        return await start(request, "sync", "/runs")

    def runs(request: Request) -> Response:
        from totalrecall.distribute.journal import undone_by
        from totalrecall.pipeline.undoing import list_runs

        records = list_runs(ctx.paths)
        current = ctx.jobs.current if ctx.jobs.current and ctx.jobs.current.kind == "sync" else None
        return ctx.render(request, "runs.html", page="runs", runs=list(reversed(records)), undone=undone_by(records),
                          job=ctx.jobs.last.get("sync"), running=current is not None and current.running,
                          live=ctx.jobs.live_status(), message=ctx.jobs.take_notice())

    def _undo_plan(run_id: str) -> Any:
        from totalrecall.pipeline.running import prepared_run
        from totalrecall.pipeline.undoing import RUN_ID, plan_undo_run

        if not RUN_ID.fullmatch(run_id):
            raise TotalRecallError(f'"{run_id}" is not a run id')
        with prepared_run(ctx.paths, f"totalrecall web (undo {run_id} --dry-run)") as (settings, credentials):
            return plan_undo_run(run_id, ctx.paths, settings, credentials)

    def undo_confirm(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            plan = _undo_plan(run_id)
        except TotalRecallError as error:
            return ctx.render(request, "refused.html", status_code=409, page="runs", message=redact_text(error.message))
        return ctx.render(request, "undo.html", page="runs", run_id=run_id, lines=plan.describe(),
                          empty=not plan.steps)

    async def undo_apply(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        ctx.check_csrf(await read_form(request))
        run_id = request.path_params["run_id"]
        busy = ctx.jobs.busy()
        if busy is not None:
            return ctx.render(request, "refused.html", status_code=409, page="runs",
                              message=f"Undo refused: {busy}. Try again when it has finished.")
        try:
            done = await run_in_threadpool(_apply_undo, ctx, run_id)
        except TotalRecallError as error:
            return ctx.render(request, "refused.html", status_code=409, page="runs", message=redact_text(error.message))
        ctx.jobs.notice = done  # shown once on /runs (not in the URL: a link could not forge it)
        return RedirectResponse("/runs", status_code=303)

    def excluded(request: Request) -> Response:
        service, text = request.query_params.get("service", ""), request.query_params.get("q", "")
        rows, services = _excluded(ctx, service, text)
        return ctx.render(request, "excluded.html", page="excluded", rows=rows, services=services,
                          service=service, q=text)

    async def login(request: Request) -> Response:
        if request.method == "GET" or not ctx.token:
            return ctx.render(request, "login.html", page="login", wrong=False)
        form = await read_form(request)
        ctx.check_csrf(form)
        if not hmac.compare_digest(str(form.get("token", "")).encode(), ctx.token.encode()):
            return ctx.render(request, "login.html", status_code=401, page="login", wrong=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, session_value(ctx.token), httponly=True, samesite="strict")
        return response

    return [
        Route("/", overview), Route("/plan", plan), Route("/plan", dry_run, methods=["POST"]),
        Route("/sync", sync_now, methods=["POST"]), Route("/runs", runs),
        Route("/runs/{run_id}/undo", undo_confirm), Route("/runs/{run_id}/undo", undo_apply, methods=["POST"]),
        Route("/excluded", excluded), Route("/login", login, methods=["GET", "POST"]),
    ]


def _apply_undo(ctx: WebContext, run_id: str) -> str:
    from totalrecall.pipeline.running import prepared_run
    from totalrecall.pipeline.undoing import apply_undo_plan, plan_undo_run

    with prepared_run(ctx.paths, f"totalrecall web (undo {run_id})") as (settings, credentials):
        plan = plan_undo_run(run_id, ctx.paths, settings, credentials)
        report = apply_undo_plan(plan, ctx.paths, settings, credentials)
    problems = "; ".join(report.problems)
    text = f"run {run_id} undone as run {report.undo_run_id}"
    return redact_text(text + (f" (could not restore: {problems})" if problems else ""))


register_routes(pages)
