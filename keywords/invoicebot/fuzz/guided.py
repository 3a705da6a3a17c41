"""Coverage-guided fuzzing of one reader with atheris (libFuzzer for Python): ``invoicebot fuzz --guided pdf``.

Optional: ``pip install atheris``.  Where the mutation families run each input in its own process, libFuzzer
runs millions of small mutations in one process and keeps those that reach new lines of the readers and of
the libraries under them (pdfminer, pdfplumber, Pillow's Python plug-ins, the email package).  A target's
contract is the engine's: an input ends in an :class:`~invoicebot.errors.InvoiceBotError` or in pages (or a
parsed mail whose file names are safe); any other exception is a crash, which libFuzzer saves under
``--out/guided/<target>/crash-*`` and which ``--replay-file`` runs again.  Memory (``-rss_limit_mb``) and time
(``-timeout``) per input are libFuzzer's, from the same limits as the families.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

TARGETS = ("pdf", "image", "mail")


def _one_input(target: str, artifacts: Path):
    from invoicebot.config import ReaderSettings
    from invoicebot.errors import InvoiceBotError

    settings = ReaderSettings.from_env()
    if target == "pdf":
        from invoicebot.readers.pdf import read_pdf

        def run(data: bytes) -> None:
            read_pdf(data, Path("guided.pdf"), settings)
    elif target == "image":
        from invoicebot.readers.image import read_image

        def run(data: bytes) -> None:
            read_image(data, Path("guided.png"), settings)
    else:
        from invoicebot.mail import parse_message

        def run(data: bytes) -> None:
            for att in parse_message(data).attachments:
                name = att.file_name
                if "/" in name or "\\" in name or "\x00" in name or name in ("", ".", ".."):
                    raise AssertionError(f"unsafe attachment file name {name!r} from {att.original_name!r}")

    def one_input(data: bytes) -> None:
        try:
            run(data)
        except InvoiceBotError:
            pass
        except BaseException:  # saved here: libFuzzer does not always write its own crash file for Python
            import hashlib
            import traceback

            crash = artifacts / f"crash-{hashlib.sha1(data).hexdigest()}"
            crash.write_bytes(data)
            crash.with_suffix(".txt").write_text(traceback.format_exc(), encoding="utf-8")
            raise

    return one_input


def seeds(target: str, corpus) -> list[tuple[str, bytes]]:
    return {"pdf": corpus.pdfs, "image": corpus.images, "mail": corpus.mails}[target]


#: The modules whose code the guided mode instruments: the readers, the mail intake and the libraries they parse
#: with (every loaded module, torch's included, took over ten minutes to instrument in a test process).
INSTRUMENTED = ("invoicebot", "pdfplumber", "pdfminer", "pypdfium2", "PIL", "email", "zipfile")


def _instrument(prefixes: tuple[str, ...]) -> int:
    """Instrument, for coverage, the functions and methods of the loaded modules named by ``prefixes``."""
    import inspect

    import atheris

    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name in prefixes or name.startswith(tuple(p + "." for p in prefixes))):
            continue
        for obj in list(vars(module).values()):
            if getattr(obj, "__module__", None) != name:
                continue
            funcs = [obj] if inspect.isfunction(obj) else (
                [v for v in vars(obj).values() if inspect.isfunction(v)] if inspect.isclass(obj) else [])
            for func in funcs:
                try:
                    atheris.instrument_func(func)
                    count += 1
                except Exception:  # noqa: BLE001 - a function atheris cannot rewrite is left as it is
                    continue
    return count


def run_guided(target: str, *, seconds: float, out: Path, seed: int, memory_mb: int, timeout_s: float, corpus,
               replay: list[Path] | None = None) -> int:
    """Fuzz ``target`` for ``seconds`` in a child process; print the coverage reached and the crashes found.
    Returns the number of crashes (inputs that broke the contract)."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("invoicebot fuzz --guided needs atheris: `pip install atheris` (the mutation families do not)",
              file=sys.stderr)
        return -1
    from .harness import stub_ocr

    base = out / "guided" / target
    corpus_dir, log = base / "corpus", base / "libfuzzer.log"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for name, data in seeds(target, corpus):
        (corpus_dir / f"seed-{name}").write_bytes(data)
    before = set(base.glob("crash-*")) | set(base.glob("timeout-*")) | set(base.glob("oom-*"))
    args = [sys.argv[0], f"-rss_limit_mb={memory_mb or 2048}", f"-timeout={max(1, int(timeout_s))}",
            f"-seed={seed + 1}", f"-artifact_prefix={base}/", "-print_final_stats=1"]
    args += [str(p) for p in replay] if replay else [f"-max_total_time={max(1, int(seconds))}", str(corpus_dir)]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # libFuzzer ends the process when it finds a crash: it runs in a child of its own
        code = 70
        try:
            import atheris

            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            stub_ocr()
            one_input = _one_input(target, base)
            _instrument(INSTRUMENTED)
            atheris.Setup(args, one_input)
            atheris.Fuzz()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    crashed = not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0)
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    trace = "\n".join(line for line in text.splitlines() if line.startswith(("  File", " === ", "Traceback"))
                      or re.match(r"^\w+(Error|Exception)\b", line))[-3000:]
    if replay:
        print(f"guided {target}: replayed {len(replay)} inputs: {'a crash' if crashed else 'no crash'}; log {log}")
        if crashed and trace:
            print(trace)
        return int(crashed)
    found = sorted({p for p in (set(base.glob("crash-*")) | set(base.glob("timeout-*")) | set(base.glob("oom-*"))) - before
                    if p.suffix != ".txt"})
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", text)
    print(f"guided {target}: {runs[-1] if runs else '?'} inputs in {seconds:g} s, coverage {cov[-1][0] if cov else '?'} "
          f"edges ({cov[-1][1] if cov else '?'} features), corpus {len(list(corpus_dir.iterdir()))} inputs, "
          f"{len(found)} crashes" + (f": {', '.join(str(p) for p in found)}" if found else "") + f"; log {log}")
    if found and trace:
        print(trace)
    return len(found) + int(crashed and not found)
