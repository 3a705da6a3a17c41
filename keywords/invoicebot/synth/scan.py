"""Turn a rendered PDF page into a page image that looks scanned or photographed.

Rasterise with pypdfium2, then: slight rotation, blur, noise, uneven brightness, JPEG artefacts,
an optional rubber stamp.  The labelled boxes are moved with the same rotation so that they still
cover their words in the image.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageFilter

from invoicebot.synth.logo import stamp_png

STAMPS = ["RECEIVED", "EINGEGANGEN", "REÇU", "ONTVANGEN", "RICEVUTO", "COPY", "KOPIE", "SCANNED", "GEBUCHT"]


def rasterise(pdf: bytes, dpi: int, page: int = 0) -> Image.Image:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        img = doc[page].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()
    return img.convert("RGB")


def rotate_box(box: list[float], angle: float, W: int, H: int) -> list[float]:
    th = math.radians(angle)
    c, s = math.cos(th), math.sin(th)
    cx, cy = W / 2, H / 2
    pts = []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        px, py = x / 1000 * W - cx, y / 1000 * H - cy
        pts.append((cx + px * c + py * s, cy - px * s + py * c))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return [min(xs) / W * 1000, min(ys) / H * 1000, max(xs) / W * 1000, max(ys) / H * 1000]


def degrade(img: Image.Image, rng: random.Random, cfg: dict, spans: list[dict]) -> tuple[Image.Image, list[dict], dict]:
    """Return the degraded image, the spans of page 1, and what was done (``unrotate`` maps words back)."""
    W, H = img.size
    info: dict = {}
    max_rot = float(cfg.get("max_rotation_deg", 1.5))
    angle = rng.uniform(-max_rot, max_rot) if rng.random() < 0.8 else 0.0
    info["rotation"] = round(angle, 2)
    if rng.random() < 0.25:  # a stamp, put on before the scan so it is scanned with the page
        st = Image.open(io.BytesIO(stamp_png(rng.choice(STAMPS), (rng.randint(20, 200), 40, rng.randint(40, 200)))))
        scale = W / 1700 * rng.uniform(0.8, 1.3)
        st = st.resize((max(1, int(st.width * scale)), max(1, int(st.height * scale))))
        img.paste(st, (rng.randint(0, max(1, W - st.width)), rng.randint(0, max(1, H - st.height))), st)
        info["stamp"] = True
    img = img.convert("L")  # grey before turning it: a third of the pixels to resample
    if angle:
        img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    arr = np.asarray(img, dtype=np.float32)
    nrng = np.random.default_rng(rng.randint(0, 2**31))
    # uneven lighting: a soft gradient across the page
    if rng.random() < 0.5:
        gx = np.linspace(rng.uniform(-25, 0), rng.uniform(-25, 0), arr.shape[1], dtype=np.float32)
        arr = arr + gx[None, :]
    noise = rng.uniform(2, 14)
    arr += nrng.standard_normal(arr.shape, dtype=np.float32) * np.float32(noise)
    contrast = rng.uniform(0.8, 1.05)
    arr = (arr - 128) * contrast + 128 + rng.uniform(-10, 15)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
    blur = rng.choice([0, 0, 0.4, 0.6, 0.8, 1.0])
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    q = rng.randint(int(cfg.get("jpeg_quality_min", 30)), int(cfg.get("jpeg_quality_max", 85)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    img = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    info.update(noise=round(noise, 1), blur=blur, jpeg_quality=q)
    # the boxes stay in the upright frame; align() turns each word centre back by ``unrotate`` instead,
    # which keeps neighbouring lines out of a long box on a tilted page
    kept = [s for s in spans if s["page"] == 1]
    info["unrotate"] = [angle, W, H]
    return img, kept, info


def unrotate_point(x: float, y: float, angle: float, W: float, H: float) -> tuple[float, float]:
    """Map a point (0..1000) of the rotated image back to the upright page (inverse of PIL's rotate)."""
    th = math.radians(angle)
    c, s = math.cos(th), math.sin(th)
    cx, cy = W / 2, H / 2
    px, py = x / 1000 * W - cx, y / 1000 * H - cy
    ux, uy = px * c - py * s, px * s + py * c
    return (cx + ux) / W * 1000, (cy + uy) / H * 1000
