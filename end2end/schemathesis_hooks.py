"""Schemathesis hooks for end2end/schemathesis.sh.

The run never revokes or re-fences its own key. The fuzzer reuses key ids it has seen in answers,
its own among them; once that key is revoked (disabled, rolled with no overlap, or its allowlist
shuts out loopback) every later request is a 401/403 and the run stops testing anything. Edits,
rolls and revokes aimed at it go to a key id that does not exist instead (a 404).

A new key may be limited to resources, which must exist in the key's organisation (else 422, as
documented): the run's organisation has one (LATCHKEY_SCHEMATHESIS_RESOURCE, `type:id`), and
generated ids of its type are pointed at it, as key ids are above.

Two admin rules JSON Schema cannot state, though the document says them in words (the server
answers 422 to bodies that break them, as documented): a tenant's metadata is at most 1 KiB of
compact JSON, so larger ones are not generated; and requirement ids are unique in a list, so a
repeated id is given a fresh suffix before the call (the coverage phase repeats `"0"`).
"""

import json
import os

import schemathesis

OWN_KEY_ID = os.environ.get("LATCHKEY_SCHEMATHESIS_KEY_ID", "")
ABSENT_KEY_ID = "key_" + "0" * 20
RESOURCE_TYPE, _, RESOURCE_ID = os.environ.get("LATCHKEY_SCHEMATHESIS_RESOURCE", "").partition(":")
# `operator::METADATA_MAX_BYTES`, less a margin: Python spells some numbers shorter than the
# server's serde_json does (a 20-digit integer is a float there), so a body near the limit may
# measure differently on each side.
METADATA_MAX_BYTES = 1024 - 64
TENANT_PATH = "/v1/admin/tenants/{external_id}"


@schemathesis.hook
def before_call(context, case, kwargs):
    if (
        OWN_KEY_ID
        and case.method.upper() in ("PATCH", "DELETE", "POST")
        and case.path_parameters
        and case.path_parameters.get("id") == OWN_KEY_ID
    ):
        case.path_parameters["id"] = ABSENT_KEY_ID
    if (
        case.method.upper() == "PUT"
        and case.operation.path == "/v1/admin/tenants/{external_id}/requirements"
        and isinstance(case.body, list)
    ):
        _unique_ids(case.body)
    if (
        RESOURCE_ID
        and case.method.upper() == "POST"
        and case.operation.path == "/v1/keys"
        and isinstance(case.body, dict)
        and isinstance(case.body.get("resources"), list)
    ):
        for item in case.body["resources"]:
            if isinstance(item, dict) and item.get("type") == RESOURCE_TYPE:
                item["id"] = RESOURCE_ID


def _unique_ids(items):
    seen = set()
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        if item["id"] in seen:
            suffix = f"-{n}"
            item["id"] = item["id"][: 128 - len(suffix)] + suffix
        seen.add(item["id"])


def _json_bytes(value):
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


@schemathesis.hook
def filter_body(context, body):
    operation = context.operation
    if operation is None or (operation.method.upper(), operation.path) != ("PUT", TENANT_PATH):
        return True
    metadata = body.get("metadata") if isinstance(body, dict) else None
    return not isinstance(metadata, dict) or _json_bytes(metadata) <= METADATA_MAX_BYTES
