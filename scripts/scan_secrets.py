#!/usr/bin/env python3
"""Scan a run's outputs for secrets and personal identifiers in clear; exit 1 when any is found.

    scripts/scan_secrets.py output/acceptance [DIR...] [--secret VALUE] [--manifest FILE]

What it looks for, in every text output under the folders (html, xml, json, jsonl, csv, log, txt, ...,
and the messages that Robot's log.html/report.html keep base64+zlib compressed in ``window.output``):

- the IBAN, tax id and address of every generated document: read from each ``manifest.json`` under
  the folders (written by ``invoicebot.mailgen``) and from ``--manifest``, and those of every vendor the
  generator knows (``mailgen.VENDORS``: an inbox generated outside the folders too); found with or
  without spaces;
- any IBAN whose length and check digits are valid (ISO 13616, mod 97), known or not;
- the passwords of the project's services: the test defaults of scripts/dovecot.sh, scripts/tryton/ and
  the Tryton profile, PostgreSQL's generated one (the passfile ``$INVOICEBOT_PG_DIR/pgpass``, default
  var/postgres/pgpass, of scripts/postgres.sh), every ``INVOICEBOT_*PASSWORD`` set in the environment (set
  ``INVOICEBOT_TEST_IMAP_PASSWORD`` before the suites to fix the IMAP suite's password), and ``--secret``;
- any ``password=...`` / ``"password": "..."`` pair whose value is not masked, a variable or a literal of
  the project's own .robot/.resource sources (those are in the repository already).

Each finding is printed per file, masked itself.  ``manifest.json`` files are the list of what to look
for, not outputs, and are not scanned.  Exit status: 0 clean, 1 secrets found, 2 a folder is missing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "keywords"))

from invoicebot.masking import is_secret_key, mask_token  # noqa: E402
from invoicebot.validate import iban_is_valid  # noqa: E402

#: File endings read as text; everything else (PDF, PNG, .eml inputs) is skipped.
TEXT_SUFFIXES = frozenset({".html", ".htm", ".xml", ".json", ".jsonl", ".csv", ".log", ".txt", ".out", ".err",
                           ".yaml", ".yml", ".md", ".js", ".svg"})
#: Keys whose value is a credential in a ``key=value`` pair (not "secret": RPA names vault secrets with it;
#: not "pwd"/"pass": a working directory and a count of passed tests).
PAIR_KEYS = ("password", "passwd", "api_key", "apikey", "access_token", "auth_token", "client_secret", "private_key")
#: Where the project's services keep their test passwords, and how they spell the default.
PASSWORD_SOURCES = ("scripts/dovecot.sh", "scripts/tryton", "resources/accounting")
_DEFAULT_PW = re.compile(
    r"""\$\{(?:INVOICEBOT_\w*PASSWORD):-(?P<sh>[^}]+)\}"""  # shell: ${INVOICEBOT_IMAP_PASSWORD:-default}
    r"""|%\{INVOICEBOT_\w*PASSWORD=(?P<robot>[^}]+)\}"""  # Robot: %{INVOICEBOT_TRYTON_PASSWORD=default}
    r"""|environ\.get\(\s*["']INVOICEBOT_\w*PASSWORD["']\s*,\s*["'](?P<py>[^"']+)["']"""  # Python
)
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2,7}(?:[ \u00a0]?[A-Z0-9]{1,4})?"
                             r"(?![A-Za-z0-9])")
_PAIR = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?P<k>(?:\w+_)?(?:" + "|".join(PAIR_KEYS) + r"))"
    r"(?![A-Za-z0-9])\}?(?:&quot;|&#x27;|['\"])?[ \t]*[:=][ \t]*(?:&quot;|&#x27;|(?:u|b)?['\"])?"
    r"(?P<v>[^\s'\"&,;)\]}<>\\]{4,})")
_LOG_STRINGS = re.compile(r'window\.output\["strings"\]\s*=\s*window\.output\["strings"\]\.concat\(\[')


@dataclass(frozen=True)
class Secret:
    kind: str  # iban, tax_id, address, password
    value: str
    where: str  # where it was learnt (a manifest, a script, the environment)


@dataclass
class Findings:
    by_file: dict[Path, Counter] = field(default_factory=dict)
    files: int = 0

    def add(self, path: Path, kind: str, value: str) -> None:
        self.by_file.setdefault(path, Counter())[(kind, shown(kind, value))] += 1


def shown(kind: str, value: str) -> str:
    """A finding as it may be printed: masked itself."""
    if kind == "password":
        return value[:2] + "*" * max(len(value) - 2, 1) if len(value) > 6 else "*" * len(value)
    if kind == "unreadable":
        return value
    return mask_token(value)


# ------------------------------------------------------------------------------------- what to find


def manifest_secrets(path: Path) -> list[Secret]:
    """The IBAN, tax id and address of each generated document listed in a mailgen ``manifest.json``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SystemExit(f"scan_secrets: cannot read the manifest {path}: {exc}; a manifest.json is the list of "
                         "generated values to look for (invoicebot.mailgen writes it), so fix or remove it") from exc
    out = []
    for mail in data.get("mails", []) if isinstance(data, dict) else []:
        for fields in mail.get("fields") or []:
            if not isinstance(fields, dict):
                continue
            for name, kind in (("iban", "iban"), ("vendor_tax_id", "tax_id"), ("customer_tax_id", "tax_id"),
                               ("vendor_address", "address")):
                value = str(fields.get(name) or "").strip()
                if kind == "address":
                    value = value.split(",")[0].strip()  # the street: the part that names a place
                if len(re.sub(r"\W", "", value)) >= 6:
                    out.append(Secret(kind, value, str(path)))
    return out


def generator_secrets() -> list[Secret]:
    """The IBAN, tax id and street of every vendor ``invoicebot.mailgen`` writes documents for."""
    from invoicebot.mailgen import VENDORS

    out = []
    for _name, street, *_rest, tax_id, iban in VENDORS:
        for kind, value in (("iban", iban), ("tax_id", tax_id), ("address", street)):
            if len(re.sub(r"\W", "", value)) >= 6:
                out.append(Secret(kind, value, "invoicebot.mailgen.VENDORS"))
    return out


def service_passwords(root: Path = ROOT, env: dict[str, str] | None = None) -> list[Secret]:
    """The test passwords of Dovecot and Tryton (their scripts' defaults) and every password in the environment."""
    env = os.environ if env is None else env
    out = []
    for source in PASSWORD_SOURCES:
        base = root / source
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for m in _DEFAULT_PW.finditer(text):
                value = next(v for v in m.groups() if v)
                if not value.startswith(("$", "%")):
                    out.append(Secret("password", value, str(f.relative_to(root))))
    for name, value in env.items():
        if name.startswith("INVOICEBOT_") and is_secret_key(name) and len(value) >= 4:
            out.append(Secret("password", value, f"${name}"))
    for passfile in {Path(env.get("INVOICEBOT_PG_DIR") or root / "var" / "postgres") / "pgpass",
                     root / "var" / "postgres" / "pgpass"}:
        out.extend(pgpass_passwords(passfile))
    return out


def pgpass_passwords(path: Path) -> list[Secret]:
    """The passwords of a libpq passfile (``host:port:database:user:password``, ``\\:`` an escaped colon)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    out = []
    for line in lines:
        if line.strip() and not line.startswith("#"):
            fields = re.split(r"(?<!\\):", line, maxsplit=4)
            if len(fields) == 5 and len(fields[4]) >= 4:
                out.append(Secret("password", fields[4].replace("\\:", ":").replace("\\\\", "\\"), str(path)))
    return out


def source_literals(root: Path = ROOT) -> set[str]:
    """Literal ``password=...`` values written in the project's own Robot sources (public already)."""
    out = set()
    for folder in ("tests", "robot_tasks", "resources"):
        for f in (root / folder).rglob("*"):
            if f.suffix in (".robot", ".resource") and f.is_file():
                out.update(m.group("v") for m in _PAIR.finditer(f.read_text(encoding="utf-8", errors="replace")))
    return out


def _flexible(value: str, kind: str) -> str:
    """A regex for ``value`` with or without spaces (and dots/dashes in a tax id) between its characters."""
    if kind == "password":
        return re.escape(value)
    chars = [c for c in value if c.isalnum()] if kind in ("iban", "tax_id") else list(value)
    sep = r"[ \u00a0]?" if kind == "iban" else r"[ \u00a0./-]?" if kind == "tax_id" else ""
    if kind == "address":
        return r"\s+".join(re.escape(w) for w in value.split())
    return sep.join(re.escape(c) for c in chars)


class Matcher:
    """All the known secrets in one regex, plus the IBAN and password-pair patterns."""

    def __init__(self, secrets: Iterable[Secret], allowed: set[str] = frozenset()):
        self.secrets = {(s.kind, s.value): s for s in secrets}
        self.allowed = set(allowed)
        parts, self.kinds = [], []
        for i, (kind, value) in enumerate(sorted(self.secrets, key=lambda kv: -len(kv[1]))):
            parts.append(f"(?P<s{i}>{_flexible(value, kind)})")
            self.kinds.append((kind, value))
        # one boundary check around the alternation: 8 times faster than one in each alternative
        self.known = re.compile("(?<![A-Za-z0-9])(?:" + "|".join(parts) + ")(?![A-Za-z0-9])") if parts else None

    def scan(self, text: str) -> Iterator[tuple[str, str]]:
        seen_spans = []
        if self.known:
            for m in self.known.finditer(text):
                kind, value = self.kinds[int(m.lastgroup[1:])]
                seen_spans.append(m.span())
                yield kind, value
        for m in _IBAN_CANDIDATE.finditer(text):
            if any(a <= m.start() < b for a, b in seen_spans):
                continue
            compact = re.sub(r"[ \u00a0]", "", m.group(0))
            if iban_is_valid(compact):
                yield "iban", compact
        known_pw = {v for k, v in self.secrets if k == "password"}
        for m in _PAIR.finditer(text):
            value = m.group("v")
            if (set(value) <= {"*"} or value.startswith(("${", "%{", "$", "&{", "@{")) or value in known_pw
                    or value.isdigit()
                    or value.lower() in ("none", "null", "true", "false", "hidden", "masked", "redacted")
                    or value in self.allowed or "*" in value):
                continue
            yield "password", value


# ------------------------------------------------------------------------------------------- reading


_JS_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JS_HEX = re.compile(r"(?<!\\)((?:\\\\)*)\\x([0-9a-fA-F]{2})")


def _js_strings(text: str, pos: int) -> list[str]:
    """The strings of the JavaScript array literal that starts after ``[`` at ``pos``, as Robot writes it
    (JSON strings, but ``<`` written ``\\x3c``); read string by string, so a ``]);`` inside one does not end it."""
    out = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return out
        m = _JS_STRING.match(text, pos)
        if not m:
            raise ValueError(f"cannot read the log's model at character {pos} ({text[pos:pos + 40]!r})")
        try:
            out.append(json.loads(_JS_HEX.sub(r"\1\\u00\2", m.group(0))))
        except json.JSONDecodeError as exc:
            raise ValueError(f"cannot decode a string of the log's model ({exc.msg} in {m.group(0)[:60]!r})") from exc
        pos = m.end()


def robot_log_strings(text: str) -> list[str]:
    """The messages that Robot's log.html/report.html keep in ``window.output["strings"]``, decompressed.

    Raises ValueError when the model cannot be decoded: a log the scan cannot read is no clean log.
    """
    out = []
    for m in _LOG_STRINGS.finditer(text):
        for s in _js_strings(text, m.end()):
            if not isinstance(s, str):
                continue
            if s.startswith("*"):
                out.append(s[1:])
                continue
            try:
                out.append(zlib.decompress(base64.b64decode(s)).decode("utf-8", errors="replace"))
            except (ValueError, zlib.error) as exc:
                raise ValueError(f"cannot decompress a message of the log's model ({exc})") from exc
    return out


def _json_strings(data) -> Iterator[str]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield str(k)
            if isinstance(v, str) and is_secret_key(str(k)):
                yield f'"{k}": "{v}"'  # a credential under its key, whatever its value looks like
            yield from _json_strings(v)
    elif isinstance(data, list):
        for v in data:
            yield from _json_strings(v)
    elif isinstance(data, str):
        yield data


def texts_of(path: Path) -> list[str]:
    """The texts to scan in one file: its content, plus what a Robot log or JSON holds encoded."""
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    texts = [text]
    if path.suffix in (".html", ".htm") and 'window.output["strings"]' in text:
        texts.extend(robot_log_strings(text))  # ValueError: reported as unreadable
    if path.suffix in (".json", ".jsonl"):  # \u escapes and \/ hide a value from the raw text
        lines = [text] if path.suffix == ".json" else text.splitlines()
        for line in lines:
            try:
                texts.append("\n".join(_json_strings(json.loads(line))))
            except json.JSONDecodeError:
                pass
    return texts


def output_files(folders: Iterable[Path]) -> Iterator[Path]:
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES and path.name != "manifest.json":
                yield path


def scan(folders: list[Path], extra: Iterable[Secret] = (), manifests: Iterable[Path] = (),
         allowed: set[str] | None = None) -> Findings:
    secrets = list(extra) + service_passwords() + generator_secrets()
    for m in list(manifests) + [p for f in folders for p in f.rglob("manifest.json")]:
        secrets.extend(manifest_secrets(m))
    matcher = Matcher(secrets, source_literals() if allowed is None else allowed)
    findings = Findings()
    for path in output_files(folders):
        findings.files += 1
        counts: Counter = Counter()
        try:
            texts = texts_of(path)
        except ValueError as exc:  # a Robot log whose messages cannot be read: not known to be clean
            findings.add(path, "unreadable", str(exc))
            continue
        for text in texts:  # the same value raw and decoded counts once: the most in any one text
            counts |= Counter(matcher.scan(text))
        for (kind, value), n in counts.items():
            for _ in range(n):
                findings.add(path, kind, value)
    return findings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scan_secrets.py", description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path, help="output folders to scan (output/acceptance)")
    p.add_argument("--secret", action="append", default=[], help="one more password or value to look for")
    p.add_argument("--manifest", action="append", default=[], type=Path,
                   help="a mailgen manifest.json outside the folders whose values to look for")
    args = p.parse_args(argv)
    missing = [str(f) for f in args.folders + args.manifest if not f.exists()]
    if missing:
        print(f"scan_secrets: {', '.join(missing)} does not exist; give the folders a run wrote its outputs to "
              "(make acceptance writes output/acceptance)", file=sys.stderr)
        return 2
    findings = scan(args.folders, [Secret("password", s, "--secret") for s in args.secret], args.manifest)
    total = 0
    for path, found in sorted(findings.by_file.items()):
        listed = ", ".join(f"{kind} {value}" + (f" ({n}x)" if n > 1 else "") for (kind, value), n in sorted(found.items()))
        print(f"{path}: {listed}")
        total += sum(found.values())
    where = ", ".join(str(f) for f in args.folders)
    if total:
        print(f"scan_secrets: {total} secret(s) or personal identifier(s) in clear in {len(findings.by_file)} of "
              f"{findings.files} file(s) under {where}; mask them where the file is written "
              "(invoicebot.masking) and run again", file=sys.stderr)
        return 1
    print(f"scan_secrets: 0 secrets or personal identifiers in clear in {findings.files} file(s) under {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
