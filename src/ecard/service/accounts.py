"""Accounts of the service's users and their server-side sessions, in the workflow's database
but in tables of their own (``svc_*``) with their own migration chain.

Two kinds of account: **applicants** (online channel) sign in with a mainland mobile number and
a password; **staff** (window, review, administration) sign in with a user name and a password
and hold roles among :data:`ROLES` (``clerk``, ``reviewer``, ``admin``).

Contract:

* Passwords are hashed with scrypt (stdlib :func:`hashlib.scrypt`, N=2**14, r=8, p=1, a random
  16-byte salt per account; the parameters are stored with the hash so they can be raised
  later). scrypt rather than argon2: it is in the standard library, memory-hard, and named by
  NIST SP 800-63B; no new dependency. Hashes are compared with :func:`hmac.compare_digest`;
  an unknown login costs one scrypt too, so timing does not tell which logins exist.
* Lockout: after :data:`LOCK_AFTER` consecutive failures an account is locked for
  :data:`LOCK_FIRST`, doubling with each further failure up to :data:`LOCK_MAX`; while locked,
  even the right password is refused (``AUTH_LOCKED``). A success resets the count.
* Sessions: the id is 32 random bytes (256 bits) given to the browser; the database keeps only
  its SHA-256, so a copy of the table opens no session. Each session has a synchroniser CSRF
  token, an idle limit (:data:`SESSION_IDLE`) and an absolute limit (:data:`SESSION_MAX`). A
  sign-in deletes the anonymous session and makes a new one (rotation); sign-out deletes it.
* Registration of applicants (:meth:`AccountStore.start_registration`,
  :meth:`AccountStore.confirm_registration`): the account is made only with the code sent to
  the number, and starting a registration answers the same whether the number has an account
  or not, so it tells nobody which numbers are registered.
* Sign-in, sign-out and refused attempts are written to ``svc_auth_events`` with the account
  id only (never a phone number, user name or password).
* Storage: SQLAlchemy over the URL of the workflow (SQLite or PostgreSQL). The schema is
  versioned by the Alembic scripts in ``ecard/service/migrations`` with their own version table
  (:data:`VERSION_TABLE`), so this chain and the workflow's evolve independently in one
  database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Final, Literal

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from ecard._time import utc
from ecard.errors import BadInputError, Lang, MessageTable
from ecard.workflow.review import e164_mobile

#: The Alembic script directory of the service's tables.
MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
#: Alembic's version table for this chain (the workflow's chain keeps ``alembic_version``).
VERSION_TABLE: Final = "svc_alembic_version"

#: Staff roles.
ROLES: Final = ("clerk", "reviewer", "admin")
Kind = Literal["applicant", "staff"]

#: scrypt cost parameters for new hashes.
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
#: Password length bounds (NIST SP 800-63B: at least 8, allow long passphrases).
PASSWORD_MIN: Final = 8
PASSWORD_MAX: Final = 128

#: Consecutive failures after which an account locks.
LOCK_AFTER: Final = 5
#: First lock duration; doubles with each further failure.
LOCK_FIRST: Final = timedelta(minutes=15)
#: Longest lock.
LOCK_MAX: Final = timedelta(hours=24)

#: How long the code of a registration is valid.
REGISTRATION_TTL: Final = timedelta(minutes=10)
#: Wrong codes after which a pending registration is dropped.
REGISTRATION_TRIES: Final = 5
#: Least time between two registration codes sent to one number.
REGISTRATION_INTERVAL: Final = timedelta(seconds=60)
#: Most registration codes sent to one number in a day (UTC).
REGISTRATION_DAILY: Final = 10

#: A session unused this long has expired.
SESSION_IDLE: Final = timedelta(minutes=30)
#: A session older than this has expired, however active.
SESSION_MAX: Final = timedelta(hours=12)


class AuthCode(StrEnum):
    """Why sign-in, a session or an account step refused."""

    AUTH_FAILED = "AUTH_FAILED"
    AUTH_LOCKED = "AUTH_LOCKED"
    AUTH_REQUIRED = "AUTH_REQUIRED"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    CSRF_FAILED = "CSRF_FAILED"
    ROLE_REQUIRED = "ROLE_REQUIRED"
    ACCOUNT_EXISTS = "ACCOUNT_EXISTS"
    PASSWORD_WEAK = "PASSWORD_WEAK"  # noqa: S105 (a code, not a password)
    PASSWORD_MISMATCH = "PASSWORD_MISMATCH"  # noqa: S105
    PHONE_INVALID = "PHONE_INVALID"
    LOGIN_INVALID = "LOGIN_INVALID"
    FORM_INVALID = "FORM_INVALID"
    CODE_WRONG = "CODE_WRONG"
    CODE_LIMIT = "CODE_LIMIT"


#: Per code: (English, Chinese).
_MESSAGES: Final[dict[AuthCode, tuple[str, str]]] = {
    AuthCode.AUTH_FAILED: ("wrong account or password", "账号或密码错误"),
    AuthCode.AUTH_LOCKED: (
        "too many failed sign-ins: the account is locked for a while, try again later",
        "登录失败次数过多，账号已暂时锁定，请稍后再试",
    ),
    AuthCode.AUTH_REQUIRED: ("please sign in first", "请先登录"),
    AuthCode.SESSION_EXPIRED: (
        "your session has expired: please sign in again",
        "会话已过期，请重新登录",
    ),
    AuthCode.CSRF_FAILED: (
        "the form was not sent from this site's page (or is too old): reload the page and "
        "send it again",
        "表单不是从本站页面提交的（或已过期），请刷新页面后重新提交",
    ),
    AuthCode.ROLE_REQUIRED: (
        "your account does not have the role this action needs",
        "您的账号没有执行此操作所需的角色",
    ),
    AuthCode.ACCOUNT_EXISTS: (
        "an account already exists for this mobile number: sign in",
        "该手机号码已注册，请直接登录",
    ),
    AuthCode.PASSWORD_WEAK: (
        f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters",
        f"密码长度须为 {PASSWORD_MIN} 至 {PASSWORD_MAX} 个字符",
    ),
    AuthCode.PASSWORD_MISMATCH: ("the two passwords differ", "两次输入的密码不一致"),
    AuthCode.PHONE_INVALID: (
        "the phone number is not a mainland China mobile number",
        "手机号码不是中国大陆手机号码",
    ),
    AuthCode.LOGIN_INVALID: (
        "a user name has 3 to 32 letters, digits, dots, dashes or underscores",
        "用户名须为 3 至 32 个字母、数字、点、连字符或下划线",
    ),
    AuthCode.FORM_INVALID: (
        "the form could not be read: send it again from the page",
        "无法读取表单，请从页面重新提交",
    ),
    AuthCode.CODE_WRONG: (
        "the code is wrong or has expired: register again to get a new one",
        "验证码错误或已过期，请重新注册以获取新的验证码",
    ),
    AuthCode.CODE_LIMIT: (
        "a code was sent to this number a moment ago, or too many today: wait and try again",
        "刚向该号码发送过验证码，或今日发送次数已达上限，请稍后再试",
    ),
}
AUTH_MESSAGES: Final = MessageTable(AuthCode, _MESSAGES)


class AuthError(BadInputError):
    """Sign-in, a session or an account step refused; ``auth_code`` is the stable reason.
    Neither message nor detail carries a login, phone number or password."""

    auth_code: ClassVar[AuthCode] = AuthCode.AUTH_FAILED

    def __init__(self, code: AuthCode, detail: str = "") -> None:
        self.auth_code = code  # type: ignore[misc]
        super().__init__(detail)

    def message(self, lang: Lang = "en") -> str:
        """The summary for :attr:`auth_code` in ``lang``."""
        return AUTH_MESSAGES.summary(self.auth_code, lang)

    def __repr__(self) -> str:
        return f"AuthError({self.auth_code.value!r})"


class AccountsBase(DeclarativeBase):
    """The service's own schema (accounts, sessions, links, sign-in events)."""


class AccountRow(AccountsBase):
    """An applicant or staff account."""

    __tablename__ = "svc_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: E.164 mobile number (applicants) or user name (staff), unique per kind.
    login: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    #: Space-separated roles (staff).
    roles: Mapped[str] = mapped_column(String(64), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("kind", "login", name="uq_svc_accounts_kind_login"),)


class SessionRow(AccountsBase):
    """A browser session: only the SHA-256 of its id is kept."""

    __tablename__ = "svc_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm: Mapped[str] = mapped_column(String(10))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("svc_accounts.id"), nullable=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[int] = mapped_column(Integer, index=True)


class ApplicantApplicationRow(AccountsBase):
    """Which workflow application an applicant account made."""

    __tablename__ = "svc_applicant_applications"

    application_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("svc_accounts.id"), index=True)
    created_at: Mapped[int] = mapped_column(Integer)
    #: When the applicant sent the application for review (``None``: still filling it in).
    sent_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RegistrationRow(AccountsBase):
    """A registration waiting for the code sent to its number (one per number, the last
    one wins): the password's hash, the code's salted SHA-256, wrong tries, expiry; and when
    the last code went out and how many went out that day. Once used up (confirmed, expired
    or tried too often) the row keeps only the sending counts (hashes blank) until the day
    after, so that the limits hold across attempts."""

    __tablename__ = "svc_registrations"

    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    code_hash: Mapped[str] = mapped_column(String(100))
    tries: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
    sent_at: Mapped[int] = mapped_column(Integer)
    #: The UTC day (days since 1970-01-01) ``sends`` counts.
    day: Mapped[int] = mapped_column(Integer)
    sends: Mapped[int] = mapped_column(Integer)


class AuthEventRow(AccountsBase):
    """A sign-in, sign-out or refused attempt: account id and code only."""

    __tablename__ = "svc_auth_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(Integer)
    realm: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass(frozen=True)
class Account:
    """An account as the pages see it (no hash)."""

    id: int
    kind: str
    roles: frozenset[str]

    @property
    def actor(self) -> str:
        """The actor string the workflow's events record: ``clerk:<id>`` or
        ``applicant:<id>``."""
        return f"{'clerk' if self.kind == 'staff' else 'applicant'}:{self.id}"


@dataclass(frozen=True)
class SessionInfo:
    """A live session: its realm, its account (``None`` before sign-in), its CSRF token."""

    id_hash: str
    realm: str
    account: Account | None
    csrf: str


def _password_bytes(password: str) -> bytes:
    # NFKC (NIST SP 800-63B 5.1.1.2): the same passphrase typed on another keyboard matches
    return unicodedata.normalize("NFKC", password).encode()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex) of ``password`` (NFKC-normalised)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(
        _password_bytes(password),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=64 * 1024 * 1024,
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        got = hashlib.scrypt(
            _password_bytes(password),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


#: A hash no password matches, checked for unknown logins so they cost the same time.
_DUMMY_HASH: Final = hash_password("ecard-no-such-account", salt=b"\x00" * 16)


def check_password_rules(password: str) -> None:
    """``PASSWORD_WEAK`` unless ``password`` has :data:`PASSWORD_MIN`..:data:`PASSWORD_MAX`
    characters."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AuthError(AuthCode.PASSWORD_WEAK)


def mainland_mobile(phone: str) -> str:
    """The E.164 form of a mainland China mobile number, else ``PHONE_INVALID`` (the
    workflow's check, :func:`ecard.workflow.review.e164_mobile`)."""
    mobile = e164_mobile(phone)
    if mobile is None:
        raise AuthError(AuthCode.PHONE_INVALID)
    return mobile


def _staff_login(name: str) -> str:
    clean = name.strip().lower() if isinstance(name, str) else ""
    if not 3 <= len(clean) <= 32 or not all(
        c.isascii() and (c.isalnum() or c in "._-") for c in clean
    ):
        raise AuthError(AuthCode.LOGIN_INVALID)
    return clean


def session_hash(session_id: str) -> str:
    """The SHA-256 (hex) under which a session id is stored."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _account(row: AccountRow) -> Account:
    return Account(row.id, row.kind, frozenset(row.roles.split()))


class AccountStore:
    """Accounts, sessions and sign-in events over an SQLAlchemy ``url``; the schema is
    upgraded on opening. ``clock`` returns the current aware time."""

    def __init__(self, url: str, clock: object) -> None:
        sqlite = url.startswith("sqlite")
        self.engine: Engine = create_engine(url, connect_args={"timeout": 30.0} if sqlite else {})
        if sqlite:

            @event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_connection: object, _record: object) -> None:
                cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

        self._clock = clock
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._upgrade()

    def _upgrade(self) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def now(self) -> datetime:
        """The store's current time."""
        return utc(self._clock(), "the service clock")  # type: ignore[operator]

    def _ts(self) -> int:
        return int(self.now().timestamp())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction, committed at the end of the block."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # -- accounts

    def create_user(
        self,
        login: str,
        password: str,
        *,
        kind: Kind = "staff",
        roles: Collection[str] = (),
    ) -> Account:
        """Create an account: ``kind="applicant"`` with a mainland mobile number as login, or
        ``kind="staff"`` with a user name and roles among :data:`ROLES`.

        Raises:
            AuthError: ``PHONE_INVALID``, ``LOGIN_INVALID``, ``PASSWORD_WEAK``,
                ``ACCOUNT_EXISTS``.
            ValueError: an unknown role, or roles for an applicant.
        """
        if kind == "applicant":
            if roles:
                raise ValueError("applicants have no roles")
            key = mainland_mobile(login)
        elif kind == "staff":
            unknown = set(roles) - set(ROLES)
            if unknown or not roles:
                raise ValueError(f"staff roles are among {ROLES}")
            key = _staff_login(login)
        else:
            raise ValueError("kind is applicant or staff")
        check_password_rules(password)
        return self._insert(kind, key, hash_password(password), roles)

    def _insert(self, kind: Kind, key: str, pw_hash: str, roles: Collection[str]) -> Account:
        try:
            with self.transaction() as session:
                taken = session.scalars(
                    select(AccountRow.id).where(AccountRow.kind == kind, AccountRow.login == key)
                ).first()
                if taken is not None:
                    raise AuthError(AuthCode.ACCOUNT_EXISTS)
                row = AccountRow(
                    kind=kind,
                    login=key,
                    password_hash=pw_hash,
                    roles=" ".join(sorted(set(roles))),
                    failures=0,
                    locked_until=0,
                    created_at=self._ts(),
                )
                session.add(row)
                session.flush()
                account = _account(row)
        except IntegrityError:
            raise AuthError(AuthCode.ACCOUNT_EXISTS) from None
        return account

    # -- registration of applicants, confirmed by a code sent to the number

    def start_registration(self, phone: str, password: str) -> tuple[str, str]:
        """Keep a pending registration of ``phone`` with ``password`` (replacing an earlier
        one) and make its code: ``(E.164 number, code)``, the code to send to the number.
        The same whether the number already has an account or not, so that registering
        tells nobody which numbers are registered; only whoever reads the code learns it, at
        :meth:`confirm_registration`.

        A number gets at most one code per :data:`REGISTRATION_INTERVAL` and
        :data:`REGISTRATION_DAILY` a day, whoever asks: registering cannot be turned into
        sending a stream of text messages to someone, nor into guessing codes (at most
        :data:`REGISTRATION_TRIES` guesses per code). Used-up rows of earlier days are purged.

        Raises:
            AuthError: ``PHONE_INVALID``, ``PASSWORD_WEAK``, ``CODE_LIMIT``.
        """
        key = mainland_mobile(phone)
        check_password_rules(password)
        pw_hash = hash_password(password)
        code = f"{secrets.randbelow(10**6):06d}"
        salt = secrets.token_bytes(16)
        now = self._ts()
        day = now // 86_400
        with self.transaction() as session:
            session.execute(
                delete(RegistrationRow).where(
                    RegistrationRow.expires_at < now - 86_400, RegistrationRow.day < day
                )
            )
            row = session.get(RegistrationRow, key, with_for_update=True)
            sends = 1
            if row is not None:
                if now - row.sent_at < REGISTRATION_INTERVAL.total_seconds():
                    raise AuthError(AuthCode.CODE_LIMIT)
                sends = row.sends + 1 if row.day == day else 1
                if sends > REGISTRATION_DAILY:
                    raise AuthError(AuthCode.CODE_LIMIT)
            else:
                row = RegistrationRow(login=key)
                session.add(row)
            row.password_hash = pw_hash
            row.code_hash = f"{salt.hex()}${hashlib.sha256(salt + code.encode()).hexdigest()}"
            row.tries = 0
            row.expires_at = now + int(REGISTRATION_TTL.total_seconds())
            row.sent_at, row.day, row.sends = now, day, sends
        return key, code

    def confirm_registration(self, phone: str, code: str) -> Account:
        """The applicant account of a pending registration whose code is ``code``; the
        pending registration is then dropped (also after :data:`REGISTRATION_TRIES` wrong
        codes, or when expired).

        Raises:
            AuthError: ``PHONE_INVALID``, ``CODE_WRONG`` (no such registration, expired, wrong
                code), ``ACCOUNT_EXISTS`` (the number has an account: only the person who
                read the code sent to it learns this).
        """
        key = mainland_mobile(phone)
        now = self._ts()
        pw_hash = None
        with self.transaction() as session:
            row = session.get(RegistrationRow, key, with_for_update=True)
            if row is not None and row.code_hash:
                salt, _, digest = row.code_hash.partition("$")
                sent = hashlib.sha256(bytes.fromhex(salt) + code.encode()).hexdigest()
                if row.expires_at > now and hmac.compare_digest(sent, digest):
                    pw_hash = row.password_hash
                    row.code_hash = row.password_hash = ""  # used up; the counts stay
                elif row.expires_at <= now or row.tries + 1 >= REGISTRATION_TRIES:
                    row.code_hash = row.password_hash = ""
                else:
                    row.tries += 1
        if pw_hash is None:
            raise AuthError(AuthCode.CODE_WRONG)
        return self._insert("applicant", key, pw_hash, ())

    def staff(self) -> list[tuple[int, str, str, bool]]:
        """Every staff account: ``(id, user name, roles, locked now)``, by id."""
        now = self._ts()
        with self._sessions() as session:
            rows = session.scalars(
                select(AccountRow).where(AccountRow.kind == "staff").order_by(AccountRow.id)
            ).all()
            return [(r.id, r.login, r.roles, r.locked_until > now) for r in rows]

    def staff_count(self) -> int:
        """How many staff accounts exist."""
        with self._sessions() as session:
            return len(
                session.scalars(select(AccountRow.id).where(AccountRow.kind == "staff")).all()
            )

    def authenticate(self, kind: Kind, login: str, password: str, realm: str) -> Account:
        """The account whose ``login`` and ``password`` match, counting failures.

        Raises:
            AuthError: ``AUTH_FAILED`` (unknown login or wrong password), ``AUTH_LOCKED``.
        """
        try:
            key = mainland_mobile(login) if kind == "applicant" else _staff_login(login)
        except AuthError:
            key = ""
        now = self._ts()
        with self.transaction() as session:
            row = (
                session.scalars(
                    select(AccountRow)
                    .where(AccountRow.kind == kind, AccountRow.login == key)
                    .with_for_update()
                ).first()
                if key
                else None
            )
            if row is None:
                password_matches(password, _DUMMY_HASH)
                self._record(session, now, realm, "anonymous", "sign_in", AuthCode.AUTH_FAILED)
                failure = AuthError(AuthCode.AUTH_FAILED)
            elif row.locked_until > now:
                self._record(
                    session, now, realm, f"account:{row.id}", "sign_in", AuthCode.AUTH_LOCKED
                )
                failure = AuthError(AuthCode.AUTH_LOCKED)
            elif not password_matches(password, row.password_hash):
                row.failures += 1
                code = AuthCode.AUTH_FAILED
                if row.failures >= LOCK_AFTER:
                    lock = min(LOCK_FIRST * 2 ** (row.failures - LOCK_AFTER), LOCK_MAX)
                    row.locked_until = now + int(lock.total_seconds())
                    code = AuthCode.AUTH_LOCKED
                self._record(session, now, realm, f"account:{row.id}", "sign_in", code)
                failure = AuthError(code)
            else:
                row.failures, row.locked_until = 0, 0
                self._record(session, now, realm, f"account:{row.id}", "sign_in", "ok")
                return _account(row)
        raise failure

    # -- sessions

    def open_session(self, realm: str, account: Account | None = None) -> tuple[str, SessionInfo]:
        """A new session (anonymous, or signed in to ``account``): its id for the cookie."""
        session_id = secrets.token_urlsafe(32)
        info = SessionInfo(session_hash(session_id), realm, account, secrets.token_urlsafe(32))
        now = self._ts()
        with self.transaction() as session:
            # sessions nobody presents again are removed here, so the table stays small
            session.execute(
                delete(SessionRow).where(
                    (SessionRow.seen_at < now - int(SESSION_IDLE.total_seconds()))
                    | (SessionRow.created_at < now - int(SESSION_MAX.total_seconds()))
                )
            )
            session.add(
                SessionRow(
                    id_hash=info.id_hash,
                    realm=realm,
                    account_id=account.id if account else None,
                    csrf=info.csrf,
                    created_at=now,
                    seen_at=now,
                )
            )
        return session_id, info

    def session(self, session_id: str | None, realm: str) -> SessionInfo | None:
        """The live session ``session_id`` of ``realm`` (and mark it used), else ``None``;
        an expired one is deleted.

        Raises:
            AuthError: ``SESSION_EXPIRED`` for a signed-in session past its limits.
        """
        if not session_id or len(session_id) > 100:
            return None
        now = self._ts()
        expired = False
        with self.transaction() as session:
            row = session.get(SessionRow, session_hash(session_id))
            if row is None or row.realm != realm:
                return None
            idle = now - row.seen_at > SESSION_IDLE.total_seconds()
            old = now - row.created_at > SESSION_MAX.total_seconds()
            if idle or old:
                expired = row.account_id is not None
                session.delete(row)
                if expired:
                    self._record(
                        session, now, realm, f"account:{row.account_id}", "session", "expired"
                    )
            else:
                row.seen_at = now
                account = None
                if row.account_id is not None:
                    account_row = session.get(AccountRow, row.account_id)
                    account = None if account_row is None else _account(account_row)
                return SessionInfo(row.id_hash, row.realm, account, row.csrf)
        if expired:
            raise AuthError(AuthCode.SESSION_EXPIRED)
        return None

    def close_session(self, info: SessionInfo) -> None:
        """Delete the session (sign-out or rotation)."""
        with self.transaction() as session:
            session.execute(delete(SessionRow).where(SessionRow.id_hash == info.id_hash))
            if info.account is not None:
                self._record(
                    session, self._ts(), info.realm, f"account:{info.account.id}", "sign_out", "ok"
                )

    # -- applicant applications

    def link_application(self, account: Account, application_id: str) -> None:
        """Record that ``account`` made ``application_id``."""
        with self.transaction() as session:
            session.add(
                ApplicantApplicationRow(
                    application_id=application_id, account_id=account.id, created_at=self._ts()
                )
            )

    def applications(self, account: Account) -> list[ApplicantApplicationRow]:
        """The applications ``account`` made, newest first."""
        with self._sessions() as session:
            stmt = (
                select(ApplicantApplicationRow)
                .where(ApplicantApplicationRow.account_id == account.id)
                .order_by(ApplicantApplicationRow.created_at.desc())
            )
            return list(session.scalars(stmt).all())

    def mark_sent(self, application_id: str) -> None:
        """Record that the applicant sent the application for review."""
        with self.transaction() as session:
            row = session.get(ApplicantApplicationRow, application_id)
            if row is not None and row.sent_at is None:
                row.sent_at = self._ts()

    # -- events

    def _record(
        self,
        session: Session,
        at: int,
        realm: str,
        actor: str,
        action: str,
        outcome: str,
        detail: str | None = None,
    ) -> None:
        session.add(
            AuthEventRow(
                at=at, realm=realm, actor=actor, action=action, outcome=str(outcome), detail=detail
            )
        )

    def record(
        self, realm: str, actor: str, action: str, outcome: str, detail: str | None = None
    ) -> None:
        """Record an event (a refused attempt: CSRF, role) with no personal data."""
        with self.transaction() as session:
            self._record(session, self._ts(), realm, actor, action, outcome, detail)

    def events(self) -> list[AuthEventRow]:
        """Every sign-in event, oldest first."""
        with self._sessions() as session:
            return list(session.scalars(select(AuthEventRow).order_by(AuthEventRow.id)).all())


__all__ = [
    "AUTH_MESSAGES",
    "LOCK_AFTER",
    "LOCK_FIRST",
    "LOCK_MAX",
    "MIGRATIONS",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "REGISTRATION_DAILY",
    "REGISTRATION_INTERVAL",
    "REGISTRATION_TRIES",
    "REGISTRATION_TTL",
    "ROLES",
    "SESSION_IDLE",
    "SESSION_MAX",
    "VERSION_TABLE",
    "Account",
    "AccountRow",
    "AccountStore",
    "AccountsBase",
    "ApplicantApplicationRow",
    "AuthCode",
    "AuthError",
    "AuthEventRow",
    "Kind",
    "RegistrationRow",
    "SessionInfo",
    "SessionRow",
    "check_password_rules",
    "hash_password",
    "mainland_mobile",
    "password_matches",
    "session_hash",
]
