"""`floorsync worker` as a real subprocess on the test database (for crash and multi-process tests)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from floorsync.config import Settings

FLOORSYNC = Path(sys.executable).parent / "floorsync"


def worker_env(settings: Settings, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOORSYNC_")}
    env.update(
        {
            "FLOORSYNC_DATABASE_URL": settings.database_url,
            "FLOORSYNC_ENVIRONMENT": "test",
            "FLOORSYNC_WEBHOOK_ALLOW_PRIVATE": "true",
            "FLOORSYNC_WEBHOOK_TIMEOUT_SECONDS": "2",
            "FLOORSYNC_WEBHOOK_LEASE_SECONDS": "4",
            "FLOORSYNC_WORKER_POLL_SECONDS": "0.1",
            "FLOORSYNC_LOG_LEVEL": "warning",
        }
    )
    if settings.secret_key is not None:
        env["FLOORSYNC_SECRET_KEY"] = settings.secret_key.get_secret_value()
    env.update(overrides)
    return env


def start_worker(settings: Settings, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(FLOORSYNC), "worker", *args],
        env=worker_env(settings, **env),
        cwd="/tmp",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """SIGTERM and wait: the worker finishes its request, records it and exits 0."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout)
