"""Turn loose words with boxes into the reader's page layout: visual lines, blocks, 0..1000 boxes.

Both readers (the PDF text layer and OCR) hand their words to :func:`build_words` in the
page's own units (PDF points or image pixels), so that lines are grouped the same way
whatever the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from invoicebot.schema import Word


@dataclass
class RawWord:
    """A word in page units, before layout.  ``unit`` groups words the source already knows belong
    together on one line (a Tesseract line); ``block`` is a block the source already knows."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float = 1.0
    upright: bool = True
    unit: object = None
    block: object = None
    source: str | None = None  # None: the page's source; "ocr" for OCR'd words on a text page

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1e-6)


def build_words(
    raw: list[RawWord],
    *,
    width: float,
    height: float,
    page: int,
    source: str,
    merge_letter_spacing: bool = True,
) -> list[Word]:
    """Group ``raw`` into visual lines (top to bottom, words left to right) and blocks, and return
    :class:`Word` objects with boxes normalised to 0..1000 of the page, in reading order."""
    upright = [w for w in raw if w.upright]
    rotated = [w for w in raw if not w.upright]

    lines = group_lines(upright)
    if merge_letter_spacing:
        lines = [merge_letter_spaced(join_touching(line)) for line in lines]
    # Rotated text (a vertical margin note) gets a line of its own per word, after the upright lines.
    lines.extend([w] for w in sorted(rotated, key=lambda w: (w.x0, w.top)))

    if raw and all(w.block is not None for w in raw):
        blocks = _source_blocks(lines)
    else:
        blocks = assign_blocks(lines)

    sx = 1000.0 / width if width else 0.0
    sy = 1000.0 / height if height else 0.0
    out: list[Word] = []
    for line_no, line in enumerate(lines):
        for w, block in zip(line, blocks[line_no], strict=True):
            out.append(
                Word(
                    text=w.text,
                    bbox=(
                        _clamp(w.x0 * sx),
                        _clamp(w.top * sy),
                        _clamp(w.x1 * sx),
                        _clamp(w.bottom * sy),
                    ),
                    page=page,
                    source=w.source or source,
                    confidence=round(w.confidence, 4),
                    line=line_no,
                    block=block,
                )
            )
    return out


def _clamp(v: float) -> float:
    return round(min(1000.0, max(0.0, v)), 2)


def group_lines(words: list[RawWord]) -> list[list[RawWord]]:
    """Group words into visual lines.

    Words that a source already put on one line (same ``unit``) stay together.  A unit joins a
    line when it overlaps the line's band (the first unit's vertical extent) by at least half of
    the smaller height; using the band, not the growing union, stops a line from creeping down
    the page through tall words.  Lines come back top to bottom, words left to right.
    """
    if not words:
        return []
    units: dict[object, list[RawWord]] = {}
    singles: list[list[RawWord]] = []
    for w in words:
        if w.unit is None:
            singles.append([w])
        else:
            units.setdefault(w.unit, []).append(w)
    groups = singles + list(units.values())

    def extent(g: list[RawWord]) -> tuple[float, float]:
        if len(g) == 1:
            return g[0].top, g[0].bottom
        # Median edges: one tall glyph (a bracket, a logo letter) does not stretch the band.
        return median(w.top for w in g), median(w.bottom for w in g)

    items = [(extent(g), g) for g in groups]
    items.sort(key=lambda it: ((it[0][0] + it[0][1]) / 2, it[1][0].x0))

    lines: list[tuple[float, float, list[RawWord]]] = []  # (band top, band bottom, words)
    open_from = 0  # lines before this index lie wholly above the current word
    for (top, bottom), g in items:
        h = bottom - top
        target = -1
        best = 0.0
        for i in range(open_from, len(lines)):
            btop, bbottom, _ = lines[i]
            overlap = min(bottom, bbottom) - max(top, btop)
            need = 0.5 * min(h, bbottom - btop)
            if overlap >= need and overlap > best:
                target, best = i, overlap
        if target >= 0:
            lines[target][2].extend(g)
        else:
            lines.append((top, bottom, list(g)))
        while open_from < len(lines) and lines[open_from][1] < top - h:
            open_from += 1

    lines.sort(key=lambda ln: (ln[0] + ln[1]) / 2)
    return [sorted(ws, key=lambda w: w.x0) for _, _, ws in lines]


def _joined(run: list[RawWord], text: str) -> RawWord:
    return RawWord(
        text=text,
        x0=run[0].x0,
        top=min(w.top for w in run),
        x1=max(w.x1 for w in run),
        bottom=max(w.bottom for w in run),
        confidence=min(w.confidence for w in run),
        upright=run[0].upright,
        unit=run[0].unit,
        block=run[0].block,
        source=run[0].source,
    )


def join_touching(line: list[RawWord]) -> list[RawWord]:
    """Join pieces of one word that the PDF drew separately ("Policy" in bold, then its ":"), and
    drop a word drawn twice on top of itself (fake bold).  Pieces touch: their gap is far below a
    space (a tenth of the text height).  Overlapping words of different text are left apart."""
    if len(line) < 2:
        return line
    out = [line[0]]
    for w in line[1:]:
        prev = out[-1]
        h = min(prev.height, w.height)
        gap = w.x0 - prev.x1
        same_row = prev.source == w.source and min(prev.bottom, w.bottom) - max(prev.top, w.top) >= 0.7 * h
        if same_row and w.text == prev.text and (min(prev.x1, w.x1) - max(prev.x0, w.x0)) >= 0.7 * (w.x1 - w.x0):
            continue  # the same word drawn twice
        if same_row and -0.05 * h <= gap <= 0.1 * h and abs(prev.height - w.height) <= 0.3 * max(prev.height, w.height):
            out[-1] = _joined([prev, w], prev.text + w.text)
            continue
        out.append(w)
    return out


def merge_letter_spaced(line: list[RawWord]) -> list[RawWord]:
    """Merge letter-spaced headings: a run of three or more one-letter words with small, even gaps
    ("I N V O I C E") becomes one word.  Ordinary words are left alone."""
    if len(line) < 3:
        return line
    out: list[RawWord] = []
    i = 0
    n = len(line)
    while i < n:
        j = i
        if _is_letter(line[i]):
            h = line[i].height
            gaps: list[float] = []
            while j + 1 < n and _is_letter(line[j + 1]) and abs(line[j + 1].height - h) < 0.25 * h:
                gap = line[j + 1].x0 - line[j].x1
                if gap < -0.1 * h or gap > 0.9 * h:
                    break
                gaps.append(gap)
                j += 1
            if j - i + 1 >= 3 and max(gaps) - min(gaps) <= max(0.35 * h, 0.5 * max(gaps)):
                run = line[i : j + 1]
                out.append(_joined(run, "".join(w.text for w in run)))
                i = j + 1
                continue
        out.append(line[i])
        i += 1
    return out


def _is_letter(w: RawWord) -> bool:
    return len(w.text) == 1 and w.text.isalpha() and w.source is None


def assign_blocks(lines: list[list[RawWord]]) -> list[list[int]]:
    """Cheap block (paragraph/column) numbers: split each line at wide gaps into segments, and join
    segments of neighbouring lines that overlap horizontally and sit close vertically."""
    segs: list[tuple[int, float, float, float, float]] = []  # (line, x0, x1, top, bottom)
    seg_of: list[list[int]] = []
    for li, line in enumerate(lines):
        ids: list[int] = []
        if line:
            h = median(w.height for w in line)
            start = 0
            for k in range(1, len(line) + 1):
                if k == len(line) or line[k].x0 - line[k - 1].x1 > 1.5 * h:
                    part = line[start:k]
                    segs.append((li, part[0].x0, part[-1].x1, min(w.top for w in part), max(w.bottom for w in part)))
                    ids.extend([len(segs) - 1] * len(part))
                    start = k
        seg_of.append(ids)

    parent = list(range(len(segs)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    by_line: dict[int, list[int]] = {}
    for s, seg in enumerate(segs):
        by_line.setdefault(seg[0], []).append(s)
    for li in range(len(lines) - 1):
        for a in by_line.get(li, ()):
            _, ax0, ax1, atop, abottom = segs[a]
            for b in by_line.get(li + 1, ()):
                _, bx0, bx1, btop, bbottom = segs[b]
                h = max(abottom - atop, bbottom - btop)
                if min(ax1, bx1) > max(ax0, bx0) and btop - abottom < 1.0 * h:
                    parent[find(b)] = find(a)

    numbers: dict[int, int] = {}
    out: list[list[int]] = []
    for ids in seg_of:
        row = []
        for s in ids:
            root = find(s)
            row.append(numbers.setdefault(root, len(numbers)))
        out.append(row)
    return out


def _source_blocks(lines: list[list[RawWord]]) -> list[list[int]]:
    numbers: dict[object, int] = {}
    return [[numbers.setdefault(w.block, len(numbers)) for w in line] for line in lines]
