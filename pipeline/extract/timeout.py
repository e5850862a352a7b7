"""A per-page time limit for extraction that never hangs or crashes the task.

``AlarmGuard`` (the default, POSIX main thread): a ``SIGALRM`` interval timer is armed around each call and its
handler raises ``ExtractTimeout``. That costs two system calls per page, far less than sending each page to
another process. ``ExtractTimeout`` derives from ``BaseException``, so the libraries' own ``except Exception``
blocks cannot swallow it. The limit is checked whenever the library returns to Python (trafilatura is Python
over lxml; a single native call, such as parsing a huge page or resiliparse's C++ pass, finishes first).

``ProcessGuard`` (``extract_isolation: process``, or where signals cannot be used: a worker thread, Windows, a
process whose own ``SIGALRM`` timer is running):
datatrove's ``ExtractorSandbox``, a worker process fed through a pipe, killed and restarted when a page takes too
long or the library crashes the process; slower, but it also survives native hangs and crashes.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


class ExtractTimeout(BaseException):  # noqa: N818 - raised from a signal handler, must escape `except Exception`
    """A page took longer than ``extract_timeout``."""


class ExtractCrashed(RuntimeError):
    """The worker process died while extracting a page (native crash, out of memory)."""


def alarm_available() -> bool:
    """SIGALRM can be used: POSIX, the main thread, and no interval timer already armed by someone else."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


class AlarmGuard:
    def __init__(self, timeout: float):
        self.timeout = timeout
        self._previous = None

    def _on_alarm(self, signum, frame):  # noqa: ANN001
        raise ExtractTimeout()

    def __enter__(self) -> AlarmGuard:
        self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
        return self

    def __exit__(self, *exc) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)

    def call(self, fn: Callable[[str], str], html: str) -> str:
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            return fn(html)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


class ProcessGuard:
    def __init__(self, timeout: float):
        from datatrove.pipeline.extractors.base import ExtractorSandbox

        self.timeout = timeout
        self._sandbox = ExtractorSandbox(timeout=timeout, warmup_text="")

    def __enter__(self) -> ProcessGuard:
        self._sandbox.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._sandbox.__exit__(*exc)

    def call(self, fn: Callable[[str], str], html: str) -> str:
        try:
            return self._sandbox.process_document(html, fn)
        except TimeoutError:
            raise ExtractTimeout() from None
        except EOFError as e:
            raise ExtractCrashed(str(e)) from None


def make_guard(timeout: float, isolation: str) -> AlarmGuard | ProcessGuard:
    if isolation == "signal" and alarm_available():
        return AlarmGuard(timeout)
    return ProcessGuard(timeout)
