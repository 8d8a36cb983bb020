"""Reference data for the sample: the catalogue and cost rates (read from the dbt seeds) and
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
class Rates:
    """Standard cost rates as arrays sorted by (type index, valid_from); money in cents."""

    type_idx: np.ndarray
    valid_from: np.ndarray
    valid_to: np.ndarray  # day number, exclusive; open = huge
    hourly_cents: np.ndarray
    event_cents: np.ndarray
    participant_cents: np.ndarray

    def lookup(self, type_idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Index of the rate valid on `day` for each row, -1 where none is valid."""
        scale = np.int64(1 << 32)
        keys = self.type_idx.astype(np.int64) * scale + self.valid_from
        probe = type_idx.astype(np.int64) * scale + day
        pos = np.searchsorted(keys, probe, side="right") - 1
        safe = np.clip(pos, 0, None)
        ok = (pos >= 0) & (self.type_idx[safe] == type_idx) & (day < self.valid_to[safe])
        return np.where(ok, pos, -1)

    def cost_cents(self, rate: np.ndarray, minutes: np.ndarray, participants: np.ndarray):
        """Standard cost in cents (half up); rows without a rate give -1."""
        safe = np.clip(rate, 0, None)
        time_part = (minutes.astype(np.int64) * self.hourly_cents[safe] * 2 + 60) // 120
        cost = time_part + self.event_cents[safe] + participants * self.participant_cents[safe]
        return np.where(rate >= 0, cost, -1)


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


def load_rates(codes: list[str], path: Path = settings.STANDARD_COST_RATES_CSV) -> Rates:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["service_type_code"] in codes]
    rows.sort(key=lambda r: (codes.index(r["service_type_code"]), r["valid_from"]))
    open_end = day_number(date(9999, 12, 31))
    return Rates(
        type_idx=np.array([codes.index(r["service_type_code"]) for r in rows], dtype=np.int64),
        valid_from=np.array([day_number(date.fromisoformat(r["valid_from"])) for r in rows],
                            dtype=np.int64),
        valid_to=np.array([day_number(date.fromisoformat(r["valid_to"])) if r["valid_to"].strip()
                           else open_end for r in rows], dtype=np.int64),
        hourly_cents=np.array([_cents(r["hourly_rate_eur"]) for r in rows], dtype=np.int64),
        event_cents=np.array([_cents(r["cost_per_event_eur"]) for r in rows], dtype=np.int64),
        participant_cents=np.array([_cents(r["cost_per_participant_eur"]) for r in rows],
                                   dtype=np.int64),
    )
