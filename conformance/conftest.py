"""Makes the shared harness importable in every suite under conformance/: puts ``conformance/`` on
``sys.path``, so a suite's modules write ``from harness import …`` (see harness/__init__.py).

Nothing else happens here, on purpose: this file is loaded for every pytest run under
conformance/, including the deploy suite, whose venv (.venv-deploy) has no boto3. A suite turns the
harness's fixtures and failure-report hook on in its own conftest (``harness.register(config)``).
"""

from __future__ import annotations

import sys
from pathlib import Path

CONFORMANCE = str(Path(__file__).resolve().parent)
if CONFORMANCE not in sys.path:
    sys.path.insert(0, CONFORMANCE)
