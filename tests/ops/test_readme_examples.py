"""Every `curl` example of the README runs as written, top to bottom, in one shell, against a
fresh tenant of a real server: each command exits 0 and each API call answers 2xx. Only the key,
the base URL and the receiver's port are substituted (the README's `KEY=ery_live_…`,
`URL=http://127.0.0.1:8000` and `HOOK_PORT=9000` lines), and `.venv/bin/python` is the suite's.
The webhook receiver of the README is saved as `receiver.py`, as the README says, and a worker
runs meanwhile (as `make run`'s does), so the "try it on your machine" example receives its
signed event: the newcomer's path from the quick start to a verified webhook."""

import re
import subprocess
import sys
import threading
from pathlib import Path

from floorsync.bootstrap import build_services
from floorsync.config import Settings
from floorsync.worker.runner import WorkerRunner
from tests.support.server import free_port
from tests.support.tenants import TenantHandle

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(sh|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)
PYTHON = re.compile(r"^```(python)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# `curl` answers 2xx or the script stops: the status is checked by this wrapper, the body printed.
PRELUDE = r"""
set -e -o pipefail
curl() {
  local out code
  out=$(command curl -sS -w '\n%{http_code}' "$@") || return 1
  code=${out##*$'\n'}
  printf '%s\n' "${out%$'\n'*}"
  if [[ $code != 2* ]]; then echo "HTTP $code from: curl $*" >&2; return 1; fi
}
"""


def api_examples() -> list[str]:
    return [body for _kind, body in FENCE.findall(README.read_text()) if "curl " in body]


def receiver_source() -> str:
    (body,) = [b for kind, b in PYTHON.findall(README.read_text()) if "class Receiver" in b]
    return body


def script(key: str, base_url: str, hook_port: int = 9000) -> str:
    blocks = []
    for block in api_examples():
        block = re.sub(r"^KEY=ery_live_….*$", f"KEY={key}", block, flags=re.MULTILINE)
        block = re.sub(
            r"^URL=http://127\.0\.0\.1:8000$", f"URL={base_url}", block, flags=re.MULTILINE
        )
        block = re.sub(r"^HOOK_PORT=9000$", f"HOOK_PORT={hook_port}", block, flags=re.MULTILINE)
        block = block.replace(".venv/bin/python ", f"{sys.executable} ")
        blocks.append(block)
    return PRELUDE + "\n".join(blocks)


class Worker:
    """The worker of `make run`: rounds until stopped (webhook deliveries among them)."""

    def __init__(self, settings: Settings) -> None:
        self.services = build_services(settings)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        runner = WorkerRunner(self.services)
        while not self.stopping.is_set():
            runner.run_once()
            self.stopping.wait(0.2)

    def __enter__(self) -> "Worker":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.services.close()


def test_the_readme_has_api_examples_that_define_key_and_url_first() -> None:
    examples = api_examples()
    assert len(examples) >= 3
    assert re.search(r"^KEY=ery_live_…", examples[0], re.MULTILINE)
    assert re.search(r"^URL=http://127\.0\.0\.1:8000$", examples[0], re.MULTILINE)


def test_every_curl_example_runs_in_order(
    server, settings: Settings, tenant: TenantHandle, tmp_path
) -> None:
    (tmp_path / "receiver.py").write_text(receiver_source())
    with Worker(settings):
        done = subprocess.run(
            ["bash", "-c", script(tenant.admin_key, server.base_url, free_port())],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    assert "HTTP " not in done.stderr
    # what the examples made is there
    jobs = tenant.client.get("/api-jobs", params={"limit": 100}).json()["data"]["jobs"]
    assert sorted(j["job_number"] for j in jobs) == [
        "J-1001",
        "J-1002",
        "J-1003",
        "J-1005",
        "J-1006",
    ]
    assert '"failed":1' in done.stdout  # the bulk example's record without a job_number
    # the receiver verified the signature of the job it was sent (it answers 401 otherwise)
    received = (tmp_path / "received.log").read_text()
    assert " job.created " in received
    assert "'job_number': 'J-1006'" in received
    logs = tenant.client.get("/api-webhook-logs").json()["data"]["webhook_logs"]
    assert logs
    assert all(log["status_code"] == 204 for log in logs)
