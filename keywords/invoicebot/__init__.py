"""invoicebot: the document engine of the invoice robot (no Robot Framework imports here)."""

__version__ = "0.1.0"
