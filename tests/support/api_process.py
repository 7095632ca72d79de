"""`floorsync serve --no-worker` as a real subprocess on the test database (several API processes
sharing one database, SIGTERM behaviour)."""

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import IO

import httpx

from floorsync.config import Settings
from tests.support.server import free_port
from tests.support.worker_process import FLOORSYNC, worker_env


@dataclass
class ApiProcess:
    proc: subprocess.Popen[bytes]
    base_url: str
    stderr: IO[bytes]  # a file, not a pipe: a server that logs a lot must never block on it

    def log(self) -> str:
        # pread, not seek + read: the server writes through the same open file, whose offset a
        # seek would move under it, so its next line overwrote the log's start.
        fd = self.stderr.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait (SIGKILL if it does not exit in time); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise


def start_api(settings: Settings, **env: str) -> ApiProcess:
    port = free_port()
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 (the ApiProcess owns it)
    proc = subprocess.Popen(
        [str(FLOORSYNC), "serve", "--no-worker", "--port", str(port)],
        env=worker_env(settings, **env),
        cwd="/tmp",
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    api = ApiProcess(proc, f"http://127.0.0.1:{port}", stderr)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"floorsync serve exited: {api.log()}")
        try:
            if httpx.get(f"{api.base_url}/health", timeout=1).status_code == 200:
                return api
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("floorsync serve did not start")
