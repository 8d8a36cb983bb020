"""The one base error of the reports layer: what a report cannot make, in one line."""


class ReportError(Exception):
    """A report (chart, export, statement, cockpit page) cannot be made from the published
    warehouse: none is published, it cannot be read, or it lacks the period or customer asked
    for. The message is the line to show."""
