"""Service settings: embedded defaults for a one-command demo, a TOML file or ``ECARD_*``
environment variables for a real deployment.

With no configuration the service runs in **demo mode**: a SQLite store and a demo issuer
(clearly marked as such on every page) created in the data folder, one-time codes written to
a local outbox. A production configuration names the database URL, the issuer key (file or
PKCS#11), the trust and revocation lists and the SMS gateway; see docs/service.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

#: Where the demo keeps its store, keys and replay cache unless told otherwise.
DEFAULT_DATA_DIR: Final = Path("ecard-service")


@dataclass(frozen=True)
class ServiceConfig:
    """What one running service is configured with."""

    #: Folder for the SQLite store, the demo PKI, the replay cache and the outbox.
    data_dir: Path = DEFAULT_DATA_DIR
    #: SQLAlchemy URL of the workflow store; ``None``: SQLite in :attr:`data_dir`.
    db_url: str | None = None
    #: Demo mode: a demo issuer and list signer made (once) in :attr:`data_dir`.
    demo: bool = True
    #: Language of pages when the browser does not choose (``zh`` or ``en``).
    default_lang: str = "zh"
    #: Largest request body accepted, except photo uploads.
    max_body: int = 64 * 1024
    #: Extra settings a deployment sets (documented in docs/service.md).
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        """The store URL in use."""
        return self.db_url or f"sqlite:///{self.data_dir / 'workflow.db'}"


__all__ = ["DEFAULT_DATA_DIR", "ServiceConfig"]
