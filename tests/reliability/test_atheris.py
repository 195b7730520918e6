"""The coverage-guided fuzzer (atheris) over the CDR/CMR parser, for a bounded time; `make soak` runs it longer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.reliability.test_fuzz import CDR, CMR

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("RINGLEDGER_ATHERIS_SECONDS", "20"))


def seed_corpus(folder: Path, lines: int = 6) -> Path:
    """Real CDR and CMR files cut to their first lines (header, types, a few records)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("cdr", CDR), ("cmr", CMR)):
        (folder / name).write_bytes(b"\n".join(data.split(b"\n")[:lines]) + b"\n")
    return folder


def run_atheris(corpus, seconds: int, log) -> tuple[int, int, str]:
    """Run the fuzzer; its exit code, the number of inputs it ran, and its output."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.atheris_parser",
            f"-max_total_time={seconds}",
            "-rss_limit_mb=4096",
            "-max_len=20000",
            "-print_final_stats=1",
            str(corpus),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 300,
    )
    output = done.stdout + done.stderr
    log.write_text(output)
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", output)
    return done.returncode, int(runs.group(1)) if runs else 0, output


def test_the_parser_survives_coverage_guided_fuzzing(tmp_path):
    corpus = seed_corpus(tmp_path / "corpus")
    code, runs, output = run_atheris(corpus, SECONDS, tmp_path / "atheris.log")
    assert code == 0, output[-3000:]
    # the fuzzer really ran the parser: the seeds, and mutations of them
    assert runs > 2, output[-3000:]
