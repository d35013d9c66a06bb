#!/usr/bin/env bash
# Checks that a change leaves Platen's PDFs byte-identical: renders one corpus with this checkout's
# build (run `npm run build` first) and with the build of an earlier commit, blanks what differs by
# design (dates, document ids, XMP ids), and compares every file byte for byte.
#
#   scripts/pdf-identity.sh <git ref>          e.g. scripts/pdf-identity.sh 93dcd98
#
# The corpus: every sample of every bundled template (alone, all in one file, imposed), and 250-row
# batches of the brochure, the postcard and the benchmark mailer (PLATEN_BENCH_DIR, by default
# shared/bench-mailer beside the repository; skipped when absent) as merged print files, with marks,
# as ZIPs of one PDF per row, and imposed. The letter has no batch: its date field has no column.
# Exit 0: every file is identical.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${1:?usage: scripts/pdf-identity.sh <git ref>}
bench=${PLATEN_BENCH_DIR:-$root/../shared/bench-mailer}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/base" "$work/inputs"
git -C "$root" archive "$ref" | tar -x -C "$work/base"
ln -s "$root/node_modules" "$work/base/node_modules"
(cd "$work/base" && node node_modules/typescript/bin/tsc -p tsconfig.build.json)

# Each bundled template's list: its samples' prospects, cycled, with new ids and some longer names.
node --input-type=module - "$root" "$work/inputs" "$bench" <<'EOF'
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
const [root, out, bench] = process.argv.slice(2);
const csvCell = (v) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
for (const t of ['insurance-brochure', 'postcard-6x4']) {
  const manifest = JSON.parse(readFileSync(`${root}/templates/${t}/template.json`, 'utf8'));
  const records = manifest.samples.map((s) => s.record);
  const columns = Object.keys(manifest.prospect);
  const lines = [columns.join(',')];
  for (let i = 0; i < 250; i++) {
    const prospect = records[i % records.length].prospect;
    lines.push(
      columns
        .map((c) => {
          let v = String(prospect[c] ?? '');
          if (c === 'id') v = `${v}-${i}`;
          if (c === 'imbSerial') v = String(100000000 + i);
          if (['firstName', 'lastName', 'address1'].includes(c) && i % 5 === 1) v += ` ${'Wolfeschlegel'.slice(0, i % 13)}`;
          return csvCell(v);
        })
        .join(','),
    );
  }
  writeFileSync(`${out}/${t}.csv`, `${lines.join('\r\n')}\r\n`);
  const rep = { ...records[0].rep };
  if (rep.photo) {
    copyFileSync(`${root}/templates/${t}/${rep.photo}`, `${out}/${t}-photo.jpg`);
    rep.photo = `${t}-photo.jpg`;
  }
  writeFileSync(`${out}/${t}-rep.json`, JSON.stringify(rep));
}
if (existsSync(`${bench}/prospects.csv`)) {
  const rows = readFileSync(`${bench}/prospects.csv`, 'utf8').split(/\r?\n/).slice(0, 251);
  writeFileSync(`${out}/mailer.csv`, `${rows.join('\r\n')}\r\n`);
  const rep = { name: 'Alex Morgan', title: 'Senior Account Executive', phone: '(415) 555-0141', email: 'a.morgan@brightlane.example' };
  writeFileSync(`${out}/mailer-rep.json`, JSON.stringify(rep));
}
EOF

# corpus <checkout> <output folder>
corpus() {
  local out=$2
  mkdir -p "$out"
  cd "$1"
  local cli=(node dist/cli.js)
  for t in insurance-brochure letter-window postcard-6x4; do
    for n in 0 1 2; do "${cli[@]}" render "templates/$t" --sample $n --out "$out/$t-s$n.pdf" >/dev/null; done
    "${cli[@]}" render "templates/$t" --sample all --out "$out/$t-all.pdf" >/dev/null
    "${cli[@]}" render "templates/$t" --sample all --impose 12x18in --out "$out/$t-imposed.pdf" >/dev/null
  done
  for t in insurance-brochure postcard-6x4 mailer; do
    [ -f "$work/inputs/$t.csv" ] || continue
    local dir=templates/$t
    [ $t = mailer ] && dir=bench/mailer
    local batch=("${cli[@]}" batch "$dir" --csv "$work/inputs/$t.csv" --rep "$work/inputs/$t-rep.json" --concurrency 2)
    # Exit 3: some rows rejected, the rest written (their report is part of the corpus).
    "${batch[@]}" --out "$out/$t-drop.pdf" --errors "$out/$t-drop-errors.csv" >/dev/null 2>&1 || [ $? -eq 3 ]
    "${batch[@]}" --marks --out "$out/$t-marks.pdf" --errors "$out/$t-marks-errors.csv" >/dev/null 2>&1 || [ $? -eq 3 ]
    "${batch[@]}" --out "$out/$t.zip" --errors "$out/$t-zip-errors.csv" >/dev/null 2>&1 || [ $? -eq 3 ]
    mkdir "$out/$t-zip" && (cd "$out/$t-zip" && unzip -q "../$t.zip") && rm "$out/$t.zip"
  done
  "${cli[@]}" batch templates/postcard-6x4 --csv "$work/inputs/postcard-6x4.csv" --rep "$work/inputs/postcard-6x4-rep.json" \
    --impose 12x18in --out "$out/postcard-imposed-drop.pdf" --errors "$out/postcard-imposed-errors.csv" >/dev/null 2>&1 || [ $? -eq 3 ]
  # Dates, /ID and the XMP packet's ids differ on every run by design.
  find "$out" -name '*.pdf' -print0 | xargs -0 perl -0pi -e '
    s{\(D:\d{14}[^)]*\)}{(D:0)}g;
    s{/ID \[<[0-9a-fA-F]+> ?<[0-9a-fA-F]+>\]}{/ID [<0><0>]}g;
    s{<(xmp:(?:CreateDate|ModifyDate|MetadataDate))>[^<]*<}{<$1>0<}g;
    s{<(xmpMM:(?:DocumentID|InstanceID))>[^<]*<}{<$1>0<}g;'
}

(corpus "$work/base" "$work/before")
(corpus "$root" "$work/after")
total=$(cd "$work/before" && find . -type f | wc -l)
differ=0
while IFS= read -r f; do
  if ! cmp -s "$work/before/$f" "$work/after/$f"; then
    differ=$((differ + 1))
    echo "differs: $f"
  fi
done < <(cd "$work/before" && find . -type f | sort)
after=$(cd "$work/after" && find . -type f | wc -l)
echo "$total files rendered by $ref, $after by this checkout; $differ differ"
[ "$differ" -eq 0 ] && [ "$total" -eq "$after" ]
