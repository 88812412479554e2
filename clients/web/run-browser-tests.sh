#!/usr/bin/env bash
# Browser tests of the web client and the demo chat: Debian's Chromium driven by playwright-core,
# against a local stack started by the tests. Installs what is missing (Chromium, npm packages),
# builds local/stack, then runs `node --test`. Exits 0 with "skipped: ..." only when Chromium
# cannot be installed at all.
#   clients/web/run-browser-tests.sh            (from anywhere)
#   DS_SKIP_BUILD=1 clients/web/run-browser-tests.sh   (local/stack was just installed by the caller)
set -euo pipefail
WEB="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$WEB/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
start=$(date +%s)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "error: node and npm are required for the browser tests" >&2
  exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "browser tests: $CHROMIUM not found, installing Debian's chromium"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
  if command -v apt-get >/dev/null 2>&1 \
      && $SUDO apt-get update -q >/dev/null 2>&1 \
      && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
      && [ -x "$CHROMIUM" ]; then
    echo "browser tests: chromium installed"
  else
    echo "skipped: browser tests (Chromium is not installed at $CHROMIUM and cannot be installed here)"
    exit 0
  fi
fi

cd "$WEB"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

cd "$REPO"
source scripts/find-jdk.sh
mkdir -p "$WEB/test-output"
if [ -z "${DS_SKIP_BUILD:-}" ]; then
  ./mvnw -B -q -ntp -DskipTests -pl local/stack -am install
fi
./mvnw -B -q -ntp -pl local/stack org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile="$WEB/test-output/classpath.txt"
export DS_STACK_CLASSPATH_FILE="$WEB/test-output/classpath.txt"

cd "$WEB"
status=0
node --test --test-concurrency=1 test/demo.test.js || status=$?
echo "browser tests finished in $(( $(date +%s) - start )) s (screenshot: clients/web/test-output/demo.png)"
exit $status
