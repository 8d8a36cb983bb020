"""The README says that the schedule and the sensor are off by default: the code agrees."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.automation.schedules import nightly_schedule
from orchestration.defs.automation.sensors import new_delivery_sensor
from orchestration.settings import PROJECT_DIR


def test_schedule_and_sensor_are_off_until_switched_on():
    assert nightly_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert new_delivery_sensor.default_status == dg.DefaultSensorStatus.STOPPED
    readme = " ".join((PROJECT_DIR / "README.md").read_text(encoding="utf-8").split())
    assert "**Both are off by default**" in readme
    assert "dagster schedule start nightly_schedule" in readme
    assert "dagster sensor start new_delivery_sensor" in readme
