"""The README's first promise: a job with a part and two operations, created and listed."""

from tests.support.tenants import TenantHandle


class TestNestedJobCreate:
    def test_a_job_with_a_part_and_two_operations_is_created_and_listed(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "job_number": "J-1001",
            "customer_name": "Acme BV",
            "due_date": "2026-12-31",
            "parts": [
                {
                    "part_number": "P-10",
                    "quantity": 10,
                    "operations": [
                        {"operation_name": "Laser", "estimated_time": 60},
                        {"operation_name": "Bend"},
                    ],
                }
            ],
        }
        created = tenant.client.post("/api-jobs", json=body)
        assert created.status_code == 201, created.text
        job = created.json()["data"]["job"]
        assert job["customer"] == "Acme BV"
        assert job["due_date"] == "2026-12-31T00:00:00.000Z"
        assert [op["sequence"] for op in job["parts"][0]["operations"]] == [1, 2]

        listed = tenant.client.get("/api-jobs").json()["data"]
        assert [j["id"] for j in listed["jobs"]] == [job["id"]]
        assert listed["pagination"] == {"total": 1, "offset": 0, "limit": 100}

    def test_the_job_part_and_operation_ids_are_the_first_three_id_keys(
        self, tenant: TenantHandle
    ) -> None:
        body = {
            "job_number": "J-2",
            "parts": [{"part_number": "P", "operations": [{"operation_name": "Cut"}]}],
        }
        raw = tenant.client.post("/functions/v1/api-jobs", json=body).text
        import re

        ids = re.findall(r'"id":"([0-9a-f-]{36})"', raw)
        job = tenant.client.get("/api-jobs").json()["data"]["jobs"][0]
        part = job["parts"][0]
        ops = tenant.client.get("/api-operations", params={"part_id": part["id"]}).json()["data"][
            "operations"
        ]
        assert ids[:3] == [job["id"], part["id"], ops[0]["id"]]
