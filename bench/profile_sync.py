"""Where a bulk sync's time goes: py-spy on the real server, phase by phase.

    .venv/bin/pip install py-spy          # a profiler, not a dependency of floorsync
    .venv/bin/python bench/profile_sync.py --db postgres|sqlite [--out /tmp/fs-profile]

Starts `floorsync serve --no-worker` on a fresh database (as bench/bulk_sync.py does), then for
each phase — `insert` (20 × 1000 new jobs), `unchanged` (the same again), `changed` (every job
changed) — records the server with `py-spy record --idle` (so time spent waiting for the
database is sampled too) while the requests run, and prints, for the samples of the bulk-sync
handler: the share of each step (inclusive), the part of it spent waiting on the database
driver (PostgreSQL; SQLite works in the handler's own thread, so its share is the step's), and
the busiest leaf functions. The raw stacks stay in `<out>-<phase>.txt`.

Shares are of the handler thread's samples, so they compare steps within one phase; the
absolute rate printed next to them carries py-spy's overhead and the machine's load.
"""

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulk_sync import analyse, free_port, fresh_database, job, make_tenant

HANDLER = "bulk_sync (floorsync/sync/endpoints.py"
# (label, a frame that marks the step): shares are inclusive, so nested steps overlap.
STEPS = (
    ("validation (build_tree)", "build_tree (floorsync/sync/classify.py"),
    ("planning (all)", "plan (floorsync/sync/classify.py"),
    ("  prefetch", "prefetch (floorsync/sync/prefetch.py"),
    ("  hashing", "RecordHasher.__call__"),
    ("  re-read of changed rows", "load_full_rows"),
    ("  diff (changes)", "_collect_changes"),
    ("  unique rules", "check_unique"),
    ("writing (all)", "_write_trees"),
    ("  proposed rows", "_proposed_rows"),
    ("  upsert (COPY + statement)", "stage_upsert"),
    ("  event rendering", "render_rows"),
    ("  waiting for the write-behind upsert", "InFlight.wait"),
    ("  record_event", "record_event"),
    ("history row (record_runs)", "record_runs"),
    ("commit (events COPY, fan-out, COMMIT)", "unit_of_work (floorsync/db/uow.py"),
)
DB_WAIT = "Connection.wait (psycopg/"
# The handler waiting for the upsert it handed to a helper thread (db/write_behind.py) is
# waiting on the database too (the helper's own samples are not the handler's).
WRITE_BEHIND_WAIT = "InFlight.wait (floorsync/db/write_behind.py"


def waiting(frames: list[str]) -> bool:
    return DB_WAIT in frames[-1] or any(WRITE_BEHIND_WAIT in f for f in frames)


def report(path: Path) -> None:
    handler: list[tuple[list[str], int]] = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(HANDLER in f for f in frames):
            handler.append((frames, int(count)))
    total = sum(n for _, n in handler) or 1
    print(f"  {'step':40s} {'share':>6s}  of which waiting on the database")
    for label, mark in STEPS:
        inc = sum(n for s, n in handler if any(mark in f for f in s))
        wait = sum(n for s, n in handler if any(mark in f for f in s) and waiting(s))
        print(f"  {label:40s} {100 * inc / total:5.1f} %  {100 * wait / total:5.1f} %")
    wait = sum(n for s, n in handler if waiting(s))
    print(f"  {'all waiting on the database':40s} {100 * wait / total:5.1f} %")
    leaves: collections.Counter[str] = collections.Counter()
    for frames, n in handler:
        leaves[re.sub(r":\d+\)", ")", frames[-1])] += n
    for leaf, n in leaves.most_common(8):
        print(f"    leaf {100 * n / total:5.1f} %  {leaf}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--out", default="/tmp/floorsync-profile")
    args = parser.parse_args()
    spy_bin = Path(sys.executable).with_name("py-spy")
    from floorsync.db.migrate import upgrade

    with fresh_database(args.db) as url:
        upgrade(url)
        _tenant, key = make_tenant(url, "profile")
        analyse(url)
        port = free_port()
        env = {**os.environ, "FLOORSYNC_DATABASE_URL": url, "FLOORSYNC_LOG_LEVEL": "warning"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "floorsync",
                "serve",
                "--no-worker",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("floorsync serve did not start")
                time.sleep(0.2)
            first = [
                orjson.dumps({"items": [job(i) for i in range(s, s + 1000)]})
                for s in range(0, 20_000, 1000)
            ]
            changed = [
                orjson.dumps({"items": [job(i, version=1) for i in range(s, s + 1000)]})
                for s in range(0, 20_000, 1000)
            ]
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
                client.post(
                    "/api-jobs/bulk-sync", content=orjson.dumps({"items": [job(0, prefix="W")]})
                )
                phases = (
                    ("insert", first, "created"),
                    ("unchanged", first, "skipped"),
                    ("changed", changed, "updated"),
                )
                for phase, bodies, action in phases:
                    out = Path(f"{args.out}-{phase}.txt")
                    spy = subprocess.Popen(
                        [
                            str(spy_bin),
                            "record",
                            "--idle",
                            "-r",
                            "250",
                            "-f",
                            "raw",
                            "-p",
                            str(server.pid),
                            "-o",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(1.5)  # py-spy attaches
                    started = time.perf_counter()
                    for body in bodies:
                        response = client.post("/api-jobs/bulk-sync", content=body)
                        data = orjson.loads(response.content)["data"]
                        if response.status_code != 200 or data[action] != 1000:
                            raise RuntimeError(response.text[:300])
                    wall = time.perf_counter() - started
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=60)
                    print(f"== {phase}: {20_000 / wall:,.0f} records/s under py-spy ({out})")
                    report(out)
                    if phase == "insert":
                        analyse(url)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
