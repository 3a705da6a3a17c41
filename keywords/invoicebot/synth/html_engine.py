"""HTML/CSS layouts printed to PDF by headless Chromium (one browser per process, reused).

Every template arranges the same blocks of a :class:`DocContent` differently.  Labelled pieces are
``<span data-f=... data-o=...>``; after the page is laid out (paginated in the browser by a small
script) their boxes are measured, relative to their page, and returned with the PDF bytes.
"""

from __future__ import annotations

import base64
import html
import os
import random
from collections.abc import Callable

from invoicebot.synth.content import Cell, DocContent, Row, Table
from invoicebot.synth.logo import logo_data_uri, stamp_png

FONTS = ["DejaVu Sans", "Liberation Sans", "Liberation Serif", "DejaVu Serif", "DejaVu Sans Condensed",
         "Liberation Sans Narrow", "Liberation Mono"]

PAGINATE_JS = r"""
const flow = document.getElementById('flow');
const blocks = [...flow.children];
const tpl = document.getElementById('pagetpl');
function newPage() {
  const p = tpl.content.firstElementChild.cloneNode(true);
  document.body.appendChild(p);
  p.dataset.page = document.querySelectorAll('.page').length;
  return p;
}
const content = p => p.querySelector('.content');
const over = p => { const c = content(p); return c.scrollHeight > c.clientHeight + 1; };
let page = newPage();
for (const b of blocks) {
  content(page).appendChild(b);
  if (!over(page)) continue;
  const body = b.classList.contains('split') ? b.querySelector('tbody') : null;
  if (body && body.rows.length > 1) {
    const rows = [...body.rows];
    rows.forEach(r => r.remove());
    let cur = b;
    for (const r of rows) {
      cur.querySelector('tbody').appendChild(r);
      if (over(page)) {
        r.remove();
        if (cur.querySelector('tbody').rows.length === 0) cur.remove();
        page = newPage();
        cur = b.cloneNode(true);
        cur.querySelector('tbody').innerHTML = '';
        content(page).appendChild(cur);
        cur.querySelector('tbody').appendChild(r);
      }
    }
  } else if (content(page).children.length > 1) {
    b.remove();
    page = newPage();
    content(page).appendChild(b);
  }
}
flow.remove();
const pages = document.querySelectorAll('.page');
pages.forEach((p, i) => p.querySelectorAll('.pno').forEach(e => { e.textContent = e.dataset.fmt.replace('{i}', i + 1).replace('{n}', pages.length); }));
const stamp = document.getElementById('stamp');
if (stamp) { pages[pages.length - 1].appendChild(stamp); stamp.style.display = 'block'; }
const out = [];
document.querySelectorAll('[data-f]').forEach(e => {
  const p = e.closest('.page');
  if (!p) return;
  const pr = p.getBoundingClientRect();
  const boxes = [...e.getClientRects()].filter(r => r.width > 0).map(r => [
    (r.left - pr.left) / pr.width * 1000, (r.top - pr.top) / pr.height * 1000,
    (r.right - pr.left) / pr.width * 1000, (r.bottom - pr.top) / pr.height * 1000]);
  const vis = boxes.every(b => b[3] <= 1000.5 && b[1] >= -0.5);
  out.push({f: e.dataset.f, o: e.dataset.o, page: +p.dataset.page, boxes: boxes, visible: vis});
});
return {pages: pages.length, spans: out};
"""


def esc(s: str) -> str:
    return html.escape(s, quote=True)


def cell(c: Cell) -> str:
    out = []
    for text, fields, occ in c:
        if fields:
            out.append(f'<span data-f="{" ".join(fields)}" data-o="{esc(occ)}">{esc(text)}</span>')
        else:
            out.append(esc(text))
    return " ".join(out)


def lines(cells: list[Cell], first_cls: str = "") -> str:
    out = []
    for i, c in enumerate(cells):
        cls = f' class="{first_cls}"' if i == 0 and first_cls else ""
        out.append(f"<div{cls}>{cell(c)}</div>")
    return "".join(out)


class Ctx:
    """Per-document random choices shared by the blocks of one template."""

    def __init__(self, doc: DocContent, rng: random.Random):
        self.doc = doc
        self.rng = rng
        self.hue = doc.vendor.logo_style.get("hue", 210)
        self.accent = f"hsl({self.hue},55%,38%)"
        self.light = f"hsl({self.hue},45%,93%)"

    def logo(self, height: int = 46) -> str:
        uri = logo_data_uri(self.doc.vendor.short, self.doc.vendor.logo_style)
        return f'<img class="logo" src="{uri}" style="height:{height}px">'

    def vendor_header(self, big: bool = True) -> str:
        d = self.doc
        parts = []
        if d.banner and self.rng.random() < 0.7:  # a slogan as the first big line: not the vendor
            parts.append(f'<div class="tagline" style="font-size:1.5em;font-weight:bold;color:{self.accent}">'
                         f"{esc(d.banner)}</div>")
        if d.vendor_mode in ("logo", "logo_text"):
            parts.append(self.logo(self.rng.choice([36, 44, 56])))
        name_cls = "vname" if big and d.vendor_mode != "small" else "vname-small"
        if d.vendor_mode == "logo":
            return "".join(parts) + f'<div class="vaddr">{lines(d.vendor_block)}</div>'
        return "".join(parts) + f'<div class="vaddr">{lines(d.vendor_block, name_cls)}</div>'


def meta_table(rows: list[Row], cls: str = "meta") -> str:
    body = "".join(f"<tr><th>{esc(r.label)}</th><td>{cell(r.value)}</td></tr>" for r in rows)
    return f'<table class="{cls}">{body}</table>'


def meta_boxes(rows: list[Row]) -> str:
    body = "".join(f'<div class="box"><div class="blabel">{esc(r.label.rstrip(":").rstrip())}</div>'
                   f'<div class="bval">{cell(r.value)}</div></div>' for r in rows)
    return f'<div class="boxes">{body}</div>'


def meta_inline(rows: list[Row]) -> str:
    return '<div class="inline">' + " &nbsp;|&nbsp; ".join(f"{esc(r.label)} {cell(r.value)}" for r in rows) + "</div>"


def items_table(t: Table | None, cls: str = "items") -> str:
    if t is None:
        return ""
    head = "".join(f'<th class="{a}">{esc(h)}</th>' for h, a in zip(t.header, t.align, strict=True))
    def td(j: int, c: Cell, a: str, sub: str | None) -> str:
        extra = f'<div class="sub" style="font-size:.8em;color:#555">{esc(sub)}</div>' if sub and j == t.desc_col else ""
        return f'<td class="{a}" style="vertical-align:top">{cell(c)}{extra}</td>'

    subs = t.subs or [None] * len(t.rows)
    rows = "".join("<tr>" + "".join(td(j, c, a, sub) for j, (c, a) in enumerate(zip(r, t.align, strict=True))) + "</tr>"
                   for r, sub in zip(t.rows, subs, strict=True))
    title = f'<div class="ttitle">{esc(t.title)}</div>' if t.title else ""
    return f'<div class="blk split">{title}<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def totals_block(rows: list[Row], cls: str = "totals") -> str:
    body = "".join(f'<tr class="{"strong" if r.strong else ""}"><th>{esc(r.label)}</th><td>{cell(r.value)}</td></tr>'
                   for r in rows)
    return f'<div class="blk"><table class="{cls}">{body}</table></div>'


def notes_block(doc: DocContent) -> str:
    if not doc.notes and not doc.paragraphs:
        return ""
    paras = "".join(f"<p>{cell(c)}</p>" for c in doc.paragraphs)
    notes = "".join(f'<div class="note">{cell(c)}</div>' for c in doc.notes)
    return f'<div class="blk notes">{paras}{notes}</div>'


def bank_block(rows: list[Row], inline: bool) -> str:
    if not rows:
        return ""
    if inline:
        return '<div class="blk bank">' + " &nbsp; ".join(f"{esc(r.label)} {cell(r.value)}" for r in rows) + "</div>"
    return f'<div class="blk bank">{meta_table(rows, "banktbl")}</div>'


def footer_html(doc: DocContent, page_fmt: str) -> str:
    f = "".join(f"<div>{cell(c)}</div>" for c in doc.footer)
    return f'<div class="pfoot">{f}<div class="pno" data-fmt="{esc(page_fmt)}"></div></div>'


BASE_CSS = """
@page { size: 210mm 297mm; margin: 0 }
html, body { margin: 0; padding: 0 }
body { font-family: '%(font)s'; font-size: %(fs)spx; color: #222 }
.page { width: 210mm; height: 297mm; box-sizing: border-box; padding: %(pad)smm %(padx)smm 10mm; display: flex;
        flex-direction: column; position: relative; overflow: hidden; page-break-after: always; }
.content { flex: 1; overflow: hidden }
.pfoot { font-size: 0.78em; color: #555; border-top: 1px solid #bbb; padding-top: 4px; text-align: center }
.pno { text-align: right }
#flow { width: 210mm }
table { border-collapse: collapse }
th { padding-right: 10px } td { padding-left: 2px }
.meta th { text-align: left; font-weight: normal; padding: 1px 10px 1px 0; color: #444 }
.meta td { padding: 1px 0 }
.items { width: 100%%; margin-top: 14px }
.items th { text-align: left; border-bottom: 1.5px solid #333; padding: 4px }
.items td { padding: 3px 4px; border-bottom: 1px solid #e3e3e3; white-space: nowrap }
.items .r { text-align: right }
.totals { margin-left: auto; margin-top: 10px; min-width: 45%% }
.totals th { text-align: left; font-weight: normal; padding: 2px 14px 2px 0 }
.totals td { text-align: right; padding: 2px 0 }
.totals .strong th, .totals .strong td { font-weight: bold; border-top: 1px solid #333 }
.vname { font-size: 1.7em; font-weight: bold }
.vname-small { font-weight: bold }
.title { font-size: 2em; font-weight: bold; margin: 8px 0 }
.notes { margin-top: 14px }
.bank { margin-top: 12px; font-size: 0.9em }
.boxes { display: flex; flex-wrap: wrap; gap: 6px; margin: 10px 0 }
.box { border: 1px solid #999; padding: 3px 8px; min-width: 110px }
.blabel { font-size: 0.75em; color: #666; text-transform: %(boxcase)s }
.bval { font-weight: bold }
.ttitle { font-weight: bold; margin-top: 12px }
.party { margin: 8px 0 }
.plabel { font-size: 0.8em; color: #666; text-transform: uppercase }
#stamp { display: none; position: absolute; top: %(stop)smm; left: %(sleft)smm; transform: rotate(-14deg);
         border: 4px solid rgba(200,30,30,.75); color: rgba(200,30,30,.75); font-size: 44px; font-weight: bold;
         padding: 4px 18px }
.banner { background: %(accent)s; color: white; padding: 6px 10px; font-size: 1.1em }
"""


def css(ctx: Ctx, extra: str, **over: str) -> str:
    rng = ctx.rng
    v = {"font": rng.choice(FONTS), "fs": str(rng.choice([11, 12, 12, 13, 14])), "pad": str(rng.choice([12, 15, 18])),
         "padx": str(rng.choice([14, 16, 20])), "boxcase": rng.choice(["uppercase", "none"]),
         "stop": str(rng.randint(60, 170)), "sleft": str(rng.randint(40, 110)), "accent": ctx.accent}
    v.update(over)
    return BASE_CSS % v + extra


def party(label: str, block: list[Cell], cls: str = "party") -> str:
    if not block:
        return ""
    return f'<div class="{cls}"><div class="plabel">{esc(label)}</div>{lines(block, "pname")}</div>'


def stamp_html(ctx: Ctx) -> str:
    d = ctx.doc
    if not d.stamp:
        return ""
    if ctx.rng.random() < 0.5:
        return f'<div id="stamp">{esc(d.stamp)}</div>'
    uri = "data:image/png;base64," + base64.b64encode(stamp_png(d.stamp)).decode()
    return f'<div id="stamp" style="border:none;transform:none"><img src="{uri}" style="height:110px"></div>'


def title_html(ctx: Ctx, spaced: bool | None = None) -> str:
    t = ctx.doc.title
    if spaced is None:
        spaced = ctx.rng.random() < 0.2
    style = "letter-spacing:0.35em" if spaced else ""
    return f'<div class="title" style="{style}">{esc(t)}</div>'


def page_fmt(ctx: Ctx) -> str:
    word = {"en": "Page", "de": "Seite", "fr": "Page", "nl": "Pagina", "es": "Página", "it": "Pagina", "pl": "Strona"}[ctx.doc.lang]
    of = {"en": "of", "de": "von", "fr": "sur", "nl": "van", "es": "de", "it": "di", "pl": "z"}[ctx.doc.lang]
    return ctx.rng.choice([f"{word} {{i}} / {{n}}", f"{word} {{i}}", "{i}/{n}", f"{word} {{i}} {of} {{n}}"])


def assemble(ctx: Ctx, style: str, flow: list[str]) -> str:
    blocks = "".join(b if b.startswith('<div class="blk') else f'<div class="blk">{b}</div>' for b in flow if b)
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>"
            f"<template id='pagetpl'><div class='page'><div class='content'></div>{footer_html(ctx.doc, page_fmt(ctx))}"
            f"</div></template><div id='flow'>{blocks}</div>{stamp_html(ctx)}</body></html>")


# ----------------------------------------------------------------------------------------------------
# Templates


def t_classic(ctx: Ctx) -> str:
    """Vendor top-left, title + meta table top-right, bill-to below, items, right-aligned totals."""
    d = ctx.doc
    head = (f'<div style="display:flex;justify-content:space-between"><div>{ctx.vendor_header()}</div>'
            f'<div style="text-align:right">{title_html(ctx)}{meta_table(d.meta)}</div></div>')
    parties = f'<div style="display:flex;gap:60px">{party(d.customer_label, d.customer_block)}{party(d.ship_label, d.ship_block)}</div>'
    flow = [head, parties] if ctx.rng.random() < 0.7 else [parties, head]
    flow += [items_table(d.items), totals_block(d.totals)]
    tail = [items_table(t, "items") for t in d.extra_tables] + [notes_block(d), bank_block(d.bank, ctx.rng.random() < 0.5)]
    ctx.rng.shuffle(tail)
    return assemble(ctx, css(ctx, ""), flow + tail)


def t_boxes(ctx: Ctx) -> str:
    """Logo/vendor top-right, labels ABOVE values in boxes, bill-to/ship-to side by side."""
    d = ctx.doc
    head = (f'<div style="display:flex;justify-content:space-between;align-items:flex-start">'
            f'<div>{title_html(ctx)}</div><div style="text-align:right">{ctx.vendor_header(big=False)}</div></div>')
    parties = f'<div style="display:flex;gap:40px">{party(d.customer_label, d.customer_block)}{party(d.ship_label, d.ship_block)}</div>'
    flow = [head, parties, meta_boxes(d.meta), items_table(d.items), totals_block(d.totals)]
    flow += [items_table(t) for t in d.extra_tables]
    flow += [notes_block(d), bank_block(d.bank, False)]
    extra = f".items th {{ background: {ctx.accent}; color: white; border: none }}"
    return assemble(ctx, css(ctx, extra), flow)


def t_sidebar(ctx: Ctx) -> str:
    """A coloured side column with the vendor, contact and bank data; the main column has the rest."""
    d = ctx.doc
    side = f'<div class="side">{ctx.vendor_header(big=False)}{bank_block(d.bank, False).replace("blk ", "")}</div>'
    main = (f'<div class="main">{title_html(ctx, spaced=ctx.rng.random() < 0.5)}{meta_table(d.meta)}'
            f'{party(d.customer_label, d.customer_block)}</div>')
    head = f'<div style="display:flex;gap:18px">{side}{main}</div>'
    flow = [head, items_table(d.items), totals_block(d.totals)] + [items_table(t) for t in d.extra_tables] + [notes_block(d)]
    extra = (f".side {{ width: 36%; background: {ctx.light}; padding: 10px; font-size: .92em }} .main {{ flex: 1 }}"
             f".title {{ color: {ctx.accent} }}")
    return assemble(ctx, css(ctx, extra), flow)


def t_banner(ctx: Ctx) -> str:
    """Coloured banner with a slogan and the title; bill-to big on the left, vendor small 'from' block right."""
    d = ctx.doc
    banner = f'<div class="banner">{esc(d.banner or d.title)}</div>'
    head = (f'<div style="display:flex;justify-content:space-between;margin-top:10px">'
            f'<div>{party(d.customer_label, d.customer_block, "party big")}</div>'
            f'<div style="text-align:right;font-size:.9em">{ctx.vendor_header(big=False)}</div></div>')
    flow = [banner, head, title_html(ctx), meta_table(d.meta), items_table(d.items, "items grid"), totals_block(d.totals)]
    flow += [items_table(t, "items grid") for t in d.extra_tables] + [notes_block(d), bank_block(d.bank, True)]
    extra = (".big .pname { font-size: 1.5em; font-weight: bold } .grid td, .grid th { border: 1px solid #888 }"
             ".title { text-align: right }")
    return assemble(ctx, css(ctx, extra), flow)


def t_minimal(ctx: Ctx) -> str:
    """Centred logo or name, meta as one inline line, borderless table, totals in a shaded box."""
    d = ctx.doc
    head = f'<div style="text-align:center">{ctx.vendor_header()}</div>'
    flow = [head, title_html(ctx), meta_inline(d.meta), party(d.customer_label, d.customer_block),
            party(d.ship_label, d.ship_block), items_table(d.items, "items plain"), totals_block(d.totals, "totals shaded")]
    flow += [items_table(t, "items plain") for t in d.extra_tables] + [notes_block(d), bank_block(d.bank, True)]
    extra = (f".plain th, .plain td {{ border: none }} .shaded {{ background: {ctx.light}; padding: 6px }}"
             ".title { text-align: center; font-weight: normal; text-transform: uppercase }"
             ".inline { text-align: center; margin: 8px 0 }")
    return assemble(ctx, css(ctx, extra), flow)


def t_letter(ctx: Ctx) -> str:
    """A window-envelope business letter (DIN 5008 style): sender line above the recipient, info block right."""
    d = ctx.doc
    v = d.vendor
    sender = f'<div class="sender">{esc(v.name if d.vendor_mode != "logo" else v.short)} · {esc(" · ".join(v.lines[:2]))}</div>'
    top = f'<div style="text-align:right;min-height:60px">{ctx.vendor_header(big=ctx.rng.random() < 0.5)}</div>'
    mid = (f'<div style="display:flex;justify-content:space-between;margin-top:14px"><div class="window">{sender}'
           f'{lines(d.customer_block, "pname")}</div><div>{meta_table(d.meta, "meta info")}</div></div>')
    subject = f'<div class="subject">{esc(d.title)}</div>'
    flow = [top, mid, subject, notes_block(d) if d.paragraphs else "", items_table(d.items), totals_block(d.totals)]
    flow += [items_table(t) for t in d.extra_tables] + ([notes_block(d)] if not d.paragraphs else [])
    flow += [bank_block(d.bank, True)]
    extra = (".sender { font-size: .7em; text-decoration: underline; margin-bottom: 4px } .window { width: 85mm }"
             ".subject { font-weight: bold; font-size: 1.2em; margin: 22px 0 8px } .info { font-size: .9em }"
             ".pfoot { display: flex; gap: 20px; justify-content: space-between; text-align: left }")
    return assemble(ctx, css(ctx, extra), flow)


def t_grid(ctx: Ctx) -> str:
    """Form-like grid: header band with boxes (label above value), bordered tables, totals bottom-right."""
    d = ctx.doc
    head = (f'<table class="hgrid"><tr><td rowspan=2 style="width:45%">{ctx.vendor_header(big=False)}</td>'
            f'<td class="tt">{esc(d.title.upper())}</td></tr><tr><td>{meta_boxes(d.meta)}</td></tr></table>')
    parties = (f'<table class="hgrid"><tr><td>{party(d.customer_label, d.customer_block)}</td>'
               f'<td>{party(d.ship_label, d.ship_block)}</td></tr></table>')
    flow = [head, parties, items_table(d.items, "items grid"), totals_block(d.totals, "totals grid")]
    flow += [items_table(t, "items grid") for t in d.extra_tables] + [notes_block(d), bank_block(d.bank, False)]
    extra = (".hgrid { width: 100%%; margin-bottom: 6px } .hgrid td { border: 1px solid #555; vertical-align: top; padding: 6px }"
             ".tt { font-size: 1.6em; font-weight: bold; text-align: center; letter-spacing: .2em }"
             ".grid td, .grid th { border: 1px solid #555; padding: 3px 6px }")
    return assemble(ctx, css(ctx, extra.replace("%%", "%")), flow)


TEMPLATES: dict[str, Callable[[Ctx], str]] = {
    "html_classic": t_classic, "html_boxes": t_boxes, "html_sidebar": t_sidebar, "html_banner": t_banner,
    "html_minimal": t_minimal, "html_letter": t_letter, "html_grid": t_grid,
}


class Chromium:
    """One headless Chromium driven by selenium; prints pages with Page.printToPDF (no file round trip)."""

    def __init__(self) -> None:
        os.environ.setdefault("SE_OFFLINE", "true")
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = os.environ.get("INVOICEBOT_CHROMIUM", "/usr/bin/chromium")
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,1400",
                  "--font-render-hinting=none"):
            opts.add_argument(a)
        try:
            self.driver = webdriver.Chrome(service=Service(os.environ.get("INVOICEBOT_CHROMEDRIVER", "/usr/bin/chromedriver")),
                                           options=opts)
        except Exception as exc:
            raise RuntimeError(f"could not start headless Chromium for the HTML layouts ({exc}); install the Debian "
                               "packages chromium and chromium-driver or set INVOICEBOT_CHROMIUM/INVOICEBOT_CHROMEDRIVER") from exc
        self.driver.set_page_load_timeout(60)
        self.driver.set_script_timeout(60)

    def render(self, page_html: str) -> tuple[bytes, dict]:
        self.driver.get("data:text/html;charset=utf-8;base64," + base64.b64encode(page_html.encode()).decode())
        layout = self.driver.execute_script(PAGINATE_JS)
        pdf = self.driver.execute_cdp_cmd("Page.printToPDF", {
            "printBackground": True, "preferCSSPageSize": True, "marginTop": 0, "marginBottom": 0, "marginLeft": 0,
            "marginRight": 0, "paperWidth": 8.27, "paperHeight": 11.69})
        return base64.b64decode(pdf["data"]), layout

    def close(self) -> None:
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - closing a dead browser is fine
            pass


def render_html(doc: DocContent, template: str, rng: random.Random, browser: Chromium) -> tuple[bytes, list[dict], int]:
    """Render ``doc`` with an HTML template; return (pdf bytes, spans, number of pages)."""
    page_html = TEMPLATES[template](Ctx(doc, rng))
    pdf, layout = browser.render(page_html)
    spans = [s for s in layout["spans"] if s["boxes"] and s["visible"]]
    return pdf, spans, int(layout["pages"])
