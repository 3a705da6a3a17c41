"""Mask bank accounts, tax ids, personal addresses and passwords before anything reaches a log or a report.

The robot's log is read by many people; an IBAN, a VAT number or a password in it is a secret that
leaked.  ``mask_text`` finds them in free text, ``mask_value``/``mask_fields``/``mask_data`` mask by
field name whatever the value looks like.  Masking keeps the first four and last two characters (of
an IBAN or a tax id) so that an analyst can still tell two accounts apart; a password keeps nothing.
Masking never changes the length of a text: a masked line splits into the same words as the original.

What counts as a personal identifier here: the IBAN (a bank account: fraud), every tax id (a sole
trader's VAT or tax number is their personal tax number) and the vendor's address (a sole trader's is
their home).  Names of companies, invoice numbers and amounts stay readable: the robot's log must
still say which invoice of which vendor it is about.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

#: Fields whose values are masked wherever they are shown.
SENSITIVE_FIELDS: frozenset[str] = frozenset({"iban", "vendor_tax_id", "customer_tax_id", "vendor_address"})

#: Keys whose values are credentials: masked entirely, in dicts and in ``key=value`` text.
SECRET_KEYS: frozenset[str] = frozenset({"password", "passwd", "pwd", "pass", "secret", "api_key", "apikey",
                                         "access_token", "auth_token", "client_secret", "private_key"})

_SP = "[ \u00a0]"  # a space or a no-break space between groups
# IBAN: two letters, two check digits, 11..30 letters/digits, optionally grouped by spaces of four.
_IBAN = re.compile(rf"\b[A-Z]{{2}}\d{{2}}(?:{_SP}?[A-Z0-9]{{4}}){{2,7}}(?:{_SP}?[A-Z0-9]{{1,4}})?\b")
# EU/UK/CH VAT ids with their country prefix (EL for Greece, XI Northern Ireland, EU for the OSS scheme).
_VAT_COUNTRIES = ("AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|EU|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI")
_VAT = re.compile(rf"\b(?:{_VAT_COUNTRIES}){_SP}?[0-9A-Z][0-9A-Z .\u00a0-]{{6,13}}[0-9A-Z]\b")
_CHE = re.compile(r"\bCHE[- ]?\d{3}\.?\d{3}\.?\d{3}(?:[ ]?(?:MWST|TVA|IVA))?\b")
# Norway (NO 123 456 789 MVA), Australia's ABN (91 108 015 838), India's GSTIN (22AAAAA0000A1Z5),
# Poland's NIP written with dashes (123-456-32-18, 123-45-67-819), the US EIN (12-3456789).
_NO_MVA = re.compile(r"\bNO ?\d{3} ?\d{3} ?\d{3} ?MVA\b")
_ABN = re.compile(r"(?<![\d.,])\d{2} \d{3} \d{3} \d{3}(?![\d.,])")
_GSTIN = re.compile(r"\b\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]\b")
_NIP = re.compile(r"\b(?:\d{3}-\d{3}-\d{2}-\d{2}|\d{3}-\d{2}-\d{2}-\d{3})\b")
_EIN = re.compile(r"\b\d{2}-\d{7}\b")
# A number after a tax id's label ("Steuernummer 21/815/08150", "NIF: B12345678", "TIN 123456789"): the
# labels of vendor_tax_id / customer_tax_id in resources/vocabulary/labels.yaml, by their key words.
_TAX_LABEL = re.compile(
    r"(?i:\b(?:VAT|TVA|BTW|IVA|MwSt|USt|UID|NIP|NIF|CIF|TIN|EIN|ABN|GSTIN|GST|RFC|RUT|CUIT|Tax|"
    r"Steuer|St\.|Codice\s+fiscale|C\.F\.|Cod\.\s*Fisc\.|Partita|P\.\s?I\.?|Ondernemingsnummer|Ond\.nr|"
    r"Fiscaal|Omzetbelastingnummer|Umsatzsteuer|Mehrwertsteuernummer|Identifikationsnummer)"
    r"(?:[^\W\d_]|[./-])*(?:[ \u00a0]+(?:[^\W\d_]|[./°'-]){1,24}){0,3})"
    r"[ \u00a0]*[:#]?[ \u00a0]*(?P<v>[A-Z]{0,3}[ -]?\d[\dA-Z./-]*(?:[ \u00a0]\d[\d./-]*){0,4})")
# Words that make a tax label another field's ("Tax invoice No 12345678" is an invoice number, "VAT total").
_NOT_A_TAX_ID = re.compile(r"(?i)invoice|bill|receipt|rechnung|facture|factura|fattura|faktur|date|datum|total|"
                           r"amount|betrag|montant|rate|satz|taux")
_AMOUNT_LIKE = re.compile(r"-?[\d .,]*[.,]\d{1,2}|\d{1,2}(?:[.,]\d+)?%?|\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}")
# key=value, "key": "value", key: value, and user:password@ in a URL.
_SECRET_PAIR = re.compile(
    r"(?i)(?P<k>(?<![A-Za-z0-9])(?:\w+_)?(?:" + "|".join(sorted(SECRET_KEYS, key=len, reverse=True)) + r")(?![A-Za-z0-9]))"
    r"(?P<sep>['\"]?[ \t]*[:=][ \t]*(?:(?:u|b)?['\"])?)(?P<v>[^\s'\"&,;)\]}<>]+)")
_URL_CREDENTIALS = re.compile(r"(?P<pre>[a-z][a-z0-9+.-]*://[^\s/:@]+:)(?P<v>[^\s/@]+)(?=@)", re.I)


#: Libraries that log a document's own text at DEBUG (pdfminer: every token of every page, IBANs included).
#: Robot copies Python logging into its log at its own level, so at DEBUG or TRACE the documents would be in it.
DOCUMENT_TEXT_LOGGERS: tuple[str, ...] = ("pdfminer", "pdfplumber")


def quiet_document_loggers(level: int = logging.WARNING) -> None:
    """Keep the loggers of ``DOCUMENT_TEXT_LOGGERS`` at ``level`` or above, whatever the root logger's level."""
    for name in DOCUMENT_TEXT_LOGGERS:
        log = logging.getLogger(name)
        if log.level == logging.NOTSET or log.level < level:
            log.setLevel(level)


def mask_token(value: str, keep_start: int = 4, keep_end: int = 2) -> str:
    """Return ``value`` with all but its first ``keep_start`` and last ``keep_end`` characters starred.

    Spaces are kept in place; a value too short to keep anything is starred entirely.
    """
    chars = [c for c in value if not c.isspace()]
    if len(chars) <= keep_start + keep_end + 2:
        return "".join("*" if not c.isspace() else c for c in value)
    out, seen = [], 0
    for c in value:
        if c.isspace():
            out.append(c)
            continue
        out.append(c if seen < keep_start or seen >= len(chars) - keep_end else "*")
        seen += 1
    return "".join(out)


def _has_digits(s: str, n: int = 5) -> bool:
    return sum(ch.isdigit() for ch in s) >= n


def is_secret_key(name: str) -> bool:
    """True for a dict key or variable name that holds a credential (``password``, ``IMAP_PASSWORD``, ...)."""
    low = str(name).lower().replace("-", "_")
    return low in SECRET_KEYS or low.endswith(("_password", "_passwd", "_secret", "_token", "_api_key"))


def mask_secrets(text: str) -> str:
    """Star the value of every ``password=...``-like pair and every password in a URL (same length)."""
    if not text:
        return text
    text = _SECRET_PAIR.sub(lambda m: m.group("k") + m.group("sep") + "*" * len(m.group("v")), text)
    return _URL_CREDENTIALS.sub(lambda m: m.group("pre") + "*" * len(m.group("v")), text)


def mask_text(text: str) -> str:
    """Mask every IBAN, tax id and ``password=...`` found in ``text`` (free text such as a log message)."""
    if not text:
        return text

    def repl(m: re.Match[str]) -> str:
        token = m.group(0)
        return mask_token(token) if _has_digits(token) else token

    def labelled(m: re.Match[str]) -> str:
        value = m.group("v").rstrip(" .-/")
        start = m.start("v") - m.start(0)
        if (not _has_digits(value, 6) or "*" in value or _AMOUNT_LIKE.fullmatch(value)
                or _NOT_A_TAX_ID.search(m.group(0)[:start])):
            return m.group(0)
        whole = m.group(0)
        return whole[:start] + mask_token(value) + whole[start + len(value):]

    text = _IBAN.sub(repl, text)
    text = _CHE.sub(repl, text)
    text = _NO_MVA.sub(repl, text)
    text = _VAT.sub(repl, text)
    text = _GSTIN.sub(repl, text)
    text = _ABN.sub(repl, text)
    text = _NIP.sub(lambda m: mask_token(m.group(0), 3, 2), text)
    text = _EIN.sub(lambda m: mask_token(m.group(0), 2, 2), text)
    text = _TAX_LABEL.sub(labelled, text)
    return mask_secrets(text)


def mask_value(name: str, value: Any) -> Any:
    """Mask ``value`` when the field ``name`` is sensitive or a credential; mask IBANs/tax ids in other strings."""
    if value is None:
        return None
    if is_secret_key(name):
        return "*" * 8
    if name in SENSITIVE_FIELDS:
        return mask_token(str(value))
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``{field: value}`` (or ``{field: {"value": ...}}``) with sensitive values masked."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Mapping):
            inner = dict(value)
            for key in ("value", "raw"):
                if key in inner:
                    inner[key] = mask_value(name, inner[key])
            out[name] = inner
        else:
            out[name] = mask_value(name, value)
    return out


def mask_data(data: Any) -> Any:
    """Mask sensitive values anywhere in nested dicts/lists (e.g. an extraction result as a dict)."""
    if isinstance(data, Mapping):
        out = {}
        for key, value in data.items():
            if is_secret_key(key) and value not in (None, ""):
                out[key] = "*" * 8
            elif key in SENSITIVE_FIELDS and not isinstance(value, Mapping | list):
                out[key] = mask_value(key, value)
            elif key in SENSITIVE_FIELDS and isinstance(value, Mapping):
                out[key] = mask_fields({key: value})[key]
            else:
                out[key] = mask_data(value)
        return out
    if isinstance(data, list | tuple):
        return [mask_data(v) for v in data]
    if isinstance(data, str):
        return mask_text(data)
    return data
