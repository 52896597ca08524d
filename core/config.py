"""Settings from the environment (and `.env`), as SPEC §8 lists them."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "development-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("./data")
    database_url: str | None = None
    secret_key: str = DEFAULT_SECRET_KEY
    public_base_url: str = "http://127.0.0.1:8000"
    receipt_signing_key: str | None = Field(
        default=None, description="Ed25519 private key(s) as PEM text or a path to a PEM file"
    )
    receipt_authority: str = "贺州市邮政管理局"
    max_upload_bytes: int = 10 * 1024 * 1024
    access_token_minutes: int = 8 * 60
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error"] = (
        "INFO"
    )
    log_format: Literal["console", "json"] = "console"
    docs_enabled: bool = True  # /docs and /openapi.json

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("生产环境必须设置 SECRET_KEY（至少 32 个字符），不得使用默认值")
            if not self.receipt_signing_key:
                raise ValueError("生产环境必须设置 RECEIPT_SIGNING_KEY，不得使用自动生成的密钥")
            if not self.database_url:
                raise ValueError("生产环境必须设置 DATABASE_URL")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'outlet_filing.sqlite3').resolve()}"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "files"


@lru_cache
def get_settings() -> Settings:
    return Settings()
