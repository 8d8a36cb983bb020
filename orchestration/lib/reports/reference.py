"""Reference data of the published warehouse: the segments (seed `reference.segments`) and
the service catalogue (`marts.dim_service_types`), each with its words in both languages."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.lib.reports.translations import in_language
from orchestration.lib.sql import records


@dataclass(frozen=True)
class Segment:
    """A row of the seed `reference.segments`."""

    code: str
    display_order: int
    classic_value_level: str
    value_transfer_level: str
    label_de: str
    label_en: str
    strategy_en: str
    strategy_de: str

    def label(self, lang: str) -> str:
        return in_language(lang, de=self.label_de, en=self.label_en)

    def strategy(self, lang: str) -> str:
        return in_language(lang, de=self.strategy_de, en=self.strategy_en)

    def advice(self, lang: str) -> str:
        """The strategy as shown beside the segment's label: without a leading repeat of the
        label (``Investitionskunden: Mehrwertleistungen …`` → ``Mehrwertleistungen …``);
        empty when the strategy is the label itself."""
        label, strategy = self.label(lang).strip(), self.strategy(lang).strip()
        if strategy.casefold() == label.casefold():
            return ""
        if strategy.casefold().startswith(label.casefold() + ":"):
            rest = strategy[len(label) + 1:].strip()
            return rest[:1].upper() + rest[1:]
        return strategy


def segments(con) -> list[Segment]:
    """The portfolio's segments in display order, with labels and strategies."""
    return records(
        con, Segment,
        """
        select segment, display_order, classic_value_level, value_transfer_level,
               segment_label_de, segment_label_en, strategy, strategy_de
        from reference.segments
        order by display_order
        """,
    )


@dataclass(frozen=True)
class ServiceType:
    """A row of `marts.dim_service_types`."""

    code: str
    name_de: str
    name_en: str
    cost_driver: str
    customer_name_de: str  # the names the customer reads (the statement)
    customer_name_en: str

    @property
    def counts_participants(self) -> bool:
        """Participants matter for services costed per participant (trainings)."""
        return self.cost_driver == "participant"

    def name(self, lang: str) -> str:
        return in_language(lang, de=self.name_de, en=self.name_en)

    def customer_name(self, lang: str) -> str:
        """The name written for the customer: no internal label, the customer as "you"."""
        return in_language(lang, de=self.customer_name_de, en=self.customer_name_en)


def service_types(con) -> dict[str, ServiceType]:
    """The service catalogue by code, in the catalogue's names."""
    rows = con.execute(
        "select service_type_code, name_de, name_en, cost_driver, customer_name_de, "
        "customer_name_en from marts.dim_service_types"
    ).fetchall()
    return {row[0]: ServiceType(*row) for row in rows}
