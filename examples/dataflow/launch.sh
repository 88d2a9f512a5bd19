#!/usr/bin/env bash
# Launch the quickstart training set backfill on Dataflow (see README.md).
# Environment: CHRONON (the binary; default bin/chronon), PROJECT, REGION, STAGING.
# Flags are passed through to chronon backfill (e.g. --dry-run, --start-ds).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
chronon="${CHRONON:-$root/bin/chronon}"
cd "$root/examples/quickstart"
staging=()
[ -n "${STAGING:-}" ] && staging=(--staging-location "$STAGING")
exec "$chronon" backfill --conf quickstart.training_set.v1 \
    --runner dataflow --project "${PROJECT:-chronon-dry-run}" --region "${REGION:-us-central1}" \
    "${staging[@]}" "$@"
