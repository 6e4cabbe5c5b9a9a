"""Each job's interval from configuration: ``JINDOU_JOB_<NAME>_SECONDS`` (0 turns a job off),
and how often the worker looks whether a job is due, ``JINDOU_WORKER_POLL_SECONDS``."""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "JINDOU_JOB_"
SUFFIX = "_SECONDS"
POLL_KEY = "JINDOU_WORKER_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 5
MAX_SECONDS = 366 * 24 * 3600


class BadSetting(ValueError):
    """A job setting that is not a whole number of seconds, or names no job."""


def config_key(name: str) -> str:
    return f"{PREFIX}{name.upper()}{SUFFIX}"


def intervals(config: Mapping, jobs) -> dict[str, int]:
    """Seconds between runs per job name, from ``config`` (its defaults where unset)."""
    known = {config_key(job.name) for job in jobs}
    unknown = sorted(key for key in config
                     if key.startswith(PREFIX) and key.endswith(SUFFIX) and key not in known)
    if unknown:
        raise BadSetting(f"{', '.join(unknown)}: no such job (known: {', '.join(sorted(known))})")
    return {job.name: seconds(config, config_key(job.name), job.default_seconds)
            for job in jobs}


def poll_seconds(config: Mapping) -> int:
    value = seconds(config, POLL_KEY, DEFAULT_POLL_SECONDS)
    if value < 1:
        raise BadSetting(f"{POLL_KEY} must be at least 1 second")
    return value


def seconds(config: Mapping, key: str, default: int) -> int:
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise BadSetting(f"{key}={raw!r}: a whole number of seconds, 0 to turn it off") from None
    if not 0 <= value <= MAX_SECONDS:
        raise BadSetting(f"{key}={raw!r}: between 0 and {MAX_SECONDS} seconds")
    return value
