# Sourced by the scripts here and by .ci/run: exports JAVA_HOME pointing at a JDK >= 21.
# The build targets the Lambda java21 runtime (--release 21), so an older default JDK will not do.

ds_java_major() {
  # prints the major version of the java binary given, or nothing
  "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

ds_find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  command -v java >/dev/null 2>&1 && candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [ -d "$d" ] && candidates+=("$d")
  done
  local best="" best_major=0 d major
  for d in "${candidates[@]}"; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
    major=$(ds_java_major "$d/bin/java")
    [ -n "$major" ] || continue
    # prefer the newest JDK, and 21 or later only
    if [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then best="$d"; best_major="$major"; fi
  done
  if [ -z "$best" ]; then
    echo "error: no JDK 21 or newer found (looked at JAVA_HOME, the java on PATH and /usr/lib/jvm)." >&2
    echo "       Install one (e.g. Temurin 21 or 25) or set JAVA_HOME to it." >&2
    return 1
  fi
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
}

ds_find_jdk || exit 1

# Maven 3.9 (Guice) touches sun.misc.Unsafe, which JDK 24+ reports with four WARNING lines on every
# run; allow it quietly (the option exists from JDK 23 on; older JDKs would refuse it)
if [ "$(ds_java_major "$JAVA_HOME/bin/java")" -ge 23 ] && [[ "${MAVEN_OPTS:-}" != *sun-misc-unsafe-memory-access* ]]; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
