#!/usr/bin/env bash
# Fetches the Elasticsearch integ-test-zip (minimal modules, no bundled JDK; needs
# Java 21+ at run time) from Maven Central and unpacks it under <repo>/.cache/elasticsearch.
# Idempotent. Progress goes to stderr; the last stdout line is the ES home.
set -euo pipefail

ES_VERSION="9.2.0"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd)"
CACHE_DIR="${REPO_ROOT}/.cache/elasticsearch"
ES_HOME="${CACHE_DIR}/elasticsearch-${ES_VERSION}"
ZIP_DIR="${CACHE_DIR}/download"
ZIP_FILE="${ZIP_DIR}/elasticsearch-${ES_VERSION}.zip"

log() { echo "[provision/elasticsearch] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The marker is written only after a complete unpack, so an interrupted run is redone.
MARKER="${ES_HOME}/.provisioned"
if [[ -f "${MARKER}" && -x "${ES_HOME}/bin/elasticsearch" ]]; then
  log "already provisioned at ${ES_HOME}"
  echo "${ES_HOME}"
  exit 0
fi

mkdir -p "${ZIP_DIR}"

if [[ ! -s "${ZIP_FILE}" ]]; then
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; install Maven (apt-get install -y maven)"
  log "fetching ${ARTIFACT} from Maven Central"
  # The artifact has no usable POM; Maven warns about that but still copies the zip.
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="${ARTIFACT}" -DoutputDirectory="${ZIP_DIR}" -Dmdep.overWriteReleases=true >&2 \
    || die "mvn dependency:copy failed for ${ARTIFACT}"
  [[ -s "${ZIP_FILE}" ]] || die "expected ${ZIP_FILE} after mvn dependency:copy"
fi

log "unpacking ${ZIP_FILE}"
STAGING="$(mktemp -d "${CACHE_DIR}/unpack.XXXXXX")"
trap 'rm -rf "${STAGING}"' EXIT
# A truncated download would otherwise fail every later run.
bad_zip() { rm -f "${ZIP_FILE}"; die "could not unpack ${ZIP_FILE}; removed it, run again to re-download"; }
if command -v unzip >/dev/null 2>&1; then
  unzip -q "${ZIP_FILE}" -d "${STAGING}" || bad_zip
else
  # A machine with only Maven and JDKs still has the JDK's jar tool.
  JAR_TOOL="$(command -v jar || true)"
  if [[ -z "${JAR_TOOL}" ]]; then
    for jdk in /usr/lib/jvm/*; do
      if [[ -x "${jdk}/bin/jar" ]]; then JAR_TOOL="${jdk}/bin/jar"; break; fi
    done
  fi
  [[ -n "${JAR_TOOL}" ]] || die "neither unzip nor a JDK jar tool is available to unpack ${ZIP_FILE}"
  (cd "${STAGING}" && "${JAR_TOOL}" xf "${ZIP_FILE}") || bad_zip
  # jar does not keep file modes.
  chmod +x "${STAGING}/elasticsearch-${ES_VERSION}/bin/"*
fi

[[ -x "${STAGING}/elasticsearch-${ES_VERSION}/bin/elasticsearch" ]] \
  || die "unexpected zip layout: no elasticsearch-${ES_VERSION}/bin/elasticsearch"

rm -rf "${ES_HOME}"
mv "${STAGING}/elasticsearch-${ES_VERSION}" "${ES_HOME}"
touch "${MARKER}"
log "provisioned at ${ES_HOME}"
echo "${ES_HOME}"
