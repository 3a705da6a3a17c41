"""Robot library for tests and the benchmark: look into Tryton behind the UI's back, through proteus.

Reads what the accounting system really holds (XML-RPC at /<db>/rpc/ with the admin login), so a
test can check the UI keying against the database, and makes seeded test invoices.  Not used by
the robot itself.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

SUPPLIERS = ("QualityHosting AG", "Coolblue B.V.", "NETPRESSE", "Amazon Web Services", "Azure Interior",
             "Acme Office Supplies Ltd", "Nordwind Logistik GmbH", "Papeterie Dubois SARL",
             "Van Dijk Schoonmaak B.V.", "Kowalski Serwis Sp. z o.o.", "Rossi Forniture S.r.l.")
RATES = ("21", "20", "19", "10", "9", "7", "0")
CURRENCIES = ("EUR", "EUR", "EUR", "USD", "GBP")


class TrytonCheck:
    ROBOT_LIBRARY_SCOPE = "GLOBAL"

    def __init__(self) -> None:
        self._config: Any = None

    def _connect(self) -> Any:
        if self._config is None:
            from proteus import config

            host = os.environ.get("INVOICEBOT_TRYTON_HOST", "127.0.0.1")
            port = os.environ.get("INVOICEBOT_TRYTON_PORT", "8469")
            db = os.environ.get("INVOICEBOT_TRYTON_DB", "invoicebot")
            user = os.environ.get("INVOICEBOT_TRYTON_USER", "admin")
            password = os.environ.get("INVOICEBOT_TRYTON_PASSWORD", "invoicebot-admin")
            url = f"http://{quote(user)}:{quote(password)}@{host}:{port}/{db}/rpc/"
            self._config = config.set_xmlrpc(url)
        return self._config

    def supplier_invoices(self, marker_prefix: str = "", reference_prefix: str = "") -> list[dict[str, Any]]:
        """Supplier invoices whose description starts with ``marker_prefix`` / reference with ``reference_prefix``."""
        from proteus import Model

        self._connect()
        Invoice = Model.get("account.invoice")
        domain: list[Any] = [("type", "=", "in")]
        if marker_prefix:
            domain.append(("description", "like", f"{marker_prefix}%"))
        if reference_prefix:
            domain.append(("reference", "like", f"{reference_prefix}%"))
        out = []
        for inv in Invoice.find(domain, order=[("id", "ASC")]):
            out.append({
                "id": inv.id, "supplier": inv.party.name, "reference": inv.reference or "",
                "invoice_date": inv.invoice_date.isoformat() if inv.invoice_date else "",
                "currency": inv.currency.code, "untaxed_amount": str(inv.untaxed_amount),
                "tax_amount": str(inv.tax_amount), "total_amount": str(inv.total_amount),
                "state": inv.state, "description": inv.description or "", "line_count": len(inv.lines),
            })
        return out

    def count_supplier_invoices(self, reference_prefix: str, state: str = "") -> int:
        """How many supplier invoices have a reference starting with ``reference_prefix`` (one request)."""
        from proteus import Model

        self._connect()
        domain: list[Any] = [("type", "=", "in"), ("reference", "like", f"{reference_prefix}%")]
        if state:
            domain.append(("state", "=", state))
        return len(Model.get("account.invoice").find(domain))  # one search; records are read lazily

    def end_processes_using(self, path: str) -> list[int]:
        """SIGKILL the processes whose command line names ``path`` (the browser of a killed robot run)."""
        import signal
        from pathlib import Path

        ended = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if path in cmdline:
                try:
                    os.kill(int(proc.name), signal.SIGKILL)
                    ended.append(int(proc.name))
                except ProcessLookupError:
                    pass
        return ended

    def make_test_invoices(self, count: int, run_id: str, seed: int = 7, lines: int = 1) -> list[dict[str, Any]]:
        """``count`` invoice value dicts (the engine's field names) with references ``<run_id>-NNN``."""
        rnd = random.Random(f"{seed}-{run_id}")
        out = []
        for i in range(int(count)):
            rate = Decimal(rnd.choice(RATES))
            items = []
            untaxed = Decimal(0)
            for _ in range(int(lines)):
                qty = Decimal(rnd.choice((1, 1, 2, 3, 5, 12)))
                price = (Decimal(rnd.randint(100, 250000)) / 100).quantize(Decimal("0.01"))
                amount = (qty * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                untaxed += amount
                items.append({"description": f"Item {len(items) + 1}", "quantity": str(qty),
                              "unit_price": str(price), "amount": str(amount)})
            # Tryton rounds taxes half-even (currency rounding); a vendor rounding half-up goes to review
            tax = (untaxed * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            date = dt.date(2024, 1, 1) + dt.timedelta(days=rnd.randint(0, 700))
            due = date + dt.timedelta(days=rnd.choice((0, 14, 30, 30, 45)))
            out.append({
                "vendor_name": rnd.choice(SUPPLIERS),
                "invoice_number": f"{run_id}-{i + 1:03d}",
                "invoice_date": date.isoformat(),
                "due_date": due.isoformat(),
                "currency": rnd.choice(CURRENCIES),
                "subtotal_amount": str(untaxed),
                "tax_amount": str(tax),
                "total_amount": str(untaxed + tax),
                "line_items": items if int(lines) > 1 else [],
            })
        return out

    def write_work_items(self, invoices: list[dict[str, Any]], path: str) -> str:
        """Write ``invoices`` as a local work-item queue (RPA.Robocorp.WorkItems FileAdapter format)."""
        import json
        from pathlib import Path

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        items = [{"payload": {"invoice": inv}, "files": {}} for inv in invoices]
        target.write_text(json.dumps(items, indent=1), encoding="utf-8")
        return str(target)

    def read_work_item_outputs(self, path: str) -> list[dict[str, Any]]:
        """The output work items a worker run wrote (payloads), in order; [] when the file is missing."""
        import json
        from pathlib import Path

        target = Path(path)
        if not target.is_file():
            return []
        return [item.get("payload") or {} for item in json.loads(target.read_text(encoding="utf-8"))]
