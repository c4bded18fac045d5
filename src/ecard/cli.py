"""The ``ecard`` command: a thin layer over the public API.

    ecard demo   [--out DIR] [--alg ALG]          issue and verify a sample card (demo issuer)
    ecard issue  --key K --cert C CARD.json       print the QR text of a signed card
    ecard verify --trust PATH [TEXT]              verify texts (or stdin lines, or --image)
    ecard verify --trust-list F --root R ...      the same against a signed trust list
    ecard inspect TEXT                            decode without verifying (for support)
    ecard audit FILE...                           ETSI indications and Art. 13 evidence
    ecard trust build|sign|show|verify            signed trust lists
    ecard revoke --text QR --out LIST ...         signed revocation lists
    ecard pdf --key K --cert C CARD.json OUT.pdf  a printable, PAdES-signed PDF card
    ecard journal verify|sign-head|show          the hash-chained issuance journal
    ecard pki root|ca|signer|list-signer|crl      a self-managed CA for pilots

Exit status: 0 success (every input valid), 1 failure (any input invalid, or an unusable
file), 2 usage error. Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TextIO

from cryptography import x509

from ecard._files import read_file
from ecard.card import Card, Holder
from ecard.crypto.algorithms import ALGORITHMS, describe_algorithm, get_algorithm
from ecard.crypto.crl import load_crl_file
from ecard.crypto.x509 import certificate_to_pem, load_certificate_file, load_certificates
from ecard.errors import BadInputError, EcardError, Lang
from ecard.formats import qrtext
from ecard.formats.cose import kid_for_certificate, parse_sign1
from ecard.formats.credential import IssuedCard
from ecard.formats.cwt import decode_claims
from ecard.formats.lists import (
    MAX_LIST_SIZE,
    REVOCATION_LIST,
    TRUST_LIST,
    decode_list,
    read_unverified_list,
)
from ecard.formats.trustlist import TrustListEntry, decode_trust_body
from ecard.journal import Journal, pseudonym_key_from_hex, verify_journal
from ecard.publish.revocation import revoke
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.issuer import Issuer
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_list_signer,
    create_root_ca,
    private_key_to_pem,
)
from ecard.signing.signers import KeySigner, Signer, load_private_key_file
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.lists import ListState
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.report import render_text
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import VerificationResult, Verifier

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
ALG_NAMES = sorted(a.name for a in ALGORITHMS.values())
DEMO_MARK = "DEMO ONLY - NOT A REAL ISSUER / 演示用，非真实签发机构"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message}\n")


def _fail(err: EcardError) -> int:
    print(f"ecard: error [{err.code.value}] {err.message()}", file=sys.stderr)
    return EXIT_FAIL


def _write(path: Path, data: bytes | str, *, private: bool = False) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = data.encode() if isinstance(data, str) else data
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except OSError as exc:
        raise BadInputError(f"cannot write {str(path)!r}: {exc.strerror}") from None


def _read_text(path: str) -> bytes:
    return read_file(path, BadInputError, max_size=MAX_LIST_SIZE)


def _signer(args: argparse.Namespace, algorithm: str | None = None) -> Signer:
    """The signer the options name: a PEM key file, or a key in a PKCS#11 token."""
    if args.pkcs11_module:
        if args.key:
            raise BadInputError("give either --key or --pkcs11-module, not both")
        if not (args.token and args.key_label and args.pin_env):
            raise BadInputError("--pkcs11-module needs --token, --key-label and --pin-env")
        pin = os.environ.get(args.pin_env)
        if pin is None:
            raise BadInputError(f"environment variable {args.pin_env} is not set")
        from ecard.signing.pkcs11 import Pkcs11Signer

        return Pkcs11Signer.open(
            args.pkcs11_module,
            token_label=args.token,
            pin=pin,
            key_label=args.key_label,
            algorithm=algorithm,
        )
    if not args.key:
        raise BadInputError("give --key FILE (or --pkcs11-module ... for a key in an HSM)")
    return KeySigner.from_file(
        args.key, password=_password(args.key_password_env), algorithm=algorithm
    )


def _password(env: str | None) -> bytes | None:
    if not env:
        return None
    value = os.environ.get(env)
    if value is None:
        raise BadInputError(f"environment variable {env} is not set")
    return value.encode()


# -- demo -------------------------------------------------------------------------------------


def _alg_label(name: str) -> str:
    alg = get_algorithm(name)
    return f"{alg.name}: {alg.key_type} with {alg.hash_name}"


def sample_card(today: date | None = None) -> Card:
    """The sample card the demo issues (a fictitious holder with a valid ID number)."""
    today = today or datetime.now(UTC).date()
    return Card(
        holder=Holder(name="张三丰", ssn="11010519491231002X"),
        card_number="A12345678",
        region="110105",
        issued=today,
        expires=date(today.year + 10, today.month, min(today.day, 28)),
    )


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else Path.cwd() / "ecard-demo"
    lang: Lang = args.lang
    print(f"ecard demo — {DEMO_MARK}")
    print(f"1. creating a demo root CA and document signer ({_alg_label(args.alg)}) ...")
    root = create_root_ca(
        "ecard DEMO Root CA", organization="ecard demo (not a real issuer)", algorithm=args.alg
    )
    signer = create_document_signer(
        root,
        "ecard DEMO Document Signer",
        organization="ecard demo (not a real issuer)",
        algorithm=args.alg,
    )
    card = sample_card()
    print(f"2. issuing a sample card for {card.holder.masked_name} ({card.holder.masked_ssn}) ...")
    issued = Issuer(signer.signer(), signer.certificate).issue(card)
    files: dict[str, bytes | str] = {
        "card.json": card.model_dump_json(indent=2) + "\n",
        "card.txt": issued.text + "\n",
        "card.png": issued.png(),
        "card.svg": issued.svg(),
        "issuer-cert.pem": signer.certificate_pem(),
        "root-cert.pem": root.certificate_pem(),
    }
    for name, data in files.items():
        _write(out / name, data)
    _write(out / "issuer-key.pem", signer.key_pem(), private=True)
    print(f"3. wrote {len(files) + 1} files to {out}:")
    for name in [*files, "issuer-key.pem"]:
        print(f"     {out / name}")
    print(
        f"   credential: {len(issued.cose)} bytes COSE, {len(issued.text)} characters of QR text, "
        f"QR version {issued.qr_version('Q')} at level Q"
    )
    print("4. verifying the QR text against the issuer certificate (offline) ...")
    verifier = Verifier(TrustStore.from_paths([out / "issuer-cert.pem"]))
    result = verifier.verify((out / "card.txt").read_text().strip())
    print(render_text(result, lang))
    if result.valid:
        print("\nTry it yourself:")
        print(f"  ecard verify --trust {out / 'issuer-cert.pem'} < {out / 'card.txt'}")
    return EXIT_OK if result.valid else EXIT_FAIL


# -- issue ------------------------------------------------------------------------------------


def cmd_issue(args: argparse.Namespace) -> int:
    try:
        card = Card.model_validate_json(_read_text(args.card))
    except ValueError as exc:
        print(f"ecard: error [BAD_INPUT] {args.card}: invalid card record:\n{exc}", file=sys.stderr)
        return EXIT_FAIL
    signer = _signer(args, algorithm=args.alg)
    certs = load_certificate_file(args.cert)
    validity = timedelta(days=args.validity_days) if args.validity_days is not None else None
    issued = Issuer(signer, certs[0], iss=args.iss, validity=validity).issue(card)
    _record_card(args, issued)  # recorded before release: if recording fails, nothing is released
    if args.png:
        _write(Path(args.png), issued.png(level=args.level))
    if args.svg:
        _write(Path(args.svg), issued.svg(level=args.level))
    print(issued.text)
    return EXIT_OK


# -- verify -----------------------------------------------------------------------------------


def _parse_now(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-01-01T08:00:00+08:00")
    return when


def _emit(result: VerificationResult, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        out.write(result.to_json(args.lang) + "\n")
    else:
        out.write(render_text(result, args.lang, reveal=args.reveal) + "\n")
    out.flush()


def _stdin_lines() -> Iterable[str]:
    stream = sys.stdin
    with contextlib.suppress(AttributeError, ValueError):  # replaced streams cannot
        stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    for line in stream:
        text = line.rstrip("\r\n")
        if text.strip():
            yield text


def _validator(args: argparse.Namespace) -> PathValidator | None:
    if not args.root:
        if args.crl or args.ca:
            raise BadInputError("--crl and --ca need --root (the trust anchor)")
        return None
    roots = [c for path in args.root for c in load_certificate_file(path)]
    cas = [c for path in (args.ca or []) for c in load_certificate_file(path)]
    crls = [crl for path in (args.crl or []) for crl in load_crl_file(path)]
    if not crls:
        print("ecard: note: no --crl given: certificate revocation is NOT checked", file=sys.stderr)
    return PathValidator(
        roots, intermediates=cas, crls=crls, revocation="require" if crls else "off"
    )


def _state(args: argparse.Namespace) -> ListState | None:
    return ListState(args.state) if args.state else None


def _policy(args: argparse.Namespace) -> Policy:
    allowed = getattr(args, "allow_alg", None)
    return Policy(algorithms=frozenset(allowed)) if allowed else Policy()


def _load_lists(
    args: argparse.Namespace, policy: Policy
) -> tuple[TrustStore | None, RevocationList | None]:
    """The trust store (``--trust-list`` or ``--trust``, if given) and revocation list the
    options name, lists authenticated under ``--root``/``--ca``/``--crl``, recorded in
    ``--state`` and signed with an algorithm ``policy`` allows."""
    validator = _validator(args)
    state = _state(args)
    trust = None
    if args.trust_list:
        assert validator is not None
        trust = TrustStore.from_trust_list(
            _read_text(args.trust_list),
            validator=validator,
            state=state,
            algorithms=policy.algorithms,
        )
    elif args.trust:
        trust = TrustStore.from_paths(args.trust, validator=validator)
    for subject, reason in trust.unusable if trust else ():
        print(f"ecard: warning: trusted signer {subject} left out: {reason}", file=sys.stderr)
    revocations = None
    if args.revocation_list:
        assert validator is not None
        revocations = RevocationList.load(
            _read_text(args.revocation_list),
            validator=validator,
            state=state,
            algorithms=policy.algorithms,
        )
    return trust, revocations


def _load_verifier(args: argparse.Namespace) -> Verifier:
    policy = _policy(args)
    trust, revocations = _load_lists(args, policy)
    assert trust is not None  # cmd_verify requires --trust or --trust-list
    return Verifier(trust, policy, revocations=revocations)


def _usage(message: str) -> int:
    print(f"ecard: usage error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_verify(args: argparse.Namespace) -> int:
    if not args.trust and not args.trust_list:
        return _usage("give --trust PATH or --trust-list FILE")
    if args.trust and args.trust_list:
        return _usage("give either --trust or --trust-list, not both")
    if (args.trust_list or args.revocation_list or args.crl or args.ca) and not args.root:
        return _usage("--trust-list, --revocation-list, --crl and --ca need --root")
    verifier = _load_verifier(args)
    now: datetime | None = args.now
    results_ok = True
    if args.image:
        if args.text is not None:
            return _usage("give either TEXT or --image, not both")
        for image in args.image:
            for result in verifier.verify_image(image, now=now):
                results_ok &= result.valid
                _emit(result, args, sys.stdout)
        return EXIT_OK if results_ok else EXIT_FAIL
    texts: Iterable[str] = [args.text] if args.text is not None else _stdin_lines()
    count = 0
    for text in texts:
        count += 1
        result = verifier.verify(text, now=now)
        results_ok &= result.valid
        _emit(result, args, sys.stdout)
    if count == 0:
        print(
            "ecard: no input (give TEXT, --image FILE, or QR texts on standard input)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return EXIT_OK if results_ok else EXIT_FAIL


# -- inspect ----------------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    from ecard.formats import cbor

    cose = qrtext.decode(args.text)
    msg = parse_sign1(cose)
    claims: Any = cbor.decode(msg.payload, max_depth=4, max_items=256)

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    info = {
        "WARNING": "UNVERIFIED: decoded without checking the signature or the issuer",
        "cose_bytes": len(cose),
        "alg": msg.alg,
        "alg_name": describe_algorithm(msg.alg),
        "kid": msg.kid.hex(),
        "signature_bytes": len(msg.signature),
        "claims": plain(claims),
    }
    print(json.dumps(info, ensure_ascii=False, indent=2))
    return EXIT_OK


# -- pdf --------------------------------------------------------------------------------------


def cmd_pdf(args: argparse.Namespace) -> int:
    try:
        from ecard.pdf import http_timestamper, local_timestamper, signed_card_pdf
    except ImportError:
        raise BadInputError("PDF cards need the optional extra: pip install 'ecard[pdf]'") from None
    try:
        card = Card.model_validate_json(_read_text(args.card))
    except ValueError as exc:
        print(f"ecard: error [BAD_INPUT] {args.card}: invalid card record:\n{exc}", file=sys.stderr)
        return EXIT_FAIL
    if args.tsa_url and (args.tsa_key or args.tsa_cert):
        raise BadInputError("give either --tsa-url or --tsa-key with --tsa-cert, not both")
    if bool(args.tsa_key) != bool(args.tsa_cert):
        raise BadInputError("--tsa-key and --tsa-cert go together")
    signer = _signer(args, algorithm=args.alg)
    certs = load_certificate_file(args.cert)
    chain = [*certs[1:], *(c for path in (args.chain or []) for c in load_certificate_file(path))]
    issued = Issuer(signer, certs[0], iss=args.iss).issue(card)
    timestamper = None
    if args.tsa_url:
        timestamper = http_timestamper(args.tsa_url)
    elif args.tsa_key:
        tsa_certs = load_certificate_file(args.tsa_cert)
        tsa = CertifiedKey(load_private_key_file(args.tsa_key), tsa_certs[0], tuple(tsa_certs[1:]))
        timestamper = local_timestamper(tsa)
    pdf = signed_card_pdf(
        issued,
        signer=signer,
        certificate=certs[0],
        chain=chain,
        level=args.level,
        timestamper=timestamper,
        validation_crls=[crl for path in (args.crl or []) for crl in load_crl_file(path)],
        trust_roots=[c for path in (args.root or []) for c in load_certificate_file(path)],
        page=args.page,
        reveal=args.reveal,
        issuer_name=args.issuer_name,
    )
    _record_card(args, issued)
    _write(Path(args.out), pdf)
    print(issued.text)
    return EXIT_OK


# -- audit ------------------------------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    from ecard.audit import audit

    if args.trust and args.trust_list:
        return _usage("give either --trust or --trust-list, not both")
    if (args.trust_list or args.revocation_list or args.crl or args.ca) and not args.root:
        return _usage("--trust-list, --revocation-list, --crl and --ca need --root")
    trust, revocations = _load_lists(args, Policy())
    roots = [c for path in (args.root or []) for c in load_certificate_file(path)]
    crls = [crl for path in (args.crl or []) for crl in load_crl_file(path)]
    report = audit(
        args.files, trust=trust, roots=roots, crls=crls, revocations=revocations, now=args.now
    )
    print(report.to_json() if args.json else report.render(args.lang))
    return EXIT_OK if report.all_passed else EXIT_FAIL


# -- journal ----------------------------------------------------------------------------------


def _record_card(args: argparse.Namespace, issued: IssuedCard) -> None:
    """Record an issued card in the journal, if one is named, before it is released."""
    if not args.journal:
        return
    key_env = args.pseudonym_key_env
    if not key_env or key_env not in os.environ:
        raise BadInputError("--journal needs --pseudonym-key-env VAR (a hex key in VAR)")
    with Journal.open(
        args.journal, pseudonym_key=pseudonym_key_from_hex(os.environ[key_env])
    ) as journal:
        journal.append_card(issued, operator=_operator(args))


def _operator(args: argparse.Namespace) -> str:
    if not args.operator:
        raise BadInputError("--journal needs --operator ID (who issued)")
    return str(args.operator)


def _journal_list(args: argparse.Namespace, data: bytes) -> None:
    if args.journal:
        with Journal.open(args.journal) as journal:
            journal.append_list(data, operator=_operator(args))


def _journal_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--journal", metavar="DB", help="issuance journal to record in (SQLite)")
    p.add_argument("--operator", metavar="ID", help="operator id recorded in the journal")


def cmd_journal_verify(args: argparse.Namespace) -> int:
    if not Path(args.db).is_file():
        raise BadInputError(f"no journal at {args.db!r}")
    certs = [c for path in (args.key_cert or []) for c in load_certificate_file(path)]
    heads = [read_file(path, BadInputError, max_size=8192) for path in (args.head or [])]
    report = verify_journal(args.db, head_certificates=certs, heads=heads)
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else report.render())
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_journal_sign_head(args: argparse.Namespace) -> int:
    if not Path(args.db).is_file():
        raise BadInputError(f"no journal at {args.db!r}")
    signer = _signer(args)
    cert = load_certificate_file(args.cert)[0]
    with Journal.open(args.db) as journal:
        head = journal.sign_head(signer, cert)
    if args.out:
        _write(Path(args.out) / f"head-{head.seq:012d}-{head.kid.hex()}.cose", head.cose)
    print(f"signed journal head at record {head.seq}")
    return EXIT_OK


def cmd_journal_show(args: argparse.Namespace) -> int:
    if not Path(args.db).is_file():
        raise BadInputError(f"no journal at {args.db!r}")
    key = None
    if args.holder:
        env = args.pseudonym_key_env
        if not env or env not in os.environ:
            raise BadInputError("--holder needs --pseudonym-key-env VAR (the hex key in VAR)")
        key = pseudonym_key_from_hex(os.environ[env])
    with Journal.open(args.db, pseudonym_key=key) as journal:
        records = (
            journal.records_for(args.holder)
            if args.holder
            else journal.records(credential_id=args.credential)
        )
    for record in records:
        print(json.dumps(record.to_dict(), ensure_ascii=False))
    return EXIT_OK


# -- trust lists ------------------------------------------------------------------------------


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _pem(cert: x509.Certificate) -> str:
    return certificate_to_pem(cert).decode()


def _manifest_entry(entry: TrustListEntry) -> dict[str, Any]:
    return {
        "subject": entry.certificate.subject.rfc4514_string(),
        "kid": kid_for_certificate(entry.certificate).hex(),
        "certificate": _pem(entry.certificate),
        "chain": [_pem(c) for c in entry.chain],
        "regions": None if entry.regions is None else sorted(entry.regions),
        "spec_versions": None if entry.spec_versions is None else sorted(entry.spec_versions),
        "retired_at": _iso_or_none(entry.retired_at),
        "compromised_at": _iso_or_none(entry.compromised_at),
    }


def _entry_from_manifest(item: dict[str, Any]) -> TrustListEntry:
    def when(key: str) -> datetime | None:
        value = item.get(key)
        return None if value is None else _parse_now(str(value))

    try:
        regions, specs = item.get("regions"), item.get("spec_versions")
        return TrustListEntry(
            certificate=load_certificates(str(item["certificate"]).encode())[0],
            chain=tuple(
                c for pem in item.get("chain", []) for c in load_certificates(pem.encode())
            ),
            regions=None if regions is None else frozenset(regions),
            spec_versions=None if specs is None else frozenset(specs),
            retired_at=when("retired_at"),
            compromised_at=when("compromised_at"),
        )
    except (KeyError, TypeError, AttributeError, argparse.ArgumentTypeError) as exc:
        raise BadInputError(f"manifest entry is malformed: {exc}") from None


def cmd_trust_build(args: argparse.Namespace) -> int:
    chain = tuple(c for path in (args.chain or []) for c in load_certificate_file(path))
    entries = [
        TrustListEntry(
            certificate=cert,
            chain=chain,
            regions=frozenset(args.region) if args.region else None,
            spec_versions=frozenset(args.spec_version) if args.spec_version else None,
        )
        for path in args.certs
        for cert in load_certificate_file(path)
    ]
    manifest = {
        "sequence": args.sequence,
        "next_update_days": args.next_update_days,
        "signers": [_manifest_entry(e) for e in entries],
    }
    _write(Path(args.out), json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(
        f"wrote {args.out}: {len(entries)} signer(s), sequence {args.sequence}; edit scope, "
        "retired_at and compromised_at there, then `ecard trust sign`"
    )
    return EXIT_OK


def cmd_trust_sign(args: argparse.Namespace) -> int:
    try:
        manifest = json.loads(_read_text(args.manifest))
        sequence = int(manifest["sequence"])
        days = int(manifest.get("next_update_days", 7))
        items = list(manifest["signers"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"{args.manifest}: not a trust-list manifest ({exc})") from None
    entries = [_entry_from_manifest(item) for item in items]
    signer = _signer(args)
    certs = load_certificate_file(args.cert)
    chain = [c for path in (args.chain or []) for c in load_certificate_file(path)]
    now = datetime.now(UTC).replace(microsecond=0)
    data = sign_trust_list(
        entries,
        sequence=sequence,
        issued_at=now,
        next_update=now + timedelta(days=days),
        signer=signer,
        certificate=certs[0],
        chain=[*certs[1:], *chain],
    )
    _write(Path(args.out), data)
    print(
        f"wrote {args.out}: trust list sequence {sequence}, {len(entries)} signer(s), "
        f"{len(data)} bytes, next update {(now + timedelta(days=days)).isoformat()}"
    )
    return EXIT_OK


def _show_list(data: bytes) -> dict[str, Any]:
    _, info, body = read_unverified_list(data)
    out: dict[str, Any] = {
        "WARNING": "UNVERIFIED: use `ecard trust verify --root ...` to authenticate",
        "type": info.type,
        "sequence": info.sequence,
        "issued_at": datetime.fromtimestamp(info.issued_at, UTC).isoformat(),
        "next_update": datetime.fromtimestamp(info.next_update, UTC).isoformat(),
    }
    if info.type == TRUST_LIST:
        out["signers"] = [_manifest_entry(e) for e in decode_trust_body(body)]
        for signer in out["signers"]:
            signer.pop("certificate")
            signer.pop("chain")
    return out


def cmd_trust_show(args: argparse.Namespace) -> int:
    data = _read_text(args.file)
    if data.lstrip().startswith(b"{"):
        print(data.decode("utf-8", errors="replace"))
        return EXIT_OK
    print(json.dumps(_show_list(data), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_trust_verify(args: argparse.Namespace) -> int:
    validator = _validator(args)
    if validator is None:
        raise BadInputError("--root is required")
    store = TrustStore.from_trust_list(
        _read_text(args.file), validator=validator, state=_state(args)
    )
    signed = store.trust_list
    assert signed is not None
    print(
        f"trust list OK: sequence {signed.info.sequence}, signed by "
        f"{signed.signer.subject.rfc4514_string()}, next update {signed.next_update.isoformat()}"
    )
    unfit = 0
    for issuer in store:
        status = "usable" if issuer.unfit is None else f"UNFIT: {issuer.unfit}"
        unfit += issuer.unfit is not None
        print(f"  {issuer.kid.hex()}  {issuer.subject}  {status}")
    if unfit:
        print(f"ecard: {unfit} signer(s) in the list cannot be used", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


# -- revocation -------------------------------------------------------------------------------


def _revocation_entries(texts: list[str], pairs: list[str]) -> list[tuple[bytes, bytes]]:
    entries: list[tuple[bytes, bytes]] = []
    for text in texts:
        msg = parse_sign1(qrtext.decode(text.strip()))
        entries.append((msg.kid, decode_claims(msg.payload).cti))
    for pair in pairs:
        kid, sep, cti = pair.partition(":")
        try:
            if not sep:
                raise ValueError
            entries.append((bytes.fromhex(kid), bytes.fromhex(cti)))
        except ValueError:
            raise BadInputError(f"--entry takes KID:CTI in hex, not {pair!r}") from None
    return entries


def cmd_revoke(args: argparse.Namespace) -> int:
    added = _revocation_entries(args.text or [], args.entry or [])
    removed = _revocation_entries(args.unrevoke_text or [], args.unrevoke_entry or [])
    if not added and not removed and args.list:
        print(
            "ecard: nothing to revoke: the list is re-signed with the next sequence number",
            file=sys.stderr,
        )
    signer = _signer(args)
    certs = load_certificate_file(args.cert)
    chain = [*certs[1:], *(c for path in (args.chain or []) for c in load_certificate_file(path))]
    now = datetime.now(UTC).replace(microsecond=0)
    existing = _read_text(args.list) if args.list else None
    data = revoke(
        existing,
        added,
        unrevoke=removed,
        signer=signer,
        certificate=certs[0],
        chain=chain,
        issued_at=now,
        next_update=now + timedelta(days=args.next_update_days),
    )
    _journal_list(args, data)
    _write(Path(args.out), data)
    info, _ = decode_list(parse_sign1(data, max_size=MAX_LIST_SIZE).payload, REVOCATION_LIST)
    print(
        f"wrote {args.out}: revocation list sequence {info.sequence} "
        f"(+{len(added)} revoked, -{len(removed)} restored), {len(data)} bytes"
    )
    return EXIT_OK


# -- pki --------------------------------------------------------------------------------------


def _load_ca(cert_path: str, key_path: str, password_env: str | None) -> CertifiedKey:
    certs = load_certificate_file(cert_path)
    key = load_private_key_file(key_path, password=_password(password_env))
    return CertifiedKey(key=key, certificate=certs[0], chain=tuple(certs[1:]))


def cmd_pki_crl(args: argparse.Namespace) -> int:
    ca = _load_ca(args.ca_cert, args.ca_key, args.ca_key_password_env)
    when = args.revoked_at or datetime.now(UTC)
    revoked = [(cert, when) for path in (args.revoke or []) for cert in load_certificate_file(path)]
    crl = create_crl(ca, revoked, days=args.next_update_days, number=args.number)
    _write(Path(args.out), crl_to_pem(crl))
    print(
        f"wrote {args.out}: CRL number {args.number} of {ca.certificate.subject.rfc4514_string()}"
        f", {len(revoked)} revoked, next update {crl.next_update_utc}"
    )
    return EXIT_OK


def cmd_pki(args: argparse.Namespace) -> int:
    out = Path(args.out)
    password = _password(args.key_password_env)
    if args.pki_cmd == "root":
        made = create_root_ca(args.cn, organization=args.org, algorithm=args.alg, days=args.days)
    else:
        ca = _load_ca(args.ca_cert, args.ca_key, args.ca_key_password_env)
        makers: dict[str, Callable[..., CertifiedKey]] = {
            "ca": create_issuing_ca,
            "signer": create_document_signer,
            "list-signer": create_list_signer,
        }
        maker = makers[args.pki_cmd]
        made = maker(ca, args.cn, organization=args.org, algorithm=args.alg, days=args.days)
    stem = args.name or args.pki_cmd
    chain = b"".join(certificate_to_pem(c) for c in (made.certificate, *made.chain))
    _write(out / f"{stem}-cert.pem", certificate_to_pem(made.certificate))
    _write(out / f"{stem}-chain.pem", chain)
    _write(out / f"{stem}-key.pem", private_key_to_pem(made.key, password), private=True)
    print(f"wrote {out / (stem + '-cert.pem')}, {stem}-chain.pem and {stem}-key.pem")
    print(f"subject: {made.certificate.subject.rfc4514_string()}")
    print(
        f"valid:   {made.certificate.not_valid_before_utc} .. {made.certificate.not_valid_after_utc}"
    )
    if args.pki_cmd in ("signer", "list-signer"):
        print(f"kid:     {made.kid.hex()}")
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------------


def _hsm_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("key in an HSM or smart card (PKCS#11, extra 'hsm')")
    g.add_argument("--pkcs11-module", metavar="LIB", help="PKCS#11 library (.so)")
    g.add_argument("--token", metavar="LABEL", help="token label")
    g.add_argument("--key-label", metavar="LABEL", help="label of the private key")
    g.add_argument("--pin-env", metavar="VAR", help="env variable holding the user PIN")


def _list_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        action="append",
        metavar="CERT",
        help="trust anchor (root CA certificate) for certificate paths and lists",
    )
    p.add_argument(
        "--ca",
        action="append",
        metavar="CERT",
        help="issuing CA certificates that paths may go through (repeatable)",
    )
    p.add_argument(
        "--crl",
        action="append",
        metavar="FILE",
        help="CRL of a CA in the paths (PEM or DER; repeatable); with CRLs, every CA "
        "in a path must have one",
    )
    p.add_argument(
        "--state",
        metavar="FILE",
        help="file recording accepted list sequence numbers (refuses rollback)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ecard`` command."""
    p = _Parser(prog="ecard", description="Issue and verify electronic social security cards.")
    p.add_argument("--version", action="version", version=f"ecard {_version()}")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    d = sub.add_parser("demo", help="issue a sample card with a demo issuer and verify it")
    d.add_argument("--out", help="folder for the files (default: ./ecard-demo)")
    d.add_argument("--alg", default="ES256", choices=ALG_NAMES, help="signature algorithm")
    d.add_argument("--lang", default="en", choices=["en", "zh"])
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("issue", help="sign a card record and print its QR text")
    i.add_argument("card", metavar="CARD.json", help="card record (as written by `ecard demo`)")
    i.add_argument("--key", help="document signer private key (PEM), or use --pkcs11-module")
    _hsm_options(i)
    _journal_options(i)
    i.add_argument("--pseudonym-key-env", metavar="VAR", help="hex holder-pseudonym key (journal)")
    i.add_argument(
        "--key-password-env", metavar="VAR", help="env variable holding the key password"
    )
    i.add_argument("--cert", required=True, help="document signer certificate (PEM or DER)")
    i.add_argument("--alg", choices=ALG_NAMES, help="algorithm (default: the key's natural one)")
    i.add_argument("--iss", default="CN", help="issuer claim (default: CN)")
    i.add_argument("--validity-days", type=int, help="credential lifetime cap in days")
    i.add_argument("--png", metavar="FILE", help="also write the QR code as PNG")
    i.add_argument("--svg", metavar="FILE", help="also write the QR code as SVG")
    i.add_argument("--level", default="Q", choices=["L", "M", "Q", "H"], help="QR error correction")
    i.set_defaults(func=cmd_issue)

    v = sub.add_parser(
        "verify",
        help="verify QR texts offline",
        description="Verify QR texts. Without TEXT or --image, reads standard input one QR text "
        "per line (a USB scanner types the code and Enter) and answers each line at once.",
    )
    v.add_argument("text", nargs="?", metavar="TEXT", help="one QR text (quote it)")
    v.add_argument(
        "--trust",
        action="append",
        metavar="PATH",
        help="trusted issuer certificate file or folder (repeatable)",
    )
    v.add_argument("--trust-list", metavar="FILE", help="signed trust list (needs --root)")
    v.add_argument("--revocation-list", metavar="FILE", help="signed revocation list")
    _list_options(v)
    v.add_argument("--image", action="append", metavar="FILE", help="read QR codes from a picture")
    v.add_argument("--json", action="store_true", help="one JSON object per input")
    v.add_argument("--lang", default="en", choices=["en", "zh"], help="message language")
    v.add_argument("--now", type=_parse_now, metavar="ISO8601", help="verify as of this time")
    v.add_argument("--reveal", action="store_true", help="show the full ID number")
    v.add_argument(
        "--allow-alg",
        action="append",
        choices=ALG_NAMES,
        metavar="ALG",
        help="accept only these signature algorithms, for cards and lists (repeatable; "
        f"default: all of {', '.join(ALG_NAMES)})",
    )
    v.set_defaults(func=cmd_verify)

    a = sub.add_parser(
        "audit",
        help="audit signatures (QR texts and pictures, PDFs, lists): ETSI indications, Art. 13",
    )
    a.add_argument("files", nargs="+", metavar="FILE")
    a.add_argument("--trust", action="append", metavar="PATH", help="trusted issuer certificates")
    a.add_argument("--trust-list", metavar="FILE", help="signed trust list (needs --root)")
    a.add_argument("--revocation-list", metavar="FILE", help="signed revocation list")
    _list_options(a)
    a.add_argument("--json", action="store_true", help="machine-readable report")
    a.add_argument("--lang", default="en", choices=["en", "zh"])
    a.add_argument("--now", type=_parse_now, metavar="ISO8601", help="validate as of this time")
    a.set_defaults(func=cmd_audit)

    n = sub.add_parser("inspect", help="decode a QR text WITHOUT verifying it")
    n.add_argument("text", metavar="TEXT")
    n.set_defaults(func=cmd_inspect)

    t = sub.add_parser("trust", help="build, sign, show and verify signed trust lists")
    tsub = t.add_subparsers(dest="trust_cmd", required=True, parser_class=_Parser)
    tb = tsub.add_parser("build", help="write an editable trust-list manifest (JSON)")
    tb.add_argument("certs", nargs="+", metavar="CERT", help="document signer certificates")
    tb.add_argument("--out", required=True, help="manifest file to write")
    tb.add_argument("--chain", action="append", metavar="CERT", help="CA certificates above them")
    tb.add_argument("--region", action="append", metavar="CODE", help="scope: region code")
    tb.add_argument("--spec-version", action="append", metavar="V", help="scope: card spec")
    tb.add_argument("--sequence", type=int, default=1)
    tb.add_argument("--next-update-days", type=int, default=7)
    tb.set_defaults(func=cmd_trust_build)
    ts = tsub.add_parser("sign", help="sign a manifest into a trust list")
    ts.add_argument("manifest", metavar="MANIFEST.json")
    ts.add_argument("--key", help="list signer private key (PEM), or use --pkcs11-module")
    _hsm_options(ts)
    _journal_options(ts)
    ts.add_argument("--key-password-env", metavar="VAR")
    ts.add_argument("--cert", required=True, help="list signer certificate")
    ts.add_argument("--chain", action="append", metavar="CERT", help="CA certificates above it")
    ts.add_argument("--out", required=True, help="signed trust list to write")
    ts.set_defaults(func=cmd_trust_sign)
    tw = tsub.add_parser("show", help="print a manifest or a signed list (signed: UNVERIFIED)")
    tw.add_argument("file", metavar="FILE")
    tw.set_defaults(func=cmd_trust_show)
    tv = tsub.add_parser("verify", help="authenticate a signed trust list")
    tv.add_argument("file", metavar="FILE")
    _list_options(tv)
    tv.set_defaults(func=cmd_trust_verify)

    j = sub.add_parser("journal", help="the hash-chained issuance journal")
    jsub = j.add_subparsers(dest="journal_cmd", required=True, parser_class=_Parser)
    jv = jsub.add_parser("verify", help="check the chain and signed heads (auditors)")
    jv.add_argument("db", metavar="DB")
    jv.add_argument("--key-cert", action="append", metavar="CERT", help="head-signing certificate")
    jv.add_argument("--head", action="append", metavar="FILE", help="signed head kept elsewhere")
    jv.add_argument("--json", action="store_true")
    jv.set_defaults(func=cmd_journal_verify)
    jh = jsub.add_parser("sign-head", help="sign the journal's current head")
    jh.add_argument("db", metavar="DB")
    jh.add_argument("--key", help="head-signing private key (PEM), or use --pkcs11-module")
    jh.add_argument("--key-password-env", metavar="VAR")
    _hsm_options(jh)
    jh.add_argument("--cert", required=True, help="head-signing certificate")
    jh.add_argument("--out", metavar="DIR", help="also write the signed head there")
    jh.set_defaults(func=cmd_journal_sign_head)
    js = jsub.add_parser("show", help="print records (by holder or credential id)")
    js.add_argument("db", metavar="DB")
    js.add_argument("--holder", metavar="ID", help="citizen ID (needs --pseudonym-key-env)")
    js.add_argument("--pseudonym-key-env", metavar="VAR")
    js.add_argument("--credential", metavar="CTI_HEX")
    js.set_defaults(func=cmd_journal_show)

    f = sub.add_parser("pdf", help="issue a card and write it as a printable PAdES-signed PDF")
    f.add_argument("card", metavar="CARD.json", help="card record (as written by `ecard demo`)")
    f.add_argument("out", metavar="OUT.pdf", help="the signed PDF to write")
    f.add_argument("--key", help="document signer private key (PEM), or use --pkcs11-module")
    _hsm_options(f)
    f.add_argument("--key-password-env", metavar="VAR", help="env variable holding the password")
    f.add_argument("--cert", required=True, help="document signer certificate (PEM or DER)")
    f.add_argument("--chain", action="append", metavar="CERT", help="CA certificates above it")
    f.add_argument("--alg", choices=ALG_NAMES, help="algorithm (default: the key's natural one)")
    f.add_argument("--iss", default="CN", help="issuer claim (default: CN)")
    f.add_argument(
        "--level",
        default="B-B",
        choices=["B-B", "B-T", "B-LT", "B-LTA"],
        help="PAdES level (B-T and up need a TSA; B-LT and up --crl)",
    )
    f.add_argument("--tsa-url", metavar="URL", help="RFC 3161 time-stamp authority")
    f.add_argument("--tsa-key", metavar="KEY", help="in-process TSA key (PEM, RSA; demos/tests)")
    f.add_argument("--tsa-cert", metavar="CERT", help="in-process TSA certificate (+ chain)")
    f.add_argument("--crl", action="append", metavar="FILE", help="CRL to embed (B-LT, B-LTA)")
    f.add_argument("--root", action="append", metavar="CERT", help="extra trust anchor (TSA root)")
    f.add_argument("--page", default="both", choices=["card", "a4", "both"], help="pages")
    f.add_argument("--reveal", action="store_true", help="print name and numbers unmasked")
    f.add_argument("--issuer-name", metavar="NAME", help="issuing authority as printed")
    _journal_options(f)
    f.add_argument("--pseudonym-key-env", metavar="VAR", help="hex holder-pseudonym key (journal)")
    f.set_defaults(func=cmd_pdf)

    r = sub.add_parser("revoke", help="add credentials to a signed revocation list")
    r.add_argument("--list", metavar="FILE", help="the current revocation list (omit to start)")
    r.add_argument("--out", required=True, help="the new revocation list to write")
    r.add_argument("--text", action="append", metavar="QR", help="revoke this credential")
    r.add_argument("--entry", action="append", metavar="KID:CTI", help="revoke by ids (hex)")
    r.add_argument("--unrevoke-text", action="append", metavar="QR", help="take one off")
    r.add_argument("--unrevoke-entry", action="append", metavar="KID:CTI")
    r.add_argument("--key", help="list signer private key (PEM), or use --pkcs11-module")
    _hsm_options(r)
    _journal_options(r)
    r.add_argument("--key-password-env", metavar="VAR")
    r.add_argument("--cert", required=True, help="list signer certificate")
    r.add_argument("--chain", action="append", metavar="CERT", help="CA certificates above it")
    r.add_argument("--next-update-days", type=int, default=1)
    r.set_defaults(func=cmd_revoke)

    k = sub.add_parser("pki", help="self-managed CA for pilots: root, issuing CA, signer")
    ksub = k.add_subparsers(dest="pki_cmd", required=True, parser_class=_Parser)
    for name, helptext in (
        ("root", "create a self-signed root CA"),
        ("ca", "create an issuing CA under a root"),
        ("signer", "create a document signer (signs cards) under a CA"),
        ("list-signer", "create a trust-list / revocation-list signer under a CA"),
    ):
        s = ksub.add_parser(name, help=helptext)
        s.add_argument("--out", required=True, help="output folder")
        s.add_argument("--cn", required=True, help="common name of the subject")
        s.add_argument("--org", help="organization name")
        s.add_argument("--name", help=f"file name stem (default: {name})")
        s.add_argument("--alg", default="ES256", choices=ALG_NAMES)
        s.add_argument("--days", type=int, default={"root": 7300, "ca": 3650}.get(name, 730))
        s.add_argument("--key-password-env", metavar="VAR", help="encrypt the new key")
        if name != "root":
            s.add_argument("--ca-cert", required=True, help="issuing certificate (PEM)")
            s.add_argument("--ca-key", required=True, help="issuing private key (PEM)")
            s.add_argument("--ca-key-password-env", metavar="VAR")
        s.set_defaults(func=cmd_pki)
    c = ksub.add_parser("crl", help="issue a CRL for a CA (what `--crl` reads)")
    c.add_argument("--out", required=True, help="CRL file to write (PEM)")
    c.add_argument("--ca-cert", required=True)
    c.add_argument("--ca-key", required=True)
    c.add_argument("--ca-key-password-env", metavar="VAR")
    c.add_argument("--revoke", action="append", metavar="CERT", help="certificate to list")
    c.add_argument("--revoked-at", type=_parse_now, metavar="ISO8601", help="default: now")
    c.add_argument("--number", type=int, default=1, help="CRL number (increase it each time)")
    c.add_argument("--next-update-days", type=int, default=7)
    c.set_defaults(func=cmd_pki_crl)
    return p


def _version() -> str:
    from ecard import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecard`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "alg", None):
        args.alg = get_algorithm(args.alg).name
    try:
        return int(args.func(args))
    except EcardError as err:
        return _fail(err)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `ecard verify ... | head`
        return EXIT_OK


__all__ = ["build_parser", "main", "sample_card"]

if __name__ == "__main__":
    sys.exit(main())
