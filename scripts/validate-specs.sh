#!/usr/bin/env bash
# Validates the OpenAPI documents with openapi-spec-validator (an independent, Python-based
# validator): the spec documents, and the construct corpus (xtask/tests/corpus), whose documents
# must be valid OpenAPI for the pipeline's handling of them to mean anything.
# Creates or reuses a virtualenv under target/spec-venv.
#
# Usage: scripts/validate-specs.sh [spec files...]
#        (default: spec/*.yaml, xtask/tests/corpus/*.yaml, xtask/tests/corpus/fail/*.yaml)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SPEC_VENV:-$root/target/spec-venv}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating virtualenv in $venv" >&2
  "$python" -m venv "$venv"
fi

if ! "$venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${SPEC_VALIDATOR_REQ:-openapi-spec-validator~=0.9}"
fi

if [[ $# -eq 0 ]]; then
  set -- "$root"/spec/*.yaml "$root"/xtask/tests/corpus/*.yaml "$root"/xtask/tests/corpus/fail/*.yaml
fi

"$venv/bin/python" - "$@" <<'PY'
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

failed = False
for path in sys.argv[1:]:
    try:
        spec_dict, _base_uri = read_from_filename(path)
        validate(spec_dict)
    except Exception as exc:  # report every file, then fail
        failed = True
        # jsonschema errors carry a short message and a path; their str() dumps the whole document.
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        where = getattr(exc, "json_path", "")
        print(f"FAIL {path}: {message} (at {where})", file=sys.stderr)
    else:
        print(f"OK   {path} (OpenAPI {spec_dict.get('openapi')})")
sys.exit(1 if failed else 0)
PY
