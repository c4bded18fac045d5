"""The ``ecard`` command: a thin layer over the public API.

    ecard demo   [--out DIR] [--alg ALG]          issue and verify a sample card (demo issuer)
    ecard issue  --key K --cert C CARD.json       print the QR text of a signed card
    ecard verify --trust PATH [TEXT]              verify texts (or stdin lines, --image, --file)
    ecard verify --trust-list F --root R ...      the same against a signed trust list
    ecard inspect TEXT                            decode without verifying (for support)
    ecard audit FILE...                           ETSI indications and Art. 13 evidence
    ecard trust build|sign|show|verify            signed trust lists
    ecard revoke --text QR --out LIST ...         signed revocation lists
    ecard pdf --key K --cert C CARD.json OUT.pdf  a printable, PAdES-signed PDF card
    ecard journal verify|sign-head|show          the hash-chained issuance journal
    ecard pki root|ca|signer|list-signer|crl      a self-managed CA for pilots

Exit status: 0 success (every input valid), 1 failure (any input invalid, or an unusable
file), 2 usage error (also: an output file exists and --force was not given), 3 the verifier
cannot run (its trust, lists, state or input files are unusable). Every command takes
``--lang zh`` for its errors and output, and its ``--help`` shows each option's default and
its exit statuses. Bad input never produces a traceback.

One module per command group (:mod:`~ecard.cli.demo`, :mod:`~ecard.cli.issue`,
:mod:`~ecard.cli.verify`, :mod:`~ecard.cli.audit`, :mod:`~ecard.cli.journal`,
:mod:`~ecard.cli.trust`, :mod:`~ecard.cli.revoke`, :mod:`~ecard.cli.pki`) parses options and
prints; the work is the library's. :mod:`ecard.cli.errors` alone maps outcomes and errors to
exit statuses and messages.
"""

from __future__ import annotations

from ecard._lazy import lazy_exports
from ecard.cli.main import build_parser, main

# the demo module (and the issuing side it imports) loads only when sample_card is used
__getattr__, __dir__ = lazy_exports(__name__, {"sample_card": "ecard.cli.demo"}, globals())

__all__ = ["build_parser", "main", "sample_card"]
