"""The content of one synthetic document, independent of its layout.

A :class:`DocContent` holds every string that a layout prints, as cells of pieces.  A piece that
prints a canonical field carries the field name(s) and an occurrence key, so that after rendering
and reading back each labelled word is known (see :mod:`invoicebot.synth.align`).  The canonical
values themselves are in ``fields`` (dates ISO, amounts "1234.56", currency ISO 4217).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from invoicebot.schema import FIELDS_BY_DOCUMENT_TYPE
from invoicebot.synth.labels import PHRASES, LabelSet
from invoicebot.synth.locales import (
    COUNTRIES,
    NUMBER_STYLES,
    AmountStyle,
    DateStyle,
    canonical_amount,
    pick_amount_style,
    pick_date_style,
    q2,
)
from invoicebot.synth.parties import IBAN_FORMATS, Party, company_name, group_iban

Piece = tuple[str, tuple[str, ...], str]  # printed text, canonical fields it shows, occurrence key
Cell = list[Piece]


def P(text: str, *fields: str, occ: str = "") -> Piece:  # noqa: N802 - reads like a constructor
    return (text, tuple(fields), occ)


def plain(text: str) -> Cell:
    return [P(text)]


@dataclass
class Row:
    label: str
    value: Cell
    key: str = ""
    strong: bool = False


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    align: list[str]
    title: str = ""
    kind: str = "items"  # items, vat, period, transactions
    subs: list[str | None] = field(default_factory=list)  # an unlabelled second line under a row's description
    desc_col: int = 0


@dataclass
class DocContent:
    id: str
    doc_type: str
    lang: str
    country: str
    currency: str
    vendor: Party
    customer: Party
    title: str
    vendor_mode: str  # text | logo | logo_text | small
    vendor_block: list[Cell]
    customer_label: str
    customer_block: list[Cell]
    meta: list[Row]
    items: Table | None
    totals: list[Row]
    extra_tables: list[Table]
    notes: list[Cell]
    paragraphs: list[Cell]
    bank: list[Row]
    footer: list[Cell]
    fields: dict[str, str]
    line_items: list[dict[str, str]]
    date_order: str
    ship_label: str = ""
    ship_block: list[Cell] = field(default_factory=list)
    stamp: str | None = None
    banner: str | None = None
    subject: Cell | None = None
    sender_line: Cell | None = None
    amount_style: AmountStyle | None = None
    flags: dict = field(default_factory=dict)


ITEMS: dict[str, list[str]] = {
    "en": ["Consulting services", "Web hosting (monthly)", "Software licence", "Maintenance contract", "Office chair",
           "Printer paper A4, 500 sheets", "Laptop stand", "Cloud storage 1 TB", "Installation labour", "Shipping",
           "Travel expenses", "Training workshop", "Domain renewal", "USB-C cable 2 m", "Project management",
           "Cleaning service", "Catering", "Design work", "Support hours", "Toner cartridge"],
    "de": ["Beratungsleistung", "Webhosting (monatlich)", "Softwarelizenz", "Wartungsvertrag", "Bürostuhl",
           "Kopierpapier A4, 500 Blatt", "Montagearbeiten", "Fahrtkosten", "Schulung", "Versandkosten",
           "Arbeitsstunden", "Druckerpatrone", "Reinigung Büroräume", "Projektleitung", "Material"],
    "fr": ["Prestation de conseil", "Hébergement web (mensuel)", "Licence logiciel", "Contrat de maintenance",
           "Chaise de bureau", "Ramette papier A4", "Main d'œuvre", "Frais de déplacement", "Formation",
           "Frais de port", "Heures d'assistance", "Cartouche d'encre", "Nettoyage des locaux"],
    "nl": ["Advieswerkzaamheden", "Webhosting (maandelijks)", "Softwarelicentie", "Onderhoudscontract",
           "Bureaustoel", "Printpapier A4", "Arbeidsloon", "Reiskosten", "Training", "Verzendkosten",
           "Supporturen", "Inktcartridge", "Schoonmaak kantoor"],
    "es": ["Servicios de consultoría", "Alojamiento web (mensual)", "Licencia de software", "Contrato de mantenimiento",
           "Silla de oficina", "Papel A4 500 hojas", "Mano de obra", "Gastos de viaje", "Formación", "Portes",
           "Horas de soporte", "Cartucho de tóner", "Limpieza de oficinas"],
    "it": ["Servizi di consulenza", "Hosting web (mensile)", "Licenza software", "Contratto di manutenzione",
           "Sedia da ufficio", "Carta A4 500 fogli", "Manodopera", "Spese di trasferta", "Corso di formazione",
           "Spese di spedizione", "Ore di assistenza", "Cartuccia toner", "Pulizia uffici"],
    "pl": ["Usługi doradcze", "Hosting (miesięczny)", "Licencja na oprogramowanie", "Umowa serwisowa",
           "Krzesło biurowe", "Papier A4 500 ark.", "Robocizna", "Koszty podróży", "Szkolenie", "Koszty wysyłki",
           "Godziny wsparcia", "Toner do drukarki", "Sprzątanie biura"],
}
TERMS: dict[str, list[str]] = {
    "en": ["Net {d}", "Net {d} days", "Payable within {d} days", "Due on receipt", "{d} days from invoice date",
           "Payment within {d} days of invoice"],
    "de": ["Zahlbar innerhalb von {d} Tagen ohne Abzug", "{d} Tage netto", "Zahlung innerhalb {d} Tagen",
           "Sofort zahlbar ohne Abzug"],
    "fr": ["Paiement à {d} jours", "{d} jours fin de mois", "À réception de facture", "Virement à {d} jours"],
    "nl": ["Betaling binnen {d} dagen", "{d} dagen netto", "Binnen {d} dagen na factuurdatum"],
    "es": ["Transferencia a {d} días", "Pago a {d} días", "Contado", "Recibo a {d} días"],
    "it": ["Bonifico bancario {d} gg d.f.", "Rimessa diretta", "Bonifico {d} gg f.m.", "Pagamento a {d} giorni"],
    "pl": ["Przelew {d} dni", "Przelew w terminie {d} dni", "Gotówka", "Płatność przelewem - {d} dni"],
}
#: Products that carry a brand, the vendor's own or another's: a line item or a banner that reads like a company
#: name and is not the issuer ("Acme Object Storage", "Nypone Milk Frother Z120"). English product names, as real
#: invoices in every language print them.  Generic on purpose: none is taken from the dev set's documents.
PRODUCTS = ["Cloud Storage", "Virtual Server", "Bandwidth Pack", "Coffee Machine", "Maintenance Kit", "Milk Frother",
            "Filter Cartridge", "Laptop Pro", "Archive Storage", "Object Storage", "Espresso Beans 1 kg",
            "Office Suite", "Router", "Support Plan", "Premium Membership", "Gift Card", "Smart Speaker", "Descaler",
            "Water Filter", "Mobile Plan", "Fibre Box", "Deluxe Room", "Booking Fee", "Business Edition",
            "Managed Database", "Email Security", "Starter Pack", "Replacement Parts"]
PROMOS = ["Discount", "Korting", "Rabatt", "Remise", "Sconto", "Descuento", "Rabat", "Bonus", "Promo"]
BANNERS = ["Your partner for {t}", "Quality since {y}", "Fast. Reliable. Local.", "Certified ISO 9001",
           "Free delivery on orders over 100", "Now open on Saturdays!", "Thank you for choosing us"]
LETTER_TEXT: dict[str, list[str]] = {
    "en": ["We are pleased to inform you about our new opening hours.", "Please find our updated price list enclosed.",
           "Our offices will be closed between the holidays.", "We look forward to continuing our cooperation.",
           "This letter confirms the change of your contact person.", "Kind regards,"],
    "de": ["Hiermit informieren wir Sie über unsere neuen Öffnungszeiten.", "Anbei erhalten Sie unsere neue Preisliste.",
           "Zwischen den Feiertagen bleibt unser Büro geschlossen.", "Wir freuen uns auf die weitere Zusammenarbeit.",
           "Mit freundlichen Grüßen"],
    "fr": ["Nous avons le plaisir de vous annoncer nos nouveaux horaires.", "Veuillez trouver ci-joint notre tarif.",
           "Nos bureaux seront fermés pendant les fêtes.", "Veuillez agréer nos salutations distinguées."],
    "nl": ["Graag informeren wij u over onze nieuwe openingstijden.", "Bijgaand vindt u onze nieuwe prijslijst.",
           "Tijdens de feestdagen is ons kantoor gesloten.", "Met vriendelijke groet,"],
    "es": ["Nos complace informarle de nuestro nuevo horario.", "Adjuntamos nuestra nueva lista de precios.",
           "Nuestras oficinas permanecerán cerradas en festivos.", "Atentamente,"],
    "it": ["Siamo lieti di comunicarVi i nuovi orari di apertura.", "In allegato trovate il nuovo listino prezzi.",
           "I nostri uffici resteranno chiusi durante le festività.", "Cordiali saluti"],
    "pl": ["Uprzejmie informujemy o nowych godzinach otwarcia.", "W załączeniu przesyłamy nowy cennik.",
           "W okresie świątecznym biuro będzie nieczynne.", "Z poważaniem"],
}
NEWS_TITLES = {"en": "Newsletter", "de": "Kundeninformation", "fr": "Lettre d'information", "nl": "Nieuwsbrief",
               "es": "Boletín informativo", "it": "Newsletter", "pl": "Informacja dla klientów"}


def invoice_number(rng: random.Random, year: int, country: str) -> str:
    n = rng.randint(1, 99999)
    shapes = [
        lambda: str(rng.randint(10000, 9999999)),
        lambda: f"INV-{year}-{n % 10000:04d}",
        lambda: f"{rng.choice(['INV', 'RE', 'F', 'FA', 'R', 'SI', 'FAC', 'RG', 'FT'])}{year}{n:05d}",
        lambda: f"{rng.choice(['INV', 'FV', 'FA', 'FS'])}/{year}/{rng.randint(1, 12):02d}/{n % 10000:04d}",
        lambda: f"{n % 10000}/{year}",
        lambda: f"{rng.choice(['A', 'B', 'C', 'GB', 'IN', 'DE'])}{rng.randint(100000, 999999)}",
        lambda: f"{year % 100:02d}-{n:05d}",
        lambda: f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randint(10, 99)}-{n:06d}",
        lambda: f"{year}.{n:04d}",
    ]
    weights = [3, 3, 2, 2 if country in ("PL", "IT", "ES", "IN") else 1, 1, 1, 1, 1, 1]
    return rng.choices(shapes, weights)[0]()


def confusable_id(rng: random.Random, kind: str, year: int) -> str:
    n = rng.randint(100, 9999999)
    return {
        "customer_no": rng.choice([f"{n % 100000:05d}", f"K-{n % 100000}", f"CUST-{n % 10000:05d}", f"D{n % 1000000}"]),
        "order_no": rng.choice([f"SO-{n % 1000000}", f"{n}", f"AB-{year}-{n % 10000:04d}", f"ORD{n % 100000:06d}"]),
        "contract_no": rng.choice([f"CT-{year}-{n % 1000}", f"V{n % 100000:06d}"]),
        "delivery_note": rng.choice([f"LS-{year % 100}-{n % 10000:04d}", f"DN{n % 1000000}", f"{n % 100000}"]),
        "booking_id": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(rng.choice([6, 8]))),
        "po_number": rng.choice([f"PO-{n % 100000:05d}", f"45{rng.randint(10000000, 99999999)}", f"PO{year}{n % 1000:03d}",
                                 f"{n % 100000}", f"BE-{n % 10000}"]),
    }[kind]


class Builder:
    """Builds the content of one document of a given type from a seeded random generator."""

    def __init__(self, rng: random.Random, doc_id: str, doc_type: str, vendor: Party, customer: Party, lang: str):
        self.rng = rng
        self.id = doc_id
        self.doc_type = doc_type
        self.vendor = vendor
        self.customer = customer
        self.lang = lang
        self.country = COUNTRIES[vendor.country]
        cur = self.country.currency
        if rng.random() < 0.08:
            cur = rng.choice(["EUR", "USD", "GBP", "CHF", "CAD", "AUD", "SEK", "PLN"])
        self.currency = cur
        self.L = LabelSet(rng, lang, rng.choice([":", ":", "", " :" if lang == "fr" else ":"]),
                          rng.choices(["as", "upper", "lower"], [8, 2, 1])[0])
        self.astyle = pick_amount_style(rng, self.country, cur)
        self.dstyle: DateStyle = pick_date_style(rng, self.country, lang)
        self.fields: dict[str, str] = {}
        self.flags: dict = {}

    # -- printing helpers ------------------------------------------------------------------------------
    def money(self, x: Decimal, *fields: str, occ: str = "", symbol: bool = True) -> Cell:
        pre, num, suf = self.astyle.pieces(x, with_symbol=symbol)
        if not self.astyle.space and (pre or suf):
            return [P(self.astyle.text(x, symbol), *fields, occ=occ)]
        cur = ("currency",) if fields and (fields[0] in ("total_amount", "amount_due")) else ()
        out: Cell = []
        if pre:
            out.append(P(pre, *cur, occ=occ + "c" if occ else ""))
        out.append(P(num, *fields, occ=occ))
        if suf:
            out.append(P(suf, *cur, occ=occ + "c" if occ else ""))
        return out

    def date_text(self, d: date) -> str:
        return self.dstyle.text(d)

    def qty_text(self, q: Decimal) -> str:
        if q == q.to_integral_value():
            s = str(int(q))
            if self.rng.random() < 0.15:
                s = self.astyle.number_text(q)
            return s
        need = max(len(_num(q).partition(".")[2]), 1)
        return self.astyle.number_text(q, decimals=max(need, 2 if self.rng.random() < 0.5 else 1))

    # -- parties ---------------------------------------------------------------------------------------
    def party_block(self, party: Party, name_field: str | None, addr_field: str | None, occ: str,
                    with_tax: bool = False) -> list[Cell]:
        block: list[Cell] = []
        if name_field:
            block.append([P(party.name, name_field, occ=occ + "n")])
        else:
            block.append(plain(party.name))
        if self.rng.random() < 0.3 and not party.is_person:
            block.append(plain(("Attn: " if self.lang == "en" else "z. Hd. " if self.lang == "de" else "") + party.contact))
        for line in party.lines:
            block.append([P(line, addr_field, occ=occ + "a")] if addr_field else plain(line))
        if with_tax:
            block.append([P(self.L("vat_id")), P(party.tax_id, *(("vendor_tax_id",) if addr_field else ()), occ=occ + "t")])
        return block

    # -- main ------------------------------------------------------------------------------------------
    def build(self) -> DocContent:
        rng = self.rng
        L = self.L
        v = self.vendor
        year = rng.randint(2014, 2026)
        inv_date = date(year, rng.randint(1, 12), rng.randint(1, 28))
        days = rng.choice([0, 7, 10, 14, 14, 30, 30, 30, 45, 60])
        due = inv_date + timedelta(days=days)
        dt = self.doc_type
        mode = rng.choices(["text", "logo", "logo_text", "small"], [35, 30, 20, 15])[0]
        if dt == "receipt":
            mode = rng.choice(["text", "text", "logo_text"])
        self.flags["vendor_mode"] = mode
        fields = self.fields
        # on a purchase order or a remittance advice the issuer is the buyer/payer: no vendor/customer labels there
        vendor_labelled = dt in ("invoice", "credit_note", "receipt", "statement")
        vname_f = "vendor_name" if vendor_labelled else None

        # vendor block (header)
        vb: list[Cell] = []
        if mode in ("text", "logo_text", "small"):
            vb.append([P(v.name, *((vname_f,) if vname_f else ()), occ="vh")])
        addr_f = "vendor_address" if "vendor_address" in FIELDS_BY_DOCUMENT_TYPE[dt] else None
        for line in v.lines:
            vb.append([P(line, *((addr_f,) if addr_f else ()), occ="vha")])
        if rng.random() < 0.6:
            vb.append(plain(rng.choice([f"Tel. {v.phone}", v.phone, f"Phone: {v.phone}"])))
        if rng.random() < 0.5:
            vb.append(plain(v.email))
        tax_f = ("vendor_tax_id",) if "vendor_tax_id" in FIELDS_BY_DOCUMENT_TYPE[dt] else ()
        tax_in_header = rng.random() < 0.5
        if tax_in_header:
            vb.append([P(L("vat_id")), P(v.tax_id, *tax_f, occ="vt1")])

        # customer block
        cust_f = "customer_name" if dt in ("invoice", "credit_note", "receipt", "statement") else None
        cb = self.party_block(self.customer, cust_f, None, "cu") if dt != "receipt" or rng.random() < 0.3 else []
        if cb and rng.random() < 0.3:
            cb.append([P(L("vat_id")), P(self.customer.tax_id)])  # the customer's VAT id: a distractor
        doc = DocContent(
            id=self.id, doc_type=dt, lang=self.lang, country=v.country, currency=self.currency, vendor=v,
            customer=self.customer, title="", vendor_mode=mode, vendor_block=vb, customer_label=L("bill_to"),
            customer_block=cb, meta=[], items=None, totals=[], extra_tables=[], notes=[], paragraphs=[], bank=[],
            footer=[], fields=fields, line_items=[], date_order=self.dstyle.order, amount_style=self.astyle,
            flags=self.flags,
        )
        if rng.random() < 0.25 and dt in ("invoice", "purchase_order"):
            ship = self.customer if rng.random() < 0.4 else None
            doc.ship_label = L("ship_to")
            if ship is None:
                from invoicebot.synth.parties import make_address
                doc.ship_block = [plain(self.customer.contact)] + [plain(x) for x in make_address(rng, self.customer.country, self.lang)]
            else:
                doc.ship_block = [plain(ship.name)] + [plain(x) for x in ship.lines]
        if rng.random() < 0.2:
            doc.banner = rng.choice(BANNERS).format(t=rng.choice(ITEMS["en"]).lower(), y=rng.randint(1950, 2012))
            if rng.random() < 0.4:
                doc.banner = rng.choice(["{p}", "New: {p}", "{p} now available", "Discover the {p}"]).format(
                    p=self.branded_product())

        title_concept = dt if dt != "other" else "invoice"
        doc.title = L.raw(title_concept) if dt != "other" else NEWS_TITLES[self.lang]
        if dt in ("invoice", "credit_note", "receipt"):
            self._invoice_like(doc, inv_date, due, days, year)
        elif dt == "purchase_order":
            self._purchase_order(doc, inv_date, year)
        elif dt == "remittance_advice":
            self._remittance(doc, inv_date, year)
        elif dt == "statement":
            self._statement(doc, inv_date, year)
        else:
            self._letter(doc, inv_date)
        if dt != "other":
            fields.setdefault("currency", self.currency)
        self._bank_and_footer(doc, vname_f, addr_f, tax_f, tax_in_header)
        if "currency" in fields and not self._currency_printed(doc):
            doc.meta.append(Row(L("currency"), [P(self.currency, "currency", occ="cm")]))
        doc.fields = {k: fields[k] for k in fields}
        return doc

    def _currency_printed(self, doc: DocContent) -> bool:
        for row in doc.totals + doc.meta:
            for _t, f, _o in row.value:
                if "currency" in f:
                    return True
        return False

    def brand(self) -> str:
        """The vendor's short name, or another maker's, as printed on a product."""
        rng = self.rng
        b = self.vendor.short if rng.random() < 0.6 else company_name(rng, self.vendor.country, self.lang)[1]
        return b.upper() if rng.random() < 0.25 else b

    def branded_product(self) -> str:
        """A product name with a brand in it: a name-like line that is not the issuer's name."""
        rng = self.rng
        b, p = self.brand(), rng.choice(PRODUCTS)
        model = rng.choice(["", "", f" {rng.choice('XSZ')}{rng.randint(10, 990)}", f" CA{rng.randint(1000, 9999)}/{rng.randint(10, 99)}"])
        r = rng.random()
        if r < 0.6:
            return f"{b} {p}{model}"
        if r < 0.8:
            return f"{rng.choice(['', 'SX ', 'XL ', 'Pro '])}{p}{model} {b}".strip()
        return f"{p} {b} {rng.choice(PROMOS)} {rng.choice(['', 'SPRING', 'WELCOME', 'NL', 'VIP'])}".strip()

    def _items(self, n: int, rates: list[str], credit: bool) -> tuple[list[dict], list[Decimal]]:
        rng = self.rng
        items = []
        amounts = []
        pool = ITEMS[self.lang]
        branded = rng.random() < 0.3  # some vendors sell products named after a brand, often their own
        for _ in range(n):
            hourly = rng.random() < 0.2
            qty = Decimal(rng.choice([1, 1, 1, 2, 3, 4, 5, 10, 12, 24])) if not hourly else Decimal(rng.choice(["0.5", "1.5", "2", "2.5", "7.25", "8"]))
            price = q2(Decimal(str(round(rng.lognormvariate(3.6, 1.3), 2))) + Decimal("0.5"))
            if self.currency in ("INR",):
                price = q2(price * 40)
            if self.astyle.whole:
                price = price.to_integral_value()
            amount = q2(qty * price)
            if credit:
                amount = -amount
            desc = self.branded_product() if branded and rng.random() < 0.6 else rng.choice(pool)
            if rng.random() < 0.3:
                desc = f"{desc} {rng.choice(['#', 'Art. ', 'SKU ', ''])}{rng.randint(100, 99999)}"
            rate = rng.choice(rates)
            sub = None
            if rng.random() < 0.2:
                sub = rng.choice([f"{rng.choice(['Art.', 'SKU', 'Ref.', 'EAN'])} {rng.randint(10**5, 10**9)}",
                                  f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(14, 26)} - "
                                  f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(14, 26)}",
                                  rng.choice(["incl. setup", "per month", "Serial no. " + str(rng.randint(10**6, 10**7)),
                                              "Lieferung frei Haus", "hors taxes", "excl. BTW"])])
            items.append({"description": desc, "qty": qty, "price": price, "amount": amount, "rate": rate, "sub": sub})
            amounts.append(amount)
        return items, amounts

    def _items_table(self, doc: DocContent, items: list[dict], show_rate: bool) -> None:
        L = self.L
        header = [L("description", False), L("qty", False), L("unit_price", False), L("amount", False)]
        align = ["l", "r", "r", "r"]
        if show_rate:
            header.insert(3, L("vat_rate", False))
            align.insert(3, "r")
        if self.rng.random() < 0.3:
            header.insert(0, "#" if self.rng.random() < 0.5 else "Pos.")
            align.insert(0, "l")
            numbered = True
        else:
            numbered = False
        rows = []
        for i, it in enumerate(items):
            qty = self.qty_text(it["qty"])
            price = self.astyle.number_text(it["price"])
            amount = self.astyle.number_text(it["amount"])
            row: list[Cell] = [[P(it["description"], f"li.{i}.description", occ=f"li{i}d")],
                               [P(qty, f"li.{i}.quantity", occ=f"li{i}q")],
                               [P(price, f"li.{i}.unit_price", occ=f"li{i}p")],
                               [P(amount, f"li.{i}.amount", occ=f"li{i}a")]]
            if show_rate:
                row.insert(3, plain(f"{it['rate']}%".replace(".", NUMBER_STYLES[self.astyle.number][1])))
            if numbered:
                row.insert(0, plain(str(i + 1)))
            rows.append(row)
            doc.line_items.append({"description": it["description"], "quantity": _num(it["qty"]),
                                   "unit_price": canonical_amount(it["price"]), "amount": canonical_amount(it["amount"])})
        doc.items = Table(header, rows, align, subs=[it.get("sub") for it in items], desc_col=1 if numbered else 0)

    def _invoice_like(self, doc: DocContent, inv_date: date, due: date, days: int, year: int) -> None:
        rng, L, f = self.rng, self.L, self.fields
        dt = self.doc_type
        credit = dt == "credit_note"
        number = invoice_number(rng, year, self.vendor.country)
        hash_prefix = rng.random() < 0.12
        label = L("credit_number") if credit and rng.random() < 0.6 else L("invoice_number")
        f["invoice_number"] = number
        doc.meta.append(Row(label, [P(("#" if hash_prefix else "") + number, "invoice_number", occ="in")], "invoice_number"))
        f["invoice_date"] = inv_date.isoformat()
        date_row = Row(L("invoice_date"), [P(self.date_text(inv_date), "invoice_date", occ="id")], "invoice_date")
        doc.meta.append(date_row)
        # confusable ids and dates
        for kind in rng.sample(["customer_no", "order_no", "contract_no", "delivery_note", "booking_id"], rng.randint(0, 3)):
            doc.meta.append(Row(L(kind), plain(confusable_id(rng, kind, year))))
        if rng.random() < 0.35:
            po = confusable_id(rng, "po_number", year)
            f["po_number"] = po
            doc.meta.append(Row(L("po_number"), [P(po, "po_number", occ="po")]))
        if rng.random() < 0.3:
            doc.meta.append(Row(L("delivery_date"), plain(self.date_text(inv_date - timedelta(days=rng.randint(0, 12))))))
        if rng.random() < 0.15:
            doc.meta.append(Row(L("order_date"), plain(self.date_text(inv_date - timedelta(days=rng.randint(3, 40))))))
        if rng.random() < 0.15:
            first = (inv_date.replace(day=1) - timedelta(days=1)).replace(day=1)
            last = inv_date.replace(day=1) - timedelta(days=1)
            doc.meta.append(Row(L("service_period"), plain(f"{self.date_text(first)} - {self.date_text(last)}")))
        if dt != "receipt" and rng.random() < 0.6 and days > 0:
            f["due_date"] = due.isoformat()
            doc.meta.append(Row(L("due_date"), [P(self.date_text(due), "due_date", occ="dd")], "due_date"))
        rng.shuffle(doc.meta)
        # invoice number and date first on most documents
        doc.meta.sort(key=lambda r: 0 if r.key == "invoice_number" and rng.random() < 0.8 else 1)
        if credit and rng.random() < 0.6:
            doc.meta.append(Row(L("your_ref") if rng.random() < 0.3 else PHRASES[self.lang]["invoice_number"][0],
                                plain(invoice_number(rng, year, self.vendor.country))))

        # lines and taxes
        c = self.country
        reverse = c.code in ("DE", "AT", "FR", "BE", "NL", "ES", "IT", "PL") and rng.random() < 0.12 and dt != "receipt"
        no_tax = c.code == "US" and rng.random() < 0.3
        rates = [c.tax_rates[0]]
        if len(c.tax_rates) > 1 and rng.random() < 0.25 and not reverse:
            rates = list(c.tax_rates[:2])
        if reverse:
            rates = ["0"]
        big = rng.random() < 0.1 and dt != "receipt" and not self.flags.get("single_page")
        n = rng.randint(24, 45) if big else rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8])
        items, amounts = self._items(n, rates, credit)
        self.flags["multi_page_items"] = big
        self._items_table(doc, items, show_rate=len(rates) > 1 or rng.random() < 0.15)
        subtotal = sum(amounts, Decimal(0))
        by_rate: dict[str, Decimal] = {}
        for it in items:
            by_rate[it["rate"]] = by_rate.get(it["rate"], Decimal(0)) + it["amount"]
        taxes = {r: q2(net * Decimal(r) / 100) for r, net in by_rate.items()}
        if no_tax:
            taxes = {}
        tax = sum(taxes.values(), Decimal(0))
        total = subtotal + tax
        f["subtotal_amount"] = canonical_amount(subtotal)
        f["total_amount"] = canonical_amount(total)
        tax_name = c.tax_name if self.lang != "en" or c.code in ("GB", "IE", "US", "IN", "AU", "CA") else "VAT"
        totals: list[Row] = []
        if not (no_tax and rng.random() < 0.5):
            totals.append(Row(L("subtotal"), self.money(subtotal, "subtotal_amount", occ="st", symbol=rng.random() < 0.5),
                              "subtotal"))
        else:
            del f["subtotal_amount"]
        if not no_tax:
            f["tax_amount"] = canonical_amount(tax)
            if c.code == "IN" and not reverse and rng.random() < 0.7 and len(taxes) == 1:
                half = q2(tax / 2)
                rate = Decimal(rates[0]) / 2
                if rng.random() < 0.5:
                    totals.append(Row(f"CGST {_num(rate)}%", self.money(half, symbol=False)))
                    totals.append(Row(f"SGST {_num(rate)}%", self.money(tax - half, symbol=False)))
                    totals.append(Row(L("tax") if rng.random() < 0.5 else "Total GST",
                                      self.money(tax, "tax_amount", occ="tx", symbol=False)))
                else:  # one integrated tax line: that line is the tax amount
                    totals.append(Row(f"IGST {rates[0]}%", self.money(tax, "tax_amount", occ="tx", symbol=False)))
            elif len(taxes) > 1:
                for r, t in taxes.items():
                    totals.append(Row(f"{tax_name} {r}%", self.money(t, symbol=False)))
                if rng.random() < 0.6:
                    totals.append(Row(L("tax"), self.money(tax, "tax_amount", occ="tx", symbol=False)))
            else:
                r = next(iter(taxes))
                lab = f"{L('tax', False)} {r}%" if rng.random() < 0.7 else f"{r}% {tax_name}"
                if reverse:
                    lab = f"{L('tax', False)} 0%"
                totals.append(Row(lab + (self.L.colon if rng.random() < 0.3 else ""),
                                  self.money(tax, "tax_amount", occ="tx", symbol=rng.random() < 0.4)))
        paid_mode = rng.choices(["none", "due", "paid", "partial", "previous"], [45, 25, 15, 8, 7])[0]
        if dt == "receipt":
            paid_mode = "receipt"
        totals.append(Row(L("total"), self.money(total, "total_amount", occ="tt"), "total", strong=True))
        if paid_mode == "due":
            f["amount_due"] = canonical_amount(total)
            totals.append(Row(L("amount_due"), self.money(total, "amount_due", "total_amount", occ="ad"), "amount_due",
                              strong=True))
        elif paid_mode == "paid":
            f["amount_due"] = "0.00"
            totals.append(Row(L("payments_received"), self.money(-total if rng.random() < 0.5 else total, occ="")))
            totals.append(Row(L("amount_due"), self.money(Decimal(0), "amount_due", occ="ad"), "amount_due", strong=True))
            doc.stamp = L.raw("paid")
        elif paid_mode == "partial":
            paid = q2(total * Decimal(rng.choice(["0.3", "0.5", "0.25"])))
            f["amount_due"] = canonical_amount(total - paid)
            totals.append(Row(L("payments_received"), self.money(-paid)))
            totals.append(Row(L("amount_due"), self.money(total - paid, "amount_due", occ="ad"), "amount_due", strong=True))
        elif paid_mode == "previous":
            prev = q2(Decimal(rng.randint(10, 5000)) + Decimal(rng.randint(0, 99)) / 100)
            f["amount_due"] = canonical_amount(total + prev)
            totals.insert(0, Row(L("previous_balance"), self.money(prev)))
            totals.append(Row(L("amount_due"), self.money(total + prev, "amount_due", occ="ad"), "amount_due", strong=True))
        elif paid_mode == "receipt":
            method = L.pick("change")
            tendered = total if method != PHRASES[self.lang]["change"][1] else q2(total + Decimal(rng.randint(1, 20)))
            totals.append(Row(method, self.money(tendered, symbol=False)))
            if tendered != total:
                totals.append(Row(PHRASES[self.lang]["change"][0], self.money(tendered - total, symbol=False)))
        self.flags["paid_mode"] = paid_mode
        doc.totals = totals
        # VAT breakdown table
        if taxes and (len(taxes) > 1 or rng.random() < 0.3) and dt != "receipt":
            header = [L("vat_rate", False), L("net", False), L("tax", False), L("gross", False)]
            rows: list[list[Cell]] = []
            single = len(taxes) == 1
            for r, t in taxes.items():
                net = by_rate[r]
                rows.append([plain(f"{r}%"), self.money(net, *(("subtotal_amount",) if single else ()), occ="vbn", symbol=False),
                             self.money(t, *(("tax_amount",) if single else ()), occ="vbt", symbol=False),
                             self.money(net + t, *(("total_amount",) if single else ()), occ="vbg", symbol=False)])
            if not single and rng.random() < 0.5:
                rows.append([plain(L("total", False)), self.money(subtotal, "subtotal_amount", occ="vbsn", symbol=False),
                             self.money(tax, "tax_amount", occ="vbst", symbol=False),
                             self.money(total, "total_amount", occ="vbsg", symbol=False)])
                f["tax_amount"] = canonical_amount(tax)
            doc.extra_tables.append(Table(header, rows, ["l", "r", "r", "r"], L.raw("tax_summary"), "vat"))
        if "tax_amount" in f and not any("tax_amount" in p[1] for row in doc.totals for p in row.value) and not any(
                "tax_amount" in p[1] for t in doc.extra_tables for row in t.rows for cell in row for p in cell):
            f.pop("tax_amount")  # printed only split by rate, no total of the tax: not labelled
        if reverse:
            doc.notes.append(plain(L.raw("reverse_charge")))
            doc.notes.append([P(L("vat_id")), P(self.customer.tax_id)])
        if self.rng.random() < 0.1 and dt == "invoice":
            self._period_table(doc, total)
        if dt != "receipt" and rng.random() < 0.7:
            terms = rng.choice(TERMS[self.lang]).format(d=days or 14)
            f["payment_terms"] = terms
            if rng.random() < 0.5:
                doc.meta.append(Row(L("payment_terms"), [P(terms, "payment_terms", occ="pt")]))
            else:
                doc.notes.append([P(L("payment_terms")), P(terms, "payment_terms", occ="pt")])
        if rng.random() < 0.4:
            doc.notes.append(plain(L.pick("thanks")))
        if dt == "receipt":
            doc.meta.append(Row(L("cashier"), plain(str(rng.randint(1, 12)))))
            doc.meta.append(Row("", plain(f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}")))

    def _period_table(self, doc: DocContent, current: Decimal) -> None:
        rng, L, f = self.rng, self.L, self.fields
        qtd = q2(current + Decimal(rng.randint(0, 3000)))
        ytd = q2(qtd + Decimal(rng.randint(0, 20000)) + Decimal(rng.randint(0, 99)) / 100)
        f["quarter_to_date"] = canonical_amount(qtd)
        f["year_to_date"] = canonical_amount(ytd)
        header = ["", L("this_period", False), L("qtd", False), L("ytd", False)]
        rows: list[list[Cell]] = []
        for item in rng.sample(ITEMS[self.lang], 2):
            a, b = q2(qtd * Decimal("0.4")), q2(ytd * Decimal("0.4"))
            rows.append([plain(item), self.money(q2(current * Decimal("0.4")), symbol=False), self.money(a, symbol=False),
                         self.money(b, symbol=False)])
        rows.append([plain(L("total", False)), self.money(current, symbol=False),
                     self.money(qtd, "quarter_to_date", occ="qtd", symbol=False),
                     self.money(ytd, "year_to_date", occ="ytd", symbol=False)])
        doc.extra_tables.append(Table(header, rows, ["l", "r", "r", "r"], "", "period"))

    def _purchase_order(self, doc: DocContent, d: date, year: int) -> None:
        rng, L, f = self.rng, self.L, self.fields
        po = confusable_id(rng, "po_number", year)
        f["po_number"] = po
        doc.meta.append(Row(L("po_number"), [P(po, "po_number", occ="po")]))
        doc.meta.append(Row(L("order_date"), plain(self.date_text(d))))
        doc.meta.append(Row(L("deliver_by"), plain(self.date_text(d + timedelta(days=rng.randint(5, 40))))))
        if rng.random() < 0.5:
            doc.meta.append(Row(L("customer_no"), plain(confusable_id(rng, "customer_no", year))))
        # the issuer of a purchase order is the buyer: swap who is printed where
        doc.customer_label = L("supplier")
        items, amounts = self._items(rng.randint(1, 8), [self.country.tax_rates[0]], False)
        self._items_table(doc, items, False)
        sub = sum(amounts, Decimal(0))
        tax = q2(sub * Decimal(self.country.tax_rates[0]) / 100)
        f.update(subtotal_amount=canonical_amount(sub), tax_amount=canonical_amount(tax), total_amount=canonical_amount(sub + tax))
        doc.totals = [Row(L("subtotal"), self.money(sub, "subtotal_amount", occ="st")),
                      Row(L("tax"), self.money(tax, "tax_amount", occ="tx")),
                      Row(L("total"), self.money(sub + tax, "total_amount", occ="tt"), "total", True)]
        doc.notes.append(plain(rng.choice(["Please confirm this order by return.", "Bitte bestätigen Sie den Auftrag.",
                                           "Merci de confirmer la commande.", "Graag een orderbevestiging."])))
        self.flags["po_issuer_is_customer"] = True

    def _remittance(self, doc: DocContent, d: date, year: int) -> None:
        rng, L, f = self.rng, self.L, self.fields
        doc.meta.append(Row(L("payment_date"), plain(self.date_text(d))))
        doc.meta.append(Row(L("customer_no"), plain(confusable_id(rng, "customer_no", year))))
        header = [L("invoice_number", False), L("invoice_date", False), L("paid_amount", False)]
        rows = []
        tot = Decimal(0)
        for _ in range(rng.randint(1, 6)):
            a = q2(Decimal(str(round(rng.lognormvariate(5, 1), 2))))
            tot += a
            rows.append([plain(invoice_number(rng, year, self.vendor.country)),
                         plain(self.date_text(d - timedelta(days=rng.randint(10, 90)))), self.money(a, symbol=False)])
        doc.items = Table(header, rows, ["l", "l", "r"])
        f["total_amount"] = canonical_amount(tot)
        doc.totals = [Row(L("total_paid"), self.money(tot, "total_amount", occ="tt"), "total", True)]

    def _statement(self, doc: DocContent, d: date, year: int) -> None:
        rng, L, f = self.rng, self.L, self.fields
        doc.meta.append(Row(L("customer_no"), plain(confusable_id(rng, "customer_no", year))))
        doc.meta.append(Row(L("invoice_date"), plain(self.date_text(d))))
        header = [L("invoice_date", False), L("invoice_number", False), L("amount", False), L("payments_received", False)]
        rows = []
        bal = q2(Decimal(rng.randint(0, 3000)))
        prev = bal
        period = Decimal(0)
        for _ in range(rng.randint(2, 9)):
            a = q2(Decimal(str(round(rng.lognormvariate(5, 1), 2))))
            paid = rng.random() < 0.4
            rows.append([plain(self.date_text(d - timedelta(days=rng.randint(1, 80)))),
                         plain(invoice_number(rng, year, self.vendor.country)),
                         plain("") if paid else self.money(a, symbol=False), self.money(a, symbol=False) if paid else plain("")])
            period += -a if paid else a
        bal = prev + period
        doc.items = Table(header, rows, ["l", "l", "r", "r"])
        f["amount_due"] = canonical_amount(bal)
        doc.totals = [Row(L("previous_balance"), self.money(prev)),
                      Row(L("amount_due"), self.money(bal, "amount_due", occ="ad"), "amount_due", True)]
        self._period_table(doc, abs(period))

    def _letter(self, doc: DocContent, d: date) -> None:
        rng = self.rng
        doc.meta.append(Row(self.L("invoice_date"), plain(self.date_text(d))))
        doc.paragraphs.append(plain(self.L.pick("dear")))
        texts = LETTER_TEXT[self.lang]
        for t in rng.sample(texts[:-1], min(len(texts) - 1, rng.randint(2, 4))):
            doc.paragraphs.append(plain(t))
        doc.paragraphs.append(plain(texts[-1]))
        doc.paragraphs.append(plain(self.vendor.contact))

    def _bank_and_footer(self, doc: DocContent, vname_f: str | None, addr_f: str | None, tax_f: tuple[str, ...],
                         tax_in_header: bool) -> None:
        rng, L, v, f = self.rng, self.L, self.vendor, self.fields
        vn = (vname_f,) if vname_f else ()
        iban_printed = doc.doc_type in ("invoice", "credit_note", "statement") and rng.random() < 0.75
        # the issuer's name only in the logo image, nowhere in the text: nothing to extract, the right answer is to
        # abstain (and not to take a product or the customer for the vendor)
        only_logo = doc.vendor_mode == "logo" and rng.random() < 0.15
        doc.flags["name_only_in_logo"] = only_logo
        must_name = doc.vendor_mode == "logo" and not only_logo
        if iban_printed and v.country not in IBAN_FORMATS:
            # no IBAN in the US, India, Canada, Australia: account number and a routing code instead
            iban_printed = False
            code = {"US": "ABA Routing No.", "IN": "IFSC", "CA": "Transit No.", "AU": "BSB"}.get(v.country, "Routing")
            digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([9, 10, 12, 14])))
            routing = (f"{rng.choice(['HDFC', 'ICIC', 'SBIN', 'UTIB'])}0{rng.randint(100000, 999999)}" if v.country == "IN"
                       else "".join(rng.choice("0123456789") for _ in range(9 if v.country == "US" else 6)))
            doc.bank = ([Row(L("account_holder"), [P(v.name, *vn, occ="vbk")])]
                        if (rng.random() < 0.6 or must_name) and not only_logo else [])
            doc.bank += [Row(L("bank"), plain(v.bank)), Row("Account No.", plain(digits)), Row(code, plain(routing))]
            if doc.bank[0].label == L("account_holder"):
                must_name = False
        if iban_printed:
            printed = group_iban(v.iban) if rng.random() < 0.7 else v.iban
            f["iban"] = v.iban
            bank = []
            if (rng.random() < 0.6 or must_name) and not only_logo:
                bank.append(Row(L("account_holder"), [P(v.name, *vn, occ="vbk")]))
            bank.append(Row(L("bank"), plain(v.bank)))
            bank.append(Row(L("iban"), [P(printed, "iban", occ="ib")]))
            bank.append(Row(L("bic"), plain(v.bic)))
            if v.country == "GB" and rng.random() < 0.6:
                bank.append(Row("Sort Code", plain(f"{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}")))
                bank.append(Row("Account No.", plain(v.iban[-8:])))
            doc.bank = bank
        if vname_f and "vendor_name" not in f and not only_logo:  # the truth holds what the text can give
            f["vendor_name"] = v.name
        if addr_f:
            f["vendor_address"] = ", ".join(v.lines)
        if tax_f:
            f["vendor_tax_id"] = v.tax_id
        if "customer_name" not in f and doc.customer_block and any("customer_name" in p[1] for c in doc.customer_block for p in c):
            f["customer_name"] = self.customer.name
        footer: list[Cell] = []
        style = rng.random()
        if only_logo:
            footer.append([P(x, *((addr_f,) if addr_f else ()), occ="vfa") for x in v.lines])
        elif style < 0.75 or must_name:
            line: Cell = [P(v.name, *vn, occ="vf")]
            line += [P("·")] + [P(x, *((addr_f,) if addr_f else ()), occ="vfa") for x in v.lines]
            footer.append(line)
        if vname_f and not only_logo and rng.random() < 0.15:  # the issuer named in running text: "... sold by X"
            before, after = rng.choice(ISSUER_SENTENCES.get(self.lang, ISSUER_SENTENCES["en"]))
            footer.append([p for p in (P(before) if before else None, P(v.name, *vn, occ="vs"),
                                       P(after) if after else None) if p])
        reg = [P(L.pick("registered")), P(v.registration)]
        if not tax_in_header or rng.random() < 0.5 or doc.doc_type not in ("invoice", "credit_note", "receipt"):
            reg += [P("·"), P(L("vat_id")), P(v.tax_id, *tax_f, occ="vt2")]
        footer.append(reg)
        if rng.random() < 0.5:
            footer.append(plain(f"{v.web} · {v.email}"))
        doc.footer = footer
        if doc.vendor_mode in ("logo", "logo_text") or rng.random() < 0.1:
            doc.flags["logo"] = True


# running text that names the issuer (the name stands between the two parts)
ISSUER_SENTENCES: dict[str, list[tuple[str, str]]] = {
    "en": [("All services are sold by", ""), ("This invoice is issued by", "on behalf of its group"),
           ("Goods remain the property of", "until paid in full"), ("", "is registered for VAT"),
           ("Products and services provided by", "")],
    "de": [("Alle Leistungen erbracht von", ""), ("Die Ware bleibt bis zur vollständigen Bezahlung Eigentum der", ""),
           ("Es gelten die Allgemeinen Geschäftsbedingungen der", "")],
    "fr": [("Prestations fournies par", ""), ("Facture émise par", "pour son compte"),
           ("Les marchandises restent la propriété de", "jusqu'au paiement intégral")],
    "nl": [("Diensten geleverd door", ""), ("Op alle leveringen zijn de voorwaarden van", "van toepassing")],
    "es": [("Servicios prestados por", ""), ("La mercancía es propiedad de", "hasta su pago completo")],
    "it": [("Servizi forniti da", ""), ("La merce resta di proprietà di", "fino al saldo")],
    "pl": [("Usługi świadczone przez", ""), ("Towar pozostaje własnością", "do pełnej zapłaty")],
}


def _num(x: Decimal) -> str:
    s = f"{x:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s
