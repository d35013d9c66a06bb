#!/usr/bin/env bash
# Packs what `npm run bench:batch` needs on a lent machine without Node (the 16-core figures) into
# .bundle/, small enough to travel with the checkout: such a machine takes 64 MiB with each command,
# the checkout's tracked files and the carried bundle together (docs/perf.md, "Taking the 16-core
# figures"). ../shared/bundle/bundle.sh packs a second copy of the tracked files, the node binary as
# it is and every production dependency, 78 MB on 2026-12-07. This packs only what the checkout lacks:
# node stripped of its symbols, dist/, the benchmark bundled, and production dependencies less what a
# batch never loads (pdfjs-dist and the canvas behind it, which only previews use; SQLite's sources and
# its addon for other platforms; pdfkit's browser builds; source maps and type declarations), with the
# shared mailer workload and the DejaVu font.
#
#   npm run build && scripts/device-bundle.sh
#   then on the machine, in the checkout, with .bundle carried:
#   bash .bundle/run.sh 'BENCH_ROWS=100000 BENCH_WORKERS=1,2,4,8,16 node bench/batch.mjs'
#   bash .bundle/run.sh 'BENCH_CASES=renders node bench/api.mjs'   (previews need pdfjs, left out)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
shared=$(cd "$root/../shared" && pwd)
[ -f dist/cli.js ] || { echo "build first: npm run build" >&2; exit 2; }
gd=$(git rev-parse --git-dir)
grep -qx '/.bundle/' "$gd/info/exclude" 2>/dev/null || echo '/.bundle/' >>"$gd/info/exclude"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/fonts" "$work/shared" "$work/platen/bench"
cp "$(node -p process.execPath)" "$work/bin/node"
strip "$work/bin/node"
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$work/fonts/"
cp -r "$shared/bench-mailer" "$work/shared/"
cp -r dist package.json package-lock.json "$work/platen/"
node_modules/.bin/esbuild bench/batch.ts --bundle --platform=node --format=esm --packages=external \
  --log-level=warning --outfile="$work/platen/bench/batch.mjs"
# autocannon, a development dependency, goes inside the API benchmark.
node_modules/.bin/esbuild bench/api.ts --bundle --platform=node --format=esm --log-level=warning \
  --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
  --outfile="$work/platen/bench/api.mjs"
cp -r node_modules "$work/platen/"
(
  cd "$work/platen"
  npm prune --omit=dev --no-audit --no-fund >/dev/null 2>&1
  rm -rf node_modules/.vitest-cache node_modules/pdfjs-dist node_modules/@napi-rs \
    node_modules/better-sqlite3/deps node_modules/better-sqlite3/src
  # The machine is x86-64 Linux: SQLite's addon built for it, and pdfkit's Node builds, are enough.
  find node_modules/better-sqlite3/prebuilds -type f ! -name linux-x64.node -delete
  rm -f node_modules/pdfkit/js/pdfkit.browser.* node_modules/pdfkit/js/*.old.* \
    node_modules/pdfkit/js/pdfkit.standalone.js
  find node_modules \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
)
mkdir -p .bundle
tar -C "$work" -cf - bin fonts shared platen | xz -T0 -9 >.bundle/bundle.tar.xz
cat >.bundle/run.sh <<'RUN'
#!/usr/bin/env bash
# On the lent machine, from the checkout's root: unpacks the bundle beside the checkout's own files
# and runs the given command there.
set -u
D=/tmp/dev
rm -rf "$D" && mkdir -p "$D" && tar -xJf "$(dirname "$0")/bundle.tar.xz" -C "$D" || exit 1
mkdir -p /usr/share/fonts/truetype/dejavu && cp "$D"/fonts/*.ttf /usr/share/fonts/truetype/dejavu/
rm -rf dist node_modules bench/batch.mjs bench/api.mjs
# dist/ is copied, not linked: the service finds its pages beside it, in the checkout.
cp -r "$D/platen/dist" dist && ln -s "$D/platen/node_modules" node_modules
cp "$D/platen/bench/batch.mjs" "$D/platen/bench/api.mjs" bench/
export PATH="$D/bin:$PATH" PLATEN_BENCH_DIR="$D/shared/bench-mailer"
echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), node $(node --version)"
bash -c "$1"
RUN
chmod +x .bundle/run.sh
bundle=$(stat -c %s .bundle/bundle.tar.xz)
tree=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
echo "bundle $((bundle / 1048576)) MiB + tracked files $((tree / 1048576)) MiB, of the 64 MiB a command takes"
