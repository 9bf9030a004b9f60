#!/usr/bin/env bash
# Install the pinned npm dependencies (oidc-provider) of conformance/oidc into
# conformance/oidc/node_modules. Idempotent: skipped when node_modules was
# installed from the current package-lock.json. Works from any cwd.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$here/node_modules/.lakegate-lock-sha256"

for tool in node npm sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install.sh: $tool not found (need Node.js >= 20 with npm)" >&2
    exit 1
  fi
done

want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$here/node_modules/oidc-provider/package.json" ]]; then
  exit 0
fi

npm ci --prefix "$here" --no-audit --no-fund >&2
echo "$want" > "$stamp"
