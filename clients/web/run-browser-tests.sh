#!/usr/bin/env bash
# Kept for callers of the earlier name: every test of the web package now runs in run-tests.sh.
exec "$(dirname "$0")/run-tests.sh" "$@"
