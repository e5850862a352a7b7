"""Console logging for runs: warnings (bad input, failures) on the terminal, everything in the task log files.

datatrove's executors add an INFO-level console sink for every task, which would bury the progress display and
the bad-input lines a user needs to see. ``quiet_task_console`` keeps datatrove's per-task log files (DEBUG, under
``OUTPUT/logs/<phase>/logs/``) and lowers only the console sink to ``CURATE_LOG_LEVEL`` (default WARNING).
"""

from __future__ import annotations

import os
import sys

from loguru import logger

_console_sink: int | None = None


def console_level() -> str:
    return os.environ.get("CURATE_LOG_LEVEL", "WARNING").upper()


def _format(record: dict) -> str:
    return "<level>{level: <7}</level> {message}\n{exception}"


def quiet_task_console() -> None:
    """Replace the task's console sink with one at ``CURATE_LOG_LEVEL``; file sinks are kept."""
    global _console_sink
    handlers = logger._core.handlers  # loguru has no public API to list sinks
    for handler_id, handler in list(handlers.items()):
        if getattr(handler, "_name", "") == "<stderr>":
            logger.remove(handler_id)
    _console_sink = logger.add(sys.stderr, level=console_level(), format=_format, colorize=None)


def setup_cli_logging(verbose: bool = False) -> None:
    if verbose:
        os.environ["CURATE_LOG_LEVEL"] = "INFO"
    logger.remove()
    logger.add(sys.stderr, level=console_level(), format=_format)


def _install() -> None:
    """Make every datatrove task quiet from its first line (tasks import this module when they unpickle steps)."""
    import datatrove.executor.base as executor_base
    import datatrove.utils.logging as datatrove_logging

    original = executor_base.add_task_logger
    if getattr(original, "_curate_quiet", False):
        return

    def add_task_logger(logging_dir, rank, local_rank=0, node_rank=-1):
        # local_rank=1 makes datatrove's own console sink ERROR-only; ours replaces it at CURATE_LOG_LEVEL
        logfile = original(logging_dir, rank, 1, node_rank)
        quiet_task_console()
        return logfile

    def setup_default_logger():  # what datatrove re-installs after each task
        logger.remove()
        logger.add(sys.stderr, level=console_level(), format=_format)

    add_task_logger._curate_quiet = True  # type: ignore[attr-defined]
    executor_base.add_task_logger = add_task_logger
    datatrove_logging.setup_default_logger = setup_default_logger


_install()
