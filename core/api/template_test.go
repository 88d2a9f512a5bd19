// SPDX-License-Identifier: Apache-2.0

package api

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// testVars knows the max_date of data.purchases and data.a_b only.
var testVars = QueryVars{
	StartDate:  "2023-11-01",
	EndDate:    "2023-11-03",
	LatestDate: "2023-11-30",
	MaxDate: func(table string) (string, error) {
		switch table {
		case "data.purchases":
			return "2023-11-29", nil
		case "data.a_b":
			return "2023-10-01", nil
		}
		return "", fmt.Errorf("table %s has no partitions", table)
	},
}

func TestRenderQuery(t *testing.T) {
	for _, tc := range []struct {
		query, want string
	}{
		{"SELECT 1", "SELECT 1"},
		{"", ""},
		{"ds BETWEEN '{{ start_date }}' AND '{{ end_date }}'", "ds BETWEEN '2023-11-01' AND '2023-11-03'"},
		{"{{start_date}}{{end_date}}", "2023-11-012023-11-03"},
		{"{{   latest_date\t}}", "2023-11-30"},
		{"{{\n  latest_date\n}}", "2023-11-30"},
		{"ds = '{{ max_date(table=data.purchases) }}'", "ds = '2023-11-29'"},
		{"{{max_date(table=data.purchases)}}", "2023-11-29"},
		{"{{ max_date ( table = data.purchases ) }}", "2023-11-29"},
		{"{{ max_date:table=data.a_b }}", "2023-10-01"}, // Chronon's older form
		{"a }} b { c", "a }} b { c"},
		{"{{ start_date }}}", "2023-11-01}"},
		{"x\n{{ end_date }}\ny {{ start_date }}", "x\n2023-11-03\ny 2023-11-01"},
	} {
		got, err := RenderQuery(tc.query, testVars)
		if err != nil || got != tc.want {
			t.Errorf("RenderQuery(%q) = %q, %v; want %q", tc.query, got, err, tc.want)
		}
	}
}

func TestRenderQueryErrors(t *testing.T) {
	for _, tc := range []struct {
		query string
		vars  QueryVars
		want  string
	}{
		{"{{ ds }}", testVars, `query line 1: "{{ ds }}": unknown template variable "ds" (supported: start_date, end_date, latest_date, max_date)`},
		{"a\nb {{ startdate }}", testVars, `query line 2: "{{ startdate }}": unknown template variable "startdate"`},
		{"{{ start_date", testVars, `query line 1: "{{ start_date": unterminated: no closing }}`},
		{"{{ }}", testVars, "want a variable name"},
		{"{{ start_date(x=1) }}", testVars, "start_date takes no arguments"},
		{"{{ start_date + 1 }}", testVars, `unexpected "+ 1" after start_date`},
		{"{{ max_date }}", testVars, "max_date needs a table"},
		{"{{ max_date() }}", testVars, "max_date needs a table"},
		{"{{ max_date(table=) }}", testVars, "argument table has no value"},
		{"{{ max_date(data.purchases) }}", testVars, `argument "data.purchases" has no name`},
		{"{{ max_date(tbl=data.purchases) }}", testVars, `max_date: unknown argument "tbl"`},
		{"{{ max_date(table=a, table=b) }}", testVars, "argument table given twice"},
		{"{{ max_date(table=a=b) }}", testVars, "holds a second '='"},
		{"{{ max_date(table=a }}", testVars, "must end with ')'"},
		{"{{ max_date:table }}", testVars, "write name=value"},
		{"{{ max_date(table=data.missing) }}", testVars, `"{{ max_date(table=data.missing) }}": table data.missing has no partitions`},
		{"{{ max_date(table=data.purchases) }}", QueryVars{}, "max_date of data.purchases is not available"},
		{"{{ start_date }}", QueryVars{EndDate: "2023-11-01"}, `"{{ start_date }}": start_date has no value`},
		{"{{ latest_date }}", QueryVars{}, "latest_date has no value"},
		{"{{ start_date " + strings.Repeat("x", 100), testVars, `"{{ start_date xxx`},
	} {
		got, err := RenderQuery(tc.query, tc.vars)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RenderQuery(%q) = %q, %v; want an error containing %q", tc.query, got, err, tc.want)
		}
	}
}

func TestRenderQueryMaxDateError(t *testing.T) {
	sentinel := errors.New("boom")
	_, err := RenderQuery("{{ max_date(table=a.b) }}", QueryVars{MaxDate: func(string) (string, error) { return "", sentinel }})
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v does not wrap MaxDate's error", err)
	}
}

func TestParseTemplate(t *testing.T) {
	q := "SELECT '{{ start_date }}', '{{ max_date( table = ns.t ) }}'"
	refs, err := ParseTemplate(q)
	if err != nil {
		t.Fatal(err)
	}
	want := []TemplateRef{
		{Start: 8, End: 24, Name: "start_date"},
		{Start: 28, End: 58, Name: "max_date", Args: map[string]string{"table": "ns.t"}},
	}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("ParseTemplate = %+v, want %+v", refs, want)
	}
	for _, r := range refs {
		if s := q[r.Start:r.End]; !strings.HasPrefix(s, "{{") || !strings.HasSuffix(s, "}}") {
			t.Errorf("ref %+v spans %q", r, s)
		}
	}
}

func TestParseParenArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{"", nil},
		{"  ", nil},
		{"table=a.b", map[string]string{"table": "a.b"}},
		{" a = 1 , b=2", map[string]string{"a": "1", "b": "2"}},
		{"tables=a,b, c ,d=1", map[string]string{"tables": "a,b,c", "d": "1"}}, // Chronon joins pieces without '='
	} {
		got, err := parseParenArgs(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseParenArgs(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzRenderQuery checks the parser never panics, that a rendered query
// holds no template left, that text without "{{" is kept as is, and that
// ParseTemplate's spans are the references.
func FuzzRenderQuery(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE ds BETWEEN '{{ start_date }}' AND '{{end_date}}'",
		"{{ max_date(table=data.purchases) }}", "{{ max_date:table=data.a_b }}", "{{ latest_date }}",
		"{{", "}}", "{{}}", "{{ max_date(table=a,b, c=d) }}", "{{ max_date(=) }}", "{{{{ start_date }}}}",
		"é{{ start_date }}\n{{ x }}",
	} {
		f.Add(s)
	}
	vars := testVars
	vars.MaxDate = func(string) (string, error) { return "2023-01-01", nil }
	f.Fuzz(func(t *testing.T, q string) {
		refs, perr := ParseTemplate(q)
		got, err := RenderQuery(q, vars)
		if (perr == nil) != (err == nil) {
			t.Fatalf("ParseTemplate error %v but RenderQuery error %v", perr, err)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "query line ") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		if strings.Contains(got, "{{") {
			t.Fatalf("RenderQuery(%q) = %q still holds {{", q, got)
		}
		if !strings.Contains(q, "{{") && got != q {
			t.Fatalf("RenderQuery(%q) = %q, want it unchanged", q, got)
		}
		last := 0
		for _, r := range refs {
			if r.Start < last || r.End <= r.Start || q[r.Start:r.Start+2] != "{{" || q[r.End-2:r.End] != "}}" {
				t.Fatalf("bad span %+v in %q", r, q)
			}
			if strings.Contains(q[last:r.Start], "{{") {
				t.Fatalf("ParseTemplate skipped a {{ in %q", q)
			}
			last = r.End
		}
	})
}
