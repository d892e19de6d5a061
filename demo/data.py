"""Master data shared by the demo app and the sample documents: one place, so they agree."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Vendor:
    code: str
    name: str
    address: str
    currency: str


# The first five issue the sample invoices; the rest only exist in the legacy app's
# vendor list, so that picking the right vendor actually matters.
VENDORS = [
    Vendor("ACME", "Acme Office Supplies Ltd", "12 Harbour Road, Leeds LS1 4AB", "GBP"),
    Vendor("NORD", "Nordwind Logistik GmbH", "Hafenstrasse 7, 20457 Hamburg", "EUR"),
    Vendor("BLUE", "Bluepeak Software Inc.", "500 Market Street, San Francisco, CA 94105", "USD"),
    Vendor("CASC", "Cascade Janitorial Services", "88 Pine Avenue, Portland, OR 97204", "USD"),
    Vendor("LUMI", "Lumiere Traiteur SARL", "4 Rue des Lilas, 69002 Lyon", "EUR"),
    Vendor("ACMT", "Acme Tooling Corp", "9 Forge Lane, Sheffield S1 2HE", "GBP"),
    Vendor("BLUF", "Bluefield Catering Co", "21 Elm Street, Boston, MA 02108", "USD"),
    Vendor("NORS", "Nordstrom Paper AB", "Kungsgatan 3, 111 43 Stockholm", "EUR"),
]

CURRENCIES = ["USD", "EUR", "GBP", "CHF"]

# Payment terms as the legacy app stores them, with the label it shows.
TERMS = {
    "NET15": "Net 15",
    "NET30": "Net 30",
    "NET60": "Net 60",
    "DUE_ON_RECEIPT": "Due on receipt",
}

# The demo app's only user. A demo, not a secret: the bot still reads it through the vault.
DEMO_USER = "clerk"
DEMO_PASSWORD = "ledger-2005"
