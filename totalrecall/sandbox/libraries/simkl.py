"""The fake Simkl API in the sandbox, on a fixed port, seeded with a sample library overlapping the others."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from totalrecall.config.paths import make_private_dir
from totalrecall.sandbox.fake_simkl import FakeSimkl, library_state
from totalrecall.sandbox.fakebase import FakeService
from totalrecall.sandbox.plugins import SandboxService, sandbox_port, sandbox_services

__all__ = ["SimklSandbox", "PORT", "CLIENT_ID", "TOKEN"]

PORT = 18232
CLIENT_ID = "sandbox-simkl-client"
TOKEN = "sandbox-simkl-token"


def _sample() -> dict[str, Any]:
    text = resources.files("totalrecall.sandbox").joinpath("data/simkl_library.json").read_text(encoding="utf-8")
    return json.loads(text)


@sandbox_services.register("simkl")
class SimklSandbox(SandboxService):
    """Simkl with plan-to-watch, completed, watching, on-hold and dropped titles (the last three stay as they are)."""

    name = "simkl"
    ports = (PORT,)
    order = 20

    def config(self, folder: Path) -> dict[str, Any]:
        return {"simkl": {"enabled": True, "client_id": CLIENT_ID, "api_url": f"http://127.0.0.1:{sandbox_port(PORT)}"}}

    def credentials(self) -> dict[str, Any]:
        return {"simkl_access_token": TOKEN}

    def state_path(self, folder: Path) -> Path:
        return folder / "fakes" / "simkl.json"

    def seed(self, folder: Path) -> None:
        path = self.state_path(folder)
        if path.exists():
            return  # a second run continues from the first
        make_private_dir(path.parent)
        path.write_text(json.dumps(library_state(_sample()), indent=1, sort_keys=True), encoding="utf-8")

    def start_fakes(self, folder: Path, time_scale: float = 1.0) -> list[FakeService]:
        self.seed(folder)
        fake = FakeSimkl(port=sandbox_port(PORT), state_path=self.state_path(folder))
        fake.time_scale = time_scale
        return [fake.start()]
