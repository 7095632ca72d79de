"""Event tests share the webhook receiver fixture."""

from tests.webhooks.conftest import receiver

__all__ = ["receiver"]
