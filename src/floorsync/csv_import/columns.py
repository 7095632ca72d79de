"""What each entity's CSV file may hold (CSV import §5): columns with their value types, the
reference columns (§5.3), the header alias table (§7.3, English, Dutch, German), the file-name
words of entity detection (§4) and the template columns (§13).

Column names are the API field names of the sync endpoints; the API's input aliases
(`customer_name`, `estimated_time_minutes`, `instructions`, a job's or operation's
`description`) match as field names. Nested arrays (`parts`, `operations`, an operation's
`resources`, a part's `file_paths`) cannot come from CSV. `metadata.<key>` headers fill the
record's `metadata` object. Lengths, ranges and enum values are the engine's to check (§8.1);
this module only knows the type a cell is converted to. A test holds these tables against the
entity definitions of `floorsync.entities`, so the importer cannot drift from the API.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class ValueType(StrEnum):
    """How a cell becomes a JSON value (§6.2)."""

    text = "text"
    integer = "integer"
    decimal = "decimal"
    minutes = "minutes"  # decimal minutes; unit hints h / s convert
    whole_minutes = "whole_minutes"  # minutes rounded half up
    length_mm = "length_mm"  # decimal millimetres; unit hints cm / in convert
    date_or_datetime = "date_or_datetime"  # a date stays a date; with a time it is an instant
    datetime = "datetime"
    boolean = "boolean"
    status = "status"  # the work-status enum with its aliases


DATE_TYPES = frozenset({ValueType.date_or_datetime, ValueType.datetime})
NUMBER_TYPES = frozenset(
    {
        ValueType.integer,
        ValueType.decimal,
        ValueType.minutes,
        ValueType.whole_minutes,
        ValueType.length_mm,
    }
)


@dataclass(frozen=True)
class Column:
    """A field a CSV column can map to."""

    name: str
    type: ValueType = ValueType.text
    required: bool = False
    aliases: tuple[str, ...] = ()  # normalised (§7.1)
    api_aliases: tuple[str, ...] = ()  # the API's own input names for the field


@dataclass(frozen=True)
class Reference:
    """A reference to another record (§5.3), given by id, by external id or by name.

    `name_by_engine` says whether the sync engine resolves the name form (`cell_name`) or the
    importer must turn it into an id first (`job_number`, `material_code`, job + `part_number`).
    """

    key: str  # "job"
    target: str  # "jobs"
    id_column: str  # "job_id"
    ext_column: str  # "job_external_id"
    source_column: str  # "job_external_source"
    name_column: str | None = None  # "job_number", "material_code", "cell_name", "part_number"
    name_by_engine: bool = False
    required: bool = False
    via: str | None = None  # the name form also needs this other reference (a part: its job)

    @property
    def columns(self) -> tuple[str, ...]:
        names = (self.id_column, self.ext_column, self.source_column, self.name_column)
        return tuple(n for n in names if n)


@dataclass(frozen=True)
class EntityColumns:
    entity: str
    columns: tuple[Column, ...]
    references: tuple[Reference, ...]
    derived_from: str  # how §5.2 builds a missing external id, for the mapping step
    template: tuple[str, ...]
    template_example: tuple[str, ...]
    file_words: tuple[str, ...]  # normalised compact words of §4
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self.by_name[name]

    def targets(self) -> tuple[str, ...]:
        """Every field name a column can map to, in the order the mapping step lists them."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


ENTITY_ORDER = ("cells", "resources", "materials", "jobs", "parts", "operations")

T = ValueType

# §7.3 "All entities"
_EXTERNAL_ID = (
    "external_key",
    "ext_id",
    "erp_id",
    "erp_key",
    "source_id",
    "externe_id",
    "extern_id",
    "externe_sleutel",
    "externe_referentie",
    "externe_kennung",
    "fremd_id",
)
_EXTERNAL_SOURCE = (
    "source",
    "source_system",
    "erp",
    "erp_system",
    "bron",
    "bronsysteem",
    "quelle",
    "quellsystem",
    "herkunft",
)
_STATUS = ("state", "toestand", "zustand")


def _key(*extra_id_aliases: str) -> tuple[Column, Column]:
    return (
        Column("external_id", aliases=(*_EXTERNAL_ID, *extra_id_aliases)),
        Column("external_source", aliases=_EXTERNAL_SOURCE),
    )


# Jobs' job_number aliases are shared by parts and operations (their job reference).
_JOB_NUMBER = (
    "job_no",
    "job_nr",
    "job",
    "order_number",
    "order_no",
    "order_nr",
    "order",
    "sales_order",
    "sales_order_number",
    "sales_order_no",
    "so_number",
    "so_no",
    "document_number",
    "doc_no",
    "production_order",
    "prod_order_no",
    "mo_number",
    "ordernummer",
    "ordernr",
    "order_nummer",
    "verkooporder",
    "verkoopordernummer",
    "opdrachtnummer",
    "opdracht",
    "productieorder",
    "auftragsnummer",
    "auftrags_nr",
    "auftragsnr",
    "auftrag",
    "kundenauftrag",
    "kundenauftragsnummer",
    "belegnummer",
    "fertigungsauftrag",
)
_JOB_NOTES = (
    "note",
    "remarks",
    "remark",
    "comments",
    "comment",
    "memo",
    "opmerking",
    "opmerkingen",
    "notitie",
    "notities",
    "omschrijving",
    "beschrijving",
    "bemerkung",
    "bemerkungen",
    "notiz",
    "anmerkung",
    "hinweis",
    "beschreibung",
)
_PART_NUMBER = (
    "part_no",
    "part_nr",
    "part",
    "item",
    "item_number",
    "item_no",
    "item_code",
    "article",
    "article_number",
    "article_no",
    "product",
    "product_code",
    "product_number",
    "sku",
    "artikel",
    "artikelnummer",
    "artikelnr",
    "artikelcode",
    "onderdeel",
    "onderdeelnummer",
    "productcode",
    "teilenummer",
    "teile_nr",
    "teil",
    "sachnummer",
    "materialnummer",
)
_JOB_EXTERNAL_ID = ("order_external_id", "sales_order_id", "job_ext_id", "order_externe_id")
_JOB_EXTERNAL_ID_DE = ("auftrag_externe_id",)

_JOB_REF = Reference(
    "job", "jobs", "job_id", "job_external_id", "job_external_source", "job_number"
)
_MATERIAL_REF = Reference(
    "material",
    "materials",
    "material_id",
    "material_external_id",
    "material_external_source",
    "material_code",
)
_CELL_REF = Reference(
    "cell",
    "cells",
    "cell_id",
    "cell_external_id",
    "cell_external_source",
    "cell_name",
    name_by_engine=True,
)
_PART_REF = Reference(
    "part",
    "parts",
    "part_id",
    "part_external_id",
    "part_external_source",
    "part_number",
    required=True,
    via="job",
)
_WORK_STATUS = Column("status", T.status, aliases=_STATUS)


CELLS = EntityColumns(
    "cells",
    (
        # A cell file's code column ("Arbeitsplatznummer") is its key, not its name (§7.3).
        *_key(
            "cell_code",
            "work_center_code",
            "work_center_no",
            "werkplekcode",
            "werkpleknummer",
            "arbeitsplatznummer",
            "arbeitsplatz_nr",
        ),
        Column(
            "name",
            required=True,
            aliases=(
                "cell",
                "cell_name",
                "work_center",
                "workcenter",
                "work_centre",
                "work_center_name",
                "workstation",
                "machine",
                "naam",
                "werkplek",
                "werkplek_naam",
                "werkstation",
                "bezeichnung",
                "arbeitsplatz",
                "arbeitsplatzbezeichnung",
                "maschine",
            ),
        ),
        Column("description", aliases=("desc", "omschrijving", "beschrijving", "beschreibung")),
        Column("color", aliases=("colour", "kleur", "farbe")),
        Column(
            "sequence", T.integer, aliases=("seq", "sort", "sort_order", "volgorde", "reihenfolge")
        ),
        Column("active", T.boolean, aliases=("enabled", "is_active", "actief", "aktiv")),
        Column(
            "capacity_hours_per_day",
            T.decimal,
            aliases=(
                "capacity",
                "capacity_hours",
                "hours_per_day",
                "capaciteit",
                "uren_per_dag",
                "kapazitaet",
                "stunden_pro_tag",
            ),
        ),
        Column(
            "wip_limit",
            T.integer,
            aliases=("wip", "max_wip", "wip_max", "max_onderhanden", "max_umlaufbestand"),
        ),
        Column("wip_warning_threshold", T.integer),
        Column("enforce_wip_limit", T.boolean),
        Column("show_capacity_warning", T.boolean),
        Column("icon_name"),
        Column("image_url"),
    ),
    (),
    "name",
    (
        "external_id",
        "external_source",
        "name",
        "description",
        "color",
        "sequence",
        "active",
        "capacity_hours_per_day",
        "wip_limit",
    ),
    ("CELL-LASER", "csv", "Laser", "Fibre laser cutting", "#e4572e", "10", "true", "16", "6"),
    (
        "cell",
        "cells",
        "workcenter",
        "workcenters",
        "werkplek",
        "werkplekken",
        "arbeitsplatz",
        "arbeitsplaetze",
    ),
)

RESOURCES = EntityColumns(
    "resources",
    (
        *_key(),
        Column(
            "name",
            required=True,
            aliases=(
                "resource",
                "resource_name",
                "equipment",
                "asset",
                "asset_name",
                "tool",
                "tool_name",
                "naam",
                "middel",
                "hulpmiddel",
                "gereedschap",
                "betriebsmittel",
                "werkzeug",
                "bezeichnung",
            ),
        ),
        Column(
            "type",
            required=True,
            aliases=(
                "resource_type",
                "kind",
                "category",
                "soort",
                "categorie",
                "art",
                "typ",
                "kategorie",
            ),
        ),
        Column(
            "description",
            aliases=(
                "notes",
                "desc",
                "omschrijving",
                "opmerking",
                "beschreibung",
                "bemerkung",
            ),
        ),
        Column(
            "identifier",
            aliases=(
                "asset_no",
                "asset_number",
                "serial",
                "serial_number",
                "serial_no",
                "tag",
                "inventory_number",
                "serienummer",
                "inventarisnummer",
                "seriennummer",
                "inventarnummer",
                "kennung",
            ),
        ),
        Column(
            "location",
            aliases=("loc", "place", "site", "locatie", "plaats", "standort", "ort", "lagerort"),
        ),
        Column("status", aliases=_STATUS),  # free text for resources (`available`, …)
        Column("active", T.boolean, aliases=("enabled", "is_active", "actief", "aktiv")),
    ),
    (),
    "name",
    (
        "external_id",
        "external_source",
        "name",
        "type",
        "description",
        "identifier",
        "location",
        "status",
        "active",
    ),
    (
        "RES-PB-01",
        "csv",
        "Press brake 1",
        "machine",
        "Press brake 130 t",
        "PB130-0042",
        "Hall 2",
        "available",
        "true",
    ),
    (
        "resource",
        "resources",
        "equipment",
        "tooling",
        "middelen",
        "betriebsmittel",
        "werkzeuge",
    ),
)

MATERIALS = EntityColumns(
    "materials",
    (
        *_key(),
        Column(
            "code",
            aliases=(
                "material_code",
                "material_no",
                "material_number",
                "item_code",
                "materiaalcode",
                "materiaalnummer",
                "materialcode",
                "materialnummer",
            ),
        ),
        Column(
            "name",
            required=True,
            aliases=("material", "material_name", "naam", "materiaal", "bezeichnung"),
        ),
        Column("description", aliases=("desc", "omschrijving", "beschreibung")),
        Column(
            "grade",
            aliases=(
                "quality",
                "material_grade",
                "kwaliteit",
                "werkstoff",
                "guete",
                "materialguete",
                "werkstoffnummer",
            ),
        ),
        Column(
            "thickness",
            T.length_mm,
            aliases=(
                "thk",
                "thick",
                "gauge",
                "dikte",
                "plaatdikte",
                "dicke",
                "staerke",
                "blechdicke",
                "materialstaerke",
            ),
        ),
        Column(
            "unit",
            aliases=(
                "uom",
                "unit_of_measure",
                "eenheid",
                "maateenheid",
                "einheit",
                "me",
                "mengeneinheit",
            ),
        ),
        Column("color"),
        Column("active", T.boolean),
    ),
    (),
    "code",
    (
        "external_id",
        "external_source",
        "code",
        "name",
        "description",
        "grade",
        "thickness",
        "unit",
    ),
    (
        "MAT-S235-4",
        "csv",
        "S235-4",
        "S235JR 4 mm",
        "Structural steel sheet",
        "S235JR",
        "4",
        "sheet",
    ),
    ("material", "materials", "materiaal", "materialen", "materialien"),
)

JOBS = EntityColumns(
    "jobs",
    (
        *_key(),
        Column("job_number", required=True, aliases=_JOB_NUMBER),
        Column(
            "customer",
            aliases=(
                "client",
                "client_name",
                "account",
                "account_name",
                "sold_to",
                "sold_to_party",
                "debtor",
                "klant",
                "klantnaam",
                "klant_naam",
                "debiteur",
                "debiteurnaam",
                "opdrachtgever",
                "kunde",
                "kundenname",
                "kunden_name",
                "auftraggeber",
                "debitor",
                "debitorname",
            ),
            api_aliases=("customer_name",),
        ),
        Column(
            "due_date",
            T.date_or_datetime,
            aliases=(
                "due",
                "due_on",
                "delivery_date",
                "ship_date",
                "shipping_date",
                "requested_date",
                "requested_delivery_date",
                "promised_date",
                "deadline",
                "leverdatum",
                "afleverdatum",
                "gewenste_leverdatum",
                "uiterste_datum",
                "liefertermin",
                "lieferdatum",
                "wunschtermin",
                "wunschlieferdatum",
                "solltermin",
                "fertigstellungstermin",
            ),
        ),
        Column(
            "priority",
            T.integer,
            aliases=("prio", "urgency", "prioriteit", "urgentie", "prioritaet", "dringlichkeit"),
        ),
        _WORK_STATUS,
        Column("notes", aliases=_JOB_NOTES, api_aliases=("description",)),
        Column("due_date_override", T.date_or_datetime),
        Column("delivery_address"),
        Column("delivery_city"),
        Column("delivery_postal_code"),
        Column("delivery_country"),
        Column("total_weight_kg", T.decimal),
        Column("total_volume_m3", T.decimal),
        Column("package_count", T.integer),
        Column("current_cell_id"),
    ),
    (),
    "job_number",
    (
        "external_id",
        "external_source",
        "job_number",
        "customer",
        "due_date",
        "priority",
        "status",
        "notes",
    ),
    ("SO-1001", "csv", "SO-1001", "Acme Metal BV", "2026-07-15", "2", "not_started", "Rush order"),
    (
        "job",
        "jobs",
        "order",
        "orders",
        "salesorder",
        "salesorders",
        "opdrachten",
        "auftrag",
        "auftraege",
    ),
)

_PART_JOB_COLUMNS = (
    Column("job_id"),
    Column(
        "job_external_id",
        aliases=(*_JOB_EXTERNAL_ID, *_JOB_EXTERNAL_ID_DE),
    ),
    Column("job_external_source"),
    Column("job_number", aliases=_JOB_NUMBER),
)

PARTS = EntityColumns(
    "parts",
    (
        *_key(),
        *_PART_JOB_COLUMNS,
        Column("part_number", required=True, aliases=_PART_NUMBER),
        Column(
            "quantity",
            T.integer,
            aliases=(
                "qty",
                "order_qty",
                "order_quantity",
                "qty_ordered",
                "quantity_ordered",
                "pieces",
                "pcs",
                "count",
                "aantal",
                "hoeveelheid",
                "stuks",
                "aantal_stuks",
                "menge",
                "anzahl",
                "stueckzahl",
                "stueck",
                "auftragsmenge",
                "sollmenge",
            ),
        ),
        Column(
            "material",
            aliases=(
                "grade",
                "material_grade",
                "materiaal",
                "materiaalsoort",
                "kwaliteit",
                "werkstoff",
                "materialsorte",
                "werkstoffnummer",
            ),
        ),
        Column("material_id"),
        Column("material_external_id"),
        Column("material_external_source"),
        Column("material_code", aliases=("materiaalcode", "materialcode")),
        _WORK_STATUS,
        Column(
            "drawing_no",
            aliases=(
                "drawing",
                "drawing_number",
                "drawing_nr",
                "dwg",
                "dwg_no",
                "tekening",
                "tekeningnummer",
                "tekeningnr",
                "zeichnung",
                "zeichnungsnummer",
                "zeichnungs_nr",
            ),
        ),
        Column(
            "cnc_program_name",
            aliases=(
                "cnc_program",
                "nc_program",
                "program",
                "programma",
                "cnc_programma",
                "nc_programma",
                "nc_programm",
                "cnc_programm",
                "programmname",
            ),
        ),
        Column("is_bullet_card", T.boolean),
        Column("material_lot"),
        Column("material_supplier"),
        Column("material_cert_number"),
        Column("weight_kg", T.decimal),
        Column("length_mm", T.decimal),
        Column("width_mm", T.decimal),
        Column("height_mm", T.decimal),
        Column("notes", aliases=_JOB_NOTES),
        Column("parent_part_id"),
        Column("current_cell_id"),
    ),
    (
        Reference(
            "job",
            "jobs",
            "job_id",
            "job_external_id",
            "job_external_source",
            "job_number",
            required=True,
        ),
        _MATERIAL_REF,
    ),
    "job number / part number",
    (
        "external_id",
        "external_source",
        "job_external_id",
        "part_number",
        "quantity",
        "material",
        "material_external_id",
        "drawing_no",
        "cnc_program_name",
        "notes",
    ),
    (
        "SO-1001/BRK-100",
        "csv",
        "SO-1001",
        "BRK-100",
        "25",
        "S235 4mm",
        "MAT-S235-4",
        "DRW-100-A",
        "BRK100.nc",
        "",
    ),
    ("part", "parts", "item", "items", "onderdelen", "teile", "workorder", "workorders"),
)

_OPERATION_NOTES = (
    "instruction",
    "work_instructions",
    "remarks",
    "comments",
    "werkinstructie",
    "instructie",
    "instructies",
    "omschrijving",
    "opmerking",
    "arbeitsanweisung",
    "anweisung",
    "beschreibung",
    "bemerkung",
)

OPERATIONS = EntityColumns(
    "operations",
    (
        *_key(),
        Column("part_id"),
        Column(
            "part_external_id",
            aliases=("part_ext_id", "line_external_id", "onderdeel_externe_id", "teil_externe_id"),
        ),
        Column("part_external_source"),
        *_PART_JOB_COLUMNS,
        Column("part_number", aliases=_PART_NUMBER),
        Column(
            "operation_name",
            required=True,
            aliases=(
                "operation",
                "step",
                "step_name",
                "routing_step",
                "task",
                "task_name",
                "process",
                "process_step",
                "activity",
                "bewerking",
                "bewerkingsnaam",
                "handeling",
                "processtap",
                "stap",
                "activiteit",
                "arbeitsgang",
                "arbeitsgangbezeichnung",
                "vorgangskurztext",
                "kurztext",
                "taetigkeit",
                "arbeitsschritt",
                "prozessschritt",
            ),
        ),
        Column(
            "sequence",
            T.integer,
            aliases=(
                "seq",
                "sequence_number",
                "seq_no",
                "step_no",
                "step_number",
                "operation_no",
                "operation_number",
                "op_no",
                "op_nr",
                "volgorde",
                "volgnummer",
                "volgnr",
                "stapnummer",
                "bewerkingsnummer",
                "reihenfolge",
                "arbeitsgangnummer",
                "ag_nr",
                "agnr",
                "vorgang",
                "vorgangsnummer",
            ),
        ),
        Column("cell_id"),
        Column(
            "cell_external_id",
            aliases=(
                "cell_code",
                "work_center_code",
                "work_center_no",
                "work_center_id",
                "workcenter_code",
                "machine_code",
                "werkplekcode",
                "werkplek_code",
                "werkpleknummer",
                "arbeitsplatznummer",
                "arbeitsplatz_nr",
                "arbeitsplatznr",
            ),
        ),
        Column("cell_external_source"),
        Column(
            "cell_name",
            aliases=(
                "cell",
                "work_center",
                "workcenter",
                "work_centre",
                "workcentre",
                "work_center_name",
                "workstation",
                "work_station",
                "machine",
                "machine_name",
                "werkplek",
                "werkplek_naam",
                "werkstation",
                "bewerkingsplaats",
                "arbeitsplatz",
                "arbeitsplatzbezeichnung",
                "arbeitsplatzgruppe",
                "maschine",
                "maschinenname",
            ),
        ),
        Column(
            "estimated_time",
            T.whole_minutes,
            aliases=(
                "est_time",
                "run_time",
                "runtime",
                "processing_time",
                "process_time",
                "standard_time",
                "std_time",
                "duration",
                "time",
                "minutes",
                "bewerkingstijd",
                "normtijd",
                "tijd",
                "looptijd",
                "bearbeitungszeit",
                "vorgabezeit",
                "ausfuehrungszeit",
                "sollzeit",
                "planzeit",
                "dauer",
            ),
            api_aliases=("estimated_time_minutes",),
        ),
        Column(
            "setup_time",
            T.minutes,
            aliases=("setup", "set_up_time", "insteltijd", "omsteltijd", "ruestzeit"),
            api_aliases=("setup_time_minutes",),
        ),
        Column("run_time_per_unit", T.minutes),
        Column("wait_time", T.minutes),
        Column("changeover_time", T.minutes),
        Column("completion_percentage", T.integer),
        Column("assigned_operator_id"),
        Column("icon_name"),
        Column(
            "planned_start",
            T.datetime,
            aliases=(
                "start",
                "start_date",
                "start_time",
                "planned_start_date",
                "scheduled_start",
                "geplande_start",
                "startdatum",
                "begindatum",
                "geplanter_start",
                "starttermin",
                "startzeit",
                "beginn",
            ),
        ),
        Column(
            "planned_end",
            T.datetime,
            aliases=(
                "end",
                "end_date",
                "finish",
                "finish_date",
                "planned_finish",
                "scheduled_end",
                "geplande_eind",
                "einddatum",
                "eind",
                "endtermin",
                "enddatum",
                "ende",
            ),
        ),
        _WORK_STATUS,
        Column("notes", aliases=_OPERATION_NOTES, api_aliases=("instructions", "description")),
    ),
    (
        _PART_REF,
        Reference("job", "jobs", "job_id", "job_external_id", "job_external_source", "job_number"),
        _CELL_REF,
    ),
    "job number / part number / sequence",
    (
        "external_id",
        "external_source",
        "part_external_id",
        "operation_name",
        "sequence",
        "cell_name",
        "estimated_time",
        "setup_time",
        "planned_start",
        "planned_end",
        "notes",
    ),
    (
        "SO-1001/BRK-100/10",
        "csv",
        "SO-1001/BRK-100",
        "Laser cutting",
        "10",
        "Laser",
        "45",
        "10",
        "2026-07-01T07:00:00Z",
        "2026-07-01T08:00:00Z",
        "Use nitrogen",
    ),
    (
        "operation",
        "operations",
        "routing",
        "routings",
        "step",
        "steps",
        "bewerkingen",
        "arbeitsgaenge",
        "arbeitsplan",
    ),
)

ENTITIES: dict[str, EntityColumns] = {
    e.entity: e for e in (CELLS, RESOURCES, MATERIALS, JOBS, PARTS, OPERATIONS)
}

# Unit hints (§7.4): normalised hint → factor to the field's unit.
TIME_UNITS = {
    **dict.fromkeys(("min", "mins", "minutes", "minuten", "minuut"), "1"),
    **dict.fromkeys(
        ("h", "hr", "hrs", "hour", "hours", "uur", "uren", "std", "stunden", "stunde"), "60"
    ),
    **dict.fromkeys(("s", "sec", "secs", "seconds", "seconden", "sekunden"), "1/60"),
}
LENGTH_UNITS = {"mm": "1", "cm": "10", "in": "25.4", "inch": "25.4"}
UNIT_TABLES = {
    ValueType.minutes: TIME_UNITS,
    ValueType.whole_minutes: TIME_UNITS,
    ValueType.length_mm: LENGTH_UNITS,
}

# Extra columns of a failed-rows file (§12.3): ignored when the file comes back.
FAILED_ROWS_COLUMNS = ("floorsync_line", "floorsync_errors")
METADATA_PREFIX = "metadata."
