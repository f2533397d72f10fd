"""Test-only: run `totalrecall sync` and SIGKILL the process at a chosen point (argv: POINT SERVICE)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import attrs

from totalrecall import registries
from totalrecall.distribute.journal import Journal
from totalrecall.model import DataType
from totalrecall.pipeline import interpreter

TIME_SCALE = 0.01


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str, service: str) -> None:
    registries.load_all()
    original_init = interpreter.Interpreter.__init__

    def init(self: Any, pipeline: Any, paths: Any, settings: Any, credentials: Any, options: Any = None) -> None:
        options = attrs.evolve(options or interpreter.RunOptions(), time_scale=TIME_SCALE)
        original_init(self, pipeline, paths, settings, credentials, options)

    interpreter.Interpreter.__init__ = init  # type: ignore[method-assign]

    if point == "kill_collect":
        cls = registries.services.get(service)
        read = cls.read

        def reading(self: Any, data_type: DataType) -> Any:
            if data_type is DataType.WATCH_HISTORY:
                _kill()
            return read(self, data_type)

        cls.read = reading  # type: ignore[method-assign]
    elif point == "kill_between_batches":
        intend = Journal.intend
        seen: list[str] = []

        def intending(self: Journal, target: str, *args: Any) -> int:
            if target == service:
                seen.append(target)
                if len(seen) == 2:  # the first batch went through and was marked done
                    _kill()
            return intend(self, target, *args)

        Journal.intend = intending  # type: ignore[method-assign]
    elif point == "kill_before_done":
        done = Journal.done
        targets: dict[int, str] = {}
        intend = Journal.intend

        def intending(self: Journal, target: str, *args: Any) -> int:
            sequence = intend(self, target, *args)
            targets[sequence] = target
            return sequence

        def finishing(self: Journal, sequence: int, *args: Any) -> None:
            if targets.get(sequence) == service:
                _kill()  # the target accepted the batch; the journal never hears of it
            done(self, sequence, *args)

        Journal.intend = intending  # type: ignore[method-assign]
        Journal.done = finishing  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown kill point {point}")

    from totalrecall.cli import main as cli_main

    sys.argv = ["totalrecall", "-q", "sync"]
    cli_main()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
