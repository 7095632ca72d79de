"""The lifecycle tests use the shop-floor tests' moveable-clock server."""

from tests.shopfloor.conftest import clocked, clocked_server

__all__ = ["clocked", "clocked_server"]
