"""PAdES signatures on the printable card (pyHanko), with any ecard :class:`Signer`.

:func:`sign_pdf` signs a PDF (normally from :func:`ecard.pdf.render_card_pdf`) as PAdES
(ETSI EN 319 142-1, ``/SubFilter /ETSI.CAdES.detached``) at one of four levels:

=======  =====================================================================================
B-B      the CAdES signature: signing certificate (ESS signing-certificate-v2), chain, digest
B-T      B-B plus an RFC 3161 signature time-stamp from ``timestamper`` (when it was signed)
B-LT     B-T plus a Document Security Store (DSS) with the certificates and revocation data
         (the CRLs given) needed to validate signer and TSA later, offline
B-LTA    B-LT plus a document time-stamp over everything, so the DSS itself is protected and
         the archive can be renewed with further document time-stamps
=======  =====================================================================================

The key can be anything that implements :class:`ecard.signing.signers.Signer`: an in-memory
:class:`~ecard.signing.signers.KeySigner` (or a :class:`~ecard.signing.pki.CertifiedKey`), or a
:class:`~ecard.signing.pkcs11.Pkcs11Signer` whose key never leaves the HSM (PRC Electronic
Signature Law, Art. 13). :class:`EcardPdfSigner` adapts the signer to pyHanko: pyHanko builds
the CMS signed attributes, the ecard signer signs them (for ECDSA the token gets the SHA-256
digest with ``CKM_ECDSA``, which is what pyHanko's own ``PKCS11Signer`` calls
``use_raw_mechanism=True``), and the raw ``r || s`` is DER-encoded for CMS.

==========  ==================================  =========================
ecard alg   CMS signature algorithm             message digest
==========  ==================================  =========================
ES256       ecdsa-with-SHA256                   SHA-256
ES384       ecdsa-with-SHA384                   SHA-384
PS256       RSASSA-PSS (SHA-256, MGF1, salt 32)  SHA-256
EdDSA       Ed25519 (RFC 8419)                  SHA-512
==========  ==================================  =========================

Time-stamps come from any pyHanko ``TimeStamper``: :func:`http_timestamper` for a real TSA
(RFC 3161 over HTTP), or :func:`local_timestamper` for an in-process TSA holding its own key
and certificate (:func:`create_tsa` makes one under a test CA) for demos and offline tests.

Validation data for B-LT/B-LTA is gathered without any network access: the signer's and the
TSA's paths are built from ``chain`` and the time-stamp tokens, anchored at the self-signed
certificates in ``chain`` and at ``trust_roots``, and every certificate below a trust anchor must
be covered by one of ``validation_crls`` (or signing fails): what is embedded is enough to
validate the signature offline, years later.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, Final, Literal, get_args

from asn1crypto import algos
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import async_add_validation_info
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ecard._async import run_sync
from ecard.crypto.algorithms import EcdsaAlgorithm, EdDsaAlgorithm, RsaPssAlgorithm
from ecard.errors import BadCertificateError, BadInputError, BadKeyError, EcardError
from ecard.formats.credential import IssuedCard
from ecard.pdf.layout import PageChoice, RevealField, render_card_pdf
from ecard.signing.pki import CertifiedKey
from ecard.signing.signers import Signer, require_certified_key

__all__ = [
    "DEFAULT_FIELD_NAME",
    "DEFAULT_REASON",
    "LEVELS",
    "EcardPdfSigner",
    "PadesLevel",
    "async_extend_pdf",
    "async_sign_pdf",
    "extend_pdf",
    "http_timestamper",
    "local_timestamper",
    "sign_pdf",
    "signed_card_pdf",
]

PadesLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]
#: The PAdES baseline levels, weakest first.
LEVELS: Final[tuple[PadesLevel, ...]] = get_args(PadesLevel)

#: Name of the (invisible) signature field :func:`sign_pdf` creates.
DEFAULT_FIELD_NAME: Final = "ecard-signature"
#: The ``/Reason`` written into the signature dictionary by default.
DEFAULT_REASON: Final = "签发电子社会保障卡 · Electronic social security card issued"


class _QuietNoFetchWarning(logging.Filter):
    """Drop pyHanko's warning that B-LT data is gathered without fetching: that is by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_QuietNoFetchWarning())


def _signer_key_usage(cert: x509.Certificate) -> set[str]:
    """The key usage pyHanko checks before signing (it wants every one named): the one of
    digitalSignature and nonRepudiation that the certificate asserts (PAdES signers commonly
    carry nonRepudiation, ecard's document signers digitalSignature)."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return set()
    if usage.digital_signature:
        return {"digital_signature"}
    if usage.content_commitment:
        return {"non_repudiation"}
    raise BadCertificateError(
        "the certificate's key usage allows neither digitalSignature nor nonRepudiation"
    )


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_der(cert))


def _asn1_crl(crl: x509.CertificateRevocationList) -> asn1_crl.CertificateList:
    return asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))


def _store(certs: Iterable[x509.Certificate]) -> SimpleCertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # untyped __init__
    for cert in certs:
        store.register(_asn1_cert(cert))
    return store


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, Exception):
        return False
    return True


def _check_certificates(
    certificate: object, chain: Iterable[object], what: str
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    if not isinstance(certificate, x509.Certificate):
        raise BadInputError(f"{what} certificate must be a cryptography x509.Certificate")
    certs = tuple(chain)
    for c in certs:
        if not isinstance(c, x509.Certificate):
            raise BadInputError(f"{what} chain must hold cryptography x509.Certificate objects")
    return certificate, certs  # type: ignore[return-value]  # checked above


# --- the signer adapter -------------------------------------------------------------------------


def _mechanism(signer: Signer) -> tuple[algos.SignedDigestAlgorithm, str]:
    """The CMS signature algorithm and message digest for the signer's ecard algorithm."""
    alg = signer.algorithm
    if isinstance(alg, EcdsaAlgorithm):
        md = {"SHA-256": "sha256", "SHA-384": "sha384"}.get(alg.hash_name)
        if md is None:  # pragma: no cover - the registry has ES256 and ES384 only
            raise BadKeyError(
                f"{alg.name} is not supported for PDF signatures (pyHanko and PDF readers cannot make or "
                "check them); sign the PDF with an ES256, ES384, EdDSA or PS256 key"
            )
        return algos.SignedDigestAlgorithm({"algorithm": f"{md}_ecdsa"}), md
    if isinstance(alg, RsaPssAlgorithm):
        sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": sha256,
                "mask_gen_algorithm": algos.MaskGenAlgorithm(
                    {"algorithm": "mgf1", "parameters": sha256}
                ),
                "salt_length": 32,
            }
        )
        return (
            algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params}),
            "sha256",
        )
    if isinstance(alg, EdDsaAlgorithm):
        return algos.SignedDigestAlgorithm({"algorithm": "ed25519"}), "sha512"
    raise BadKeyError(
        f"{alg.name} is not supported for PDF signatures (pyHanko and PDF readers cannot make or "
        "check them); sign the PDF with an ES256, ES384, EdDSA or PS256 key"
    )


class EcardPdfSigner(signers.Signer):
    """A pyHanko ``Signer`` over an ecard :class:`~ecard.signing.signers.Signer`.

    The ecard signer gets the DER of the CMS signed attributes and returns its COSE-form
    signature (it hashes, or has its token hash); ECDSA signatures are re-encoded as DER for
    CMS. ``chain`` (CA certificates, nearest first) is embedded in the CMS object.

    Raises :class:`~ecard.errors.BadKeyError` if the key does not belong to ``certificate``
    or its algorithm has no CMS form here.
    """

    def __init__(
        self,
        signer: Signer,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        if not isinstance(signer, Signer):
            raise BadInputError("signer must be an ecard Signer or CertifiedKey")
        certificate, chain = _check_certificates(certificate, chain, "signer")
        require_certified_key(signer, certificate, "signing key")
        mechanism, md = _mechanism(signer)
        super().__init__(
            signing_cert=_asn1_cert(certificate),
            cert_registry=_store(chain),
            signature_mechanism=mechanism,
            embed_roots=True,
        )
        self.ecard_signer = signer
        self.md_algorithm = md
        self._placeholder = self._dry_run_signature(signer.public_key())

    def _dry_run_signature(self, public: Any) -> bytes:
        alg = self.ecard_signer.algorithm
        if isinstance(alg, EcdsaAlgorithm):
            assert alg.signature_size is not None
            top = (1 << (8 * (alg.signature_size // 2))) - 1  # the longest DER encoding
            return encode_dss_signature(top, top)
        if isinstance(public, rsa.RSAPublicKey):
            return bytes((public.key_size + 7) // 8)
        return bytes(64)  # Ed25519

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        """Sign the CMS signed attributes ``data`` with the ecard signer."""
        if digest_algorithm.lower() != self.md_algorithm:
            raise SigningError(
                f"{self.ecard_signer.algorithm.name} signs with {self.md_algorithm}, "
                f"not {digest_algorithm}"
            )
        if dry_run:
            return self._placeholder
        # an HSM may take a while: keep the event loop free
        signature = await asyncio.to_thread(self.ecard_signer.sign, bytes(data))
        alg = self.ecard_signer.algorithm
        if isinstance(alg, EcdsaAlgorithm):
            n = len(signature) // 2
            r = int.from_bytes(signature[:n], "big")
            s = int.from_bytes(signature[n:], "big")
            return encode_dss_signature(r, s)
        return signature

    def __repr__(self) -> str:
        return f"EcardPdfSigner({self.ecard_signer!r})"


# --- time-stamping ------------------------------------------------------------------------------


def http_timestamper(
    url: str, *, timeout: float = 10, auth: tuple[str, str] | None = None
) -> TimeStamper:
    """An RFC 3161 time-stamp client for the TSA at ``url`` (HTTP POST)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise BadInputError("the TSA URL must start with http:// or https://")
    return HTTPTimeStamper(url, timeout=timeout, auth=auth)


def local_timestamper(
    tsa: CertifiedKey, *, at: dt.datetime | None = None, include_chain: bool = True
) -> TimeStamper:
    """An in-process TSA signing RFC 3161 tokens with ``tsa`` (see :func:`create_tsa`).

    For demos, tests and closed deployments: the tokens are real (a TSA certificate with the
    critical ``timeStamping`` extended key usage signs them), but the clock is this machine's
    (or ``at``). pyHanko's in-process TSA needs an RSA key.
    """
    if not isinstance(tsa, CertifiedKey):
        raise BadInputError("tsa must be a CertifiedKey")
    if not isinstance(tsa.key, rsa.RSAPrivateKey):
        raise BadKeyError("the in-process TSA (pyHanko's DummyTimeStamper) needs an RSA key")
    try:
        eku = tsa.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise BadCertificateError(
            "a TSA certificate needs the extended key usage timeStamping alone, marked critical "
            "(RFC 3161 §2.3)"
        )
    key_der = tsa.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    extra = _store(tsa.chain) if include_chain else None
    return DummyTimeStamper(
        tsa_cert=_asn1_cert(tsa.certificate),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
        certs_to_embed=extra,
        fixed_dt=at,
    )


# --- signing ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _pyhanko_errors() -> Iterator[None]:
    """Turn pyHanko's and the certificate validator's exceptions into ecard errors."""
    try:
        yield
    except EcardError:
        raise
    except (PathBuildingError, PathValidationError) as exc:
        raise BadCertificateError(f"cannot validate the signing path: {exc}") from None
    except TimestampRequestError as exc:
        raise BadInputError(f"time-stamp authority failed: {exc}") from None
    except SigningError as exc:
        raise BadCertificateError(f"PDF signing failed: {exc}") from None
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"cannot process this PDF ({type(exc).__name__}: {exc})") from None


def _validation_context(
    chain: Sequence[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
) -> ValidationContext:
    roots = {_der(c): c for c in trust_roots}
    for c in chain:
        if _self_signed(c):
            roots.setdefault(_der(c), c)
    if not roots:
        raise BadInputError(
            "B-LT and B-LTA need a trust anchor: put the root CA in chain or trust_roots"
        )
    return ValidationContext(
        trust_roots=[_asn1_cert(c) for c in roots.values()],
        other_certs=[_asn1_cert(c) for c in chain],
        crls=[_asn1_crl(c) for c in crls],
        allow_fetching=False,
        # every certificate under a trust anchor must have revocation data to embed
        revocation_mode="require",
    )


async def async_sign_pdf(
    pdf_bytes: bytes,
    *,
    signer: CertifiedKey | Signer,
    certificate: x509.Certificate | None = None,
    chain: Iterable[x509.Certificate] | None = None,
    level: PadesLevel = "B-B",
    timestamper: TimeStamper | None = None,
    validation_crls: Iterable[x509.CertificateRevocationList] = (),
    trust_roots: Iterable[x509.Certificate] = (),
    reason: str | None = DEFAULT_REASON,
    location: str | None = None,
    contact_info: str | None = None,
    field_name: str = DEFAULT_FIELD_NAME,
) -> bytes:
    """:func:`sign_pdf` for code already running in an event loop."""
    if not isinstance(pdf_bytes, bytes | bytearray | memoryview):
        raise BadInputError("pdf_bytes must be bytes")
    if level not in LEVELS:
        raise BadInputError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if isinstance(signer, CertifiedKey):
        if certificate is not None and _der(certificate) != _der(signer.certificate):
            raise BadInputError("certificate differs from the CertifiedKey's certificate")
        certificate = signer.certificate
        chain = signer.chain if chain is None else chain
        ecard_signer: Signer = signer.signer()
    elif isinstance(signer, Signer):
        if certificate is None:
            raise BadInputError("give the signer's certificate")
        ecard_signer = signer
    else:
        raise BadInputError("signer must be an ecard Signer or CertifiedKey")
    chain_t = tuple(chain or ())
    roots_t = tuple(trust_roots)
    crls_t = tuple(validation_crls)
    if any(not isinstance(c, x509.CertificateRevocationList) for c in crls_t):
        raise BadInputError("validation_crls must hold cryptography CRL objects")
    _check_certificates(certificate, roots_t, "trust_roots")
    if level == "B-B" and timestamper is not None:
        raise BadInputError("B-B has no time-stamp: choose B-T or higher to use a TSA")
    if level != "B-B" and timestamper is None:
        raise BadInputError(f"{level} needs a time-stamp authority (timestamper)")
    if not isinstance(field_name, str) or not field_name or "." in field_name:
        raise BadInputError("field_name must be a non-empty name without '.'")

    cms_signer = EcardPdfSigner(ecard_signer, certificate, chain_t)
    long_term = level in ("B-LT", "B-LTA")
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=cms_signer.md_algorithm,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        contact_info=contact_info,
        signer_key_usage=_signer_key_usage(certificate),
        embed_validation_info=long_term,
        use_pades_lta=level == "B-LTA",
        validation_context=(_validation_context(chain_t, roots_t, crls_t) if long_term else None),
    )
    pdf_signer = signers.PdfSigner(
        meta, signer=cms_signer, timestamper=timestamper if level != "B-B" else None
    )
    with _pyhanko_errors():
        writer = IncrementalPdfFileWriter(io.BytesIO(bytes(pdf_bytes)), strict=False)
        out = await pdf_signer.async_sign_pdf(writer)
    assert isinstance(out, io.BytesIO)
    return out.getvalue()


def sign_pdf(
    pdf_bytes: bytes,
    *,
    signer: CertifiedKey | Signer,
    certificate: x509.Certificate | None = None,
    chain: Iterable[x509.Certificate] | None = None,
    level: PadesLevel = "B-B",
    timestamper: TimeStamper | None = None,
    validation_crls: Iterable[x509.CertificateRevocationList] = (),
    trust_roots: Iterable[x509.Certificate] = (),
    reason: str | None = DEFAULT_REASON,
    location: str | None = None,
    contact_info: str | None = None,
    field_name: str = DEFAULT_FIELD_NAME,
) -> bytes:
    """Sign ``pdf_bytes`` as PAdES ``level``; returns the signed PDF (an incremental update).

    Args:
        signer: a :class:`~ecard.signing.pki.CertifiedKey` (its certificate and chain are used
            unless given), or any ecard :class:`~ecard.signing.signers.Signer` (in memory or
            :class:`~ecard.signing.pkcs11.Pkcs11Signer`) with ``certificate``.
        certificate: the signer's certificate (keyUsage digitalSignature or nonRepudiation).
        chain: CA certificates above it, nearest first (embedded in the signature).
        level: ``"B-B"``, ``"B-T"``, ``"B-LT"`` or ``"B-LTA"``.
        timestamper: the TSA for B-T and up (:func:`http_timestamper`,
            :func:`local_timestamper`, or any pyHanko ``TimeStamper``).
        validation_crls: CRLs (cryptography objects, see :func:`ecard.signing.crl.create_crl`)
            covering the signer's and the TSA's certificates, embedded at B-LT and B-LTA.
        trust_roots: trust anchors besides the self-signed certificates in ``chain`` (e.g. the
            TSA's root); used at B-LT and B-LTA.
        reason, location, contact_info: written into the signature dictionary.
        field_name: the signature field to create (must not exist yet).

    Raises:
        BadInputError: a bad argument, unreadable PDF, or a failing TSA.
        BadKeyError: the key does not belong to the certificate, or the signer fails.
        BadCertificateError: at B-LT/B-LTA, a path that does not validate now or lacks
            revocation data.

    Works inside a running event loop too (on a worker thread); from async code prefer
    :func:`async_sign_pdf`.
    """
    return run_sync(
        lambda: async_sign_pdf(
            pdf_bytes,
            signer=signer,
            certificate=certificate,
            chain=chain,
            level=level,
            timestamper=timestamper,
            validation_crls=validation_crls,
            trust_roots=trust_roots,
            reason=reason,
            location=location,
            contact_info=contact_info,
            field_name=field_name,
        )
    )


def signed_card_pdf(
    issued: IssuedCard,
    *,
    signer: CertifiedKey | Signer,
    certificate: x509.Certificate | None = None,
    chain: Iterable[x509.Certificate] | None = None,
    level: PadesLevel = "B-B",
    timestamper: TimeStamper | None = None,
    validation_crls: Iterable[x509.CertificateRevocationList] = (),
    trust_roots: Iterable[x509.Certificate] = (),
    page: PageChoice = "both",
    reveal: bool | Collection[RevealField] = False,
    issuer_name: str | None = None,
    location: str | None = None,
) -> bytes:
    """:func:`~ecard.pdf.layout.render_card_pdf` then :func:`sign_pdf`: the printable card,
    signed. What ``ecard pdf`` calls."""
    pdf = render_card_pdf(issued, reveal=reveal, issuer_name=issuer_name, page=page)
    return sign_pdf(
        pdf,
        signer=signer,
        certificate=certificate,
        chain=chain,
        level=level,
        timestamper=timestamper,
        validation_crls=validation_crls,
        trust_roots=trust_roots,
        location=location,
    )


# --- extending a signature later ----------------------------------------------------------------


async def async_extend_pdf(
    pdf_bytes: bytes,
    *,
    level: Literal["B-LT", "B-LTA"] = "B-LTA",
    trust_roots: Iterable[x509.Certificate],
    validation_crls: Iterable[x509.CertificateRevocationList] = (),
    timestamper: TimeStamper | None = None,
    field_name: str | None = None,
) -> bytes:
    """:func:`extend_pdf` for code already running in an event loop."""
    if not isinstance(pdf_bytes, bytes | bytearray | memoryview):
        raise BadInputError("pdf_bytes must be bytes")
    if level not in ("B-LT", "B-LTA"):
        raise BadInputError(f"a signature can be extended to B-LT or B-LTA, not {level!r}")
    if level == "B-LTA" and timestamper is None:
        raise BadInputError("B-LTA needs a time-stamp authority (timestamper)")
    roots = tuple(trust_roots)
    if not roots:
        raise BadInputError("give the trust_roots the signer's and the TSA's paths end in")
    _check_certificates(roots[0], roots, "trust_roots")
    crls = tuple(validation_crls)
    if any(not isinstance(c, x509.CertificateRevocationList) for c in crls):
        raise BadInputError("validation_crls must hold cryptography CRL objects")
    with _pyhanko_errors():
        reader = PdfFileReader(io.BytesIO(bytes(pdf_bytes)), strict=False)
        found = [
            s
            for s in reader.embedded_regular_signatures
            if field_name is None or s.field_name == field_name
        ]
        if not found:
            raise BadInputError(
                "the PDF has no signature"
                + ("" if field_name is None else f" in field {field_name!r}")
            )
        sig = found[-1]
        context = ValidationContext(
            trust_roots=[_asn1_cert(c) for c in roots],
            crls=[_asn1_crl(c) for c in crls],
            allow_fetching=False,
            revocation_mode="require",
        )
        out = await async_add_validation_info(sig, context, add_vri_entry=False, force_write=True)
        if level == "B-LTA":
            assert timestamper is not None
            writer = IncrementalPdfFileWriter(out, strict=False)
            md = sig.md_algorithm
            out = await signers.PdfTimeStamper(timestamper).async_timestamp_pdf(
                writer, md, validation_context=context, in_place=True
            )
    assert isinstance(out, io.BytesIO)
    return out.getvalue()


def extend_pdf(
    pdf_bytes: bytes,
    *,
    level: Literal["B-LT", "B-LTA"] = "B-LTA",
    trust_roots: Iterable[x509.Certificate],
    validation_crls: Iterable[x509.CertificateRevocationList] = (),
    timestamper: TimeStamper | None = None,
    field_name: str | None = None,
) -> bytes:
    """Raise a signed PDF (B-T or higher) to B-LT or B-LTA in new incremental updates.

    The two-step way to long-term validation that ETSI EN 319 102-1 describes: sign at B-T,
    wait out the grace period until the CA publishes revocation data issued *after* the
    signature time-stamp, then embed that data (B-LT) and protect it with a document time-stamp
    (B-LTA). One-step :func:`sign_pdf` at B-LT/B-LTA embeds revocation data issued before the
    signature, which pyHanko accepts but a stricter validator may not.

    The signature extended is the last one, or the one in ``field_name``. Every certificate of
    its path (and of its time-stamp's) below ``trust_roots`` must be covered by
    ``validation_crls`` (:class:`~ecard.errors.BadCertificateError` otherwise).
    """
    return run_sync(
        lambda: async_extend_pdf(
            pdf_bytes,
            level=level,
            trust_roots=trust_roots,
            validation_crls=validation_crls,
            timestamper=timestamper,
            field_name=field_name,
        )
    )
