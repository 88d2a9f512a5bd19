#!/usr/bin/env bash
# The quickstart: generate Chronon's quickstart data, import it into the local
# Parquet warehouse, compile the definitions, backfill the training set and
# show what is there.
# Run from the repository root with `make quickstart`; it works in
# examples/quickstart, which is the definitions repository (group_bys/,
# joins/, teams.json) and holds the embedded setup in .chronon/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# CHRONON and CHRONON_SRC let tests run a copy of this script with a given
# binary and source tree.
chronon="${CHRONON:-$root/bin/chronon}"
src="${CHRONON_SRC:-$root}"
cd "$root/examples/quickstart"

# END_DATE=YYYY-MM-DD fixes the data's last day (default: yesterday, so
# online fetches "now" see live windows).
gen_flags=(--out "$PWD/data")
[ -n "${END_DATE:-}" ] && gen_flags+=(--end-date "$END_DATE")

echo "== generating quickstart data"
(cd "$src" && go run ./examples/quickstart/generate "${gen_flags[@]}")

echo "== importing into the warehouse (.chronon/warehouse)"
# Chronon's quickstart types: ts and *_price / *_amt are longs, ids strings.
ids="user_id:string,product_id:string"
"$chronon" import --table data.purchases --file data/purchases.csv --ds-column ds --schema "purchase_id:string,$ids"
"$chronon" import --table data.returns --file data/returns.csv --ds-column ds --schema "return_id:string,$ids"
"$chronon" import --table data.users --file data/users.csv --ds-column ds --schema "user_id:string,account_created_ds:string,email_verified:string"
"$chronon" import --table data.checkouts --file data/checkouts.csv --ds-column ds --schema "return_id:string,$ids"

echo "== compiling definitions"
"$chronon" compile

echo "== what a backfill of the training set would compute and read"
"$chronon" analyze --conf quickstart.training_set.v1

echo "== backfilling the training set (a Beam pipeline on the direct runner)"
"$chronon" backfill --conf quickstart.training_set.v1

echo "== tables"
"$chronon" tables

echo "== a few training rows: each checkout with the user's features as of its time"
"$chronon" show --table default.quickstart_training_set_v1 --limit 5

echo "== a few purchases"
"$chronon" show --table data.purchases --limit 5

echo "== SQL over the warehouse"
"$chronon" sql "select user_id, count(*) as purchases, sum(purchase_price) as spent from data.purchases group by user_id order by spent desc limit 5"

# The last day of data: END_DATE, else yesterday (the generator's default).
last_day="${END_DATE:-$(date -u -d yesterday +%F)}"
echo "== uploading the event group-bys' batch values of $last_day to the KV store (.chronon/kv.db)"
"$chronon" upload --conf quickstart.purchases.v1 --ds "$last_day"
"$chronon" upload --conf quickstart.returns.v1 --ds "$last_day"

echo "== uploading the definitions for the fetcher"
"$chronon" metadata-upload

echo "== one user's features from the KV store, as the fetcher computes them"
"$chronon" fetch --type join --name quickstart/training_set.v2 -k '{"user_id": "48"}'

port="${QUICKSTART_PORT:-9000}"
echo "== serving features over HTTP on 127.0.0.1:$port (Chronon's routes)"
"$chronon" serve --addr "127.0.0.1:$port" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
echo "\$ curl -X POST 'http://127.0.0.1:$port/v1/features/join/quickstart%2Ftraining_set.v2' -d '[{\"user_id\": \"48\"}]'"
curl -sf -X POST "http://127.0.0.1:$port/v1/features/join/quickstart%2Ftraining_set.v2" \
  -H 'Content-Type: application/json' -d '[{"user_id": "48"}]'
echo
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT

pubsub_port="${QUICKSTART_PUBSUB_PORT:-8085}"
echo "== streaming: a local Pub/Sub emulator, the returns group-by's streaming job, one new return"
"$chronon" dev pubsub --addr "127.0.0.1:$pubsub_port" >.chronon/pubsub.out &
emulator=$!
# It prints the export line once it listens.
for _ in $(seq 100); do
  grep -q PUBSUB_EMULATOR_HOST .chronon/pubsub.out 2>/dev/null && break
  sleep 0.1
done
export PUBSUB_EMULATOR_HOST="127.0.0.1:$pubsub_port"
"$chronon" stream --conf quickstart.returns.v1 2>.chronon/stream.log &
streamer=$!
trap 'kill "$streamer" "$emulator" 2>/dev/null || true' EXIT
# Messages published before the job's subscription exists are not delivered
# to it: wait for the job to say it is streaming.
for _ in $(seq 100); do
  grep -q 'msg=streaming' .chronon/stream.log 2>/dev/null && break
  if ! kill -0 "$streamer" 2>/dev/null; then
    cat .chronon/stream.log >&2
    exit 1
  fi
  sleep 0.1
done
fetch_returns() {
  "$chronon" fetch --type groupby --name quickstart/returns.v1 -k '{"user_id": "48"}' 2>/dev/null | grep -E 'refund_amt_(count|sum)_3d'
}
echo "-- user 48's 3-day returns before:"
before="$(fetch_returns)"
echo "$before"
# Chronon's quickstart topic format: ts,return_id,user_id,product_id,refund_amt
now_ms=$(( $(date +%s) * 1000 - 1000 ))
echo "$now_ms,R-demo,48,P-demo,500" > data/new_return.csv
"$chronon" publish --topic 'events.returns/fields=ts,return_id,user_id,product_id,refund_amt' --file data/new_return.csv
for _ in $(seq 50); do
  [ "$(fetch_returns)" != "$before" ] && break
  sleep 0.1
done
echo "-- and after the new return streamed in:"
fetch_returns
# The job first (it hands unsettled messages back), then the emulator.
kill "$streamer"
wait "$streamer" 2>/dev/null || true
kill "$emulator"
wait "$emulator" 2>/dev/null || true
trap - EXIT

# Day 2: the next day's data lands and one command brings everything up to
# date, as a daily cron job (or the Airflow DAGs of `chronon dags`) would.
day2="$(date -u -d "$last_day + 1 day" +%F)"
echo "== day 2 ($day2): new purchases, returns, checkouts and users snapshots"
day2_dir="$PWD/data/day2"
(cd "$src" && go run ./examples/quickstart/generate --out "$day2_dir" --end-date "$day2" --days 1 \
  --snapshots 2 --purchases 20 --returns 20 --checkouts 10)
"$chronon" import --table data.purchases --file data/day2/purchases.csv --ds-column ds --schema "purchase_id:string,$ids"
"$chronon" import --table data.returns --file data/day2/returns.csv --ds-column ds --schema "return_id:string,$ids"
"$chronon" import --table data.users --file data/day2/users.csv --ds-column ds --schema "user_id:string,account_created_ds:string,email_verified:string"
"$chronon" import --table data.checkouts --file data/day2/checkouts.csv --ds-column ds --schema "return_id:string,$ids"

echo "== chronon run --ds $day2: front-fills the new partitions and uploads"
"$chronon" run --ds "$day2"

echo "== chronon run again: everything is up to date"
"$chronon" run --ds "$day2"

echo "== the Airflow DAGs of the same graph (.chronon/dags)"
"$chronon" dags --out .chronon/dags
