"""The dbt vars: their one declared schema, and the check of every override against it.

Each var of `dbt_project/dbt_project.yml` is declared here once: its name, type, allowed
values or range, default and meaning. The defaults in dbt_project.yml are dbt's; a test holds
both to the same names and defaults. The overrides (a deployment's `CVM_DBT_VARS`, a run's
`cvm load --vars` or the `vars` of a run's config in Dagster) are checked here before anything
runs: an unknown var or a value out of its type or range is refused with one line that names
the var, the value and what is allowed (`BadVars`). The dbt macros that read the vars keep
their own checks as a second guard.

The reference's table of vars (docs/reference.md, "### dbt vars") is generated from here:
`python -m orchestration.lib.warehouse.dbt_vars` writes it again after a change.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

# the vars the orchestration itself sets for dbt (never an override): on Spark, the file of
# dbt's input statements (macros/cross_engine/engine_inputs.sql); controlling's capacity data
# and time equations of the landing root's folder reference/ (reference_inputs.py)
INTERNAL_VARS = ("cvm_spark_inputs", "cvm_reference")
TABLE_HEADING = "### dbt vars"
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_SHOWN_VALUE = 60  # characters of a refused value shown at most
_PLACES = {"share": 9, "eur": 6}  # the decimal places of a share and of an amount in EUR


class BadVars(ValueError):
    """dbt vars that cannot be used: not a YAML mapping, an unknown var or a value that is not
    allowed. The message is the one line to show."""


def _quoted(text: str) -> str:
    return f"'{text}'"


@dataclass(frozen=True)
class Var:
    """One dbt var. `kind`: `choice` (one of `choices`), `share` (a decimal from 0 to 1 of at
    most 9 decimal places), `whole` (an integer from `low` to `high`), `eur` (an amount of at
    most 6 decimal places and below 10^12 in size) or `flag` (true or false). `nullable`: null
    is allowed too. `at_most`: the name of a var this one may not exceed. `max_places`: fewer
    decimal places than its kind allows, where the rule computes with fewer."""

    name: str
    kind: str
    default: object
    meaning: str
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    nullable: bool = False
    at_most: str | None = None
    max_places: int | None = None

    @property
    def places(self) -> int:
        """The decimal places a value may have: those of its kind, or `max_places`."""
        return self.max_places if self.max_places is not None else _PLACES.get(self.kind, 0)

    @property
    def type_name(self) -> str:
        names = {"choice": "text", "share": "decimal", "whole": "integer", "eur": "decimal",
                 "flag": "boolean"}
        return names[self.kind] + (" or null" if self.nullable else "")

    def allowed(self, code: Callable[[str], str] = _quoted,
                name: Callable[[str], str] = str) -> str:
        """What is allowed, in words; `code` marks a literal value and `name` a var's name
        (quotes and the bare name on the terminal, backticks in Markdown)."""
        if self.kind == "choice":
            text = " or ".join(code(c) for c in self.choices)
        elif self.kind == "share":
            text = f"a decimal from 0 to 1 with at most {self.places} decimal places"
        elif self.kind == "whole":
            text = f"a whole number from {self.low} to {self.high}"
        elif self.kind == "eur":
            text = (f"an amount in EUR with at most {self.places} decimal places, "
                    "less than 10^12 in size")
        else:
            text = f"{code('true')} or {code('false')}"
        if self.nullable:
            text = f"{code('null')} or {text}"
        if self.at_most:
            text += f", at most {name(self.at_most)}"
        return text

    def accepts(self, value: object) -> bool:
        """Whether `value` (as YAML reads it) is of this var's type and in its range."""
        if value is None:
            return self.nullable
        if self.kind == "choice":
            return isinstance(value, str) and value in self.choices
        if self.kind == "flag":
            return isinstance(value, bool)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind == "whole":
            return isinstance(value, int) and self.low <= value <= self.high
        # share, eur: written as a plain decimal (as dbt's macros read it), exactly
        text = str(value)
        if not _PLAIN_DECIMAL.fullmatch(text) or len(text.partition(".")[2]) > self.places:
            return False
        if self.kind == "share":
            return 0 <= value <= 1
        return abs(value) < 10**12


def _threshold(axis: str) -> Var:
    """The portfolio's fixed threshold on `axis` (classic_value, value_transfer)."""
    return Var(f"{axis}_threshold_eur", "eur", None,
               f"the 2×2 portfolio's fixed threshold of {axis.replace('_', ' ')}; null: the "
               "continuous median of the period's rows", nullable=True)


def _bands(axis: str, more: str) -> Var:
    """How many bands of `axis` the finer portfolio grid has."""
    return Var(f"grid_{axis}_bands", "whole", 2,
               f"bands of {axis.replace('_', ' ')} in the finer portfolio grid{more}",
               low=2, high=10)


VARS: tuple[Var, ...] = (
    Var("period_grain", "choice", "year",
        "the marts' periods: calendar years, or quarters for the quarterly sales review",
        choices=("year", "quarter")),
    Var("abc_a_cutoff", "share", 0.8,
        "revenue ABC: a row is A while the revenue ranked above it is below this share of "
        "the period's positive revenue (the 80/15/5 Pareto split); used exactly",
        at_most="abc_b_cutoff"),
    Var("abc_b_cutoff", "share", 0.95,
        "revenue ABC: else B while the revenue ranked above it is below this share, else C"),
    Var("new_customer_months", "whole", 12,
        "a customer whose relationship started less than this many months before the "
        "period's end is new, judged by its potential (12: one full buying cycle)",
        low=0, high=120),
    Var("target_share_of_wallet", "share", 0.25,
        "the share of the annual potential sales gave that is aimed at, for the potential "
        "value: a modest first-year target; set it to the sales plan's figure (the purchase "
        "model's potential is our share already)"),
    Var("classic_value_basis", "choice", "revenue",
        "what the classic value ranks by: revenue, or the contribution margin (revenue "
        "minus cost of goods)",
        choices=("revenue", "contribution_margin")),
    _threshold("classic_value"),
    _threshold("value_transfer"),
    Var("running_period_basis", "choice", "full",
        "the running period: valued like a complete one (`full`), or with its potential and "
        "share of wallet pro rata for the days covered (`to_date`: days_covered / "
        "days_in_period, period_start to data_through and to period_end, both ends "
        "included); complete periods are never prorated",
        choices=("full", "to_date")),
    _bands("classic_value", ": the cut-offs are the period's quantiles (2: the median split, "
           "3: terciles)"),
    _bands("value_transfer", ", likewise"),
    Var("mask_personal_data", "flag", True,
        "mask e-mail addresses (written-out forms such as `(at)` too) and phone numbers in "
        "descriptions and customer names, and e-mail addresses in codes, in every model; "
        "`false` shows them (the raw zone keeps what was delivered)"),
    Var("clv_horizon_months", "whole", 12,
        "the purchase model's horizon: expected purchases, revenue and margin and `clv_eur` "
        "cover this many months after the data's end",
        low=1, high=120),
    Var("clv_discount_rate_annual", "share", 0.08,
        "the yearly rate at which `clv_eur` discounts each month's expected margin (monthly "
        "(1 + rate)^(1/12) - 1)"),
    Var("practical_capacity_share", "share", 0.8,
        "time-driven costing: the share of a department's theoretical capacity that is "
        "practical, where its capacity version (seed `capacity_inputs`) gives none",
        max_places=4),
    Var("costed_minutes", "choice", "logged",
        "the minutes an activity is costed at: its logged duration, or the standard minutes "
        "of its service type's time equation (seed `time_equations`) where it has one",
        choices=("logged", "time_equation")),
)
BY_NAME: dict[str, Var] = {v.name: v for v in VARS}


def _shown(value: object) -> str:
    """A value as one short line (JSON, so a text shows its quotes)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_VALUE else text[: _SHOWN_VALUE - 1] + "…"


def parse_vars(text: str | None, origin: str) -> dict:
    """A YAML mapping of dbt vars ('' or None: none), not yet checked."""
    if not text or not text.strip():
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise BadVars(f"{origin}: not YAML: {detail}") from None
    if not isinstance(value, dict):
        raise BadVars(f"{origin}: expected a mapping such as '{{period_grain: quarter}}', "
                      f"got {text!r}")
    return value


def check_vars(values: Mapping, origin: str) -> None:
    """Refuse the first var of `values` that is unknown or not allowed (BadVars, one line
    naming `origin`, the var, its value and what is allowed)."""
    for name, value in values.items():
        var = BY_NAME.get(name) if isinstance(name, str) else None
        if var is None:
            close = difflib.get_close_matches(str(name), list(BY_NAME), n=1, cutoff=0.6)
            hint = (f"did you mean {close[0]}?" if close
                    else "the known vars are " + ", ".join(BY_NAME))
            raise BadVars(f"{origin}: unknown var {name} (= {_shown(value)}); {hint}")
        if not var.accepts(value):
            raise BadVars(f"{origin}: {name} = {_shown(value)} is not allowed "
                          f"(allowed: {var.allowed()})")


def check_together(sources: list[tuple[str, Mapping]]) -> None:
    """Refuse vars in effect that disagree with each other (`at_most`): over the defaults,
    the `(origin, values)` of each source in order, the later ones winning."""
    effective = {v.name: v.default for v in VARS}
    for _, values in sources:
        effective.update(values)
    for var in VARS:
        if var.at_most is None:
            continue
        value, limit = effective[var.name], effective[var.at_most]
        if value is not None and limit is not None and value > limit:
            origin = next((o for o, values in reversed(sources)
                           if var.name in values or var.at_most in values), "dbt_project.yml")
            raise BadVars(f"{origin}: {var.name} = {_shown(value)} is not allowed "
                          f"(allowed: at most {var.at_most}, which is {_shown(limit)})")


def checked_vars(sources: list[tuple[str, str | None]]) -> dict:
    """The overrides in effect: each `(origin, YAML text)` parsed and checked, in order, the
    later ones over the earlier ones. BadVars at the first that is not allowed."""
    parsed = []
    for origin, text in sources:
        values = parse_vars(text, origin)
        check_vars(values, origin)
        parsed.append((origin, values))
    check_together(parsed)
    merged: dict = {}
    for _, values in parsed:
        merged.update(values)
    return merged


# --- the reference's table ------------------------------------------------------------------

def _code(text: str) -> str:
    return f"`{text}`"


def _default_cell(var: Var) -> str:
    if var.kind == "choice":
        return _code(var.default)
    return _code(json.dumps(var.default)) if var.kind == "flag" or var.default is None \
        else str(var.default)


def reference_table() -> str:
    """The Markdown table of the vars, as docs/reference.md shows it."""
    lines = ["| var | type | allowed | default | meaning |", "|---|---|---|---|---|"]
    for var in VARS:
        lines.append(f"| `{var.name}` | {var.type_name} | {var.allowed(_code, _code)} | "
                     f"{_default_cell(var)} | {var.meaning} |")
    return "\n".join(lines) + "\n"


def _table_span(text: str) -> tuple[int, int]:
    """Start and end (character offsets) of the first table after TABLE_HEADING."""
    start = text.index(TABLE_HEADING + "\n")
    first = text.index("\n|", start) + 1
    end = first
    while end < len(text) and text.startswith("|", end):
        end = text.index("\n", end) + 1
    return first, end


def documented_table(reference: Path) -> str:
    """The table of vars docs/reference.md shows now."""
    text = reference.read_text(encoding="utf-8")
    first, end = _table_span(text)
    return text[first:end]


def write_reference_table(reference: Path) -> None:
    """Replace the table of vars in docs/reference.md by the one generated here."""
    text = reference.read_text(encoding="utf-8")
    first, end = _table_span(text)
    reference.write_text(text[:first] + reference_table() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    from orchestration.settings import PROJECT_DIR

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_DIR / "docs" / "reference.md"
    write_reference_table(target)
    print(f"table of dbt vars written to {target}")
