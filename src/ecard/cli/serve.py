"""``ecard serve``: the web service (:mod:`ecard.service`) on this machine.

With no configuration it runs the embedded demo (SQLite, a demo issuer marked as such on every
page, one-time codes in a local outbox) so one command shows everything; ``--config FILE``
(TOML) and ``ECARD_SERVICE_*`` environment variables configure a deployment (docs/service.md).
It listens on 127.0.0.1 unless told otherwise, prints the address of each page in Chinese and
English, and runs uvicorn with uvicorn's own access log off: the service writes its own
(``ecard.service.access``: method, route, status, time; no query, body or personal data).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
from pathlib import Path
from typing import Any

from ecard.cli.common import Subcommands, lang_option
from ecard.cli.errors import WRITE_EPILOG

#: The pages the start-up message names: (path, English, Chinese).
PAGES = (
    ("/apply", "applicant pages", "网上申领"),
    ("/clerk", "clerk console", "窗口经办"),
    ("/wallet", "wallet (phone)", "手机电子卡"),
    ("/counter", "counter (scanner)", "验码窗口"),
    ("/api/docs", "JSON API (OpenAPI)", "接口文档"),
)


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration plus the service's loggers (access log to stderr)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["ecard"] = {
        "format": "%(asctime)s %(name)s %(message)s",
        "datefmt": "%Y-%m-%dT%H:%M:%S%z",
    }
    config["handlers"]["ecard"] = {
        "class": "logging.StreamHandler",
        "formatter": "ecard",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["ecard.service"] = {
        "handlers": ["ecard"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def page_urls(host: str, port: int) -> list[str]:
    """One line per page: ``中文 / English: URL``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 (a name to show)
    shown = f"[{shown}]" if ":" in shown else shown
    return [f"  {zh} / {en}: http://{shown}:{port}{path}" for path, en, zh in PAGES]


def cmd_serve(args: argparse.Namespace) -> bool:
    """Run the service until interrupted."""
    import uvicorn

    from ecard.service.app import create_app
    from ecard.service.config import load_config
    from ecard.service.context import build_context

    config = load_config(
        args.config,
        data_dir=None if args.data_dir is None else Path(args.data_dir).resolve(),
        db_url=args.db_url,
    )
    app = create_app(build_context(config))
    mode = (
        "演示模式（演示签发机构，非真实证件） / demo mode (DEMO issuer, not real cards)"
        if config.demo
        else "生产配置 / production configuration"
    )
    print(f"ecard serve: {mode}")
    print("\n".join(page_urls(args.host, args.port)), flush=True)
    # Ctrl-C is how a server is stopped (older uvicorn re-raises it)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level="info",
            access_log=False,
            log_config=log_config(),
            proxy_headers=True,
            forwarded_allow_ips=config.forwarded_allow_ips,
            server_header=False,
        )
    return True


def add_serve(sub: Subcommands) -> None:
    """Register ``ecard serve``."""
    s = sub.add_parser(
        "serve",
        help="run the web service: apply, review, wallet, counter, JSON API",
        epilog=WRITE_EPILOG.replace("0 done", "0 stopped cleanly").replace(
            "1 an input is unusable", "1 the configuration, a key or a list is unusable"
        ),
    )
    s.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    s.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: %(default)s)"
    )
    s.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="TOML configuration of a deployment (default: $ECARD_SERVICE_CONFIG, else the "
        "demo; ECARD_SERVICE_* variables override it)",
    )
    s.add_argument(
        "--data-dir",
        default=None,
        help="folder for the store, demo keys and replay cache (default: the configuration's, "
        "else ./ecard-service)",
    )
    s.add_argument(
        "--db-url",
        default=None,
        help="SQLAlchemy URL of the store (default: the configuration's, else SQLite in "
        "--data-dir)",
    )
    lang_option(s)
    s.set_defaults(func=cmd_serve)


__all__ = ["PAGES", "add_serve", "cmd_serve", "log_config", "page_urls"]
