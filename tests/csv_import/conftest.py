"""Fixtures of the CSV import tests: floorsync's services on the test database, one per test
module, and a fresh tenant per test."""

from collections.abc import Iterator

import pytest

from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.db.repository import TenantScope
from tests.csv_import.service_helpers import new_scope


@pytest.fixture(scope="module")
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def scope(services: Services) -> TenantScope:
    return new_scope(services)
