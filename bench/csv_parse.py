"""Parsing-layer benchmark (CSV import §14): a generated 100,000-row operations file written
the European way (`;`, decimal commas, day-first date-times, Windows-1252, Dutch headers) is
analysed (the file card) and parsed to sync items; prints rows per second and the peak memory
the parse allocates (tracemalloc) besides the file's own bytes, for 100,000 and 25,000 rows,
so that growth with the file would show.

.venv/bin/python bench/csv_parse.py [--rows 100000] [--json]
"""

import argparse
import json
import time
import tracemalloc

from floorsync.csv_import.analysis import FileChoices, analyse_file
from floorsync.csv_import.parser import ImportOptions, parse_file


def generate(rows: int) -> bytes:
    lines = [
        "Ordernummer;Artikel;Volgnummer;Bewerking;Werkplek;Tijd (min);Insteltijd;Startdatum;Opmerking"
    ]
    for n in range(rows):
        part = n // 5
        lines.append(
            f"SO-{part // 4:05d};ART-{part:06d};{(n % 5 + 1) * 10};Bewerking {n % 7} – café;"
            f"Cel {n % 12};{n % 90},5;{n % 30},25;{(n % 28) + 1:02d}-07-2026 07:{n % 60:02d};"
            f"Stap {n} ë"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _parse(data: bytes) -> tuple[float, float, int]:
    started = time.perf_counter()
    card = analyse_file("bewerkingen.csv", data, FileChoices())
    analysed = time.perf_counter()
    assert card.decoded is not None
    assert card.mapping is not None
    assert card.entity is not None
    assert card.entity.entity == "operations", card.entity
    assert card.decimal == "comma"
    parsed = parse_file(
        card.decoded.lines(),
        "operations",
        settings=card.settings(FileChoices()),
        options=ImportOptions(time_zone="Europe/Amsterdam"),
        mapping=card.mapping,
    )
    count = 0
    for row in parsed:
        assert row.ok, row.issues
        count += 1
    return analysed - started, time.perf_counter() - analysed, count


def run(rows: int) -> dict[str, float]:
    data = generate(rows)
    analyse_s, parse_s, count = _parse(data)  # timed without tracing
    assert count == rows
    tracemalloc.start()  # a second pass only for memory: tracing slows Python down several times
    _parse(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rows": rows,
        "file_mib": round(len(data) / 2**20, 1),
        "analyse_seconds": round(analyse_s, 2),
        "parse_seconds": round(parse_s, 2),
        "rows_per_s": round(rows / parse_s),
        "peak_alloc_mib": round(peak / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [run(args.rows // 4), run(args.rows)]
    for result in results:
        print(
            f"{result['rows']:>7,} rows ({result['file_mib']} MiB): analyse {result['analyse_seconds']} s, "
            f"parse {result['parse_seconds']} s = {result['rows_per_s']:,} rows/s, "
            f"peak allocated {result['peak_alloc_mib']} MiB"
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
