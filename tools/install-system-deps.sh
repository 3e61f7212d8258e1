#!/bin/sh
# System packages the tests need that pip cannot install: Debian's chromium for the browser tests and
# a Java runtime (17 or later) for Apache Spark (`loopscope scan --engine spark`).
# Run by the README's test command (and so by CI); does nothing when they are already there.
set -eu
packages=""
if ! command -v chromium >/dev/null 2>&1; then
    packages="$packages chromium"
fi
java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
    packages="$packages openjdk-17-jre-headless"
fi
if [ -z "$packages" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $packages >/dev/null
command -v chromium
java -version
