"""Mailbox keywords: take vendor emails from IMAP (over TLS) or a folder of ``.eml`` files.

The logic (parsing, which parts are documents, zip limits, the seen-ledger) is the engine's
(:mod:`invoicebot.mail`); this component connects, lists, hands raw mail to the engine and moves
handled mail into the processed or review folder.  Nothing is ever deleted.

IMAP goes through ``RPA.Email.ImapSmtp`` for listing and folders, with three parts done by
``imaplib`` directly (each says why where it happens):

- the TLS connection: ``Authorize Imap`` builds ``IMAP4_SSL`` without an SSL context, which on
  Python 3.11 does not check the server's certificate; we connect with a verifying context
  (system CAs, or the server's own CA file) and hand the connection to the library;
- the raw message: ``BODY.PEEK[]`` by UID, so the engine sees the exact bytes and no flag changes;
- the move: ``UID MOVE`` (RFC 6851), because the library's ``Move Messages`` copies, flags
  ``\\Deleted`` and then EXPUNGEs the whole folder, which would also erase mail that a person
  had flagged for deletion.

Known gotcha (measured on Dovecot 2.3): with INBOX selected read-write, ``List Messages`` gets
``FLAGS`` between ``UID`` and ``RFC822`` in the FETCH answer, finds no UID, returns nothing and
marks every message read.  So the source folder is always listed read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import os
import re
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invoicebot import mail as engine
from invoicebot.config import PROJECT_ROOT
from robot.api import logger
from robot.api.deco import keyword

from .base import Component, InvoiceRobotError


class MailboxError(InvoiceRobotError):
    """A mailbox keyword failed; the message says what, where and what to check."""


class MailboxConnectionError(MailboxError):
    """The server cannot be reached, or its TLS certificate is not trusted."""


class MailboxLoginError(MailboxError):
    """The server refused the user name or password."""


class MailboxNotOpen(MailboxError):
    """A keyword needs `Open Mailbox` or `Open Mail Folder` first."""


LEDGER_FILE = "attachment-ledger.jsonl"
#: The ledger's name before it became JSON Lines; an installation that has only this one is moved on.
LEGACY_LEDGER_FILE = "attachment-ledger.json"


def default_state_dir() -> Path:
    return Path(os.environ.get("INVOICEBOT_STATE_DIR") or PROJECT_ROOT / "var" / "state")


# ------------------------------------------------------------------------- pure helpers (tested)


@dataclass
class ImapSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    cafile: str | None = None


def resolve_imap_settings(
    server: str | None,
    port: int | str | None,
    user: str | None,
    password: str | None,
    cafile: str | None = None,
    secret: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> ImapSettings:
    """Pick each setting from the argument, then the vault secret, then the environment (``INVOICEBOT_IMAP_*``)."""
    env = os.environ if env is None else env
    secret = secret or {}

    def pick(arg: Any, keys: tuple[str, ...], env_name: str) -> Any:
        if arg not in (None, ""):
            return arg
        for k in keys:
            if secret.get(k) not in (None, ""):
                return secret[k]
        return env.get(env_name) or None

    host = pick(server, ("server", "host", "imap_server"), "INVOICEBOT_IMAP_HOST")
    raw_port = pick(port, ("port", "imap_port"), "INVOICEBOT_IMAP_PORT") or 993
    account = pick(user, ("user", "account", "username"), "INVOICEBOT_IMAP_USER")
    secret_pw = pick(password, ("password",), "INVOICEBOT_IMAP_PASSWORD")
    missing = [n for n, v in (("server", host), ("user", account), ("password", secret_pw)) if not v]
    if missing:
        raise MailboxError(
            f"cannot open the mailbox: no {', '.join(missing)} given; pass them to Open Mailbox, "
            "put them in the vault secret, or set INVOICEBOT_IMAP_HOST, INVOICEBOT_IMAP_USER and "
            "INVOICEBOT_IMAP_PASSWORD"
        )
    try:
        port_no = int(raw_port)
    except (TypeError, ValueError):
        raise MailboxError(f"IMAP port {raw_port!r} is not a number; use e.g. 993") from None
    ca = cafile or secret.get("cafile") or env.get("INVOICEBOT_IMAP_CAFILE") or None
    return ImapSettings(str(host), port_no, str(account), str(secret_pw), ca)


def explain_connect_error(host: str, port: int, exc: BaseException) -> str:
    """A message an analyst can act on for a failed connection to ``host:port``."""
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of the IMAP server {where} is not trusted ({exc.verify_message}); give the "
            "server's CA file in cafile= or INVOICEBOT_IMAP_CAFILE (the test server's is var/dovecot/tls/cert.pem)"
        )
    if isinstance(exc, ssl.SSLError):
        return (
            f"TLS with the IMAP server {where} failed ({exc.reason or exc}); check that {port} is the IMAPS "
            "(TLS) port and not plain IMAP"
        )
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"cannot reach the IMAP server {where}: connection refused; check that the server runs "
            "(for the project's server: scripts/dovecot.sh status) and that host and port are right"
        )
    if isinstance(exc, socket.gaierror):
        return f"cannot reach the IMAP server {where}: the host name does not resolve; check the server name"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"cannot reach the IMAP server {where}: no answer in time; check the network, firewall and port"
    return f"cannot reach the IMAP server {where}: {exc}; check that the server runs and host and port are right"


def message_summary(message: engine.Message, ref: str) -> dict[str, Any]:
    """The dict that `List Vendor Messages` returns for one message."""
    return {
        "ref": ref,
        "sender": message.sender,
        "sender_name": message.sender_name,
        "subject": message.subject,
        "date": message.date,
        "message_id": message.message_id,
        "documents": len(message.documents),
        "skipped": [f"{a.file_name}: {a.skip_reason}" for a in message.skipped],
        "problems": list(message.problems),
    }


def message_ref(message: Any) -> str:
    """The reference of a message given as a dict from `List Vendor Messages`/`Save Invoice Attachments` or a string."""
    if isinstance(message, dict):
        for key in ("ref", "message_ref", "uid"):
            if message.get(key) not in (None, ""):
                return str(message[key])
        raise MailboxError(
            f"the message dict has no 'ref' (keys: {', '.join(message)}); pass an item of "
            "List Vendor Messages or Save Invoice Attachments"
        )
    if message in (None, ""):
        raise MailboxError("no message given; pass an item of List Vendor Messages or Save Invoice Attachments")
    return str(message)


# ------------------------------------------------------------------------------------ sources


class _FolderSource:
    """A folder of ``.eml`` files: handled mail moves into processed/ or review/ beside them."""

    kind = "folder"

    def __init__(self, folder: Path):
        self.folder = folder

    def describe(self) -> str:
        return f"mail folder {self.folder}"

    def fetch(self) -> list[tuple[str, bytes]]:
        files = sorted(p for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() == ".eml")
        return [(str(p), p.read_bytes()) for p in files]

    def move(self, ref: str, where: str) -> str:
        sub = engine.PROCESSED if where == "processed" else engine.REVIEW
        try:
            return str(engine.mark_eml(ref, sub))
        except engine.MailError as exc:
            raise MailboxError(str(exc)) from exc

    def counts(self) -> dict[str, int]:
        out = {"INBOX": sum(1 for p in self.folder.glob("*.eml"))}
        for sub in (engine.PROCESSED, engine.REVIEW):
            out[sub] = sum(1 for _ in (self.folder / sub).glob("*.eml")) if (self.folder / sub).is_dir() else 0
        return out

    def close(self) -> None:
        return None


class _ImapSource:
    kind = "imap"

    def __init__(
        self,
        settings: ImapSettings,
        source_folder: str,
        processed_folder: str,
        review_folder: str,
        timeout: float = 30.0,
    ):
        from RPA.Email.ImapSmtp import ImapSmtp  # the library part may import RPA; lazily, it is slow to import

        self.settings = settings
        self.source_folder = source_folder
        self.folders = {"processed": processed_folder, "review": review_folder}
        where = f"{settings.host}:{settings.port}"
        ctx = ssl.create_default_context(cafile=settings.cafile) if settings.cafile else ssl.create_default_context()
        if settings.cafile and not Path(settings.cafile).is_file():
            raise MailboxConnectionError(
                f"the CA file {settings.cafile} for {where} does not exist; give the "
                "server's certificate (scripts/dovecot.sh start makes var/dovecot/tls/cert.pem)"
            )
        try:
            # imaplib, not Authorize Imap: that one connects without checking the certificate (see module doc).
            conn = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=ctx, timeout=timeout)
        except (OSError, ssl.SSLError) as exc:
            raise MailboxConnectionError(explain_connect_error(settings.host, settings.port, exc)) from None
        try:
            conn.login(settings.user, settings.password)
        except imaplib.IMAP4.error as exc:
            with contextlib.suppress(Exception):
                conn.logout()
            text = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise MailboxLoginError(
                f"the IMAP server {where} refused the login of user {settings.user!r} ({text}); "
                "check the user name and password (argument, vault secret or "
                "INVOICEBOT_IMAP_PASSWORD)"
            ) from None
        # imaplib keeps the capabilities from before the login, which lack MOVE and UIDPLUS on Dovecot.
        status, caps = conn.capability()
        self.capabilities = set(caps[0].decode().upper().split()) if status == "OK" and caps and caps[0] else set()
        self.lib = ImapSmtp(imap_server=settings.host, imap_port=settings.port)
        self.lib.imap_conn = conn
        self.lib.account = settings.user  # the password stays out of the library object
        self.conn = conn
        self.where = where
        self._check_folder(source_folder)

    def describe(self) -> str:
        return f"IMAP {self.settings.user}@{self.where} folder {self.source_folder}"

    def _check_folder(self, name: str) -> None:
        status, data = self.conn.select(_quote(name), readonly=True)
        if status != "OK":
            raise MailboxError(
                f"folder {name!r} does not exist on {self.where}; folders there: {', '.join(self.folder_names())}"
            )

    def folder_names(self) -> list[str]:
        return [f["name"] for f in self.lib.get_folder_list()]

    def ensure_folder(self, name: str) -> None:
        if name not in self.folder_names() and not self.lib.create_folder(name):
            raise MailboxError(
                f"cannot create folder {name!r} on {self.where}; create it by hand or check the user's rights"
            )

    def fetch(self) -> list[tuple[str, bytes]]:
        status, data = self.conn.select(_quote(self.source_folder), readonly=True)
        if status != "OK":
            raise MailboxError(f"folder {self.source_folder!r} cannot be opened on {self.where}: {data}")
        if data and data[0] == b"0":
            return []  # (the library would log a warning for an empty folder)
        # RPA lists (read-only, see module doc); the exact bytes come by BODY.PEEK[] so no flag changes.
        listed = self.lib.list_messages(criterion="UNDELETED", source_folder=self.source_folder, readonly=True)
        uids = sorted({str(m["uid"]) for m in listed if m.get("uid")}, key=int)
        self.conn.select(_quote(self.source_folder), readonly=True)
        # Cross-check with a plain UID SEARCH: the library's FETCH parser misses messages whose answer
        # carries FLAGS before RFC822 (see module doc); never let a message go unseen silently.
        status, data = self.conn.uid("SEARCH", None, "UNDELETED")
        if status == "OK" and data and data[0]:
            found = data[0].decode().split()
            if len(found) > len(uids):
                logger.warn(
                    f"List Messages returned {len(uids)} of {len(found)} messages in {self.source_folder} "
                    f"on {self.where}; taking all {len(found)} by UID"
                )
                uids = sorted(set(found), key=int)
        out = []
        for uid in uids:
            status, data = self.conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((d[1] for d in data if isinstance(d, tuple) and len(d) > 1), None) if status == "OK" else None
            if raw is None:
                logger.warn(
                    f"message uid {uid} in {self.source_folder} on {self.where} could not be fetched; "
                    "it stays where it is"
                )
                continue
            out.append((uid, raw))
        return out

    def move(self, ref: str, where: str) -> str:
        target = self.folders[where]
        self.ensure_folder(target)
        if not ref.isdigit():
            raise MailboxError(f"{ref!r} is not an IMAP message uid; pass an item of List Vendor Messages")
        status, _ = self.conn.select(_quote(self.source_folder), readonly=False)
        try:
            caps = self.capabilities
            if "MOVE" in caps:
                status, data = self.conn.uid("MOVE", ref, _quote(target))
            else:
                status, data = self.conn.uid("COPY", ref, _quote(target))
                if status == "OK":
                    self.conn.uid("STORE", ref, "+FLAGS.SILENT", r"(\Deleted)")
                    if "UIDPLUS" in caps:  # expunge only this message; never the whole folder
                        self.conn.uid("EXPUNGE", ref)
        finally:
            self.conn.select(_quote(self.source_folder), readonly=True)
        if status != "OK":
            raise MailboxError(
                f"moving message uid {ref} from {self.source_folder!r} to {target!r} on {self.where} "
                f"failed ({data}); the message stays in {self.source_folder!r}"
            )
        return f"{target}"

    def counts(self) -> dict[str, int]:
        out = {}
        for name in self.folder_names():
            status, data = self.conn.status(_quote(name), "(MESSAGES)")
            m = re.search(rb"MESSAGES (\d+)", data[0] or b"") if status == "OK" else None
            out[name] = int(m.group(1)) if m else 0
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.logout()
        self.lib.imap_conn = None


def _hand_on_outputs() -> None:
    """Make the work items created so far visible to consumers where the adapter holds them back (the PostgreSQL
    queue keeps an output as a draft until its files are in): only then may the ledger count them as queued."""
    try:
        from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

        workitems = BuiltIn().get_library_instance("RPA.Robocorp.WorkItems")
    except (ImportError, RuntimeError, RobotNotRunningError):
        return  # not in a robot run, or no work-item library imported: nothing is held back
    adapter = getattr(workitems, "_adapter", None)
    seal = getattr(adapter, "seal", None)
    if callable(seal):
        seal()


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ----------------------------------------------------------------------------------- keywords


class MailboxKeywords(Component):
    """Keywords that take vendor emails and their documents from a mailbox."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self._source: _FolderSource | _ImapSource | None = None
        self._messages: dict[str, engine.Message] = {}
        self._ledger: engine.AttachmentLedger | None = None
        with contextlib.suppress(Exception):  # hide Open Mailbox's arguments from the log where the listener runs
            from RPA.Robocorp.utils import protect_keywords

            protect_keywords("InvoiceLibrary", ["open_mailbox"])

    # -- state
    @property
    def source(self) -> _FolderSource | _ImapSource:
        if self._source is None:
            raise MailboxNotOpen("no mailbox is open; call Open Mailbox (IMAP) or Open Mail Folder (.eml files) first")
        return self._source

    def _open_ledger(self, state_dir: str | None) -> None:
        path = Path(state_dir) if state_dir else default_state_dir()
        legacy, current = path / LEGACY_LEDGER_FILE, path / LEDGER_FILE
        if legacy.is_file() and not current.exists():
            legacy.rename(current)  # the ledger reads the old format and rewrites it as JSON Lines
        try:
            self._ledger = engine.AttachmentLedger(current)
        except engine.MailError as exc:
            raise MailboxError(str(exc)) from exc

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.close()
        self._source = None
        self._messages = {}

    # -- keywords
    @keyword
    def open_mailbox(
        self,
        server: str | None = None,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        source_folder: str = "INBOX",
        processed_folder: str = "Processed",
        review_folder: str = "Review",
        cafile: str | None = None,
        vault_secret: str | None = None,
        state_dir: str | None = None,
    ) -> None:
        """Connects to an IMAP server over TLS and opens ``source_folder`` read-only.

        | =Arguments= | =Description= |
        | ``server`` | Host name of the IMAP server; default the vault secret's ``server`` or ``INVOICEBOT_IMAP_HOST``. |
        | ``port`` | IMAPS (TLS) port; default the secret's ``port``, ``INVOICEBOT_IMAP_PORT`` or 993. |
        | ``user`` | Account; default the secret's ``user`` or ``INVOICEBOT_IMAP_USER``. |
        | ``password`` | Password; default the secret's ``password`` or ``INVOICEBOT_IMAP_PASSWORD``. The keyword \
never logs it, but Robot logs argument values at TRACE level: leave it to the vault or the environment. |
        | ``source_folder`` | Folder the vendor mail arrives in (default ``INBOX``); it is only read. |
        | ``processed_folder`` | Where `Mark Message Processed` moves mail (default ``Processed``; created if missing). |
        | ``review_folder`` | Where `Move Message To Review` moves mail (default ``Review``; created if missing). |
        | ``cafile`` | CA file that signed the server's certificate (a self-signed server's own cert); default \
``INVOICEBOT_IMAP_CAFILE``, else the system's CAs. The certificate is always checked. |
        | ``vault_secret`` | Name of an ``RPA.Robocorp.Vault`` secret holding ``server``, ``port``, ``user``, ``password``. |
        | ``state_dir`` | Folder of the attachment ledger (what was taken already); default ``INVOICEBOT_STATE_DIR`` or \
``var/state``. |

        Example:
        | `Open Mailbox`    vault_secret=invoice_mailbox
        | `Open Mailbox`    127.0.0.1    10993    robot@invoicebot.test    cafile=var/dovecot/tls/cert.pem

        Fails with a message naming ``host:port`` when the server cannot be reached (check that it runs and the
        port is the TLS one), when the certificate is not trusted (give ``cafile``), when the login is refused
        (check user and password), and when ``source_folder`` does not exist.
        """
        secret = None
        if vault_secret:
            try:
                from RPA.Robocorp.Vault import Vault

                secret = dict(Vault().get_secret(vault_secret))
            except Exception as exc:  # the vault's own errors vary by backend
                raise MailboxError(
                    f"cannot read vault secret {vault_secret!r}: {exc}; check the vault set-up "
                    "(RPA_SECRET_MANAGER / RPA_SECRET_FILE)"
                ) from None
        settings = resolve_imap_settings(server, port, user, password, cafile, secret)
        source = _ImapSource(settings, source_folder, processed_folder, review_folder)
        self._close_source()
        try:
            self._open_ledger(state_dir)
        except MailboxError:
            source.close()
            raise
        self._source = source
        logger.info(f"Opened {self._source.describe()} (read-only); ledger {self._ledger.path}")

    @keyword
    def open_mail_folder(self, folder: str | None = None, state_dir: str | None = None) -> None:
        """Opens a folder of ``.eml`` files as the inbox (the embedded default, no mail server needed).

        Handled mail is moved into ``processed/`` or ``review/`` inside the folder; nothing is deleted.

        | =Arguments= | =Description= |
        | ``folder`` | Folder holding the ``.eml`` files; default ``INVOICEBOT_MAIL_FOLDER`` or \
``resources/demo_inbox``. |
        | ``state_dir`` | Folder of the attachment ledger; default ``INVOICEBOT_STATE_DIR`` or ``var/state``. |

        Example:
        | `Open Mail Folder`    ${CURDIR}/inbox

        Fails when the folder does not exist.
        """
        path = Path(folder or os.environ.get("INVOICEBOT_MAIL_FOLDER") or PROJECT_ROOT / "resources" / "demo_inbox")
        if not path.is_dir():
            raise MailboxError(
                f"mail folder {path} does not exist or is not a folder; give the folder that holds the .eml files"
            )
        self._close_source()
        self._open_ledger(state_dir)
        self._source = _FolderSource(path)
        logger.info(f"Opened {self._source.describe()}; ledger {self._ledger.path}")

    @keyword
    def list_vendor_messages(self) -> list[dict[str, Any]]:
        """Lists the messages in the source folder, each parsed, without changing any flag.

        Returns a list of dicts with ``ref`` (the IMAP uid or the ``.eml`` path), ``sender``, ``sender_name``,
        ``subject``, ``date`` (ISO 8601), ``message_id``, ``documents`` (how many attachments are documents),
        ``skipped`` (the other parts, each with why) and ``problems`` (why a person must open the mail: too large,
        MIME that cannot be parsed, more documents than the per-mail limit; empty for an ordinary mail). A mail
        with problems is listed like any other, never dropped: move it to review with `Move Message To Review`.

        | =Arguments= | =Description= |
        | (none) | Lists the folder that `Open Mailbox` or `Open Mail Folder` opened. |

        Example:
        | @{messages} =    `List Vendor Messages`
        | FOR    ${m}    IN    @{messages}
        |     Log    ${m}[sender]: ${m}[subject] (${m}[documents] documents)
        | END

        Fails when no mailbox is open or the server drops the connection.
        """
        source = self.source
        try:
            raw_items = source.fetch()
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailboxError(f"listing {source.describe()} failed: {exc}; open the mailbox again") from None
        self._messages = {}
        out = []
        for ref, raw in raw_items:
            try:
                msg = engine.parse_message(raw, ref=ref)
            except Exception as exc:  # the engine answers every content with a Message; this is a bug: go on
                msg = engine.Message(sender="", sender_name="", subject="", date="",
                                     message_id=f"no-id-{hashlib.sha256(raw).hexdigest()[:16]}", source=ref,
                                     problems=[f"the mail cannot be read ({type(exc).__name__}: {exc}); open it by hand"])
            if msg.problems:
                logger.warn(f"message {ref} needs a person: {'; '.join(msg.problems)}")
            self._messages[ref] = msg
            out.append(message_summary(msg, ref))
        logger.info(f"{len(out)} message(s) in {source.describe()}")
        return out

    @keyword
    def save_invoice_attachments(
        self, target_dir: str, messages: list | None = None, include_skipped: bool = False
    ) -> list[dict[str, Any]]:
        """Saves the new document attachments (PDF, PNG, JPEG, TIFF) of the messages into ``target_dir``.

        Documents are found by content, also inside forwarded mail and zip archives; inline logos, other
        files, rejected archives and anything the ledger already holds (same SHA-256, from any earlier mail
        or run) are skipped and logged with the reason. Flags and folders are not changed.

        | =Arguments= | =Description= |
        | ``target_dir`` | Folder to save into (created if missing). |
        | ``messages`` | Items of `List Vendor Messages` to take; default all messages in the source folder. |
        | ``include_skipped`` | True: also return skipped attachments (``status`` ``skipped`` and a ``reason``). |

        Returns a list of dicts: ``path``, ``sha256``, ``file_name``, ``media_type``, ``size``, ``sender``,
        ``subject``, ``date``, ``message_id``, ``message_ref`` (for `Mark Message Processed`), ``origin``
        (which part or zip member), ``status`` and ``reason``.

        Example:
        | @{saved} =    `Save Invoice Attachments`    ${OUTPUT_DIR}/attachments
        | FOR    ${doc}    IN    @{saved}
        |     Log    ${doc}[file_name] from ${doc}[sender]
        | END

        Fails when no mailbox is open, the folder cannot be written, or the ledger file is unreadable.
        """
        if messages is None:
            self.list_vendor_messages()
            refs = list(self._messages)
        else:
            refs = [message_ref(m) for m in messages]
        results: list[dict[str, Any]] = []
        saved = skipped = 0
        for ref in refs:
            msg = self._messages.get(ref)
            if msg is None:
                raise MailboxError(
                    f"message {ref} is not among the listed messages of {self.source.describe()}; "
                    "call List Vendor Messages first"
                )
            try:
                records = engine.save_attachments(msg, target_dir, self._ledger)
            except engine.MailError as exc:
                raise MailboxError(str(exc)) from exc
            for rec in records:
                d = rec.to_dict()
                d["message_ref"] = ref
                if rec.status == "saved":
                    saved += 1
                    results.append(d)
                else:
                    skipped += 1
                    logger.info(f"skipped {rec.file_name} ({rec.origin}) of {ref}: {rec.reason}")
                    if include_skipped:
                        results.append(d)
        logger.info(f"saved {saved} new document(s) into {target_dir}, skipped {skipped}, from {len(refs)} message(s)")
        return results

    @keyword
    def mark_attachment_queued(self, attachment: dict) -> None:
        """Records in the attachment ledger that the work item of a saved attachment exists.

        Call it right after `Create Output Work Item`: until then the ledger holds the attachment as ``saved``,
        and a run that was stopped in between (killed, disk full) queues it again on the next run instead of
        taking it for a duplicate of itself.

        | =Arguments= | =Description= |
        | ``attachment`` | An entry of `Save Invoice Attachments` with ``status`` ``saved``. |

        Example:
        | Create Output Work Item    variables=${payload}    files=${attachment}[path]    save=${True}
        | `Mark Attachment Queued`    ${attachment}

        Fails when no mailbox is open or the ledger cannot be written (the message says what to check).
        """
        if self._ledger is None:
            raise MailboxNotOpen("no mailbox is open; call Open Mailbox or Open Mail Folder first")
        if attachment.get("status") != "saved":
            return
        _hand_on_outputs()
        try:
            engine.mark_queued(self._ledger, [attachment["sha256"]])
        except engine.MailError as exc:
            raise MailboxError(str(exc)) from exc

    @keyword
    def mark_message_processed(self, message: Any) -> str:
        """Moves a message into the processed folder (IMAP ``Processed`` or ``processed/``); never deletes it.

        | =Arguments= | =Description= |
        | ``message`` | An item of `List Vendor Messages` or of `Save Invoice Attachments`, or its ``ref``. |

        Returns the folder (IMAP) or file path (``.eml``) the message moved to.

        Example:
        | `Mark Message Processed`    ${message}

        Fails when the message is not in the source folder any more or the server refuses the move.
        """
        return self._move(message, "processed")

    @keyword
    def move_message_to_review(self, message: Any, reason: str = "") -> str:
        """Moves a message that needs a person into the review folder (IMAP ``Review`` or ``review/``).

        | =Arguments= | =Description= |
        | ``message`` | An item of `List Vendor Messages` or of `Save Invoice Attachments`, or its ``ref``. |
        | ``reason`` | Why a person must look at it; written to the log. |

        Example:
        | `Move Message To Review`    ${message}    reason=total does not match the lines

        Fails like `Mark Message Processed`.
        """
        where = self._move(message, "review")
        logger.info(f"to review: {message_ref(message)} ({reason or 'no reason given'})")
        return where

    def _move(self, message: Any, where: str) -> str:
        ref = message_ref(message)
        try:
            dest = self.source.move(ref, where)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailboxError(
                f"moving message {ref} to {where} in {self.source.describe()} failed: {exc}; "
                "the message stays in the source folder"
            ) from None
        self._messages.pop(ref, None)
        logger.info(f"moved message {ref} to {dest}")
        return dest

    @keyword
    def get_mailbox_folder_counts(self) -> dict[str, int]:
        """Returns how many messages each folder of the open mailbox holds (``{'INBOX': 3, 'Processed': 5, ...}``).

        | =Arguments= | =Description= |
        | (none) | Counts the folders of the open mailbox (for a mail folder: the folder, processed/, review/). |

        Example:
        | &{counts} =    `Get Mailbox Folder Counts`
        | Should Be Equal As Integers    ${counts}[INBOX]    0

        Fails when no mailbox is open.
        """
        return self.source.counts()

    @keyword
    def close_mailbox(self) -> None:
        """Logs out of the IMAP server or closes the mail folder; does nothing when none is open.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | [Teardown]    `Close Mailbox`

        Does not fail.
        """
        self._close_source()
        self._ledger = None
