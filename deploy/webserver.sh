#!/usr/bin/env bash
# The Dagster UI and GraphQL API: deploy/webserver.sh [HOST] [PORT]
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec dagster-webserver -w workspace.yaml -h "${1:-127.0.0.1}" -p "${2:-3000}"
