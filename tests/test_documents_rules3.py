"""Rules for summary figures, dates and parties as real invoices and receipts print them, each
on text built here (words with boxes, as a text layer or OCR gives them): tax tables set
close under their header, their rows by rate and their sum, a totals row under columns, tax
lines that print their bases, exact labels before fuzzy ones, the total of a bill that
prints it on every page, letter dates, and the customer's address block."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from word_boxes import words

from deskhand.documents import invoice, receipt
from deskhand.documents.labels import LABELS
from deskhand.documents.layout import group_lines, match_phrase
from deskhand.documents.model import Word
from deskhand.documents.validation import MIN_CONFIDENCE

SIZE = [(595.0, 842.0)]


def _words(rows, ocr: bool = False, conf: float = 0.99, height: float = 10.0) -> list[Word]:
    """Words of a page, plain rows starting at x 40, 5 points a character at any height
    (see word_boxes.words)."""
    return words(rows, left=40.0, height=height, conf=conf, ocr=ocr, fixed=True)


def _read(rows, kind="invoice", **kwargs):
    reader = receipt if kind == "receipt" else invoice
    fields, _, _, _ = reader.extract(_words(rows, **kwargs), SIZE)
    return fields


def _values(fields, *names):
    return [fields[n].value if n in fields else None for n in names]


def test_a_tax_table_set_close_under_its_header_gives_net_and_tax():
    fields = _read(
        [
            (20, "Delphin Apotheke"),
            (40, "Detmolder Straße 8, 33102 Paderborn"),
            (80, [(40, "Maske FFP2"), (200, "19,90")]),
            (100, [(40, "Summe EUR"), (200, "19,90")]),
            (130, "Typ Netto MwSt Brutto"),  # single spaces: no label begins a phrase
            (142, "19 16,72 3,18 19,90"),
        ],
        kind="receipt",
    )
    assert _values(fields, "subtotal", "tax", "total") == [
        Decimal("16.72"),
        Decimal("3.18"),
        Decimal("19.90"),
    ]


def _rates_table(sum_row: bool):
    rows = [
        (20, "Frischmarkt"),
        (40, "Warburger Straße 130, 33100 Paderborn"),
        (70, [(40, "Kaffee"), (200, "6,58")]),
        (82, [(40, "Saft"), (200, "9,11")]),
        (100, [(40, "zu zahlen"), (200, "15,69")]),
        (130, [(40, "MWST%"), (90, "MWST"), (140, "Netto"), (200, "Brutto")]),
        (142, [(40, "A"), (60, "7"), (90, "0,62"), (140, "8,89"), (200, "9,51")]),
        (154, [(40, "B"), (60, "19"), (90, "0,99"), (140, "5,19"), (200, "6,18")]),
    ]
    if sum_row:
        rows.append((166, [(40, "Summe"), (90, "1,61"), (140, "14,08"), (200, "15,69")]))
    return rows


def test_the_sum_row_of_a_tax_table_holds_the_net_and_the_tax():
    fields = _read(_rates_table(sum_row=True), kind="receipt")
    assert _values(fields, "subtotal", "tax", "total") == [
        Decimal("14.08"),
        Decimal("1.61"),
        Decimal("15.69"),
    ]


def test_one_rates_row_of_a_tax_table_is_not_the_documents_total():
    fields = _read(_rates_table(sum_row=False), kind="receipt")
    assert fields["total"].value == Decimal("15.69")  # 'zu zahlen', not the last rate's 6,18
    # a rate's net figure is no net total: never keyed without review
    assert "subtotal" not in fields or fields["subtotal"].confidence < MIN_CONFIDENCE


def test_a_summary_table_at_the_foot_of_a_dense_invoice_is_read_row_by_row():
    header = [(40, "Warenwert"), (120, "Nettobetrag"), (200, "MwSt-Betrag"), (280, "MwSt-%")]
    header.append((340, "Endbetrag"))
    fields = _read(
        [
            (20, "Musterlieferant GmbH"),
            (40, "Bahnhofstrasse 99, 99199 Musterhausen"),
            (60, [(40, "Beleg-Nr :"), (120, "R-4711")]),
            (400, header),
            (
                412,
                [(40, "326,50"), (120, "321,40"), (200, "61,07"), (280, "19,0"), (340, "382,47")],
            ),
            (424, [(40, "130,70"), (120, "127,59"), (200, "8,93"), (280, "7,0"), (340, "136,52")]),
            (440, [(40, "457,20"), (120, "448,99"), (200, "70,00"), (340, "518,99")]),
        ]
    )
    assert _values(fields, "subtotal", "tax", "total") == [
        Decimal("448.99"),
        Decimal("70.00"),
        Decimal("518.99"),
    ]


def test_a_qualifier_belongs_to_its_own_label_and_a_deposit_is_no_total():
    fields = _read(
        [
            (20, "Le Fournisseur SARL"),
            (40, "35 rue d'ici, 75018 Paris"),
            (300, [(300, "TOTAL HT"), (380, "TOTAL TVA"), (460, "TOTAL TTC")]),
            (312, [(300, "100,00"), (380, "10,00"), (460, "110,00")]),
            (330, [(300, "Acompte :"), (460, "10,00")]),
            (350, [(300, "NET A PAYER"), (460, "100,00 EUR")]),
        ]
    )
    assert _values(fields, "subtotal", "tax", "total") == [
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("110.00"),
    ]


def test_a_totals_row_takes_the_figure_under_the_total_column():
    header = [(40, "Description"), (250, "Net"), (320, "Tax"), (380, "Tax"), (450, "Total")]
    fields = _read(
        [
            (20, "Storeline Pvt Ltd"),
            (40, "23A Lower Ground Floor, 110015 Delhi"),
            (200, header),
            (212, [(250, "Amount"), (320, "Rate"), (380, "Amount"), (450, "Amount")]),
            (
                230,
                [(40, "Antenna"), (250, "241.41"), (320, "28%"), (380, "67.59"), (450, "309.00")],
            ),
            (250, [(40, "TOTAL:"), (380, "67.59"), (450, "309.00")]),
        ]
    )
    assert fields["total"].value == Decimal("309.00")


def test_a_totals_row_without_a_total_column_is_no_total():
    fields = _read(
        [
            (20, "Noodle House Sdn Bhd"),
            (100, [(40, "GST Summary"), (150, "Amount"), (220, "Tax")]),
            (112, [(40, "TOTAL :"), (150, "52.00"), (220, "3.12")]),
        ],
        kind="receipt",
    )
    assert "total" not in fields


def test_tax_lines_that_print_their_bases_add_up_to_the_total():
    fields = _read(
        [
            (20, "Beispiel Software GmbH"),
            (40, "Somestreet 42, 08155 Some City"),
            (300, [(300, "Positionen netto"), (480, "804,35 €")]),
            (312, [(300, "Versandkosten netto"), (480, "4,99 €")]),
            (324, [(300, "Positionen USt. 19,00% auf 804,35 €"), (480, "152,83 €")]),
            (336, [(300, "Versandkosten USt. 19,00% auf 4,99 €"), (480, "0,95 €")]),
            (348, [(300, "Endsumme"), (480, "963,12 €")]),
        ]
    )
    assert fields["tax"].value == Decimal("153.78")  # 152,83 + 0,95
    assert fields["total"].value == Decimal("963.12")


def test_a_label_read_exactly_beats_a_spelling_one_slip_away():
    line = group_lines(_words([(10, "Gesamtbetrag 3.064,25 €")]))[0]
    assert match_phrase(line, LABELS, 0)[0] == "total"  # not 'Gesamtbeitrag', a net figure
    line = group_lines(_words([(10, "Gesamtbeitrag 50,00 €")]))[0]
    assert match_phrase(line, LABELS, 0)[0] == "subtotal"


def test_the_amount_due_printed_again_is_a_bills_total_not_a_sections():
    fields = _read(
        [
            (20, "City Water and Power"),
            (40, "PO Box 30808, Springfield, CA 90030"),
            (100, [(300, "Total Amount Due"), (480, "$ 61,173.37")]),
            (112, [(300, "Total New Charges"), (480, "$ 61,173.37")]),
            (700, [(40, "Pay by Dec 23, 2024"), (300, "AMOUNT DUE"), (480, "$ 61,173.37")]),
            (800, [(300, "Total"), (480, "$ 33,313.69")]),
        ]
    )
    assert fields["total"].value == Decimal("61173.37")


def test_a_tax_rate_column_is_no_tax():
    fields = _read(
        [
            (20, "Muster GmbH"),
            (40, "Musterweg 1, 60325 Frankfurt"),
            (300, [(300, "MwSt.-%"), (400, "19,0")]),
            (312, [(300, "Nettobetrag"), (400, "100,00")]),
            (324, [(300, "Endbetrag"), (400, "119,00")]),
        ]
    )
    assert "tax" not in fields or fields["tax"].value != Decimal("19.00")
    assert fields["total"].value == Decimal("119.00")


def test_a_row_whose_ocr_boxes_overlap_its_header_is_still_under_it():
    rows = [
        (20, "Delphin Apotheke"),
        (40, "Detmolder Straße 8, 33102 Paderborn"),
        (100, [(40, "Summe EUR"), (200, "19,90")]),
        (130, [(40, "Typ"), (80, "Netto"), (140, "MwSt"), (200, "Brutto")]),
        (141, [(40, "19"), (80, "16,72"), (140, "3,18"), (200, "19,90")]),  # 3 points overlap
        (156, [(40, "gegeben Kreditkarte"), (200, "19,90")]),
    ]
    fields = _read(rows, kind="receipt", ocr=True, height=14.0)
    assert _values(fields, "subtotal", "tax") == [Decimal("16.72"), Decimal("3.18")]


def test_without_a_total_line_what_was_paid_less_the_change_is_the_total():
    rows = [
        (20, "Pasar Mini Jin Seng"),
        (32, "379, Jalan Permas Satu, 81750 Plentong"),
        (60, [(40, "VEGETABLES"), (200, "20.60")]),
        (72, [(40, "SEAFOOD"), (200, "8.00")]),
        (90, [(40, "SUBTOTAL:"), (200, "28.60")]),
        (110, [(40, "CASH"), (200, "100.00")]),
        (122, [(40, "CASH CHANGE"), (200, "71.40")]),
    ]
    fields = _read(rows, kind="receipt", ocr=True)
    assert fields["total"].value == Decimal("28.60")
    assert fields["total"].rule == "sum:paid-change"
    # change that does not leave a printed figure confirms nothing
    rows[-1] = (122, [(40, "CASH CHANGE"), (200, "71.00")])
    assert "total" not in _read(rows, kind="receipt", ocr=True)


def test_a_date_after_a_date_and_time_label_and_a_colon_is_read():
    fields = _read(
        [
            (20, "Golden Scoop Sdn Bhd"),
            (40, [(40, "Date& time"), (100, ":16/02/201812:04:58")]),
            (60, [(40, "Total (Incl.GST)"), (200, "21.50")]),
        ],
        kind="receipt",
        ocr=True,
    )
    assert fields["date"].value == date(2018, 2, 16)


def test_a_letters_date_beats_a_print_date_in_the_footer_and_is_unsure():
    fields = _read(
        [
            (20, "Fuhrpark Leasing GmbH"),
            (32, "Lilienthalallee 26, 80786 München"),
            (120, [(40, "Muster GmbH"), (350, "Rechnungsnummer: 2015738820")]),
            (132, [(40, "Musterweg 1"), (350, "München, den 01.11.2024")]),
            (300, [(300, "Summe gesamt"), (450, "447,88")]),
            (800, [(40, "IBAN DE34 7007 0010"), (300, "Datum: 30.10.2024 Zeit: 04:59:13")]),
        ]
    )
    assert fields["invoice_date"].value == date(2024, 11, 1)
    assert fields["invoice_date"].rule == "layout:letter-date"
    # two dates the page gives itself disagree: which is the invoice's goes to review
    assert fields["invoice_date"].confidence < MIN_CONFIDENCE


def test_a_date_printed_with_the_title_or_after_the_number_is_the_invoices():
    titled = _read(
        [
            (20, "Versicherungsverein Musterstadt a.G."),
            (100, "Beitragsrechnung 24. Januar 2014"),
            (300, [(300, "Rechnungsbeitrag"), (450, "59,50 €")]),
        ]
    )
    assert titled["invoice_date"].value == date(2014, 1, 24)
    assert "invoice_number" not in titled  # '24.' is the day, not a number
    numbered = _read(
        [
            (20, "Bei Spiel GmbH"),
            (100, "Rechnung # RE-20140519/499 vom 19.05.2014"),
            (300, [(300, "Summe"), (450, "559,84 €")]),
        ]
    )
    assert numbered["invoice_number"].value == "RE-20140519/499"
    assert numbered["invoice_date"].value == date(2014, 5, 19)
    assert numbered["invoice_date"].rule.startswith("label:")


def test_an_unlabelled_date_is_not_the_due_date_printed_first():
    fields = _read(
        [
            (20, [(300, "Pay By")]),
            (32, [(40, "Current balance"), (300, "09/20/24")]),
            (60, "Your billing summary as of Aug 29, 2024"),
            (80, "City Power Inc"),
            (300, [(300, "Total amount due"), (450, "$521,341.68")]),
        ]
    )
    assert fields["due_date"].value == date(2024, 9, 20)
    assert fields["invoice_date"].value == date(2024, 8, 29)


def test_a_sender_line_in_small_print_with_commas_heads_the_address_window():
    words = _words([(60, "Kranwerk GmbH"), (72, "Am Kai 7, 20457 Hamburg")], height=12.0)
    words += _words([(120, [(70, "Kranwerk, Am Kai 7, 20457 Hamburg")])], height=6.0)
    words += _words(
        [
            (140, [(40, "Möwe Reederei AG"), (350, "Rechnungsnummer: RE-17")]),
            (152, [(40, "Deichstraße 12"), (350, "Datum: 14.03.2026")]),
            (164, [(40, "21073 Hamburg")]),
            (300, [(300, "Rechnungsbetrag"), (450, "1.190,00 €")]),
        ]
    )
    fields, _, _, _ = invoice.extract(words, SIZE)
    # the window's address starts left of the sender line over it
    assert fields["customer"].value == "Möwe Reederei AG"
    assert fields["issuer"].value.startswith("Kranwerk")


def test_the_name_under_a_salutation_line_is_the_customer():
    fields = _read(
        [
            (20, "Versicherungsverein Musterstadt a.G."),
            (60, "Herrn"),
            (72, "Max Mustermann"),
            (84, "Musterstr. 11"),
            (96, "12346 Bad Musterhausen"),
            (160, "Beitragsrechnung 24. Januar 2014"),
            (300, [(300, "Rechnungsbeitrag"), (450, "59,50 €")]),
        ]
    )
    assert fields["customer"].value == "Max Mustermann"
    assert fields["issuer"].value != "Max Mustermann"


def test_the_payee_a_sentence_names_is_the_seller_but_unsure():
    fields = _read(
        [
            (20, [(300, "Pay By")]),
            (32, [(40, "Current balance due"), (300, "09/20/24")]),
            (60, "Your billing summary as of Aug 29, 2024"),
            (80, "Last billing period"),
            (300, [(300, "Total amount due"), (450, "$521,341.68")]),
            (600, "Please make checks payable to Hudson Power."),
        ]
    )
    assert fields["issuer"].value.rstrip(".") == "Hudson Power"
    assert fields["issuer"].confidence < MIN_CONFIDENCE  # a payee may be a bank: review


def test_a_watermarks_tall_letters_do_not_join_the_lines_they_cross():
    words = _words(
        [
            (20, "Sliced Demo Pty Ltd"),
            (40, "123 Somewhere Street, Your City AZ 12345"),
            (300, [(300, "Sub Total"), (480, "$85.00")]),
            (316, [(300, "Tax"), (480, "$8.50")]),
            (340, [(300, "Total"), (480, "$93.50")]),
        ]
    )
    words.append(Word("P", 150, 280, 290, 330, 1, 0.99, False))  # a 'PAID' stamp's letter
    lines = group_lines(words)
    assert [ln.text for ln in lines if "Tax" in ln.text] == ["Tax $8.50"]
    fields, _, _, _ = invoice.extract(words, SIZE)
    assert _values(fields, "subtotal", "tax", "total") == [
        Decimal("85.00"),
        Decimal("8.50"),
        Decimal("93.50"),
    ]


def test_a_tax_row_of_net_tax_and_gross_gives_the_middle_figure():
    fields = _read(
        [
            (20, "Drogerie Markt GmbH"),
            (40, "Marktplatz 1, 33098 Paderborn"),
            (80, [(40, "SUMME EUR"), (200, "1,95")]),
            (100, [(40, "A MWST A 19%"), (120, "1,64"), (160, "0,31"), (200, "1,95")]),
        ],
        kind="receipt",
    )
    assert fields["tax"].value == Decimal("0.31")


def test_a_word_that_begins_like_a_currency_code_is_no_currency():
    fields = _read(
        [
            (20, "Aeon Co. (M) Bhd."),
            (40, "Cashier 0235138 SARYANI"),
            (60, [(40, "Total"), (200, "88.95")]),
            (80, "Amounts in RM"),
        ],
        kind="receipt",
        ocr=True,
    )
    assert fields["currency"].value == "MYR"
    # a sign that begins a word still counts: '€/Stk' over the prices' column
    fields = _read(
        [
            (20, "Möbelmarkt GmbH"),
            (40, [(40, "Pos Menge"), (150, "€/Stk"), (200, "€/Ges")]),
            (60, [(40, "Total"), (200, "12,00")]),
        ],
        kind="receipt",
        ocr=True,
    )
    assert fields["currency"].value == "EUR"
