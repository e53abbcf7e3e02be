"""A throwaway PostgreSQL server for tests and benchmarks: ``initdb`` in a temp folder, the
server on a random loopback port, stopped by PID. Uses the server binaries on PATH or Debian's
``/usr/lib/postgresql/N/bin`` (``apt-get install postgresql``; scripts/test does)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def find_bin_dir() -> Path | None:
    """Where ``initdb`` and ``postgres`` are: PATH first, else the newest Debian version."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """``start()`` returns an admin URL; ``database()`` makes a fresh empty database."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="bctrace-pg-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._dbs = 0
        # The server refuses to run as root: as root (CI), run it as Debian's postgres user.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        subprocess.run([str(self.bin_dir / args[0]), *args[1:]], check=True, capture_output=True, user=self.user, cwd=self.folder)

    def start(self, timeout: float = 60) -> str:
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "bctrace", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
        for _attempt in range(5):
            self.port = _free_port()
            log = open(self.folder / f"server-{self.port}.log", "wb")  # noqa: SIM115 - kept open for the server's life
            self.proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.folder),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=200", "-c", "shared_buffers=32MB"],
                stdout=log, stderr=subprocess.STDOUT, user=self.user, cwd=self.folder)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                    return self.url("postgres")
                except psycopg.OperationalError:
                    time.sleep(0.05)
            self.stop()  # the port was taken meanwhile, or it never came up: try another port
        raise RuntimeError(f"PostgreSQL did not start; see {self.folder}")

    def url(self, dbname: str) -> str:
        return f"postgresql://bctrace@127.0.0.1:{self.port}/{dbname}"

    def database(self) -> str:
        """A new empty database's URL (tests share the server, never a database)."""
        self._dbs += 1
        name = f"t{os.getpid()}_{self._dbs}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, exits
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
