"""Schemathesis drives the API from its own OpenAPI document (in-process, a bounded number of examples
per operation): no server error, and every answer matches what the document promises (status codes,
content types, headers, schemas), for data that fits the document and for data that does not."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation.modes import GenerationMode

from warehouse import api_tokens, phonelock
from warehouse.access import load_principal

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
EXAMPLES = 12  # per operation and mode: enough to reach every parameter, fast enough for every run


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_the_promises_of_its_document(app, gadget_settings, engine, mode):
    _info, secret = api_tokens.create_token(gadget_settings, engine, load_principal(engine, "giulia.rossi"), "schema")
    bearer = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    try:
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
            def run(case):
                case.call_and_validate(headers=bearer, checks=CHECKS)

            run()
    finally:
        # the generated requests lock and unlock Giulia's phone: leave it as the other tests expect it
        phonelock.set_user_lock(gadget_settings, engine, load_principal(engine, "giulia.rossi"), False)
