-- SPDX-License-Identifier: Apache-2.0
--
-- The baseline of backfillbench: the Join backfill bench.main as one DuckDB
-- query over the same Parquet files. For every left row, SUM, COUNT and
-- AVERAGE of the amounts of its user's events e with
-- l.ts - W <= e.ts < l.ts, for W = 3, 14 and 30 days (exact window tails).
-- As in Chronon, null amounts are skipped and an aggregation over no amounts
-- is NULL, COUNT included. {left} and {events} are replaced with the
-- tables' views; columns are named as the Join names them.
SELECT l.row_id, l.user_id, l.ts, l.ds,
    sum(e.amount) FILTER (WHERE e.ts >= l.ts - 259200000) AS bench_amounts_amount_sum_3d,
    sum(e.amount) FILTER (WHERE e.ts >= l.ts - 1209600000) AS bench_amounts_amount_sum_14d,
    sum(e.amount) AS bench_amounts_amount_sum_30d,
    nullif(count(e.amount) FILTER (WHERE e.ts >= l.ts - 259200000), 0) AS bench_amounts_amount_count_3d,
    nullif(count(e.amount) FILTER (WHERE e.ts >= l.ts - 1209600000), 0) AS bench_amounts_amount_count_14d,
    nullif(count(e.amount), 0) AS bench_amounts_amount_count_30d,
    avg(e.amount) FILTER (WHERE e.ts >= l.ts - 259200000) AS bench_amounts_amount_average_3d,
    avg(e.amount) FILTER (WHERE e.ts >= l.ts - 1209600000) AS bench_amounts_amount_average_14d,
    avg(e.amount) AS bench_amounts_amount_average_30d
FROM {left} AS l
LEFT JOIN {events} AS e
    ON e.key = l.user_id AND e.ts >= l.ts - 2592000000 AND e.ts < l.ts
GROUP BY l.row_id, l.user_id, l.ts, l.ds
