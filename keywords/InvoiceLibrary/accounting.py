"""Keywords that key an extracted invoice into an accounting UI through a UI profile (.resource).

The UI itself lives in a profile: a Robot resource file that defines a fixed set of keywords
(see resources/accounting/README.md).  These keywords load the configured profile with
``BuiltIn().import_resource`` and call its keywords by name, so pointing the robot at another
accounting UI takes a new profile, not Python.  The decisions (what to type, duplicates,
read-back comparison) are the engine's (``invoicebot.accounting``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from invoicebot.accounting import (
    KeyingOutcome,
    KeyingPayload,
    KeyingRejected,
    build_keying_payload,
    classify_matches,
    compare_readback,
    keying_input,
)
from invoicebot.config import RESOURCES_DIR
from invoicebot.masking import mask_text
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from .base import Component, InvoiceRobotError, MaskedDict

#: The profile used when none is named: Tryton through sao.
DEFAULT_PROFILE = RESOURCES_DIR / "accounting" / "tryton.resource"

#: Keywords every profile must define (checked when it is loaded).
PROFILE_KEYWORDS = (
    "Open Accounting",
    "Log In To Accounting",
    "Supplier Exists",
    "Find Supplier Invoice",
    "Enter Supplier Invoice",
    "Read Supplier Invoice",
    "Post Supplier Invoice",
    "Capture Accounting Evidence",
    "Close Accounting",
)


class AccountingError(InvoiceRobotError):
    """The accounting UI did not do what was asked (application exception: retry later)."""


def resolve_profile(profile: str | os.PathLike[str] | None) -> Path:
    """A profile name (``tryton``) or path as the path of its .resource file; fails when it is missing."""
    raw = str(profile or os.environ.get("INVOICEBOT_ACCOUNTING_PROFILE") or DEFAULT_PROFILE)
    path = Path(raw)
    if not path.suffix:
        path = RESOURCES_DIR / "accounting" / f"{raw}.resource"
    if not path.is_file():
        raise InvoiceRobotError(f"accounting profile {raw!r} not found at {path}; write a .resource profile "
                                "(see resources/accounting/README.md) or set INVOICEBOT_ACCOUNTING_PROFILE")
    return path.resolve()


def _first_line(exc: BaseException) -> str:
    """The message of an error without Selenium's stack trace."""
    text = str(exc).strip()
    return text.split("\n  (Session info")[0].split("\nStacktrace:")[0].strip() or type(exc).__name__


def mask_evidence_file(path: Path) -> bool:
    """Rewrite a saved page source with IBANs, tax ids and passwords masked; False when there is no such file.

    The page source of a failure lands in the output folder (uploaded as artifacts) and may show what the
    form held: whatever a profile saves is masked here, so no profile has to remember it.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return False
    masked = mask_text(text)
    if masked != text:
        path.write_text(masked, encoding="utf-8")
    return True


class AccountingKeywords(Component):
    """Keying into the accounting UI configured as a profile."""

    @property
    def _state(self) -> dict[str, Any]:
        return self.ctx.cache.setdefault("accounting", {"profile": None, "prefix": None, "logged_in": False})

    @keyword
    def use_accounting_profile(self, profile: str = "tryton") -> str:
        """Loads the accounting UI profile that the accounting keywords use from now on.

        | =Arguments= | =Description= |
        | ``profile`` | A profile name under ``resources/accounting/`` (``tryton``) or the path of a ``.resource``. |

        Returns the path of the profile.  Without this keyword the profile named by the environment
        variable ``INVOICEBOT_ACCOUNTING_PROFILE`` is used, else ``tryton``.

        Example:
        | `Use Accounting Profile`    ${CURDIR}/my_erp.resource

        Fails when the file is missing or lacks one of the profile keywords.
        """
        path = resolve_profile(profile)
        builtin = BuiltIn()
        builtin.import_resource(str(path))
        prefix = path.stem
        missing = [kw for kw in PROFILE_KEYWORDS if not builtin.run_keyword_and_return_status(
            "Keyword Should Exist", f"{prefix}.{kw}")]
        if missing:
            raise InvoiceRobotError(f"accounting profile {path} lacks the keyword(s) {', '.join(missing)}; "
                                    "see resources/accounting/README.md for what a profile defines")
        self._state.update(profile=path, prefix=prefix, logged_in=False)
        return str(path)

    def _profile(self) -> str:
        if self._state["prefix"] is None:
            self.use_accounting_profile(os.environ.get("INVOICEBOT_ACCOUNTING_PROFILE") or "tryton")
        return str(self._state["prefix"])

    def _run(self, name: str, *args: Any) -> Any:
        return BuiltIn().run_keyword(f"{self._profile()}.{name}", *args)

    def _variable(self, name: str, default: Any = None) -> Any:
        return BuiltIn().get_variable_value("${" + name + "}", default)

    def _evidence(self, what: str) -> str:
        out_dir = Path(self._variable("OUTPUT_DIR", ".") or ".")
        base = out_dir / f"accounting-failure-{time.strftime('%Y%m%d-%H%M%S')}-{what}"
        try:
            self._run("Capture Accounting Evidence", str(base))
        except Exception as exc:  # noqa: BLE001 - evidence is best effort; the original failure matters
            return f"(no screenshot: {mask_text(_first_line(exc))})"
        finally:
            mask_evidence_file(Path(f"{base}.html"))
        return f"screenshot {base}.png, page source {base}.html"

    def _restart(self) -> None:
        """After a failure the page is in an unknown state: close it; the next item logs in afresh."""
        self._state["logged_in"] = False
        try:
            self._run("Close Accounting")
        except Exception:  # noqa: BLE001, S110 - the browser may be gone already
            pass

    @keyword
    def open_accounting(self) -> None:
        """Opens the accounting UI of the configured profile and logs in (no-op when already in).

        | =Arguments= | =Description= |
        | (none) | The profile comes from `Use Accounting Profile` (default: ``INVOICEBOT_ACCOUNTING_PROFILE``, else ``tryton``). |

        Credentials come from the profile's variables (for Tryton: ``INVOICEBOT_TRYTON_USER`` and
        ``INVOICEBOT_TRYTON_PASSWORD`` in the environment) and are never logged.

        Example:
        | `Open Accounting`

        Fails with the profile's message when the UI does not open or refuses the login.
        """
        if self._state["logged_in"]:
            return
        self._run("Open Accounting")
        self._run("Log In To Accounting")
        self._state["logged_in"] = True

    @keyword
    def close_accounting(self) -> None:
        """Closes the accounting UI's browser.

        | =Arguments= | =Description= |
        | (none) | Closes the browser that `Open Accounting` or `Key Invoice Into Accounting` opened; a no-op when none is open. |

        Example:
        | [Teardown]    `Close Accounting`

        Fails only when the profile's own ``Close Accounting`` keyword fails (a browser that no longer answers);
        the next `Open Accounting` starts a new one.
        """
        if self._state["prefix"] is not None:
            self._run("Close Accounting")
        self._state["logged_in"] = False

    @keyword
    def key_invoice_into_accounting(self, invoice: Any, post: bool = False, allow_existing: bool = True) -> dict:
        """Keys one extracted invoice into the accounting UI, reads it back and compares.

        | =Arguments= | =Description= |
        | ``invoice`` | An ``ExtractionResult``, its ``to_dict()``, or a dict of field values (``vendor_name``, ``invoice_number``, ``invoice_date``, ``currency``, ``subtotal_amount``, ``tax_amount``, ``total_amount``, ``due_date``, ``line_items``). |
        | ``post`` | ``True`` posts the invoice after the read-back matched; ``False`` leaves a draft. |
        | ``allow_existing`` | ``True`` (default): an invoice that an earlier, interrupted run keyed for this same document is taken as done (``ALREADY_KEYED``) instead of keyed again. |

        Returns a dict: ``status`` (``KEYED``, ``ALREADY_KEYED``, ``DUPLICATE``, ``REVIEW``), ``code``,
        ``message``, ``invoice_id``, ``state``, ``posted``, ``differences`` (field, keyed, read_back),
        ``seconds`` and ``payload``.  ``DUPLICATE`` and ``REVIEW`` are business exceptions for a person:
        the supplier is unknown, the tax matches no configured rate, the amounts don't add up, the
        supplier already has this reference, or the read-back differs (the draft is then left unposted).

        Example:
        | ${outcome} =    `Key Invoice Into Accounting`    ${invoice}    post=${TRUE}
        | IF    $outcome['status'] in ('DUPLICATE', 'REVIEW')
        |     Release Input Work Item    FAILED    exception_type=BUSINESS    code=${outcome}[code]    message=${outcome}[message]
        | END

        Fails (application exception, retry) when the UI does not respond as the profile expects;
        a screenshot and the page source are saved in the output folder first.
        """
        start = time.perf_counter()
        values, items, sha256 = keying_input(invoice)
        tax_products = dict(self._table("TAX_PRODUCTS"))
        payment_terms = dict(self._table("PAYMENT_TERMS"))
        try:
            payload = build_keying_payload(values, items, tax_products=tax_products, payment_terms=payment_terms,
                                           sha256=sha256)
        except KeyingRejected as exc:
            return MaskedDict(KeyingOutcome("REVIEW", exc.code, mask_text(str(exc)),
                                            seconds=time.perf_counter() - start).to_dict())
        outcome = self._key(payload, bool(post), bool(allow_existing))
        outcome.seconds = round(time.perf_counter() - start, 3)
        outcome.payload = payload.to_dict()
        outcome.message = mask_text(outcome.message)
        return MaskedDict(outcome.to_dict())  # Robot logs the returned value: printed masked

    def _table(self, name: str) -> dict[str, str]:
        self._profile()
        value = self._variable(name, {})
        if not isinstance(value, dict):
            raise InvoiceRobotError(f"accounting profile {self._state['profile']}: ${{{name}}} must be a dictionary "
                                    "(&{...} in its Variables section)")
        return {str(k): str(v) for k, v in value.items()}

    def _key(self, payload: KeyingPayload, post: bool, allow_existing: bool) -> KeyingOutcome:
        step = "open"
        try:
            self.open_accounting()
            step = "find"
            found = self._run("Find Supplier Invoice", payload.supplier, payload.reference, payload.total_amount,
                              payload.invoice_date)
            match = classify_matches(payload, list(found or []))
            if match is not None and (match.status == "DUPLICATE" or not allow_existing):
                return KeyingOutcome("DUPLICATE", "DUPLICATE", match.reason, invoice_id=int(match.invoice["id"]),
                                     state=str(match.invoice.get("state") or ""))
            if match is not None:
                invoice_id = int(match.invoice["id"])
                status = "ALREADY_KEYED"
            else:
                step = "supplier"
                create = str(self._variable("CREATE_UNKNOWN_SUPPLIER", False)).lower() in ("true", "1", "yes")
                if not create and not self._run("Supplier Exists", payload.supplier):
                    return KeyingOutcome("REVIEW", "UNKNOWN_SUPPLIER",
                                         f"supplier {payload.supplier!r} is not in the accounting system; create it "
                                         "there (or set ${CREATE_UNKNOWN_SUPPLIER} in the profile) and retry")
                step = "enter"
                invoice_id = int(self._run("Enter Supplier Invoice", payload.to_dict()))
                status = "KEYED"
            step = "read back"
            read = dict(self._run("Read Supplier Invoice", invoice_id))
            differences = [d.__dict__ for d in compare_readback(payload, read)]
            state = str(read.get("state") or "")
            if differences:
                listed = "; ".join(f"{d['field']}: keyed {d['keyed']!r}, reads {d['read_back']!r}" for d in differences)
                return KeyingOutcome("REVIEW", "READBACK_MISMATCH",
                                     f"invoice {invoice_id} reads back differently ({listed}); it was left "
                                     f"{state or 'unposted'} for review", invoice_id=invoice_id, state=state,
                                     differences=differences)
            if post and state in ("draft", "validated"):
                step = "post"
                state = str(self._run("Post Supplier Invoice", invoice_id))
            message = "keyed and read back equal" if status == "KEYED" else (
                f"found invoice {invoice_id} keyed by an earlier run for this document; not keyed again")
            return KeyingOutcome(status, status, message, invoice_id=invoice_id, state=state,
                                 posted=state == "posted")
        except InvoiceRobotError:
            raise
        except Exception as exc:
            evidence = self._evidence(step.replace(" ", "-"))
            self._restart()
            raise AccountingError(mask_text(
                f"keying supplier invoice {payload.reference!r} of {payload.supplier!r} failed at step '{step}': "
                f"{_first_line(exc)}. Evidence: {evidence}. Check that the accounting UI is up "
                "(scripts/tryton/start.sh) and retry the work item.")) from exc
