"""Logos as images: the vendor's short name drawn with PIL, so it is NOT in the PDF text layer."""

from __future__ import annotations

import base64
import colorsys
import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")


@lru_cache(maxsize=32)
def font_path(name: str) -> str:
    import os

    for d in FONT_DIRS:
        p = os.path.join(d, name + ".ttf")
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"font {name}.ttf not found under {FONT_DIRS}; install fonts-dejavu and fonts-liberation")


def rgb(hue: int, s: float = 0.65, v: float = 0.55) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue / 360, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def logo_png(short: str, style: dict, scale: int = 2) -> bytes:
    """A PNG logo: a coloured mark and the short name (letters only in pixels)."""
    text = short.upper() if style.get("upper") else short
    font = ImageFont.truetype(font_path(style.get("font", "DejaVuSans-Bold")), 30 * scale)
    tw = int(font.getlength(text))
    h = 56 * scale
    mark = 0 if style.get("shape") == "none" else 56 * scale
    w = mark + tw + 16 * scale
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    color = rgb(style.get("hue", 210))
    shape = style.get("shape")
    m = 6 * scale
    if shape == "circle":
        d.ellipse((m, m, mark - m, h - m), fill=color)
    elif shape == "square":
        d.rectangle((m, m, mark - m, h - m), fill=color)
    elif shape == "diamond":
        cx, cy, r = mark // 2, h // 2, (mark - 2 * m) // 2
        d.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=color)
    elif shape == "bar":
        d.rectangle((m, h - 3 * m, mark - m, h - 2 * m), fill=color)
        d.rectangle((m, 2 * m, mark - m, 3 * m), fill=color)
    d.text((mark + 8 * scale, h // 2), text, font=font, fill=color if shape in ("none", "bar") else (40, 40, 40), anchor="lm")
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


def logo_data_uri(short: str, style: dict) -> str:
    return "data:image/png;base64," + base64.b64encode(logo_png(short, style)).decode()


def stamp_png(text: str, color: tuple[int, int, int] = (200, 30, 30), scale: int = 2) -> bytes:
    """A rubber stamp ('PAID', 'BEZAHLT') as an image."""
    font = ImageFont.truetype(font_path("DejaVuSans-Bold"), 40 * scale)
    tw = int(font.getlength(text))
    w, h = tw + 40 * scale, 70 * scale
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    d.rectangle((4, 4, w - 4, h - 4), outline=color + (200,), width=5 * scale)
    d.text((w // 2, h // 2), text, font=font, fill=color + (200,), anchor="mm")
    img = img.rotate(12, expand=True)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
