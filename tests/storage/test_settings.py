"""The storage settings (catalogue §2.2): defaults that need nothing, S3 chosen by configuration,
and the combinations that are refused at start-up."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from floorsync.config import Settings
from floorsync.storage.factory import build_storage
from floorsync.storage.local import LocalStorage
from floorsync.storage.s3 import S3Storage


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class TestDefaults:
    def test_files_go_to_the_local_data_directory_with_nothing_configured(self) -> None:
        settings = make()
        assert settings.storage_backend == "local"
        assert settings.storage_local_root == Path("var/files")
        assert (settings.storage_url_ttl, settings.max_upload_bytes, settings.max_image_bytes) == (
            900,
            100 * 1024 * 1024,
            10 * 1024 * 1024,
        )
        storage = build_storage(settings)
        assert isinstance(storage, LocalStorage)
        assert storage.root == Path("var/files").absolute()

    def test_the_local_directory_follows_the_data_directory_unless_set(
        self, tmp_path: Path
    ) -> None:
        assert make(data_dir=tmp_path).storage_local_root == tmp_path / "files"
        assert make(data_dir=tmp_path, storage_local_dir=tmp_path / "x").storage_local_root == (
            tmp_path / "x"
        )

    def test_the_default_sqlite_file_moves_with_the_data_directory(self, tmp_path: Path) -> None:
        assert make().database_url == "sqlite:///./var/floorsync.db"
        assert make(data_dir=tmp_path).database_url == f"sqlite:///{tmp_path}/floorsync.db"
        assert make(data_dir=tmp_path, database_url="sqlite:///x.db").database_url == (
            "sqlite:///x.db"
        )

    def test_settings_come_from_floorsync_environment_variables(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("FLOORSYNC_STORAGE_BACKEND", "s3")
        monkeypatch.setenv("FLOORSYNC_S3_BUCKET", "plant-files")
        monkeypatch.setenv("FLOORSYNC_S3_SECRET_ACCESS_KEY", "hunter2")
        monkeypatch.setenv("FLOORSYNC_S3_ACCESS_KEY_ID", "AKIA…")
        monkeypatch.setenv("FLOORSYNC_S3_DIRECT_DOWNLOADS", "true")
        monkeypatch.setenv("FLOORSYNC_STORAGE_URL_TTL", "3600")
        settings = make()
        assert (settings.storage_backend, settings.s3_bucket, settings.storage_url_ttl) == (
            "s3",
            "plant-files",
            3600,
        )
        assert settings.s3_direct_downloads is True
        assert "hunter2" not in repr(settings)  # secrets are SecretStr

    def test_s3_is_chosen_by_configuration(self) -> None:
        storage = build_storage(
            make(
                storage_backend="s3",
                s3_bucket="plant-files",
                s3_prefix="floorsync/",
                s3_endpoint_url="http://127.0.0.1:9",
                s3_addressing_style="path",
                s3_sse="aws:kms",
            )
        )
        assert isinstance(storage, S3Storage)
        assert (storage.bucket, storage.prefix, storage.sse) == (
            "plant-files",
            "floorsync/",
            "aws:kms",
        )
        assert storage.client.meta.endpoint_url == "http://127.0.0.1:9"

    def test_the_public_url_loses_its_trailing_slash(self) -> None:
        assert make(public_url="https://floorsync.example.com/").public_url == (
            "https://floorsync.example.com"
        )


class TestRefused:
    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"storage_backend": "s3"}, "needs FLOORSYNC_S3_BUCKET"),
            ({"storage_backend": "ftp"}, "storage_backend"),
            ({"storage_url_ttl": 59}, "storage_url_ttl"),
            ({"storage_url_ttl": 86_401}, "storage_url_ttl"),
            ({"storage_max_upload_mb": 0}, "storage_max_upload_mb"),
            ({"public_url": "floorsync.example.com"}, r"absolute http\(s\) URL"),
            ({"s3_access_key_id": "AKIA"}, "both"),
            ({"s3_sse": "rot13"}, "s3_sse"),
            ({"s3_prefix": "/abs/"}, "FLOORSYNC_S3_PREFIX"),
            ({"s3_prefix": "a/../b/"}, "FLOORSYNC_S3_PREFIX"),
            (
                {"environment": "production", "secret_key": "k" * 32},
                "FLOORSYNC_PUBLIC_URL",
            ),
        ],
    )
    def test_a_bad_combination_refuses_to_start(self, values: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            make(**values)

    def test_production_starts_with_a_secret_key_and_a_public_url(self) -> None:
        settings = make(
            environment="production",
            secret_key="k" * 32,
            public_url="https://floorsync.example.com",
        )
        assert settings.public_url == "https://floorsync.example.com"
