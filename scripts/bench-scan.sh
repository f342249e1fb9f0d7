#!/usr/bin/env bash
# How long `cargo leakcheck scan` takes on one huge generated file: 240,000 lines holding
# 40,000 detached spawns (a generated client of that size took minutes), as text and as JSON,
# release build. Goal: within 5 s on the 2-core machine.
#
#   scripts/bench-scan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p cargo-leakcheck
directory=$(mktemp -d)
trap 'rm -rf "$directory"' EXIT
file=$directory/generated.rs
awk 'BEGIN {
  for (i = 0; i < 40000; i++) {
    printf "/// Generated handler %d.\npub fn handler_%d() {\n    tokio::spawn(async {});\n}\n\n", i, i
  }
  for (i = 0; i < 40000; i++) { printf "// padding %d\n", i }
}' > "$file"
echo "$(wc -l < "$file") lines"
for format in text json; do
  started=$(date +%s%N)
  target/release/cargo-leakcheck leakcheck scan --format "$format" "$file" > "$directory/out" || true
  ended=$(date +%s%N)
  awk -v f="$format" -v ns=$((ended - started)) -v n="$(grep -c 'detached' "$directory/out" || true)" \
    'BEGIN { printf "scan --format %s: %.2f s (%d lines of output name the rule)\n", f, ns / 1e9, n }'
done
