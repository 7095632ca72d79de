"""Every `curl` example of the README runs as written, top to bottom, in one shell, against a
fresh tenant of a real server: each command exits 0 and each API call answers 2xx. Only the key
and the base URL are substituted (the README's `KEY=ery_live_…` and `URL=http://127.0.0.1:8000`
lines)."""

import re
import subprocess
from pathlib import Path

from tests.support.tenants import TenantHandle

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(sh|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)
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


def script(key: str, base_url: str) -> str:
    blocks = []
    for block in api_examples():
        block = re.sub(r"^KEY=ery_live_….*$", f"KEY={key}", block, flags=re.MULTILINE)
        block = re.sub(
            r"^URL=http://127\.0\.0\.1:8000$", f"URL={base_url}", block, flags=re.MULTILINE
        )
        blocks.append(block)
    return PRELUDE + "\n".join(blocks)


def test_the_readme_has_api_examples_that_define_key_and_url_first() -> None:
    examples = api_examples()
    assert len(examples) >= 3
    assert re.search(r"^KEY=ery_live_…", examples[0], re.MULTILINE)
    assert re.search(r"^URL=http://127\.0\.0\.1:8000$", examples[0], re.MULTILINE)


def test_every_curl_example_runs_in_order(server, tenant: TenantHandle, tmp_path) -> None:
    done = subprocess.run(
        ["bash", "-c", script(tenant.admin_key, server.base_url)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    assert "HTTP " not in done.stderr
    # what the examples made is there
    jobs = tenant.client.get("/api-jobs", params={"limit": 100}).json()["data"]["jobs"]
    assert sorted(j["job_number"] for j in jobs) == ["J-1001", "J-1002", "J-1003", "J-1005"]
    assert '"failed":1' in done.stdout  # the bulk example's record without a job_number
