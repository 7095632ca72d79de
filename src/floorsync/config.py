"""Settings from FLOORSYNC_* environment variables (and .env); read once per entrypoint."""

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
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
    # operability (ops/): `text` log lines for a terminal, `json` for a log collector
    log_format: Literal["text", "json"] = "text"
    metrics_token: SecretStr | None = None  # /metrics wants `Authorization: Bearer <it>` when set
    metrics_dir: Path | None = None  # prometheus multiprocess files; default <data_dir>/metrics

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
    # Modules whose JOB_KINDS / PERIODIC_TASKS the worker runs too (worker/registry.py).
    worker_plugins: str = ""
    # planning connections: how long a worker holds a batch of pushes, and a pull
    planning_push_lease_seconds: float = 300
    planning_pull_lease_minutes: float = 30
    # Issue 11: the circuit breaker, Retry-After's cap, and retention as durations (`30d`, `6h`).
    webhook_breaker_failures: int = Field(10, ge=1)
    webhook_breaker_failing_seconds: float = Field(60, gt=0)
    webhook_breaker_open_seconds: float = Field(30, gt=0)
    webhook_breaker_open_max_seconds: float = Field(300, gt=0)
    webhook_retry_after_cap_seconds: float = Field(3600, ge=0)
    webhook_delivery_retention: str = "24h"  # succeeded deliveries
    webhook_vacuum_seconds: float = 60  # the pending queue's VACUUM (webhooks/queue_vacuum.py)
    webhook_log_retention: str = ""  # attempt logs; empty: FLOORSYNC_WEBHOOK_LOG_RETENTION_DAYS
    # An endpoint whose batch emptied its queue rests this long before its next claim
    # (webhooks/worker.py, LINGER): a trickle of events goes out in batches, not one claim each.
    webhook_linger_ms: float = Field(200, ge=0, le=2000)

    # the /admin web UI
    admin_session_hours: float = Field(12, gt=0)  # a sign-in lasts at most this long
    admin_idle_minutes: float = Field(60, gt=0)  # … and ends after this long without a request
    admin_login_attempts: int = Field(10, ge=1)  # failed sign-ins allowed per client address
    admin_login_window_seconds: int = Field(300, ge=1)  # … within this window, then 429

    # CSV import (CSV import spec §11, §14)
    import_max_file_mb: int = Field(50, ge=1)  # per uploaded file, refused while streaming
    import_max_upload_mb: int = Field(200, ge=1)  # per upload (all files), refused while streaming
    import_abandon_seconds: float = Field(60, gt=0)  # then a running import may be taken over
    import_progress_seconds: float = Field(5, gt=0)  # CLI without a terminal: a line this often
    import_file_retention_days: float = Field(7, gt=0)  # then uploaded bytes are cleared
    import_retention_days: float = Field(90, gt=0)  # then finished imports are deleted
    import_unstarted_hours: float = Field(24, gt=0)  # then imports never started are deleted

    # file storage (catalogue §2.2): the local file system by default, S3-compatible in production
    data_dir: Path = Path("./var")
    storage_backend: Literal["local", "s3"] = "local"
    storage_local_dir: Path | None = None  # default <data_dir>/files
    public_url: str | None = None  # absolute base of signed file URLs
    storage_url_ttl: int = Field(900, ge=60, le=86_400)  # seconds every signed URL lives
    export_max_concurrent: int = Field(2, ge=1, le=64)  # api-export streams per process
    batch_monitor_interval: int = Field(300, ge=0)  # seconds between batches.monitor runs; 0: off
    storage_max_upload_mb: int = Field(100, ge=1)
    storage_max_image_mb: int = Field(10, ge=1)
    s3_bucket: str | None = None  # never created by floorsync
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None  # MinIO, Ceph, moto: with s3_addressing_style=path
    s3_region: str = "us-east-1"
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    s3_access_key_id: SecretStr | None = None  # both absent: boto3's default credential chain
    s3_secret_access_key: SecretStr | None = None
    s3_sse: Literal["AES256", "aws:kms"] | None = None
    s3_direct_downloads: bool = False  # download URLs become S3 presigned GETs

    @model_validator(mode="after")
    def _production_needs_a_secret_key(self) -> Self:
        if self.environment == "production" and self.secret_key is None:
            raise ValueError("set FLOORSYNC_SECRET_KEY before running in production")
        return self

    @model_validator(mode="after")
    def _the_default_database_lives_in_the_data_directory(self) -> Self:
        if "data_dir" in self.model_fields_set and "database_url" not in self.model_fields_set:
            self.database_url = f"sqlite:///{self.data_dir.as_posix()}/floorsync.db"
        return self

    @model_validator(mode="after")
    def _storage_settings_fit_together(self) -> Self:
        if self.public_url is not None:
            if not self.public_url.startswith(("https://", "http://")):
                raise ValueError("FLOORSYNC_PUBLIC_URL must be an absolute http(s) URL")
            self.public_url = self.public_url.rstrip("/")
        if self.environment == "production" and not self.public_url:
            raise ValueError(
                "set FLOORSYNC_PUBLIC_URL (the base of signed file URLs) in production"
            )
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("FLOORSYNC_STORAGE_BACKEND=s3 needs FLOORSYNC_S3_BUCKET")
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError(
                "set both FLOORSYNC_S3_ACCESS_KEY_ID and FLOORSYNC_S3_SECRET_ACCESS_KEY, or neither"
            )
        if self.s3_prefix.startswith("/") or ".." in self.s3_prefix.split("/"):
            raise ValueError("FLOORSYNC_S3_PREFIX must be relative and contain no '..' segment")
        return self

    @property
    def storage_local_root(self) -> Path:
        return self.storage_local_dir or self.data_dir / "files"

    @property
    def max_upload_bytes(self) -> int:
        return self.storage_max_upload_mb * 1024 * 1024

    @property
    def max_image_bytes(self) -> int:
        return self.storage_max_image_mb * 1024 * 1024

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def retry_delays(self) -> list[float]:
        return [float(x) for x in self.webhook_retry_delays.split(",") if x.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
