"""Screenshots of the main pages of ``hypsa serve`` for docs/web.md.

Runs the browser end-to-end test (a real server and worker, headless Debian Chromium driven by
Playwright) with ``HYPSA_SCREENSHOTS`` pointing at ``docs/img``::

    .venv/bin/python benchmarks/web_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Take the screenshots; the exit status of the test run."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    env = {**os.environ, "HYPSA_SCREENSHOTS": str(out.resolve())}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           str(ROOT / "tests" / "test_web_e2e.py"), "-k", "browser"]
    rc = subprocess.call(cmd, env=env, cwd=ROOT)
    for p in sorted(out.glob("web-*.png")):
        print(p)
    return rc


if __name__ == "__main__":
    sys.exit(main())
