// SPDX-License-Identifier: Apache-2.0

package api

import (
	"errors"
	"fmt"
	"strings"
)

// Template variables of a StagingQuery's query (Chronon's StagingQuery
// macros), written {{ start_date }}, {{ max_date(table=ns.t) }}, ...
const (
	// VarStartDate is the first partition a run of the query computes.
	VarStartDate = "start_date"
	// VarEndDate is the last partition a run of the query computes.
	VarEndDate = "end_date"
	// VarLatestDate is the end partition of the whole job (Chronon's
	// endPartition): the same in every step of a stepped backfill.
	VarLatestDate = "latest_date"
	// VarMaxDate is the latest committed partition of the table named by
	// its table argument.
	VarMaxDate = "max_date"
)

// supportedVars lists the template variables for error messages.
const supportedVars = VarStartDate + ", " + VarEndDate + ", " + VarLatestDate + ", " + VarMaxDate

// QueryVars are the values RenderQuery substitutes.
type QueryVars struct {
	// StartDate, EndDate and LatestDate are the values of start_date,
	// end_date and latest_date ("YYYY-MM-DD"). An empty value means unset:
	// a query using that variable is an error.
	StartDate, EndDate, LatestDate string
	// MaxDate returns the latest committed partition of table for
	// {{ max_date(table=...) }}, or an error naming the table when it has
	// none. Nil means max_date cannot be used.
	MaxDate func(table string) (string, error)
}

// TemplateRef is one {{ ... }} reference in a query.
type TemplateRef struct {
	// Start and End are the byte offsets of its "{{" and just after its "}}".
	Start, End int
	// Name is the variable, e.g. "max_date".
	Name string
	// Args are its arguments, e.g. {"table": "data.purchases"}; nil when it
	// has none.
	Args map[string]string
}

// ParseTemplate finds every {{ ... }} reference in query, in order, and
// checks it names a supported variable with the arguments that variable
// takes. Whitespace inside the braces is ignored. Arguments are written as
// in Chronon, {{ max_date(table=ns.t) }}, or in Chronon's older form
// {{ max_date:table=ns.t }}; in the first form a comma-separated piece
// without "=" continues the previous argument's value, as Chronon reads it.
// Every "{{" starts a reference, so a query cannot hold a literal "{{".
func ParseTemplate(query string) ([]TemplateRef, error) {
	var refs []TemplateRef
	for i := 0; ; {
		j := strings.Index(query[i:], "{{")
		if j < 0 {
			return refs, nil
		}
		start := i + j
		k := strings.Index(query[start+2:], "}}")
		if k < 0 {
			return nil, templateErr(query, start, query[start:], errors.New("unterminated: no closing }}"))
		}
		end := start + 2 + k + 2
		ref, err := parseRef(query[start+2 : end-2])
		if err != nil {
			return nil, templateErr(query, start, query[start:end], err)
		}
		ref.Start, ref.End = start, end
		refs = append(refs, ref)
		i = end
	}
}

// RenderQuery replaces every template reference in query (see
// ParseTemplate) with its value from vars. A malformed reference, an unknown
// variable, an unset value or a failing MaxDate is an error naming the
// reference and its line.
func RenderQuery(query string, vars QueryVars) (string, error) {
	refs, err := ParseTemplate(query)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	last := 0
	for _, r := range refs {
		v, err := vars.value(r)
		if err != nil {
			return "", templateErr(query, r.Start, query[r.Start:r.End], err)
		}
		b.WriteString(query[last:r.Start])
		b.WriteString(v)
		last = r.End
	}
	b.WriteString(query[last:])
	return b.String(), nil
}

// value returns the value of a parsed reference.
func (vars QueryVars) value(r TemplateRef) (string, error) {
	var v string
	switch r.Name {
	case VarStartDate:
		v = vars.StartDate
	case VarEndDate:
		v = vars.EndDate
	case VarLatestDate:
		v = vars.LatestDate
	case VarMaxDate:
		table := r.Args["table"]
		if vars.MaxDate == nil {
			return "", fmt.Errorf("max_date of %s is not available here", table)
		}
		d, err := vars.MaxDate(table)
		if err != nil {
			return "", err
		}
		return d, nil
	}
	if v == "" {
		return "", fmt.Errorf("%s has no value here", r.Name)
	}
	return v, nil
}

// parseRef parses the text between "{{" and "}}".
func parseRef(inner string) (TemplateRef, error) {
	s := strings.TrimSpace(inner)
	n := 0
	for n < len(s) && isIdentByte(s[n]) {
		n++
	}
	ref := TemplateRef{Name: s[:n]}
	if ref.Name == "" {
		return ref, fmt.Errorf("want a variable name (supported: %s)", supportedVars)
	}
	rest := strings.TrimSpace(s[n:])
	var err error
	switch {
	case rest == "":
	case rest[0] == '(':
		if rest[len(rest)-1] != ')' {
			return ref, fmt.Errorf("arguments of %s must end with ')'", ref.Name)
		}
		ref.Args, err = parseParenArgs(rest[1 : len(rest)-1])
	case rest[0] == ':':
		ref.Args, err = parseColonArgs(rest[1:])
	default:
		return ref, fmt.Errorf("unexpected %q after %s: arguments are written %s(name=value)", rest, ref.Name, ref.Name)
	}
	if err != nil {
		return ref, fmt.Errorf("%s: %w", ref.Name, err)
	}
	return ref, checkRef(ref)
}

// checkRef checks a reference names a supported variable with the
// arguments it takes.
func checkRef(r TemplateRef) error {
	switch r.Name {
	case VarStartDate, VarEndDate, VarLatestDate:
		if len(r.Args) > 0 {
			return fmt.Errorf("%s takes no arguments", r.Name)
		}
	case VarMaxDate:
		for k := range r.Args {
			if k != "table" {
				return fmt.Errorf("max_date: unknown argument %q (it takes table=namespace.table)", k)
			}
		}
		if r.Args["table"] == "" {
			return fmt.Errorf("max_date needs a table: {{ max_date(table=namespace.table) }}")
		}
	default:
		return fmt.Errorf("unknown template variable %q (supported: %s)", r.Name, supportedVars)
	}
	return nil
}

// parseParenArgs parses "k=v, k2=v2". A piece without "=" continues the
// previous value ("tables=a,b" is {"tables": "a,b"}), as in Chronon.
func parseParenArgs(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	args := map[string]string{}
	var prev string
	for _, tok := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			if prev == "" {
				return nil, fmt.Errorf("argument %q has no name: write name=value", strings.TrimSpace(tok))
			}
			args[prev] += "," + strings.TrimSpace(tok)
			continue
		}
		k, err := addArg(args, k, v)
		if err != nil {
			return nil, err
		}
		prev = k
	}
	return args, nil
}

// parseColonArgs parses Chronon's older form "k=v:k2=v2".
func parseColonArgs(s string) (map[string]string, error) {
	args := map[string]string{}
	for _, tok := range strings.Split(s, ":") {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, fmt.Errorf("argument %q: write name=value", strings.TrimSpace(tok))
		}
		if _, err := addArg(args, k, v); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// addArg adds argument k=v (both trimmed) to args and returns the key.
func addArg(args map[string]string, k, v string) (string, error) {
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	switch {
	case k == "" || strings.IndexFunc(k, func(r rune) bool { return r > 0x7f || !isIdentByte(byte(r)) }) >= 0:
		return "", fmt.Errorf("bad argument name %q", k)
	case strings.Contains(v, "="):
		return "", fmt.Errorf("argument %s: value %q holds a second '='", k, v)
	case v == "":
		return "", fmt.Errorf("argument %s has no value", k)
	}
	if _, dup := args[k]; dup {
		return "", fmt.Errorf("argument %s given twice", k)
	}
	args[k] = v
	return k, nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// templateErr names a reference and its line: `line 3: {{ foo }}: unknown
// template variable "foo" (...)`. Long references are cut.
func templateErr(query string, at int, ref string, err error) error {
	line := 1 + strings.Count(query[:at], "\n")
	if len(ref) > 60 {
		ref = ref[:57] + "..."
	}
	return fmt.Errorf("query line %d: %q: %w", line, ref, err)
}
