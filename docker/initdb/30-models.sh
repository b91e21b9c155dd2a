#!/bin/bash
# The AdventureWorks models and tests, a first run, an hourly schedule, and
# a read-only login for BI tools.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
     -f /usr/src/medallion/examples/adventureworks/models.sql
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
     -v bi_password="$BI_READER_PASSWORD" <<'SQL'
SELECT model, status, rows FROM medallion_run('gold');
SELECT medallion_schedule('hourly_gold', 'gold', '0 * * * *', retries => 2, retry_delay => '5 minutes');
CREATE ROLE bi_reader LOGIN PASSWORD :'bi_password' IN ROLE medallion_reader;
SQL
