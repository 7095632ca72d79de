"""What the webhook feature needs at run time, built once from Settings by the composition roots:
the delivery settings, the DNS resolver port and the secret box."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from floorsync.config import Settings
from floorsync.kit.durations import parse_duration
from floorsync.kit.netguard import Resolver, SystemResolver
from floorsync.kit.secretbox import SecretBox
from floorsync.webhooks.breaker import BreakerPolicy
from floorsync.webhooks.schedule import Schedule, parse_delays

log = logging.getLogger("floorsync.webhooks")


@dataclass(frozen=True)
class WebhookConfig:
    schedule: Schedule
    allow_private: bool = False
    timeout_seconds: float = 15.0
    connect_timeout_seconds: float = 5.0
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 20
    disable_after: timedelta = timedelta(days=5)
    disable_min_failures: int = 10
    secret_overlap_hours: int = 24
    event_retention: timedelta = timedelta(days=30)
    log_retention: timedelta = timedelta(days=30)
    delivery_retention: timedelta = timedelta(hours=24)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    retry_after_cap: timedelta = timedelta(hours=1)
    linger: timedelta = timedelta(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> "WebhookConfig":
        return cls(
            schedule=Schedule(
                parse_delays(settings.webhook_retry_delays),
                jitter=settings.webhook_jitter,
                max_age=timedelta(hours=settings.webhook_max_age_hours),
            ),
            allow_private=settings.webhook_allow_private,
            timeout_seconds=settings.webhook_timeout_seconds,
            connect_timeout_seconds=settings.webhook_connect_timeout_seconds,
            lease=timedelta(seconds=settings.webhook_lease_seconds),
            batch_size=settings.webhook_batch_size,
            disable_after=timedelta(hours=settings.webhook_disable_after_hours),
            disable_min_failures=settings.webhook_disable_min_failures,
            secret_overlap_hours=settings.webhook_secret_overlap_hours,
            event_retention=timedelta(days=settings.event_retention_days),
            log_retention=parse_duration(settings.webhook_log_retention)
            if settings.webhook_log_retention.strip()
            else timedelta(days=settings.webhook_log_retention_days),
            delivery_retention=parse_duration(settings.webhook_delivery_retention),
            breaker=BreakerPolicy(
                failures=settings.webhook_breaker_failures,
                failing_for=timedelta(seconds=settings.webhook_breaker_failing_seconds),
                open_for=timedelta(seconds=settings.webhook_breaker_open_seconds),
                open_max=timedelta(seconds=settings.webhook_breaker_open_max_seconds),
            ),
            retry_after_cap=timedelta(seconds=settings.webhook_retry_after_cap_seconds),
            linger=timedelta(milliseconds=settings.webhook_linger_ms),
        )


@dataclass
class WebhookKit:
    """`Services.webhooks` (bootstrap.py); tests swap the resolver for a StaticResolver."""

    config: WebhookConfig
    secretbox: SecretBox
    resolver: Resolver = field(default_factory=SystemResolver)

    @classmethod
    def from_settings(cls, settings: Settings, secretbox: SecretBox) -> "WebhookKit":
        if settings.webhook_allow_private and settings.environment == "production":
            log.warning(
                "FLOORSYNC_WEBHOOK_ALLOW_PRIVATE is on in production: webhooks may target private networks"
            )
        return cls(WebhookConfig.from_settings(settings), secretbox)


def secret_context(webhook_id: object, previous: bool = False) -> bytes:
    return f"webhook:{webhook_id}:{'previous' if previous else 'current'}".encode()
