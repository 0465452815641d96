#!/usr/bin/env bash
# Native AOT check: publishes samples/AotCheck (a ConsumerWorker on the in-memory transport with a source-generated JSON
# serializer) with PublishAot for linux-x64 and runs it. Warnings are errors, so any trim or AOT warning from the
# libraries fails the publish. Needs clang and zlib's headers for the native link (Debian: clang zlib1g-dev; installed
# here when missing and running as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v clang >/dev/null 2>&1 || [ ! -f /usr/include/zlib.h ]; then
    [ "$(id -u)" -eq 0 ] || { echo "aot-check: clang and zlib1g-dev are needed for the native link" >&2; exit 1; }
    echo "aot-check: installing clang and zlib1g-dev with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang zlib1g-dev >/dev/null
fi

out="$(mktemp -d "${TMPDIR:-/tmp}/messaging-aot-check.XXXXXX")"
trap 'rm -rf "$out"' EXIT
started=$(date +%s)
dotnet publish samples/AotCheck/AotCheck.csproj -c Release -r linux-x64 -o "$out" --nologo -v quiet
echo "aot-check: published in $(( $(date +%s) - started )) s, native executable $(du -h "$out/AotCheck" | cut -f1)"
"$out/AotCheck"
