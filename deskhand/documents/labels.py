"""The words that name an invoice's or receipt's fields, in the languages deskhand reads.

Spellings are folded (lower case, no accents) and tokenised like the page's words. The longest
spelling that starts at a word wins, so "Total excl. VAT" is a subtotal, "Total GST" a tax and
"Total Qty" nothing at all: the fields named ``_other`` are labels of figures that are not the
invoice's (cash handed over, change, rounding, a previous balance, a related invoice's number),
found only so that their values are never taken for another field's.
"""

from __future__ import annotations

from .parse import tokens

_LABELS = {
    "invoice_number": "invoice no|invoice number|invoice #|invoice nr|invoice num|inv no|inv #|"
    "invoice id|invoice ref|rechnungsnummer|rechnungsnr|rechnungs nr|rechnung nr|rechnung no|"
    "rechnung #|facture n|facture no|facture numero|numero de facture|n de facture|"
    "no de facture|numero facture|factuurnummer|factuur nummer|factuurnr|factuur nr|"
    "factura n|factura no|numero de factura|n de factura|factura numero|faktura nr|"
    "faktura vat nr|nr faktury|numer faktury|no faktur|no invois|invois no|bill no|bill number|"
    "bill #|cash bill no|receipt no|receipt number|receipt #|receipt nr|doc no|document no|"
    "document number|belegnummer|beleg nr|beleg no|bon nr|bon no|ticket n|ticket no|recu n|"
    "quittung nr|transaction no|trans no|invoice no :|tax invoice no|credit note no|"
    "gutschrift nr|avoir n|numero d avoir|cs no|no resit|resit no|check #|chk #",
    "_title_number": "invoice|rechnung|facture|factura|factuur|faktura|avoir|gutschrift|"
    "credit note|tax invoice|proforma invoice|warenrechnung|beitragsrechnung",
    "invoice_date": "invoice date|date of issue|issue date|date issued|billing date|bill date|"
    "date|datum|rechnungsdatum|date de facture|date facture|date d emission|belegdatum|"
    "beleg datum|liefer und rechnungsdatum|factuurdatum|fecha|fecha de emision|"
    "fecha de factura|data wystawienia|data faktury|tarikh|date of invoice|statement date|"
    "invoice dt|issued at|issued on|as of|ausstellungsdatum|date :|txn date|trans date|"
    "date time|date and time|datum uhrzeit|tarikh masa",
    "due_date": "due date|due|payment due|due by|date due|pay by|fallig|fallig am|falligkeit|"
    "falligkeitsdatum|zahlbar bis|echeance|date d echeance|fecha de vencimiento|vencimiento|"
    "termin platnosci|vervaldatum|please remit until|payable by",
    "po_number": "po number|po no|po #|po|purchase order|purchase order no|"
    "purchase order number|your order|your order no|your reference|customer order|bestellnummer|"
    "bestellnr|bestell nr|ihre bestellung|ihre auftragsnummer|ihre bestellnummer|"
    "bon de commande|n bon de commande|commande n|votre commande|votre reference|"
    "orden de compra|numero de pedido|uw referentie|uw bestelnummer|zamowienie nr|"
    "bestellung nr|bestellung no|gemass bestellung nr|gemass ihrer bestellung nr|"
    "rechnung gemass bestellung nr|laut bestellung nr|lt bestellung nr",
    "terms": "payment terms|terms|terms of payment|zahlungsbedingungen|zahlungsziel|"
    "conditions de paiement|conditions de reglement",
    "subtotal": "subtotal|sub total|warenwert|net total|net amount|total net|total excl vat|"
    "total excl gst|total excl tax|total excluding gst|total excluding tax|total excl|"
    "total before tax|total sales excluding gst|total sales|amount excl gst|zwischensumme|"
    "nettobetrag|summe netto|netto|gesamt netto|rechnungssumme netto|nettosumme|total ht|"
    "sous total|montant ht|total hors taxes|base imponible|subtotaal|totaal excl btw|"
    "razem netto|wartosc netto|total exclusive|sub total ex|sub total excl|netto entgelt|"
    "nettoentgelt|gesamtbeitrag|nettobeitrag|beitrag netto",
    "tax": "vat|tax|sales tax|gst|hst|mwst|ust|umsatzsteuer|mehrwertsteuer|tva|iva|btw|"
    "total tax|total gst|total vat|total taxes|total tva|total mwst|summe umsatzsteuer|"
    "summe mwst|vat total|tax total|vat amount|tax amount|gst amount|total gst amount|"
    "montant tva|total tva|kwota vat|razem vat|gst payable|service tax|sst|zzgl umsatzsteuer|"
    "zuzuglich mwst|zzgl mwst|plus vat|zzgl ust|zuzugl ust|zuzuglich ust|zuzugl mwst|"
    "zuzugl umsatzsteuer|zuzuglich umsatzsteuer|inkl ust|inkl mwst|enthaltene mwst|"
    "enthaltene ust|mwst betrag|ust betrag|steuerbetrag|umsatzsteuerbetrag|"
    "mehrwertsteuerbetrag|versicherungsteuer|versicherungssteuer|taxe sur la valeur ajoutee|"
    "taxes|taxe|impuesto|impuestos|value added tax|podatek vat|kwota podatku",
    "total": "total|total due|amount due|balance due|grand total|total amount|invoice total|"
    "amount payable|gesamtbetrag|gesamtsumme|rechnungsbetrag|zahlbetrag|endbetrag|endsumme|"
    "summe|brutto|gesamt brutto|rechnungssumme brutto|bruttobetrag|total ttc|montant ttc|"
    "net a payer|montant du|zu zahlen|a payer|total a payer|montant total|total amount due|"
    "total incl vat|total incl gst|total inclusive gst|total incl tax|total including gst|"
    "total gst incl|total with gst|total inc gst|total rm|total myr|total eur|rounded total|"
    "total rounded|nett total|net total rm|total payable|total sales inclusive gst|"
    "total sales incl gst|total bayar|jumlah|jumlah besar|totaal|totaal incl btw|"
    "te betalen|total factura|importe total|total a pagar|razem brutto|do zaplaty|"
    "wartosc brutto|due payable|total due amount|total charges|total new charges|"
    "grand total rm|total amount payable|summe eur|gesamt eur|gesamt",
    "currency": "currency|wahrung|devise|moneda|waluta|valuta|montants exprimes en|"
    "betrage in|amounts in|all amounts are in",
    "_other": "po box|p o box|total qty|total quantity|total items|total item|"
    "total saving|total savings|"
    "total discount|total disc|total rounding|total paid|amount paid|paid|tendered|cash|"
    "change|cash change|rounding|rounding adj|rounding adjustment|round|bargeld|gegeben|"
    "zuruck|ruckgeld|ruckgabe|bar|previous balance|previous account balance|balance forward|"
    "payment received|remaining balance|offener betrag|bereits bezahlt|anzahlung|acompte|"
    "solde a payer|deja regle|residual|deposit|prepayment|amount tendered|cash tendered|"
    "kembalian|tunai|n de facture associee|facture associee|facture liee|related invoice|"
    "date de facture associee|total points|points|total pcs|total units|item count|"
    "new charges|total ex|order no|order number|kundennummer|kunden nr|customer no|"
    "customer number|account number|lieferschein nr|auftrag nr|auftragsnummer|"
    "lieferschein datum|leistungsdatum|lieferdatum|date of delivery|delivery date|"
    "date de livraison|bestell datum|auftrag datum lief",
}
LABELS = {field: [tokens(s) for s in spellings.split("|")] for field, spellings in _LABELS.items()}

_INCLUDED = frozenset("incl inclusive including inkl inc with ttc gross brutto".split())
_EXCLUDED = frozenset(
    "excl exclusive excluding excluded exc exkl ex before net netto ht ohne sans".split()
)
_TAXES = frozenset("tax taxes gst vat mwst ust tva iva btw sst".split())
_QUALIFIED = {"total", "summe", "sum", "amount", "gesamt", "montant", "jumlah", "totaal"}


def qualified(field: str, label_tokens: list[str], after: list[str]) -> str:
    """The field a total-like label names once the words after it are read: 'Total Sales
    (Inclusive of GST)' is the total, '(Excluding GST)' the subtotal, 'Total Qty' nothing.
    ``after``: the tokens between the label and its value."""
    if not label_tokens or label_tokens[0] not in _QUALIFIED or field not in SUMMARY_FIELDS:
        return field
    words = set(after)
    if words & _EXCLUDED and not words & _INCLUDED:
        return "subtotal"
    if words & _INCLUDED:
        return "total"
    if field == "total" and words & _TAXES and not (words - _TAXES - _FILLER):
        return "tax"
    return field


SUMMARY_FIELDS = ("subtotal", "tax", "total")
_FILLER = frozenset("of the rm amount".split())


def exact_label(rule: str, field: str) -> bool:
    """Whether a field's rule ('label:Invoice No.') names a spelling of ``field``'s labels
    exactly, not one an OCR misreading matched fuzzily ('label:nvoice No')."""
    if not rule.startswith("label:"):
        return False
    field = {"receipt_number": "invoice_number", "date": "invoice_date"}.get(field, field)
    return tokens(rule[len("label:") :]) in LABELS.get(field, [])
