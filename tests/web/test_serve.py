"""``bctrace serve`` as a user starts it: a real process on a loopback port, fetched over HTTP."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

from .conftest import BCTRACE


def test_serve_answers_with_the_verifier_on_loopback(serve_process):
    url = serve_process()
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"bctrace verifier" in response.read()


def test_serve_on_a_port_in_use_is_one_line_exit_2(serve_process, tmp_path):
    port = serve_process().rsplit(":", 1)[1].strip("/")
    result = subprocess.run([str(BCTRACE), "serve", "--port", port], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: bctrace serve: cannot listen on 127.0.0.1:{port}") and "Traceback" not in result.stderr


def test_export_into_a_file_is_a_usage_error_and_leaves_it(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    result = subprocess.run([str(BCTRACE), "serve", "--export", "taken"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == "error: --export taken: exists and is not a folder\n"  # one line, as every usage error
    beneath = subprocess.run([str(BCTRACE), "serve", "--export", "taken/site"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert beneath.returncode == 2 and beneath.stderr.startswith("error: --export taken/site: cannot create the folder: ")
    assert len(beneath.stderr.splitlines()) == 1
    assert (tmp_path / "taken").read_text() == "a file, not a folder"


BLOCKED_IMPORTS = """
import sys, importlib.abc
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("starlette", "uvicorn"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Refuse())
from bctrace.cli import main
sys.argv = ["bctrace", "serve", "--port", "0"]
main()
"""


def test_serve_without_its_extra_names_the_extra(tmp_path):
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORTS], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: bctrace serve needs the 'serve' extra") and "pip install 'bctrace[serve]'" in result.stderr
