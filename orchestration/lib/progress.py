"""Progress for people at a terminal: lines, and a bar when there is a terminal to draw it.

The nightly job's steps report here as well as to Dagster's event log (`report`); `cvm load`
shows these lines, the webserver simply shows Dagster's log. `Progress` prints the lines and,
when standard output is a terminal, keeps a bar (rich.progress) below them that counts the
steps done; elsewhere (a pipe, a log file, a test) it prints the lines alone.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

logger = logging.getLogger("cvm.progress")


def report(message: str, context=None) -> None:
    """A progress line of a step: to `cvm load`'s terminal and to the run's log (context)."""
    logger.info(message)
    if context is not None:
        context.log.info(message)


class Progress:
    """Lines and, on a terminal, a bar over the steps of a long task. Use it with `with`."""

    def __init__(
        self,
        description: str,
        total: int | None = None,
        echo: Callable[[str], None] = print,
        stream: TextIO | None = None,
    ):
        self.description = description
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        # plain `print` is bound to the stream of now: a step may redirect sys.stdout to a log
        # file while it runs, and its progress lines must still reach the person
        self.echo = echo if echo is not print else self._print
        self._bar = None
        self._task = None

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import (
                Progress as Bar,
            )

            # the bar draws on this stream even while a step redirects sys.stdout elsewhere
            self._bar = Bar(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(file=self.stream),
                redirect_stdout=False, redirect_stderr=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            self.echo(text)

    def set_total(self, total: int) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, steps)

    @contextlib.contextmanager
    def reporting(self) -> Iterator[None]:
        """Show the lines that steps `report` while the block runs."""
        progress = self

        class _Lines(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                progress.line(record.getMessage())

        handler = _Lines()
        saved = (logger.level, logger.propagate)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]
