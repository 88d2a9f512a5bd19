// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/runners/orchestrate/graph"
)

func newGraphCmd(a *app) *cobra.Command {
	var repo, format, ds string
	var noCheck bool
	cmd := &cobra.Command{
		Use:   "graph [--format dot|json] [--repo DIR] [--ds D]",
		Short: "Print the dependency graph chronon run and chronon dags use",
		Long: `Graph prints the steps of the compiled definitions (backfills, uploads,
staging queries, label joins, log flattening, consistency, retention), the
tables each reads (with the partitions for --ds, default today) and writes,
and the edges between them, as Graphviz dot or JSON. Tables read are checked
against the warehouse unless --no-check-tables.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := a.graphForPrinting(cmd, repo, noCheck)
			if err != nil {
				return err
			}
			switch format {
			case "dot":
				return writeDot(cmd.OutOrStdout(), g)
			case "json":
				return writeGraphJSON(cmd.OutOrStdout(), g, ds)
			}
			return fmt.Errorf("--format %q is not supported (supported: dot, json)", format)
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "definitions repository (default: chronon.yaml's repo, else the working directory)")
	cmd.Flags().StringVar(&format, "format", "dot", "dot or json")
	cmd.Flags().StringVar(&ds, "ds", "", "day whose partitions the JSON lists (default: yesterday, UTC)")
	cmd.Flags().BoolVar(&noCheck, "no-check-tables", false, "do not check the tables read against the warehouse")
	return cmd
}

// graphForPrinting builds the graph, checking tables in the warehouse
// unless noCheck.
func (a *app) graphForPrinting(cmd *cobra.Command, repo string, noCheck bool) (*graph.Graph, error) {
	if noCheck {
		return a.buildGraph(cmd.Context(), repo, nil)
	}
	wh, err := a.openWarehouse()
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	return a.buildGraph(cmd.Context(), repo, wh)
}

// writeDot renders the graph for Graphviz: steps as boxes, tables no step
// writes as ellipses.
func writeDot(w io.Writer, g *graph.Graph) error {
	var b strings.Builder
	b.WriteString("digraph chronon {\n  rankdir=LR;\n  node [shape=box];\n")
	external := map[string]bool{}
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "  %s [label=%s];\n", strconv.Quote(n.ID), strconv.Quote(n.ID+"\n"+n.Schedule.String()))
		for _, r := range n.Reads {
			if r.Producer != "" {
				continue
			}
			if !external[r.Table] {
				external[r.Table] = true
				fmt.Fprintf(&b, "  %s [shape=ellipse];\n", strconv.Quote(r.Table))
			}
			fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", strconv.Quote(r.Table), strconv.Quote(n.ID), strconv.Quote(r.Role))
		}
		for _, d := range n.Deps {
			fmt.Fprintf(&b, "  %s -> %s;\n", strconv.Quote(d), strconv.Quote(n.ID))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// graphJSON is the JSON form of a step: the node plus its schedule and
// what it reads on the day.
type graphJSON struct {
	*graph.Node
	Schedule string   `json:"schedule"`
	Due      bool     `json:"due"`
	Waits    []string `json:"waits"`
}

func writeGraphJSON(w io.Writer, g *graph.Graph, ds string) error {
	if ds == "" {
		ds = yesterday()
	}
	out := struct {
		DS    string      `json:"ds"`
		Steps []graphJSON `json:"steps"`
	}{DS: ds}
	for _, n := range g.Nodes {
		s := graphJSON{Node: n, Schedule: n.Schedule.String(), Due: n.Due(ds), Waits: []string{}}
		for _, r := range n.Reads {
			if r.Producer == "" {
				for _, p := range r.Waits(ds) {
					s.Waits = append(s.Waits, r.Table+"/ds="+p)
				}
			}
		}
		out.Steps = append(out.Steps, s)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
