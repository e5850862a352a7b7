"""What ``curate``'s exit status means (README, "Exit codes")."""

OK = 0
FAILED = 1  # a task failed (run the same command again to resume), or nothing could be read
INVALID = 2  # invalid recipe or arguments, a source that matches no file, a missing model: found before any task
UNRECONCILED = 3  # the run finished but its output does not reconcile (documents lost or written twice)
REPORT_FAILED = 4  # the data is written and reconciles, but the report could not be made (`curate report OUTPUT`)
