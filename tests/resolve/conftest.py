"""Makes the shared builders in resolve_helpers.py importable under pytest's importlib import mode."""

from __future__ import annotations

import sys
from pathlib import Path

# importlib mode puts no test folder on sys.path; the builders are plain functions, not fixtures,
# because the parametrize tables need them at import time.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
