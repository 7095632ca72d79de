"""Every shell block of the README is run by a test or says why not (issue 15).

- A block with `curl` runs in tests/ops/test_readme_examples.py (against a live server).
- A block marked `<!-- runs: cli -->` runs here, in order, in one shell, against a fresh
  database prepared as `make run` prepares it (`floorsync db upgrade`, `floorsync demo`); only
  `.venv/bin/floorsync` is substituted (the suite's own virtualenv).
- Any other shell block is marked `<!-- not run: <reason> -->` on the line before it.
Every fenced block names its language, so a shell block can't hide as plain text.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL = {"sh", "bash", "shell", "console"}
MARKER = re.compile(r"<!-- (runs: cli|not run: (?P<reason>.+?)) -->\n\Z")


def blocks() -> list[tuple[str, str, str]]:
    """(language, body, marker or "") of every fenced block, in order."""
    text = README.read_text()
    out = []
    for match in FENCE.finditer(text):
        before = text[: match.start()]
        last_line = before[before.rfind("\n", 0, len(before) - 1) + 1 :]
        marker = MARKER.search(last_line)
        out.append((match.group(1), match.group(2), marker.group(1) if marker else ""))
    return out


def cli_examples() -> list[str]:
    return [body for lang, body, marker in blocks() if lang in SHELL and marker == "runs: cli"]


def test_every_block_names_its_language() -> None:
    assert [body[:60] for lang, body, _ in blocks() if not lang] == []


def test_every_shell_block_is_run_or_says_why_not() -> None:
    unaccounted = []
    for lang, body, marker in blocks():
        if lang not in SHELL:
            continue
        if "curl " in body:
            assert not marker.startswith("not run"), body[:80]  # run by test_readme_examples
        elif marker == "runs: cli":
            assert "curl " not in body
        elif not (marker.startswith("not run: ") and len(marker) > len("not run: ") + 15):
            unaccounted.append(body[:80])
    assert unaccounted == []
    assert cli_examples(), "the CSV import example is run here"


def test_the_cli_examples_run_in_order(unmigrated_url: str, tmp_path: Path) -> None:
    floorsync = str(Path(sys.executable).with_name("floorsync"))
    script = "set -e -o pipefail\n" + "\n".join(
        body.replace(".venv/bin/floorsync", floorsync) for body in cli_examples()
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FLOORSYNC_") or k == "FLOORSYNC_TEST_DATABASE_URL"
    }
    env.update(FLOORSYNC_DATABASE_URL=unmigrated_url, FLOORSYNC_ENVIRONMENT="development")
    for prepare in (["db", "upgrade"], ["demo"]):  # what `make run` does before serving
        done = subprocess.run(
            [floorsync, *prepare], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    run = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    assert (tmp_path / "templates.zip").stat().st_size > 1000
    assert (tmp_path / "orders.csv").read_text(encoding="utf-8-sig").startswith("external_id;")
    listed = subprocess.run(
        [floorsync, "imports", "list", "--tenant", "demo", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    imports = json.loads(listed.stdout)
    # newest first: the three-file import, the dry run (a preview), the templates' import
    assert [(i["status"], i["rows"], i["failed"]) for i in imports] == [
        ("completed", 3, 0),
        ("previewed", 1, 0),
        ("completed", 6, 0),
    ]
