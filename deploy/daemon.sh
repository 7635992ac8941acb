#!/usr/bin/env bash
# The Dagster daemon (run queue, backfills, schedules, sensors, run monitoring, retries).
# Creates or upgrades the instance schema first, so the other processes never race on it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
dagster instance migrate
exec dagster-daemon run -w workspace.yaml
