"""Progress lines for people at a terminal.

The nightly job's steps report here as well as to Dagster's event log; `cvm load` attaches a
handler that prints these lines, the webserver simply shows Dagster's log.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("cvm.progress")


def report(message: str, context=None) -> None:
    logger.info(message)
    if context is not None:
        context.log.info(message)
