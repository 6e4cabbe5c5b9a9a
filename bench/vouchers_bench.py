"""How fast vouchers are issued and redeemed on PostgreSQL, through the service layer exactly
as a request runs it: who is scanning (one query, as ``web.auth`` loads a till user), the
redemption, the commit, then sealing the hash chain and its commit (``web.transactions.commit``).
One run creates its own database and drops it after.

    PYTHONPATH=. python bench/vouchers_bench.py [--url URL] [--seconds 5] [--tills 20]
                                                [--paced-seconds 10] [--period-ms 200]

Scenarios:
- issue, one hot offer / spread: 8 threads of volunteers take vouchers (every take locks the
  offer's row for its stock and per-person count): vouchers per second. No target.
- redeem, one till alone: one till process scans its vouchers back to back while the others
  wait: latency, SQL statements and client CPU per redemption.
- redeem, closed loop: ``--tills`` till processes (separate OS processes, each with its own
  engine and connection, as gunicorn workers are), each redeeming its own merchant's vouchers
  back to back as fast as it can: latency p50/p95/p99/max and redemptions per second. A closed
  loop offers as much load as the machine absorbs, so its latency is the machine's saturation.
- redeem, paced: the same tills each scan once every ``--period-ms`` (default 200 ms, i.e. 100
  scans per second from 20 tills: a busy market) with a random phase, for ``--paced-seconds``.
  Latency counts from the moment a scan was due, so a till that falls behind pays for it.
- race: every till process scans one voucher at once: exactly one succeeds.
Each till process first makes a few warm-up scans (not counted), as a worker that has served
requests is warm. Target: p99 under 25 ms. Afterwards ``ledger.verify`` must pass.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ledger  # noqa: E402
from ledger import Posting, ddl  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_SECONDS = 5.0
DEFAULT_TILLS = 20
DEFAULT_PACED_SECONDS = 10.0
DEFAULT_PERIOD_MS = 200.0
ISSUE_THREADS = 8
# Offers allow at most 100 vouchers a person: each issuing thread takes for a few volunteers.
VOLUNTEERS_PER_ISSUING_THREAD = 10
VOLUNTEER_POINTS = 10**7
# Each till's vouchers are taken by volunteers of its own (a preparing transaction holds many
# takes: shared wallets would deadlock them), at most 100 each (the offers' per-person limit).
TAKERS_PER_TILL = 4
CLOSED_LOOP_REDEMPTIONS = 150
SINGLE_TILL_REDEMPTIONS = 50
WARM_UP_REDEMPTIONS = 3
PREPARING_PROCESSES = 4
VOUCHERS_PER_COMMIT = 25
PRICE_POINTS = 10
TARGET_P99_MS = 25.0
PHASE_TIMEOUT_SECONDS = 900
KEY = "bench-voucher-key"
PASSWORD = "bench-password-1"


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def create_database(server_url: str) -> str:
    import activities  # noqa: F401  (every package's tables join the metadata)
    import honours  # noqa: F401
    import merchants  # noqa: F401
    import payments  # noqa: F401
    import reports  # noqa: F401
    import volunteers  # noqa: F401
    from merchants import ddl as merchants_ddl

    name = f"jindou_vouchers_bench_{uuid.uuid4().hex[:8]}"
    admin(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    ledger.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        ddl.install(connection)
        merchants_ddl.install_v1(connection)
    engine.dispose()
    return url


def build(engine, tills: int) -> dict:
    """A programme, ``tills`` merchants with one till user and one offer each, ``tills`` more
    till users of the first merchant (for the race), and volunteers with plenty of points."""
    from merchants import offers
    from volunteers import areas, passwords, programmes, users

    passwords.SCRYPT_N = 2**10  # thousands of users: a cheap hash, as the tests do
    until = datetime.now(UTC) + timedelta(days=30)
    with Session(engine) as session:
        areas.ensure_root(session)
        areas.create_area(session, "bench", "压测区", "district", "root")
        boss = users.create_user(session, "bench_admin", PASSWORD, role="admin",
                                 area_code="root")
        programmes.create_programme(session, boss, "bench", "压测项目", "bench",
                                    points_per_yuan=100)
        volunteers_ids = []
        for number in range(ISSUE_THREADS * VOLUNTEERS_PER_ISSUING_THREAD
                            + tills * TAKERS_PER_TILL):
            person = users.create_user(session, f"volunteer{number}", PASSWORD,
                                       role="volunteer", area_code="bench")
            ledger.post(session, idempotency_key=f"bench:fund:{number}", kind="manual_award",
                        postings=[Posting("world:points", -VOLUNTEER_POINTS, "POINT"),
                                  Posting(person.wallet_code, VOLUNTEER_POINTS, "POINT")])
            volunteers_ids.append(person.id)
        shops = []
        for number in range(tills):
            till = users.create_user(session, f"till{number}", PASSWORD, role="merchant",
                                     area_code="bench")
            merchant = offers.create_merchant(
                session, boss, name=f"商家{number}", programme_code="bench", area_code="bench",
                staff_usernames=[till.username])
            offer = offers.create_offer(session, boss, merchant.id, title=f"兑换券{number}",
                                        price_points=PRICE_POINTS, stock=1_000_000,
                                        per_person_limit=100, valid_until=until)
            shops.append((till.id, offer.id))
        first_merchant = offers.get_merchant(session, offers.get_offer(session,
                                                                       shops[0][1]).merchant_id)
        racers = []
        for number in range(tills):
            user = users.create_user(session, f"race_till{number}", PASSWORD, role="merchant",
                                     area_code="bench")
            offers.add_staff(session, boss, first_merchant, user)
            racers.append(user.id)
        session.commit()
        ledger.seal_all(session)
        return {"volunteers": volunteers_ids, "shops": shops, "racers": racers}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def commit_and_seal(session: Session) -> None:
    """What ``web.transactions.commit`` does after a request's work."""
    session.commit()
    if session.info.pop("ledger_unsealed", False):
        ledger.seal_after_commit(session)


def run_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


# --- issuing ----------------------------------------------------------------------------------


def issue_rate(engine, world: dict, seconds: float, spread: bool) -> tuple[float, int]:
    from merchants import vouchers
    from volunteers.models import User

    deadline = time.perf_counter() + seconds

    def work(index):
        people = world["volunteers"][index * VOLUNTEERS_PER_ISSUING_THREAD:
                                     (index + 1) * VOLUNTEERS_PER_ISSUING_THREAD]
        offer_id = world["shops"][index % len(world["shops"])][1] if spread else \
            world["shops"][0][1]
        mine = []
        step = 0
        while time.perf_counter() < deadline:
            step += 1
            with Session(engine) as session:
                person = session.get(User, people[step % len(people)])
                try:
                    voucher, _ = vouchers.issue_voucher(
                        session, person, offer_id, idempotency_key=uuid.uuid4().hex)
                except Exception as error:  # noqa: BLE001 (the limit is part of the run)
                    session.rollback()
                    if type(error).__name__ == "LimitReached":
                        continue
                    raise
                commit_and_seal(session)
                mine.append(voucher.id)
        return mine

    started = time.perf_counter()
    issued_ids = run_threads(ISSUE_THREADS, work)
    elapsed = time.perf_counter() - started
    total = sum(len(ids) for ids in issued_ids)
    return total / elapsed, total


def _prepare_for_till(job: tuple) -> list[str]:
    """In a preparing process: ``count`` vouchers of one till's offer, as scanned tokens."""
    url, offer_id, takers, count = job
    from merchants import tokens, vouchers
    from volunteers.models import User

    engine = create_engine(url, pool_size=1, max_overflow=0)
    codes = []
    try:
        with Session(engine) as session:
            for number in range(count):
                person = session.get(User, takers[number % len(takers)])
                voucher, _ = vouchers.issue_voucher(session, person, offer_id,
                                                    idempotency_key=uuid.uuid4().hex)
                codes.append(tokens.sign(KEY, voucher.id))
                if (number + 1) % VOUCHERS_PER_COMMIT == 0:
                    commit_and_seal(session)
            commit_and_seal(session)
    finally:
        engine.dispose()
    return codes


def prepare_vouchers(url: str, world: dict, counts: list[int]) -> list[list[str]]:
    takers = world["volunteers"][ISSUE_THREADS * VOLUNTEERS_PER_ISSUING_THREAD:]
    jobs = [(url, offer_id, takers[index * TAKERS_PER_TILL:(index + 1) * TAKERS_PER_TILL],
             counts[index])
            for index, (_till_id, offer_id) in enumerate(world["shops"])]
    with multiprocessing.get_context("fork").Pool(PREPARING_PROCESSES) as pool:
        return pool.map(_prepare_for_till, jobs)


# --- the tills ----------------------------------------------------------------------------------

STEPS = ("who", "redeem", "commit", "seal")


def scan(engine, till_id: int, code: str, idempotency_key: str) -> dict[str, float]:
    """One till request's work at the service layer; the time of each step in ms."""
    from merchants import vouchers
    from volunteers import users

    marks = [time.perf_counter()]
    with Session(engine) as session:
        till = users.user_with_roles(session, till_id)
        marks.append(time.perf_counter())
        vouchers.redeem_voucher(session, till, code, key=KEY, idempotency_key=idempotency_key)
        marks.append(time.perf_counter())
        session.commit()
        marks.append(time.perf_counter())
        if session.info.pop("ledger_unsealed", False):
            ledger.seal_after_commit(session)
        marks.append(time.perf_counter())
    return {step: (marks[n + 1] - marks[n]) * 1000 for n, step in enumerate(STEPS)}


# --- where the CPU goes (Linux /proc): this till process, its PostgreSQL backend, the machine ---

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_seconds(pid: int) -> float:
    """User and system CPU seconds of a process (a PostgreSQL backend), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _machine_ticks() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except OSError:
        return 0, 0
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


class Meter:
    """CPU seconds spent during a phase by this till and by its backend, and (sampled by the
    first till) how many of the machine's cores were busy."""

    def __init__(self, backend_pid: int):
        self.backend_pid = backend_pid

    def __enter__(self):
        self.started = (time.process_time(), _process_seconds(self.backend_pid),
                        _machine_ticks(), time.perf_counter())
        self.figures: dict = {}
        return self.figures

    def __exit__(self, *_exc):
        till, backend, (busy, total), wall = self.started
        ended_busy, ended_total = _machine_ticks()
        self.figures.update(
            till_cpu=time.process_time() - till,
            backend_cpu=_process_seconds(self.backend_pid) - backend,
            machine_busy_cores=(ended_busy - busy) / max(1, ended_total - total)
            * (os.cpu_count() or 1),
            wall=time.perf_counter() - wall)


def till_process(index: int, url: str, till_id: int, racer_id: int, codes: dict, race_token: str,
                 period_ms: float, paced_seconds: float, barrier, results) -> None:
    """One till, in its own process and connection, through every phase in step with the
    others (the barrier); sends its measurements back."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    report = {"index": index}
    try:
        for number, code in enumerate(codes["warm_up"]):
            scan(engine, till_id, code, f"warm:{index}:{number}")
        with engine.connect() as connection:
            meter = Meter(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        barrier.wait(PHASE_TIMEOUT_SECONDS)
        if codes["alone"]:
            with meter as cpu:
                report["alone"] = _alone(engine, till_id, codes["alone"])
            report["alone"]["cpu"] = cpu
        barrier.wait(PHASE_TIMEOUT_SECONDS)
        with meter as cpu:
            report["closed"] = _closed_loop(engine, till_id, codes["closed"])
        report["closed"]["cpu"] = cpu
        barrier.wait(PHASE_TIMEOUT_SECONDS)
        with meter as cpu:
            report["paced"] = _paced(engine, till_id, codes["paced"], period_ms, paced_seconds)
        report["paced"]["cpu"] = cpu
        barrier.wait(PHASE_TIMEOUT_SECONDS)
        report["race"] = _race(engine, racer_id, race_token, index)
    except Exception as error:  # noqa: BLE001 (the parent reports it)
        report["error"] = f"{type(error).__name__}: {error}"
        barrier.abort()
    finally:
        engine.dispose()
        results.put(report)


def _alone(engine, till_id: int, codes: list[str]) -> dict:
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    timings = [scan(engine, till_id, code, uuid.uuid4().hex) for code in codes]
    event.remove(engine, "before_cursor_execute", count)
    return {"timings": timings, "statements": len(statements) / len(codes)}


def _closed_loop(engine, till_id: int, codes: list[str]) -> dict:
    started = time.perf_counter()
    timings = [scan(engine, till_id, code, uuid.uuid4().hex) for code in codes]
    return {"timings": timings, "started": started, "ended": time.perf_counter()}


def _paced(engine, till_id: int, codes: list[str], period_ms: float,
           seconds: float) -> dict:
    period = period_ms / 1000
    phase = random.Random(till_id).uniform(0, period)
    started = time.perf_counter()
    scans = int(seconds / period)
    latencies, late = [], 0
    for number, code in enumerate(codes[:scans]):
        due = started + phase + number * period
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        else:
            late += 1
        scan(engine, till_id, code, uuid.uuid4().hex)
        latencies.append((time.perf_counter() - due) * 1000)
    return {"latencies": latencies, "late": late, "started": started,
            "ended": time.perf_counter()}


def _race(engine, racer_id: int, token: str, index: int) -> str:
    try:
        scan(engine, racer_id, token, f"race:{index}")
        return "redeemed"
    except Exception as error:  # noqa: BLE001 (counted)
        return type(error).__name__


def run_tills(url: str, world: dict, codes: list[dict], race_token: str, period_ms: float,
              paced_seconds: float) -> list[dict]:
    context = multiprocessing.get_context("fork")
    tills = len(world["shops"])
    barrier = context.Barrier(tills)
    results = context.Queue()
    processes = [
        context.Process(target=till_process, args=(
            index, url, world["shops"][index][0], world["racers"][index], codes[index],
            race_token, period_ms, paced_seconds, barrier, results))
        for index in range(tills)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=4 * PHASE_TIMEOUT_SECONDS) for _ in processes]
    for process in processes:
        process.join()
    failed = [report["error"] for report in reports if "error" in report]
    if failed:
        raise RuntimeError(f"a till failed: {failed[0]}")
    return sorted(reports, key=lambda report: report["index"])


# --- the run ----------------------------------------------------------------------------------


def verdict(p99: float) -> str:
    return f"{'met' if p99 < TARGET_P99_MS else 'NOT met'} (p99 {p99:.1f} ms)"


def print_latencies(label: str, latencies: list[float]) -> float:
    for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        print(f"{'  ' + label + ' ' + name:<46} {percentile(latencies, share):>10.1f} ms")
    print(f"{'  ' + label + ' max':<46} {max(latencies):>10.1f} ms")
    print(f"{'  ' + label + ' mean':<46} {statistics.fmean(latencies):>10.1f} ms")
    return percentile(latencies, 0.99)


def print_steps(label: str, timings: list[dict]) -> None:
    steps = ", ".join(f"{step} {statistics.median(t[step] for t in timings):.1f}"
                      for step in STEPS)
    print(f"{'  ' + label + ' median per step (ms)':<46} {steps}")


def print_cpu(phase: list[dict], redemptions: int) -> None:
    """Where the CPU went during a phase: the tills, their backends, and everything else on
    the machine (other PostgreSQL work, other programs)."""
    tills = sum(report["cpu"]["till_cpu"] for report in phase)
    backends = sum(report["cpu"]["backend_cpu"] for report in phase)
    wall = max(report["cpu"]["wall"] for report in phase)
    busy = phase[0]["cpu"]["machine_busy_cores"]
    print(f"{'  CPU per redemption: till, its backend':<46} "
          f"{tills * 1000 / redemptions:>7.1f} ms + {backends * 1000 / redemptions:.1f} ms")
    print(f"{'  cores busy: tills + backends / machine':<46} "
          f"{(tills + backends) / wall:>7.2f} of {busy:.2f} busy ({os.cpu_count()} cores)")


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_SERVER_URL, help="a PostgreSQL server URL")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                        help="length of each issuing scenario")
    parser.add_argument("--tills", type=int, default=DEFAULT_TILLS)
    parser.add_argument("--paced-seconds", type=float, default=DEFAULT_PACED_SECONDS)
    parser.add_argument("--period-ms", type=float, default=DEFAULT_PERIOD_MS,
                        help="time between two scans of one till in the paced scenario")
    args = parser.parse_args()
    load_before = load()
    url = create_database(args.url)
    engine = create_engine(url, pool_size=args.tills + ISSUE_THREADS, max_overflow=10)
    try:
        print(f"setting up {args.tills} merchants and their tills ...", flush=True)
        world = build(engine, args.tills)
        hot_rate, hot_total = issue_rate(engine, world, args.seconds, spread=False)
        spread_rate, spread_total = issue_rate(engine, world, args.seconds, spread=True)
        engine.dispose()  # the tills fork: each opens its own connection
        paced = int(args.paced_seconds * 1000 / args.period_ms)
        counts = [WARM_UP_REDEMPTIONS + CLOSED_LOOP_REDEMPTIONS + paced
                  + (SINGLE_TILL_REDEMPTIONS if index == 0 else 0)
                  for index in range(args.tills)]
        print(f"issuing {sum(counts)} vouchers for the tills ...", flush=True)
        prepared = prepare_vouchers(url, world, counts)
        codes = []
        for index, tokens_of_till in enumerate(prepared):
            alone = SINGLE_TILL_REDEMPTIONS if index == 0 else 0
            rest = tokens_of_till[WARM_UP_REDEMPTIONS + alone:]
            codes.append({"warm_up": tokens_of_till[:WARM_UP_REDEMPTIONS],
                          "alone": tokens_of_till[WARM_UP_REDEMPTIONS:WARM_UP_REDEMPTIONS + alone],
                          "closed": rest[:CLOSED_LOOP_REDEMPTIONS],
                          "paced": rest[CLOSED_LOOP_REDEMPTIONS:]})
        from merchants import tokens, vouchers
        from volunteers.models import User

        with Session(engine) as session:
            person = session.get(User, world["volunteers"][0])
            voucher, _ = vouchers.issue_voucher(session, person, world["shops"][0][1],
                                                idempotency_key="race")
            commit_and_seal(session)
            race_token = tokens.sign(KEY, voucher.id)
        engine.dispose()
        print(f"redeeming with {args.tills} till processes (load average {load()}) ...",
              flush=True)
        reports = run_tills(url, world, codes, race_token, args.period_ms, args.paced_seconds)
        load_after = load()
        with Session(engine) as session:
            unsealed = session.scalar(text("SELECT count(*) FROM ledger_unsealed"))
            ledger.seal_all(session)
            report = ledger.verify(session)
            from merchants.models import Redemption

            redemptions = session.scalar(select(func.count()).select_from(Redemption))

        alone = reports[0]["alone"]
        alone_latencies = [sum(t.values()) for t in alone["timings"]]
        closed_timings = [t for r in reports for t in r["closed"]["timings"]]
        closed_latencies = [sum(t.values()) for t in closed_timings]
        closed_seconds = (max(r["closed"]["ended"] for r in reports)
                          - min(r["closed"]["started"] for r in reports))
        paced_latencies = [value for r in reports for value in r["paced"]["latencies"]]
        paced_seconds = (max(r["paced"]["ended"] for r in reports)
                         - min(r["paced"]["started"] for r in reports))
        late = sum(r["paced"]["late"] for r in reports)
        race = {}
        for r in reports:
            race[r["race"]] = race.get(r["race"], 0) + 1

        print()
        print(f"load average {load_before} before the run, {load_after} after the tills, "
              f"on {os.cpu_count()} CPUs")
        print(f"PostgreSQL {make_url(url).host}, {args.tills} till processes (one connection "
              f"each), service layer: who + redeem + commit + seal + commit")
        print(f"{'scenario':<46} {'figure':>13}")
        print(f"{'issue, one hot offer (' + str(ISSUE_THREADS) + ' threads)':<46} "
              f"{hot_rate:>10.0f} /s   ({hot_total} vouchers; no target)")
        print(f"{'issue, one offer per thread':<46} {spread_rate:>10.0f} /s   "
              f"({spread_total} vouchers; no target)")
        print(f"{'redeem, one till alone':<46} {len(alone_latencies):>10} scans")
        alone_p99 = print_latencies("latency", alone_latencies)
        print_steps("latency", alone["timings"])
        print(f"{'  SQL statements per redemption':<46} {alone['statements']:>10.1f}")
        print_cpu([reports[0]["alone"]], len(alone_latencies))
        print(f"target p99 < {TARGET_P99_MS:.0f} ms, one till alone: {verdict(alone_p99)}")
        print(f"{'redeem, ' + str(args.tills) + ' tills closed loop':<46} "
              f"{len(closed_latencies) / closed_seconds:>10.0f} /s   "
              f"({len(closed_latencies)} redemptions)")
        closed_p99 = print_latencies("latency", closed_latencies)
        print_steps("latency", closed_timings)
        print_cpu([r["closed"] for r in reports], len(closed_latencies))
        print(f"target p99 < {TARGET_P99_MS:.0f} ms, {args.tills} tills closed loop: "
              f"{verdict(closed_p99)}")
        print(f"{'redeem, ' + str(args.tills) + ' tills paced, one scan / ' + f'{args.period_ms:.0f}' + ' ms each':<46} "  # noqa: E501
              f"{len(paced_latencies) / paced_seconds:>10.0f} /s   "
              f"({len(paced_latencies)} redemptions, {late} started late)")
        paced_p99 = print_latencies("latency from when due", paced_latencies)
        print_cpu([r["paced"] for r in reports], len(paced_latencies))
        print(f"target p99 < {TARGET_P99_MS:.0f} ms, {args.tills} tills paced: "
              f"{verdict(paced_p99)}")
        one_winner = race == {"redeemed": 1, "VoucherAlreadyRedeemed": args.tills - 1}
        print(f"race: {args.tills} tills scan one voucher at once -> {race}: "
              f"{'met' if one_winner else 'NOT met'} (exactly one redemption)")
        print(f"ledger verify: {'ok' if report.ok else report.first()} ({report.entries} "
              f"entries, {report.sealed} sealed; {unsealed} left queued before the final "
              f"seal), redemptions recorded: {redemptions}")
        expected = (args.tills * (WARM_UP_REDEMPTIONS + CLOSED_LOOP_REDEMPTIONS)
                    + len(alone_latencies) + len(paced_latencies) + 1)
        assert one_winner, race
        assert redemptions == expected, (redemptions, expected)
        assert report.ok
        return 0
    finally:
        engine.dispose()
        admin(args.url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
