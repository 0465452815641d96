#!/usr/bin/env bash
# Package smoke test: packs every library into a folder feed, builds samples/PackageSmoke from PackageReferences to
# those packages only (its own Directory.Build.props/Directory.Packages.props stop the repository's), with a package
# cache of its own so that nothing cached from an earlier build can hide a missing dependency or asset, and runs it:
# one traced publish → RabbitMQ → ConsumerWorker round trip. Needs RABBITMQ_URI (e.g. run under .ci/with-rabbitmq-node).
# Exit status: non-zero if packing, restoring, building or the round trip fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${RABBITMQ_URI:?set RABBITMQ_URI, e.g. run: .ci/with-rabbitmq-node bash build/package-smoke.sh}"
work="$(mktemp -d "${TMPDIR:-/tmp}/messaging-package-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
version="$(dotnet msbuild src/Core/Messaging.Core.csproj -getProperty:Version)"

echo "package-smoke: packing version ${version} into ${work}/feed"
dotnet pack Messaging.sln -c Release -o "$work/feed" -p:ContinuousIntegrationBuild=true --nologo -v quiet
libraries=(src/Core src/Testing src/Transports/InMemory src/Transports/RabbitMq src/Transports/ServiceBus)
for dir in "${libraries[@]}"; do
    id="$(dotnet msbuild "$(ls "$dir"/*.csproj)" -getProperty:PackageId)"
    for ext in nupkg snupkg; do
        [ -f "$work/feed/${id}.${version}.${ext}" ] || { echo "package-smoke: missing ${id}.${version}.${ext}" >&2; exit 1; }
    done
    unzip -Z1 "$work/feed/${id}.${version}.nupkg" README.md >/dev/null 2>&1 || { echo "package-smoke: ${id} has no README.md" >&2; exit 1; }
    nuspec="$(unzip -p "$work/feed/${id}.${version}.nupkg" "${id}.nuspec")"
    grep -Eq '<repository type="git" url="[^"]+" ([^>]* )?commit="[0-9a-f]{40}"' <<<"$nuspec" \
        || { echo "package-smoke: ${id}'s nuspec names no repository and commit" >&2; exit 1; }
done

cp -r samples/PackageSmoke "$work/app"
rm -rf "$work/app/bin" "$work/app/obj"
cat >"$work/app/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="${work}/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="Messaging.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
export NUGET_PACKAGES="$work/packages"
echo "package-smoke: restoring and building the app from the feed (package cache ${NUGET_PACKAGES})"
dotnet build "$work/app/PackageSmoke.csproj" -c Release -p:MessagingPackageVersion="$version" --nologo -v quiet
echo "package-smoke: running against ${RABBITMQ_URI%%@*}@…"
dotnet "$work/app/bin/Release/net10.0/PackageSmoke.dll"
