"""The nightly job, its schedule and the new-delivery sensor."""
