"""The retention job: one op that applies `[retention]` and logs what it removed."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource


@dg.op
def apply_retention(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> dg.Output[dict]:
    """Remove data older than its configured age and anonymise outside numbers past theirs (audited)."""
    from warehouse import retention

    result = retention.run(ringledger.settings(), ringledger.engine(), actor="system:retention_job")
    for line in result.lines():
        context.log.info(line)
    summary = result.as_dict()
    return dg.Output(
        summary,
        metadata={
            "removed": dg.MetadataValue.json(summary["removed"]),
            "anonymised": dg.MetadataValue.json(summary["anonymised"]),
            "numbers_forgotten": result.numbers_forgotten,
        },
    )


@dg.job(executor_def=dg.in_process_executor, tags={"domain": "retention"})
def retention_job() -> None:
    """Remove and anonymise what is older than the retention settings allow."""
    apply_retention()
