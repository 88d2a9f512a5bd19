// SPDX-License-Identifier: Apache-2.0

// Package beamrun runs a Beam pipeline on the runner chronon.yaml or the
// command line names: direct (in process, the local default), prism (the
// portable runner in process, as Dataflow and Flink execute the graph),
// dataflow (with a dry run that prints the job), or flink and any other
// portable job server (universal runner at an endpoint).
//
// Beam's Go SDK takes its options from standard-library flags; this package
// sets them from Options, so the CLI's own flags never clash with Beam's.
package beamrun
