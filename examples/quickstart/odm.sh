#!/usr/bin/env bash
# Offline data management on the quickstart, the whole cycle: serve and log
# -> flatten the logs -> check online/offline consistency -> a v3 of the
# training set that adds a feature and bootstraps the served ones from the
# logs -> labels from the returns table.
#
# Run from the repository root with `make odm` (after `make build`). It
# works in its own directory (ODM_DIR, default
# examples/quickstart/.chronon/odm), with the quickstart's definitions and
# data ending on END_DATE (default 2023-11-30), so it does not touch the
# quickstart's own warehouse and KV store.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
chronon="${CHRONON:-$root/bin/chronon}"
src="${CHRONON_SRC:-$root}"
qs="$root/examples/quickstart"
end="${END_DATE:-2023-11-30}"
work="${ODM_DIR:-$qs/.chronon/odm}"
# SERVED is how many of the day's checkouts go through the online fetcher
# (the rest are only backfilled).
served="${SERVED:-150}"

rm -rf "$work"
mkdir -p "$work"
cp -r "$qs/group_bys" "$qs/joins" "$qs/teams.json" "$work/"
cd "$work"

echo "== quickstart data ending $end, imported, definitions compiled"
(cd "$src" && go run ./examples/quickstart/generate --out "$work/data" --end-date "$end")
ids="user_id:string,product_id:string"
"$chronon" import --table data.purchases --file data/purchases.csv --ds-column ds --schema "purchase_id:string,$ids"
"$chronon" import --table data.returns --file data/returns.csv --ds-column ds --schema "return_id:string,$ids"
"$chronon" import --table data.users --file data/users.csv --ds-column ds --schema "user_id:string,account_created_ds:string,email_verified:string"
"$chronon" import --table data.checkouts --file data/checkouts.csv --ds-column ds --schema "return_id:string,$ids"
"$chronon" compile

# The model is served on $end: the batch values of the day before are
# uploaded (so every checkout of $end falls in their exact serving range).
before="$(date -u -d "$end - 1 day" +%F)"
echo "== serving: upload the batch values of $before and the definitions"
"$chronon" upload --conf quickstart.purchases.v1 --ds "$before"
"$chronon" upload --conf quickstart.returns.v1 --ds "$before"
"$chronon" metadata-upload

# returns.v1 is TEMPORAL: online, the returns of $end before a checkout
# reach the fetcher through the streaming job. Stream them, as they would
# have been streamed that day.
pubsub_port="${ODM_PUBSUB_PORT:-8086}"
echo "== streaming the returns of $end through a local Pub/Sub emulator and chronon stream"
"$chronon" dev pubsub --addr "127.0.0.1:$pubsub_port" >pubsub.out &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q PUBSUB_EMULATOR_HOST pubsub.out 2>/dev/null && break
  sleep 0.1
done
export PUBSUB_EMULATOR_HOST="127.0.0.1:$pubsub_port"
"$chronon" stream --conf quickstart.returns.v1 2>stream.log &
streamer=$!
trap 'kill "$streamer" "$emulator" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q 'msg=streaming' stream.log 2>/dev/null && break
  kill -0 "$streamer" 2>/dev/null || { cat stream.log >&2; exit 1; }
  sleep 0.1
done
# returns.csv: ds,ts,return_id,user_id,product_id,refund_amt; the topic's
# fields: ts,return_id,user_id,product_id,refund_amt.
awk -F, -v d="$end" '$1 == d { print $2 "," $3 "," $4 "," $5 "," $6 }' data/returns.csv > returns_today.csv
"$chronon" publish --topic 'events.returns/fields=ts,return_id,user_id,product_id,refund_amt' --file returns_today.csv
# Streamed means fetchable: wait until every user's 3-day return count at
# the end of $end equals the count in returns.csv.
t_end=$(( $(date -u -d "$end + 1 day" +%s) * 1000 - 1 ))
want=$(awk -F, -v t="$t_end" 'NR > 1 && $2 >= t - 3 * 86400000 && $2 < t { n++ } END { print n + 0 }' data/returns.csv)
awk -F, -v t="$t_end" 'NR > 1 && !seen[$4]++ { printf "{\"keys\": {\"user_id\": \"%s\"}, \"atMillis\": %s}\n", $4, t }' data/returns.csv > users.jsonl
got=-1
for _ in $(seq 300); do
  got=$("$chronon" fetch --type groupby --name quickstart/returns.v1 --requests users.jsonl 2>/dev/null |
    grep -o '"refund_amt_count_3d":[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }')
  [ "$got" = "$want" ] && break
  sleep 0.1
done
echo "-- $(wc -l < returns_today.csv) returns published; fetched 3-day return counts add up to $got of $want"
[ "$got" = "$want" ] || { cat stream.log >&2; exit 1; }

# Each served checkout is a request at the checkout's time with the user and
# the checkout's id (training_set.v2's contextual key: it is logged with the
# features, so the logs join back to the checkouts).
echo "== serving $served of the checkouts of $end, at their times; v2 logs every fetch (sample_percent: 100)"
awk -F, -v n="$served" 'NR > 1 && NR <= n + 1 {
  printf "{\"keys\": {\"user_id\": \"%s\", \"return_id\": \"%s\"}, \"atMillis\": %s}\n", $4, $3, $2
}' data/checkouts.csv > requests.jsonl
"$chronon" fetch --name quickstart/training_set.v2 --requests requests.jsonl --log > served.jsonl
echo "-- the first answer:"
head -c 400 served.jsonl
echo " ..."

kill "$streamer"
wait "$streamer" 2>/dev/null || true
kill "$emulator"
wait "$emulator" 2>/dev/null || true
trap - EXIT

echo "== chronon log-flatten: the raw log (chronon.chronon_log_table) into default.quickstart_training_set_v2_logged"
"$chronon" log-flatten --conf quickstart.training_set.v2 --end-ds "$end"
"$chronon" show --table default.quickstart_training_set_v2_logged --limit 3

echo "== chronon consistency: the logged values against the same requests recomputed offline"
"$chronon" consistency --conf quickstart.training_set.v2 --ds "$end"

echo "== chronon backfill of v3: users features added; v2's features of the served checkouts come from the logs"
"$chronon" backfill --conf quickstart.training_set.v3 --start-ds "$end" --end-ds "$end"
"$chronon" tables

echo "== chronon label-join: the users' refunds on the checkout's day, label_ds $end"
"$chronon" label-join --conf quickstart.training_set.v3 --start-ds "$end" --end-ds "$end"
"$chronon" show --table default.quickstart_training_set_v3_labeled_latest --limit 5

echo "== the training set with labels: served rows (bootstrapped from the logs) and backfilled ones"
"$chronon" sql "select g.return_id is not null as served, count(*) as checkouts,
  count(l.label_quickstart_returns_label_v1_refund_amt_sum_1d) as with_refunds_that_day
from \"default\".quickstart_training_set_v3_labeled_latest l
left join \"default\".quickstart_training_set_v2_logged g on g.return_id = l.return_id and g.ds = l.ds
group by 1 order by 1"
