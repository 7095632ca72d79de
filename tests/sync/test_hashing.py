"""The one sync hash (API §4.4): spec test vectors, canonical form, and properties."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from floorsync.entities.spec import get_spec
from floorsync.entities.validation import validate_record
from floorsync.kit.canonical_json import canonical_json, canonical_json_bytes
from floorsync.sync.hashing import RecordHasher, canonical_record, decimal_text, sync_hash
from tests.support.api import ok
from tests.support.tenants import TenantHandle

JOB_VECTOR = {
    "external_id": "SO-1001",
    "external_source": "SAP",
    "job_number": "J-1001",
    "customer_name": "Acme BV",
    "due_date": "2026-12-31",
    "priority": 2,
    "parts": [],
}
MATERIAL_VECTOR = {
    "external_id": "MAT-S235-3",
    "external_source": "SAP",
    "code": "S235-3",
    "name": "Steel plate S235 3 mm",
    "grade": "S235JR",
    "thickness": 3.0,
    "unit": "sheet",
    "metadata": {"plant": "NL01", "abc": "A"},
}
PART_VECTOR = {
    "external_id": "SO-1001-10",
    "external_source": "SAP",
    "job_external_id": "SO-1001",
    "part_number": "P-10",
    "material": "S235 – 3 mm",
    "quantity": "4",
}
VECTOR_JOB_ID = uuid.UUID("0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00")


def hashed(entity: str, raw: dict[str, Any], **resolved: Any) -> tuple[str, str]:
    rec = validate_record(get_spec(entity), raw, "sync")
    assert rec.ok, rec.all_errors()
    rec.values.update(resolved)
    return canonical_record(rec.values), sync_hash(rec.values)


class TestSpecVectors:
    def test_the_job_vector_maps_the_alias_normalises_the_date_and_drops_the_child_array(
        self,
    ) -> None:
        text, digest = hashed("jobs", JOB_VECTOR)
        assert (
            text
            == '{"customer":"Acme BV","due_date":"2026-12-31T00:00:00.000Z","external_id":"SO-1001","external_source":"SAP","job_number":"J-1001","priority":2}'
        )
        assert digest == "fc60620ec60f2f73d1d8a9e7a65e20356fe4f11f12aa7e20f479328a95463b78"

    def test_the_material_vector_sorts_metadata_keys_and_writes_decimals_as_strings(self) -> None:
        text, digest = hashed("materials", MATERIAL_VECTOR)
        assert (
            text
            == '{"code":"S235-3","external_id":"MAT-S235-3","external_source":"SAP","grade":"S235JR","metadata":{"abc":"A","plant":"NL01"},"name":"Steel plate S235 3 mm","thickness":"3","unit":"sheet"}'
        )
        assert digest == "bb3be877b868ca603d16e0cfe0b464e2b40e4900d13a9c4f5adaa909aef53964"

    def test_the_part_vector_hashes_the_resolved_job_id_and_raw_utf8(self) -> None:
        text, digest = hashed("parts", PART_VECTOR, job_id=VECTOR_JOB_ID)
        assert (
            text
            == '{"external_id":"SO-1001-10","external_source":"SAP","job_id":"0190f3a2-7c1e-7b6a-9d2e-5f4c3b2a1d00","material":"S235 – 3 mm","part_number":"P-10","quantity":4}'
        )
        assert digest == "4293d31a5ef6842430e5d96de16b92c1f8d8ca4c4e1189d4f2f635fa1a81ca91"

    def test_the_server_stores_the_vector_hash_for_the_job(self, tenant: TenantHandle) -> None:
        data = ok(tenant.client.put("/api-jobs/sync", json=JOB_VECTOR), 201)
        assert (
            data["job"]["sync_hash"]
            == "fc60620ec60f2f73d1d8a9e7a65e20356fe4f11f12aa7e20f479328a95463b78"
        )

    def test_a_part_sent_by_job_id_or_by_job_external_id_hashes_alike(
        self, tenant: TenantHandle
    ) -> None:
        c = tenant.client
        job = ok(c.put("/api-jobs/sync", json=JOB_VECTOR), 201)["job"]
        by_ext = ok(c.put("/api-parts/sync", json=PART_VECTOR), 201)
        by_id = {k: v for k, v in PART_VECTOR.items() if k != "job_external_id"} | {
            "job_id": job["id"]
        }
        again = ok(c.put("/api-parts/sync", json=by_id))
        assert again["action"] == "skipped"
        assert again["part"]["sync_hash"] == by_ext["part"]["sync_hash"]


class TestCanonicalForm:
    def test_decimals_lose_trailing_zeros_and_never_use_an_exponent(self) -> None:
        assert [
            decimal_text(Decimal(v)) for v in ("2.0", "1.50", "1E+2", "0.000", "-0", "12.340")
        ] == ["2", "1.5", "100", "0", "0", "12.34"]

    def test_timestamps_are_utc_with_three_fractional_digits(self) -> None:
        when = datetime(2026, 3, 1, 8, 15, 0, 412_999, tzinfo=UTC)
        assert canonical_record({"due_date": when}) == '{"due_date":"2026-03-01T08:15:00.412Z"}'

    def test_bookkeeping_fields_and_child_arrays_are_not_hashed_but_explicit_null_is(self) -> None:
        text = canonical_record(
            {
                "id": "x",
                "sync_hash": "y",
                "updated_at": "z",
                "parts": [],
                "operations": [],
                "notes": None,
            }
        )
        assert text == '{"notes":null}'

    def test_an_integer_sent_as_a_string_hashes_like_the_integer(self) -> None:
        _t1, as_text = hashed(
            "jobs", {"external_id": "A", "external_source": "S", "job_number": "J", "priority": "4"}
        )
        _t2, as_int = hashed(
            "jobs", {"external_id": "A", "external_source": "S", "job_number": "J", "priority": 4}
        )
        assert as_text == as_int


_text = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8
)
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), _text)
_metadata = st.dictionaries(
    _text.filter(bool), st.one_of(_json_scalars, st.lists(_json_scalars, max_size=3)), max_size=6
)


class TestHashProperties:
    @settings(max_examples=150, deadline=None)
    @given(metadata=_metadata, seed=st.randoms(use_true_random=False))
    def test_the_hash_ignores_the_key_order_of_the_input_at_every_level(
        self, metadata: dict[str, Any], seed: Any
    ) -> None:
        raw = {
            "external_id": "SO-1",
            "external_source": "SAP",
            "job_number": "J-1",
            "customer_name": "Acme",
            "priority": 3,
            "due_date": "2026-01-02T03:04:05Z",
            "metadata": metadata,
        }

        def shuffled(value: Any) -> Any:
            if isinstance(value, dict):
                keys = list(value)
                seed.shuffle(keys)
                return {k: shuffled(value[k]) for k in keys}
            return value

        assert hashed("jobs", raw)[1] == hashed("jobs", shuffled(raw))[1]

    @settings(max_examples=100, deadline=None)
    @given(
        quantity=st.integers(1, 10**6),
        weight=st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
    )
    def test_equal_values_in_different_wire_forms_hash_alike(
        self, quantity: int, weight: Decimal
    ) -> None:
        base = {
            "external_id": "P",
            "external_source": "S",
            "part_number": "P-1",
            "job_id": str(VECTOR_JOB_ID),
        }
        as_numbers = {
            **base,
            "quantity": quantity,
            "weight_kg": float(weight) if weight == round(weight, 3) else str(weight),
        }
        as_strings = {**base, "quantity": str(quantity), "weight_kg": str(weight)}
        job_id = {"job_id": VECTOR_JOB_ID}
        assert hashed("parts", as_numbers, **job_id)[1] == hashed("parts", as_strings, **job_id)[1]


# Any JSON tree orjson or the standard library might write differently: floats of every form,
# integers past 64 bits, non-ASCII and control characters, nested containers.
_any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
_any_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _any_text,
)
_any_tree = st.recursive(
    _any_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_any_text, inner, max_size=4)
    ),
    max_leaves=12,
)


class TestFastPaths:
    """The orjson writer and the compiled per-entity hasher give the very bytes and digests of
    the definitions (canonical_json, sync_hash)."""

    @settings(max_examples=300, deadline=None)
    @given(tree=_any_tree)
    def test_canonical_json_bytes_are_the_standard_librarys(self, tree: Any) -> None:
        assert canonical_json_bytes(tree) == canonical_json(tree).encode("utf-8")

    def test_the_float_forms_orjson_writes_differently_fall_back(self) -> None:
        for value in (1e-05, 2.5e-07, 1e16, -0.0, 123456789.125, 2**64, -(2**63) - 1):
            tree = {"m": [value]}
            assert canonical_json_bytes(tree) == canonical_json(tree).encode("utf-8")

    @settings(max_examples=150, deadline=None)
    @given(
        metadata=st.dictionaries(_any_text, _any_tree, max_size=4),
        weight=st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
        due=st.datetimes(timezones=st.just(UTC)),
        notes=st.one_of(st.none(), _any_text),
    )
    def test_the_compiled_hasher_gives_sync_hash_digests(
        self, metadata: dict[str, Any], weight: Decimal, due: datetime, notes: str | None
    ) -> None:
        spec = get_spec("parts")
        values = {
            "external_id": "P",
            "external_source": "S",
            "part_number": "P-1",
            "job_id": VECTOR_JOB_ID,
            "weight_kg": weight,
            "notes": notes,
            "metadata": metadata,
            "file_paths": ["a", "é"],
            "parts": [],  # a child array is never hashed
        }
        hasher = RecordHasher([(f.name, f.kind) for f in spec.fields])
        extra = {"resources": [{"resource_id": str(VECTOR_JOB_ID), "quantity": "1", "notes": None}]}
        assert hasher(values, tuple(values), {}) == sync_hash(values)
        assert hasher(values, tuple(values), extra) == sync_hash({**values, **extra})
        job = {"external_id": "J", "external_source": "S", "job_number": "J", "due_date": due}
        jobs = RecordHasher([(f.name, f.kind) for f in get_spec("jobs").fields])
        assert jobs(job, tuple(job), {}) == sync_hash(job)

    def test_the_compiled_hasher_keeps_the_pinned_vectors(self) -> None:
        for entity, raw, resolved, digest in (
            (
                "jobs",
                JOB_VECTOR,
                {},
                "fc60620ec60f2f73d1d8a9e7a65e20356fe4f11f12aa7e20f479328a95463b78",
            ),
            (
                "materials",
                MATERIAL_VECTOR,
                {},
                "bb3be877b868ca603d16e0cfe0b464e2b40e4900d13a9c4f5adaa909aef53964",
            ),
            (
                "parts",
                PART_VECTOR,
                {"job_id": VECTOR_JOB_ID},
                "4293d31a5ef6842430e5d96de16b92c1f8d8ca4c4e1189d4f2f635fa1a81ca91",
            ),
        ):
            spec = get_spec(entity)
            rec = validate_record(spec, raw, "sync")
            rec.values.update(resolved)
            hasher = RecordHasher([(f.name, f.kind) for f in spec.fields])
            assert hasher(rec.values, tuple(rec.values), {}) == digest
