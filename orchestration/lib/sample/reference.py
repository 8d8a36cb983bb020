"""Reference data for the sample: the catalogue and prices (read from the dbt seeds) and
the typical shape of each service type (durations, channels, departments, descriptions)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from orchestration import settings

EPOCH = date(1970, 1, 1)


def day_number(value: date) -> int:
    """Days since 1970-01-01: the integer form dates take inside the generator."""
    return (value - EPOCH).days


@dataclass(frozen=True)
class ServiceProfile:
    """How one service type typically looks in the service log."""

    weight: float  # relative frequency for an ordinary customer
    weight_problem: float  # relative frequency for the heavily served, low-revenue group
    minutes: tuple[int, int, int]  # low, high, step
    participants: tuple[int, int]  # low, high; (0, 0) leaves the field empty (default 1)
    channels: tuple[str, ...]
    department: str
    descriptions: tuple[str, ...]


_DEFAULT_PROFILE = ServiceProfile(
    1.0, 1.0, (15, 120, 15), (1, 1), ("phone", "email"), "Vertrieb",
    ("Leistung für den Kunden erbracht", "Abstimmung mit dem Einkäufer, Rückfragen geklärt"),
)

PROFILES: dict[str, ServiceProfile] = {
    "RESEARCH": ServiceProfile(
        15, 14, (10, 120, 5), (1, 1), ("phone", "email"), "Innendienst",
        ("Recherche Ersatzteil für Altanlage", "Lieferantenvergleich für Sonderwerkstoff",
         "Angebot über 1.200 € für Zubehör vorbereitet",
         "Normenrecherche, DIN-Auszüge zusammengestellt",
         "Suche nach Nachfolgeprodukt für abgekündigten Artikel"),
    ),
    "TECH_INFO": ServiceProfile(
        14, 14, (10, 90, 5), (1, 1), ("phone", "email", "on_site"), "Anwendungstechnik",
        ("Auslegung Pumpe für 45 m³/h geprüft", "Datenblätter und Maßzeichnungen geschickt",
         "Tipps zur Wartung; Schmierplan erläutert", "Werkstoffempfehlung für Außeneinsatz",
         "Einbauhinweise zum Drucksensor gegeben"),
    ),
    "TRAINING": ServiceProfile(
        2, 5, (240, 480, 240), (2, 15), ("on_site", "classroom", "online"), "Schulungszentrum",
        ('Seminar "Energieeffizienz in der Fertigung"', "Produktschulung Steuerungen, Teil 1",
         "Anwenderschulung für Schichtführer; Grundlagen", "Sicherheitsunterweisung Größe 2",
         "Workshop Störungsanalyse für Instandhalter"),
    ),
    "MARKET_INFO": ServiceProfile(
        10, 8, (0, 0, 1), (0, 0), ("web", "email"), "Marketing",
        ("Marktbericht Stahlpreise Q-Ausgabe versandt", "Zugang Online-Portal Marktdaten",
         "Branchenreport Lebensmittelindustrie übermittelt",
         "Preisindex für Rohstoffe, Rückfrage beantwortet"),
    ),
    "ORDER_CHANGE": ServiceProfile(
        12, 10, (0, 20, 5), (0, 0), ("phone", "email"), "Innendienst",
        ("Liefertermin auf Kundenwunsch verschoben", "Menge geändert, Auftragsbestätigung neu",
         "Lieferadresse geändert: Werk Süd", "Teillieferung statt Komplettlieferung vereinbart",
         "Stornierung einer Position über 850 € abgewickelt"),
    ),
    "COMMISSIONING": ServiceProfile(
        2, 6, (60, 480, 30), (1, 1), ("on_site", "remote"), "Service",
        ("Inbetriebnahme Dosieranlage, Parameter eingestellt",
         "Inbetriebnahme Linie 3; Abnahmeprotokoll",
         "Erstinbetriebnahme Steuerung nach Umbau", "Probelauf begleitet, Messwerte dokumentiert"),
    ),
    "HOTLINE": ServiceProfile(
        30, 25, (5, 30, 1), (1, 1), ("phone",), "Anwendungstechnik",
        ("Störung Förderband, Fehlercode E17 erklärt", "Rückfrage zur Bedienung, gelöst",
         "Hotline: Druckabfall an Ventil geklärt", "Frage zum Ersatzteil für Größe 3",
         "Fehlermeldung nach Softwareupdate, Rückruf vereinbart"),
    ),
    "OPTIMISATION": ServiceProfile(
        3, 8, (60, 480, 30), (1, 1), ("on_site", "remote"), "Service",
        ("Fernwartung: Regelparameter optimiert", "Energieverbrauch der Anlage um 8 % gesenkt",
         "Taktzeit optimiert, Ausschuss reduziert",
         "Schwachstellenanalyse; Maßnahmenliste übergeben"),
    ),
    "JOINT_MARKET_RESEARCH": ServiceProfile(
        0.3, 1, (120, 960, 60), (1, 1), ("on_site", "online"), "Marketing",
        ("Gemeinsame Befragung von Endkunden", "Marktstudie Exportmärkte, Auswertung",
         "Workshop Bedarfsanalyse für Kunden des Kunden"),
    ),
    "JOINT_DEVELOPMENT": ServiceProfile(
        0.3, 1, (480, 2400, 60), (1, 1), ("on_site", "remote"), "Entwicklung",
        ("Prototyp Sonderventil gemeinsam entwickelt", "Lead-User-Test neue Baureihe",
         "Gemeinsames Lastenheft für Größe 5 erstellt", "Versuchsreihe im Kundenwerk, Auswertung"),
    ),
    "REPAIR": ServiceProfile(
        4, 4, (30, 300, 15), (1, 1), ("workshop", "on_site"), "Service",
        ("Reparatur Getriebemotor, Lager getauscht", "Instandsetzung Pumpe nach Wasserschaden",
         "Reparatur Steuerplatine; Kulanz geprüft", "Dichtungen erneuert, Funktionstest bestanden"),
    ),
    "FIELD_SERVICE": ServiceProfile(
        2, 2, (60, 480, 30), (1, 1), ("on_site",), "Service",
        ("Technikereinsatz vor Ort: Störung behoben", "Wartungseinsatz, Verschleißteile getauscht",
         "Notfalleinsatz am Wochenende, Anlage läuft", "Vor-Ort-Prüfung nach Störmeldung"),
    ),
}


@dataclass(frozen=True)
class Catalogue:
    codes: list[str]
    is_billed_service: np.ndarray  # bool per code
    profiles: list[ServiceProfile]


@dataclass(frozen=True)
class Prices:
    """What the generator needs of the cost rates to invent realistic billed amounts.

    Per service type (by catalogue index): the first day it has a rate, and a list price from
    its latest rate. The standard cost of an activity is dbt's to compute, from the rate valid
    on its day (int_activities_costed); the list price only has to lie near it, at or above it
    (rates rise over the years), so that a discount stays below the standard cost and an
    invoice at list price or more covers it.
    """

    first_day: np.ndarray  # day number of the type's first rate; NEVER when it has none
    hourly_cents: np.ndarray
    event_cents: np.ndarray
    participant_cents: np.ndarray

    def priced(self, type_idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Whether the type has a rate by `day` (types are priced from their first rate on)."""
        return day >= self.first_day[type_idx]

    def list_price_cents(self, type_idx: np.ndarray, minutes: np.ndarray,
                         participants: np.ndarray) -> np.ndarray:
        """Time at the hourly rate, plus the per-event and per-participant parts."""
        return (minutes * self.hourly_cents[type_idx] / 60 + self.event_cents[type_idx]
                + participants * self.participant_cents[type_idx])


NEVER = np.iinfo(np.int64).max


def _cents(text: str) -> int:
    whole, _, frac = text.strip().partition(".")
    return int(whole or 0) * 100 + int((frac + "00")[:2])


def load_catalogue(path: Path = settings.SERVICE_CATALOGUE_CSV) -> Catalogue:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes = [row["service_type_code"].strip() for row in rows]
    billed = np.array([row["category"].strip() == "billed_service" for row in rows])
    profiles = [PROFILES.get(code, _DEFAULT_PROFILE) for code in codes]
    return Catalogue(codes, billed, profiles)


def load_prices(codes: list[str], path: Path = settings.STANDARD_COST_RATES_CSV) -> Prices:
    """First rate day and latest rate of each code in `codes`, from the seed."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["valid_from"])
    first = np.full(len(codes), NEVER, dtype=np.int64)
    latest: dict[int, dict[str, str]] = {}
    for row in rows:
        if row["service_type_code"] not in codes:
            continue
        index = codes.index(row["service_type_code"])
        first[index] = min(first[index], day_number(date.fromisoformat(row["valid_from"])))
        latest[index] = row

    def part(column: str) -> np.ndarray:
        return np.array([_cents(latest[i][column]) if i in latest else 0
                         for i in range(len(codes))], dtype=np.int64)

    return Prices(first, part("hourly_rate_eur"), part("cost_per_event_eur"),
                  part("cost_per_participant_eur"))
