#!/usr/bin/env bash
# Every test of the web package (@durable-sessions/client):
#   build (esbuild bundles + tsc declarations, which type-checks the sources),
#   unit tests (node --test: the shared Java/JS fixtures, the AI SDK mapping),
#   the pack test (npm pack, install into a scratch project, tsc --noEmit on a usage file),
#   end-to-end tests (the Node agent SDK and the AI SDK path on a real local stack),
#   browser tests (Debian's Chromium driven by playwright-core: the demo chat and a React page
#   with useChat), all against one local stack.
# Installs what is missing (npm packages, Chromium). Without Chromium (and no way to install it)
# the browser tests print "skipped: ..." and the rest still runs.
#   clients/web/run-tests.sh                    (from anywhere)
#   DS_SKIP_BUILD=1 clients/web/run-tests.sh    (local/lab was just installed by the caller)
set -euo pipefail
WEB="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$WEB/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
start=$(date +%s)
step() { echo "== web: $1 ($(( $(date +%s) - start )) s)"; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "error: node (20 or newer) and npm are required for the web client's tests" >&2
  exit 1
fi

cd "$WEB"
# (re)install when package-lock.json changed since the last install
stamp="node_modules/.ds-installed-lock"
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
step "build"
npm run --silent build
step "unit tests"
node --test --test-concurrency=1 test/unit/
step "pack test"
node test/pack/pack-test.mjs

browser="test/browser/"
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
    browser=""
  fi
fi

cd "$REPO"
source scripts/find-jdk.sh
mkdir -p "$WEB/test-output"
if [ -z "${DS_SKIP_BUILD:-}" ]; then
  step "building local/lab"
  ./mvnw -B -q -ntp -DskipTests -pl local/lab -am install
fi
./mvnw -B -q -ntp -pl local/lab org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile="$WEB/test-output/classpath.txt"
export DS_STACK_CLASSPATH_FILE="$WEB/test-output/classpath.txt"

cd "$WEB"
step "end-to-end${browser:+ and browser} tests"
node test/with-stack.js test/e2e/ $browser
echo "web tests finished in $(( $(date +%s) - start )) s (screenshots: clients/web/test-output/*.png)"
