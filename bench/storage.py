"""Storage benchmark: how fast an upload streams into each backend, and what the allow-list's
content check costs on the way.

    .venv/bin/python bench/storage.py [--mb 50] [--json]

Puts one file of --mb MiB in 64 KiB chunks (as Starlette hands a request body over) into the
local backend (a temporary directory) and into S3 (moto's standalone server on 127.0.0.1, so the
S3 number measures the spool and the HTTP round trip, not a real object store), each once with no
content check (`model/stl`) and once with the heaviest one (`text/plain`: UTF-8 and NUL over
every byte), then reads it back; the best of --repeat runs. Prints MiB/s; with --json the last line is one JSON object.
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.moto_server import start_moto_server

from floorsync.config import Settings
from floorsync.kit.ids import new_id
from floorsync.storage.base import Storage
from floorsync.storage.filetypes import file_type_for
from floorsync.storage.keys import StorageKey
from floorsync.storage.local import LocalStorage
from floorsync.storage.s3 import S3Storage

CHUNK = 64 * 1024


def body(total: int) -> Iterator[bytes]:
    line = b"G1 X102.500 Y-33.250 Z-1.000 F1200 ; Fr\xc3\xa4sbahn\n"  # text that passes text/plain
    chunk = (line * (CHUNK // len(line) + 1))[:CHUNK]
    chunk = chunk[: chunk.rfind(b"\n") + 1]
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


def measure(storage: Storage, total: int, content_type: str, repeat: int) -> dict[str, float]:
    """The best of `repeat` runs: the first ones also pay for warming caches and the allocator."""
    runs = [measure_once(storage, total, content_type) for _ in range(repeat)]
    return {k: max(r[k] for r in runs) for k in runs[0]}


def measure_once(storage: Storage, total: int, content_type: str) -> dict[str, float]:
    key = StorageKey(new_id(), new_id())
    check = file_type_for(content_type).content_check(
        "program.nc" if "text" in content_type else "a.stl"
    )
    started = time.perf_counter()
    storage.put(key, body(total), content_type=content_type, max_bytes=total, check=check)
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    with storage.open(key) as reader:
        read = sum(len(c) for c in reader)
    get_s = time.perf_counter() - started
    assert read == total
    storage.delete(key)
    mib = total / (1024 * 1024)
    return {"put_mib_s": round(mib / put_s, 1), "get_mib_s": round(mib / get_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    total = args.mb * 1024 * 1024
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        local = LocalStorage(Path(tmp) / "files")
        results["local_unchecked"] = measure(local, total, "model/stl", args.repeat)
        results["local_text_checked"] = measure(local, total, "text/plain", args.repeat)
        moto = start_moto_server()
        try:
            bucket = f"bench-{uuid.uuid4().hex[:8]}"
            settings = Settings(
                environment="test", storage_backend="s3", s3_bucket=bucket,
                s3_endpoint_url=moto.endpoint_url, s3_addressing_style="path",
                s3_access_key_id="bench", s3_secret_access_key="bench", _env_file=None,
            )  # type: ignore[call-arg]  # fmt: skip
            s3 = S3Storage.from_settings(settings)
            s3.spool_dir = Path(tmp)
            s3.client.create_bucket(Bucket=bucket)
            results["moto_s3_unchecked"] = measure(s3, total, "model/stl", args.repeat)
            results["moto_s3_text_checked"] = measure(s3, total, "text/plain", args.repeat)
        finally:
            moto.stop()
    for name, numbers in results.items():
        print(
            f"{name:22} put {numbers['put_mib_s']:8.1f} MiB/s   get {numbers['get_mib_s']:8.1f} MiB/s"
        )
    if args.json:
        print(json.dumps({"mib": args.mb, **results}))


if __name__ == "__main__":
    main()
