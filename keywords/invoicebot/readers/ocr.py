"""OCR of page images with Tesseract 5 (through pytesseract): words, boxes, confidences, rotation."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytesseract
from PIL import Image

from invoicebot.errors import OcrUnavailable
from invoicebot.readers.grouping import RawWord, build_words
from invoicebot.schema import Word

log = logging.getLogger("invoicebot.readers")

INSTALL_HINT = (
    "install Tesseract 5 with its language packs (Debian/Ubuntu: "
    "`apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd`, or run `make setup`), "
    "or point TESSERACT_CMD at the tesseract program"
)

#: A page whose first OCR pass has a lower mean word confidence than this is checked for rotation.
_LOW_MEAN_CONF = 0.5
_GOOD_CONF = 0.6
_OSD_MAX_SIDE = 2000  # OSD needs no more pixels than this; a smaller image is faster to check
_MIN_OCR_DPI = 200  # images below this are enlarged...
_TARGET_OCR_DPI = 300  # ...to about this,
_MAX_UPSCALE = 3.0  # by at most this factor,
_MAX_UPSCALED_PIXELS = 60_000_000  # and to no more pixels than this.
#: Tesseract options beside --dpi.  Sauvola thresholding (method 2).  Adaptive Otsu (method 1) kept
#: light grey headings on clean renders (word recall 0.923 vs 0.916 on the 11 dev PDFs at 300 dpi plus
#: 6 synthetic scans) but wipes out whole columns of a scan with uneven lighting: on a degraded
#: synthetic scan it read 42 words where methods 0 and 2 read 88.  Sauvola holds on both.
TESSERACT_OPTIONS = "-c thresholding_method=2"


def _configure() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    cmd = os.environ.get("TESSERACT_CMD")
    if cmd:
        pytesseract.pytesseract.tesseract_cmd = cmd


@functools.lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """Languages the installed Tesseract knows (``tesseract --list-langs``)."""
    _configure()
    try:
        langs = pytesseract.get_languages(config="")
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise OcrUnavailable(f"Tesseract OCR is not installed or not on the PATH; {INSTALL_HINT}.") from exc
    return frozenset(langs)


@functools.lru_cache(maxsize=16)
def resolve_languages(requested: str) -> str:
    """The ``+``-joined subset of ``requested`` that is installed, so that a machine with fewer
    language packs still works.  Raises OcrUnavailable when none is."""
    have = installed_languages()
    wanted = [x for x in requested.replace(",", "+").split("+") if x.strip()]
    usable = [x.strip() for x in wanted if x.strip() in have]
    missing = [x.strip() for x in wanted if x.strip() not in have]
    if missing:
        log.warning(
            "OCR languages %s are not installed and are skipped (installed: %s); "
            "install tesseract-ocr-<lang> packages to use them",
            "+".join(missing),
            ", ".join(sorted(have)) or "none",
        )
    if not usable:
        raise OcrUnavailable(
            f"none of the OCR languages {requested!r} is installed in Tesseract "
            f"(installed: {', '.join(sorted(have)) or 'none'}); {INSTALL_HINT}."
        )
    return "+".join(usable)


def _data(image_path: str, lang: str, dpi: int) -> dict[str, list]:
    try:
        return pytesseract.image_to_data(
            image_path, lang=lang, config=f"--dpi {dpi} {TESSERACT_OPTIONS}", output_type=pytesseract.Output.DICT
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable(f"Tesseract OCR is not installed or not on the PATH; {INSTALL_HINT}.") from exc
    except pytesseract.TesseractError as exc:
        raise OcrUnavailable(
            f"Tesseract failed on a page image ({exc.message.strip() or exc.status}); "
            "check the Tesseract installation (`tesseract --version`) and retry."
        ) from exc


def _raw_words(data: dict[str, list]) -> list[RawWord]:
    out: list[RawWord] = []
    for i, text in enumerate(data["text"]):
        if data["level"][i] != 5:
            continue
        text = text.strip()
        if not text:
            continue
        conf = float(data["conf"][i])
        if conf < 0:
            continue
        left, top = float(data["left"][i]), float(data["top"][i])
        block = (data["block_num"][i], data["par_num"][i])
        out.append(
            RawWord(
                text=text,
                x0=left,
                top=top,
                x1=left + float(data["width"][i]),
                bottom=top + float(data["height"][i]),
                confidence=min(1.0, conf / 100.0),
                unit=(*block, data["line_num"][i]),
                block=block,
            )
        )
    return out


def needs_turning(words: list[RawWord]) -> tuple[bool, bool]:
    """(turn?, sideways?) from the first OCR pass.  A page read sideways gives word boxes taller than
    wide; one read upside down gives words of low confidence.  Too little text: leave it be."""
    long = [w for w in words if len(w.text) >= 3]
    if len(long) < 3:
        return False, False
    tall = sum(1 for w in long if (w.bottom - w.top) > (w.x1 - w.x0)) / len(long)
    mean_conf = sum(w.confidence for w in long) / len(long)
    sideways = tall > 0.5
    return sideways or mean_conf < _LOW_MEAN_CONF, sideways


def _score(words: list[RawWord]) -> float:
    """How well a page was read: the confidence summed over confident words that lie flat (a page
    read sideways gives confident-looking words in boxes taller than wide)."""
    return sum(
        w.confidence
        for w in words
        if w.confidence >= _GOOD_CONF
        and any(c.isalnum() for c in w.text)
        and not (len(w.text) >= 3 and (w.bottom - w.top) > (w.x1 - w.x0))
    )


def detect_rotation(image: Image.Image, tmpdir: str, dpi: int) -> int:
    """Degrees (0, 90, 180, 270, counter-clockwise as PIL's ``rotate``) that turn ``image`` upright,
    from Tesseract's orientation detection (``--psm 0``).  0 when OSD cannot tell (little text)."""
    small = image
    scale = 1.0
    if max(image.size) > _OSD_MAX_SIDE:
        scale = _OSD_MAX_SIDE / max(image.size)
        small = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    path = str(Path(tmpdir) / "osd.pgm")
    small.save(path)
    try:
        osd = pytesseract.image_to_osd(
            path, config=f"--psm 0 --dpi {max(70, int(dpi * scale))}", output_type=pytesseract.Output.DICT
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable(f"Tesseract OCR is not installed or not on the PATH; {INSTALL_HINT}.") from exc
    except pytesseract.TesseractError as exc:
        log.debug("orientation detection gave up (%s); keeping the page as it is", exc.message.strip())
        return 0
    rotate = int(osd.get("rotate", 0)) % 360
    if rotate and float(osd.get("orientation_conf", 0.0)) < 1.0:
        log.debug("orientation detection unsure (%s); keeping the page as it is", osd)
        return 0
    # Tesseract's "Rotate" is clockwise; PIL rotates counter-clockwise.
    return (360 - rotate) % 360


def to_gray(image: Image.Image) -> Image.Image:
    """8-bit gray (or 1-bit) for Tesseract; transparent parts become white paper, not black."""
    if image.mode in ("L", "1"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return image.convert("L")


def ocr_raw(
    image: Image.Image, *, page: int, dpi: int, languages: str, detect_rotation_: bool = True
) -> tuple[list[RawWord], int, Image.Image]:
    """OCR one image.  Returns (words in pixels of the upright image, rotation, the upright image)."""
    _configure()
    lang = resolve_languages(languages)
    image = to_gray(image)
    tmpdir = tempfile.mkdtemp(prefix="invoicebot-ocr-")
    try:
        # An uncompressed PGM is written in milliseconds; Tesseract reads it directly.
        path = str(Path(tmpdir) / "page.pgm")
        image.save(path)
        words = _raw_words(_data(path, lang, dpi))
        rotation = 0
        turn, sideways = needs_turning(words) if detect_rotation_ else (False, False)
        if turn:
            angle = detect_rotation(image, tmpdir, dpi)
            # OSD gives up on pages with little text: then try the likely turns and keep the best read.
            candidates = [angle] if angle else ([90, 270] if sideways else [180])
            best = _score(words)
            original = image
            for candidate in candidates:
                turned = original.rotate(candidate, expand=True)
                turned.save(path)
                turned_words = _raw_words(_data(path, lang, dpi))
                if _score(turned_words) > best:
                    best = _score(turned_words)
                    image, words, rotation = turned, turned_words, candidate
            if rotation:
                log.info("page %d was turned %d degrees to read it upright", page, rotation)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return words, rotation, image


def upscale_factor(image: Image.Image, dpi: int) -> float:
    """How much to enlarge an image of ``dpi`` before OCR (1.0: not at all)."""
    if dpi >= _MIN_OCR_DPI:
        return 1.0
    factor = min(_MAX_UPSCALE, _TARGET_OCR_DPI / max(dpi, 1))
    pixels = image.width * image.height
    if pixels * factor * factor > _MAX_UPSCALED_PIXELS:
        factor = max(1.0, (_MAX_UPSCALED_PIXELS / max(pixels, 1)) ** 0.5)
    return factor


def ocr_image(
    image: Image.Image,
    *,
    page: int,
    dpi: int,
    languages: str,
    detect_rotation_: bool = True,
    unit_per_pixel: float = 1.0,
) -> tuple[list[Word], int, float, float]:
    """OCR one page image.  Returns (words, rotation, width, height), with width and height of the
    upright page in page units (``unit_per_pixel``: 72/dpi for a rendered PDF page, 1 for an image).

    Images under 200 dpi (screenshots, faxes, small renders) are enlarged to about 300 dpi first:
    Tesseract misses small letters.  Word recall on 72/100/150 dpi renders of coolblue1.pdf went
    from 0.16/0.72/0.89 to 0.79/0.91/0.95."""
    factor = upscale_factor(image, dpi)
    if factor > 1:
        image = to_gray(image).resize((round(image.width * factor), round(image.height * factor)), Image.LANCZOS)
        dpi = int(round(dpi * factor))
        unit_per_pixel = unit_per_pixel / factor
    words, rotation, image = ocr_raw(image, page=page, dpi=dpi, languages=languages, detect_rotation_=detect_rotation_)
    width, height = image.size
    built = build_words(words, width=width, height=height, page=page, source="ocr", merge_letter_spacing=False)
    return built, rotation, width * unit_per_pixel, height * unit_per_pixel
