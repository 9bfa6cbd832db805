#!/bin/sh
# Back up the OMS database into DIR (default /var/backups/kasir-oms), keeping 14 days.
# PostgreSQL: pg_dump in custom format (restore with pg_restore). SQLite: the online backup
# API, which copies a consistent database while the OMS keeps running.
set -eu
dir=${1:-/var/backups/kasir-oms}
mkdir -p "$dir"
stamp=$(date +%Y%m%d-%H%M%S)
case "${DATABASE_URL:-}" in
  postgresql://*|postgres://*)
    pg_dump --format=custom --file="$dir/kasir-oms-$stamp.dump" "$DATABASE_URL"
    ;;
  sqlite:///*)
    db=${DATABASE_URL#sqlite:///}
    python3 - "$db" "$dir/kasir-oms-$stamp.sqlite3" <<'PY'
import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
target.close(); source.close()
PY
    ;;
  *)
    echo "backup.sh: DATABASE_URL is not a postgresql:// or sqlite:/// address" >&2
    exit 2
    ;;
esac
find "$dir" -name 'kasir-oms-*' -mtime +14 -delete
echo "backup written: $(ls -1t "$dir"/kasir-oms-"$stamp".* )"
