# Sourced by ./qtale and .ci/run. Prints the home of a JDK 25 or newer, or explains what to install.
qtale_java_major() {
  local home="$1" version=""
  if [ -f "$home/release" ]; then
    version="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")"
  fi
  if [ -z "$version" ] && [ -x "$home/bin/java" ]; then
    version="$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  fi
  echo "${version:-0}"
}

qtale_find_jdk25() {
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ] && [ "$(qtale_java_major "$JAVA_HOME")" -ge 25 ]; then
    echo "$JAVA_HOME"; return 0
  fi
  for candidate in /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    if [ -x "$candidate/bin/javac" ] && [ "$(qtale_java_major "$candidate")" -ge 25 ]; then
      echo "$candidate"; return 0
    fi
  done
  cat >&2 <<'MSG'
qtale needs a JDK 25 or newer (for the Vector API and the FFM API), and none was found
(JAVA_HOME is not a JDK 25+, and there is none under /usr/lib/jvm).
Install one, for example Eclipse Temurin 25:
  Debian/Ubuntu: add the Adoptium apt repository (https://adoptium.net/installation/linux/), then
                 sudo apt-get install temurin-25-jdk
  or unpack a JDK 25 from https://adoptium.net and set JAVA_HOME to it.
MSG
  return 1
}
