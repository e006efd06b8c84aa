# Sourced by the scripts in bin/: finds a JDK 21 or newer and exports JAVA_HOME for Maven.
# Order: JAVA_HOME when it is new enough, then the newest JDK under /usr/lib/jvm (or the folders
# in CV4J_JDK_DIRS, separated by ':'), then the javac on PATH. Prints one line and exits when none
# is found.

cv4j_java_major() {
  # Prints the feature version of the JDK at $1 (e.g. 25), or nothing if $1 is not a JDK.
  local home=$1 version
  [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [ -z "$version" ]; then
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  version=${version#1.}
  echo "${version%%[.+-]*}"
}

cv4j_find_jdk() {
  local required=21 candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(cv4j_java_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge "$required" ]; then
      echo "$JAVA_HOME"
      return 0
    fi
  fi
  local dirs dir
  IFS=: read -r -a dirs <<< "${CV4J_JDK_DIRS:-/usr/lib/jvm}"
  for dir in "${dirs[@]}"; do
    for candidate in "$dir"/*; do
      [ -d "$candidate" ] || continue
      major=$(cv4j_java_major "$candidate")
      if [ -n "$major" ] && [ "$major" -ge "$required" ] && [ "$major" -gt "$best_major" ]; then
        best=$candidate
        best_major=$major
      fi
    done
  done
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(cv4j_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge "$required" ]; then
      best=$candidate
    fi
  fi
  if [ -n "$best" ]; then
    echo "$best"
  fi
}

JAVA_HOME=$(cv4j_find_jdk || true)
if [ -z "$JAVA_HOME" ]; then
  echo "contextvars4j needs a JDK 21 or newer: none in JAVA_HOME, ${CV4J_JDK_DIRS:-/usr/lib/jvm}/* or on PATH; install one (e.g. apt-get install openjdk-21-jdk-headless)." >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
if ! command -v mvn >/dev/null 2>&1; then
  echo "contextvars4j needs Apache Maven 3.8 or newer on PATH; install it (e.g. apt-get install maven)." >&2
  exit 1
fi
