#!/usr/bin/env bash
# Regenerates testdata/golden-json/ with the Apache Thrift compiler (Debian package
# thrift-compiler, 0.17): the JSON model (`thrift --gen json`) of every corpus file under
# testdata/idl/ that its MANIFEST marks as accepted by 0.17, at the same relative path.
# core/tests/idl_golden.rs compares our resolved schema with these files; the compiler is
# only needed to regenerate them.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v thrift >/dev/null || { echo "needs 'thrift' (apt-get install thrift-compiler)" >&2; exit 1; }
thrift --version
corpus=testdata/idl
out=testdata/golden-json
rm -rf "$out"
# Column numbers by header name, so that reordered columns still work.
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            $col["apache_0.17_gen_json"] == "ok" { print $col["file"] }' "$corpus/MANIFEST.tsv" |
while read -r file; do
    dir="$out/$(dirname "$file")"
    mkdir -p "$dir"
    thrift -nowarn --gen json -out "$dir" "$corpus/$file"
done
echo "wrote $(find "$out" -name '*.json' | wc -l) JSON models under $out"
