"""Fill a freshly created Tryton database with what supplier invoices need (run by init_db.sh).

Company, currencies with rates, minimal chart of accounts, fiscal years with invoice sequences and
periods, supplier taxes, one expense product per tax, payment terms and suppliers, all from
master_data.json.  Runs inside .venv-tryton through proteus on the trytond modules (no server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from decimal import Decimal

from proteus import Model
from proteus import config as pconfig
from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
from trytond.modules.company.tests.tools import create_company, get_company


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    with open(args.data, encoding="utf-8") as fh:
        data = json.load(fh)

    cfg = pconfig.set_trytond(args.database, config_file=args.config)

    Currency = Model.get("currency.currency")
    rate_date = dt.date.fromisoformat(data["currency_rate_date"])
    for code, rate in data["currencies"].items():
        existing = Currency.find([("code", "=", code)])
        currency = existing[0] if existing else Currency(name=code, code=code, symbol=code)
        if not existing:
            currency.rounding = Decimal("0.01")
        if not any(r.date == rate_date for r in currency.rates):
            currency.rates.new(date=rate_date, rate=Decimal(rate))
        currency.save()

    Party = Model.get("party.party")
    company_party = Party(name=data["company"]["name"])
    company_party.save()
    eur, = Currency.find([("code", "=", data["company"]["currency"])])
    create_company(party=company_party, currency=eur, config=cfg)
    company = get_company()
    create_chart(company)
    accounts = get_accounts(company)

    # Invoices in another currency than the company's post their rounding difference here.
    AccountConfiguration = Model.get("account.configuration")
    account_config = AccountConfiguration(1)
    account_config.currency_exchange_debit_account = accounts["expense"]
    account_config.currency_exchange_credit_account = accounts["revenue"]
    account_config.save()

    last = dt.date.today().year + int(data["fiscal_years"]["last_after_today"])
    for year in range(int(data["fiscal_years"]["first"]), last + 1):
        fy = set_fiscalyear_invoice_sequences(
            create_fiscalyear(company, (dt.date(year, 1, 1), dt.date(year, 12, 31))))
        fy.save()
        fy.click("create_period")

    Tax = Model.get("account.tax")
    Category = Model.get("product.category")
    Uom = Model.get("product.uom")
    Template = Model.get("product.template")
    unit, = Uom.find([("name", "=", "Unit")])

    def product(name: str, tax: object | None) -> None:
        category = Category(name=name, accounting=True)
        category.account_expense = accounts["expense"]
        category.account_revenue = accounts["revenue"]
        if tax is not None:
            category.supplier_taxes.append(tax)
        category.save()
        template = Template(name=name, default_uom=unit, type="service", list_price=Decimal(0))
        template.account_category = category
        template.save()

    for spec in data["supplier_taxes"]:
        tax = Tax(name=spec["name"], description=spec["name"], type="percentage", rate=Decimal(spec["rate"]))
        tax.invoice_account = accounts["tax"]
        tax.credit_note_account = accounts["tax"]
        tax.save()
        product(data["expense_product_name"].format(tax=spec["name"]), tax)
    product(data["untaxed_product_name"], None)

    Term = Model.get("account.invoice.payment_term")
    for spec in data["payment_terms"]:
        term = Term(name=spec["name"])
        line = term.lines.new(type="remainder")
        if spec["days"] or spec.get("end_of_month"):
            delta = line.relativedeltas.new(days=spec["days"])
            if spec.get("end_of_month"):
                delta.day = 31
        term.save()

    for name in data["suppliers"]:
        Party(name=name).save()
    # The setup that sao's Module Configuration wizard would ask for is done above: mark it done.
    Item = Model.get("ir.module.config_wizard.item")
    for item in Item.find([("state", "!=", "done")]):
        item.state = "done"
        item.save()
    print(f"tryton: database {args.database} ready: company {company.rec_name}, "
          f"{len(data['supplier_taxes'])} supplier taxes, {len(data['suppliers'])} suppliers")


if __name__ == "__main__":
    main()
