"""``bctrace serve`` as a user starts it: a real process on a loopback port, fetched over HTTP."""

from __future__ import annotations

import subprocess
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
