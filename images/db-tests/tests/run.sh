#!/bin/sh
# Runs schema.sql, then every case-*.sql; prints one line per case and "N passed, N failed";
# exits 1 when a case failed, 2 when the database cannot be reached or the schema fails.
set -u
: "${DATABASE_URL:?set DATABASE_URL=postgres://user:password@host:5432/db}"
cd "$(dirname "$0")"
# The database may still be starting, and a new Service takes a moment to route: retry a while.
i=0
until psql "$DATABASE_URL" -qtAc 'select 1' >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge "${CONNECT_TRIES:-30}" ]; then
    echo "cannot connect to the database after $i tries: $(psql "$DATABASE_URL" -c 'select 1' 2>&1 | head -1)"
    exit 2
  fi
  sleep 1
done
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -f schema.sql || { echo "schema.sql failed"; exit 2; }
passed=0
failed=0
for f in case-*.sql; do
  name=${f#case-}
  name=${name%.sql}
  got=$(psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qtA -f "$f" 2>&1)
  if [ "$got" = t ]; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name: got $got"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
