#!/bin/sh
# Runs schema.sql, then every case-*.sql; prints one line per case and "N passed, N failed";
# exits 1 when a case failed, 2 when the database cannot be reached or the schema fails. With
# ARTIFACTS set (kubestep run --artifacts), also writes $ARTIFACTS/junit.xml, a case per file
# (its `file` attribute: JUNIT_FILE_PREFIX, by default where the file is in kubestep's repository).
set -u
# Text for an XML attribute: & < > " escaped, line breaks as spaces.
xml() { printf '%s' "$1" | tr '\n' ' ' | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
cases=
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
  started=$(date +%s%N)
  got=$(psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qtA -f "$f" 2>&1)
  ms=$((($(date +%s%N) - started) / 1000000))
  took=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  if [ "$got" = t ]; then
    echo "ok   $name"
    passed=$((passed + 1))
    cases="$cases<testcase classname=\"db-tests\" name=\"$name\" file=\"${JUNIT_FILE_PREFIX-images/db-tests/tests/}$f\" time=\"$took\"/>
"
  else
    echo "FAIL $name: got $got"
    failed=$((failed + 1))
    cases="$cases<testcase classname=\"db-tests\" name=\"$name\" file=\"${JUNIT_FILE_PREFIX-images/db-tests/tests/}$f\" time=\"$took\"><failure message=\"$(xml "got $got")\"/></testcase>
"
  fi
done
echo "$passed passed, $failed failed"
if [ -n "${ARTIFACTS:-}" ]; then
  printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="db-tests" tests="%s" failures="%s">\n%s</testsuite></testsuites>\n' \
    "$((passed + failed))" "$failed" "$cases" >"$ARTIFACTS/junit.xml"
fi
[ "$failed" -eq 0 ]
