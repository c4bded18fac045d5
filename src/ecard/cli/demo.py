"""``ecard demo``: issue a sample card with a throw-away demo issuer, write it, verify it.

It also writes what an audit of the demo card needs (the demo root's certificate and CRL; the
root key itself is thrown away) and prints commands that run as printed: the ``ecard`` that is
running (``.venv/bin/ecard`` after the quick start), in the language of ``--lang``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from ecard._files import write_atomic
from ecard.card import Card, Holder
from ecard.cli.common import ALG_NAMES, Subcommands, lang_option
from ecard.cli.errors import WRITE_EPILOG
from ecard.crypto.algorithms import get_algorithm
from ecard.errors import Lang
from ecard.formats.cose import assemble_sign1
from ecard.formats.presentation import decode_text, encode_text, parse_presentation
from ecard.formats.qrimage import qr_version
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.signing.binding import check_enrolment, new_nonce
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey, create_document_signer, create_root_ca
from ecard.verify.policy import MINIMUM_SCOPE, Policy
from ecard.verify.report import render_text
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

DEMO_MARK = "DEMO ONLY - NOT A REAL ISSUER / 演示用，非真实签发机构"

#: How long the demo root's CRL is valid, in days.
CRL_DAYS = 365

_STEPS: dict[str, dict[Lang, str]] = {
    "create": {
        "en": "1. creating a demo root CA and document signer ({alg}) ...",
        "zh": "1. 正在创建演示根 CA 与文档签名者（{alg}）……",
    },
    "issue": {
        "en": "2. issuing a sample card for {name} ({ssn}) ...",
        "zh": "2. 正在为 {name}（{ssn}）签发示例卡……",
    },
    "wrote": {"en": "3. wrote {n} files to {out}:", "zh": "3. 已写入 {n} 个文件到 {out}："},
    "size": {
        "en": "   credential: {cose} bytes COSE, {chars} characters of QR text, "
        "QR version {version} at level Q",
        "zh": "   凭证：COSE {cose} 字节，二维码文本 {chars} 个字符，Q 级纠错下二维码版本 {version}",
    },
    "verify": {
        "en": "4. verifying the QR text against the issuer certificate (offline) ...",
        "zh": "4. 正在用签发者证书离线核验二维码文本……",
    },
    "bind": {
        "en": "5. binding a card to a phone's device key (proof of possession checked) and "
        "showing live EC2: codes (QR version {version} at level M):",
        "zh": "5. 将卡片绑定到手机设备密钥（已核验持有证明），并出示实时 EC2: 二维码"
        "（M 级纠错下二维码版本 {version}）：",
    },
    "step": {"en": "   {what:<44} -> {code}", "zh": "   {what:<30} -> {code}"},
    "try": {"en": "Try it yourself:", "zh": "自己试一试："},
    "audit": {
        "en": "Audit a signed PDF of the demo card (root CRL included, so revocation is checked):",
        "zh": "审计演示卡的签名 PDF（含根 CA 的 CRL，会检查吊销状态）：",
    },
}


def _say(step: str, lang: Lang, **values: object) -> None:
    print(_STEPS[step][lang].format(**values))


def ecard_command() -> str:
    """How to run the ``ecard`` that is running now, as a shell command: ``ecard`` if that is
    what is on ``PATH``, else the script's path (``.venv/bin/ecard`` after the quick start), else
    ``python -m ecard`` with this interpreter."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name in ("ecard", "ecard.exe") and script.exists():
        found = shutil.which("ecard")
        if found is not None and Path(found).resolve() == script.resolve():
            return "ecard"
        try:
            return shlex.quote(os.path.relpath(script))
        except ValueError:  # another drive (Windows)
            return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m ecard"


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


def cmd_demo(args: argparse.Namespace) -> bool:
    """Issue and verify the sample card; whether it verified."""
    out = Path(args.out) if args.out else Path.cwd() / "ecard-demo"
    lang: Lang = args.lang
    print(f"ecard demo — {DEMO_MARK}")
    _say("create", lang, alg=_alg_label(args.alg))
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
    _say("issue", lang, name=card.holder.masked_name, ssn=card.holder.masked_ssn)
    issued = Issuer(signer.signer(), signer.certificate).issue(card)
    files: dict[str, bytes | str] = {
        "card.json": card.model_dump_json(indent=2) + "\n",
        "card.txt": issued.text + "\n",
        "card.png": issued.png(),
        "card.svg": issued.svg(),
        "issuer-cert.pem": signer.certificate_pem(),
        "root-cert.pem": root.certificate_pem(),
        "root.crl": crl_to_pem(create_crl(root, days=CRL_DAYS)),
    }
    for name, data in files.items():
        write_atomic(out / name, data)
    write_atomic(out / "issuer-key.pem", signer.key_pem(), private=True)
    _say("wrote", lang, n=len(files) + 1, out=out)
    for name in [*files, "issuer-key.pem"]:
        print(f"     {out / name}")
    _say(
        "size",
        lang,
        cose=len(issued.cose),
        chars=len(issued.text),
        version=issued.qr_version("Q"),
    )
    _say("verify", lang)
    verifier = Verifier(TrustStore.from_paths([out / "issuer-cert.pem"]))
    result = verifier.verify((out / "card.txt").read_text().strip())
    print(render_text(result, lang))
    _holder_story(issued.card, signer, lang)
    if result.valid:
        ecard = ecard_command()

        def q(name: str) -> str:
            return shlex.quote(str(out / name))

        print()
        _say("try", lang)
        print(f"  {ecard} verify --trust {q('issuer-cert.pem')} < {q('card.txt')}")
        _say("audit", lang)
        print(
            f"  {ecard} pdf --key {q('issuer-key.pem')} --cert {q('issuer-cert.pem')} "
            f"{q('card.json')} {q('card.pdf')}"
        )
        print(
            f"  {ecard} audit --trust {q('issuer-cert.pem')} --root {q('root-cert.pem')} "
            f"--crl {q('root.crl')} {q('card.pdf')}"
        )
    return result.valid


_STORY: dict[str, dict[Lang, str]] = {
    "plain": {"en": "the bound card shown as EC1:", "zh": "绑定卡以 EC1: 出示"},
    "live": {"en": "a live code for the pharmacy", "zh": "药店用途的实时码"},
    "replay": {"en": "the same live code again (a screenshot)", "zh": "同一实时码再次出示（截图）"},
    "stale": {"en": "a live code signed 2 minutes ago", "zh": "两分钟前签名的实时码"},
    "phone": {"en": "a live code from another phone", "zh": "另一部手机生成的实时码"},
    "full": {
        "en": "the full card at a minimum-scope pharmacy",
        "zh": "完整卡片出示给最小范围药店",
    },
    "counter": {
        "en": "the pharmacy profile at that pharmacy",
        "zh": "药店版卡片出示给该药店",
    },
}


def _holder_story(card: Card, signer: CertifiedKey, lang: Lang) -> None:
    """Bind the card to a device key and show what a counter makes of each live code."""
    device = SoftwareDeviceKey.generate("ES256")
    nonce = new_nonce()
    key = check_enrolment(enrolment_request(device, nonce), nonce)
    now = datetime.now(UTC)
    bound = Issuer(signer.signer(), signer.certificate).issue(card, device_key=key, iat=now)
    presenter = Presenter(bound.text, device, HolderClock.synced(now))
    live = presenter.present("pharmacy")
    _say("bind", lang, version=qr_version(live, "M"))
    verifier = Verifier(TrustStore([signer.certificate]), Policy(require_binding=True))
    at = int(now.timestamp())
    other = SoftwareDeviceKey.generate("ES256")
    forged = _resigned(presenter.present("pharmacy", at=at - 1), other)
    for what, text in (
        ("plain", bound.text),
        ("live", live),
        ("replay", live),
        ("stale", presenter.present("pharmacy", at=at - 120)),
        ("phone", forged),
    ):
        code = verifier.verify(text).code.value
        _say("step", lang, what=_STORY[what][lang], code=code)
    # purpose profiles: a second credential, its own device key, no ID number in it
    pharmacy = Verifier(
        TrustStore([signer.certificate]), Policy(require_binding=True, profiles=MINIMUM_SCOPE)
    )
    device2 = SoftwareDeviceKey.generate("ES256")
    nonce2 = new_nonce()
    key2 = check_enrolment(enrolment_request(device2, nonce2), nonce2)
    counter = Issuer(signer.signer(), signer.certificate).issue(
        card, device_key=key2, iat=now, profile="counter"
    )
    counter_live = Presenter(counter.text, device2, HolderClock.synced(now)).present("pharmacy")
    _say("step", lang, what=_STORY["full"][lang], code=pharmacy.verify(
        presenter.present("pharmacy", at=at)).code.value)  # fmt: skip
    result = pharmacy.verify(counter_live)
    _say("step", lang, what=_STORY["counter"][lang], code=result.code.value)
    print(render_text(result, lang))


def _resigned(text: str, device: SoftwareDeviceKey) -> str:
    """``text`` with its device signature replaced by ``device``'s."""
    p = parse_presentation(decode_text(text))
    return encode_text(assemble_sign1(p.protected, p.payload, device.sign(p.to_be_signed())))


def add_demo(sub: Subcommands) -> None:
    """Register ``ecard demo``."""
    d = sub.add_parser(
        "demo",
        help="issue a sample card with a demo issuer and verify it",
        epilog=WRITE_EPILOG.replace("0 done", "0 the sample card verified"),
    )
    d.add_argument("--out", help="folder for the files (default: ./ecard-demo)")
    d.add_argument("--alg", default="ES256", choices=ALG_NAMES, help="signature algorithm")
    lang_option(d)
    d.set_defaults(func=cmd_demo)


__all__ = ["CRL_DAYS", "DEMO_MARK", "add_demo", "cmd_demo", "ecard_command", "sample_card"]
