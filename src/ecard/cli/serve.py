"""``ecard serve``: the web service (:mod:`ecard.service`) on this machine.

With no configuration it runs the embedded demo (SQLite, a demo issuer marked as such on every
page, one-time codes in a local outbox) so one command shows everything; see docs/service.md
for a production configuration.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ecard.cli.common import Subcommands, lang_option
from ecard.cli.errors import WRITE_EPILOG


def cmd_serve(args: argparse.Namespace) -> bool:
    """Run the service until interrupted."""
    import uvicorn

    from ecard.service.app import create_app
    from ecard.service.config import ServiceConfig
    from ecard.service.context import build_context

    config = ServiceConfig(data_dir=Path(args.data_dir), db_url=args.db_url)
    app = create_app(build_context(config))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return True


def add_serve(sub: Subcommands) -> None:
    """Register ``ecard serve``."""
    s = sub.add_parser(
        "serve",
        help="run the web service: apply, review, wallet, counter, JSON API",
        epilog=WRITE_EPILOG.replace("0 done", "0 stopped cleanly"),
    )
    s.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    s.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: %(default)s)"
    )
    s.add_argument(
        "--data-dir",
        default="ecard-service",
        help="folder for the store, demo keys and replay cache (default: %(default)s)",
    )
    s.add_argument(
        "--db-url", default=None, help="SQLAlchemy URL of the store (default: SQLite in --data-dir)"
    )
    lang_option(s)
    s.set_defaults(func=cmd_serve)


__all__ = ["add_serve", "cmd_serve"]
