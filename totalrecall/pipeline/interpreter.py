"""Runs a validated pipeline: merged with config.toml once, then each step's `run(ctx)` in order.

The steps own their behaviour (collect/, resolve/, distribute/); this module only builds the run's context,
loops over the effective pipeline's steps and closes the connectors however the run ends.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

from totalrecall import registries
from totalrecall.collect import stage as collect_stage
from totalrecall.config.credentials import CredentialStore
from totalrecall.config.paths import Paths
from totalrecall.config.settings import Settings
from totalrecall.pipeline.context import ALL, RunContext, RunOptions, RunReport, ServicePlan
from totalrecall.pipeline.effective import effective_pipeline
from totalrecall.pipeline.spec import Pipeline
from totalrecall.sources.base import Service, ServiceContext

__all__ = ["RunOptions", "RunReport", "Interpreter", "ALL"]

log = logging.getLogger("totalrecall.run")


class Interpreter:
    """Executes one pipeline once, with the steps of its effective pipeline (config.toml filling the gaps)."""

    def __init__(
        self,
        pipeline: Pipeline,
        paths: Paths,
        settings: Settings,
        credentials: CredentialStore,
        options: RunOptions | None = None,
    ) -> None:
        registries.load_all()
        self.settings = settings
        self.options = options or RunOptions()
        started_at = self.options.clock()
        self.ctx = RunContext(
            pipeline=effective_pipeline(pipeline, settings),
            paths=paths,
            credentials=credentials,
            options=self.options,
            started_at=started_at,
            run_id=f"{started_at:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}",
        )

    @property
    def pipeline(self) -> Pipeline:
        """The effective pipeline: what this run does, every default filled in."""
        return self.ctx.pipeline

    @property
    def report(self) -> RunReport:
        return self.ctx.report

    @property
    def connectors(self) -> dict[str, Service]:
        return dict(self.ctx.connectors)

    def plan_services(self) -> list[ServicePlan]:
        return collect_stage.plan_services(self.ctx.pipeline, self.settings, self.ctx.data_types)

    def _context(self, plan: ServicePlan) -> ServiceContext:
        return collect_stage.service_context(plan, self.ctx.paths, self.ctx.credentials, self.options)

    def connect(self, plans: Sequence[ServicePlan]) -> None:
        """Connect `plans` only (undo reaches just the targets it touches)."""
        collect_stage.connect(self.ctx, plans)

    def run(self) -> RunReport:
        ctx = self.ctx
        ctx.services = self.plan_services()
        collect_stage.check_selections(ctx.services, self.options)
        ctx.report.services = [plan.name for plan in ctx.services]
        log.info("services: %s", ", ".join(f"{p.name} ({', '.join(d.value for d in p.data_types)})" for p in ctx.services))
        try:
            for step in ctx.pipeline.steps:
                # A failing service is isolated inside its step; an error raised here stops the run
                # (cache miss, removal guard), and the connectors are closed either way.
                step.run(ctx)
                if ctx.finished:
                    break
            return ctx.report
        finally:
            self.close()

    def close(self) -> None:
        """Close every connector (browsers, sessions); errors while closing never hide the outcome."""
        collect_stage.close(self.ctx)
