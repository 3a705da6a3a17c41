"""Locale knowledge of the synthetic corpus: month names, number and date styles, countries.

Label phrases live in :mod:`invoicebot.synth.labels`; this module holds how values are printed.
Everything here formats a *known* canonical value into one of the many printed shapes found on
real documents, and parses the printed shape back (to check the labels of the corpus).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MONTHS: dict[str, list[str]] = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
           "novembre", "dicembre"],
    "pl": ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
           "października", "listopada", "grudnia"],
}
#: Short month forms (the first three or four letters, as printed on many documents).
MONTHS_SHORT: dict[str, list[str]] = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "de": ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."],
    "fr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
    "nl": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
    "it": ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"],
    "pl": ["sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"],
}


@dataclass(frozen=True)
class Country:
    code: str
    languages: tuple[str, ...]
    currency: str
    tax_rates: tuple[str, ...]  # standard rate first
    tax_name: str  # short name of the sales tax as printed (VAT, MwSt., TVA, BTW, IVA, VAT/GST ...)
    date_orders: tuple[str, ...]  # numeric date orders used there: DMY, MDY, YMD
    number_styles: tuple[str, ...]  # keys of NUMBER_STYLES


COUNTRIES: dict[str, Country] = {
    "DE": Country("DE", ("de",), "EUR", ("19", "7"), "MwSt.", ("DMY",), ("de", "de_plain")),
    "AT": Country("AT", ("de",), "EUR", ("20", "10"), "USt.", ("DMY",), ("de", "de_plain")),
    "CH": Country("CH", ("de", "fr"), "CHF", ("8.1", "2.6"), "MWST", ("DMY",), ("ch", "de")),
    "FR": Country("FR", ("fr",), "EUR", ("20", "10", "5.5"), "TVA", ("DMY",), ("fr", "fr_plain")),
    "BE": Country("BE", ("nl", "fr"), "EUR", ("21", "6"), "BTW", ("DMY",), ("de", "fr")),
    "NL": Country("NL", ("nl",), "EUR", ("21", "9"), "BTW", ("DMY",), ("de", "de_plain")),
    "ES": Country("ES", ("es",), "EUR", ("21", "10"), "IVA", ("DMY",), ("de", "de_plain")),
    "IT": Country("IT", ("it",), "EUR", ("22", "10"), "IVA", ("DMY",), ("de", "de_plain")),
    "PL": Country("PL", ("pl",), "PLN", ("23", "8"), "VAT", ("DMY", "YMD"), ("fr", "pl")),
    "GB": Country("GB", ("en",), "GBP", ("20", "5"), "VAT", ("DMY",), ("en", "en_plain")),
    "IE": Country("IE", ("en",), "EUR", ("23", "13.5"), "VAT", ("DMY",), ("en",)),
    "US": Country("US", ("en",), "USD", ("8.875", "7.25", "6"), "Sales Tax", ("MDY",), ("en", "en_plain")),
    "IN": Country("IN", ("en",), "INR", ("18", "12", "5"), "GST", ("DMY",), ("in", "en", "en_plain")),
    "CA": Country("CA", ("en",), "CAD", ("13", "5"), "HST", ("YMD", "MDY"), ("en",)),
    "AU": Country("AU", ("en",), "AUD", ("10",), "GST", ("DMY",), ("en",)),
    "SE": Country("SE", ("en",), "SEK", ("25", "12"), "VAT", ("YMD",), ("fr", "fr_plain")),
}

#: How often each country issues a document (weights), tuned to the languages the robot must read.
COUNTRY_WEIGHTS: dict[str, float] = {
    "DE": 14, "AT": 3, "CH": 5, "FR": 11, "BE": 4, "NL": 10, "ES": 8, "IT": 10, "PL": 10,
    "GB": 8, "IE": 2, "US": 9, "IN": 8, "CA": 2, "AU": 2, "SE": 2,
}

#: number style -> (group separator, decimal separator); "" = no grouping.
NUMBER_STYLES: dict[str, tuple[str, str]] = {
    "en": (",", "."), "en_plain": ("", "."), "de": (".", ","), "de_plain": ("", ","),
    "fr": (" ", ","), "fr_plain": ("", ","), "ch": ("'", "."), "pl": (" ", ","), "in": (",", "."),
}

CURRENCY_SYMBOLS: dict[str, list[str]] = {
    "EUR": ["€", "EUR"], "USD": ["$", "USD", "US$"], "GBP": ["£", "GBP"], "CHF": ["CHF", "Fr."],
    "INR": ["₹", "Rs", "Rs.", "INR"], "PLN": ["zł", "PLN"], "CAD": ["$", "CAD", "C$"], "AUD": ["$", "AUD", "A$"],
    "SEK": ["kr", "SEK"],
}
SYMBOL_BEFORE = {"€", "$", "£", "₹", "Rs", "Rs.", "US$", "C$", "A$", "Fr."}

TWO = Decimal("0.01")


def q2(x: Decimal) -> Decimal:
    return x.quantize(TWO, rounding=ROUND_HALF_UP)


def canonical_amount(x: Decimal) -> str:
    return f"{q2(x):.2f}"


@dataclass(frozen=True)
class AmountStyle:
    """How one document prints its amounts."""

    number: str  # key of NUMBER_STYLES
    symbol: str  # printed currency symbol or code ("" = not printed next to amounts)
    symbol_before: bool
    space: bool  # space between symbol and number
    negative: str  # "-x", "x-", "(x)"
    whole: bool = False  # print whole amounts without decimals ("Rs 1939")

    def number_text(self, x: Decimal, decimals: int = 2) -> str:
        group, dec = NUMBER_STYLES[self.number]
        if self.whole and x == x.to_integral_value():
            decimals = 0
        neg = x < 0
        x = abs(x)
        s = f"{x:.{decimals}f}"
        whole, _, frac = s.partition(".")
        if group:
            if self.number == "in" and len(whole) > 3:
                head, tail = whole[:-3], whole[-3:]
                parts = []
                while len(head) > 2:
                    parts.insert(0, head[-2:])
                    head = head[:-2]
                if head:
                    parts.insert(0, head)
                whole = ",".join(parts + [tail])
            else:
                whole = f"{int(whole):,}".replace(",", group)
        out = whole + (dec + frac if decimals else "")
        if neg:
            out = {"-x": "-" + out, "x-": out + "-", "(x)": "(" + out + ")"}[self.negative]
        return out

    def pieces(self, x: Decimal, with_symbol: bool = True) -> tuple[str, str, str]:
        """Return (prefix, number, suffix); prefix/suffix are the currency symbol or ''."""
        num = self.number_text(x)
        if not with_symbol or not self.symbol:
            return "", num, ""
        if self.symbol_before:
            return self.symbol, num, ""
        return "", num, self.symbol

    def text(self, x: Decimal, with_symbol: bool = True) -> str:
        pre, num, suf = self.pieces(x, with_symbol)
        sp = " " if self.space else ""
        if pre:
            return pre + sp + num
        if suf:
            return num + sp + suf
        return num


def pick_amount_style(rng: random.Random, country: Country, currency: str) -> AmountStyle:
    number = rng.choice(country.number_styles)
    symbols = CURRENCY_SYMBOLS[currency]
    r = rng.random()
    if r < 0.25:
        symbol = ""
    else:
        symbol = rng.choice(symbols)
    before = symbol in SYMBOL_BEFORE if rng.random() < 0.8 else symbol not in SYMBOL_BEFORE
    if len(symbol) > 1 and symbol.isalpha():
        space = True
    else:
        space = rng.random() < 0.5
    negative = rng.choice(["-x", "-x", "-x", "x-", "(x)"])
    whole = currency in ("INR", "SEK") and rng.random() < 0.5
    return AmountStyle(number, symbol, before, space, negative, whole)


@dataclass(frozen=True)
class DateStyle:
    kind: str  # "numeric", "text", "text_short", "iso"
    order: str  # DMY, MDY, YMD
    sep: str  # "/", ".", "-"
    pad: bool
    year2: bool
    lang: str

    def text(self, d: date) -> str:
        if self.kind == "iso":
            return d.isoformat()
        if self.kind == "numeric":
            dd = f"{d.day:02d}" if self.pad else str(d.day)
            mm = f"{d.month:02d}" if self.pad else str(d.month)
            yy = f"{d.year % 100:02d}" if self.year2 else str(d.year)
            parts = {"DMY": (dd, mm, yy), "MDY": (mm, dd, yy), "YMD": (str(d.year), f"{d.month:02d}", f"{d.day:02d}")}
            return self.sep.join(parts[self.order])
        months = MONTHS[self.lang] if self.kind == "text" else MONTHS_SHORT[self.lang]
        m = months[d.month - 1]
        day = f"{d.day:02d}" if self.pad else str(d.day)
        if self.lang == "en":
            if self.order == "MDY":
                return f"{m} {day}, {d.year}"
            return f"{day} {m} {d.year}"
        if self.lang == "de":
            return f"{day}. {m} {d.year}"
        if self.lang == "es" and self.kind == "text" and self.sep == "-":
            return f"{day} de {m} de {d.year}"
        if self.lang == "fr" and self.sep == "/":
            m = m.capitalize()
        return f"{day} {m} {d.year}"


def pick_date_style(rng: random.Random, country: Country, lang: str) -> DateStyle:
    r = rng.random()
    order = rng.choice(country.date_orders)
    if r < 0.55:
        kind = "numeric"
    elif r < 0.8:
        kind = "text"
    elif r < 0.93:
        kind = "text_short"
    else:
        kind = "iso"
    sep = {"DMY": rng.choice(["/", ".", "-", "."]), "MDY": rng.choice(["/", "/", "-"]), "YMD": rng.choice(["-", "-", "/", "."])}[order]
    if lang == "de" and order == "DMY" and kind == "numeric":
        sep = "." if rng.random() < 0.85 else "/"
    if kind.startswith("text") and lang == "en" and country.code in ("US", "CA") and rng.random() < 0.8:
        order = "MDY"
    elif kind.startswith("text") and order != "MDY":
        order = "DMY"
    return DateStyle(kind, order, sep, rng.random() < 0.8, rng.random() < 0.12 and kind == "numeric", lang)


# --------------------------------------------------------------------------------------------------
# Parsing back (used to check that the labelled words of each document give the canonical value).

_CURRENCY_WORDS = re.compile(r"(?i)(us\$|c\$|a\$|eur|usd|gbp|chf|inr|pln|cad|aud|sek|rs\.?|zł|kr|fr\.|[€$£₹])")


def parse_amount(text: str) -> str | None:
    """Parse a printed amount ("1.234,56 €", "(1,234.56)", "Rs 1,23,456.00") to "1234.56"."""
    s = _CURRENCY_WORDS.sub("", text).strip()
    neg = False
    if s.startswith("(") and s.endswith(")"):
        neg, s = True, s[1:-1]
    if s.endswith("-"):
        neg, s = True, s[:-1]
    if s.startswith("-"):
        neg, s = True, s[1:]
    s = s.replace(" ", "").replace("\u202f", "").replace("'", "").replace("\u00a0", "")
    if not s or not re.fullmatch(r"[\d.,]+", s):
        return None
    m = re.search(r"[.,](\d{1,2})$", s)
    if m:
        whole, frac = s[: m.start()], m.group(1)
    else:
        whole, frac = s, "0"
    whole = whole.replace(".", "").replace(",", "")
    if not whole.isdigit():
        return None
    value = Decimal(whole + "." + frac)
    return canonical_amount(-value if neg else value)


def _month_index(token: str) -> int | None:
    t = token.lower().rstrip(".,")
    for table in (MONTHS, MONTHS_SHORT):
        for names in table.values():
            for i, name in enumerate(names):
                if t == name.lower().rstrip("."):
                    return i + 1
    return None


def parse_date(text: str, order: str = "DMY") -> str | None:
    """Parse a printed date back to ISO; ``order`` resolves numeric dates (DMY, MDY, YMD)."""
    s = text.strip()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
    if m:
        y, mo, d = map(int, m.groups())
        return _iso(y, mo, d)
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})", s)
    if m:
        a, b, y = map(int, m.groups())
        if y < 100:
            y += 2000
        d, mo = (b, a) if order == "MDY" else (a, b)
        return _iso(y, mo, d)
    tokens = [t for t in re.split(r"[\s,]+", s.replace(" de ", " ")) if t]
    day = month = year = None
    for t in tokens:
        core = t.rstrip(".")
        if core.isdigit():
            if len(core) == 4:
                year = int(core)
            elif day is None:
                day = int(core)
        else:
            month = _month_index(t) or month
    if day and month and year:
        return _iso(year, month, day)
    return None


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None
