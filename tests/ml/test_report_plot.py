"""`bctrace ml report` of a re-run draws the metrics per step of the original and the re-run on
one PNG chart next to the run's bundles, and shows the checklist's measured items."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_report_of_a_rerun_plots_original_and_rerun(ml_project: Path, bctrace_cli) -> None:
    args = ["--seed", "2", "--model", "model.pt", "--metrics", "metrics.json", "--", sys.executable, "torch_train.py", "--epochs", "8"]
    res = bctrace_cli("ml", "run", *args)
    assert res.returncode == 0, res.stderr
    original = Path(re.search(r"end bundle: (\S+)", res.stderr).group(1)).parent
    res = bctrace_cli("ml", "reproduce", str(original))
    assert res.returncode == 0, res.stdout + res.stderr
    rerun = Path(re.search(r"end bundle: (\S+)", res.stderr).group(1)).parent

    res = bctrace_cli("ml", "report", str(rerun))
    assert res.returncode == 0, res.stderr
    png = rerun / "metrics.png"
    assert f"plot: {png} (metrics per step of original {original.name[:8]} and re-run {rerun.name[:8]})" in res.stdout
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    from PIL import Image

    with Image.open(png) as image:
        assert image.size[0] >= 600 and image.size[1] >= 200

    res = bctrace_cli("ml", "report", str(original), "--no-plot")
    assert "plot:" not in res.stdout
    (ml_project / "noop.py").write_text("print('no metrics')\n")
    res = bctrace_cli("ml", "run", "--", sys.executable, "noop.py")
    folder = Path(re.search(r"end bundle: (\S+)", res.stderr).group(1)).parent
    res = bctrace_cli("ml", "report", str(folder))
    assert "plot: not drawn (no metric was logged at two or more steps)" in res.stdout
