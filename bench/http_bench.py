"""What a request costs over the ledger work it does: the API served by gunicorn on PostgreSQL,
driven by wrk, beside the service layer's own single-entry rate measured in the same run.

    PYTHONPATH=. python bench/http_bench.py [--url URL] [--seconds 10] [--quick]

One run creates a fresh database (``jindou db upgrade`` and ``jindou demo load``, as production
would), funds the demo programme, serves the app with gunicorn, takes a bearer token for
``admin``, then measures in this order: the service layer (``ledger.post`` + commit from 8
worker processes, the single-entry scenario of ``bench/ledger_bench.py``, on a database of its
own), ``POST /api/v1/programmes/{code}/awards`` (1 point each, below the approval threshold so
it posts at once, a unique ``Idempotency-Key`` per request from a wrk Lua script) and
``GET /api/v1/me``. It prints one table with each rate and the award rate's ratio to the
service layer's, checks that every award posted exactly one entry and that the budget fell by
exactly what was awarded, and drops the databases. Exit status 1 when a target is missed or a
check fails. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ledger_bench  # noqa: E402

DEFAULT_SERVER_URL = ledger_bench.DEFAULT_SERVER_URL
DEFAULT_SECONDS = 10.0
DEFAULT_GUNICORN_WORKERS = 2
DEFAULT_GUNICORN_THREADS = 1
DEFAULT_CONNECTIONS = 16
WRK_THREADS = 2
PROGRAMME = "fengxingxia"
VOLUNTEER = "rider01"
ADMIN = "admin"
DEMO_PASSWORD = "jindou2026"
FUNDING_FEN = 10**9
TARGET_AWARD_SHARE = 0.5
TARGET_ME_PER_SECOND = 1_500
STARTUP_TIMEOUT_SECONDS = 60
AWARDS_PATH = f"/api/v1/programmes/{PROGRAMME}/awards"

AWARD_SCRIPT = r"""
-- A POST with a JSON body, a bearer token and an Idempotency-Key unique to this request.
-- thread_number is set in each thread's state by setup (a local here would hide it).
counter = 0
threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] or "run"
  statuses = {}
end

function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. os.getenv("JINDOU_BENCH_TOKEN")
  headers["Idempotency-Key"] = string.format("%s-%d-%d", prefix, thread_number, counter)
  return wrk.format("POST", nil, headers, os.getenv("JINDOU_BENCH_BODY"))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  for status, count in pairs(totals) do
    io.write(string.format("STATUS %d %d\n", status, count))
  end
end
"""

GET_SCRIPT = AWARD_SCRIPT.replace(
    'headers["Content-Type"] = "application/json"\n', "").replace(
    'headers["Idempotency-Key"] = string.format("%s-%d-%d", prefix, thread_number, counter)\n',
    "").replace('wrk.format("POST", nil, headers, os.getenv("JINDOU_BENCH_BODY"))',
                'wrk.format("GET", nil, headers)')


@dataclass
class Load:
    rate: float
    mean_ms: float
    statuses: dict[int, int]
    cpu_ms: float = 0.0  # the web workers' CPU per answered request

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def venv_bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def app_environment(url: str, instance: str) -> dict:
    return {**os.environ, "JINDOU_DATABASE_URL": url, "JINDOU_INSTANCE_PATH": instance,
            "JINDOU_SECRET_KEY": "bench", "JINDOU_LOGIN_RATE_LIMIT": "1000 per minute",
            "PYTHONPATH": str(ROOT)}


def build_world(url: str, environment: dict) -> None:
    """The production path: the migrations, the demo, and a budget no run can exhaust."""
    for arguments in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([venv_bin("jindou"), *arguments], env=environment, check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)
    os.environ.update(environment)
    from volunteers import programmes
    from web import create_app
    from web.extensions import db

    app = create_app()
    with app.app_context():
        programmes.fund_programme(db.session, None, PROGRAMME, FUNDING_FEN, "bench",
                                  f"bench:funding:{os.getpid()}")
        db.session.commit()
        ledger_bench.ledger.seal_all(db.session)
        db.engine.dispose()


def start_gunicorn(environment: dict, port: int, workers: int, threads: int,
                   log, tree: Path = ROOT) -> subprocess.Popen:
    server = subprocess.Popen(
        [venv_bin("gunicorn"), "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "web:create_app()"],
        env=environment, cwd=tree, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/me", timeout=2)
        except urllib.error.HTTPError:
            return server  # 401: it answers
        except OSError:
            time.sleep(0.2)
            continue
        return server
    stop(server)
    raise RuntimeError("gunicorn did not answer")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def cpu_seconds(server: subprocess.Popen) -> float:
    """User and system CPU the gunicorn workers (the master's children) have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    total = 0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def settle(url: str) -> tuple[int, int, int]:
    """The award state once requests still in flight from an earlier load have finished."""
    state = award_state(url)
    while True:
        time.sleep(0.5)
        again = award_state(url)
        if again == state:
            return state
        state = again


def api(port: int, method: str, path: str, body=None, token=None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def wrk(port: int, path: str, script: str, seconds: float, connections: int, environment: dict,
        prefix: str) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        finished = subprocess.run(
            ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds:g}s",
             "--timeout", "30s", "-s", handle.name, f"http://127.0.0.1:{port}{path}", "--",
             prefix],
            env=environment, check=True, capture_output=True, text=True)
    finally:
        os.unlink(handle.name)
    output = finished.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    mean = re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", output)
    mean_ms = float(mean.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[mean.group(2)]
    statuses = {int(status): int(count)
                for status, count in re.findall(r"STATUS (\d+) (\d+)", output)}
    return Load(rate, mean_ms, statuses)


def service_rate(server_url: str, seconds: float) -> float:
    """The single-entry scenario of ledger_bench: 8 processes, ledger.post + commit each."""
    name = f"jindou_httpbench_{os.getpid()}_service"
    url = ledger_bench.create_database(server_url, name)
    try:
        bench = ledger_bench.Bench(url, url, seconds,
                                   ledger_bench.wallet_codes("bench", ledger_bench.ACCOUNT_COUNT))
        ledger_bench.open_wallets(url, bench.codes, ledger_bench.WALLET_FUNDING_POINTS)
        measured = ledger_bench.run_scenario(url, "service", "single", ledger_bench.WORKER_COUNT,
                                             seconds, bench.codes)
    finally:
        ledger_bench.drop_database(server_url, url)
    return measured.rate


def award_state(url: str) -> tuple[int, int, int]:
    """The budget's posted balance, the bench's award entries and posted awards."""
    engine = create_engine(url)
    with engine.connect() as connection:
        state = connection.execute(text(
            "SELECT (SELECT posted FROM ledger_accounts WHERE code = :code),"
            " (SELECT count(*) FROM ledger_entries WHERE kind = 'manual_award'"
            "   AND memo = 'bench'),"
            " (SELECT count(*) FROM awards WHERE reason = 'bench' AND status = 'posted')"),
            {"code": f"programme:{PROGRAMME}:budget"}).one()
    engine.dispose()
    return tuple(state)


def award_checks(url: str, awarded: int, before: tuple[int, int, int],
                 connections: int) -> list[str]:
    """One award row and one entry of 1 point per award posted, the budget down by exactly
    as many points, and as many awards as 201 answers, give or take the requests still in
    flight when wrk stopped counting (at most one per connection)."""
    budget, entries, awards = award_state(url)
    entries, awards = entries - before[1], awards - before[2]
    problems = []
    if entries != awards or before[0] - budget != entries:
        problems.append(f"{awards} awards, {entries} entries, budget down "
                        f"{before[0] - budget}")
    if not awarded <= entries <= awarded + connections:
        problems.append(f"{awarded} awards answered 201 but {entries} entries posted")
    return problems


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_SERVER_URL,
                        help="a PostgreSQL server URL; the bench creates its own databases")
    parser.add_argument("--seconds", type=float,
                        help=f"per measurement (default {DEFAULT_SECONDS:g})")
    parser.add_argument("--workers", type=int, default=DEFAULT_GUNICORN_WORKERS,
                        help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=DEFAULT_GUNICORN_THREADS,
                        help="threads per gunicorn worker (more than 1: the gthread worker)")
    parser.add_argument("--connections", type=int, default=DEFAULT_CONNECTIONS,
                        help="wrk connections")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also serve the app of another checkout (same schema), e.g. "
                             "`git archive main | tar -x -C DIR`, after this one, for an A/B "
                             "in one run")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s each")
    arguments = parser.parse_args(argv)
    arguments.seconds = arguments.seconds or (2.0 if arguments.quick else DEFAULT_SECONDS)
    return arguments


def serve_and_load(tree: Path, url: str, instance: str, arguments,
                   volunteer: int) -> tuple[Load, Load, list[str]]:
    """Serve the app of ``tree`` with gunicorn, and drive the awards and GET /me through it."""
    environment = {**app_environment(url, instance), "PYTHONPATH": str(tree)}
    port = free_port()
    log = open(Path(instance) / f"gunicorn-{tree.name}.log", "w")  # noqa: SIM115
    server = start_gunicorn(environment, port, arguments.workers, arguments.threads, log,
                            tree)
    try:
        token = api(port, "POST", "/api/v1/auth/tokens",
                    {"username": ADMIN, "password": DEMO_PASSWORD})["token"]
        body = json.dumps({"volunteer_id": volunteer, "amount_points": 1, "reason": "bench"})
        load_environment = {**os.environ, "JINDOU_BENCH_TOKEN": token,
                            "JINDOU_BENCH_BODY": body}
        progress(f"{tree}: warming up")
        wrk(port, AWARDS_PATH, AWARD_SCRIPT, 1, arguments.connections, load_environment,
            f"warm{port}")
        wrk(port, "/api/v1/me", GET_SCRIPT, 1, arguments.connections, load_environment, "warm")
        before = settle(url)
        progress(f"POST awards: {arguments.connections} connections, {arguments.seconds:g} s")
        cpu = cpu_seconds(server)
        awards = wrk(port, AWARDS_PATH, AWARD_SCRIPT, arguments.seconds, arguments.connections,
                     load_environment, f"run{os.getpid()}-{port}")
        awards.cpu_ms = (cpu_seconds(server) - cpu) * 1000 / max(awards.requests, 1)
        settle(url)
        progress(f"GET /me: {arguments.connections} connections, {arguments.seconds:g} s")
        cpu = cpu_seconds(server)
        me = wrk(port, "/api/v1/me", GET_SCRIPT, arguments.seconds, arguments.connections,
                 load_environment, "me")
        me.cpu_ms = (cpu_seconds(server) - cpu) * 1000 / max(me.requests, 1)
    finally:
        stop(server)
        log.close()
    problems = award_checks(url, awards.statuses.get(201, 0), before, arguments.connections)
    problems += [f"awards answered {status} x {count}"
                 for status, count in awards.statuses.items() if status != 201]
    problems += [f"GET /me answered {status} x {count}"
                 for status, count in me.statuses.items() if status != 200]
    return awards, me, [f"{tree.name}: {problem}" for problem in problems]


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    if shutil.which("wrk") is None:
        progress("wrk is missing: apt-get install -y wrk (make bench installs it)")
        return 2
    started = time.perf_counter()
    name = f"jindou_httpbench_{os.getpid()}"
    ledger_bench.admin(arguments.url, f'CREATE DATABASE "{name}"')
    url = ledger_bench.database_url(arguments.url, name)
    instance = tempfile.mkdtemp(prefix="jindou-httpbench-")
    trees = [ROOT] + ([Path(arguments.baseline).resolve()] if arguments.baseline else [])
    served, problems = {}, []
    try:
        progress("building the demo world")
        build_world(url, app_environment(url, instance))
        progress(f"service layer: 8 workers, {arguments.seconds:g} s")
        service = service_rate(arguments.url, arguments.seconds)
        volunteer = json.loads(subprocess.run(
            ["psql", ledger_bench.libpq_url(url), "-Atc",
             f"SELECT id FROM users WHERE username = '{VOLUNTEER}'"],
            check=True, capture_output=True, text=True).stdout)
        for tree in trees:
            awards, me, found = serve_and_load(tree, url, instance, arguments, volunteer)
            served[tree] = (awards, me)
            problems += found
    finally:
        ledger_bench.drop_database(arguments.url, url)
        shutil.rmtree(instance, ignore_errors=True)
    rows = [("service layer, single entries, 8 workers", f"{service:,.0f}/s", "", "", "", "")]
    for tree, (awards, me) in served.items():
        share = awards.rate / service if service else 0.0
        label = "" if tree == ROOT else f" [baseline {tree.name}]"
        rows += [
            (f"POST {AWARDS_PATH}{label}", f"{awards.rate:,.0f}/s", f"{awards.mean_ms:.1f} ms",
             f"{awards.cpu_ms:.2f} ms", f"{share:.2f}x service", f">= {TARGET_AWARD_SHARE}x "
             + ("pass" if share >= TARGET_AWARD_SHARE else "FAIL")),
            (f"GET /api/v1/me{label}", f"{me.rate:,.0f}/s", f"{me.mean_ms:.1f} ms",
             f"{me.cpu_ms:.2f} ms", "", f">= {TARGET_ME_PER_SECOND:,}/s "
             + ("pass" if me.rate >= TARGET_ME_PER_SECOND else "FAIL")),
        ]
    header = ("case", "rate", "mean latency", "web CPU/request", "ratio", "target")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(6)]
    for number, row in enumerate([header, *rows]):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\ngunicorn -w {arguments.workers} --threads {arguments.threads}, "
          f"wrk -t {WRK_THREADS} -c {arguments.connections}, {arguments.seconds:g} s each, "
          f"{os.cpu_count()} cores, whole run {time.perf_counter() - started:.0f} s")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    awards, me = served[ROOT]
    missed = (awards.rate < TARGET_AWARD_SHARE * service
              or me.rate < TARGET_ME_PER_SECOND)
    return 1 if problems or missed else 0


if __name__ == "__main__":
    sys.exit(main())
