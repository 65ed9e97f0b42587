#!/usr/bin/env bash
# Rebuilds the committed review-site assets in static/ from src/app.scss and
# the pinned govuk-frontend npm package. Run from anywhere:
#
#   bash pipeline/review/assets/build.sh
#
# Re-running it gives the same files. It deliberately copies no fonts and no
# crown or royal-arms images: GDS Transport and the crown are reserved for
# GOV.UK services, and this is a council's internal service (see assets.go).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# Exact versions come from package-lock.json. No install scripts are needed
# (sass is pure JavaScript here), so none are run.
npm ci --ignore-scripts --no-audit --no-fund

mkdir -p static

./node_modules/.bin/sass \
  --pkg-importer=node \
  --load-path=node_modules \
  --style=compressed \
  --no-source-map \
  --quiet-deps \
  src/app.scss static/app.css

gf=node_modules/govuk-frontend
cp "$gf/dist/govuk/govuk-frontend.min.js" static/govuk-frontend.min.js

# The npm tarball of govuk-frontend 5.x ships no LICENSE file (its README
# says MIT). Use the package's own file if a future version includes one,
# otherwise the upstream LICENSE.txt from github.com/alphagov/govuk-frontend
# kept in third_party/.
license=""
for f in "$gf/LICENSE" "$gf/LICENSE.txt" "$gf/LICENSE.md" "$gf/LICENCE" "$gf/LICENCE.txt"; do
  if [[ -f "$f" ]]; then
    license="$f"
    break
  fi
done
cp "${license:-third_party/LICENSE-govuk-frontend.txt}" static/LICENSE-govuk-frontend.txt

echo "built: $(wc -c <static/app.css) bytes static/app.css, govuk-frontend $(node -p 'require("./node_modules/govuk-frontend/package.json").version')"
