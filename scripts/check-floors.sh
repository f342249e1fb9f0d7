#!/usr/bin/env bash
# Builds and runs a small leak-checked suite against the lowest version of every dependency
# that leakcheck and leakcheck-macros declare, in both tiers, so the declared floors stay true.
#
# The floors are read from the manifests: each version requirement is taken as the exact
# version to pin with `cargo update --precise`. Usage: scripts/check-floors.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cp -r "$root/scripts/floors/tests" "$scratch/"
sed "s|@LEAKCHECK@|$root|" "$root/scripts/floors/Cargo.toml.in" >"$scratch/Cargo.toml"
export CARGO_TARGET_DIR="$root/target/floors"
cd "$scratch"
cargo generate-lockfile --quiet

# name, then floor, one pair a line: every registry dependency of the two library crates.
floors=$(python3 - "$root/Cargo.toml" "$root/macros/Cargo.toml" <<'PY'
import sys, tomllib
seen = {}
for manifest in sys.argv[1:]:
    with open(manifest, "rb") as file:
        data = tomllib.load(file)
    tables = [data.get("dependencies", {})]
    tables += [target.get("dependencies", {}) for target in data.get("target", {}).values()]
    for table in tables:
        for name, spec in table.items():
            if isinstance(spec, dict):
                if "path" in spec:
                    continue
                spec = spec["version"]
            if spec.count(".") != 2 or not spec[0].isdigit():
                sys.exit(f"{manifest}: {name} = {spec!r}: declare the floor as a full version, like 1.2.3")
            seen[name] = spec
for name, floor in sorted(seen.items()):
    print(name, floor)
PY
)

# One pin can need another first (a crate's floor may require a newer version of a crate
# pinned later), so pin in passes until every floor holds or a pass makes no progress.
pending=$floors
for _pass in 1 2 3; do
  left=""
  while read -r name floor; do
    [[ -n $name ]] || continue
    major=${floor%%.*}
    # A 0.x release line is named by its minor version too.
    [[ $major == 0 ]] && major=$(cut -d. -f1-2 <<<"$floor")
    # Offline first: generate-lockfile has just fetched the index entries of every crate in
    # the graph, and asking the registry again took a second and a half a pin. Online where
    # an old version needs a crate the graph has not had.
    if cargo update --quiet --offline -p "$name@$major" --precise "$floor" 2>/dev/null \
      || cargo update --quiet -p "$name@$major" --precise "$floor" 2>"$scratch/pin.err"; then
      printf 'floor: %s %s\n' "$name" "$floor"
    else
      left+="$name $floor"$'\n'
    fi
  done <<<"$pending"
  [[ -z $left || $left == "$pending" ]] && break
  pending=$left
done
if [[ -n $left ]]; then
  echo "these floors cannot be pinned together:" >&2
  printf '%s' "$left" >&2
  cat "$scratch/pin.err" >&2
  exit 1
fi

echo "--- default build"
cargo test --quiet
echo "--- --cfg tokio_unstable, features taskdump and console"
RUSTFLAGS="--cfg tokio_unstable" CARGO_TARGET_DIR="$CARGO_TARGET_DIR/unstable" \
  cargo test --quiet --features unstable-tier
