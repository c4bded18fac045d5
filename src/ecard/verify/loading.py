"""From file paths to a ready verifier: trust, lists, roots, CRLs and rollback state.

:class:`ListConfig` is a frozen, picklable description of what a verifying process reads: trusted
signer certificates (files or folders) *or* a signed trust list, a signed revocation list, the
trust anchors and issuing CAs the lists and paths chain to, CRLs, the state file that refuses
list rollback, and the algorithms accepted. It holds paths only; reading happens in

* :meth:`ListConfig.path_validator`: the roots, CAs and CRLs as a
  :class:`~ecard.verify.paths.PathValidator` (``None`` without roots; revocation is required
  exactly when CRLs are given);
* :meth:`ListConfig.load`: the authenticated :class:`LoadedLists` (trust store, revocation
  list, and the roots and CRLs read, which an audit reports against), recording the lists'
  sequences and the CRLs' numbers in the state file (:func:`record_crls`), which refuses to go
  back;
* :meth:`ListConfig.verifier`: a :class:`~ecard.verify.verifier.Verifier` over them.

Inconsistent paths (a trust list, revocation list, CA or CRL without a root; both kinds of
trust; a state file with nothing to protect) are :class:`~ecard.errors.BadInputError`; unreadable files and unusable content are the
typed errors of the readers (:class:`~ecard.errors.BadCertificateError`,
:class:`~ecard.errors.BadListError`, :class:`~ecard.errors.ListRollbackError`, ...).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509

from ecard._files import read_file
from ecard._time import utc
from ecard.crypto.crl import load_crl_file
from ecard.crypto.x509 import load_certificate_file
from ecard.crypto.x509sig import is_signed_by
from ecard.errors import BadInputError
from ecard.formats.lists import MAX_LIST_SIZE
from ecard.verify.lists import ListState
from ecard.verify.policy import Policy
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

if TYPE_CHECKING:  # path validation is imported when roots are given
    from ecard.verify.paths import PathValidator

_Paths = tuple[str, ...]


def _paths(values: Iterable[str | os.PathLike[str]] | None) -> _Paths:
    if values is None:
        return ()
    if isinstance(values, str | os.PathLike):
        raise TypeError("give a sequence of paths, not one path")
    return tuple(os.fspath(v) for v in values)


def read_list_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a signed list (or manifest) file, at most ``MAX_LIST_SIZE``;
    :class:`~ecard.errors.BadInputError` if it cannot be read."""
    return read_file(path, BadInputError, max_size=MAX_LIST_SIZE)


def record_crls(
    state: ListState,
    crls: Iterable[x509.CertificateRevocationList],
    issuers: Iterable[x509.Certificate],
) -> None:
    """Record in ``state`` every CRL signed by one of ``issuers`` (roots and CAs), refusing one
    older than a CRL accepted before from the same CA
    (:class:`~ecard.errors.ListRollbackError`). A CRL no issuer signed is not recorded: it
    proves nothing, and recording it would let anyone lock verifiers out with a high number."""
    cas = tuple(issuers)
    for crl in crls:
        for ca in cas:
            if ca.subject == crl.issuer and is_signed_by(crl, ca):
                state.accept_crl(crl, ca)
                break


def _certificates(paths: _Paths) -> list[x509.Certificate]:
    return [c for path in paths for c in load_certificate_file(path)]


def _crls(paths: _Paths) -> list[x509.CertificateRevocationList]:
    return [crl for path in paths for crl in load_crl_file(path)]


@dataclass(frozen=True)
class LoadedLists:
    """What :meth:`ListConfig.load` read: ``trust`` and ``revocations`` are ``None`` when the
    configuration names none; ``roots`` and ``crls`` are every root certificate and CRL read."""

    trust: TrustStore | None
    revocations: RevocationList | None
    roots: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...]

    def verifier(self, policy: Policy | None = None) -> Verifier:
        """A verifier over :attr:`trust` and :attr:`revocations` under ``policy``;
        :class:`BadInputError` if no trust was loaded."""
        if self.trust is None:
            raise BadInputError("a verifier needs trust certificates or a trust list")
        return Verifier(self.trust, policy, revocations=self.revocations)


@dataclass(frozen=True)
class ListConfig:
    """Where a verifier's trust and lists are (see the module docstring); sequences of paths
    are kept as tuples of ``str``."""

    #: trusted document signer certificate files or folders
    trust: _Paths = ()
    #: a signed trust list (needs ``roots``)
    trust_list: str | None = None
    #: a signed revocation list (needs ``roots``)
    revocation_list: str | None = None
    #: trust anchors (root CA certificates) of certificate paths and lists
    roots: _Paths = ()
    #: issuing CA certificates paths may go through (needs ``roots``)
    cas: _Paths = ()
    #: CRLs of the CAs in the paths (needs ``roots``); with CRLs, revocation is required
    crls: _Paths = ()
    #: the file recording accepted list sequence numbers and CRL numbers (needs a trust list,
    #: a revocation list or CRLs: plain trust certificates have nothing to record)
    state: str | None = None
    #: the algorithms accepted for cards and lists; ``None``: every registered one
    algorithms: frozenset[str] | None = field(default=None)
    #: the instant certificate paths are judged at (validity, CRL freshness); ``None``: the
    #: system clock. A verifier run "as of" a time (``--now``) judges its paths then too.
    now: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("trust", "roots", "cas", "crls"):
            object.__setattr__(self, name, _paths(getattr(self, name)))
        for name in ("trust_list", "revocation_list", "state"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, os.fspath(value))
        if self.algorithms is not None:
            object.__setattr__(self, "algorithms", frozenset(self.algorithms))
        if self.now is not None:
            utc(self.now, "ListConfig.now")
        if self.state and not (self.trust_list or self.revocation_list or self.crls):
            # plain trust certificates have no sequence: a state file would protect nothing
            raise BadInputError(
                "--state needs a signed trust list, a revocation list or CRLs to protect; "
                "plain trust certificates have no sequence to record"
            )

    def policy(self) -> Policy:
        """The verification policy: :class:`Policy` limited to :attr:`algorithms`, if given."""
        return Policy(algorithms=self.algorithms) if self.algorithms else Policy()

    def path_validator(self) -> PathValidator | None:
        """The path validator over :attr:`roots`, :attr:`cas` and :attr:`crls`, or ``None``
        without roots (then CAs and CRLs are a :class:`BadInputError`)."""
        if not self.roots:
            if self.crls or self.cas:
                raise BadInputError("--crl and --ca need --root (the trust anchor)")
            return None
        crls = _crls(self.crls)
        now = self.now
        from ecard.verify.paths import PathValidator

        return PathValidator(
            _certificates(self.roots),
            intermediates=_certificates(self.cas),
            crls=crls,
            revocation="require" if crls else "off",
            **({} if now is None else {"clock": lambda: now}),
        )

    def load(
        self, *, validator: PathValidator | None = None, policy: Policy | None = None
    ) -> LoadedLists:
        """Read and authenticate the trust and lists, under ``validator`` (default:
        :meth:`path_validator`), accepting the algorithms of ``policy`` (default:
        :meth:`policy`), recording the lists in :attr:`state`."""
        if self.trust and self.trust_list:
            raise BadInputError("give either trust certificates or a trust list, not both")
        if validator is None:
            validator = self.path_validator()
        policy = policy or self.policy()
        state = ListState(self.state) if self.state else None

        for path, what in (
            (self.trust_list, "a trust list"),
            (self.revocation_list, "a revocation list"),
        ):
            if path and validator is None:
                raise BadInputError(f"{what} needs a root certificate to authenticate it")
        trust = None
        if self.trust_list:
            assert validator is not None
            trust = TrustStore.from_trust_list(
                read_list_file(self.trust_list),
                validator=validator,
                state=state,
                algorithms=policy.algorithms,
            )
        elif self.trust:
            trust = TrustStore.from_paths(self.trust, validator=validator)
        revocations = None
        if self.revocation_list:
            assert validator is not None
            revocations = RevocationList.load(
                read_list_file(self.revocation_list),
                validator=validator,
                state=state,
                algorithms=policy.algorithms,
            )
        roots = tuple(_certificates(self.roots))
        crls = tuple(_crls(self.crls))
        if state is not None:
            record_crls(state, crls, (*roots, *_certificates(self.cas)))
        return LoadedLists(trust=trust, revocations=revocations, roots=roots, crls=crls)

    def verifier(self, *, validator: PathValidator | None = None) -> Verifier:
        """A verifier over the loaded trust and revocation list, with :meth:`policy`;
        :class:`BadInputError` if the configuration names no trust."""
        policy = self.policy()
        return self.load(validator=validator, policy=policy).verifier(policy)


__all__ = ["ListConfig", "LoadedLists", "read_list_file", "record_crls"]
