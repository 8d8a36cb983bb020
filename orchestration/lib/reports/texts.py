"""The words and number formats of the reports, in German (the default) and English.

Reference data (segment labels, service names) is not here: it comes from the seeds and the
marts. This module holds the reports' own words (titles, axes, column headers) and how a
number, an amount or a date is written in each language.
"""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"

# message id -> (German, English); `{name}` fields are filled by `text`
_TEXTS: dict[str, tuple[str, str]] = {
    # periods
    "period_running": ("{name}, Daten bis {through}", "{name}, data through {through}"),
    "period_complete": ("{name}", "{name}"),
    "running_note": ("laufender Zeitraum: noch nicht vollständig",
                     "running period: not complete yet"),
    # portfolio chart
    "portfolio_title": ("Kundenwert-Portfolio {period}", "Customer-value portfolio {period}"),
    "portfolio_subtitle": (
        "Schwellen: klassischer Wert {x_cut}, Wertetransfer {y_cut} (gestrichelt); "
        "Blasengröße = Umsatz",
        "thresholds: classic value {x_cut}, value transfer {y_cut} (dashed); "
        "bubble size = revenue",
    ),
    "portfolio_grid": ("Raster {n}×{m}: Quantilgrenzen je Achse (gepunktet)",
                       "{n}×{m} grid: quantile cut-offs per axis (dotted)"),
    "portfolio_x": ("Klassischer Kundenwert (Wert VOM Kunden), € – log. Skala",
                    "Classic customer value (value FROM the customer), € – log scale"),
    "portfolio_y": ("Wertetransfer (Wert ZUM Kunden: kostenlose Leistungen zu "
                    "Standardkosten), € – log. Skala",
                    "Value transfer (value TO the customer: free services at standard "
                    "cost), € – log scale"),
    "legend_segments": ("Segment (Kunden)", "Segment (customers)"),
    "legend_new": ("Neukunde, nach Potenzial bewertet ({n})",
                   "new customer, valued by its potential ({n})"),
    "edge_x": ("am linken Rand: klassischer Wert unter {floor}, auch 0 und negativ ({n})",
               "at the left edge: classic value below {floor}, 0 and negative too ({n})"),
    "edge_y": ("am unteren Rand: Wertetransfer unter {floor}, auch 0 ({n})",
               "at the bottom edge: value transfer below {floor}, 0 too ({n})"),
    "edge_band": ("unter {floor}", "below {floor}"),
    # whale curve
    "whale_title": ("Walkurve des Kundengewinns nach Serviceleistungen {period}",
                    "Whale curve of customer profit after service {period}"),
    "whale_subtitle": (
        "Gewinn nach Service = Deckungsbeitrag − Wertetransfer; Summe {total}, "
        "{customers} Kunden, davon {losses} mit Verlust",
        "profit after service = contribution margin − value transfer; total {total}, "
        "{customers} customers, {losses} of them loss-making",
    ),
    "whale_x": ("Kunden, vom profitabelsten zum unprofitabelsten (kumulierter Anteil)",
                "Customers ranked from most to least profitable (cumulative share)"),
    "whale_y": ("Kumulierter Gewinn nach Service, Anteil am Gesamtgewinn",
                "Cumulative profit after service, share of the total"),
    "whale_y_eur": ("Kumulierter Gewinn nach Service, €",
                    "Cumulative profit after service, €"),
    "whale_peak": ("Die profitabelsten {customers} der Kunden erwirtschaften {profit} "
                   "des Gewinns",
                   "The most profitable {customers} of customers earn {profit} of the profit"),
    "whale_peak_eur": ("Die profitabelsten {customers} der Kunden erwirtschaften {profit}",
                       "The most profitable {customers} of customers earn {profit}"),
    "whale_peak_detail": ("{profit} von {total} Gesamtgewinn", "{profit} of {total} in total"),
    "whale_profitable": ("profitable Kunden ({n})", "profitable customers ({n})"),
    "whale_eroding": ("Verlust nach Service: {segment} ({n})",
                      "loss after service: {segment} ({n})"),
    "whale_total_line": ("Gesamtgewinn (100 %)", "total profit (100 %)"),
}


def text(key: str, lang: str, **fields) -> str:
    """The message `key` in `lang`, its fields filled in."""
    de, en = _TEXTS[key]
    return (de if check_language(lang) == "de" else en).format(**fields)


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return lang


def number(value, lang: str, decimals: int = 0) -> str:
    """`1234.5` as `1.234,50` (de) or `1,234.50` (en)."""
    written = f"{float(value):,.{decimals}f}"
    if check_language(lang) == "de":
        written = written.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return written.replace("-", "−")


def eur(value, lang: str, decimals: int = 0) -> str:
    return f"{number(value, lang, decimals)} €"


def percent(share: float, lang: str) -> str:
    """A share as a whole percentage: 0.62 -> `62 %`."""
    return f"{number(round(float(share) * 100), lang)} %"


def date_text(day: dt.date, lang: str) -> str:
    """`22.11.2026` (de) or `2026-11-22` (en)."""
    return day.strftime("%d.%m.%Y") if check_language(lang) == "de" else day.isoformat()

