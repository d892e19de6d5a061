"""Rules for till receipts as shops print them, each on words built here (boxes as OCR gives
them): the seller's name over its company number beats a logo read as letters, a bare number
is no registration, a registration's label is no name, a name with a heading's word in it
('Cash & Carry'), a letter-spaced legal name with its number, and a 'Net total' that is
what is paid after the tax and the rounding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from word_boxes import words

from deskhand.documents import invoice, receipt
from deskhand.documents.model import Word
from deskhand.documents.validation import MIN_CONFIDENCE

SIZE = [(230.0, 600.0)]


def _words(rows, conf: float = 0.95, ocr: bool = True) -> list[Word]:
    """Words of a receipt read by OCR, plain rows starting at x 20 (see word_boxes.words)."""
    return words(rows, left=20.0, conf=conf, ocr=ocr)


def _receipt(rows, **kwargs):
    fields, _, _, _ = receipt.extract(_words(rows, **kwargs), SIZE)
    return fields


def _value(fields, name):
    return fields[name].value if name in fields else None


def _till_with(line: str):
    """The fields of a shop's till receipt with ``line`` printed under its address."""
    return _receipt([*SHOP, (60, line), *TILL, (340, [(20, "TOTAL"), (180, "7.50")])])


SHOP = [(20, "KEDAI MAKAN SEDAP"), (32, "12 Jalan Merah, 43000 Kajang")]
TILL = [
    (300, [(20, "TEH TARIK"), (180, "4.50")]),
    (312, [(20, "ROTI CANAI"), (180, "3.00")]),
]


def test_the_name_over_its_company_number_beats_a_logo_read_as_letters_over_it():
    fields = _receipt(
        [
            (10, "Rqvo", 24),  # a logo's strokes read as a word, in big type
            (40, "MBB 264100"),  # a bank's logo and a number: no registration
            (60, "KEDAI BUKU MAJU"),
            (72, "(123456-K)"),
            (84, "LOT 12 JALAN MERAH"),
            (96, "43000 KAJANG, SELANGOR"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "KEDAI BUKU MAJU"


def test_a_bare_number_after_a_logos_letters_is_no_registration():
    fields = _receipt(
        [
            (10, "MBB 264100", 20),
            (60, "Corner Bakery"),
            (72, "12 Jalan Merah, 43000 Kajang"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "Corner Bakery"
    assert fields["issuer"].confidence >= MIN_CONFIDENCE  # a trade and its address under it


def test_a_line_of_digits_over_the_name_is_not_an_address_it_ends():
    fields = _receipt(
        [
            (10, "31802.01.3"),
            (40, "SENG HUAT HARDWARE TRADING"),
            (52, "No 7, Jalan Ipoh Batu 5,"),
            (64, "51200 Kuala Lumpur"),
            (76, "MALAYSIA"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "SENG HUAT HARDWARE TRADING"


def test_a_registration_label_is_no_name():
    fields = _receipt(
        [
            (20, "ANGKASA TAILORING"),
            (32, "19, Jalan Kancil, 55100 Kuala Lumpur"),
            (44, "Company Reg No.: 75495-W"),
            (56, "GST Reg No.: 001948532736"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "ANGKASA TAILORING"


def test_a_name_with_a_headings_word_in_it_is_still_a_name():
    fields = _receipt(
        [
            (10, "Zmqx", 24),
            (44, "GOLDEN CASH & CARRY"),
            (56, "(987654-P)"),
            (68, "No.1 Jalan SS 9/1, 47300 Petaling Jaya"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
            (352, [(20, "CASH"), (180, "10.00")]),
        ]
    )
    assert _value(fields, "issuer") == "GOLDEN CASH & CARRY"


def test_a_letter_spaced_legal_name_with_its_glued_number():
    rows = []
    left = 20.0
    for part in ("SUNRISE", "TRADING", "SDN", "BHD", "1234K"):
        for ch in part:
            rows.append(Word(ch, left, 20, left + 4.5, 34, 1, 0.9, True))
            left += 5.0
        left += 6.0  # the wider gap between words of letter-spaced print
    body = _words(
        [
            (44, "12 Jalan Merah, 43000 Kajang"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    fields, _, _, _ = receipt.extract(rows + body, SIZE)
    assert _value(fields, "issuer") == "SUNRISE TRADING SDN BHD"


def test_a_net_total_after_the_tax_and_the_rounding_is_the_total():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (330, [(20, "SUB TOTAL"), (180, "7.50")]),
            (342, [(20, "GST 6%"), (180, "0.45")]),
            (354, [(20, "ROUNDING ADJ"), (180, "0.00")]),
            (366, [(20, "NET TOTAL"), (180, "7.95")]),
            (378, [(20, "CASH"), (180, "10.00")]),
        ]
    )
    assert [_value(fields, n) for n in ("subtotal", "tax", "total")] == [
        Decimal("7.50"),
        Decimal("0.45"),
        Decimal("7.95"),
    ]


def test_a_net_total_over_its_tax_summary_is_the_total():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (340, [(20, "NET TOTAL"), (180, "7.50")]),
            (370, [(20, "GST Summary"), (100, "Amount"), (180, "Tax")]),
            (382, [(20, "S"), (40, "6%"), (100, "7.08"), (180, "0.42")]),
        ]
    )
    assert _value(fields, "total") == Decimal("7.50")


def test_a_net_total_with_the_vat_added_under_it_is_the_amount_before_tax():
    words = _words(
        [
            (20, "Muster Software GmbH"),
            (32, "Hauptstrasse 1, 10115 Berlin"),
            (300, [(20, "Consulting"), (180, "100.00")]),
            (330, [(20, "Net total"), (180, "100.00")]),
            (342, [(20, "VAT 19%"), (180, "19.00")]),
        ],
        conf=0.99,
        ocr=False,
    )
    fields, _, _, _ = invoice.extract(words, SIZE)
    assert _value(fields, "subtotal") == Decimal("100.00")
    assert _value(fields, "total") is None


def test_a_labels_words_read_without_their_space():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (340, [(20, "TotalSales (Inclusive GST)"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "total") == Decimal("7.50")


def test_a_total_line_of_zero_is_not_the_total():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
            (352, [(20, "CASH"), (180, "10.00")]),
            (364, [(20, "TOTAL LOADING CHARGES"), (180, "0.00")]),
        ]
    )
    assert _value(fields, "total") == Decimal("7.50")


def test_the_total_after_a_cash_rounding_goes_to_review():
    fields = _receipt(
        [
            *SHOP,
            (300, [(20, "KOPI O"), (180, "7.48")]),
            (340, [(20, "Total Sales (Inclusive GST)"), (180, "7.48")]),
            (352, [(20, "Rounding Adjustment"), (180, "0.02")]),
            (364, [(20, "Rounding RM"), (180, "7.50")]),
            (376, [(20, "CASH"), (180, "10.00")]),
        ]
    )
    assert _value(fields, "total") == Decimal("7.50")
    # which of the two a shop calls its total varies: a person checks
    assert fields["total"].confidence < MIN_CONFIDENCE


def test_a_total_already_rounded_is_not_the_cash_handed_over():
    fields = _receipt(
        [
            *SHOP,
            (300, [(20, "KOPI O"), (180, "1.75")]),
            (340, [(20, "Total Sales Incl GST"), (180, "1.75")]),
            (352, [(20, "Total After Adj Incl GST"), (180, "1.75")]),
            (364, [(20, "CASH"), (180, "1.80")]),
            (376, [(20, "Change Amt"), (180, "0.05")]),
        ]
    )
    assert _value(fields, "total") == Decimal("1.75")


def test_a_legal_form_misread_by_a_letter_is_repaired_and_held_for_review():
    fields = _receipt(
        [
            (20, "SENTOSA HEALTHCARE SIN BHA"),
            (32, "(1118258-K)"),
            (44, "B-8, Jalan SS15/4D, 47500 Subang Jaya"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "SENTOSA HEALTHCARE SDN BHD"
    assert fields["issuer"].confidence < MIN_CONFIDENCE


def test_a_trading_name_over_the_legal_name_whose_box_it_overlaps():
    # OCR's boxes: the second line's top is above the first line's bottom
    fields = _receipt(
        [
            (47, "AA PHARMACY", 8),
            (53, "SENTOSA HEALTHCARE SDN BHD", 7),
            (60, "1118258-K", 7),
            (67, "GST NO: 001536708608", 7),
            (74, "B-8, JALAN SS15/4D, 47500 SUBANG JAYA", 7),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "SENTOSA HEALTHCARE SDN BHD"


def test_the_legal_name_under_a_trading_name_is_held_for_review():
    fields = _receipt(
        [
            (20, "SANTAI STATIONERY SHOP", 14),
            (40, "12 Jalan Merah, 43000 Kajang"),
            (52, "Owned By"),
            (64, "SANTAI SUPPLY SDN BHD (1135772-K)"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "SANTAI SUPPLY SDN BHD"
    # a shop known by its trading name may be filed under either: a person checks
    assert fields["issuer"].confidence < MIN_CONFIDENCE


def test_the_date_of_a_tills_order_line_when_no_other_date_is_printed():
    fields = _till_with("Order No. 1000219 11/03/2018 06:20 PM")
    assert _value(fields, "date") == date(2018, 3, 11)
    assert fields["date"].confidence < MIN_CONFIDENCE  # a guess: a person checks


def test_an_order_date_is_not_the_receipts_date():
    assert _value(_till_with("Order date 01/03/2018"), "date") is None


def test_a_compact_date_with_its_time():
    assert _value(_till_with("Date/Time 20180428/191204"), "date") == date(2018, 4, 28)


def test_a_figure_misread_beside_its_label_is_not_taken_from_the_line_below():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (340, [(20, "Net Total"), (180, "17. J")]),
            (352, [(20, "C"), (180, "10.00")]),  # cash, its label misread
        ]
    )
    assert _value(fields, "total") is None  # not 10.00: missing goes to review, wrong is keyed


def test_a_rounded_total_under_a_total_that_adds_up():
    fields = _receipt(
        [
            *SHOP,
            (300, [(20, "NASI LEMAK"), (180, "67.00")]),
            (330, [(20, "Total (Excluding GST):"), (180, "67.00")]),
            (342, [(20, "GST Payable:"), (180, "4.02")]),
            (354, [(20, "Total (Inclusive of GST):"), (180, "71.02")]),
            (366, [(20, "Rounding Adj:"), (180, "-0.02")]),
            (378, [(20, "TOTAL:"), (180, "71.00")]),
            (390, [(20, "CASH"), (180, "71.00")]),
        ]
    )
    assert [_value(fields, n) for n in ("subtotal", "tax", "total")] == [
        Decimal("67.00"),
        Decimal("4.02"),
        Decimal("71.00"),
    ]


def test_a_name_read_with_letters_and_digits_in_a_word_is_held_for_review():
    fields = _receipt(
        [
            (20, "B00KWORM TRADING SDN BHD"),  # OCR took the O's for zeros
            (32, "(123456-K)"),
            (44, "12 Jalan Merah, 43000 Kajang"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "B00KWORM TRADING SDN BHD"
    assert fields["issuer"].confidence < MIN_CONFIDENCE


def test_a_legal_form_and_its_company_number_read_as_one_word():
    fields = _receipt(
        [
            (20, "88 KEDAI RUNCIT S/B(519537-X)"),
            (32, "LOT P.T. 2811, JALAN ANGSA,"),
            (44, "41150 KLANG, SELANGOR"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "88 KEDAI RUNCIT S/B"


def test_a_company_number_after_its_label_in_brackets():
    fields = _receipt(
        [
            (20, "Bumi Realties Sdn Bhd (Co. No:20154-T)"),
            (32, "27, Jalan Sultan Ismail, 50250 Kuala Lumpur"),
            (44, "Company RegNo.(002231061-T)"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "Bumi Realties Sdn Bhd"


def test_a_label_whose_l_ocr_read_as_a_slash():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (330, [(20, "Total Sales (Excluding GST)"), (180, "7.50")]),
            (342, [(20, "Total GST"), (180, "0.45")]),
            (354, [(20, "Tota/Sales (Inclusive of GST)"), (180, "7.95")]),
            (380, [(20, "Tax Code"), (90, "Amt (RM)"), (180, "Tax (RM)")]),
            (392, [(20, "Total"), (90, "7.50"), (180, "0.45")]),
        ]
    )
    assert _value(fields, "total") == Decimal("7.95")
    assert fields["total"].confidence >= MIN_CONFIDENCE  # 7.50 + 0.45 = 7.95


def test_a_seller_named_only_by_its_logo_is_read_from_its_web_address():
    fields = _receipt(
        [
            (10, "Qx", 30),  # the logo
            (60, "No 8, Jalan 7/118B, Desa Tun Razak"),
            (72, "56000 Kuala Lumpur, Malaysia"),
            (96, "WONG MEI LING Trans: 114793"),  # the cashier
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
            (400, "www. bukuria. com. my"),  # OCR's spaces after the dots
            (412, "Follow us: www.facebook.com/bukuria"),
        ]
    )
    assert _value(fields, "issuer") == "bukuria"
    assert fields["issuer"].confidence < MIN_CONFIDENCE  # a site may be a brand's or a mall's


def test_a_named_seller_is_not_replaced_by_a_web_address():
    fields = _receipt(
        [
            (20, "Corner Bakery"),
            (32, "12 Jalan Merah, 43000 Kajang"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
            (400, "www.bakerymall.com.my"),
        ]
    )
    assert _value(fields, "issuer") == "Corner Bakery"


def test_cash_after_its_currency_and_a_speck_after_the_figure():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (340, [(20, "SUBTOTAL"), (180, "7.50")]),
            (352, [(20, "RM CASH"), (180, "10.00℃")]),
            (364, [(20, "CHANGE"), (180, "2.50")]),
        ]
    )
    # no total printed: 10.00 handed over less 2.50 back is the subtotal, so it is the total
    assert _value(fields, "total") == Decimal("7.50")


def test_a_net_figure_after_a_currency_inside_a_line_is_no_label():
    words = _words(
        [
            (20, "Muster Hotel GmbH"),
            (32, "Hauptstrasse 1, 10115 Berlin"),
            (300, [(20, "Zwischensumme (Netto)"), (180, "170,64 EUR")]),
            (312, [(20, "B: 158,88 EUR Netto zzgl. MwSt. 7%"), (180, "11,12 EUR")]),
            (324, [(20, "A: 11,76 EUR Netto zzgl. MwSt. 19%"), (180, "2,24 EUR")]),
            (340, [(20, "Endbetrag"), (180, "184,00 EUR")]),
        ],
        conf=0.99,
        ocr=False,
    )
    fields, _, _, _ = invoice.extract(words, SIZE)
    assert _value(fields, "subtotal") == Decimal("170.64")
    assert _value(fields, "total") == Decimal("184.00")


def test_a_name_a_letter_off_a_label_word_is_still_a_name():
    fields = _receipt(
        [
            (20, "WARUNG SEDAP"),  # one letter off 'Währung'
            (32, "12 Jalan Merah, 43000 Kajang"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "WARUNG SEDAP"


def test_an_amount_ocr_read_with_a_space_after_its_decimal_mark():
    fields = _receipt(
        [
            *SHOP,
            *TILL,
            (340, [(20, "Total RM"), (180, "49. 40")]),
        ]
    )
    assert _value(fields, "total") == Decimal("49.40")


def test_a_shops_name_on_two_lines_over_a_house_numbered_address():
    fields = _receipt(
        [
            (20, "GOLDEN LOTUS"),
            (32, "NOODLE & RICE"),
            (44, "109, SS21/1A,"),  # a house number first: an address line
            (56, "DAMANSARA UTAMA"),
            (68, "GST ID: 001661886464"),
            *TILL,
            (340, [(20, "TOTAL"), (180, "7.50")]),
        ]
    )
    assert _value(fields, "issuer") == "GOLDEN LOTUS NOODLE & RICE"
    assert fields["issuer"].confidence < MIN_CONFIDENCE  # where the name ends is a guess


def test_a_speck_read_as_a_letter_between_a_date_label_and_its_date():
    assert _value(_till_with("Date e 15-06-2018 11:35:35"), "date") == date(2018, 6, 15)


def test_a_one_digit_day_after_a_date_label_is_kept():
    words = _words(
        [
            (20, "Muster Software GmbH"),
            (32, "Hauptstrasse 1, 10115 Berlin"),
            (60, [(20, "Invoice date"), (120, "2 March 2026")]),
            (72, [(20, "Due date"), (120, "5 April 2026")]),
            (300, [(20, "Consulting"), (180, "100.00")]),
            (330, [(20, "Total"), (180, "100.00")]),
        ]
    )
    fields, _, _, _ = invoice.extract(words, SIZE)
    assert _value(fields, "due_date") == date(2026, 4, 5)
