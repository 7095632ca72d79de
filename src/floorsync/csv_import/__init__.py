"""CSV import, the parsing layer: bytes in, sync-engine records and downloadable reports out
(CSV import specification §3–§8, §12.2–§12.3, §13–§15). Pure: no database, no app, no I/O;
standard library and `floorsync.kit` only, so every rule is testable without a server.

How the import service is meant to use it, per upload:

1. `archives.is_zip(data)` → `archives.read_archive(data)` for a zip (raises `ArchiveRefused`;
   `Archive.skipped` lists what was left out), else the one file as it came.
2. Per file, `analysis.analyse_file(name, data, FileChoices(...))` → `FileAnalysis`: the file
   card (encoding, non-ASCII sample, delimiter, header line, number format, date orders, row
   count, entity and reason), the proposed `ColumnMapping` (`headers.match_columns`) with
   samples, match kinds and blocking issues, or `error` for a file that cannot be read. Store
   `signature` with a remembered mapping (§7.5) and pass it back as `FileChoices.saved`.
   Re-run it whenever the user changes a choice.
3. Order the files by `columns.ENTITY_ORDER` (cells → resources → materials → jobs → parts →
   operations), upload order within an entity.
4. Per file, stream the rows: `parser.parse_file(analysis.decoded.lines(), entity,
   settings=analysis.settings(choices), options=ImportOptions(source=…, time_zone=…,
   empty_clears=…, derive_ids=…), mapping=analysis.mapping, file_name=name,
   skip_rows=file.next_row, keys=<one UploadKeys per entity>)` and iterate it in batches of
   1,000 `ParsedRow`s. Rows with `not row.ok` are failed rows (store `row.issues`). For the
   others, resolve `row.lookups` (`job_number`, `material_code`, job + `part_number`) into
   `job_id` / `material_id` / `part_id` on `row.item` with one query per kind per batch,
   finish pending derived ids with `parser.finish_derived_id` and then `UploadKeys.claim`,
   and hand `[row.item …]` to `sync.engine.sync_records`; map each engine error's field back
   to its column with `mapping.column_for(field)`.
5. Downloads: `reports.write_error_report` (issues in `reports.issue_order`),
   `reports.failed_rows_from_source` (re-reads the stored file) and `reports.zip_files` for
   several, `templates.template` / `templates.templates_zip`.

File-level problems raise `issues.FileError` (from analysis, or while iterating a parse: an
unterminated quote at line 90,000); mapping-level ones raise `parser.BlockedMapping`.
"""
