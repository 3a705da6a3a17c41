"""Lines of words and the geometry helpers that the extractors share."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .schema import BBox, Document, Word


@dataclass
class Line:
    """One visual line: words left to right, with the character offset of each word in ``text``."""

    page: int
    index: int  # position of the line on its page, top to bottom
    words: list[Word]
    text: str = ""
    offsets: list[tuple[int, int]] = field(default_factory=list)  # (start, end) of each word in text

    def __post_init__(self):
        if not self.text:
            parts, offsets, pos = [], [], 0
            for w in self.words:
                offsets.append((pos, pos + len(w.text)))
                parts.append(w.text)
                pos += len(w.text) + 1
            self.text = " ".join(parts)
            self.offsets = offsets

    @cached_property
    def bbox(self) -> BBox:
        return union(w.bbox for w in self.words)

    @cached_property
    def height(self) -> float:
        heights = sorted(w.bbox[3] - w.bbox[1] for w in self.words)
        return heights[len(heights) // 2] if heights else 0.0

    def words_in_span(self, start: int, end: int) -> list[int]:
        """Indices of the words that overlap the character span ``[start, end)``."""
        return [i for i, (s, e) in enumerate(self.offsets) if s < end and e > start]

    def span_of_words(self, first: int, last: int) -> tuple[int, int]:
        return self.offsets[first][0], self.offsets[last][1]

    def sub(self, first: int, last: int) -> Line:
        return Line(self.page, self.index, self.words[first : last + 1])


def union(boxes) -> BBox:
    x0 = y0 = float("inf")
    x1 = y1 = float("-inf")
    for b in boxes:
        x0, y0, x1, y1 = min(x0, b[0]), min(y0, b[1]), max(x1, b[2]), max(y1, b[3])
    if x0 == float("inf"):
        return (0.0, 0.0, 0.0, 0.0)
    return (x0, y0, x1, y1)


def x_overlap(a: BBox, b: BBox) -> float:
    """Horizontal overlap of two boxes as a share of the narrower one (0..1)."""
    inter = min(a[2], b[2]) - max(a[0], b[0])
    narrow = max(1e-6, min(a[2] - a[0], b[2] - b[0]))
    return max(0.0, inter) / narrow


def group_lines(words: list[Word], page: int) -> list[Line]:
    """Group one page's words into lines; uses the reader's line numbers when it gave them."""
    if not words:
        return []
    if all(w.line >= 0 for w in words):
        by_line: dict[int, list[Word]] = {}
        for w in words:
            by_line.setdefault(w.line, []).append(w)
        groups = [sorted(ws, key=lambda w: w.bbox[0]) for _, ws in sorted(by_line.items())]
    else:
        groups = []
        for w in sorted(words, key=lambda w: ((w.bbox[1] + w.bbox[3]) / 2, w.bbox[0])):
            mid = (w.bbox[1] + w.bbox[3]) / 2
            if groups:
                last = groups[-1]
                top = min(x.bbox[1] for x in last)
                bottom = max(x.bbox[3] for x in last)
                if top <= mid <= bottom:
                    last.append(w)
                    continue
            groups.append([w])
        groups = [sorted(g, key=lambda w: w.bbox[0]) for g in groups]
    groups.sort(key=lambda ws: (min(w.bbox[1] for w in ws), min(w.bbox[0] for w in ws)))
    return [Line(page, i, ws) for i, ws in enumerate(groups)]


def document_lines(doc: Document) -> list[Line]:
    out: list[Line] = []
    for p in doc.pages:
        out.extend(group_lines(p.words, p.number))
    return out


def column_starts(line: Line, gap: float = 25.0) -> list[int]:
    """The indices of the words that start a segment of the line: the first, and each after a wide horizontal gap
    (columns side by side)."""
    wide = max(gap, 2.5 * max(1.0, line.height))
    return [0] + [k for k in range(1, len(line.words)) if line.words[k].bbox[0] - line.words[k - 1].bbox[2] > wide]


def split_segments(line: Line, gap: float = 25.0) -> list[Line]:
    """Split a line where the horizontal gap between words is wide (columns side by side)."""
    if not line.words:
        return []
    starts = column_starts(line, gap)
    return [Line(line.page, line.index, line.words[a:b]) for a, b in zip(starts, [*starts[1:], len(line.words)], strict=True)]
