// SPDX-License-Identifier: Apache-2.0

// Package airflow renders the dependency graph of runners/orchestrate/graph
// as Airflow DAG files, one per team, so that a production scheduler
// (Airflow, Cloud Composer) runs the same steps as `chronon run`.
//
// Each DAG is scheduled @daily. A step is a BashOperator running
// `chronon run --ds {{ ds }} --step ID`, the same code path as a local run
// (schedules, idempotence, retention); a step that is not due that day
// ends at once. Each table a team's steps wait for that no step of the
// team writes gets a BashSensor running
// `chronon partition-exists --table T --ds D` (exit 0 once the partition
// exists) in reschedule mode. Edges are `>>`: upstream steps of the same
// team and sensors before their readers. The package performs no I/O.
package airflow
