"""Generated vendors and customers: names, legal forms, addresses, tax ids, IBANs (valid checksums).

Nothing here comes from real documents: names are built from syllables and word lists, numbers
from the random generator of the corpus seed.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

SYLLABLES = ["ka", "ro", "vel", "mar", "tri", "lo", "zen", "quo", "bra", "dex", "ny", "sol", "ter", "vi", "an",
             "mo", "lux", "pra", "gen", "tor", "el", "is", "co", "ra", "fin", "dor", "sa", "li", "ber", "nu", "ox",
             "ta", "ven", "ha", "kor", "mi", "del", "ste", "qua", "ri", "ul", "po", "gra", "ne", "vo", "tek", "sy"]
WORDS_A = ["Blue", "North", "Green", "Silver", "Bright", "Alpine", "Coastal", "Urban", "Prime", "Swift", "Solid",
           "Clear", "Golden", "Iron", "Royal", "Metro", "Nova", "Atlas", "Summit", "Oak", "Red", "Quick"]
WORDS_B = ["Harbor", "Peak", "Field", "Bridge", "Stone", "River", "Line", "Point", "Gate", "Wave", "Works", "Forge",
           "Leaf", "Path", "Light", "Ridge", "Lake", "Cloud", "Tower", "Mill"]
TRADES: dict[str, list[str]] = {
    "en": ["Systems", "Solutions", "Consulting", "Logistics", "Trading", "Services", "Media", "Software", "Foods",
           "Print", "Energy", "Engineering", "Supplies", "Digital", "Hosting", "Design", "Labs", "Group"],
    "de": ["Systeme", "Logistik", "Technik", "Handel", "Bau", "Medien", "Software", "Beratung", "Energie", "Druck",
           "Elektro", "Service", "Werkzeuge", "Gastro", "Immobilien"],
    "fr": ["Conseil", "Services", "Logistique", "Informatique", "Distribution", "Bâtiment", "Médias", "Transports",
           "Énergie", "Imprimerie", "Solutions"],
    "nl": ["Bouw", "Techniek", "Logistiek", "Handel", "Advies", "Installatie", "Media", "Software", "Groep",
           "Diensten", "Print"],
    "es": ["Servicios", "Soluciones", "Logística", "Distribuciones", "Construcciones", "Informática", "Consultores",
           "Suministros", "Energía"],
    "it": ["Servizi", "Soluzioni", "Logistica", "Costruzioni", "Informatica", "Forniture", "Consulenze",
           "Impianti", "Trasporti", "Commerciale"],
    "pl": ["Usługi", "Systemy", "Logistyka", "Handel", "Budownictwo", "Technika", "Doradztwo", "Transport",
           "Serwis", "Media"],
}
# trades whose words are also field labels ("Web", "Payments", "Delivery", "Data", "Mobile"): the candidate
# generator cuts names at labels, and the pieces ("Hosting, Inc." of "Acme Web Hosting, Inc.") must be learnt as
# what they are, parts of a name
LABEL_WORD_TRADES = ["Web Hosting", "Web Design", "Payments", "Mobile", "Data Systems", "Freight", "Delivery",
                     "Shipping", "Internet", "Phone Systems", "Bank", "Data", "Order Solutions", "Tax Advisors"]
# legal forms often written after a comma ("Example Services, Inc.")
COMMA_FORMS = {"Inc.", "Inc", "LLC", "Corp.", "Co.", "Ltd", "Ltd.", "Limited", "Pvt. Ltd.", "Pvt Ltd", "Private Limited",
               "LLP", "PLC", "Pty Ltd"}
LEGAL_FORMS: dict[str, list[str]] = {
    "DE": ["GmbH", "GmbH", "AG", "UG (haftungsbeschränkt)", "GmbH & Co. KG", "e.K.", "KG"],
    "AT": ["GmbH", "AG", "OG", "KG"], "CH": ["AG", "GmbH", "SA", "Sàrl"],
    "FR": ["SARL", "SAS", "SA", "EURL", "SASU"], "BE": ["BV", "NV", "SRL", "SA", "BVBA"],
    "NL": ["B.V.", "B.V.", "N.V.", "V.O.F."], "ES": ["S.L.", "S.L.", "S.A.", "S.L.U."],
    "IT": ["S.r.l.", "S.r.l.", "S.p.A.", "S.n.c.", "S.a.s."], "PL": ["Sp. z o.o.", "Sp. z o.o.", "S.A.", "sp.j.", "sp.k."],
    "GB": ["Ltd", "Ltd", "Limited", "PLC", "LLP"], "IE": ["Ltd", "Limited", "DAC"],
    "US": ["Inc.", "LLC", "Corp.", "Co.", "Inc"], "IN": ["Pvt. Ltd.", "Private Limited", "LLP", "Pvt Ltd"],
    "CA": ["Inc.", "Ltd.", "Corp."], "AU": ["Pty Ltd", "Pty. Ltd."], "SE": ["AB", "AB"],
}
FIRST_NAMES: dict[str, list[str]] = {
    "en": ["James", "Emily", "Oliver", "Sophie", "Daniel", "Grace", "Michael", "Hannah", "Ravi", "Priya", "Arjun",
           "Anita", "Liam", "Chloe", "Ethan", "Ava"],
    "de": ["Hans", "Katrin", "Jürgen", "Monika", "Lukas", "Anna", "Stefan", "Julia", "Thomas", "Sabine"],
    "fr": ["Pierre", "Camille", "Julien", "Sophie", "Nicolas", "Claire", "Antoine", "Élodie", "Hugo", "Manon"],
    "nl": ["Jan", "Sanne", "Pieter", "Femke", "Bram", "Lotte", "Daan", "Eva", "Joost", "Anouk"],
    "es": ["Javier", "Lucía", "Carlos", "María", "Pablo", "Carmen", "Alejandro", "Elena", "Diego", "Marta"],
    "it": ["Marco", "Giulia", "Luca", "Francesca", "Matteo", "Chiara", "Alessandro", "Sara", "Davide", "Elena"],
    "pl": ["Jan", "Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Michał", "Ewa"],
}
LAST_NAMES: dict[str, list[str]] = {
    "en": ["Walker", "Bennett", "Hughes", "Carter", "Fletcher", "Sharma", "Patel", "Iyer", "Reddy", "Morgan",
           "Turner", "Hayes", "Brooks", "Price"],
    "de": ["Becker", "Hoffmann", "Schulz", "Wagner", "Krämer", "Neumann", "Vogel", "Brandt", "Hartmann", "Lorenz"],
    "fr": ["Lefèvre", "Moreau", "Girard", "Fournier", "Bonnet", "Mercier", "Roussel", "Dupuis", "Garnier", "Chevalier"],
    "nl": ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Mulder", "de Boer", "Vermeulen", "Hendriks", "Dekker"],
    "es": ["García", "Martínez", "López", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz", "Molina", "Castro"],
    "it": ["Rossi", "Bianchi", "Esposito", "Ferrari", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno"],
    "pl": ["Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański",
           "Dąbrowski", "Kaczmarek"],
}
SOLE_TRADER: dict[str, list[str]] = {
    "en": ["{n} Plumbing", "{n} Photography", "{n} & Sons", "{n} Design Studio", "{n} Consulting"],
    "de": ["{n} Malerbetrieb", "{n} e.K.", "Elektro {l}", "{n} Fotografie", "Tischlerei {l}"],
    "fr": ["{n} Plomberie", "Atelier {l}", "{n} Photographe", "Boulangerie {l}"],
    "nl": ["Schildersbedrijf {l}", "{n} Fotografie", "Klusbedrijf {l}", "{n} Advies"],
    "es": ["Fontanería {l}", "{n} Fotografía", "Talleres {l}", "{n} Asesoría"],
    "it": ["Idraulica {l}", "{n} Fotografo", "Officina {l}", "Studio {n}"],
    "pl": ["{n} Usługi Remontowe", "Zakład Usługowy {n}", "{n} Fotografia", "F.H.U. {n}"],
}
CITIES: dict[str, list[str]] = {
    "DE": ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig", "Dortmund", "Bremen"],
    "AT": ["Wien", "Graz", "Linz", "Salzburg", "Innsbruck"], "CH": ["Zürich", "Basel", "Bern", "Genève", "Luzern"],
    "FR": ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux", "Strasbourg"],
    "BE": ["Brussel", "Antwerpen", "Gent", "Liège", "Namur"], "NL": ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven",
                                                                     "Den Haag", "Groningen", "Tilburg"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga", "Zaragoza"],
    "IT": ["Milano", "Roma", "Torino", "Bologna", "Firenze", "Napoli", "Verona", "Padova"],
    "PL": ["Warszawa", "Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź", "Katowice"],
    "GB": ["London", "Manchester", "Leeds", "Bristol", "Birmingham", "Glasgow", "Reading"],
    "IE": ["Dublin", "Cork", "Galway", "Limerick"], "US": ["Austin", "Denver", "Seattle", "Chicago", "Boston",
                                                           "Portland", "Atlanta", "San Jose"],
    "IN": ["Mumbai", "Bengaluru", "Chennai", "Pune", "Hyderabad", "New Delhi", "Kolkata", "Ahmedabad"],
    "CA": ["Toronto", "Ottawa", "Vancouver", "Calgary"], "AU": ["Sydney", "Melbourne", "Brisbane", "Perth"],
    "SE": ["Stockholm", "Göteborg", "Malmö", "Uppsala"],
}
US_STATES = {"Austin": "TX", "Denver": "CO", "Seattle": "WA", "Chicago": "IL", "Boston": "MA", "Portland": "OR",
             "Atlanta": "GA", "San Jose": "CA"}
IN_STATES = {"Mumbai": "Maharashtra", "Pune": "Maharashtra", "Bengaluru": "Karnataka", "Chennai": "Tamil Nadu",
             "Hyderabad": "Telangana", "New Delhi": "Delhi", "Kolkata": "West Bengal", "Ahmedabad": "Gujarat"}
STREET_ROOTS = ["Linden", "Garten", "Mühlen", "Berg", "Rosen", "Wald", "Kirch", "Markt", "Birken", "Schiller",
                "Oak", "Maple", "Mill", "Church", "Station", "Park", "King", "Victoria", "Hill", "Bridge"]
STREETS: dict[str, list[str]] = {
    "de": ["{r}straße {n}", "{r}weg {n}", "{r}allee {n}", "Am {r}hof {n}", "{r}ring {n}", "{r}str. {n}"],
    "en": ["{n} {r} Road", "{n} {r} Street", "{n} {r} Lane", "Unit {n}, {r} Business Park", "{n} {r} Avenue"],
    "fr": ["{n} rue des {r}s", "{n}, avenue {r}", "{n} boulevard {r}", "{n} chemin du {r}"],
    "nl": ["{r}straat {n}", "{r}laan {n}", "{r}weg {n}", "{r}plein {n}"],
    "es": ["Calle {r} {n}", "Avda. {r}, {n}", "C/ {r}, {n}", "Paseo {r} {n}"],
    "it": ["Via {r} {n}", "Viale {r}, {n}", "Corso {r} {n}", "Piazza {r} {n}"],
    "pl": ["ul. {r}owa {n}", "ul. {r}ska {n}", "al. {r}owa {n}/{m}"],
}


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))


IBAN_FORMATS: dict[str, str] = {  # BBAN pattern: n = digit, a = letter, c = letter or digit
    "DE": "nnnnnnnnnnnnnnnnnn", "AT": "nnnnnnnnnnnnnnnn", "CH": "nnnnncccccccccccc", "FR": "nnnnnnnnnncccccccccccnn",
    "BE": "nnnnnnnnnnnn", "NL": "aaaannnnnnnnnn", "ES": "nnnnnnnnnnnnnnnnnnnn", "IT": "annnnnnnnnncccccccccccc",
    "PL": "nnnnnnnnnnnnnnnnnnnnnnnn", "GB": "aaaannnnnnnnnnnnnn", "IE": "aaaannnnnnnnnnnnnn", "SE": "nnnnnnnnnnnnnnnnnnnn",
}


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def make_iban(rng: random.Random, country: str) -> str:
    pattern = IBAN_FORMATS.get(country, IBAN_FORMATS["DE"])
    code = country if country in IBAN_FORMATS else "DE"
    bban = "".join(rng.choice(string.digits) if p == "n" else rng.choice(string.ascii_uppercase) if p == "a"
                   else rng.choice(string.ascii_uppercase + string.digits) for p in pattern)
    return code + iban_check_digits(code, bban) + bban


def group_iban(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def make_tax_id(rng: random.Random, country: str) -> str:
    d = lambda n: _digits(rng, n)  # noqa: E731
    return {
        "DE": f"DE{d(9)}", "AT": f"ATU{d(8)}", "CH": f"CHE-{d(3)}.{d(3)}.{d(3)} MWST",
        "FR": f"FR{d(2)}{d(9)}", "BE": f"BE0{d(9)}", "NL": f"NL{d(9)}B{d(2)}", "ES": f"ES{_letters(rng, 1)}{d(8)}",
        "IT": f"IT{d(11)}", "PL": rng.choice([f"PL{d(10)}", f"{d(3)}-{d(3)}-{d(2)}-{d(2)}", d(10)]),
        "GB": rng.choice([f"GB{d(9)}", f"GB {d(3)} {d(4)} {d(2)}"]), "IE": f"IE{d(7)}{_letters(rng, 1)}",
        "US": f"{d(2)}-{d(7)}", "IN": f"{d(2)}{_letters(rng, 5)}{d(4)}{_letters(rng, 1)}1Z{d(1)}",
        "CA": f"{d(9)}RT0001", "AU": f"{d(2)} {d(3)} {d(3)} {d(3)}", "SE": f"SE{d(10)}01",
    }[country]


@dataclass
class Party:
    id: str
    name: str
    short: str  # what a logo shows
    country: str
    lang: str
    lines: list[str]  # address lines, without the name
    tax_id: str
    iban: str
    bic: str
    bank: str
    email: str
    phone: str
    web: str
    registration: str
    contact: str
    logo_style: dict = field(default_factory=dict)
    is_person: bool = False

    @property
    def address(self) -> str:
        return ", ".join(self.lines)


def company_name(rng: random.Random, country: str, lang: str) -> tuple[str, str, bool]:
    """Return (full name, short name for a logo, is a sole trader)."""
    r = rng.random()
    form = rng.choice(LEGAL_FORMS[country])
    if r < 0.14:
        first = rng.choice(FIRST_NAMES[lang])
        last = rng.choice(LAST_NAMES[lang])
        pattern = rng.choice(SOLE_TRADER[lang])
        name = pattern.format(n=f"{first} {last}", l=last)
        return name, last, True
    if r < 0.55:
        root = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice([2, 2, 3]))).capitalize()
        if rng.random() < 0.3:
            root += rng.choice(["ix", "on", "a", "io", "ex", "um", "is"])
        trade = rng.choice(TRADES[lang]) if rng.random() < 0.6 else ""
        if rng.random() < 0.15:
            trade = rng.choice(LABEL_WORD_TRADES)
        short = root
        name = " ".join(p for p in (root, trade, form) if p)
    elif r < 0.85:
        a, b = rng.choice(WORDS_A), rng.choice(WORDS_B)
        joined = rng.random() < 0.4
        short = a + b if joined else f"{a} {b}"
        trade = rng.choice(TRADES[lang if rng.random() < 0.6 else "en"]) if rng.random() < 0.6 else ""
        if rng.random() < 0.15:
            trade = rng.choice(LABEL_WORD_TRADES)
        name = " ".join(p for p in (short, trade, form) if p)
    else:
        letters = _letters(rng, rng.choice([2, 3, 3, 4]))
        trade = rng.choice(TRADES[lang])
        short = letters
        name = f"{letters} {trade} {form}"
    if form in COMMA_FORMS and name.endswith(" " + form) and rng.random() < 0.4:
        name = name[: -len(form) - 1] + ", " + form
    return name, short, False


def make_address(rng: random.Random, country: str, lang: str) -> list[str]:
    city = rng.choice(CITIES[country])
    street_lang = lang if lang in STREETS else "en"
    if country in ("BE", "CH"):
        street_lang = lang
    street = rng.choice(STREETS[street_lang]).format(r=rng.choice(STREET_ROOTS), n=rng.randint(1, 180),
                                                     m=rng.randint(1, 40))
    d = lambda n: _digits(rng, n)  # noqa: E731
    pc = {
        "DE": f"{d(5)} {city}", "AT": f"{rng.randint(1000, 9999)} {city}", "CH": f"CH-{rng.randint(1000, 9999)} {city}",
        "FR": f"{d(5)} {city.upper() if rng.random() < 0.5 else city}", "BE": f"{rng.randint(1000, 9999)} {city}",
        "NL": f"{rng.randint(1000, 9999)} {_letters(rng, 2)} {city}", "ES": f"{d(5)} {city}",
        "IT": f"{d(5)} {city} ({_letters(rng, 2)})", "PL": f"{d(2)}-{d(3)} {city}",
        "GB": f"{city}\n{_letters(rng, 2)}{rng.randint(1, 20)} {rng.randint(1, 9)}{_letters(rng, 2)}",
        "IE": f"{city}\n{_letters(rng, 1)}{d(2)} {_letters(rng, 1)}{d(3)}",
        "US": f"{city}, {US_STATES.get(city, 'NY')} {d(5)}",
        "IN": f"{city} - {rng.randint(100000, 999999)}\n{IN_STATES.get(city, 'Maharashtra')}",
        "CA": f"{city}, ON {_letters(rng, 1)}{d(1)}{_letters(rng, 1)} {d(1)}{_letters(rng, 1)}{d(1)}",
        "AU": f"{city} NSW {rng.randint(2000, 2999)}", "SE": f"{d(3)} {d(2)} {city}",
    }[country]
    lines = [street] + pc.split("\n")
    if rng.random() < 0.35 and country not in ("US",):
        lines.append({"DE": "Deutschland", "AT": "Österreich", "CH": "Schweiz", "FR": "France", "BE": "Belgique",
                      "NL": "Nederland", "ES": "España", "IT": "Italia", "PL": "Polska", "GB": "United Kingdom",
                      "IE": "Ireland", "IN": "India", "CA": "Canada", "AU": "Australia", "SE": "Sweden"}[country])
    return lines


def make_party(rng: random.Random, pid: str, country: str, lang: str, company: bool = True) -> Party:
    if company:
        name, short, person = company_name(rng, country, lang)
    else:
        name = f"{rng.choice(FIRST_NAMES[lang])} {rng.choice(LAST_NAMES[lang])}"
        short, person = name, True
    slug = "".join(ch for ch in short.lower() if ch.isalnum())[:14] or "mail"
    tld = {"GB": "co.uk", "US": "com", "IN": "in", "CA": "ca", "AU": "com.au"}.get(country, country.lower())
    iban = make_iban(rng, country)
    bank = rng.choice(["Stadtbank", "Volksbank", "Banque Populaire", "Rabobank", "Banco Sabadell", "Banca Intesa",
                       "PKO Bank Polski", "Barclays", "HDFC Bank", "First National Bank", "Raiffeisen", "ING"])
    reg = {"DE": f"HRB {rng.randint(1000, 99999)}", "FR": f"RCS {rng.choice(CITIES['FR'])} {_digits(rng, 9)}",
           "NL": f"KvK {_digits(rng, 8)}", "GB": f"{_digits(rng, 8)}", "IT": f"REA MI-{_digits(rng, 7)}",
           "PL": f"KRS {_digits(rng, 10)}", "ES": f"Tomo {rng.randint(1000, 9999)}, Hoja M-{_digits(rng, 6)}",
           "IN": f"CIN U{_digits(rng, 5)}MH{_digits(rng, 4)}PTC{_digits(rng, 6)}"}.get(country, f"{_digits(rng, 9)}")
    hue = rng.randint(0, 359)
    return Party(
        id=pid, name=name, short=short, country=country, lang=lang, lines=make_address(rng, country, lang),
        tax_id=make_tax_id(rng, country), iban=iban, bic=_letters(rng, 4) + country[:2] + _letters(rng, 2),
        bank=bank, email=f"{rng.choice(['info', 'billing', 'accounts', 'invoices', 'hello'])}@{slug}.{tld}",
        phone=f"+{rng.choice(['49', '33', '31', '34', '39', '48', '44', '1', '91'])} {_digits(rng, 3)} {_digits(rng, 6)}",
        web=f"www.{slug}.{tld}", registration=reg,
        contact=f"{rng.choice(FIRST_NAMES[lang])} {rng.choice(LAST_NAMES[lang])}",
        logo_style={"hue": hue, "shape": rng.choice(["circle", "square", "bar", "none", "diamond"]),
                    "font": rng.choice(["DejaVuSans-Bold", "DejaVuSerif-Bold", "LiberationSans-Bold",
                                        "LiberationSerif-Bold", "DejaVuSansCondensed-Bold"]),
                    "upper": rng.random() < 0.4},
        is_person=person,
    )
