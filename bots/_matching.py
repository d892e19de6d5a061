"""Bank statements in (CSV, CAMT.053) and the matching of one payment to open invoices.

Pure functions: no browser, no app. ``match`` returns a Plan (the allocations and the
adjustments whose cause is unambiguous) or raises Review with the evidence a person needs.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import combinations
from pathlib import Path
from xml.etree import ElementTree as ET

from deskhand import BusinessError, ConfigError

CAMT_NS = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.[0-9.]+\}")
CSV_COLUMNS = ("Booking date", "Amount", "Counterparty", "Remittance", "Bank reference")


class Review(BusinessError):
    """The payment needs a person; ``evidence`` says what the bot saw."""

    def __init__(self, cause: str, message: str, evidence: dict | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.evidence = evidence or {}


@dataclass(frozen=True)
class Plan:
    allocations: list[tuple[str, Decimal]]
    adjustments: list[tuple[str, str, Decimal, str]] = field(default_factory=list)  # inv, kind
    how: str = ""


# -- statements ---------------------------------------------------------------------------
def read_statement(path: Path) -> list[dict]:
    """The credits (incoming payments) of a CSV or CAMT.053 statement, as item payloads."""
    if path.suffix.lower() == ".xml":
        return _camt(path)
    return _csv(path)


def _money(text: str, where: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "").strip() or "0")
    except InvalidOperation:
        raise ConfigError(f"{where}: '{text}' is not an amount") from None


def _csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path.name}: columns missing: {', '.join(missing)}")
        rows = []
        for n, row in enumerate(reader, 2):
            amount = _money(row["Amount"], f"{path.name} line {n}")
            if amount <= 0:
                continue  # a debit
            rows.append(
                _payment(
                    row["Bank reference"],
                    row["Booking date"],
                    row["Counterparty"],
                    amount,
                    row["Remittance"],
                    _money(row.get("Charges") or "", f"{path.name} line {n}"),
                    row.get("Currency") or "",
                    path.name,
                )
            )
    return rows


def _camt(path: Path) -> list[dict]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ConfigError(f"{path.name} is not valid XML: {exc}") from None
    ns = CAMT_NS.match(root.tag)
    if not ns:
        raise ConfigError(f"{path.name} is not a CAMT.053 statement (root {root.tag})")
    p = ns.group(0)

    def text(el, route: str) -> str:
        found = el.find("/".join(p + part for part in route.split("/")))
        return (found.text or "").strip() if found is not None else ""

    rows = []
    for entry in root.iter(p + "Ntry"):
        if text(entry, "CdtDbtInd") != "CRDT" or text(entry, "Sts") not in ("BOOK", ""):
            continue
        amount_el = entry.find(p + "Amt")
        remittance = " ".join(
            (u.text or "").strip() for u in entry.iter(p + "Ustrd") if (u.text or "").strip()
        )
        rows.append(
            _payment(
                text(entry, "AcctSvcrRef"),
                text(entry, "BookgDt/Dt"),
                text(entry, "NtryDtls/TxDtls/RltdPties/Dbtr/Nm"),
                _money(text(entry, "Amt"), path.name),
                remittance,
                _money(text(entry, "Chrgs/Amt"), path.name),
                amount_el.get("Ccy", "") if amount_el is not None else "",
                path.name,
            )
        )
    return rows


def _payment(ref, booked, payer, amount, remittance, charges, currency, source) -> dict:
    if not ref:
        raise ConfigError(f"{source}: a payment has no bank reference")
    try:
        date.fromisoformat(booked)
    except ValueError:
        raise ConfigError(f"{source}: payment {ref} has no booking date (YYYY-MM-DD)") from None
    return {
        "bank_ref": ref,
        "booked": booked,
        "payer": payer,
        "amount": f"{amount:.2f}",
        "remittance": remittance,
        "charges": f"{charges:.2f}",
        "currency": currency,
        "source": source,
    }


# -- matching -----------------------------------------------------------------------------
def compact(text: str) -> str:
    """Letters and digits only, upper case: 'AR-26 0104' and 'ar260104' compare equal."""
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def name_key(text: str) -> str:
    return " ".join(re.findall(r"[0-9a-z]+", text.casefold()))


def digit_runs(text: str) -> list[str]:
    """The digit runs (3 or more) of a remittance: what to look invoice numbers up by."""
    return sorted(set(re.findall(r"\d{3,}", text)))


def referenced(remittance: str, numbers: list[str]) -> list[str]:
    """The invoice numbers (from ``numbers``) the remittance text names, in any spelling."""
    text = compact(remittance)
    return [n for n in numbers if compact(n) and compact(n) in text]


def match(payment: dict, invoices: list[dict], settings: dict) -> Plan:
    """What to key for this payment given the customer's invoices (number, issued, due,
    amount, open as Decimal/date); Review when no rule decides it without doubt."""
    amount = Decimal(payment["amount"])
    charges = Decimal(payment.get("charges") or "0")
    rounding = Decimal(str(settings["rounding_limit"]))
    fee_limit = Decimal(str(settings["bank_fee_limit"]))
    booked = date.fromisoformat(payment["booked"])
    window = timedelta(days=int(settings["date_window_days"]))
    evidence = {
        "payment": f"{payment['bank_ref']} {amount:.2f} from {payment['payer']}",
        "open invoices": ", ".join(
            f"{i['number']} {i['open']:.2f}" for i in invoices if i["open"] > 0
        )
        or "none",
    }
    named = [
        i
        for i in invoices
        if i["number"] in referenced(payment["remittance"], [i["number"] for i in invoices])
    ]
    if named:
        open_named = [i for i in named if i["open"] > 0]
        if not open_named:
            raise Review(
                "already paid",
                f"{', '.join(i['number'] for i in named)} already paid: a duplicate payment? "
                f"refund or allocate by hand",
                evidence,
            )
        return _settle(
            open_named, amount, charges, rounding, fee_limit, "reference", evidence, partial=True
        )
    candidates = [
        i for i in invoices if i["open"] > 0 and i["issued"] <= booked <= i["due"] + window
    ]
    for size in (1, 2, 3):
        exact = [c for c in combinations(candidates, size) if sum(i["open"] for i in c) == amount]
        if len(exact) > 1:
            options = "; ".join(" + ".join(i["number"] for i in c) for c in exact)
            raise Review("ambiguous", f"{amount:.2f} fits more than one way: {options}", evidence)
        if exact:
            how = "amount and date" if size == 1 else "amount and date, combined"
            return Plan([(i["number"], i["open"]) for i in exact[0]], how=how)
    near = [
        i
        for i in candidates
        if abs(i["open"] - amount - charges) <= rounding
        or (charges and i["open"] - amount == charges)
    ]
    if len(near) == 1:
        return _settle(near, amount, charges, rounding, fee_limit, "amount and date", evidence)
    raise Review(
        "no match",
        f"no open invoice matches {amount:.2f} and the remittance names none",
        evidence,
    )


def _settle(invoices, amount, charges, rounding, fee_limit, how, evidence, partial=False) -> Plan:
    """Allocate ``amount`` over ``invoices`` (oldest first); a shortfall becomes an
    adjustment only when rounding or the bank's reported charges explain it exactly."""
    due = sum(i["open"] for i in invoices)
    short = due - amount
    last = invoices[-1]["number"]
    full = [(i["number"], i["open"]) for i in invoices]
    if short == 0:
        return Plan(full, how=how)
    if short < 0:
        raise Review(
            "overpayment",
            f"paid {-short:.2f} more than the open {due:.2f}: refund or keep as credit by hand",
            evidence,
        )
    reduced = full[:-1] + [(last, full[-1][1] - short)]
    if short <= rounding:
        reason = f"Rounding difference {short:.2f} on payment"
        return Plan(reduced, [(last, "rounding", short, reason)], how=how + ", rounding")
    if charges and short == charges:
        if charges > fee_limit:
            raise Review(
                "bank fee over limit",
                f"bank charges {charges:.2f} are above the "
                f"{fee_limit:.2f} limit: approve the write-off by hand",
                evidence,
            )
        reason = f"Bank charges {charges:.2f} deducted by the payer's bank"
        return Plan(reduced, [(last, "bank_fee", charges, reason)], how=how + ", bank fee")
    if partial and len(invoices) == 1:
        return Plan([(last, amount)], how=how + ", partial payment")
    raise Review(
        "short payment",
        f"paid {short:.2f} less than the open {due:.2f} of "
        f"{', '.join(i['number'] for i in invoices)}: no rule explains it",
        evidence,
    )
