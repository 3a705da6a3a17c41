"""Normalisation of the values printed on invoices: amounts, dates, currencies, identifiers, names.

Pure functions; the only state is caches of data built once (month names, the vocabulary).

* :func:`parse_amount` / :func:`read_amount` / :func:`format_amount`: "1.234,56", "(12.00)",
  "CHF 1'234.50", "Rs 1939", "1939.-" ... -> ``Decimal``; an amount whose separator could be
  thousands or decimals ("1,234") is read as the more plausible one and reported ambiguous.
* :func:`parse_date` / :func:`find_dates` / :func:`infer_date_order`: numeric dates in DMY, MDY
  and YMD order, ISO dates, and dates with month names in en, de, fr, nl, es, it and pl.
* :func:`detect_currency`: ISO codes, symbols and words; an ambiguous symbol ("$") is resolved from
  other evidence or reported with a low confidence; no evidence gives ``(None, 0.0)``.
* :func:`normalize_id`, :func:`fold_name`, :func:`normalize_iban`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .vocabulary import Vocabulary, load_vocabulary, strip_accents

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "nl", "es", "it", "pl")
DATE_ORDERS: tuple[str, ...] = ("DMY", "MDY", "YMD")

# --------------------------------------------------------------------------------------------
# Amounts

#: Space characters used as thousands separators: space, no-break, narrow no-break, thin, figure.
_SPACES = " \u00a0\u202f\u2009\u2007"
_APOSTROPHES = "'’`´"
_MINUS = "-\u2212\u2013\u2012"
_CURRENCY_CHARS = "€$£¥₹₨₩₪₫₱₺₴₽¢฿₦₡₲₵₸₼₾元円﷼"
_NUMBER_RE = re.compile(rf"\d[\d.,{_SPACES}{_APOSTROPHES}]*")
# A currency marker or other word at either end of an amount: "EUR", "Rs.", "zł", "€", "kr.", "CHF".
_EDGE_WORD = rf"(?:[^\W\d_]+\$?\.?|[{_CURRENCY_CHARS}]|[^\W\d_]*[{_CURRENCY_CHARS}])"
_LEAD_RE = re.compile(rf"^\s*{_EDGE_WORD}(?:\s*{_EDGE_WORD})*\s*")
_TRAIL_RE = re.compile(rf"\s*{_EDGE_WORD}(?:\s*{_EDGE_WORD})*\s*$")


@dataclass(frozen=True)
class AmountReading:
    """How an amount string was read.

    ``value`` is the most plausible reading; when ``ambiguous`` is true the string could also mean
    ``alternative`` ("1,234": 1234 or 1.234) and a caller should look for a document-wide decimal
    separator (:func:`infer_decimal_separator`) or ask a person.
    """

    value: Decimal
    ambiguous: bool = False
    alternative: Decimal | None = None
    decimal_separator: str | None = None  # "." or "," when the string shows one, else None
    currency_text: str | None = None  # the currency marker found around the number ("€", "EUR", "Rs")


def read_amount(text: str | None, *, decimal_separator: str | None = None) -> AmountReading | None:
    """Read one amount from ``text`` (a value cell such as "€ 717,97" or "(12.00)"); None if it is not one.

    ``decimal_separator`` ("," or ".") is the document's decimal separator when known; it decides
    "1.234" and "1,234".  Currency symbols, ISO codes and currency words around the number are
    stripped and reported in ``currency_text``.  A string with two numbers ("2 x 3.00") is not an amount.
    """
    if text is None:
        return None
    if decimal_separator not in (None, ".", ","):
        raise ValueError(f"decimal_separator must be '.', ',' or None, not {decimal_separator!r}")
    s = unicodedata.normalize("NFC", str(text)).strip()
    if not s or len(s) > 64:
        return None
    negative = False
    currency: list[str] = []
    # Swiss/German "1939.-", "45,-", "12.345,-": whole amounts, and the mark shows the decimal separator.
    m = re.search(r"(?<=\d)([.,])[-\u2013]$", s)
    if m:
        s = s[: m.start()]
        decimal_separator = decimal_separator or m.group(1)
    for _ in range(3):  # peel signs, brackets and currency words from both ends, in any nesting
        before = s
        if s.startswith("(") and s.endswith(")"):
            negative, s = not negative, s[1:-1].strip()
        m = _LEAD_RE.match(s)
        if m and m.end() < len(s):
            currency.append(m.group().strip())
            s = s[m.end() :]
        m = _TRAIL_RE.search(s)
        if m and m.start() > 0:
            currency.append(m.group().strip())
            s = s[: m.start()]
        s = s.strip()
        if s[:1] in _MINUS:
            negative, s = not negative, s[1:].strip()
        elif s[:1] == "+":
            s = s[1:].strip()
        if s[-1:] in _MINUS:
            negative, s = not negative, s[:-1].strip()
        if s == before:
            break
    if not s or not _NUMBER_RE.fullmatch(s):
        return None
    reading = _read_number(s, decimal_separator)
    if reading is None:
        return None
    value, ambiguous, alternative, sep = reading
    if negative:
        value = -value
        alternative = -alternative if alternative is not None else None
    if any(not _is_currency_marker(c) for c in currency if c):
        return None  # "Page 2", "2 x 3.00 Night": words around the number that are not a currency
    marker = " ".join(c for c in currency if c) or None
    return AmountReading(value, ambiguous, alternative, sep, marker)


def _is_currency_marker(text: str) -> bool:
    """True for "€", "EUR", "Rs.", "zł", "US$", "euros", "CHF Fr." ... (every part a known currency spelling)."""
    voc = load_vocabulary()
    for part in text.split():
        if all(ch in _CURRENCY_CHARS for ch in part):
            continue
        if not voc.currencies_for_symbol(part) and not voc.currencies_for_symbol(part.rstrip(".")):
            return False
    return True


def _read_number(s: str, hint: str | None) -> tuple[Decimal, bool, Decimal | None, str | None] | None:
    """Digits with separators -> (value, ambiguous, alternative, decimal separator)."""
    s = s.strip(_SPACES)
    # Spaces and apostrophes only ever group thousands.
    grouped = re.sub(rf"[{_SPACES}{_APOSTROPHES}]", "_", s)
    if "__" in grouped:
        return None
    dots, commas = grouped.count("."), grouped.count(",")
    decimal: str | None = None
    ambiguous = False
    if dots and commas:
        decimal = "." if grouped.rfind(".") > grouped.rfind(",") else ","
        if grouped.count(decimal) != 1:
            return None
    elif dots or commas:
        sep = "." if dots else ","
        count = dots or commas
        digits_after = len(grouped) - grouped.rfind(sep) - 1
        if count > 1:
            if hint == sep:
                return None  # "1.234.567" cannot have '.' as its decimal separator
            decimal = None
        elif "_" in grouped:
            decimal = sep  # "1 234,5" / "1'234.50": the space or apostrophe groups, so this separates decimals
        elif hint is not None:
            decimal = sep if (hint == sep or digits_after != 3) else None
        elif digits_after != 3:
            decimal = sep
        else:
            int_part = grouped[: grouped.rfind(sep)]
            if int_part.lstrip("_") in ("0", ""):
                decimal = sep  # "0,123" can only be a decimal
            else:
                ambiguous = True
                decimal = None  # the usual meaning of "1,234" / "1.234" on an invoice: one thousand ...
    if decimal is not None:
        int_part, frac = grouped.rsplit(decimal, 1)
        if not frac.isdigit() and frac != "":
            return None
    else:
        int_part, frac = grouped, ""
    groups = re.split(r"[._,]", int_part)
    if len(groups) > 1 and not _valid_grouping(groups):
        return None
    if not all(g.isdigit() for g in groups):
        return None
    digits = "".join(groups) + ("." + frac if frac else "")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    alternative = None
    if ambiguous:
        alternative = Decimal(grouped.replace(",", ".").replace("_", ""))
    return value, ambiguous, alternative, decimal


def _valid_grouping(groups: list[str]) -> bool:
    """Thousands groups: 1-3 digits then groups of 3; or Indian lakh/crore grouping (1,23,45,678)."""
    head, rest = groups[0], groups[1:]
    if not head or len(head) > 3 or not all(len(g) == 3 for g in rest):
        return _valid_indian_grouping(groups)
    return True


def _valid_indian_grouping(groups: list[str]) -> bool:
    if len(groups) < 3 or len(groups[-1]) != 3:
        return False
    return 1 <= len(groups[0]) <= 2 and all(len(g) == 2 for g in groups[1:-1])


def parse_amount(text: str | None, *, decimal_separator: str | None = None) -> Decimal | None:
    """The amount in ``text`` as a Decimal (exact, not rounded), or None if ``text`` is not one amount.

    Examples: "1.234,56" -> 1234.56, "(12.00)" -> -12.00, "CHF 1'234.50" -> 1234.50, "1939.-" -> 1939,
    "45,93 €" -> 45.93.  For an ambiguous "1,234" the more plausible reading (1234) is returned;
    use :func:`read_amount` or :func:`amount_ambiguity` to learn that it was ambiguous.
    """
    r = read_amount(text, decimal_separator=decimal_separator)
    return r.value if r else None


def amount_ambiguity(text: str | None, *, decimal_separator: str | None = None) -> tuple[Decimal, Decimal] | None:
    """``(chosen, other)`` readings when ``text`` could mean two amounts ("1,234"), else None."""
    r = read_amount(text, decimal_separator=decimal_separator)
    if r is None or not r.ambiguous or r.alternative is None:
        return None
    return r.value, r.alternative


def infer_decimal_separator(amount_texts: list[str]) -> str | None:
    """The decimal separator that the unambiguous amounts of a document use ("," or "."), or None.

    Majority of the amounts that show it ("45,93", "1.234,56", "4.11"); None when none shows one or
    the evidence is tied.
    """
    votes: Counter[str] = Counter()
    for t in amount_texts:
        r = read_amount(t)
        if r is not None and not r.ambiguous and r.decimal_separator:
            votes[r.decimal_separator] += 1
    if not votes:
        return None
    (best, n), *rest = votes.most_common()
    if rest and rest[0][1] == n:
        return None
    return best


def format_amount(value: Decimal | int | float | str | None, places: int = 2) -> str | None:
    """The canonical string of an amount: plain digits, '.' decimals, ``places`` places, half-up ("1234.56")."""
    if value is None:
        return None
    if isinstance(value, float):
        value = Decimal(repr(value))
    d = Decimal(value) if not isinstance(value, Decimal) else value
    q = Decimal(1).scaleb(-places) if places > 0 else Decimal(1)
    out = d.quantize(q, rounding=ROUND_HALF_UP)
    if out == 0:
        out = abs(out)  # no "-0.00"
    return f"{out:f}"


# --------------------------------------------------------------------------------------------
# Dates


@dataclass(frozen=True)
class DateMatch:
    """A date-like substring of a text: ``text[start:end]``."""

    text: str
    start: int
    end: int
    value: date | None  # None when the parts make no date in the order used
    kind: str  # "iso" (YYYY-MM-DD), "numeric" (12/03/2021), "textual" (3 March 2021, March 3, 2021)
    order: str  # the order the value was read in: DMY, MDY or YMD
    ambiguous: bool = False  # numeric day/month both <= 12 and different, read without a given order


@functools.lru_cache(maxsize=1)
def _month_table() -> tuple[dict[str, tuple[int, frozenset[str]]], re.Pattern[str]]:
    """Month names (casefolded, no trailing '.') -> (month, languages), and a regex of them all."""
    from babel import Locale

    voc = load_vocabulary()
    names: dict[str, tuple[int, set[str]]] = {}
    conflicts: set[str] = set()

    def add(name: str, month: int, lang: str) -> None:
        for variant in {name, strip_accents(name)}:
            key = variant.casefold().rstrip(".")
            if len(key) < 3 and key != "maj":
                continue
            if key in names and names[key][0] != month:
                conflicts.add(key)
                continue
            names.setdefault(key, (month, set()))[1].add(lang)

    locales = {lang: [lang] for lang in LANGUAGES}
    locales["de"].append("de_AT")
    for lang, locs in locales.items():
        for loc_name in locs:
            loc = Locale.parse(loc_name)
            for context in ("format", "stand-alone"):
                for width in ("wide", "abbreviated"):
                    for num, name in loc.months[context][width].items():
                        add(name, int(num), lang)
        for name, num in voc.month_names_extra.get(lang, []):
            add(name, num, lang)
    for key in conflicts:
        names.pop(key, None)
    table = {k: (m, frozenset(ls)) for k, (m, ls) in names.items()}
    alternation = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return table, re.compile(alternation, re.IGNORECASE)


_DAY_SUFFIX = r"(?:st|nd|rd|th|er|e|ème|º|°|\.)?"
# A 4-digit year after spaces, commas, dots, dashes or slashes; a 2-digit year only as "'21" or
# glued by a dash, slash or dot ("03-MAR-21"), so that a range "1 - July 31" is not 1 July 2031.
_YEAR = r"(?:[\s,./\-]*(?P<y>(?:19|20)\d{2})|\s*(?P<y2>'\d{2})|[\-/.](?P<y3>\d{2}))"
# Between day and month: spaces after an optional dot or comma, or one dash, slash or dot.
_DM_SEP = r"(?:[.,]?\s*|[\-/.])"


@functools.lru_cache(maxsize=1)
def _date_regexes() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    _, month_re = _month_table()
    month = rf"(?<![^\W\d_])(?P<m>{month_re.pattern})\.?(?![^\W\d_])"
    iso = re.compile(r"(?<![\w/.])(?P<y>(?:19|20)\d{2})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})(?![\d/])(?!\.\d)")
    numeric = re.compile(
        r"(?<![\w/.])(?P<a>\d{1,2})\s?(?P<s>[./\-])\s?(?P<b>\d{1,2})\s?(?P=s)\s?"
        r"(?P<c>(?:19|20)\d{2}|\d{2})(?![\d/])(?!\.\d)"
    )
    textual_dmy = re.compile(
        rf"(?<![\w.])(?P<d>[0-3]?\d){_DAY_SUFFIX}{_DM_SEP}(?:de\s+)?{month}(?:\s*de\s+|\s*del\s+)?"
        rf"{_YEAR}(?!\d)(?:\s*r\.)?",
        re.IGNORECASE,
    )
    textual_mdy = re.compile(
        rf"{month}[\s.\-]*(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?!\d)(?:\s*[,\-/]?\s*(?P<y>(?:19|20)\d{{2}})|\s*,?\s*(?P<y2>'\d{{2}}))(?!\d)",
        re.IGNORECASE,
    )
    return iso, numeric, textual_dmy, textual_mdy


def _year(text: str) -> int:
    t = text.lstrip("'")
    y = int(t)
    if len(t) == 2:
        y += 2000 if y < 70 else 1900
    return y


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _numeric_value(a: int, b: int, c_text: str, order: str | None) -> tuple[date | None, str, bool]:
    """Day/month/year parts of "a/b/c" in ``order`` (None: decide from the numbers, default DMY)."""
    c = _year(c_text)
    ambiguous = False
    if order == "YMD" and len(c_text) == 2:
        y, m, d = _year(f"{a:02d}"), b, int(c_text)
        return _make_date(y, m, d), "YMD", False
    if order not in ("DMY", "MDY"):
        if a > 12 and b <= 12:
            order = "DMY"
        elif b > 12 and a <= 12:
            order = "MDY"
        else:
            order = "DMY"
            ambiguous = a != b and a <= 12 and b <= 12
    if order == "DMY":
        return _make_date(c, b, a), "DMY", ambiguous
    return _make_date(c, a, b), "MDY", ambiguous


def find_dates(
    text: str,
    *,
    order: str | None = None,
    languages: list[str] | tuple[str, ...] | None = None,
) -> list[DateMatch]:
    """Every date-like substring of ``text`` in reading order, with its value where the parts make a date.

    ``order`` ("DMY", "MDY", "YMD") is how numeric dates are read; without it a date is read DMY
    unless its numbers prove MDY, and "03/04/2021" is marked ``ambiguous``.  ``languages`` limits
    month names to those languages.  Numeric dates whose parts make no date in any order are left out.
    """
    if order is not None and order not in DATE_ORDERS:
        raise ValueError(f"order must be one of {', '.join(DATE_ORDERS)}, not {order!r}")
    if not text or not _DIGIT_RE.search(text):
        return []
    table, _ = _month_table()
    iso, numeric, textual_dmy, textual_mdy = _date_regexes()
    langs = frozenset(languages) if languages else None
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= ts or s >= te for ts, te in taken)

    for m in iso.finditer(text):
        v = _make_date(int(m["y"]), int(m["m"]), int(m["d"]))
        if v is not None:
            found.append(DateMatch(m.group(), m.start(), m.end(), v, "iso", "YMD"))
            taken.append(m.span())
    has_month = any(w.casefold() in table for w in _WORD_RE.findall(text))
    for rx, kind in ((textual_dmy, "DMY"), (textual_mdy, "MDY")) if has_month else ():
        for m in rx.finditer(text):
            if not free(*m.span()):
                continue
            month, mlangs = table.get(m["m"].casefold().rstrip("."), (0, frozenset()))
            if not month or (langs is not None and not (mlangs & langs)):
                continue
            v = _make_date(_year(m["y"] or m["y2"] or m["y3"]), month, int(m["d"]))
            if v is None:
                continue
            found.append(
                DateMatch(
                    m.group().rstrip(" ,"), m.start(), m.start() + len(m.group().rstrip(" ,")), v, "textual", kind
                )
            )
            taken.append(m.span())
    for m in numeric.finditer(text):
        if not free(*m.span()):
            continue
        a, b = int(m["a"]), int(m["b"])
        v, used, ambiguous = _numeric_value(a, b, m["c"], order)
        if v is None and order is None:
            continue
        if v is None and not any(_numeric_value(a, b, m["c"], o)[0] for o in ("DMY", "MDY")):
            continue
        found.append(DateMatch(m.group(), m.start(), m.end(), v, "numeric", used, ambiguous))
        taken.append(m.span())
    found.sort(key=lambda dm: dm.start)
    return found


def parse_date(
    text: str | None,
    *,
    order: str | None = None,
    languages: list[str] | tuple[str, ...] | None = None,
) -> date | None:
    """The first date in ``text`` ("7. Mai 2014", "August 3 , 2014", "03/20/2023", "2021-01-01"), or None.

    ``order`` reads numeric dates ("DMY", "MDY", "YMD"); without it the numbers decide where they can
    (13/03/2021 is DMY, 03/13/2021 MDY) and DMY is assumed otherwise (see :func:`date_is_ambiguous`).
    Formats the fast patterns miss are tried with dateparser (strict: day, month and year required).
    """
    if not text:
        return None
    text = str(text).strip()
    for dm in find_dates(text, order=order, languages=languages):
        if dm.value is not None:
            return dm.value
    # dateparser only for short texts with letters and a 4-digit year: it reads "3 Mar 21" or a range
    # "1 - July 31" as dates that the document does not mean.
    if len(text) <= 40 and any(ch.isalpha() for ch in text) and _FULL_YEAR_RE.search(text):
        return _dateparser_fallback(text, order, tuple(languages) if languages else LANGUAGES)
    return None


_WORD_RE = re.compile(r"[^\W\d_]+")
_DIGIT_RE = re.compile(r"\d")
_FULL_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


@functools.lru_cache(maxsize=4096)
def _dateparser_fallback(text: str, order: str | None, languages: tuple[str, ...]) -> date | None:
    import dateparser

    settings = {
        "STRICT_PARSING": True,
        "REQUIRE_PARTS": ["day", "month", "year"],
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": order or "DMY",
    }
    try:
        result = dateparser.parse(text, languages=list(languages), settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input; a non-date is not an error here
        return None
    if result is None or not 1900 <= result.year <= 2100:
        return None
    return result.date()


def format_date(value: date | None) -> str | None:
    """The canonical ISO string ``YYYY-MM-DD``."""
    return value.isoformat() if value is not None else None


def date_is_ambiguous(text: str) -> bool:
    """True when the first date in ``text`` is numeric and reads differently as DMY and as MDY."""
    found = find_dates(text)
    return bool(found) and found[0].ambiguous


def infer_date_order(
    date_strings: list[str] | tuple[str, ...],
    *,
    country: str | None = None,
    language: str | None = None,
    vocabulary: Vocabulary | None = None,
) -> str:
    """How the numeric dates of one document are written: "DMY", "MDY" or "YMD".

    Evidence, strongest first: a numeric date whose first part is over 12 proves DMY, whose second
    part is over 12 proves MDY (the majority wins); the country's habit (``languages.yaml``:
    US -> MDY); a language tag with a region ("en-US", "en_US"); month-first textual dates
    ("August 3, 2014") against day-first ones ("3 August 2014"); otherwise DMY.
    """
    dmy = mdy = dmy_text = mdy_text = 0
    for s in date_strings:
        for dm in find_dates(s or ""):
            if dm.kind == "numeric":
                m = _date_regexes()[1].match(dm.text)
                if m is None:
                    continue
                a, b = int(m["a"]), int(m["b"])
                if a > 12 and b <= 12:
                    dmy += 1
                elif b > 12 and a <= 12:
                    mdy += 1
            elif dm.kind == "textual":
                if dm.order == "MDY":
                    mdy_text += 1
                else:
                    dmy_text += 1
    if dmy != mdy:
        return "DMY" if dmy > mdy else "MDY"
    voc = vocabulary or load_vocabulary()
    if country:
        o = voc.country_date_order(country)
        if o is not None:
            return o
    if language:
        parts = re.split(r"[-_]", language)
        if len(parts) > 1:
            o = voc.country_date_order(parts[1])
            if o is not None:
                return o
    if mdy_text != dmy_text:
        return "MDY" if mdy_text > dmy_text else "DMY"
    return "DMY"


# --------------------------------------------------------------------------------------------
# Currency


def detect_currency(
    text: str,
    *,
    country: str | None = None,
    language: str | None = None,
    vocabulary: Vocabulary | None = None,
) -> tuple[str | None, float]:
    """The currency of a document from the codes, symbols and words in ``text``: ``(ISO code, confidence)``.

    * ISO codes ("EUR") weigh most, unambiguous symbols ("€", "zł") next, words ("euros") least;
      the code with most weight wins, its confidence falls with the share of competing evidence.
    * An ambiguous symbol ("$", "kr", "¥", "Rs") counts for a currency that other evidence in the
      text already names (a "USD" elsewhere), else for the currency of ``country`` (or of the
      region of ``language``, "en-CA"), else for the one currency whose place name the text
      mentions ("United States"; confidence at most 0.6); otherwise the vocabulary's best guess is
      returned with its low confidence (e.g. ("USD", 0.4) for "$").
    * No evidence: ``(None, 0.0)``.  A currency is never assumed from the country alone.
    """
    voc = vocabulary or load_vocabulary()
    weights = {"code": 3.0, "symbol": 2.0, "word": 1.5}
    scores: Counter[str] = Counter()
    strong: set[str] = set()
    unresolved: list[tuple[str, tuple[str, ...], float]] = []
    for mention in voc.find_currency_mentions(text or ""):
        w = weights[mention.kind]
        if not mention.ambiguous:
            scores[mention.candidates[0]] += w
            strong.add(mention.candidates[0])
        else:
            unresolved.append((mention.text, mention.candidates, w))
    country_cur = voc.country_currency(country) if country else None
    if not country_cur and language:
        parts = re.split(r"[-_]", language)
        if len(parts) > 1:
            country_cur = voc.country_currency(parts[1])
    by_country: set[str] = set()
    by_place: set[str] = set()
    places = voc.currency_place_hints(text or "") if unresolved else set()
    leftover: list[tuple[str, tuple[str, ...], float]] = []
    for sym, cands, w in unresolved:
        named = [c for c in cands if c in strong]
        hinted = [c for c in cands if c in places]
        if named:
            scores[max(named, key=lambda c: scores[c])] += w
        elif country_cur in cands:
            scores[country_cur] += w
            by_country.add(country_cur)
        elif len(hinted) == 1:
            scores[hinted[0]] += w
            by_place.add(hinted[0])
        else:
            leftover.append((sym, cands, w))
    if scores:
        best, best_score = scores.most_common(1)[0]
        total = sum(scores.values()) + sum(w for _, _, w in leftover)
        share = best_score / total
        if best in strong:
            base = 0.97
        elif best in by_country:
            base = 0.75
        elif best in by_place:
            base = 0.6
        else:
            base = 0.85
        return best, round(base * share, 3)
    if leftover:
        # Only ambiguous evidence: the best guess of the most frequent ambiguous spelling.
        counts = Counter(sym for sym, _, _ in leftover)
        sym = counts.most_common(1)[0][0]
        guess, conf = voc.currency_best_guess(sym)
        if guess is None:
            cands = next(c for s, c, _ in leftover if s == sym)
            return cands[0], 0.2
        return guess, conf
    return None, 0.0


# --------------------------------------------------------------------------------------------
# Identifiers and names

_ID_PREFIX_RE = re.compile(r"^(?:#|[Nn][°º]|№|(?:no|nr|nro|num|núm)\.|(?:no|nr)(?=[\s:])|:|\.|-)\s*", re.IGNORECASE)


def normalize_id(text: str | None, *, keep_inner_spaces: bool = False) -> str | None:
    """An identifier as keyed: no spaces, no leading "#", "No.", "Nr.", "N°", ":" ("# BLR_123" -> "BLR_123").

    Inner punctuation ("/", "-", "_", ".") is kept: "INV/2023/03/0008" stays as it is.
    """
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", str(text)).strip()
    for _ in range(4):
        new = _ID_PREFIX_RE.sub("", s, count=1).strip()
        if new == s:
            break
        s = new
    s = s.rstrip(".,;:")
    if keep_inner_spaces:
        s = " ".join(s.split())
    else:
        s = re.sub(r"\s+", "", s)
    return s or None


_END_PUNCT = " \t\r\n.,;:-–—'\"“”‘’«»()[]{}*/\\|"


def fold_name(text: str | None) -> str:
    """A name for comparison: NFKC, case folded, one space between words, no punctuation at the ends."""
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    s = " ".join(s.split())
    return s.strip(_END_PUNCT)


def normalize_iban(text: str | None) -> str | None:
    """An IBAN without the "IBAN" prefix, spaces, dots and dashes, in capitals ("FR76 1010 ..." -> "FR761010...")."""
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = re.sub(r"^\s*IBAN\b\s*(?:n[°º]|no\.?|nr\.?)?\s*[:#]?\s*", "", s, flags=re.IGNORECASE)
    s = re.sub(r"[\s.\-]", "", s).upper()
    return s or None


__all__ = [
    "AmountReading",
    "DateMatch",
    "amount_ambiguity",
    "date_is_ambiguous",
    "detect_currency",
    "find_dates",
    "fold_name",
    "format_amount",
    "format_date",
    "infer_date_order",
    "infer_decimal_separator",
    "normalize_iban",
    "normalize_id",
    "parse_amount",
    "parse_date",
    "read_amount",
]
