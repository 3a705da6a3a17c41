"""Label phrases printed next to values, per language.

Two sources, mixed: the project vocabulary (``invoicebot.vocabulary.load_vocabulary()``, when it is
installed and readable) and the local phrase lists below.  The local lists deliberately hold
variants the vocabulary may not have (abbreviations, other casing and punctuation) so that a model
trained on the corpus does not merely memorise the vocabulary.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

L = dict[str, list[str]]

PHRASES: dict[str, L] = {
    "en": {
        "invoice": ["Invoice", "INVOICE", "Tax Invoice", "TAX INVOICE", "Invoice", "Commercial Invoice", "Bill"],
        "credit_note": ["Credit Note", "CREDIT NOTE", "Credit Memo", "Credit Invoice"],
        "purchase_order": ["Purchase Order", "PURCHASE ORDER", "Order", "PO"],
        "receipt": ["Receipt", "RECEIPT", "Sales Receipt", "Payment Receipt", "Cash Receipt"],
        "remittance_advice": ["Remittance Advice", "REMITTANCE ADVICE", "Payment Advice", "Remittance"],
        "statement": ["Statement", "Account Statement", "STATEMENT OF ACCOUNT", "Statement of Account"],
        "invoice_number": ["Invoice No.", "Invoice Number", "Invoice #", "Inv. No.", "INVOICE NO", "Invoice no",
                           "Invoice ID", "Bill No.", "Document No.", "Number", "Ref.", "Invoice Ref"],
        "credit_number": ["Credit Note No.", "Credit Memo #", "Credit No."],
        "invoice_date": ["Invoice Date", "Date", "Date of Issue", "Issue Date", "Invoice date", "INVOICE DATE",
                         "Dated", "Billing Date", "Tax Point"],
        "due_date": ["Due Date", "Payment Due", "Due", "Pay By", "DUE DATE", "Due date", "Payment due date"],
        "delivery_date": ["Delivery Date", "Date of Supply", "Ship Date", "Shipped", "Dispatch Date"],
        "order_date": ["Order Date", "Ordered", "PO Date"],
        "service_period": ["Service Period", "Billing Period", "Period"],
        "po_number": ["PO Number", "PO #", "P.O. No.", "Purchase Order", "Your Order No.", "PO", "Order Ref."],
        "customer_no": ["Customer No.", "Customer ID", "Account No.", "Client No.", "Customer #", "Acct #"],
        "order_no": ["Order No.", "Order Number", "Sales Order", "Order #"],
        "contract_no": ["Contract No.", "Agreement No."],
        "delivery_note": ["Delivery Note", "Packing Slip No.", "Dispatch Note"],
        "booking_id": ["Booking ID", "Reservation No.", "Ticket No."],
        "vat_id": ["VAT No.", "VAT Reg. No.", "VAT Number", "Tax ID", "VAT ID", "GSTIN", "EIN", "ABN", "Tax Reg. No."],
        "bill_to": ["Bill To", "Billed To", "Invoice To", "BILL TO", "Customer", "Sold To", "To"],
        "ship_to": ["Ship To", "Deliver To", "Delivery Address", "SHIP TO"],
        "description": ["Description", "Item", "Product", "Service", "DESCRIPTION", "Item Description", "Details"],
        "qty": ["Qty", "Quantity", "QTY", "Units", "Hrs", "Qty."],
        "unit_price": ["Unit Price", "Price", "Rate", "Unit Cost", "Price/Unit", "UNIT PRICE"],
        "amount": ["Amount", "Total", "Line Total", "AMOUNT", "Net Amount", "Value"],
        "subtotal": ["Subtotal", "Sub Total", "Sub-total", "Net Total", "Total excl. VAT", "Net Amount",
                     "SUBTOTAL", "Total before tax", "Taxable Value"],
        "tax": ["VAT", "Tax", "Sales Tax", "VAT Amount", "TAX", "GST"],
        "total": ["Total", "TOTAL", "Grand Total", "Invoice Total", "Total incl. VAT", "Total Amount", "Total (incl. tax)",
                  "Gross Amount", "Total Due"],
        "amount_due": ["Amount Due", "Balance Due", "AMOUNT DUE", "Please Pay", "Amount Payable", "Balance",
                       "Total Payable"],
        "paid": ["PAID", "Paid", "Payment Received", "PAID IN FULL"],
        "previous_balance": ["Previous Balance", "Balance Forward", "Opening Balance"],
        "payments_received": ["Payments Received", "Payment Received", "Less: Payments", "Amount Paid", "Paid"],
        "payment_terms": ["Payment Terms", "Terms", "TERMS", "Terms of Payment"],
        "bank": ["Bank", "Bank Name", "Bank Details", "Payment Details"],
        "iban": ["IBAN", "IBAN:", "Iban", "IBAN No."],
        "bic": ["BIC", "SWIFT", "SWIFT/BIC", "BIC/SWIFT"],
        "account_holder": ["Account Name", "Account Holder", "Beneficiary", "Payee"],
        "page": ["Page", "Page", "Pg."],
        "reverse_charge": ["Reverse charge", "Reverse charge: VAT to be accounted for by the recipient",
                           "VAT reverse charged", "Zero-rated intra-community supply"],
        "qtd": ["Quarter to Date", "QTD", "Quarter-to-date"],
        "ytd": ["Year to Date", "YTD", "Year-to-date"],
        "this_period": ["This Period", "Current", "Current Period"],
        "vat_rate": ["VAT Rate", "Rate", "Tax Rate", "%"],
        "net": ["Net", "Net Amount", "Taxable"],
        "gross": ["Gross", "Total"],
        "tax_summary": ["VAT Summary", "Tax Summary", "VAT Analysis"],
        "currency": ["Currency", "Currency:", "CCY"],
        "payment_date": ["Payment Date", "Paid On", "Value Date"],
        "paid_amount": ["Amount Paid", "Payment Amount", "Paid"],
        "total_paid": ["Total Paid", "Total Payment", "TOTAL REMITTED"],
        "your_ref": ["Your Ref.", "Your Reference"],
        "thanks": ["Thank you for your business!", "Thank you for your order.", "We appreciate your business.",
                   "Questions? Contact us any time."],
        "registered": ["Registered in England and Wales No.", "Company No.", "Registered office:", "Company Reg. No."],
        "cashier": ["Cashier", "Till", "Operator"],
        "change": ["Change", "Cash", "Card"],
        "supplier": ["Supplier", "Vendor", "To"],
        "deliver_by": ["Deliver By", "Required Date", "Delivery Date"],
        "dear": ["Dear Customer,", "Dear Sir or Madam,", "Hello,"],
    },
    "de": {
        "invoice": ["Rechnung", "RECHNUNG", "Rechnung", "Rechnung Nr.", "Proformarechnung"],
        "credit_note": ["Gutschrift", "GUTSCHRIFT", "Rechnungskorrektur", "Stornorechnung"],
        "purchase_order": ["Bestellung", "BESTELLUNG", "Auftrag", "Bestellschein"],
        "receipt": ["Quittung", "Kassenbon", "Beleg", "Zahlungsbeleg"],
        "remittance_advice": ["Zahlungsavis", "ZAHLUNGSAVIS", "Überweisungsavis"],
        "statement": ["Kontoauszug", "Kontoübersicht", "Saldenbestätigung"],
        "invoice_number": ["Rechnungsnummer", "Rechnungs-Nr.", "Rechnung Nr.", "Re.-Nr.", "RG-Nr.", "Nr.",
                           "Belegnummer", "Rechnungsnr."],
        "credit_number": ["Gutschrift-Nr.", "Gutschriftsnummer"],
        "invoice_date": ["Rechnungsdatum", "Datum", "Re.-Datum", "Belegdatum", "Ausstellungsdatum", "Datum:"],
        "due_date": ["Fälligkeitsdatum", "Fällig am", "Zahlbar bis", "Fälligkeit", "Zahlungsziel"],
        "delivery_date": ["Lieferdatum", "Leistungsdatum", "Liefertermin"],
        "order_date": ["Bestelldatum", "Auftragsdatum"],
        "service_period": ["Leistungszeitraum", "Abrechnungszeitraum"],
        "po_number": ["Bestellnummer", "Ihre Bestellung", "Bestell-Nr.", "Ihre Bestellnr.", "PO-Nr."],
        "customer_no": ["Kundennummer", "Kunden-Nr.", "Kd.-Nr.", "Debitor"],
        "order_no": ["Auftragsnummer", "Auftrags-Nr.", "Auftrag"],
        "contract_no": ["Vertragsnummer", "Vertrags-Nr."],
        "delivery_note": ["Lieferschein", "Lieferschein-Nr."],
        "booking_id": ["Buchungsnummer", "Vorgangsnummer"],
        "vat_id": ["USt-IdNr.", "USt-ID", "UID", "Steuernummer", "St.-Nr.", "USt.-Id.-Nr."],
        "bill_to": ["Rechnungsempfänger", "Rechnungsadresse", "An", "Kunde"],
        "ship_to": ["Lieferadresse", "Lieferanschrift", "Versandadresse"],
        "description": ["Bezeichnung", "Beschreibung", "Artikel", "Leistung", "Position"],
        "qty": ["Menge", "Anz.", "Anzahl", "Stk."],
        "unit_price": ["Einzelpreis", "E-Preis", "Preis", "Stückpreis", "EP"],
        "amount": ["Betrag", "Gesamtpreis", "Gesamt", "GP", "Summe"],
        "subtotal": ["Zwischensumme", "Nettobetrag", "Summe netto", "Netto", "Gesamt netto", "Warenwert"],
        "tax": ["MwSt.", "USt.", "Umsatzsteuer", "Mehrwertsteuer", "zzgl. MwSt."],
        "total": ["Gesamtbetrag", "Rechnungsbetrag", "Summe", "Gesamt brutto", "Endbetrag", "Bruttobetrag", "Total"],
        "amount_due": ["Zu zahlen", "Offener Betrag", "Zahlbetrag", "Zahlbetrag", "Restbetrag"],
        "paid": ["BEZAHLT", "Bezahlt", "Betrag dankend erhalten"],
        "previous_balance": ["Vorheriger Saldo", "Saldovortrag", "Alter Saldo"],
        "payments_received": ["Zahlungseingang", "Erhaltene Zahlungen", "Bereits bezahlt", "Anzahlung"],
        "payment_terms": ["Zahlungsbedingungen", "Zahlungsziel", "Konditionen"],
        "bank": ["Bankverbindung", "Bank", "Kreditinstitut"],
        "iban": ["IBAN", "IBAN:"],
        "bic": ["BIC", "SWIFT-BIC"],
        "account_holder": ["Kontoinhaber", "Empfänger", "Inhaber"],
        "page": ["Seite"],
        "reverse_charge": ["Steuerschuldnerschaft des Leistungsempfängers",
                           "Reverse Charge - Steuerschuldnerschaft des Leistungsempfängers",
                           "Innergemeinschaftliche Lieferung, steuerfrei gem. § 4 Nr. 1b UStG"],
        "qtd": ["Quartal bis heute", "Quartal kumuliert", "QTD"],
        "ytd": ["Jahr bis heute", "Jahr kumuliert", "lfd. Jahr"],
        "this_period": ["Aktuelle Periode", "Laufender Monat"],
        "vat_rate": ["MwSt.-Satz", "Steuersatz", "USt-Satz", "%"],
        "net": ["Netto", "Nettobetrag"],
        "gross": ["Brutto", "Bruttobetrag"],
        "tax_summary": ["MwSt.-Aufstellung", "Steuerübersicht"],
        "currency": ["Währung", "Währung:"],
        "payment_date": ["Zahlungsdatum", "Valuta", "Ausführungsdatum"],
        "paid_amount": ["Zahlbetrag", "Gezahlt"],
        "total_paid": ["Überweisungsbetrag", "Gesamtzahlung", "Summe Zahlung"],
        "your_ref": ["Ihr Zeichen", "Ihre Referenz"],
        "thanks": ["Vielen Dank für Ihren Auftrag!", "Wir danken für Ihr Vertrauen.", "Vielen Dank für Ihren Einkauf."],
        "registered": ["Amtsgericht", "Handelsregister", "Geschäftsführer:", "Sitz der Gesellschaft:"],
        "cashier": ["Kasse", "Bediener"],
        "change": ["Rückgeld", "Bar", "EC-Karte"],
        "supplier": ["Lieferant", "An"],
        "deliver_by": ["Liefertermin", "Lieferung bis"],
        "dear": ["Sehr geehrte Damen und Herren,", "Liebe Kundin, lieber Kunde,"],
    },
    "fr": {
        "invoice": ["Facture", "FACTURE", "Facture", "Facture N°"],
        "credit_note": ["Avoir", "AVOIR", "Facture d'avoir", "Note de crédit"],
        "purchase_order": ["Bon de commande", "BON DE COMMANDE", "Commande"],
        "receipt": ["Reçu", "Ticket de caisse", "Quittance", "REÇU"],
        "remittance_advice": ["Avis de paiement", "Avis de virement", "AVIS DE RÈGLEMENT"],
        "statement": ["Relevé de compte", "RELEVÉ DE COMPTE", "Relevé"],
        "invoice_number": ["N° de facture", "Facture n°", "Numéro de facture", "N° Facture", "Réf. facture", "N°",
                           "No facture"],
        "credit_number": ["N° d'avoir", "Avoir n°"],
        "invoice_date": ["Date de facture", "Date", "Date d'émission", "Date de facturation", "Le"],
        "due_date": ["Date d'échéance", "Échéance", "À payer avant le", "Date limite de paiement"],
        "delivery_date": ["Date de livraison", "Livré le", "Date d'expédition"],
        "order_date": ["Date de commande", "Commandé le"],
        "service_period": ["Période de service", "Période de facturation", "Période"],
        "po_number": ["N° de commande", "Bon de commande", "Votre commande", "Réf. commande", "BC n°"],
        "customer_no": ["N° client", "Code client", "Référence client", "Client n°"],
        "order_no": ["N° de commande interne", "Commande n°"],
        "contract_no": ["N° de contrat", "Contrat"],
        "delivery_note": ["Bon de livraison", "BL n°"],
        "booking_id": ["N° de réservation", "Dossier"],
        "vat_id": ["N° TVA", "TVA intracom.", "N° TVA intracommunautaire", "SIRET", "Numéro de TVA"],
        "bill_to": ["Facturé à", "Adresse de facturation", "Client", "Destinataire"],
        "ship_to": ["Livré à", "Adresse de livraison", "Livraison"],
        "description": ["Désignation", "Description", "Libellé", "Article"],
        "qty": ["Qté", "Quantité", "Qte"],
        "unit_price": ["Prix unitaire", "P.U. HT", "PU", "Prix U."],
        "amount": ["Montant", "Montant HT", "Total HT", "Total"],
        "subtotal": ["Total HT", "Montant HT", "Sous-total", "Total hors taxes", "Base HT"],
        "tax": ["TVA", "Montant TVA", "Total TVA"],
        "total": ["Total TTC", "Montant TTC", "Net à payer", "TOTAL TTC", "Total", "Montant total"],
        "amount_due": ["Reste à payer", "Net à payer", "Solde dû", "Montant dû", "À payer"],
        "paid": ["PAYÉ", "Payée", "Acquittée", "ACQUITTÉE"],
        "previous_balance": ["Solde précédent", "Report"],
        "payments_received": ["Acompte versé", "Paiements reçus", "Déjà réglé"],
        "payment_terms": ["Conditions de paiement", "Modalités de paiement", "Conditions de règlement", "Règlement"],
        "bank": ["Coordonnées bancaires", "Banque", "RIB"],
        "iban": ["IBAN", "IBAN :"],
        "bic": ["BIC", "Code BIC"],
        "account_holder": ["Titulaire du compte", "Bénéficiaire", "Titulaire"],
        "page": ["Page"],
        "reverse_charge": ["Autoliquidation", "Autoliquidation - TVA due par le preneur",
                           "Exonération de TVA, article 262 ter I du CGI"],
        "qtd": ["Trimestre à date", "Cumul trimestre"],
        "ytd": ["Cumul annuel", "Année à date"],
        "this_period": ["Période en cours", "Ce mois"],
        "vat_rate": ["Taux TVA", "Taux", "%"],
        "net": ["Base HT", "HT"],
        "gross": ["TTC", "Total TTC"],
        "tax_summary": ["Récapitulatif TVA", "Détail TVA"],
        "currency": ["Devise", "Devise :"],
        "payment_date": ["Date de paiement", "Date de valeur", "Réglé le"],
        "paid_amount": ["Montant réglé", "Payé"],
        "total_paid": ["Total réglé", "Montant du virement"],
        "your_ref": ["Votre référence", "V/Réf."],
        "thanks": ["Merci pour votre confiance.", "Nous vous remercions de votre commande.", "Merci de votre visite !"],
        "registered": ["SAS au capital de", "RCS", "SIRET", "Siège social :"],
        "cashier": ["Caisse", "Caissier"],
        "change": ["Rendu", "Espèces", "CB"],
        "supplier": ["Fournisseur", "À l'attention de"],
        "deliver_by": ["Livraison souhaitée", "Date de livraison"],
        "dear": ["Madame, Monsieur,", "Cher client,"],
    },
    "nl": {
        "invoice": ["Factuur", "FACTUUR", "Factuur", "Verkoopfactuur"],
        "credit_note": ["Creditnota", "CREDITNOTA", "Creditfactuur"],
        "purchase_order": ["Inkooporder", "Bestelling", "INKOOPORDER", "Bestelbon"],
        "receipt": ["Kassabon", "Kwitantie", "Bon", "Betaalbewijs"],
        "remittance_advice": ["Betalingsadvies", "Betaaloverzicht", "BETALINGSADVIES"],
        "statement": ["Rekeningoverzicht", "Overzicht openstaande posten", "Saldo-overzicht"],
        "invoice_number": ["Factuurnummer", "Factuurnr.", "Factuur nr", "Nummer", "Factuur #", "Fact.nr."],
        "credit_number": ["Creditnotanummer", "Creditnota nr."],
        "invoice_date": ["Factuurdatum", "Datum", "Factuur datum", "Datum factuur"],
        "due_date": ["Vervaldatum", "Uiterste betaaldatum", "Te betalen voor", "Betalen voor"],
        "delivery_date": ["Leverdatum", "Afleverdatum", "Verzenddatum"],
        "order_date": ["Orderdatum", "Besteldatum"],
        "service_period": ["Periode", "Factuurperiode", "Dienstperiode"],
        "po_number": ["Uw ordernummer", "Inkoopordernummer", "PO nummer", "Uw referentie", "Bestelnummer"],
        "customer_no": ["Klantnummer", "Klantnr.", "Debiteurnummer", "Relatienummer"],
        "order_no": ["Ordernummer", "Ordernr."],
        "contract_no": ["Contractnummer", "Contract nr."],
        "delivery_note": ["Pakbon", "Afleverbon nr."],
        "booking_id": ["Boekingsnummer", "Reserveringsnummer"],
        "vat_id": ["BTW-nummer", "BTW nr.", "Btw-id", "KvK", "BTW-nr"],
        "bill_to": ["Factuuradres", "Aan", "Klant", "Gefactureerd aan"],
        "ship_to": ["Afleveradres", "Leveradres"],
        "description": ["Omschrijving", "Artikel", "Product", "Beschrijving"],
        "qty": ["Aantal", "Aant.", "Hoeveelheid"],
        "unit_price": ["Prijs", "Stukprijs", "Eenheidsprijs", "Tarief"],
        "amount": ["Bedrag", "Totaal", "Subtotaal"],
        "subtotal": ["Subtotaal", "Totaal excl. BTW", "Netto bedrag", "Totaal excl. btw", "Bedrag excl. BTW"],
        "tax": ["BTW", "Btw", "BTW bedrag", "Totaal BTW"],
        "total": ["Totaal", "Totaal incl. BTW", "TOTAAL", "Te betalen", "Totaalbedrag", "Totaal incl. btw"],
        "amount_due": ["Te betalen", "Openstaand bedrag", "Nog te betalen", "Saldo"],
        "paid": ["BETAALD", "Betaald", "Reeds voldaan"],
        "previous_balance": ["Vorig saldo", "Beginsaldo"],
        "payments_received": ["Ontvangen betalingen", "Reeds betaald", "Betaald"],
        "payment_terms": ["Betalingsvoorwaarden", "Betalingstermijn", "Betaalwijze"],
        "bank": ["Bankgegevens", "Bank", "Rekeningnummer"],
        "iban": ["IBAN", "IBAN:", "Rekening (IBAN)"],
        "bic": ["BIC", "SWIFT"],
        "account_holder": ["Ten name van", "t.n.v.", "Rekeninghouder"],
        "page": ["Pagina", "Blad"],
        "reverse_charge": ["BTW verlegd", "Btw verlegd naar afnemer", "Verlegd", "Intracommunautaire levering"],
        "qtd": ["Kwartaal tot heden", "Kwartaal cumulatief"],
        "ytd": ["Jaar tot heden", "Jaar cumulatief"],
        "this_period": ["Deze periode", "Huidige maand"],
        "vat_rate": ["BTW %", "Tarief", "%"],
        "net": ["Grondslag", "Excl."],
        "gross": ["Incl.", "Totaal"],
        "tax_summary": ["BTW-specificatie", "BTW overzicht"],
        "currency": ["Valuta", "Munteenheid"],
        "payment_date": ["Betaaldatum", "Valutadatum"],
        "paid_amount": ["Betaald bedrag", "Bedrag"],
        "total_paid": ["Totaal betaald", "Totaal overgemaakt"],
        "your_ref": ["Uw kenmerk", "Uw referentie"],
        "thanks": ["Bedankt voor uw bestelling!", "Hartelijk dank voor uw vertrouwen.", "Tot ziens!"],
        "registered": ["KvK-nummer", "Ingeschreven bij de KvK onder nummer", "Statutair gevestigd te"],
        "cashier": ["Kassa", "Kassier"],
        "change": ["Wisselgeld", "Contant", "PIN"],
        "supplier": ["Leverancier", "Aan"],
        "deliver_by": ["Gewenste leverdatum", "Leveren voor"],
        "dear": ["Geachte klant,", "Beste klant,"],
    },
    "es": {
        "invoice": ["Factura", "FACTURA", "Factura", "Factura simplificada"],
        "credit_note": ["Factura rectificativa", "Nota de crédito", "ABONO", "Abono"],
        "purchase_order": ["Orden de compra", "Pedido", "PEDIDO DE COMPRA"],
        "receipt": ["Recibo", "Ticket", "RECIBO", "Tique"],
        "remittance_advice": ["Aviso de pago", "Aviso de transferencia", "AVISO DE PAGO"],
        "statement": ["Extracto de cuenta", "Estado de cuenta", "EXTRACTO"],
        "invoice_number": ["N.º de factura", "Número de factura", "Factura n.º", "Nº Factura", "Núm. factura", "Serie/Número"],
        "credit_number": ["N.º de abono", "Rectificativa n.º"],
        "invoice_date": ["Fecha de factura", "Fecha", "Fecha de emisión", "Fecha factura"],
        "due_date": ["Fecha de vencimiento", "Vencimiento", "Vence", "Fecha límite de pago"],
        "delivery_date": ["Fecha de entrega", "Entregado el", "Fecha de envío"],
        "order_date": ["Fecha de pedido", "Fecha del pedido"],
        "service_period": ["Periodo de servicio", "Periodo de facturación", "Periodo"],
        "po_number": ["N.º de pedido", "Su pedido", "Orden de compra", "Ref. pedido"],
        "customer_no": ["N.º de cliente", "Código cliente", "Cliente n.º"],
        "order_no": ["N.º de orden", "Pedido interno"],
        "contract_no": ["N.º de contrato", "Contrato"],
        "delivery_note": ["Albarán", "Albarán n.º"],
        "booking_id": ["Localizador", "N.º de reserva"],
        "vat_id": ["NIF", "CIF", "NIF/CIF", "N.º IVA", "NIF-IVA"],
        "bill_to": ["Facturar a", "Cliente", "Datos del cliente", "Destinatario"],
        "ship_to": ["Enviar a", "Dirección de entrega", "Entregar en"],
        "description": ["Descripción", "Concepto", "Artículo", "Producto"],
        "qty": ["Cant.", "Cantidad", "Uds."],
        "unit_price": ["Precio unitario", "Precio", "P. unit.", "Importe unit."],
        "amount": ["Importe", "Total", "Subtotal"],
        "subtotal": ["Base imponible", "Subtotal", "Total sin IVA", "Importe neto", "BASE IMPONIBLE"],
        "tax": ["IVA", "Cuota IVA", "Total IVA", "Impuestos"],
        "total": ["Total", "TOTAL", "Total factura", "Importe total", "Total a pagar", "TOTAL FACTURA"],
        "amount_due": ["Importe pendiente", "Total a pagar", "Saldo pendiente", "A pagar"],
        "paid": ["PAGADO", "Pagada", "Cobrado"],
        "previous_balance": ["Saldo anterior", "Saldo inicial"],
        "payments_received": ["Pagos recibidos", "Pagado", "Entregado a cuenta"],
        "payment_terms": ["Forma de pago", "Condiciones de pago", "Plazo de pago"],
        "bank": ["Datos bancarios", "Banco", "Cuenta bancaria"],
        "iban": ["IBAN", "IBAN:", "Cuenta IBAN"],
        "bic": ["BIC", "SWIFT"],
        "account_holder": ["Titular", "Titular de la cuenta", "Beneficiario"],
        "page": ["Página", "Pág."],
        "reverse_charge": ["Inversión del sujeto pasivo", "Operación exenta de IVA - inversión del sujeto pasivo",
                           "Entrega intracomunitaria exenta"],
        "qtd": ["Acumulado trimestre", "Trimestre a la fecha"],
        "ytd": ["Acumulado anual", "Año a la fecha"],
        "this_period": ["Periodo actual", "Este mes"],
        "vat_rate": ["% IVA", "Tipo", "Tipo IVA"],
        "net": ["Base", "Base imponible"],
        "gross": ["Total", "Importe"],
        "tax_summary": ["Desglose de IVA", "Resumen IVA"],
        "currency": ["Moneda", "Divisa"],
        "payment_date": ["Fecha de pago", "Fecha valor"],
        "paid_amount": ["Importe pagado", "Pagado"],
        "total_paid": ["Total pagado", "Importe transferido"],
        "your_ref": ["Su referencia", "S/Ref."],
        "thanks": ["Gracias por su confianza.", "¡Gracias por su compra!", "Gracias por su visita."],
        "registered": ["Inscrita en el Registro Mercantil de", "Domicilio social:", "Tomo", "Hoja"],
        "cashier": ["Caja", "Cajero"],
        "change": ["Cambio", "Efectivo", "Tarjeta"],
        "supplier": ["Proveedor", "A la atención de"],
        "deliver_by": ["Fecha de entrega requerida", "Entregar antes de"],
        "dear": ["Estimado cliente:", "Apreciado cliente:"],
    },
    "it": {
        "invoice": ["Fattura", "FATTURA", "Fattura", "Fattura elettronica", "Fattura accompagnatoria"],
        "credit_note": ["Nota di credito", "NOTA DI CREDITO", "Nota credito"],
        "purchase_order": ["Ordine d'acquisto", "Ordine", "ORDINE DI ACQUISTO", "Buono d'ordine"],
        "receipt": ["Ricevuta", "Scontrino", "RICEVUTA", "Documento commerciale"],
        "remittance_advice": ["Avviso di pagamento", "Avviso di bonifico", "AVVISO DI PAGAMENTO"],
        "statement": ["Estratto conto", "ESTRATTO CONTO", "Situazione contabile"],
        "invoice_number": ["Numero fattura", "Fattura n.", "N. fattura", "Nr. documento", "Numero documento", "N."],
        "credit_number": ["Nota di credito n.", "Numero nota"],
        "invoice_date": ["Data fattura", "Data", "Data documento", "Data emissione", "del"],
        "due_date": ["Data scadenza", "Scadenza", "Scadenza pagamento", "Da pagare entro"],
        "delivery_date": ["Data consegna", "Data di consegna", "Data spedizione", "Data DDT"],
        "order_date": ["Data ordine", "Ordinato il"],
        "service_period": ["Periodo di riferimento", "Periodo di fatturazione", "Periodo"],
        "po_number": ["Vs. ordine", "Rif. ordine", "Numero ordine", "Ordine n.", "Vostro ordine"],
        "customer_no": ["Codice cliente", "Cod. cliente", "Cliente n.", "N. cliente"],
        "order_no": ["Ns. ordine", "Conferma d'ordine n."],
        "contract_no": ["Contratto n.", "Numero contratto"],
        "delivery_note": ["DDT n.", "Documento di trasporto", "Bolla n."],
        "booking_id": ["Codice prenotazione", "Prenotazione n."],
        "vat_id": ["P.IVA", "Partita IVA", "P. IVA", "C.F.", "Codice fiscale", "P.Iva"],
        "bill_to": ["Destinatario", "Spett.le", "Cliente", "Intestatario", "Fatturare a"],
        "ship_to": ["Luogo di consegna", "Destinazione merce", "Consegnare a"],
        "description": ["Descrizione", "Articolo", "Prodotto", "Descrizione prodotto"],
        "qty": ["Q.tà", "Quantità", "Qtà", "Qta"],
        "unit_price": ["Prezzo unitario", "Prezzo", "Pr. unit.", "Importo unit."],
        "amount": ["Importo", "Totale", "Imponibile"],
        "subtotal": ["Imponibile", "Totale imponibile", "Subtotale", "Totale netto", "IMPONIBILE"],
        "tax": ["IVA", "Imposta", "Totale IVA", "Importo IVA"],
        "total": ["Totale", "TOTALE", "Totale fattura", "Totale documento", "Importo totale", "TOTALE DOCUMENTO"],
        "amount_due": ["Netto a pagare", "Totale da pagare", "Importo dovuto", "Saldo da pagare"],
        "paid": ["PAGATO", "Pagata", "Saldato"],
        "previous_balance": ["Saldo precedente", "Saldo iniziale"],
        "payments_received": ["Pagamenti ricevuti", "Acconto", "Già pagato"],
        "payment_terms": ["Condizioni di pagamento", "Modalità di pagamento", "Pagamento"],
        "bank": ["Coordinate bancarie", "Banca", "Banca d'appoggio"],
        "iban": ["IBAN", "IBAN:", "Cod. IBAN"],
        "bic": ["BIC", "SWIFT"],
        "account_holder": ["Intestatario conto", "Beneficiario", "Intestato a"],
        "page": ["Pagina", "Pag."],
        "reverse_charge": ["Inversione contabile", "Reverse charge art. 17 c. 6 DPR 633/72",
                           "Operazione non imponibile art. 41 DL 331/93"],
        "qtd": ["Progressivo trimestre", "Trimestre ad oggi"],
        "ytd": ["Progressivo anno", "Anno ad oggi"],
        "this_period": ["Periodo corrente", "Mese corrente"],
        "vat_rate": ["Aliquota", "Aliq. IVA", "% IVA"],
        "net": ["Imponibile", "Netto"],
        "gross": ["Totale", "Lordo"],
        "tax_summary": ["Riepilogo IVA", "Castelletto IVA"],
        "currency": ["Valuta", "Divisa"],
        "payment_date": ["Data pagamento", "Data valuta"],
        "paid_amount": ["Importo pagato", "Pagato"],
        "total_paid": ["Totale pagato", "Importo bonificato"],
        "your_ref": ["Vs. riferimento", "Rif."],
        "thanks": ["Grazie per averci scelto.", "Grazie per il Suo acquisto!", "Arrivederci e grazie"],
        "registered": ["Capitale sociale", "R.E.A.", "Registro Imprese di", "Sede legale:"],
        "cashier": ["Cassa", "Operatore"],
        "change": ["Resto", "Contanti", "Carta"],
        "supplier": ["Fornitore", "Spett.le"],
        "deliver_by": ["Consegna entro", "Data consegna richiesta"],
        "dear": ["Gentile cliente,", "Spettabile cliente,"],
    },
    "pl": {
        "invoice": ["Faktura", "FAKTURA VAT", "Faktura VAT", "Faktura", "Faktura nr"],
        "credit_note": ["Faktura korygująca", "KOREKTA", "Nota uznaniowa"],
        "purchase_order": ["Zamówienie", "ZAMÓWIENIE", "Zamówienie zakupu"],
        "receipt": ["Paragon", "PARAGON FISKALNY", "Pokwitowanie", "Rachunek"],
        "remittance_advice": ["Awizo płatności", "Potwierdzenie przelewu", "AWIZO PŁATNOŚCI"],
        "statement": ["Wyciąg z konta", "Zestawienie rozrachunków", "Potwierdzenie salda"],
        "invoice_number": ["Numer faktury", "Faktura nr", "Nr faktury", "Nr dokumentu", "Nr"],
        "credit_number": ["Korekta nr", "Nr korekty"],
        "invoice_date": ["Data wystawienia", "Data faktury", "Data", "Wystawiono dnia"],
        "due_date": ["Termin płatności", "Termin zapłaty", "Zapłacić do", "Płatne do"],
        "delivery_date": ["Data sprzedaży", "Data dostawy", "Data wysyłki"],
        "order_date": ["Data zamówienia", "Zamówiono"],
        "service_period": ["Okres rozliczeniowy", "Okres usługi", "Okres"],
        "po_number": ["Nr zamówienia", "Państwa zamówienie", "Zamówienie nr", "Numer zamówienia"],
        "customer_no": ["Nr klienta", "Kod klienta", "Numer klienta"],
        "order_no": ["Nr zlecenia", "Zlecenie"],
        "contract_no": ["Nr umowy", "Umowa nr"],
        "delivery_note": ["WZ nr", "Dokument WZ"],
        "booking_id": ["Nr rezerwacji", "Kod rezerwacji"],
        "vat_id": ["NIP", "NIP:", "NIP UE", "REGON"],
        "bill_to": ["Nabywca", "Odbiorca", "Klient", "NABYWCA"],
        "ship_to": ["Adres dostawy", "Miejsce dostawy", "Odbiorca"],
        "description": ["Nazwa towaru lub usługi", "Nazwa", "Opis", "Towar/usługa"],
        "qty": ["Ilość", "Il.", "J.m.", "Ilość szt."],
        "unit_price": ["Cena jedn. netto", "Cena netto", "Cena jedn.", "Cena"],
        "amount": ["Wartość netto", "Wartość", "Kwota", "Wartość brutto"],
        "subtotal": ["Razem netto", "Wartość netto", "Suma netto", "Netto"],
        "tax": ["Kwota VAT", "VAT", "Podatek VAT", "Razem VAT"],
        "total": ["Razem brutto", "Do zapłaty", "Wartość brutto", "RAZEM", "Suma brutto", "Ogółem"],
        "amount_due": ["Do zapłaty", "Pozostało do zapłaty", "Kwota do zapłaty", "Saldo"],
        "paid": ["ZAPŁACONO", "Zapłacono", "Opłacono"],
        "previous_balance": ["Saldo poprzednie", "Saldo początkowe"],
        "payments_received": ["Zapłacono", "Wpłaty", "Otrzymane płatności"],
        "payment_terms": ["Sposób płatności", "Forma płatności", "Warunki płatności"],
        "bank": ["Nazwa banku", "Bank", "Rachunek bankowy"],
        "iban": ["IBAN", "Nr konta", "Numer rachunku", "Konto"],
        "bic": ["SWIFT", "BIC"],
        "account_holder": ["Właściciel rachunku", "Odbiorca przelewu", "Sprzedawca"],
        "page": ["Strona", "Str."],
        "reverse_charge": ["Odwrotne obciążenie", "Odwrotne obciążenie - art. 17 ust. 1 pkt 8",
                           "Wewnątrzwspólnotowa dostawa towarów, stawka 0%"],
        "qtd": ["Narastająco kwartał", "Kwartał do dnia"],
        "ytd": ["Narastająco rok", "Od początku roku"],
        "this_period": ["Bieżący okres", "Bieżący miesiąc"],
        "vat_rate": ["Stawka VAT", "Stawka", "%"],
        "net": ["Netto", "Wartość netto"],
        "gross": ["Brutto", "Wartość brutto"],
        "tax_summary": ["W tym", "Zestawienie VAT", "Podsumowanie VAT"],
        "currency": ["Waluta", "Waluta:"],
        "payment_date": ["Data płatności", "Data przelewu"],
        "paid_amount": ["Kwota zapłacona", "Zapłacono"],
        "total_paid": ["Razem zapłacono", "Kwota przelewu"],
        "your_ref": ["Wasz znak", "Referencja"],
        "thanks": ["Dziękujemy za zakupy!", "Dziękujemy za współpracę.", "Zapraszamy ponownie"],
        "registered": ["KRS", "Sąd Rejonowy", "Kapitał zakładowy", "Siedziba:"],
        "cashier": ["Kasa", "Kasjer"],
        "change": ["Reszta", "Gotówka", "Karta"],
        "supplier": ["Dostawca", "Sprzedawca"],
        "deliver_by": ["Termin dostawy", "Dostawa do"],
        "dear": ["Szanowni Państwo,", "Drogi Kliencie,"],
    },
}

#: Vocabulary key (as the project vocabulary may name it) -> our concept.
_VOCAB_CONCEPT = {
    "invoice_number": "invoice_number", "invoice_date": "invoice_date", "due_date": "due_date",
    "po_number": "po_number", "subtotal_amount": "subtotal", "tax_amount": "tax", "total_amount": "total",
    "amount_due": "amount_due", "payment_terms": "payment_terms", "iban": "iban", "vendor_tax_id": "vat_id",
    "customer_name": "bill_to", "quarter_to_date": "qtd", "year_to_date": "ytd",
}


def _walk_vocab(obj: Any, lang: str | None, out: dict[str, dict[str, set[str]]], concept: str | None) -> None:
    """Collect phrases from a vocabulary of unknown exact shape: {field: {lang: [phrases]}} and similar."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = str(k)
            if key in _VOCAB_CONCEPT:
                _walk_vocab(v, lang, out, _VOCAB_CONCEPT[key])
            elif key in PHRASES:
                _walk_vocab(v, key, out, concept)
            elif key in ("labels", "fields", "keywords", "phrases", "label", "synonyms"):
                _walk_vocab(v, lang, out, concept)
    elif isinstance(obj, list | tuple | set):
        for v in obj:
            if isinstance(v, str) and concept and lang:
                out.setdefault(lang, {}).setdefault(concept, set()).add(v)
            else:
                _walk_vocab(v, lang, out, concept)
    elif hasattr(obj, "__dict__"):
        _walk_vocab(vars(obj), lang, out, concept)


@lru_cache(maxsize=1)
def vocabulary_phrases() -> dict[str, dict[str, list[str]]]:
    """Label phrases from the project vocabulary, by language and concept ({} when it is not there yet)."""
    try:
        from invoicebot.vocabulary import load_vocabulary  # type: ignore[import-not-found]
    except ImportError:
        return {}
    try:
        vocab = load_vocabulary()
    except Exception:  # noqa: BLE001 - a broken vocabulary must not stop corpus generation; local lists remain
        return {}
    raw = vocab.to_dict() if hasattr(vocab, "to_dict") else vocab
    out: dict[str, dict[str, set[str]]] = {}
    _walk_vocab(raw, None, out, None)
    return {lang: {c: sorted(p for p in ps if 0 < len(p) <= 40) for c, ps in cs.items()} for lang, cs in out.items()}


def _vary(rng: random.Random, phrase: str) -> str:
    """Casing and punctuation variants of a label: 'Invoice No.' -> 'INVOICE NO', 'invoice no.:' ..."""
    r = rng.random()
    if r < 0.12:
        phrase = phrase.upper()
    elif r < 0.17 and phrase[:1].isupper():
        phrase = phrase.title() if " " in phrase else phrase
    if rng.random() < 0.08:
        phrase = phrase.rstrip(".")
    return phrase


class LabelSet:
    """The label phrases of one document: one choice per concept, kept for the whole document."""

    def __init__(self, rng: random.Random, lang: str, colon: str, casing: str):
        self.rng = rng
        self.lang = lang
        self.colon = colon  # "", ":", " :"
        self.casing = casing  # "as", "upper", "lower"
        self._chosen: dict[str, str] = {}
        self._vocab = vocabulary_phrases().get(lang, {})

    def raw(self, concept: str) -> str:
        if concept not in self._chosen:
            choices = list(PHRASES[self.lang].get(concept) or PHRASES["en"][concept])
            extra = self._vocab.get(concept, [])
            if extra and self.rng.random() < 0.4:
                choices = extra
            phrase = _vary(self.rng, self.rng.choice(choices))
            if self.casing == "upper":
                phrase = phrase.upper()
            elif self.casing == "lower" and phrase[:1].isupper() and len(phrase) > 3:
                phrase = phrase[0] + phrase[1:].lower()
            self._chosen[concept] = phrase
        return self._chosen[concept]

    def __call__(self, concept: str, colon: bool = True) -> str:
        phrase = self.raw(concept)
        if colon and self.colon and not phrase.endswith((":", "#", "°", ".")):
            return phrase + self.colon
        if colon and self.colon and phrase.endswith("."):
            return phrase + self.colon.strip()
        return phrase

    def pick(self, concept: str) -> str:
        """A fresh random phrase of a concept (for free text that may repeat differently)."""
        return self.rng.choice(PHRASES[self.lang].get(concept) or PHRASES["en"][concept])
