"""atheris (coverage-guided, libFuzzer) over the CDR/CMR parser: any bytes as a CUCM file.

The property is the one of test_fuzz.py: the parser never raises, and every line of the file is loaded
or in rejects with a reason, never both, never neither. The corpus starts from real CUCM files, cut
to a few lines so that each run stays fast.

    python -m tests.reliability.atheris_parser [libFuzzer flags] CORPUS_DIR

`make test` runs it for a few seconds (tests/reliability/test_atheris.py), `make soak` for minutes.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["warehouse"]):
    from warehouse import cucm  # noqa: F401  (instrumented before anything else imports it)

from tests.reliability.test_fuzz import check_every_line_accounted_for

CDR_NAME = "cdr_StandAloneCluster_02_202112131408_515359"
CMR_NAME = "cmr_StandAloneCluster_02_202112131408_515359"


def one_input(data: bytes) -> None:
    """One fuzzed file; a CMR when its first line names a CMR column, a CDR otherwise."""
    first = data.split(b"\n", 1)[0]
    name = CMR_NAME if b"numberPacketsSent" in first or b"varVQMetrics" in first else CDR_NAME
    check_every_line_accounted_for(name, data)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
