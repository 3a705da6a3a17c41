"""Fields a confidently classified document does not carry are left out (schema.FIELDS_BY_DOCUMENT_TYPE)."""

from __future__ import annotations

from invoicebot.pipeline import TYPE_TRUSTED_FROM, restrict_to_document_type
from invoicebot.schema import DOCUMENT_TYPES, FIELDS_BY_DOCUMENT_TYPE, HEADER_FIELDS, INVOICE_LIKE_TYPES, ExtractedField

FIELDS = {name: ExtractedField("x", 0.9) for name in ("invoice_number", "invoice_date", "vendor_name", "total_amount",
                                                      "po_number", "currency")}


def test_every_type_has_its_fields_and_invoice_like_types_have_all():
    assert set(FIELDS_BY_DOCUMENT_TYPE) == set(DOCUMENT_TYPES)
    for t in INVOICE_LIKE_TYPES:
        assert FIELDS_BY_DOCUMENT_TYPE[t] == set(HEADER_FIELDS)
    assert all(f <= set(HEADER_FIELDS) for f in FIELDS_BY_DOCUMENT_TYPE.values())


def test_a_confident_purchase_order_keeps_only_its_own_fields():
    kept = restrict_to_document_type(FIELDS, "purchase_order", 0.95)
    assert set(kept) == {"po_number", "total_amount", "currency"}
    assert restrict_to_document_type(FIELDS, "other", 0.9) == {}


def test_an_unsure_type_costs_no_field():
    assert restrict_to_document_type(FIELDS, "purchase_order", TYPE_TRUSTED_FROM - 0.01) == FIELDS
    assert restrict_to_document_type(FIELDS, "invoice", 0.99) == FIELDS
    assert restrict_to_document_type(FIELDS, None, 0.0) == FIELDS

