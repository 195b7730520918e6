"""`make soak`: the long reliability runs, bounded in time, writing their figures into docs/RELIABILITY.md.

1. Faults: `ringledger ingest` of a 20,000-leg demo day killed with SIGKILL at random moments, N seeded
   runs, each compared with one clean run.
2. Fuzzing: the hypothesis tests of tests/reliability/test_fuzz.py with thousands of examples each, and
   atheris over the CDR/CMR parser for minutes.
3. Load: the phone XML service, CURRI and the JSON API of a live phone service, with the load generator
   (every answer checked) and, where the Debian `wrk` is installed, with wrk; the portal with twenty
   browser sessions running reports at once.

`python -m bench.soak [--only PARTS] [--kills N] [--fuzz N] [--atheris-seconds S] [--load-seconds S]`;
the defaults take about 30 minutes on the 2-core build machine. With --only, the parts not run keep
the figures already on the page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import faults
from bench.common import ROOT, machine
from bench.load import have_wrk, run_load, run_wrk

DOC = ROOT / "docs" / "RELIABILITY.md"
START, END = "<!-- soak figures: start -->", "<!-- soak figures: end -->"


def soak_kills(work: Path, runs: int, legs: int) -> list[str]:
    config_dir = work / "demo"
    cdr = faults.demo_files(config_dir, legs=legs, days=1)
    config = config_dir / "ringledger.toml"
    expected, clean_seconds = faults.clean_run(work / "clean", config, [cdr])
    results = [faults.kill_run(work, config, [cdr], expected, clean_seconds, seed) for seed in range(1, runs + 1)]
    identical = sum(r.identical for r in results)
    kills = sum(r.killed for r in results)
    files = sum(1 for p in cdr.iterdir() if not p.name.startswith("."))
    rows = sum(len(v) for v in expected.values())
    lines = [
        f"- Data: the demo company, {legs:,} CDR legs of one day in {files:,} one-minute CDR/CMR files; a clean "
        f"ingest took {clean_seconds:.1f} s and gives {rows:,} rows across cdr, cmr, rejects and calls.",
        f"- {runs} seeded runs, {kills} SIGKILLs that hit a running ingest (delays 0.05 s to {clean_seconds:.1f} s, "
        f"1-2 kills per run), each followed by a run to the end.",
        f"- **{identical} of {runs} runs ended exactly as the clean run** (cdr, cmr, rejects, calls with costs, "
        "compared row by row).",
    ]
    for r in results:
        if not r.identical:
            lines.append(f"  - seed {r.seed}: {'; '.join(r.differences)}")
    return lines


def soak_fuzz(examples: int) -> list[str]:
    env = {**os.environ, "RINGLEDGER_FUZZ_EXAMPLES": str(examples)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability/test_fuzz.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    return [
        f"- hypothesis, {examples:,} examples per test (6 tests: mangled CDR files, mangled CMR files, any bytes, "
        f"own-format rates, A-Z decks, CGRateS folders), {seconds:.0f} s: `{summary}`.",
    ]


def soak_atheris(work: Path, seconds: int) -> list[str]:
    from tests.reliability.test_atheris import run_atheris, seed_corpus

    corpus = seed_corpus(work / "corpus")
    code, runs, output = run_atheris(corpus, seconds, work / "atheris.log")
    stats = dict(re.findall(r"stat::(\w+):\s*(\d+)", output))
    verdict = "no crash, every line accounted for" if code == 0 else f"**failed** (exit {code}): see the log"
    return [
        f"- atheris (coverage-guided) over the CDR/CMR parser for {seconds} s from real CDR and CMR seeds: "
        f"{runs:,} inputs ({stats.get('average_exec_per_sec', '?')}/s), {stats.get('new_units_added', '?')} "
        f"new coverage units kept, peak {stats.get('peak_rss_mb', '?')} MB; {verdict}.",
    ]


LUA = """wrk.method = "{method}"
wrk.body = [[{body}]]
{headers}
"""


CURRI_STEPS = (50, 100)


def soak_load(work: Path, seconds: int, connections: int) -> list[str]:
    from tests.phone_xml import test_load
    from tests.services import free_port, stop, wait_for_http

    home = work / "load-home"
    home.mkdir()
    secret = test_load.load_home(home)
    port = free_port()
    log = work / "phone-service.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "phone_xml.server", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "RINGLEDGER_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    lines = [
        "| endpoint | client | connections | requests | seconds | answers/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    try:
        wait_for_http(f"{url}/health", proc, log)
        for name, reqs in test_load.requests_for(secret).items():
            # CURRI also with fewer connections: its answers per second must not fall as connections grow
            steps = [c for c in CURRI_STEPS if c < connections] if name == "curri" else []
            for conns in [*steps, connections]:
                r = run_load(name, url, reqs, test_load.check, connections=conns, total=10**9, seconds=seconds)
                lines.append(
                    f"| {name} | checked client | {conns} | {r.answers:,} | {r.seconds:.0f} | {r.throughput:,.0f} | "
                    f"{r.percentile(50):.0f} | {r.percentile(99):.0f} | {r.errors} |"
                )
            if not have_wrk():
                continue
            req = reqs[0]
            headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in req.headers)
            script = work / f"{name}.lua"
            script.write_text(LUA.format(method=req.method, body=req.body.decode(), headers=headers))
            w = run_wrk(name, url + req.path, connections=connections, seconds=seconds, script=str(script))
            lines.append(
                f"| {name} | wrk | {connections} | {w.requests:,} | {w.seconds} | {w.requests_per_s:,.0f} | "
                f"{w.p50_ms:.0f} | {w.p99_ms:.0f} | {w.errors} |"
            )
    finally:
        stop(proc)
    if not have_wrk():
        lines.append("\n(wrk is not installed here: `make system-packages` installs it.)")
    return lines


def soak_portal(work: Path) -> list[str]:
    """The twenty-session browser test, with its timings."""
    figures = work / "portal.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/dashboards/test_portal_sessions.py",
        ],
        cwd=ROOT,
        env={**os.environ, "RINGLEDGER_PORTAL_FIGURES": str(figures)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not figures.exists():
        tail = (done.stdout + done.stderr)[-400:].replace("\n", " ")
        return [f"- **failed** (exit {done.returncode}): `{tail}`"]
    f = json.loads(figures.read_text())
    return [
        f"- {f['sessions']} Chromium sessions at once (one browser, a context each), every one logging in as its own "
        "person and running Group cost by department over all time: all answered, each with only its own "
        f"department; {f['wall_s']:.0f} s for all of them, log-in median {f['login_p50_s']:.1f} s, report (click to "
        f"chart) median {f['report_p50_s']:.1f} s, slowest {f['report_max_s']:.1f} s. The browser's twenty pages and "
        "the portal share the same two cores.",
    ]


# The parts of the soak, in the order they run and appear, with their titles on the page.
PARTS = {
    "kills": "Ingest killed with SIGKILL, then resumed",
    "fuzz": "Fuzzing",
    "load": "Load on loopback",
    "portal": "Portal: twenty sessions running reports",
}


def _stamp() -> str:
    load = os.getloadavg()
    return (
        f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (the machine is shared: figures are lower bounds)._"
    )


def figures_on_page() -> dict[str, list[str]]:
    """The figures now on the page, by title, each with the line saying when it was measured."""
    _, _, rest = DOC.read_text(encoding="utf-8").partition(START)
    block, _, _ = rest.partition(END)
    sections: dict[str, list[str]] = {}
    preamble: list[str] = []
    current: list[str] = preamble
    for line in block.strip("\n").splitlines():
        title = re.fullmatch(r"\*\*(.+)\*\*", line)
        if title:
            current = sections[title.group(1)] = []
        else:
            current.append(line)
    stamp = [line for line in preamble if line.strip()]
    for lines in sections.values():
        while lines and not lines[0].strip():
            lines.pop(0)
        # figures written before each part had its own date carry the date of the whole run
        if lines and stamp and not lines[0].startswith("_Measured"):
            lines[:0] = [f"_{stamp[0].rstrip('.')}._", ""]
    return sections


def write_figures(fresh: dict[str, list[str]]) -> None:
    """Put the new figures on the page, each part under its own date; parts not run again stay."""
    sections = figures_on_page()
    stamp = _stamp()
    for title, lines in fresh.items():
        sections[title] = [stamp, "", *lines]
    order = list(PARTS.values()) + [t for t in sections if t not in PARTS.values()]
    body = [START, ""]
    for title in order:
        if title in sections:
            lines = sections[title]
            while lines and not lines[-1].strip():
                lines = lines[:-1]
            body += [f"**{title}**", "", *lines, ""]
    body.append(END)
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + "\n".join(body) + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the soak (or some of its parts) and write the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated parts to run again: {', '.join(PARTS)} (default all)")
    parser.add_argument("--kills", type=int, default=20, help="seeded SIGKILL runs (default 20)")
    parser.add_argument("--legs", type=int, default=20000, help="CDR legs of the demo day (default 20000)")
    parser.add_argument("--fuzz", type=int, default=2000, help="hypothesis examples per fuzz test (default 2000)")
    parser.add_argument("--atheris-seconds", type=int, default=180, help="seconds of atheris (default 180)")
    parser.add_argument("--load-seconds", type=int, default=60, help="seconds of load per endpoint and client")
    parser.add_argument("--connections", type=int, default=400, help="concurrent connections (default 400)")
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(PARTS)
    unknown = set(chosen) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    sections: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="ringledger-soak-") as tmp:
        work = Path(tmp)
        for part in chosen:
            print(f"soak: {part}", file=sys.stderr)
            (work / part).mkdir()
            if part == "kills":
                lines = soak_kills(work / part, args.kills, args.legs)
            elif part == "fuzz":
                lines = soak_fuzz(args.fuzz) + soak_atheris(work / part, args.atheris_seconds)
            elif part == "load":
                lines = soak_load(work / part, args.load_seconds, args.connections)
            else:
                lines = soak_portal(work / part)
            sections[PARTS[part]] = lines
    write_figures(sections)
    print(f"figures written to {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
