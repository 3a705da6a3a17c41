"""Read PNG, JPEG and TIFF (multi-page) files through OCR."""

from __future__ import annotations

import io
import re
import struct
import time
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from invoicebot.config import ReaderSettings
from invoicebot.errors import CorruptDocument, ImageTooLarge, TooManyPages
from invoicebot.readers.ocr import ocr_image
from invoicebot.schema import Page

#: Assumed when an image carries no resolution: a page scanned at 300 dpi is the common case;
#: otherwise the width is taken as an A4 page (8.27 in) wide.
_A4_WIDTH_IN = 8.27

#: What Pillow raises on a damaged file: OSError mostly, but TypeError ("Missing dimensions" of a TIFF frame
#: without a width), struct.error and the others on some broken headers.
_DAMAGED = (OSError, SyntaxError, ValueError, TypeError, EOFError, struct.error)


def image_dpi(img: Image.Image) -> int:
    dpi = img.info.get("dpi")
    if dpi:
        try:
            value = int(round(float(dpi[0])))
        except (TypeError, ValueError, IndexError):
            value = 0
        if 50 <= value <= 1200:
            return value
    return max(70, min(600, int(round(img.width / _A4_WIDTH_IN))))


def _too_large(path: Path, pixels: int, size: tuple[int, int] | None, settings: ReaderSettings) -> ImageTooLarge:
    dims = f"{size[0]}x{size[1]} = " if size else ""
    count = f"{dims}{pixels:,} pixels" if pixels else "too many pixels"
    return ImageTooLarge(
        f"{path}: the image has {count}, more than the limit of {settings.max_image_pixels:,} "
        "(it may be a decompression bomb); ask the sender for a smaller scan, or raise "
        "INVOICEBOT_MAX_IMAGE_PIXELS if the file is trusted",
        path=str(path),
    )


def open_image(data: bytes, path: Path, settings: ReaderSettings) -> Image.Image:
    """Open the image header only (no pixels are decoded) and check its size against the limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # Pillow refuses images over twice its own limit while reading the header.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else 0
        if pixels > settings.max_image_pixels or not pixels:
            raise _too_large(path, pixels, None, settings) from exc
        raise ImageTooLarge(
            f"{path}: the image has {pixels:,} pixels, more than the image library's own safety limit of "
            f"{2 * Image.MAX_IMAGE_PIXELS:,}; ask the sender for a smaller scan",
            path=str(path),
        ) from exc
    except (UnidentifiedImageError, *_DAMAGED) as exc:
        raise CorruptDocument(
            f"{path}: the image file is damaged and cannot be opened ({exc}); ask the sender to send it again",
            path=str(path),
        ) from exc
    return img


def read_image(data: bytes, path: Path, settings: ReaderSettings) -> list[Page]:
    img = open_image(data, path, settings)
    try:
        # Only a TIFF's frames are pages; a JPEG's second frame (MPO) is a preview, a PNG's an animation.
        frames = getattr(img, "n_frames", 1) if img.format == "TIFF" else 1
    except _DAMAGED as exc:
        raise CorruptDocument(
            f"{path}: the image file is damaged ({exc}); ask the sender to send it again", path=str(path)
        ) from exc
    if frames > settings.max_pages:
        raise TooManyPages(
            f"{path} has {frames} pages (images), more than the limit of {settings.max_pages}; "
            "split the document, or raise INVOICEBOT_MAX_PAGES",
            path=str(path),
        )
    pages: list[Page] = []
    for index in range(frames):
        started = time.perf_counter()
        try:
            img.seek(index)
        except _DAMAGED as exc:
            raise CorruptDocument(
                f"{path}: page {index + 1} of the image cannot be read ({exc}); ask the sender to send it again",
                path=str(path),
            ) from exc
        pixels = img.width * img.height
        if pixels > settings.max_image_pixels:
            raise _too_large(path, pixels, img.size, settings)
        dpi = image_dpi(img)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                frame = img.copy() if frames > 1 else img
                frame.load()
                exif_turn = 0
                if index == 0 and img.format == "JPEG":
                    orientation = frame.getexif().get(0x0112, 1)
                    exif_turn = {3: 180, 6: 270, 8: 90}.get(orientation, 0)
                    frame = ImageOps.exif_transpose(frame)
        except Image.DecompressionBombError as exc:
            raise _too_large(path, pixels, img.size, settings) from exc
        except _DAMAGED as exc:
            raise CorruptDocument(
                f"{path}: the image data is damaged or truncated ({exc}); ask the sender to send it again",
                path=str(path),
            ) from exc
        words, rotation, width, height = ocr_image(
            frame,
            page=index + 1,
            dpi=dpi,
            languages=settings.ocr_languages,
            detect_rotation_=settings.detect_rotation,
        )
        pages.append(
            Page(
                number=index + 1,
                width=width,
                height=height,
                source="ocr",
                words=words,
                rotation=(rotation + exif_turn) % 360,
                seconds=round(time.perf_counter() - started, 4),
            )
        )
    return pages
