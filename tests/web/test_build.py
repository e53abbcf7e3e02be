"""The verifier page committed in the package is exactly what its sources and the lockfile build."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "bctrace" / "web" / "static" / "index.html"


def test_committed_page_rebuilds_byte_identically(tmp_path):
    node = shutil.which("node")
    assert node, "Node is needed to rebuild the verifier (scripts/test runs `npm install`)"
    out = tmp_path / "index.html"
    result = subprocess.run([node, str(REPO / "web" / "verifier" / "build.mjs"), str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == COMMITTED.read_bytes(), "bctrace/web/static/index.html is stale: run `npm run build:verifier` and commit it"


def test_page_is_self_contained():
    page = COMMITTED.read_text()
    for outside in ("<link", "src=\"http", "@import", "fonts.googleapis", "<iframe"):
        assert outside not in page, outside
