"""Settings from the environment (and `.env`), as SPEC §8 lists them."""

import math
from collections import Counter
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "development-only-secret-change-me"
MIN_SECRET_BITS = 64  # random 32-hex keys score 86 at the least in 2,000 tries


def secret_strength_bits(secret: str) -> float:
    """A rough strength estimate: the Shannon entropy of the characters times the number of
    distinct three-character runs, so repetition earns nothing. 40 × `a` scores 0, a word said
    five times about 20, 32 random hex digits about 100, token_urlsafe(48) over 300."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    runs = {secret[i : i + 3] for i in range(max(1, len(secret) - 2))}
    return per_char * len(runs)


class SettingsError(Exception):
    """The configuration cannot be used; the message is one Chinese line for the operator."""


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
    max_json_bytes: int = Field(default=1024 * 1024, ge=1024)  # any body but multipart
    access_token_minutes: int = 8 * 60
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    # Proxies (IP addresses or CIDR networks, comma-separated) whose X-Forwarded-For is believed
    # when they are the socket peer; default none: the peer is the client.
    trusted_proxies: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error"] = (
        "INFO"
    )
    log_format: Literal["console", "json"] = "console"
    docs_enabled: bool = True  # /docs and /openapi.json
    # Notifications (SPEC §10): smtp://user:pass@host:port, smtp+starttls://… or smtps://…;
    # unset = no e-mail. SMS_WEBHOOK_URL receives a JSON POST {to, kind, text}; unset = no SMS.
    smtp_url: str | None = None
    mail_from: str = "noreply@localhost"
    sms_webhook_url: str | None = None
    # Document storage (SPEC §8): files under DATA_DIR, or an S3-compatible object store, where
    # several instances share one store. Credentials are boto3's usual AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY (or its other sources).
    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None  # unset: AWS itself
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("生产环境必须设置 SECRET_KEY（至少 32 个字符），不得使用默认值")
            if secret_strength_bits(self.secret_key) < MIN_SECRET_BITS:
                raise ValueError(
                    "生产环境的 SECRET_KEY 过于简单（如重复字符），请用随机生成的密钥，例如 "
                    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
            if not self.receipt_signing_key:
                raise ValueError("生产环境必须设置 RECEIPT_SIGNING_KEY，不得使用自动生成的密钥")
            if not self.database_url:
                raise ValueError("生产环境必须设置 DATABASE_URL")
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "Settings":
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("STORAGE_BACKEND=s3 时必须设置 S3_BUCKET")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'outlet_filing.sqlite3').resolve()}"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "files"

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        for item in _split_list(value):
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"TRUSTED_PROXIES 中的“{item}”不是 IP 地址或网段") from None
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(item, strict=False) for item in _split_list(self.trusted_proxies))


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "；".join(
            str(item["msg"]).removeprefix("Value error, ") for item in error.errors()
        )
        raise SettingsError(f"配置有误：{problems}") from None
