"""A tiny Dagster code location for the tests of the instance's storage: two assets and their
job."""

import dagster as dg


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


small_job = dg.define_asset_job("small_job", selection=[numbers, total])
