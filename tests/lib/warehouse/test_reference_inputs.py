"""Controlling's capacity data and time equations in the landing root's folder reference/:
read, checked line by line, passed to dbt as the var cvm_reference, part of the rules."""

from __future__ import annotations

import pytest

from orchestration.lib import landing as landing_lib
from orchestration.lib.warehouse import reference_inputs as ri
from orchestration.lib.warehouse.fingerprint import effective_vars, rules_fingerprint
from orchestration.runner import run_load
from orchestration.settings import DBT_PROJECT_DIR

HEADER = ("capacity_id,department,valid_from,valid_to,capacity_cost_eur,theoretical_minutes,"
          "people,working_days,minutes_per_day,practical_share\n")
GOOD = (HEADER
        + "AT-2026,Anwendungstechnik,2026-01-01,2027-01-01,84000.00,,2.5,220,450,\n"
        + "ID-2026,Innendienst,2026-01-01,2026-07-01,33000.5,52800,,,,0.85\n")
EQUATIONS = ("equation_id,service_type_code,driver,minutes\n"
             "EQ-HOTLINE,HOTLINE,base,5\n"
             "EQ-HOTLINE,HOTLINE,channel:on_site,30.5\n")


def _reference(root, name: str, text: str, encoding: str = "utf-8"):
    path = root / "reference" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def test_without_a_reference_folder_the_seeds_hold(tmp_path):
    assert ri.dbt_vars(tmp_path) == {}
    assert ri.dbt_vars(None) == {}
    assert effective_vars("{period_grain: quarter}", landing=tmp_path) == {
        "period_grain": "quarter"}


def test_the_files_rows_in_the_seeds_column_order(tmp_path):
    # columns in another order, a byte order mark (Excel): the seed's order, empty -> None
    columns = HEADER.strip().split(",")
    shuffled = ",".join(reversed(columns)) + "\n" + "\n".join(
        ",".join(reversed(line.split(","))) for line in GOOD.splitlines()[1:]) + "\n"
    _reference(tmp_path, "capacity_inputs", shuffled, encoding="utf-8-sig")
    _reference(tmp_path, "time_equations", EQUATIONS)
    assert effective_vars("", landing=tmp_path) == {"cvm_reference": {
        "capacity_inputs": [
            ["AT-2026", "Anwendungstechnik", "2026-01-01", "2027-01-01", "84000.00", None,
             "2.5", "220", "450", None],
            ["ID-2026", "Innendienst", "2026-01-01", "2026-07-01", "33000.5", "52800", None,
             None, None, "0.85"]],
        "time_equations": [["EQ-HOTLINE", "HOTLINE", "base", "5"],
                           ["EQ-HOTLINE", "HOTLINE", "channel:on_site", "30.5"]]}}


def test_a_file_with_its_header_only_gives_no_rows(tmp_path):
    _reference(tmp_path, "capacity_inputs", HEADER)
    assert ri.dbt_vars(tmp_path) == {"cvm_reference": {"capacity_inputs": []}}


def _line(text: str) -> str:
    return HEADER + "AT-2025,Anwendungstechnik,2025-01-01,2026-01-01,80000.00,,2,220,450,\n" + text


@pytest.mark.parametrize(("text", "line", "reason"), [
    (HEADER.replace("people,", "persons,") + "\n", 1, "the header must name the columns"),
    (_line("AT-2025,Innendienst,2026-01-01,2027-01-01,1.00,1000,,,,\n"), 3,
     "capacity_id 'AT-2025' is already on line 2"),
    (_line("AT-2026H1,Anwendungstechnik,2025-12-01,2026-07-01,1.00,1000,,,,\n"), 3,
     "capacity version 'AT-2026H1' of department 'Anwendungstechnik' overlaps 'AT-2025' "
     "(line 2)"),
    (_line("X,Innendienst,01.01.2026,2027-01-01,1.00,1000,,,,\n"), 3,
     "valid_from '01.01.2026' is no date (YYYY-MM-DD)"),
    (_line("X,Innendienst,2026-01-01,2027-01-03,1.00,1000,,,,\n"), 3,
     "valid_from 2026-01-01 to valid_to 2027-01-03: a version lasts from 1 to 366 days"),
    (_line("X,Innendienst,2026-01-01,2026-01-01,1.00,1000,,,,\n"), 3,
     "valid_from 2026-01-01 to valid_to 2026-01-01: a version lasts from 1 to 366 days"),
    (_line('X,Innendienst,2026-01-01,2027-01-01,"1.000,00",1000,,,,\n'), 3,
     "capacity_cost_eur '1.000,00' is not a number with at most 2 decimal places"),
    (_line("X,Innendienst,2026-01-01,2027-01-01,1.005,1000,,,,\n"), 3,
     "capacity_cost_eur '1.005' is not a number with at most 2 decimal places"),
    (_line("X,Innendienst,2026-01-01,2027-01-01,-1.00,1000,,,,\n"), 3,
     "capacity_cost_eur '-1.00' is negative"),
    (_line("X,Innendienst,2026-01-01,2027-01-01,1.00,1000,2,220,450,\n"), 3,
     "give the theoretical capacity once"),
    (_line("X,Innendienst,2026-01-01,2027-01-01,1.00,,2,,450,\n"), 3,
     "give the theoretical capacity once"),
    (_line("X,Innendienst,2026-01-01,2027-01-01,1.00,1000,,,,1.2\n"), 3,
     "practical_share '1.2' is more than 1"),
    (_line("X,Innendienst,2026-01-01,2027-01-01,1.00,1000,,,,0.80001\n"), 3,
     "practical_share '0.80001' is not a number with at most 4 decimal places"),
    (_line("X,,2026-01-01,2027-01-01,1.00,1000,,,,\n"), 3, "department is empty"),
    (_line("X,Inn\\endienst,2026-01-01,2027-01-01,1.00,1000,,,,\n"), 3,
     "department 'Inn\\\\endienst' holds a control character or a backslash"),
    (_line("X,Innendienst,2026-01-01,2027-01-01,1.00,1000\n"), 3,
     "6 fields, the header has 10"),
])
def test_a_bad_row_names_the_file_the_line_and_the_reason(tmp_path, text, line, reason):
    path = _reference(tmp_path, "capacity_inputs", text)
    with pytest.raises(ri.BadReference) as raised:
        ri.dbt_vars(tmp_path)
    assert str(raised.value).startswith(f"{path}, line {line}: {reason}")


@pytest.mark.parametrize(("row", "reason"), [
    ("EQ-X,NO_SUCH_TYPE,base,5", "service_type_code 'NO_SUCH_TYPE' is not in the service "
                                 "catalogue"),
    ("EQ-HOTLINE,HOTLINE,duration,5", "driver 'duration' is none of base, participants, "
                                      "channel:<channel>"),
    ("EQ-HOTLINE,HOTLINE,base,6", "the term 'base' of HOTLINE is already on line 2"),
    ("EQ-OTHER,HOTLINE,participants,6", "HOTLINE has the equation 'EQ-HOTLINE' already "
                                        "(line 2); one equation per service type"),
    ("EQ-HOTLINE,HOTLINE,participants,1.234", "minutes '1.234' is not a number with at most "
                                              "2 decimal places (a point, no thousands "
                                              "separator)"),
])
def test_a_bad_time_equation_names_the_file_the_line_and_the_reason(tmp_path, row, reason):
    path = _reference(tmp_path, "time_equations", EQUATIONS + row + "\n")
    with pytest.raises(ri.BadReference) as raised:
        ri.dbt_vars(tmp_path)
    assert str(raised.value) == f"{path}, line 4: {reason}"


def test_a_changed_file_changes_the_rules(tmp_path):
    """A changed reference file rebuilds every fact, as a changed seed does."""
    def fingerprint():
        return rules_fingerprint(DBT_PROJECT_DIR, effective_vars("", landing=tmp_path))

    without = fingerprint()
    _reference(tmp_path, "capacity_inputs", GOOD)
    first = fingerprint()
    _reference(tmp_path, "capacity_inputs", GOOD.replace("84000.00", "84000.01"))
    assert len({without, first, fingerprint()}) == 3


def test_the_reference_folder_is_no_delivery(tmp_path):
    _reference(tmp_path, "capacity_inputs", GOOD)
    (tmp_path / "2026-11-22").mkdir()
    warnings: list[str] = []
    found = landing_lib.scan(tmp_path, warn=warnings.append)
    assert [d.partition_key for d in found] == ["2026-11-22"] and warnings == []


def test_a_load_with_a_bad_reference_file_stops_before_anything_runs(tmp_path):
    path = _reference(tmp_path / "landing", "capacity_inputs",
                      _line("X,Innendienst,2026-01-01,2027-01-01,1.00,1000,,,,1.2\n"))
    lines: list[str] = []
    outcome = run_load(tmp_path / "landing", tmp_path / "warehouse.duckdb", echo=lines.append)
    assert outcome.exit_code == 2
    assert lines == [f"FAILED: {path}, line 3: practical_share '1.2' is more than 1"]
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_files_too_large_for_dbts_command_line_are_refused(tmp_path):
    # 2,000 departments: far more than a command line's argument holds
    _reference(tmp_path, "capacity_inputs", HEADER + "".join(
        f"D{n},Department {n},2026-01-01,2027-01-01,1.00,1000,,,,\n" for n in range(2000)))
    with pytest.raises(ri.BadReference, match="too large to hand to dbt"):
        ri.dbt_vars(tmp_path)
