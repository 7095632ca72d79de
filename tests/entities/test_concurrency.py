"""Concurrent requests against one server: auto sequences stay distinct, unique rules answer 409
(never 500), and a record is deleted once."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.support.api import make_part, make_tree
from tests.support.tenants import TenantHandle

WORKERS = 8


def test_concurrent_operation_creates_get_distinct_sequences(tenant: TenantHandle) -> None:
    part = make_part(tenant.client)

    def create(i: int) -> int:
        resp = tenant.client.post(
            "/api-operations", json={"part_id": part["id"], "operation_name": f"op {i}"}
        )
        assert resp.status_code == 201, resp.text
        return int(resp.json()["data"]["operation"]["sequence"])

    with ThreadPoolExecutor(WORKERS) as pool:
        sequences = sorted(pool.map(create, range(16)))
    assert sequences == list(range(1, 17))


def test_concurrent_creates_of_one_job_number_give_one_201_and_409s(tenant: TenantHandle) -> None:
    def create(_i: int) -> int:
        return tenant.client.post("/api-jobs", json={"job_number": "J-race"}).status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = Counter(pool.map(create, range(WORKERS)))
    assert statuses == {201: 1, 409: WORKERS - 1}


def test_concurrent_deletes_of_one_job_delete_it_once(tenant: TenantHandle) -> None:
    job = make_tree(tenant.client, parts=2, ops=2)

    def delete(_i: int) -> int:
        return tenant.client.delete("/api-jobs", params={"id": job["id"]}).status_code

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = Counter(pool.map(delete, range(WORKERS)))
    assert statuses == {200: 1, 404: WORKERS - 1}


def test_children_created_while_their_job_is_deleted_are_deleted_with_it_or_refused(
    tenant: TenantHandle, sessions
) -> None:
    from floorsync.models.master import Part
    from tests.support.api import row

    for _round in range(3):
        job = make_tree(tenant.client, parts=1, ops=0)

        def act(i: int, job: dict = job) -> tuple[int, str | None]:
            if i == 0:
                return tenant.client.delete("/api-jobs", params={"id": job["id"]}).status_code, None
            resp = tenant.client.post(
                "/api-parts", json={"job_id": job["id"], "part_number": f"late-{i}"}
            )
            return resp.status_code, resp.json()["data"]["part"][
                "id"
            ] if resp.status_code == 201 else None

        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(act, range(WORKERS)))
        assert results[0][0] == 200
        for status, part_id in results[1:]:
            assert status in (201, 422)
            if part_id is not None:
                assert (
                    row(sessions, tenant.id, Part, part_id).deleted_at is not None
                )  # cascaded, never orphaned
