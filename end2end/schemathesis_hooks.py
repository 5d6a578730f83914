"""Schemathesis hooks for end2end/schemathesis.sh: the run never revokes or re-fences its own key.

The fuzzer reuses key ids it has seen in answers, its own among them; once that key is revoked
(disabled, rolled with no overlap, or its allowlist shuts out loopback) every later request is a
401/403 and the run stops testing anything. Edits, rolls and revokes aimed at it go to a key id
that does not exist instead (a 404).
"""

import os

import schemathesis

OWN_KEY_ID = os.environ.get("LATCHKEY_SCHEMATHESIS_KEY_ID", "")
ABSENT_KEY_ID = "key_" + "0" * 20


@schemathesis.hook
def before_call(context, case, kwargs):
    if (
        OWN_KEY_ID
        and case.method.upper() in ("PATCH", "DELETE", "POST")
        and case.path_parameters
        and case.path_parameters.get("id") == OWN_KEY_ID
    ):
        case.path_parameters["id"] = ABSENT_KEY_ID
