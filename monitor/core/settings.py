"""Runtime settings, read only from MONITOR_* environment variables and passed explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.core.errors import ConfigError


class Settings(BaseSettings):
    """All settings. Each field is read from MONITOR_<FIELD> (e.g. MONITOR_DB)."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", extra="ignore", frozen=True)

    db: Path = Path("var/monitor.db")
    catalogue: Path = Path("indicators.yaml")
    baseline: Path | None = None  # the printed baseline `monitor init` loads; default: monitor/data/baseline.csv
    raw_dir: Path = Path("var/raw")
    backup_dir: Path | None = None  # the scheduler writes a daily backup here (04:15); unset: no daily backup
    backup_keep: int = Field(default=7, ge=1)  # the daily backups kept in backup_dir (the oldest are removed)
    timezone: str = "Europe/Oslo"
    ssb_url: str = "https://data.ssb.no/api/pxwebapi/v2"
    fhi_url: str = "https://statistikk-data.fhi.no/api/open/v1"
    udir_url: str = "https://api.statistikkbanken.udir.no/api/rest/v2"  # Udir statistikkbank, export API v2
    barnehagefakta_url: str = "https://www.barnehagefakta.no/api"  # barnehagefakta.no (Udir): GET /Kommune/{knr}
    # Miljødirektoratet's emissions workbook (utslippsstatistikk_alle_kommuner.xlsx); the address has moved once
    miljodir_url: str = "https://www.miljodirektoratet.no/sharepoint/downloaditem/?id=01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA"
    http_timeout: float = 30.0
    fetch_run_deadline: float = Field(default=900.0, gt=0)  # seconds one run of one source may take in all
    fetch_table_deadline: float = Field(default=180.0, gt=0)  # seconds one table may take, retries and waits included
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "ssl"] = "none"  # ssl: SMTPS (usually port 465)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None  # never printed or logged
    smtp_from: str | None = None  # the sender of alerts; default: the first MONITOR_ALERT_TO address
    smtp_timeout: float = 30.0
    alert_to: str | None = None  # ops: one address, or several separated by commas
    alert_remind_days: int = Field(default=7, ge=1)  # an open alert is repeated after this many days
    # a run more than this many days after the previous evaluation sends a start-up summary, not one alert per episode
    alert_resync_after_days: int = Field(default=14, ge=1)
    import_by: str | None = None  # who runs imports, when --by is not given
    secret_key: SecretStr | None = None  # signs web sessions; without it a random key per process is used
    read_open: bool = True  # may anyone read the web UI and the JSON API without logging in?
    base_url: str = "http://127.0.0.1:8080"  # the UI's address, for links in e-mails
    behind_tls: bool = False  # session cookies get the Secure flag; responses carry Strict-Transport-Security
    trusted_proxies: int = Field(default=0, ge=0)  # reverse proxies in front whose X-Forwarded-* headers count
    session_idle_minutes: float = Field(default=30.0, gt=0)  # a login ends after this long without a request
    session_max_hours: float = Field(default=12.0, gt=0)  # and this long after logging in, whatever happens
    max_upload_bytes: int = 5 * 1024 * 1024
    # GET /metrics: open to all, to the addresses in metrics_allow (default: this machine only), or to a bearer token
    metrics_access: Literal["open", "addresses", "token"] = "addresses"
    metrics_allow: str = "127.0.0.1,::1"  # addresses or networks (CIDR), separated by commas
    metrics_token: SecretStr | None = None  # the bearer token /metrics wants with metrics_access=token
    health_max_heartbeat_age: float = Field(default=900.0, gt=0)  # seconds of scheduler silence /healthz accepts
    # auto: a silent scheduler is unhealthy, none at all is fine (web only); required: none at all is unhealthy too;
    # ignored: /healthz reports the scheduler but never fails for it
    health_scheduler: Literal["auto", "required", "ignored"] = "auto"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line (service logs)


def load_settings() -> Settings:
    """Read the settings from the environment; a malformed value is a ConfigError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"MONITOR_{str(error['loc'][0]).upper()}: {error['msg']}" for error in exc.errors(include_url=False)
        ]
        raise ConfigError("ugyldige innstillinger:\n" + "\n".join(lines)) from exc
