#!/usr/bin/env bash
# Checks the OpenAPI document Sety serves with the tools its users point at
# it: Spectral (spectral:oas) and Redocly (recommended) lint it with no
# error; oapi-codegen's Go client, with default options, compiles with
# goclient/usage.go; openapi-typescript's types, with openapi-fetch, check
# ts/usage.ts under strict. The document is testdata/openapi.json, which
# TestOpenAPIGolden keeps identical to the one the server serves (run here
# first). Needs Go, Node 20+ and npm; installs the pinned npm tools with
# npm ci. Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
doc=$root/testdata/openapi.json
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
start=$SECONDS

echo "--- the checked document is the served one"
(cd "$root" && go test . -run '^TestOpenAPIGolden$' -count=1)

echo "--- npm ci (tools/openapi)"
npm ci --no-audit --no-fund --loglevel=error

echo "--- Spectral, spectral:oas"
npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity error "$doc"

echo "--- Redocly, recommended"
npx --no-install redocly lint --extends recommended --format stylish "$doc"

echo "--- Go client: oapi-codegen v2.8.2, default options, go build and vet"
(cd goclient &&
  go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -generate types,client -package client "$doc" > client.gen.go &&
  go build ./... && go vet ./...)

echo "--- TypeScript: openapi-typescript, openapi-fetch, tsc --strict"
npx --no-install openapi-typescript "$doc" --output ts/schema.d.ts
npx --no-install tsc --project ts/tsconfig.json

echo "openapi check passed in $((SECONDS - start)) s"
