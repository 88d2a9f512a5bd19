// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/chronon-go/chronon/core/api"
)

// maxRuns bounds the partition ranges printed per line.
const maxRuns = 8

// String renders the plan for `chronon analyze`: the range, each output
// table with the partitions to compute, the main output schema (columns and
// types), every input with the partitions read, then warnings and missing
// inputs.
func (p *Plan) String() string {
	var b strings.Builder
	kind := "join"
	if p.Kind == api.KindGroupBy {
		kind = "group_by"
	}
	fmt.Fprintf(&b, "%s %s\n", kind, p.Name)
	if p.Start == "" {
		b.WriteString("range: empty\n")
	} else {
		fmt.Fprintf(&b, "range: %s..%s\n", p.Start, p.End)
	}

	for i, o := range p.Outputs {
		if i == 0 {
			fmt.Fprintf(&b, "\noutput %s\n", o.Table)
		} else {
			if i == 1 {
				b.WriteString("\njoin part tables:\n")
			}
			fmt.Fprintf(&b, "  %s (%s)\n", o.Table, o.Part)
		}
		indent := "  "
		if i > 0 {
			indent = "    "
		}
		writeOutputState(&b, indent, o)
		if i == 0 && p.Schema != nil {
			fmt.Fprintf(&b, "%sschema:\n", indent)
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			for _, f := range p.Schema.Fields() {
				fmt.Fprintf(tw, "%s  %s\t%s\n", indent, f.Name, TypeString(f.Type))
			}
			tw.Flush()
		}
	}

	b.WriteString("\ninputs:")
	if len(p.Inputs) == 0 {
		b.WriteString(" none\n")
	} else {
		b.WriteString("\n")
		for _, in := range p.Inputs {
			fmt.Fprintf(&b, "  %s (%s", in.Table, in.Role)
			if in.Role != RoleLeft {
				fmt.Fprintf(&b, ", read by %s", strings.Join(in.ReadBy, ", "))
			}
			if in.Note != "" {
				fmt.Fprintf(&b, "; %s", in.Note)
			}
			fmt.Fprintf(&b, "): %s: %s\n", countPartitions(len(in.Partitions)), FormatPartitions(in.Partitions, maxRuns))
			if len(in.Absent) > 0 {
				fmt.Fprintf(&b, "    absent: %s: %s\n", countPartitions(len(in.Absent)), FormatPartitions(in.Absent, maxRuns))
			}
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\nwarnings:\n")
		for _, w := range p.Warnings {
			fmt.Fprintf(&b, "  - %s\n", w)
		}
	}
	if len(p.Missing) > 0 {
		b.WriteString("\nerrors:\n")
		for _, e := range p.Missing {
			fmt.Fprintf(&b, "  - %v\n", e)
		}
	}
	return b.String()
}

func writeOutputState(b *strings.Builder, indent string, o *Output) {
	switch {
	case o.Stale:
		what := "semantic hash changed"
		if len(o.Changed) > 0 {
			what += " (" + strings.Join(o.Changed, ", ") + ")"
		}
		fmt.Fprintf(b, "%s%s: the table is dropped and recomputed\n", indent, what)
	case !o.Exists:
		fmt.Fprintf(b, "%snew table\n", indent)
	}
	if len(o.Compute) == 0 {
		fmt.Fprintf(b, "%sup to date: nothing to compute\n", indent)
		return
	}
	fmt.Fprintf(b, "%scompute %s: %s\n", indent, countPartitions(len(o.Compute)), FormatPartitions(o.Compute, maxRuns))
}

func countPartitions(n int) string {
	if n == 1 {
		return "1 partition"
	}
	return fmt.Sprintf("%d partitions", n)
}
