from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """From the environment: DATABASE_URL, HOST, PORT, and NEWSGRAPH_* for the rest."""

    model_config = SettingsConfigDict(env_prefix="NEWSGRAPH_", extra="ignore")

    # Unset: `newsgraph serve` starts the embedded PostgreSQL under `data_dir`.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8000, ge=1, le=65535, validation_alias="PORT")

    data_dir: Path = Path(".data")
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a pooled connection."
    )
    db_statement_timeout_ms: int = Field(default=15_000, ge=100)
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "info"
    # `newsgraph serve` loads the shipped seed files after migrating (a no-op when unchanged).
    seed_on_start: bool = True
    # Signs pagination cursors so an altered one is refused. Set it in production; every
    # worker behind one load balancer needs the same value.
    cursor_secret: str = "newsgraph-development-cursor-secret"  # noqa: S105 (not a credential)
    # Largest request body accepted; larger ones get 413 before they are read in full.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Reads are public unless this is set; then every request needs an API key.
    require_key_for_reads: bool = False
    # Seconds a client is told to wait after a 503 from an unavailable database.
    retry_after_seconds: int = Field(default=2, ge=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
