"""Direct PDF layouts drawn with reportlab: other fonts, sizes and positions than the HTML ones.

Each layout draws the blocks of a :class:`DocContent` with a small pen that records the box of
every labelled piece (0..1000 of the page), so labels need no text search afterwards.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from invoicebot.synth.content import Cell, DocContent, Row, Table
from invoicebot.synth.logo import font_path, logo_png, rgb, stamp_png

FAMILIES = {
    "sans": ("DejaVuSans", "DejaVuSans-Bold"),
    "lsans": ("LiberationSans-Regular", "LiberationSans-Bold"),
    "serif": ("LiberationSerif-Regular", "LiberationSerif-Bold"),
    "dserif": ("DejaVuSerif", "DejaVuSerif-Bold"),
    "mono": ("LiberationMono-Regular", "LiberationMono-Bold"),
    "cond": ("DejaVuSansCondensed", "DejaVuSansCondensed-Bold"),
    "narrow": ("LiberationSansNarrow-Regular", "LiberationSansNarrow-Bold"),
}
_REGISTERED: set[str] = set()


def _register(name: str) -> str:
    if name not in _REGISTERED:
        pdfmetrics.registerFont(TTFont(name, font_path(name)))
        _REGISTERED.add(name)
    return name


class Pen:
    """Draws cells on a reportlab canvas, paginates, and records labelled boxes."""

    def __init__(self, doc: DocContent, rng: random.Random, family: str, size: float, pagesize: tuple[float, float],
                 margins: tuple[float, float, float, float], footer: Callable[[Pen], None] | None = None):
        self.doc = doc
        self.rng = rng
        self.buf = io.BytesIO()
        self.W, self.H = pagesize
        self.c = Canvas(self.buf, pagesize=pagesize, invariant=1)
        if doc.amount_style is not None and doc.amount_style.symbol == "₹" and family not in ("sans", "cond", "dserif"):
            family = "sans"  # only the DejaVu faces carry the rupee sign
        self.font, self.bold = (_register(n) for n in FAMILIES[family])
        self.size = size
        self.left, self.right, self.top, self.bottom = margins
        self.page = 1
        self.y = self.H - self.top
        self.spans: list[dict] = []
        self.footer = footer

    # -- primitives ------------------------------------------------------------------------------------
    def width(self, text: str, bold: bool = False, size: float | None = None, cs: float = 0.0) -> float:
        s = size or self.size
        return pdfmetrics.stringWidth(text, self.bold if bold else self.font, s) + cs * max(len(text) - 1, 0)

    def cell_width(self, c: Cell, bold: bool = False, size: float | None = None) -> float:
        sp = self.width(" ", bold, size)
        return sum(self.width(t, bold, size) for t, _f, _o in c) + sp * max(len(c) - 1, 0)

    def text(self, x: float, y: float, c: Cell | str, bold: bool = False, size: float | None = None, align: str = "l",
             cs: float = 0.0, color: tuple[int, int, int] | None = None) -> float:
        """Draw a cell with its baseline at y; return its width."""
        if isinstance(c, str):
            c = [(c, (), "")]
        s = size or self.size
        font = self.bold if bold else self.font
        total = self.width(" ".join(t for t, _f, _o in c), bold, s, cs)
        if align == "r":
            x -= total
        elif align == "c":
            x -= total / 2
        self.c.setFillColorRGB(*(v / 255 for v in (color or (25, 25, 25))))
        full = " ".join(t for t, _f, _o in c)
        # one string with real spaces, so every reader splits the words where the generator meant them
        self.c.saveState()
        t = self.c.beginText(x, y)
        t.setFont(font, s)
        if cs:
            t.setCharSpace(cs)
        t.textOut(full)
        self.c.drawText(t)
        self.c.restoreState()
        offset = 0
        for text, fields, occ in c:
            start = self.width(full[:offset], bold, s) + cs * offset if offset else 0.0
            w = self.width(text, bold, s) + cs * max(len(text) - 1, 0)
            if fields:
                x0 = x + start
                box = [x0 / self.W * 1000, (self.H - y - s * 0.82) / self.H * 1000, (x0 + w) / self.W * 1000,
                       (self.H - y + s * 0.25) / self.H * 1000]
                self.spans.append({"f": " ".join(fields), "o": occ, "page": self.page, "boxes": [box], "visible": True})
            offset += len(text) + 1
        return total

    def wrap(self, c: Cell, maxw: float, size: float | None = None) -> list[Cell]:
        """Split a cell into lines no wider than maxw (a piece is never split)."""
        out: list[Cell] = []
        cur: Cell = []
        for piece in c:
            if cur and self.cell_width(cur + [piece], size=size) > maxw:
                out.append(cur)
                cur = []
            cur.append(piece)
        if cur:
            out.append(cur)
        return out

    def need(self, h: float) -> None:
        if self.y - h < self.bottom:
            self.new_page()

    def new_page(self) -> None:
        if self.footer:
            self.footer(self)
        self.c.showPage()
        self.page += 1
        self.y = self.H - self.top

    def line(self, x0: float, y: float, x1: float, width: float = 0.6, dash: bool = False) -> None:
        self.c.setLineWidth(width)
        self.c.setDash(2, 2) if dash else self.c.setDash()
        self.c.line(x0, y, x1, y)
        self.c.setDash()

    def image(self, png: bytes, x: float, y_top: float, height: float) -> float:
        img = ImageReader(io.BytesIO(png))
        iw, ih = img.getSize()
        w = height * iw / ih
        self.c.drawImage(img, x, y_top - height, w, height, mask="auto")
        return w

    def finish(self) -> bytes:
        if self.footer:
            self.footer(self)
        self.c.save()
        return self.buf.getvalue()

    # -- blocks ----------------------------------------------------------------------------------------
    def lines(self, x: float, cells: list[Cell], lead: float | None = None, first_bold: bool = False,
              first_size: float | None = None, align: str = "l") -> None:
        lead = lead or self.size * 1.3
        for i, c in enumerate(cells):
            big = first_size if i == 0 and first_size else None
            self.need(lead)
            self.y -= (big or self.size) * 1.3 if i == 0 else lead
            self.text(x, self.y, c, bold=first_bold and i == 0, size=big, align=align)

    def kv(self, x: float, rows: list[Row], label_w: float, align_val: str = "l", val_x: float | None = None) -> None:
        if not rows:
            return
        lw = max(self.width(r.label, r.strong) for r in rows) + 10
        label_w = max(label_w, lw)
        if align_val == "r" and val_x is not None:
            vw = max(self.cell_width(r.value, r.strong) for r in rows)
            x = min(x, val_x - vw - lw - 6)
        for r in rows:
            self.need(self.size * 1.4)
            self.y -= self.size * 1.4
            self.text(x, self.y, r.label, bold=r.strong)
            if align_val == "r" and val_x is not None:
                self.text(val_x, self.y, r.value, bold=r.strong, align="r")
            else:
                self.text(x + label_w, self.y, r.value, bold=r.strong)

    def table(self, t: Table | None, x0: float, x1: float, boxed: bool = False, dashed: bool = False) -> None:
        if t is None:
            return
        n = len(t.header)
        first = 0.42 if n <= 4 else 0.36
        widths = [first] + [(1 - first) / (n - 1)] * (n - 1)
        if t.header and t.header[0] in ("#", "Pos."):
            widths = [0.06, first - 0.06 + 0.02] + [(1 - first - 0.02) / (n - 2)] * (n - 2)
        xs = [x0]
        for w in widths[:-1]:
            xs.append(xs[-1] + w * (x1 - x0))
        lead = self.size * 1.55

        def header() -> None:
            self.need(lead * 2)
            self.y -= lead
            for i, (h, a) in enumerate(zip(t.header, t.align, strict=True)):
                right = xs[i + 1] - 4 if i + 1 < n else x1
                self.text(right if a == "r" else xs[i] + 2, self.y, h, bold=True, align=a, size=self.size * 0.95)
            self.line(x0, self.y - 4, x1, 0.9, dashed)

        if t.title:
            self.need(lead * 3)
            self.y -= lead
            self.text(x0, self.y, t.title, bold=True)
        header()
        subs = t.subs or [None] * len(t.rows)
        for row, sub in zip(t.rows, subs, strict=True):
            if self.y - lead * (2 if sub else 1) < self.bottom:
                self.new_page()
                header()
            self.y -= lead
            for i, (cl, a) in enumerate(zip(row, t.align, strict=True)):
                right = xs[i + 1] - 4 if i + 1 < n else x1
                self.text(right if a == "r" else xs[i] + 2, self.y, cl, align=a)
            if sub:
                self.y -= self.size * 1.2
                self.text(xs[t.desc_col] + 8, self.y, sub, size=self.size * 0.8, color=(90, 90, 90))
            if boxed:
                self.line(x0, self.y - 4, x1, 0.3)
        self.line(x0, self.y - 5, x1, 0.6, dashed)


def _footer_factory(doc: DocContent, size: float, center: bool, page_word: str) -> Callable[[Pen], None]:
    def footer(p: Pen) -> None:
        y = p.bottom - size * 1.2
        p.line(p.left, y + size * 1.3, p.W - p.right, 0.4)
        for c in doc.footer:
            if center:
                p.text(p.W / 2, y, c, size=size, align="c")
            else:
                p.text(p.left, y, c, size=size)
            y -= size * 1.3
        p.text(p.W - p.right, p.bottom - size * 1.2 - size * 1.3 * len(doc.footer), f"{page_word} {p.page}", size=size,
               align="r")
    return footer


PAGE_WORD = {"en": "Page", "de": "Seite", "fr": "Page", "nl": "Pagina", "es": "Página", "it": "Pagina", "pl": "Strona"}


def _vendor_head(p: Pen, x: float, align: str = "l", big: float = 1.8, spaced: bool = False) -> None:
    d = p.doc
    if d.banner and p.rng.random() < 0.7:  # a slogan as the first big line: not the vendor
        p.y -= p.size * 1.8
        p.text(x, p.y, d.banner, bold=True, size=p.size * 1.6, align=align, color=(60, 60, 120))
        p.y -= p.size * 0.6
    if d.vendor_mode in ("logo", "logo_text"):
        png = logo_png(d.vendor.short, d.vendor.logo_style)
        h = p.rng.choice([28, 34, 42])
        from PIL import Image
        iw, ih = Image.open(io.BytesIO(png)).size
        w = h * iw / ih
        p.image(png, x - w if align == "r" else x, p.y, h)
        p.y -= h + 2
    cells = d.vendor_block
    if not cells:
        return
    first_size = p.size * big if d.vendor_mode in ("text", "logo_text") else None
    if spaced and first_size:
        p.y -= first_size * 1.3
        p.text(x, p.y, cells[0], bold=True, size=first_size, align=align, cs=first_size * 0.25)
        p.lines(x, cells[1:], align=align)
    else:
        p.lines(x, cells, first_bold=d.vendor_mode != "logo", first_size=first_size, align=align)


def _stamp(p: Pen) -> None:
    if p.doc.stamp:
        p.image(stamp_png(p.doc.stamp), p.W * p.rng.uniform(0.3, 0.55), p.H * p.rng.uniform(0.35, 0.6), 60)


def _notes_bank(p: Pen, x: float, inline_bank: bool) -> None:
    d = p.doc
    for c in d.paragraphs + d.notes:
        p.need(p.size * 1.5)
        p.y -= p.size * 1.5
        p.text(x, p.y, c)
    if d.bank:
        p.y -= p.size
        if inline_bank:
            cell: Cell = []
            for r in d.bank:
                cell += [(r.label, (), "")] + r.value
            p.need(p.size * 1.4)
            p.y -= p.size * 1.4
            p.text(x, p.y, cell, size=p.size * 0.9)
        else:
            p.kv(x, d.bank, 90)


def _party(p: Pen, x: float, label: str, cells: list[Cell]) -> None:
    if not cells:
        return
    p.y -= p.size * 1.4
    p.text(x, p.y, label.upper() if p.rng.random() < 0.5 else label, bold=True, size=p.size * 0.85,
           color=(90, 90, 90))
    p.lines(x, cells)


def rl_compact(doc: DocContent, rng: random.Random) -> Pen:
    """Everything left-aligned in one column; letter-spaced title; meta as label/value list."""
    size = rng.choice([8.5, 9, 9.5, 10])
    p = Pen(doc, rng, rng.choice(["sans", "lsans", "cond"]), size, rng.choice([A4, A4, LETTER]),
            (18 * mm, 18 * mm, 16 * mm, 28 * mm), _footer_factory(doc, size * 0.75, False, PAGE_WORD[doc.lang]))
    _vendor_head(p, p.left, spaced=rng.random() < 0.3)
    p.y -= size * 2.5
    p.text(p.left, p.y, doc.title.upper(), bold=True, size=size * 1.9, cs=size * rng.choice([0, 0.5, 0.8]))
    p.y -= size * 0.5
    p.kv(p.left, doc.meta, rng.choice([95, 110, 125]))
    _party(p, p.left, doc.customer_label, doc.customer_block)
    if doc.ship_block:
        _party(p, p.left, doc.ship_label, doc.ship_block)
    p.y -= size
    p.table(doc.items, p.left, p.W - p.right)
    if doc.extra_tables and rng.random() < 0.4:  # the VAT breakdown before the totals on some documents
        for t in doc.extra_tables:
            p.table(t, p.left, p.W - p.right)
        p.need(size * 1.5 * (len(doc.totals) + 1))
        p.kv(p.W - p.right - 220, doc.totals, 120, "r", p.W - p.right)
    else:
        p.need(size * 1.5 * (len(doc.totals) + 1))
        p.kv(p.W - p.right - 220, doc.totals, 120, "r", p.W - p.right)
        for t in doc.extra_tables:
            p.table(t, p.left, p.W - p.right)
    _notes_bank(p, p.left, rng.random() < 0.5)
    _stamp(p)
    return p


def rl_two_col(doc: DocContent, rng: random.Random) -> Pen:
    """Customer left / vendor right, meta in two columns below, totals right, bank block at the end."""
    size = rng.choice([9, 9.5, 10, 10.5])
    p = Pen(doc, rng, rng.choice(["serif", "dserif", "lsans"]), size, A4, (20 * mm, 20 * mm, 18 * mm, 30 * mm),
            _footer_factory(doc, size * 0.72, True, PAGE_WORD[doc.lang]))
    top = p.y
    _vendor_head(p, p.W - p.right, align="r", big=1.5)
    ybottom = p.y
    p.y = top - 70
    _party(p, p.left, doc.customer_label, doc.customer_block)
    p.y = min(p.y, ybottom) - size * 2
    p.text(p.left, p.y, doc.title, bold=True, size=size * 1.6)
    half = (len(doc.meta) + 1) // 2
    y0 = p.y
    p.kv(p.left, doc.meta[:half], 105)
    y1 = p.y
    p.y = y0
    p.kv(p.W / 2 + 10, doc.meta[half:], 105)
    p.y = min(p.y, y1) - size
    if doc.ship_block:
        _party(p, p.left, doc.ship_label, doc.ship_block)
    p.table(doc.items, p.left, p.W - p.right, boxed=True)
    p.need(size * 1.5 * (len(doc.totals) + 1))
    p.kv(p.W / 2, doc.totals, 120, "r", p.W - p.right)
    for t in doc.extra_tables:
        p.table(t, p.left, p.W * 0.75, boxed=True)
    _notes_bank(p, p.left, False)
    _stamp(p)
    return p


def rl_mono(doc: DocContent, rng: random.Random) -> Pen:
    """A system printout in a monospaced font: dashed rules, labels above values in the header."""
    size = rng.choice([8, 8.5, 9])
    p = Pen(doc, rng, "mono", size, rng.choice([A4, LETTER]), (14 * mm, 14 * mm, 14 * mm, 26 * mm),
            _footer_factory(doc, size * 0.8, False, PAGE_WORD[doc.lang]))
    _vendor_head(p, p.left, big=1.3)
    p.y -= size * 2
    p.text(p.W - p.right, p.y, doc.title.upper(), bold=True, size=size * 1.6, align="r", cs=size * 0.4)
    p.y -= size * 2
    # label-above-value header line
    xs = [p.left + i * (p.W - p.left - p.right) / 4 for i in range(4)]
    for start in range(0, len(doc.meta), 4):
        chunk = doc.meta[start:start + 4]
        p.need(size * 3.2)
        p.y -= size * 1.3
        for x, r in zip(xs, chunk, strict=False):
            p.text(x, p.y, r.label.rstrip(": "), size=size * 0.85, color=(80, 80, 80))
        p.y -= size * 1.3
        for x, r in zip(xs, chunk, strict=False):
            p.text(x, p.y, r.value, bold=True)
        p.line(p.left, p.y - 4, p.W - p.right, 0.5, dash=True)
    _party(p, p.left, doc.customer_label, doc.customer_block)
    p.table(doc.items, p.left, p.W - p.right, dashed=True)
    p.need(size * 1.5 * (len(doc.totals) + 1))
    p.kv(p.W - p.right - 250, doc.totals, 140, "r", p.W - p.right)
    for t in doc.extra_tables:
        p.table(t, p.left, p.W - p.right, dashed=True)
    _notes_bank(p, p.left, True)
    _stamp(p)
    return p


def rl_grid(doc: DocContent, rng: random.Random) -> Pen:
    """Boxes with small labels above values across the page, the vendor box top-left."""
    size = rng.choice([8.5, 9, 9.5])
    p = Pen(doc, rng, rng.choice(["narrow", "lsans", "sans"]), size, A4, (15 * mm, 15 * mm, 15 * mm, 28 * mm),
            _footer_factory(doc, size * 0.75, True, PAGE_WORD[doc.lang]))
    top = p.y
    _vendor_head(p, p.left + 6, big=1.4)
    p.c.setLineWidth(0.8)
    p.c.rect(p.left, p.y - 6, (p.W - p.left - p.right) * 0.5, top - p.y + 6)
    yv = p.y - 6
    p.y = top - size * 2
    p.text(p.W - p.right, p.y, doc.title, bold=True, size=size * 2, align="r")
    p.y = min(p.y - size * 2, yv - size)
    n = 3
    bw = (p.W - p.left - p.right) / n
    for start in range(0, len(doc.meta), n):
        chunk = doc.meta[start:start + n]
        p.need(size * 3.5)
        for i, r in enumerate(chunk):
            x = p.left + i * bw
            p.c.rect(x, p.y - size * 3, bw, size * 3)
            p.text(x + 3, p.y - size * 1.0, r.label.rstrip(": "), size=size * 0.75, color=(90, 90, 90))
            p.text(x + 3, p.y - size * 2.4, r.value, bold=True)
        p.y -= size * 3
    p.y -= size
    _party(p, p.left, doc.customer_label, doc.customer_block)
    p.table(doc.items, p.left, p.W - p.right, boxed=True)
    p.need(size * 1.5 * (len(doc.totals) + 1))
    p.kv(p.W - p.right - 230, doc.totals, 130, "r", p.W - p.right)
    for t in doc.extra_tables:
        p.table(t, p.left, p.W - p.right, boxed=True)
    _notes_bank(p, p.left, rng.random() < 0.5)
    _stamp(p)
    return p


def rl_receipt(doc: DocContent, rng: random.Random) -> Pen:
    """A narrow till receipt (80 mm wide), centred header, items as two lines, totals, footer text."""
    size = rng.choice([7.5, 8, 8.5])
    n_lines = 14 + 2 * (len(doc.items.rows) if doc.items else 0) + len(doc.totals) + len(doc.meta) + len(doc.footer) * 2 + 8
    height = max(120 * mm, n_lines * size * 1.45 + 40 * mm)
    p = Pen(doc, rng, rng.choice(["mono", "cond", "sans"]), size, (80 * mm, height), (5 * mm, 5 * mm, 8 * mm, 8 * mm))
    cx = p.W / 2
    _vendor_head(p, cx, align="c", big=1.4)
    p.y -= size * 1.5
    p.text(cx, p.y, doc.title.upper(), bold=True, align="c", size=size * 1.2)
    p.kv(p.left, doc.meta, 70)
    p.line(p.left, p.y - 5, p.W - p.right, 0.5, dash=True)
    p.y -= size * 0.8
    if doc.customer_block:
        _party(p, p.left, doc.customer_label, doc.customer_block)
    if doc.items:
        for row in doc.items.rows:
            r = row[-4:]
            p.y -= size * 1.35
            p.text(p.left, p.y, r[0])
            p.y -= size * 1.35
            if len(r) == 4:
                p.text(p.left + 10, p.y, r[1] + [("x", (), "")] + r[2])
            p.text(p.W - p.right, p.y, r[-1], align="r")
    p.line(p.left, p.y - 5, p.W - p.right, 0.5, dash=True)
    p.y -= size * 0.5
    p.kv(p.left, doc.totals, 60, "r", p.W - p.right)
    p.y -= size
    for c in doc.notes + doc.footer:
        for part in p.wrap(c, p.W - p.left - p.right, size * 0.85):
            p.y -= size * 1.3
            p.text(cx, p.y, part, align="c", size=size * 0.85)
    return p


LAYOUTS: dict[str, Callable[[DocContent, random.Random], Pen]] = {
    "rl_compact": rl_compact, "rl_two_col": rl_two_col, "rl_mono": rl_mono, "rl_grid": rl_grid, "rl_receipt": rl_receipt,
}


def render_reportlab(doc: DocContent, layout: str, rng: random.Random) -> tuple[bytes, list[dict], int]:
    pen = LAYOUTS[layout](doc, rng)
    pdf = pen.finish()
    return pdf, pen.spans, pen.page


_ = rgb  # re-exported colour helper for layouts that tint their rules
