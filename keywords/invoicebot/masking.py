"""Mask bank accounts and tax ids before anything reaches a log or a report.

The robot's log is read by many people; an IBAN or a VAT number in it is a secret that
leaked.  ``mask_text`` finds both in free text, ``mask_value``/``mask_fields`` mask by field
name whatever the value looks like.  Masking keeps the first four and last two characters
so that an analyst can still tell two accounts apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Fields whose values are masked wherever they are shown.
SENSITIVE_FIELDS: frozenset[str] = frozenset({"iban", "vendor_tax_id"})

# IBAN: two letters, two check digits, 11..30 letters/digits, optionally grouped by spaces of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
# EU/UK/CH VAT ids with their country prefix (EL for Greece; CHE-123.456.789 for Switzerland).
_VAT_COUNTRIES = "AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI"
_VAT = re.compile(rf"\b(?:{_VAT_COUNTRIES})[ ]?[0-9A-Z][0-9A-Z .]{{6,13}}[0-9A-Z]\b")
_CHE = re.compile(r"\bCHE[- ]?\d{3}\.?\d{3}\.?\d{3}(?:[ ]?(?:MWST|TVA|IVA))?\b")
# US EIN (12-3456789).
_EIN = re.compile(r"\b\d{2}-\d{7}\b")


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


def mask_text(text: str) -> str:
    """Mask every IBAN and tax id found in ``text`` (free text such as a log message)."""
    if not text:
        return text

    def repl(m: re.Match[str]) -> str:
        token = m.group(0)
        return mask_token(token) if _has_digits(token) else token

    text = _IBAN.sub(repl, text)
    text = _CHE.sub(repl, text)
    text = _VAT.sub(repl, text)
    return _EIN.sub(lambda m: mask_token(m.group(0), 2, 2), text)


def mask_value(name: str, value: Any) -> Any:
    """Mask ``value`` when the field ``name`` is sensitive; mask IBANs/tax ids in other strings."""
    if value is None:
        return None
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
            if key in SENSITIVE_FIELDS and not isinstance(value, Mapping | list):
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
