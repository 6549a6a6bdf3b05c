"""Run every benchmark and print one table: benchmark, figure, target, verdict.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME,...] [--skip NAME,...] [--no-postgres]
                                      [--pg-db NAME] [--log DIR]

Each bench script runs in its own process (its full output goes to `--log DIR`, default a temporary
directory whose path is printed); the figures are read from its printed lines. A bench whose work
did not finish cannot pass: its rows say so (e.g. not every invoice transferred), and when the
script exits non-zero or times out its OK rows become MISSED and a row gives the exit status.
`--quick` uses small sizes (a smoke test of the suite, figures not comparable with the targets).
`--no-postgres` skips the benches that need PostgreSQL on 127.0.0.1:5432 (multi-organisation
workers, web load, races). Loopback only.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # prepaid_month and races give their own rows
PY = sys.executable


@dataclass
class Row:
    bench: str
    figure: str
    target: str
    verdict: str


@dataclass
class Bench:
    name: str
    args: list[str]
    quick: list[str]
    parse: object  # (output: str) -> list[Row]
    postgres: bool = False
    timeout: float = 1800
    rows: list[Row] = field(default_factory=list)


def num(pattern: str, text: str, default=None):
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else default


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("OK" if ok else "MISSED")


# --- parsers: one per script, tolerant of the rest of the output -----------------------------------
def p_client(out: str) -> list[Row]:
    ms = num(r"client CPU per request \(GET[^:]*:\s*([\d.]+) ms", out)
    pages = num(r"pages of 2000 contacts fetched\+parsed per CPU second:\s*([\d.]+)", out)
    return [
        Row("client: CPU per request (GET)", f"{ms} ms" if ms is not None else "?", "< 0.5 ms",
            verdict(None if ms is None else ms < 0.5)),
        Row("client: 2000-contact pages parsed / CPU s", f"{pages}" if pages else "?", "(figure)", "n/a"),
    ]  # fmt: skip


def p_sandbox(out: str) -> list[Row]:
    rtt = num(r"round trip\s+median ([\d.]+) ms", out)
    server = num(r"server time median ([\d.]+) ms", out)
    return [
        Row("sandbox: added latency, round trip median", f"{rtt} ms", "< 2 ms", verdict(None if rtt is None else rtt < 2)),  # noqa: E501
        Row("sandbox: server time median", f"{server} ms", "(figure)", "n/a"),
    ]  # fmt: skip


def p_contacts(out: str) -> list[Row]:
    req = num(r"\n\s+requests: (\d+)", out)
    secs = num(r"\n\s+seconds: ([\d.]+)", out)
    second = num(r"second sync: (\d+) requests", out)
    linked = re.search(r"every member linked to a bexio contact: (yes|NO)", out)
    ok = None if req is None else req <= 10 and bool(linked) and linked.group(1) == "yes"
    return [
        Row("contacts: first sync of 500 members @100 ms", f"{req:.0f} requests, {secs} s" if req is not None else "?",  # noqa: E501
            "a handful of requests, every member linked", verdict(ok)),
        Row("contacts: second sync", f"{second:.0f} requests" if second is not None else "?", "0",
            verdict(None if second is None else second == 0)),
    ]  # fmt: skip


def p_transfer_limit(out: str) -> list[Row]:
    ratio = num(r"= ([\d.]+) of the limit", out)
    rpi = num(r"requests per invoice: ([\d.]+)", out)
    secs = num(r"\n\s+seconds: ([\d.]+)", out)
    dup = num(r"duplicates: (\d+)", out)
    again = num(r"second run: (\d+) requests", out)
    done = re.search(r"done: (\d+)/(\d+)", out)
    finished = bool(re.search(r"all transferred exactly once: yes", out))
    return [
        Row("transfer 1000 @100 ms, 6000/min: rate / limit",
            (f"{ratio}" if ratio is not None else "?")
            + (f" ({done.group(1)}/{done.group(2)} done)" if done else ""),
            ">= 0.90, all done", verdict(None if ratio is None else ratio >= 0.90 and finished)),
        Row("transfer 1000: requests per invoice, seconds", f"{rpi}, {secs} s", "(figure)", "n/a"),
        Row("transfer 1000: duplicates; re-run requests",
            f"{dup:.0f}; {again:.0f}" if dup is not None and again is not None else "?", "0; 0",
            verdict(None if dup is None or again is None else dup == 0 and again == 0)),
    ]  # fmt: skip


def seconds_of(out: str):
    return num(r"\n\s+seconds: ([\d.]+)", out)


def p_cpu(out: str) -> list[Row]:
    ms = num(r"cpu ms per invoice: ([\d.]+)", out)
    rate = num(r"\(([\d.]+) invoices/s\)", out)
    done = re.search(r"concurrency \d+: (\d+)/(\d+) invoices", out)
    finished = bool(done) and done.group(1) == done.group(2)
    return [
        Row("transfer: CPU ms per invoice @0 ms",
            f"{ms} ms ({rate} invoices/s, {done.group(1) + '/' + done.group(2) if done else '?'} done)",
            "< 50 ms, all done", verdict(None if ms is None else ms < 50 and finished)),
    ]  # fmt: skip


def p_memory(out: str) -> list[Row]:
    peak = num(r"peak rss MB: ([\d.]+)", out)
    growth = num(r"rss growth MB: (-?[\d.]+)", out)
    done = re.search(r"concurrency \d+: (\d+/\d+) invoices", out)
    worked = bool(re.search(r"worked for \d+ s: yes", out))
    return [
        Row("transfer: peak memory, 10,000 invoices queued", f"{peak} MB (+{growth} MB during; "
            f"{done.group(1) if done else '?'} worked)", "< 500 MB, some worked",
            verdict(None if peak is None else peak < 500 and worked)),
    ]  # fmt: skip


def p_status(out: str) -> list[Row]:
    m = re.search(r"second sync, (\d+) of (\d+) changed \((\d+) paid\): (\d+) requests = (\d+) search", out)
    third = num(r"third sync \(nothing changed\): (\d+) requests", out)
    if not m:
        return [Row("status sync: requests", "?", "a handful", "n/a")]
    changed, total, paid, req, searches = (int(x) for x in m.groups())
    applied = bool(re.search(r"all changes applied: yes", out))
    return [
        Row(f"status sync: {changed} of {total} changed ({paid} paid)",
            f"{req} requests ({searches} search + {req - searches} payment listings)"
            + ("" if applied else ", changes NOT all applied"),
            "a handful + 1 per paid invoice, all applied",
            verdict(searches <= 5 and req - searches <= paid and applied)),
        Row("status sync: nothing changed", f"{third:.0f} requests" if third is not None else "?", "<= 2",
            verdict(None if third is None else third <= 2)),
    ]  # fmt: skip


def p_campaign(out: str) -> list[Row]:
    schedules = num(r"schedules run:\s+(\d+)", out)
    faults = num(r"faults injected: (\d+)", out)
    d, lost, mm = (num(rf"{k}:\s+(\d+)", out) for k in ("duplicates", "losses", "mismatches"))
    zero = None if d is None else d == lost == mm == 0
    return [
        Row(f"fault campaign: {schedules:.0f} schedules, {faults:.0f} faults" if schedules else "fault campaign",  # noqa: E501
            f"{d:.0f} dup / {lost:.0f} lost / {mm:.0f} mismatch" if d is not None else "?", "0 / 0 / 0",
            verdict(zero)),
    ]  # fmt: skip


def p_multi(out: str) -> list[Row]:
    m = re.search(
        r"total: ([\d.]+) s, duplicates (\d+), losses (\d+), companies over the limit (\d+), 429s (\d+)", out
    )
    fin = re.findall(r"org\s+\S+ \(company \S+\): (\d+)/(\d+) done, finished at ([\d.]+) s", out)
    if not m:
        return [Row("4 workers x 3 orgs (PostgreSQL)", "?", "0 dup, 0 over limit", "n/a")]
    total, dup, lost, over, n429 = m.groups()
    times = ", ".join(f"{n} writes: {t} s" for _d, n, t in fin)
    all_done = bool(fin) and all(d == n for d, n, _t in fin) and "all writes done: yes" in out
    return [
        Row("4 workers x 3 orgs: duplicates / losses / over limit", f"{dup} / {lost} / {over} ({n429} x 429)"
            + ("" if all_done else ", NOT all done"), "0 / 0 / 0, all done",
            verdict(dup == lost == over == "0" and all_done)),
        Row("4 workers x 3 orgs: completion per org", times, "small orgs not last", "n/a"),
    ]  # fmt: skip


def p_web(out: str) -> list[Row]:
    errors = num(r"errors: (\d+)", out)
    p95 = num(r"p95 (\d+)\s+p99", out)
    rps = num(r"throughput: ([\d.]+) req/s", out)
    single = re.search(r"^1 user for[^\n]*\n((?:    [^\n]*\n)+)", out, re.M)
    kind_p95 = r"^    (.+?)\s+n=\s*\d+\s+p50\s+\d+\s+p95\s+(\d+) ms"
    kinds = re.findall(kind_p95, single.group(1), re.M) if single else []
    worst = max(kinds, key=lambda k: int(k[1])) if kinds else None
    many_ok = None
    unfinished = "transfer alongside did not finish" in out
    if p95 is not None and rps is not None and errors is not None:
        many_ok = p95 < 1500 and rps >= 52 and errors == 0 and not unfinished
    return [
        Row("web: 1 user, every page kind, worst p95",
            f"{worst[1]} ms ({worst[0]})" if worst else "?", "<= 150 ms",
            verdict(None if worst is None else int(worst[1]) <= 150)),
        Row("web: 50 users, 50k invoices, transfer running",
            (f"p95 {p95:.0f} ms, {rps} req/s, {errors:.0f} errors" if errors is not None else "?")
            + (", transfer NOT finished" if unfinished else ""),
            "p95 < 1500 ms, >= 52 req/s, 0 errors, transfer done", verdict(many_ok)),
    ]  # fmt: skip


def p_prepaid(out: str) -> list[Row]:
    import prepaid_month

    return [Row(*r) for r in prepaid_month.rows(out)]


def p_races(quick: bool, interleavings: int):
    def parse(out: str) -> list[Row]:
        import races

        rows = [Row(*r) for r in races.table_rows(out)]
        if quick:
            # The suite's own target is >= 200 interleavings; a quick run asks for fewer, and passes
            # only when it ran them all without a violation or an error.
            n, v, e = (num(rf"^{k}: (\d+)", out) for k in ("interleavings", "violations", "errors"))
            for r in rows:
                r.target = f"{interleavings} interleavings (quick), 0 violations, 0 errors"
                r.verdict = verdict(None if None in (n, v, e) else n >= interleavings and v == e == 0)
        return rows

    return parse


def speedup_rows(one: str, many: str) -> list[Row]:
    s1, sn = seconds_of(one), seconds_of(many)
    if not s1 or not sn:
        return [Row("transfer @100 ms, no limit: speed-up", "?", ">= 5x", "n/a")]
    return [
        Row("transfer @100 ms, no limit: speed-up 16 vs 1 in flight", f"{s1 / sn:.1f}x ({s1} s -> {sn} s)",
            ">= 5x", verdict(s1 / sn >= 5)),
    ]  # fmt: skip


RACES_QUICK = 10


def benches(quick: bool) -> list[Bench]:
    return [
        # 1,000 calls are plenty for a per-call CPU figure.
        Bench("client_overhead", ["--requests", "1000"], ["--requests", "300", "--pages", "3"], p_client),
        Bench("sandbox_latency", [], ["-n", "300"], p_sandbox, timeout=600),
        Bench("contacts_sync", ["--members", "500", "--latency-ms", "100"],
              ["--members", "50", "--sample", "5"], p_contacts),
        Bench("transfer_1000", ["--invoices", "1000", "--latency-ms", "100", "--limit", "6000"],
              ["--invoices", "100", "--members", "30"], p_transfer_limit),
        Bench("transfer_cpu", ["--invoices", "1000"], ["--invoices", "100", "--members", "30"], p_cpu),
        Bench("transfer_cpu", ["--invoices", "10000", "--members", "2000", "--max-seconds", "60"],
              ["--invoices", "500", "--members", "50", "--max-seconds", "10"], p_memory),
        Bench("status_sync", ["--invoices", "10000", "--changed", "300", "--paid", "100"],
              ["--invoices", "500", "--changed", "30", "--paid", "10"], p_status),
        Bench("campaign", ["--schedules", "20", "--invoices", "100"], ["--schedules", "2", "--invoices", "10"],  # noqa: E501
              p_campaign, timeout=3600),
        Bench("transfer_multi_org", ["--workers", "4", "--sizes", "150,60,20"],
              ["--workers", "2", "--sizes", "20,8,4", "--latency-ms", "20"], p_multi, postgres=True),
        Bench("web_load", ["--users", "50", "--seconds", "30"],
              ["--users", "5", "--seconds", "5", "--single-seconds", "5", "--invoices", "2000",
               "--members", "200", "--flights", "500", "--transfer-invoices", "20"], p_web, postgres=True),
        Bench("prepaid_month", [],
              ["--members", "50", "--charges", "200", "--top-ups", "30", "--latency-ms", "20"],
              p_prepaid, timeout=1800),
        Bench("races", ["--interleavings", "200"], ["--interleavings", str(RACES_QUICK)],
              p_races(quick, RACES_QUICK), postgres=True, timeout=3600),
    ]  # fmt: skip


def run(name: str, args: list[str], log_dir: Path, timeout: float, tag: str = "") -> tuple[str, str | None]:
    """The script's output, and why its run did not finish its work (None: it exited 0)."""
    cmd = [PY, str(BENCH / f"{name}.py"), *args]
    started = time.monotonic()
    failed = None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        out = proc.stdout + "\n" + proc.stderr
        if proc.returncode != 0:
            failed = f"exit status {proc.returncode}"
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        out = f"TIMEOUT after {timeout} s\n{partial}"
        failed = f"timed out after {timeout:.0f} s"
    log = log_dir / f"{name}{tag}.log"
    log.write_text(" ".join(cmd) + "\n\n" + out)
    print(f"  {name}{tag}: {time.monotonic() - started:.0f} s ({log})", file=sys.stderr, flush=True)
    return out, failed


def unfinished(name: str, rows: list[Row], failed: str | None) -> list[Row]:
    """A run that exited non-zero or timed out passes nothing: its OK rows become MISSED."""
    if failed is None:
        return rows
    for r in rows:
        if r.verdict == "OK":
            r.verdict = "MISSED"
    return [*rows, Row(f"{name}: the run itself", failed, "exit status 0", "MISSED")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated bench names")
    parser.add_argument("--skip", default="", help="comma-separated bench names to leave out")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--pg-db", default="", help="the database the PostgreSQL benches create and drop (default: their own)"
    )
    parser.add_argument("--log", default="")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    skip = {n for n in args.skip.split(",") if n}
    log_dir = Path(args.log or tempfile.mkdtemp(prefix="bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"logs: {log_dir}", file=sys.stderr)

    rows: list[Row] = []
    for i, b in enumerate(benches(args.quick)):
        if (only and b.name not in only) or b.name in skip:
            continue
        if b.postgres and args.no_postgres:
            rows.append(Row(b.name, "skipped (--no-postgres)", "", "n/a"))
            continue
        bench_args = b.quick if args.quick else b.args
        if b.postgres and args.pg_db:
            bench_args = [*bench_args, "--db", args.pg_db]
        out, failed = run(b.name, bench_args, log_dir, b.timeout, tag=f"-{i}")
        try:
            parsed = b.parse(out)
        except Exception as exc:  # noqa: BLE001 - a broken bench shows as a row, the rest still runs
            parsed = [Row(b.name, f"could not read the output ({exc!r})", "", "MISSED")]
        rows.extend(unfinished(b.name, parsed, failed))
    if (not only or "speedup" in only or "transfer_1000" in only) and "speedup" not in skip:
        n = (
            ["--invoices", "40", "--members", "20"]
            if args.quick
            else ["--invoices", "200", "--members", "50"]
        )
        common = [*n, "--latency-ms", "100", "--limit", "1000000"]
        one, failed_one = run("transfer_1000", [*common, "--concurrency", "1"], log_dir, 1800, tag="-c1")
        many, failed_many = run("transfer_1000", [*common, "--concurrency", "16"], log_dir, 1800, tag="-c16")
        rows.extend(unfinished("speedup", speedup_rows(one, many), failed_one or failed_many))

    widths = [max(len(getattr(r, f)) for r in [Row("benchmark", "figure", "target", "verdict"), *rows])
              for f in ("bench", "figure", "target", "verdict")]  # fmt: skip
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format("benchmark", "figure", "target", "verdict"))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(r.bench, r.figure, r.target, r.verdict))
    if args.quick:
        print("(--quick: small sizes, figures not comparable with the targets)")
    return 1 if any(r.verdict == "MISSED" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
