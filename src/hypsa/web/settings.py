"""Configuration of the web application, read from environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from hypsa.errors import ParameterError

__all__ = ["Settings", "ALLOWED_SUFFIXES"]

#: Single-file EEG formats accepted by the upload (multi-file formats such as BrainVision need
#: their companions and are not accepted through the browser).
ALLOWED_SUFFIXES = (".edf", ".bdf", ".gdf", ".fif", ".cnt", ".set")


def _env_bool(name: str, default: bool) -> bool:
    v = os.environ.get(name)
    if v is None or v.strip() == "":
        return default
    v = v.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ParameterError(f"{name} must be 1/0 (or true/false), got {v!r}")


def _env_float(name: str, default: float) -> float:
    v = os.environ.get(name)
    if v is None or v.strip() == "":
        return default
    try:
        f = float(v)
    except ValueError:
        raise ParameterError(f"{name} must be a number, got {v!r}") from None
    if f <= 0:
        raise ParameterError(f"{name} must be positive, got {v!r}")
    return f


def default_data_dir() -> Path:
    """``HYPSA_DATA_DIR`` or the platform's user data folder for hypsa."""
    env = os.environ.get("HYPSA_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("hypsa", appauthor=False))


@dataclass
class Settings:
    """Settings of one server (and its worker).

    Every field has an environment variable (in brackets); the constructor arguments win.

    Attributes
    ----------
    data_dir : Path
        Data folder (``HYPSA_DATA_DIR``; default: the platform's user data folder). Holds the
        SQLite database, uploaded recordings, analyses and the session key. Created on start.
    database_url : str
        SQLAlchemy URL (``HYPSA_DATABASE_URL``); default an SQLite file in ``data_dir``.
        PostgreSQL: ``postgresql+psycopg://user:password@host/db``.
    max_upload_mb : float
        Largest accepted file, and request body, in MiB (``HYPSA_MAX_UPLOAD_MB``, 1024).
    max_files : int
        Most files in one upload request (``HYPSA_MAX_FILES``, 50).
    anonymize : bool
        De-identify EDF/BDF files on arrival with :func:`hypsa.io.anonymize`
        (``HYPSA_ANONYMIZE``, on).
    cookie_secure : bool
        Send the session cookie only over HTTPS (``HYPSA_COOKIE_SECURE``; ``hypsa serve`` turns
        it on for any non-loopback host, and behind a trusted proxy).
    forwarded_allow_ips : str
        Comma-separated addresses (or networks, or ``*``) of reverse proxies whose
        ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed (``HYPSA_FORWARDED_ALLOW_IPS``;
        empty: none, every client is the TCP peer).
    login_max_per_account, login_max_per_address : int
        Failed logins in five minutes after which an account, or a client address, is refused
        until the window passes (``HYPSA_LOGIN_MAX_PER_ACCOUNT`` 10,
        ``HYPSA_LOGIN_MAX_PER_ADDRESS`` 30).
    secret_key : str
        Key that signs session cookies (``HYPSA_SECRET_KEY``; default: a random key kept in
        ``data_dir/secret_key``, mode 0600).
    session_max_age_s : int
        Session lifetime (``HYPSA_SESSION_HOURS``, 8 h).
    job_stale_s : float
        A running job whose heartbeat is older than this is re-queued (``HYPSA_JOB_STALE_S``,
        30 s).
    heartbeat_s : float
        Worker heartbeat period (``HYPSA_HEARTBEAT_S``, 2 s).
    report_frames : str
        What the reports show of a recording's video (``HYPSA_REPORT_FRAMES``): ``show`` the
        frames of each spasm (default), ``blur`` them with skin-coloured areas (faces) blurred,
        or ``none`` (no picture from the video in any report or event list).
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""
    max_upload_mb: float = field(default_factory=lambda: _env_float("HYPSA_MAX_UPLOAD_MB", 1024))
    max_files: int = field(default_factory=lambda: int(_env_float("HYPSA_MAX_FILES", 50)))
    anonymize: bool = field(default_factory=lambda: _env_bool("HYPSA_ANONYMIZE", True))
    cookie_secure: bool = field(default_factory=lambda: _env_bool("HYPSA_COOKIE_SECURE", False))
    forwarded_allow_ips: str = field(
        default_factory=lambda: os.environ.get("HYPSA_FORWARDED_ALLOW_IPS", "").strip())
    login_max_per_account: int = field(
        default_factory=lambda: int(_env_float("HYPSA_LOGIN_MAX_PER_ACCOUNT", 10)))
    login_max_per_address: int = field(
        default_factory=lambda: int(_env_float("HYPSA_LOGIN_MAX_PER_ADDRESS", 30)))
    secret_key: str = ""
    session_max_age_s: int = field(
        default_factory=lambda: int(_env_float("HYPSA_SESSION_HOURS", 8) * 3600))
    job_stale_s: float = field(default_factory=lambda: _env_float("HYPSA_JOB_STALE_S", 30))
    heartbeat_s: float = field(default_factory=lambda: _env_float("HYPSA_HEARTBEAT_S", 2))
    report_frames: str = field(
        default_factory=lambda: os.environ.get("HYPSA_REPORT_FRAMES", "").strip().lower()
        or "show")

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        if not self.database_url:
            self.database_url = os.environ.get("HYPSA_DATABASE_URL", "") or (
                f"sqlite:///{self.data_dir / 'hypsa.sqlite3'}")
        if self.database_url.startswith("postgresql://"):
            self.database_url = "postgresql+psycopg://" + self.database_url[len("postgresql://"):]
        if self.max_files < 1:
            raise ParameterError("HYPSA_MAX_FILES must be at least 1")
        if self.report_frames not in ("show", "blur", "none"):
            raise ParameterError("HYPSA_REPORT_FRAMES must be show, blur or none, got "
                                 f"{self.report_frames!r}")

    @property
    def max_upload_bytes(self) -> int:
        """:attr:`max_upload_mb` in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def recordings_dir(self) -> Path:
        """Where uploaded recordings are stored (server-generated names only)."""
        return self.data_dir / "recordings"

    @property
    def analyses_dir(self) -> Path:
        """Where analysis outputs and reports are written, one folder per recording."""
        return self.data_dir / "analyses"

    @property
    def videos_dir(self) -> Path:
        """Where the videos of recordings are stored (server-generated names only)."""
        return self.data_dir / "videos"

    @property
    def tmp_dir(self) -> Path:
        """Upload staging and export scratch space."""
        return self.data_dir / "tmp"

    def prepare(self) -> None:
        """Create the data folder tree and the session key (first start)."""
        for d in (self.data_dir, self.recordings_dir, self.analyses_dir, self.videos_dir,
                  self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        if not self.secret_key:
            self.secret_key = os.environ.get("HYPSA_SECRET_KEY", "")
        if not self.secret_key:
            kf = self.data_dir / "secret_key"
            if not kf.is_file():
                try:
                    fd = os.open(kf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:  # another process of this server made it
                    pass
                else:
                    with os.fdopen(fd, "w") as f:
                        f.write(secrets.token_urlsafe(48))
            self.secret_key = kf.read_text().strip()
