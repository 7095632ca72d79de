"""Settings from FLOORSYNC_* environment variables (and .env); read once per entrypoint."""

from functools import lru_cache
from typing import Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOORSYNC_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/floorsync.db"
    secret_key: SecretStr | None = None
    cors_origins: str = ""
    max_body_bytes: int = 10 * 1024 * 1024
    db_pool_size: int = 10
    db_max_overflow: int | None = None  # None: twice the pool size
    db_pool_timeout_seconds: float = 10
    # PostgreSQL, per API transaction: no request waits longer than this for a row lock, and no
    # statement runs longer (0 switches a limit off).
    db_lock_timeout_ms: int = 5000
    db_statement_timeout_ms: int = 30000
    # `floorsync serve`: how long SIGTERM waits for requests in flight before closing them.
    shutdown_timeout_seconds: int = 20
    log_level: str = "info"

    # webhooks and the change feed
    webhook_allow_private: bool = False
    webhook_retry_delays: str = "5,300,1800,7200,18000,36000,50400,72000,86400"
    webhook_timeout_seconds: float = 15.0
    worker_poll_seconds: float = 0.2
    event_retention_days: int = 30
    webhook_jitter: float = 0.2
    webhook_max_age_hours: float = 96
    webhook_disable_after_hours: float = 120
    webhook_disable_min_failures: int = 10
    webhook_secret_overlap_hours: int = 24
    webhook_lease_seconds: float = 60
    webhook_batch_size: int = 20
    webhook_connect_timeout_seconds: float = 5
    webhook_log_retention_days: int = 30
    worker_delivery_threads: int = 4
    worker_periodic_seconds: float = 60

    @model_validator(mode="after")
    def _production_needs_a_secret_key(self) -> Self:
        if self.environment == "production" and self.secret_key is None:
            raise ValueError("set FLOORSYNC_SECRET_KEY before running in production")
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def retry_delays(self) -> list[float]:
        return [float(x) for x in self.webhook_retry_delays.split(",") if x.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
