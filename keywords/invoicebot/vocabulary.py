"""The domain vocabulary: label phrases, document-type keywords, currencies, legal forms, countries.

The vocabulary is data (``resources/vocabulary/*.yaml``, edited by business analysts).  This module
loads it, checks it (a broken file raises :class:`~invoicebot.errors.ConfigError` naming the file and
the key path, e.g. ``resources/vocabulary/labels.yaml: fields.invoice_number.de[3]: empty phrase``)
and offers what the extractors need:

* ``labels(field)`` / ``all_labels()`` / ``other_labels(kind)``: the phrases as :class:`LabelPhrase`;
  ``label_fields(text)``: exact look-up of one label ("Rechnungsnr.:" -> ["invoice_number"]);
* ``match_labels(line, languages=None, include_other=True)``: every label phrase in a line of text,
  on word boundaries, leftmost-longest, as :class:`LabelMatch` with character spans (field labels and
  the confusable "other" labels such as ``customer_number``); ``value_after(line, match)``;
* ``match_doc_types(text)`` / ``doc_type_keywords(type)``;
* ``language_scores(text)`` / ``likely_languages(text)`` / ``guess_language(text)``;
* currencies (``currencies``, ``currency_for_symbol``, ``currencies_for_symbol``,
  ``currency_best_guess``, ``find_currency_mentions``, ``currency_place_hints``), countries
  (``country_currency``, ``country_date_order``, ``country_languages``, ``iban_length``), legal forms
  (``find_legal_form``, ``strip_legal_form``) and month-name additions (``month_names_extra``).

``python -m invoicebot.vocabulary [FOLDER] [LINE ...]`` checks the files and shows the labels found in
sample lines: the command a business analyst runs after editing the YAML.

How phrases are compared with text ("tokens"): the text is cut into words (letters and digits), the
``#`` sign and ``N°``/``Nº``; other punctuation only separates words.  Words are case folded (accents
are kept) and the spellings of "number" abbreviations (No, No., Nr, Nr., N°, Nº, Nro, Num, Núm, N., #)
become one token.  Matching walks a token trie, so it costs a few dictionary look-ups per word.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import config
from .errors import ConfigError
from .schema import DOCUMENT_TYPES, HEADER_FIELDS

#: The token every spelling of "number" (No, Nr., N°, #, ...) is folded to.
NUMBER_TOKEN = "#"
_NUMBER_WORDS = frozenset({"no", "nr", "n°", "nº", "n", "#", "num", "núm", "nro", "nbr", "№", "n.º", "n.°", "n.o"})

#: Words (letters, digits, "_"), ``#``, ``N°``/``Nº``/``N.º``; everything else separates tokens.
_TOKEN_RE = re.compile(r"[Nn]\.?\s?[°º]|№|#|\w+")  # "_" joins: "po_number_1" is one identifier
_LETTER_BOUNDARY_L = r"(?<![^\W\d_])"
_LETTER_BOUNDARY_R = r"(?![^\W\d_])"
_SNAKE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_CODE_RE = re.compile(r"^[A-Z]{3}$")
_DATE_ORDERS = ("DMY", "MDY", "YMD")

FILES = ("languages.yaml", "labels.yaml", "document_types.yaml", "currencies.yaml", "legal_forms.yaml")


# --------------------------------------------------------------------------------------------
# Plain data handed out


@dataclass(frozen=True)
class LabelPhrase:
    """One phrase of the vocabulary.  ``field`` is a canonical field, an other-label kind or a document type."""

    text: str
    lang: str
    field: str
    other: bool = False  # True for labels that are NOT canonical fields (customer_number, ...)


@dataclass(frozen=True)
class LabelMatch:
    """A phrase found in a line: ``line[start:end]`` is the matched text (without trailing ':' or '.')."""

    field: str
    start: int
    end: int
    phrase: str  # the vocabulary phrase as written in the YAML
    lang: str  # the first language that lists the phrase
    langs: tuple[str, ...] = ()  # every language that lists it for this field
    other: bool = False  # True: an other label (customer_number, order_date, ...), not a canonical field


@dataclass(frozen=True)
class Currency:
    code: str
    name: str
    symbols: tuple[str, ...]
    words: tuple[str, ...]
    decimals: int = 2


@dataclass(frozen=True)
class CurrencyMention:
    """A currency code, symbol or word found in text; ``candidates`` has one code unless it is ambiguous."""

    text: str
    start: int
    end: int
    kind: str  # "code", "symbol" or "word"
    candidates: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) != 1


@dataclass(frozen=True)
class Country:
    code: str
    languages: tuple[str, ...] = ()
    currency: str | None = None
    date_order: str | None = None
    iban_length: int | None = None


@dataclass(frozen=True)
class LegalForm:
    canonical: str
    spellings: tuple[str, ...]
    countries: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Tokens


@functools.lru_cache(maxsize=65536)
def _fold_token(tok: str) -> str:
    t = unicodedata.normalize("NFKC", tok).casefold()
    t = t.replace(" ", "")
    if t in _NUMBER_WORDS:
        return NUMBER_TOKEN
    return t


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Cut ``text`` into ``(folded token, start, end)``; spans index the original text."""
    return [(_fold_token(m.group()), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def normalize_label(text: str) -> str:
    """The comparison key of a label: folded tokens joined by one space ("Invoice No.:" -> "invoice #")."""
    return " ".join(t for t, _, _ in tokenize(text))


# --------------------------------------------------------------------------------------------
# Loading and checking


class _Checker:
    """Collects the file name for messages and checks types with a key path."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.shown = str(path.resolve().relative_to(config.PROJECT_ROOT))
        except ValueError:
            self.shown = str(path)

    def fail(self, key: str, problem: str) -> ConfigError:
        where = f"{self.shown}: {key}: " if key else f"{self.shown}: "
        return ConfigError(
            f"{where}{problem}. Fix the vocabulary file (see the comments at its top) and run again.",
            path=str(self.path),
        )

    def load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.fail("", "file not found; the vocabulary folder must hold " + ", ".join(FILES)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.fail("", f"cannot be read as UTF-8 text ({exc})") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown place"
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.fail("", f"invalid YAML at {where}: {problem}") from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise self.fail("", f"the top level must be a mapping, not {type(data).__name__}")
        return data

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, not {_type_name(value)}")
        for k in value:
            if not isinstance(k, str):
                raise self.fail(key, f"key {k!r} must be text, not {_type_name(k)}")
        return value

    def string_list(self, value: Any, key: str, *, allow_empty_list: bool = True) -> list[str]:
        if value is None:
            value = []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of phrases, not {_type_name(value)}")
        if not value and not allow_empty_list:
            raise self.fail(key, "must not be empty")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{i}]", f"must be text, not {_type_name(item)} ({item!r}); quote it")
            if not item.strip():
                raise self.fail(f"{key}[{i}]", "empty phrase")
            out.append(item.strip())
        return out

    def known_keys(self, data: Mapping[str, Any], allowed: Iterable[str], key: str = "") -> None:
        allowed = tuple(allowed)
        for k in data:
            if k not in allowed:
                where = f"{key}.{k}" if key else k
                raise self.fail(where, f"unknown key; expected one of: {', '.join(allowed)}")


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {
        "str": "text",
        "int": "a number",
        "float": "a number",
        "bool": "true/false",
        "list": "a list",
        "dict": "a mapping",
    }.get(type(value).__name__, type(value).__name__)


_END = object()  # trie key of the entries that end at a node


class _Trie:
    """Token trie: maps token sequences to the entries ending there."""

    def __init__(self) -> None:
        self.root: dict[Any, Any] = {}
        self.max_len = 0

    def add(self, key: tuple[str, ...], entry: Any) -> None:
        node = self.root
        for tok in key:
            node = node.setdefault(tok, {})
        node.setdefault(_END, []).append(entry)
        self.max_len = max(self.max_len, len(key))

    def scan(
        self,
        tokens: list[tuple[str, int, int]],
        text: str,
        accept: Callable[[Any, int, int], bool] | None = None,
    ) -> list[tuple[int, int, list[Any]]]:
        """Leftmost-longest, non-overlapping matches as ``(first token, last token + 1, entries)``.

        A phrase only continues over a short gap between two tokens (:func:`_joinable`), so it never
        spans two columns of a layout line.  ``accept(entry, i, j)`` filters entries; when every entry
        of the longest phrase is refused, the next shorter phrase at the same place is tried.
        """
        out = []
        i, n = 0, len(tokens)
        root = self.root
        while i < n:
            node = root.get(tokens[i][0])
            ends: list[tuple[int, list[Any]]] = []
            j = i
            while node is not None:
                entries = node.get(_END)
                if entries:
                    ends.append((j + 1, entries))
                j += 1
                if j >= n or not _joinable(text, tokens[j - 1][2], tokens[j][1]):
                    break
                node = node.get(tokens[j][0])
            chosen: tuple[int, list[Any]] | None = None
            for end, entries in reversed(ends):
                kept = entries if accept is None else [e for e in entries if accept(e, i, end)]
                if kept:
                    chosen = (end, kept)
                    break
            if chosen is not None:
                out.append((i, chosen[0], chosen[1]))
                i = chosen[0]
            else:
                i += 1
        return out


_GAP_RE = re.compile(r"[ .\-/'’()&]{0,3}")


def _joinable(text: str, end: int, start: int) -> bool:
    """Two tokens belong to one phrase when at most 3 characters out of space . - / ' ( ) & separate them.

    Layout text puts wide gaps between columns, so "Tax      Total" (two column heads) and
    "Montant     % TVA" are not one phrase; ":" ends a label, digits and "%" are values.
    """
    return _GAP_RE.fullmatch(text, end, start) is not None


@dataclass
class _Entry:
    field: str
    lang: str
    phrase: str
    other: bool
    exact: tuple[str, ...] | None = None  # case-sensitive phrase: the tokens as they must be printed


class Vocabulary:
    """The loaded, checked vocabulary.  Build it with :func:`load_vocabulary`."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.languages: dict[str, str] = {}
        self.common_words: dict[str, tuple[str, ...]] = {}
        self.month_names_extra: dict[str, list[tuple[str, int]]] = {}  # lang -> [(name, month)]
        self.countries: dict[str, Country] = {}
        self._labels: dict[str, list[LabelPhrase]] = {f: [] for f in HEADER_FIELDS}
        self._other: dict[str, list[LabelPhrase]] = {}
        self._doc_types: dict[str, list[LabelPhrase]] = {t: [] for t in DOCUMENT_TYPES}
        self.currencies: dict[str, Currency] = {}
        self.ambiguous_currency: dict[str, tuple[str, float]] = {}  # symbol/word -> (best guess, confidence)
        self.legal_forms: list[LegalForm] = []
        self._label_trie = _Trie()
        self._doctype_trie = _Trie()
        self._word_langs: dict[str, tuple[str, ...]] = {}
        self._symbol_index: dict[str, tuple[str, ...]] = {}
        self._word_index: dict[str, tuple[str, ...]] = {}
        self._currency_re: re.Pattern[str] | None = None
        self._place_hints: dict[str, str] = {}
        self._place_re: re.Pattern[str] | None = None
        self._legal_re: re.Pattern[str] | None = None
        self._legal_by_key: dict[str, LegalForm] = {}
        self._credit_note_references: set[str] = set()  # normalised po_number phrases; see labels.yaml

    # -- labels -----------------------------------------------------------------------------

    @property
    def fields(self) -> tuple[str, ...]:
        return HEADER_FIELDS

    @property
    def other_label_kinds(self) -> tuple[str, ...]:
        return tuple(self._other)

    def labels(self, field: str) -> list[LabelPhrase]:
        """Label phrases of a canonical header field, all languages."""
        if field not in self._labels:
            raise KeyError(f"unknown canonical field {field!r}; known: {', '.join(HEADER_FIELDS)}")
        return list(self._labels[field])

    def all_labels(self) -> list[LabelPhrase]:
        return [p for f in HEADER_FIELDS for p in self._labels[f]]

    def other_labels(self, kind: str | None = None) -> list[LabelPhrase]:
        """Confusable labels that are not canonical fields (all kinds, or one kind such as ``customer_number``)."""
        if kind is None:
            return [p for ps in self._other.values() for p in ps]
        if kind not in self._other:
            raise KeyError(f"unknown other-label kind {kind!r}; known: {', '.join(self._other)}")
        return list(self._other[kind])

    def is_credit_note_reference(self, phrase: str) -> bool:
        """Whether a po_number label names a reference only ("Your reference"), which on a credit note is most often
        the number of the invoice it corrects (``credit_note_references`` in labels.yaml)."""
        return normalize_label(phrase) in self._credit_note_references

    def label_fields(self, text: str) -> list[str]:
        """The fields (or other-label kinds) whose phrase is exactly ``text`` after normalisation.

        Case, spacing, trailing ':' '.' and the spelling of "No."/"Nr."/"N°"/"#" do not matter;
        when ``text`` ends with such a number mark and only the words before it are a phrase,
        those count ("Rechnung Nr.:" -> invoice_number).  Case-sensitive phrases must be printed
        as listed.  Empty list: not a known label.
        """
        tokens = tokenize(text)
        while tokens:
            found = self._exact_fields(text, tokens)
            if found or tokens[-1][0] != NUMBER_TOKEN:
                return found
            tokens = tokens[:-1]
        return []

    def _exact_fields(self, text: str, tokens: list[tuple[str, int, int]]) -> list[str]:
        node: dict[Any, Any] | None = self._label_trie.root
        for tok, _, _ in tokens:
            node = node.get(tok) if node is not None else None
        if node is None:
            return []
        accept = self._acceptor(text, tokens, None)
        seen: list[str] = []
        for e in node.get(_END, []):
            if accept(e, 0, len(tokens)) and e.field not in seen:
                seen.append(e.field)
        return seen

    def match_labels(
        self,
        line_text: str,
        *,
        languages: Iterable[str] | None = None,
        include_other: bool = True,
    ) -> list[LabelMatch]:
        """Every label phrase in ``line_text``: leftmost-longest, whole words, in reading order.

        A phrase listed under several fields yields one match per field at the same span.
        ``languages`` keeps only phrases of those languages (e.g. the languages of the page);
        ``include_other=False`` drops the other labels (customer_number, order_date, ...), but they
        still take part in longest-match, so "Kundennr." never turns into a shorter field label.
        """
        tokens = tokenize(line_text)
        if not tokens:
            return []
        accept = self._acceptor(line_text, tokens, languages)
        out: list[LabelMatch] = []
        for i, j, entries in self._label_trie.scan(tokens, line_text, accept):
            start, end = tokens[i][1], tokens[j - 1][2]
            by_field: dict[str, list[_Entry]] = {}
            for e in entries:
                by_field.setdefault(e.field, []).append(e)
            for fname, es in by_field.items():
                if es[0].other and not include_other:
                    continue
                out.append(
                    LabelMatch(
                        field=fname,
                        start=start,
                        end=end,
                        phrase=es[0].phrase,
                        lang=es[0].lang,
                        langs=tuple(e.lang for e in es),
                        other=es[0].other,
                    )
                )
        return out

    @staticmethod
    def _acceptor(
        text: str, tokens: list[tuple[str, int, int]], languages: Iterable[str] | None
    ) -> Callable[[Any, int, int], bool]:
        langs = frozenset(languages) if languages is not None else None

        def accept(e: _Entry, i: int, j: int) -> bool:
            if langs is not None and e.lang not in langs:
                return False
            if e.exact is not None:
                printed = tuple(unicodedata.normalize("NFKC", text[s:t]) for _, s, t in tokens[i:j])
                return printed == e.exact
            return True

        return accept

    def match_other_labels(self, line_text: str, *, languages: Iterable[str] | None = None) -> list[LabelMatch]:
        """Only the other labels (customer_number, order_number, ...) found in ``line_text``."""
        return [m for m in self.match_labels(line_text, languages=languages) if m.other]

    # -- document types ---------------------------------------------------------------------

    def doc_type_keywords(self, doc_type: str) -> list[LabelPhrase]:
        if doc_type not in self._doc_types:
            raise KeyError(f"unknown document type {doc_type!r}; known: {', '.join(DOCUMENT_TYPES)}")
        return list(self._doc_types[doc_type])

    def names_doc_type(self, phrase: str, doc_type: str) -> bool:
        """Whether a label names a document type: holds one of its keywords ("Credit Note No.", "Nota di credito
        n.") or starts with a one-word keyword that a compound continues ("Gutschriftsnummer", "Creditnotanummer")."""
        if any(m.field == doc_type for m in self.match_doc_types(phrase)):
            return True
        first = next(iter(tokenize(phrase)), ("", 0, 0))[0]
        return any(len(k) >= 6 and first.startswith(k) and len(first) > len(k)
                   for k in (normalize_label(p.text) for p in self.doc_type_keywords(doc_type)) if " " not in k)

    def match_doc_types(self, text: str, *, languages: Iterable[str] | None = None) -> list[LabelMatch]:
        """Document-type keywords in ``text`` (``field`` holds the document type)."""
        tokens = tokenize(text)
        out = []
        for i, j, entries in self._doctype_trie.scan(tokens, text, self._acceptor(text, tokens, languages)):
            by_type: dict[str, list[_Entry]] = {}
            for e in entries:
                by_type.setdefault(e.field, []).append(e)
            for t, es in by_type.items():
                out.append(
                    LabelMatch(t, tokens[i][1], tokens[j - 1][2], es[0].phrase, es[0].lang, tuple(e.lang for e in es))
                )
        return out

    # -- languages --------------------------------------------------------------------------

    def language_scores(self, text: str) -> dict[str, float]:
        """A quick guess of the language of ``text``: share of evidence per language (sums to 1, or all 0).

        Evidence: label phrases and document-type keywords (weight 2) and the common words of
        ``languages.yaml`` (weight 1); a phrase shared by several languages counts for each of them
        in part.
        """
        scores = dict.fromkeys(self.languages, 0.0)
        tokens = tokenize(text)
        if not tokens:
            return scores
        for trie in (self._label_trie, self._doctype_trie):
            for _i, _j, entries in trie.scan(tokens, text, self._acceptor(text, tokens, None)):
                langs = {e.lang for e in entries}
                for lang in langs:
                    scores[lang] += 2.0 / len(langs)
        for tok, _, _ in tokens:
            langs_w = self._word_langs.get(tok)
            if langs_w:
                for lang in langs_w:
                    scores[lang] += 1.0 / len(langs_w)
        total = sum(scores.values())
        if total <= 0:
            return scores
        return {k: v / total for k, v in scores.items()}

    def likely_languages(self, text: str, *, minimum: float = 0.15) -> list[str]:
        """Languages with at least ``minimum`` of the evidence in ``text``, most likely first.

        Pass the result as ``languages=`` to :meth:`match_labels` so that a label of another
        language ("Data" is Italian/Polish for date) is not found in an English "AWS Data Transfer".
        Empty when there is no evidence (then match without a language filter).
        """
        scores = self.language_scores(text)
        return [k for k, v in sorted(scores.items(), key=lambda kv: -kv[1]) if v >= minimum and v > 0]

    def guess_language(self, text: str, *, minimum: float = 0.3) -> str | None:
        """The most likely language of ``text``, or None when no language has ``minimum`` of the evidence."""
        scores = self.language_scores(text)
        lang, share = max(scores.items(), key=lambda kv: kv[1], default=(None, 0.0))
        return lang if share >= minimum and share > 0 else None

    # -- currencies -------------------------------------------------------------------------

    @property
    def currency_codes(self) -> frozenset[str]:
        return frozenset(self.currencies)

    def currencies_for_symbol(self, symbol: str) -> tuple[str, ...]:
        """Every currency a symbol, code or word may stand for ("$" -> USD, CAD, AUD, ...); () if unknown."""
        s = symbol.strip()
        if s in self._symbol_index:
            return self._symbol_index[s]
        return self._word_index.get(_fold_words(s), ())

    def currency_for_symbol(self, symbol: str) -> str | None:
        """The ISO code of an UNAMBIGUOUS symbol, code or word ("€" -> EUR); None if unknown or ambiguous."""
        cands = self.currencies_for_symbol(symbol)
        return cands[0] if len(cands) == 1 else None

    def currency_best_guess(self, symbol: str) -> tuple[str | None, float]:
        """For an ambiguous symbol: the YAML's best guess and its (low) confidence; (None, 0) if none."""
        s = symbol.strip()
        guess = self.ambiguous_currency.get(s) or self.ambiguous_currency.get(_fold_words(s))
        return guess if guess else (None, 0.0)

    def find_currency_mentions(self, text: str) -> list[CurrencyMention]:
        """ISO codes, symbols and currency words in ``text``, in order (longest spelling wins)."""
        if self._currency_re is None:
            return []
        out = []
        for m in self._currency_re.finditer(text):
            s = m.group()
            if s in self._symbol_index:
                cands = self._symbol_index[s]
                kind = "code" if s in self.currencies else "symbol"
            else:
                cands = self._word_index.get(_fold_words(s), ())
                kind = "word"
            if cands:
                out.append(CurrencyMention(s, m.start(), m.end(), kind, cands))
        return out

    def currency_place_hints(self, text: str) -> set[str]:
        """Currencies whose place names (currencies.yaml ``place_hints``) occur in ``text``."""
        if self._place_re is None:
            return set()
        return {self._place_hints[m.group()] for m in self._place_re.finditer(text)}

    # -- countries --------------------------------------------------------------------------

    def country_currency(self, country: str | None) -> str | None:
        c = self.countries.get((country or "").upper())
        return c.currency if c else None

    def country_date_order(self, country: str | None) -> str | None:
        c = self.countries.get((country or "").upper())
        return c.date_order if c else None

    def country_languages(self, country: str | None) -> tuple[str, ...]:
        c = self.countries.get((country or "").upper())
        return c.languages if c else ()

    def iban_length(self, country: str | None) -> int | None:
        c = self.countries.get((country or "").upper())
        return c.iban_length if c else None

    # -- legal forms ------------------------------------------------------------------------

    def find_legal_form(self, name: str) -> LegalForm | None:
        """The legal form that ``name`` ends with ("Example B.V." -> B.V.), or None."""
        if self._legal_re is None:
            return None
        m = self._legal_re.search(name)
        if not m:
            return None
        return self._legal_by_key.get(_legal_key(m.group("form")))

    def strip_legal_form(self, name: str) -> str:
        """``name`` without a trailing legal form and the comma before it ("Example, Inc." -> "Example")."""
        if self._legal_re is None:
            return name.strip()
        m = self._legal_re.search(name)
        if not m:
            return name.strip()
        return name[: m.start()].rstrip(" ,;-–").strip() or name.strip()


def strip_accents(text: str) -> str:
    """``text`` without accents ("Numéro" -> "Numero", "zapłaty" -> "zaplaty"); other letters unchanged."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _fold_words(s: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", s).casefold().split())


def _legal_key(s: str) -> str:
    return re.sub(r"[\s.]", "", unicodedata.normalize("NFKC", s).casefold())


def _legal_pattern(spelling: str) -> str:
    """Regex for a legal form spelling that ignores case, dots and spaces between its parts."""
    parts = [p for p in re.split(r"[\s.]+", spelling) if p]
    # Short abbreviations may be printed with or without dots between letters: "SRL" / "S.r.l.".
    pieces = [r"[\s.]*".join(re.escape(ch) for ch in p) if len(p) <= 4 else re.escape(p) for p in parts]
    return r"[\s.]*".join(pieces) + r"\.?"


# --------------------------------------------------------------------------------------------
# Building a vocabulary from the files


def _load_languages(voc: Vocabulary, chk: _Checker) -> None:
    data = chk.load()
    chk.known_keys(data, ("languages", "common_words", "month_names_extra", "countries"))
    langs = chk.mapping(data.get("languages"), "languages")
    if not langs:
        raise chk.fail("languages", "at least one language must be listed")
    for code, name in langs.items():
        if not re.fullmatch(r"[a-z]{2}", code):
            raise chk.fail(f"languages.{code}", "a language code is two small letters (ISO 639-1), e.g. en")
        if not isinstance(name, str) or not name.strip():
            raise chk.fail(f"languages.{code}", "the language needs a name, e.g. English")
        voc.languages[code] = name
    words = chk.mapping(data.get("common_words"), "common_words")
    word_langs: dict[str, list[str]] = {}
    for lang, ws in words.items():
        _check_lang(voc, chk, lang, f"common_words.{lang}")
        items = chk.string_list(ws, f"common_words.{lang}")
        voc.common_words[lang] = tuple(items)
        for w in items:
            word_langs.setdefault(_fold_token(w), []).append(lang)
    voc._word_langs = {w: tuple(dict.fromkeys(ls)) for w, ls in word_langs.items()}
    extras = chk.mapping(data.get("month_names_extra"), "month_names_extra")
    for lang, months in extras.items():
        key = f"month_names_extra.{lang}"
        _check_lang(voc, chk, lang, key)
        if months is None:
            continue
        if not isinstance(months, dict):
            raise chk.fail(key, f"must be a mapping of month number to names, not {_type_name(months)}")
        for num, names in months.items():
            if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= 12:
                raise chk.fail(f"{key}.{num}", "a month number is a whole number from 1 to 12")
            for name in chk.string_list(names, f"{key}.{num}"):
                voc.month_names_extra.setdefault(lang, []).append((name, num))
    countries = chk.mapping(data.get("countries"), "countries")
    for cc, spec in countries.items():
        key = f"countries.{cc}"
        if not _COUNTRY_RE.match(cc):
            raise chk.fail(key, "a country code is two capital letters (ISO 3166-1 alpha-2), e.g. DE")
        spec = chk.mapping(spec, key)
        chk.known_keys(spec, ("languages", "currency", "date_order", "iban_length"), key)
        clangs = chk.string_list(spec.get("languages"), f"{key}.languages")
        for i, lang in enumerate(clangs):
            _check_lang(voc, chk, lang, f"{key}.languages[{i}]")
        cur = spec.get("currency")
        if cur is not None and (not isinstance(cur, str) or not _CODE_RE.match(cur)):
            raise chk.fail(f"{key}.currency", f"{cur!r} is not an ISO 4217 code (three capital letters)")
        order = spec.get("date_order")
        if order is not None and order not in _DATE_ORDERS:
            raise chk.fail(f"{key}.date_order", f"{order!r} must be one of {', '.join(_DATE_ORDERS)}")
        ilen = spec.get("iban_length")
        if ilen is not None and (not isinstance(ilen, int) or isinstance(ilen, bool) or not 15 <= ilen <= 34):
            raise chk.fail(f"{key}.iban_length", f"{ilen!r} must be a whole number from 15 to 34")
        voc.countries[cc] = Country(cc, tuple(clangs), cur, order, ilen)


def _check_lang(voc: Vocabulary, chk: _Checker, lang: str, key: str) -> None:
    if lang not in voc.languages:
        raise chk.fail(key, f"unknown language {lang!r}; languages.yaml lists: {', '.join(voc.languages)}")


def _phrase_table(
    voc: Vocabulary,
    chk: _Checker,
    table: Mapping[str, Any],
    key: str,
    trie: _Trie,
    *,
    other: bool,
    seen_global: dict[str, tuple[str, bool]] | None,
    case_sensitive: dict[str, int] | None = None,
    used: set[str] | None = None,
    collected: list[tuple[tuple[str, ...], _Entry]] | None = None,
) -> dict[str, list[LabelPhrase]]:
    """Read ``{name: {lang: [phrases]}}``; checks languages, phrases, duplicates; fills ``trie``."""
    out: dict[str, list[LabelPhrase]] = {}
    for name, per_lang in table.items():
        nkey = f"{key}.{name}"
        per_lang = chk.mapping(per_lang, nkey)
        phrases: list[LabelPhrase] = []
        for lang, items in per_lang.items():
            lkey = f"{nkey}.{lang}"
            _check_lang(voc, chk, lang, lkey)
            seen: dict[str, int] = {}
            for i, text in enumerate(chk.string_list(items, lkey)):
                norm = tuple(t for t, _, _ in tokenize(text))
                if not norm:
                    raise chk.fail(f"{lkey}[{i}]", f"phrase {text!r} has no letters or digits")
                nk = " ".join(norm)
                if nk in seen:
                    raise chk.fail(
                        f"{lkey}[{i}]",
                        f"duplicate phrase {text!r}: it reads the same as {lkey}[{seen[nk]}] "
                        "(case, ':' '.' and No/Nr/N°/# spellings are ignored); remove one",
                    )
                seen[nk] = i
                if seen_global is not None:
                    prev = seen_global.get(nk)
                    if prev is not None and prev[1] != other:
                        raise chk.fail(
                            f"{lkey}[{i}]",
                            f"phrase {text!r} is also listed under {'other_labels' if prev[1] else 'fields'}.{prev[0]}; "
                            "a phrase cannot be both a field label and an other label",
                        )
                    seen_global.setdefault(nk, (name, other))
                phrases.append(LabelPhrase(text, lang, name, other))
                exact = None
                if case_sensitive is not None and text in case_sensitive:
                    exact = tuple(unicodedata.normalize("NFKC", m.group()) for m in _TOKEN_RE.finditer(text))
                    if used is not None:
                        used.add(text)
                entry = _Entry(name, lang, text, other, exact)
                trie.add(norm, entry)
                if collected is not None:
                    collected.append((norm, entry))
        out[name] = phrases
    return out


def _add_unaccented_aliases(trie: _Trie, collected: list[tuple[tuple[str, ...], _Entry]]) -> None:
    """Let "Numero de facture" and "Razem do zaplaty" (accents lost by OCR or plain-ASCII systems) match.

    The YAML keeps its accents (they are compared as written); for matching, each phrase with
    accents also answers to its spelling without them, unless that spelling is a phrase of its own.
    """
    keys = {norm for norm, _ in collected}
    for norm, entry in collected:
        if entry.exact is not None:
            continue
        bare = tuple(strip_accents(t) for t in norm)
        if bare != norm and bare not in keys:
            trie.add(bare, entry)


def _load_labels(voc: Vocabulary, chk: _Checker) -> None:
    data = chk.load()
    chk.known_keys(data, ("fields", "other_labels", "case_sensitive", "credit_note_references"))
    fields = chk.mapping(data.get("fields"), "fields")
    for name in fields:
        if name not in HEADER_FIELDS:
            raise chk.fail(f"fields.{name}", f"unknown field; canonical fields are: {', '.join(HEADER_FIELDS)}")
    others = chk.mapping(data.get("other_labels"), "other_labels")
    for name in others:
        if name in HEADER_FIELDS:
            raise chk.fail(f"other_labels.{name}", "is a canonical field; put its phrases under fields")
        if not _SNAKE_RE.match(name):
            raise chk.fail(f"other_labels.{name}", "a kind name is snake_case: small letters, digits and '_'")
    cs_list = chk.string_list(data.get("case_sensitive"), "case_sensitive")
    case_sensitive = {text: i for i, text in enumerate(cs_list)}
    used: set[str] = set()
    seen_global: dict[str, tuple[str, bool]] = {}
    collected: list[tuple[tuple[str, ...], _Entry]] = []
    voc._labels.update(
        _phrase_table(
            voc,
            chk,
            fields,
            "fields",
            voc._label_trie,
            other=False,
            seen_global=seen_global,
            case_sensitive=case_sensitive,
            used=used,
            collected=collected,
        )
    )
    voc._other = _phrase_table(
        voc,
        chk,
        others,
        "other_labels",
        voc._label_trie,
        other=True,
        seen_global=seen_global,
        case_sensitive=case_sensitive,
        used=used,
        collected=collected,
    )
    _add_unaccented_aliases(voc._label_trie, collected)
    po_labels = {normalize_label(p.text) for p in voc._labels["po_number"]}
    for i, text in enumerate(chk.string_list(data.get("credit_note_references"), "credit_note_references")):
        key = normalize_label(text)
        if key not in po_labels:
            raise chk.fail(f"credit_note_references[{i}]",
                           f"{text!r} is not a phrase under fields.po_number (spell it as listed there)")
        voc._credit_note_references.add(key)
    for text, i in case_sensitive.items():
        if text not in used:
            raise chk.fail(
                f"case_sensitive[{i}]",
                f"{text!r} is not a phrase under fields or other_labels (spell it exactly as listed there)",
            )


def _load_doc_types(voc: Vocabulary, chk: _Checker) -> None:
    data = chk.load()
    chk.known_keys(data, ("document_types",))
    types = chk.mapping(data.get("document_types"), "document_types")
    for name in types:
        if name not in DOCUMENT_TYPES:
            raise chk.fail(f"document_types.{name}", f"unknown document type; known: {', '.join(DOCUMENT_TYPES)}")
    collected: list[tuple[tuple[str, ...], _Entry]] = []
    voc._doc_types.update(
        _phrase_table(
            voc, chk, types, "document_types", voc._doctype_trie, other=False, seen_global=None, collected=collected
        )
    )
    _add_unaccented_aliases(voc._doctype_trie, collected)


def _load_currencies(voc: Vocabulary, chk: _Checker) -> None:
    data = chk.load()
    chk.known_keys(data, ("currencies", "ambiguous", "family_words", "place_hints"))
    table = chk.mapping(data.get("currencies"), "currencies")
    symbol_index: dict[str, list[str]] = {}
    word_index: dict[str, list[str]] = {}
    for code, spec in table.items():
        key = f"currencies.{code}"
        if not _CODE_RE.match(code):
            raise chk.fail(key, "a currency code is three capital letters (ISO 4217), e.g. EUR")
        spec = chk.mapping(spec, key)
        chk.known_keys(spec, ("name", "symbols", "words", "decimals"), key)
        name = spec.get("name", code)
        if not isinstance(name, str) or not name.strip():
            raise chk.fail(f"{key}.name", "must be text")
        symbols = chk.string_list(spec.get("symbols"), f"{key}.symbols")
        words = chk.string_list(spec.get("words"), f"{key}.words")
        decimals = spec.get("decimals", 2)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 4:
            raise chk.fail(f"{key}.decimals", f"{decimals!r} must be a whole number from 0 to 4")
        for i, s in enumerate(symbols):
            if symbols.index(s) != i:
                raise chk.fail(f"{key}.symbols[{i}]", f"duplicate symbol {s!r}")
        folded = [_fold_words(w) for w in words]
        for i, w in enumerate(folded):
            if folded.index(w) != i:
                raise chk.fail(f"{key}.words[{i}]", f"duplicate word {words[i]!r}")
        syms = tuple(dict.fromkeys([code, *symbols]))
        voc.currencies[code] = Currency(code, name, syms, tuple(words), decimals)
        for s in syms:
            symbol_index.setdefault(s, []).append(code)
        for w in folded:
            word_index.setdefault(w, []).append(code)
    families = chk.mapping(data.get("family_words"), "family_words")
    for w, codes in families.items():
        key = f"family_words.{w}"
        items = chk.string_list(codes, key, allow_empty_list=False)
        for i, c in enumerate(items):
            if c not in voc.currencies:
                raise chk.fail(f"{key}[{i}]", f"unknown currency {c!r}; list it under currencies first")
        word_index.setdefault(_fold_words(w), []).extend(items)
    voc._symbol_index = {s: tuple(dict.fromkeys(cs)) for s, cs in symbol_index.items()}
    voc._word_index = {w: tuple(dict.fromkeys(cs)) for w, cs in word_index.items()}
    amb = chk.mapping(data.get("ambiguous"), "ambiguous")
    for s, spec in amb.items():
        key = f"ambiguous.{s}"
        spec = chk.mapping(spec, key)
        chk.known_keys(spec, ("best_guess", "confidence"), key)
        cands = voc.currencies_for_symbol(s)
        if len(cands) < 2:
            raise chk.fail(
                key, f"{s!r} is not shared by several currencies (it stands for {', '.join(cands) or 'none'})"
            )
        guess = spec.get("best_guess")
        if guess not in cands:
            raise chk.fail(f"{key}.best_guess", f"{guess!r} must be one of {', '.join(cands)}")
        conf = spec.get("confidence", 0.4)
        if not isinstance(conf, int | float) or isinstance(conf, bool) or not 0 < conf < 1:
            raise chk.fail(f"{key}.confidence", f"{conf!r} must be a number between 0 and 1")
        voc.ambiguous_currency[s] = (guess, float(conf))
    hints = chk.mapping(data.get("place_hints"), "place_hints")
    hint_parts = []
    for code, places in hints.items():
        key = f"place_hints.{code}"
        if code not in voc.currencies:
            raise chk.fail(key, f"unknown currency {code!r}; list it under currencies first")
        for place in chk.string_list(places, key):
            voc._place_hints[place] = code
            hint_parts.append(re.escape(place))
    if hint_parts:
        hint_parts.sort(key=len, reverse=True)
        voc._place_re = re.compile(r"(?<!\w)(?:" + "|".join(hint_parts) + r")(?!\w)")
    for cc, country in voc.countries.items():
        if country.currency is not None and country.currency not in voc.currencies:
            raise chk.fail("currencies", f"languages.yaml names {country.currency} for {cc}, but it is not listed here")
    # One regex over every code, symbol and word, longest spelling first.  Spellings that start with
    # a letter share one look-behind (a position inside a word fails at once, which keeps the scan
    # fast) and must end as a whole word when they end with a letter ("kr" not in "kreditor"; digits
    # may touch: "EUR12.00").  Symbols are case-sensitive, words are not.
    lettered: list[tuple[int, str]] = []
    other: list[tuple[int, str]] = []
    for sym in voc._symbol_index:
        p = re.escape(sym) + (_LETTER_BOUNDARY_R if sym[-1].isalpha() else "")
        (lettered if sym[0].isalpha() else other).append((len(sym), p))
    for w in voc._word_index:
        p = "(?i:" + r"\s+".join(re.escape(x) for x in w.split()) + ")" + _LETTER_BOUNDARY_R
        (lettered if w[0].isalpha() else other).append((len(w), p))
    groups = []
    if lettered:
        groups.append(_LETTER_BOUNDARY_L + "(?:" + "|".join(p for _, p in sorted(lettered, key=lambda t: -t[0])) + ")")
    if other:
        groups.append("(?:" + "|".join(p for _, p in sorted(other, key=lambda t: -t[0])) + ")")
    voc._currency_re = re.compile("|".join(groups)) if groups else None


def _load_legal_forms(voc: Vocabulary, chk: _Checker) -> None:
    data = chk.load()
    chk.known_keys(data, ("forms",))
    forms = chk.mapping(data.get("forms"), "forms")
    seen: dict[str, str] = {}
    patterns = []
    for canonical, spec in forms.items():
        key = f"forms.{canonical}"
        if not canonical.strip():
            raise chk.fail(key, "empty legal form")
        spec = chk.mapping(spec, key)
        chk.known_keys(spec, ("countries", "variants"), key)
        countries = chk.string_list(spec.get("countries"), f"{key}.countries")
        for i, cc in enumerate(countries):
            if not _COUNTRY_RE.match(cc):
                raise chk.fail(f"{key}.countries[{i}]", f"{cc!r} is not a two-letter country code")
        variants = chk.string_list(spec.get("variants"), f"{key}.variants")
        spellings = (canonical, *variants)
        lf = LegalForm(canonical, spellings, tuple(countries))
        for i, sp in enumerate(spellings):
            k = _legal_key(sp)
            if k in seen:
                where = key if i == 0 else f"{key}.variants[{i - 1}]"
                raise chk.fail(where, f"{sp!r} reads the same as {seen[k]!r} (dots, spaces and case are ignored)")
            seen[k] = sp
            voc._legal_by_key[k] = lf
            patterns.append(_legal_pattern(sp))
        voc.legal_forms.append(lf)
    if patterns:
        patterns.sort(key=len, reverse=True)
        voc._legal_re = re.compile(
            r"(?:^|(?<=[\s,(]))(?P<form>" + "|".join(patterns) + r")(?=\s*(?:[),;]|$))", re.IGNORECASE
        )


_CACHE: dict[Path, Vocabulary] = {}
_LOCK = threading.Lock()


def load_vocabulary(directory: Path | str | None = None) -> Vocabulary:
    """Load and check the vocabulary in ``directory`` (default ``config.VOCABULARY_DIR``); cached per folder.

    Raises ConfigError naming the file and the key path of the first problem found.
    """
    d = Path(directory) if directory is not None else config.VOCABULARY_DIR
    d = d.resolve()
    with _LOCK:
        voc = _CACHE.get(d)
        if voc is not None:
            return voc
        if not d.is_dir():
            raise ConfigError(
                f"vocabulary folder {d} does not exist; set INVOICEBOT_RESOURCES to the folder that holds "
                "vocabulary/ or restore resources/vocabulary from the repository",
                path=str(d),
            )
        voc = Vocabulary(d)
        _load_languages(voc, _Checker(d / "languages.yaml"))
        _load_labels(voc, _Checker(d / "labels.yaml"))
        _load_doc_types(voc, _Checker(d / "document_types.yaml"))
        _load_currencies(voc, _Checker(d / "currencies.yaml"))
        _load_legal_forms(voc, _Checker(d / "legal_forms.yaml"))
        _CACHE[d] = voc
        return voc


def clear_cache() -> None:
    """Forget loaded vocabularies (tests; after editing the YAML in a long-running process)."""
    with _LOCK:
        _CACHE.clear()


_VALUE_SEP_RE = re.compile(r"[\s:.#°º\-–|=)\]]*(?:[Nn][°º]\s*)?[\s:.#\-–|=]*")


def value_after(line_text: str, match: LabelMatch) -> tuple[str, int]:
    """The text after a label, without the separators that follow labels (':', '.', '#', 'N°', '-').

    Returns ``(text, start offset in line_text)``; the text is stripped at its right end.
    """
    m = _VALUE_SEP_RE.match(line_text, match.end)
    start = m.end() if m else match.end
    return line_text[start:].rstrip(), start


def main(argv: list[str] | None = None) -> int:
    """``python -m invoicebot.vocabulary [FOLDER] [LINE ...]``: check the vocabulary, print its size,
    and show the labels found in each LINE.  Exit status 1 (with the message) when a file is invalid."""
    import sys
    import time

    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args.pop(0)) if args and Path(args[0]).is_dir() else None
    started = time.perf_counter()
    try:
        voc = load_vocabulary(folder)
    except ConfigError as exc:
        print(f"vocabulary INVALID: {exc}", file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    print(f"vocabulary OK: {voc.directory} (loaded in {took * 1000:.0f} ms)")
    print(f"  languages: {', '.join(voc.languages)}")
    print(
        f"  field labels: {len(voc.all_labels())}, other labels: {len(voc.other_labels())} "
        f"in {len(voc.other_label_kinds)} kinds"
    )
    print(f"  document-type keywords: {sum(len(voc.doc_type_keywords(t)) for t in DOCUMENT_TYPES)}")
    print(f"  currencies: {len(voc.currencies)}, countries: {len(voc.countries)}, legal forms: {len(voc.legal_forms)}")
    for line in args:
        found = voc.match_labels(line)
        shown = ", ".join(f"{m.field}{'(other)' if m.other else ''}={line[m.start : m.end]!r}" for m in found)
        print(f"  {line!r}: {shown or 'no label'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "Country",
    "Currency",
    "CurrencyMention",
    "LabelMatch",
    "LabelPhrase",
    "LegalForm",
    "NUMBER_TOKEN",
    "Vocabulary",
    "clear_cache",
    "load_vocabulary",
    "main",
    "normalize_label",
    "strip_accents",
    "tokenize",
    "value_after",
]
