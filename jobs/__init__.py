"""The periodic jobs (escalating overdue reports, expiring vouchers and holds, sealing the
hash chain) and the worker that runs them. Plain Python, SQLAlchemy and APScheduler: never
Flask; ``web/cli/worker.py`` is the ``jindou worker`` command over it.

    from jobs import JOBS, run_once, intervals
    run_once(sessionmaker(engine), intervals(config, JOBS))
"""

from .catalogue import JOBS, Job
from .claims import claim, ensure_rows
from .models import JobRun
from .runner import DONE, FAILED, OFF, SKIPPED, Outcome, run_forever, run_job, run_once
from .settings import BadSetting, config_key, intervals, poll_seconds

__all__ = [
    "DONE", "FAILED", "JOBS", "OFF", "SKIPPED", "BadSetting", "Job", "JobRun", "Outcome",
    "claim", "config_key", "ensure_rows", "intervals", "poll_seconds", "run_forever",
    "run_job", "run_once",
]
