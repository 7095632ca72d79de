"""Writes the small fixture files of tests/csv_import/data (run once; the files are committed).

.venv/bin/python tests/csv_import/make_fixtures.py
"""

import io
import zipfile
from pathlib import Path

DATA = Path(__file__).parent / "data"

FILES: dict[str, bytes] = {
    # UTF-8 with BOM, comma, the jobs template's columns
    "jobs_bom.csv": "\ufeffexternal_id,external_source,job_number,customer,due_date,priority,status,notes\r\n"
    'SO-1,csv,SO-1,Jörg Metaal BV,2026-07-15,2,open,"Rush, urgent"\r\n'.encode(),
    # Dutch export: Windows-1252, semicolons, decimal commas, day-first dates
    "orders_nl.csv": (
        "Ordernummer;Klant;Leverdatum;Prioriteit;total_weight_kg;Opmerking\r\n"
        "SO-1001;Café Dürüm;15-07-2026;2;1.234,5;Cañón ë €\r\n"
        "SO-1002;Bäckerei Müller;01-08-2026;1;12,75;\r\n"
    ).encode("cp1252"),
    # German cells, tab-separated
    "arbeitsplaetze.tsv": (
        "Arbeitsplatznummer\tBezeichnung\tBeschreibung\tFarbe\tAktiv\tKapazität\r\n"
        "AP-10\tLaser\tFaserlaser\t#e4572e\tja\t16\r\n"
        "AP-20\tKantbank\tAbkantpresse\t#1E88E5\tnein\t7.5\r\n"
    ).encode(),
    # materials with a pipe
    "materials_pipe.txt": b"code|name|thickness (cm)|unit\nS235-4|S235JR 4 mm|0.4|sheet\n",
    # Excel's "Unicode Text": UTF-16 LE with BOM, tab-separated
    "resources_utf16.txt": "\ufeffname\ttype\tlocation\nPers 1\tmachine\tHal 2\nDürüm\ttooling\tHal 3\n".encode(
        "utf-16-le"
    ),
    "unterminated.csv": b'job_number,notes\nSO-1,"never closed\nSO-2,fine\n',
    "mixed_endings.csv": b'job_number,notes\r\nSO-1,a\nSO-2,"two\r\nlines"\rSO-3,c\r\n',
    "duplicate_headers.csv": b"job_number,Notes,Notes,\nSO-1,first,second,\n",
    "empty.csv": b"",
    "header_only.csv": b"job_number,customer\r\n",
    "sep_line.csv": b"sep=;\r\njob_number;customer\r\nSO-1;Acme, Inc\r\n",
    "werkplekken.csv": "Naam;Omschrijving;Kleur;Volgorde;Actief;Capaciteit\nLaser;Lasersnijden;#e4572e;10;ja;16\n".encode(
        "cp1252"
    ),
    "arbeitsgaenge.csv": (
        "Auftragsnummer;Teilenummer;Vorgang;Vorgangskurztext;Arbeitsplatz;Rüstzeit [h];Bearbeitungszeit (min);Starttermin\n"
        "SO-1001;BRK-100;10;Laserschneiden;Laser;0,5;45;01.07.2026 07:00\n"
        "SO-1001;BRK-100;20;Kanten;Kantbank;1;30,5;02.07.2026\n"
    ).encode("cp1252"),
    "mojibake.csv": "job_number,customer\nSO-1,CafÃ© MÃ¼ller\n".encode(),
    "binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
    "legacy.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
}


def workbook() -> bytes:
    """The skeleton of an .xlsx (what a renamed workbook looks like to us)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def main() -> None:
    DATA.mkdir(exist_ok=True)
    for name, content in {**FILES, "workbook.csv": workbook()}.items():
        (DATA / name).write_bytes(content)


if __name__ == "__main__":
    main()
