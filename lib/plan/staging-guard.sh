# shellcheck shell=bash
# Run only from a root-owned 0700 directory under a root-owned 0700 staging root: nobody else
# can have written or swapped what this script runs or reads.
staged_dir=$(cd "$(dirname "$0")" && pwd -P)
for d in "$staged_dir" "$(dirname "$staged_dir")"; do
  if [ "$(stat -c '%u %a' "$d")" != '0 700' ]; then
    echo "refusing to run: $d must be owned by root with mode 0700, got $(stat -c '%U %a' "$d")" >&2
    exit 1
  fi
done
