// SPDX-License-Identifier: Apache-2.0

package graph

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a definition's offlineSchedule: when its daily jobs run. Jobs
// compute daily partitions, so a schedule only decides on which days a job
// is due; the hour and minute of a cron expression say when on that day a
// scheduler starts it and are checked but otherwise ignored.
type Schedule struct {
	// Spec is the schedule as written ("@daily" when it was empty).
	Spec  string
	never bool
	// The allowed values of the day-level cron fields, and whether the
	// day-of-month and day-of-week fields were restricted (not "*"):
	// cron matches either of them when both are.
	dom, month, dow  uint64
	domStar, dowStar bool
}

// macros maps the @-schedules Airflow and cron know to cron expressions.
var macros = map[string]string{
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
	"@weekly":   "0 0 * * 0",
	"@monthly":  "0 0 1 * *",
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
}

// cronField describes one field of a 5-field cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names of min, min+1, ... (months, weekdays)
}

var cronFields = [5]cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	// 7 is Sunday too, as in Vixie cron.
	{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// ParseSchedule parses an offlineSchedule: "" or "@daily" (every day),
// "@never" (never scheduled: run by hand), another @-macro (@weekly,
// @monthly, @yearly, @annually, @hourly, @midnight) or a 5-field cron
// expression ("minute hour day-of-month month day-of-week", with *, ranges
// a-b, steps */n and a-b/n, lists a,b, and month and weekday names).
func ParseSchedule(spec string) (Schedule, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		s = "@daily"
	}
	sch := Schedule{Spec: s}
	if s == "@never" {
		sch.never = true
		return sch, nil
	}
	expr := s
	if strings.HasPrefix(s, "@") {
		m, ok := macros[strings.ToLower(s)]
		if !ok {
			return Schedule{}, fmt.Errorf("schedule %q: unknown macro (supported: @daily, @never, @weekly, @monthly, @yearly, @annually, @hourly, @midnight, or a 5-field cron expression)", spec)
		}
		expr = m
	}
	fields := strings.Fields(expr)
	if len(fields) != len(cronFields) {
		return Schedule{}, fmt.Errorf("schedule %q: a cron expression has 5 fields (minute hour day-of-month month day-of-week), not %d", spec, len(fields))
	}
	var sets [5]uint64
	for i, f := range fields {
		set, err := cronFields[i].parse(f)
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: %w", spec, err)
		}
		sets[i] = set
	}
	if sets[4]&(1<<7) != 0 {
		sets[4] |= 1 // 7 is Sunday
	}
	sch.dom, sch.month, sch.dow = sets[2], sets[3], sets[4]
	sch.domStar, sch.dowStar = strings.HasPrefix(fields[2], "*"), strings.HasPrefix(fields[4], "*")
	return sch, nil
}

// parse returns the set of values a field allows, as bits.
func (c cronField) parse(field string) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(field, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("%s field %q: bad step %q", c.name, field, stepStr)
			}
			step = n
		}
		lo, hi := c.min, c.max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = c.value(a); err != nil {
				return 0, fmt.Errorf("%s field %q: %w", c.name, field, err)
			}
			hi = lo
			if isRange {
				if hi, err = c.value(b); err != nil {
					return 0, fmt.Errorf("%s field %q: %w", c.name, field, err)
				}
			} else if hasStep {
				hi = c.max // "a/n" runs from a to the end
			}
			if lo > hi {
				return 0, fmt.Errorf("%s field %q: range %d-%d is backwards", c.name, field, lo, hi)
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// value parses a number or a name within the field's bounds.
func (c cronField) value(s string) (int, error) {
	for i, n := range c.names {
		if strings.EqualFold(s, n) {
			return c.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < c.min || v > c.max {
		return 0, fmt.Errorf("%d is outside %d-%d", v, c.min, c.max)
	}
	return v, nil
}

// Never reports whether the schedule is "@never".
func (s Schedule) Never() bool { return s.never }

// DueOn reports whether the schedule runs on the UTC day of t. As in cron,
// when both day of month and day of week are restricted, either matching
// is enough.
func (s Schedule) DueOn(t time.Time) bool {
	if s.never {
		return false
	}
	t = t.UTC()
	if s.month&(1<<int(t.Month())) == 0 {
		return false
	}
	domOK := s.dom&(1<<t.Day()) != 0
	dowOK := s.dow&(1<<int(t.Weekday())) != 0
	// Vixie cron's rule: a field starting with "*" (even "*/2") leaves the
	// other field alone to decide; two restricted fields match either way.
	if s.domStar || s.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// String returns the schedule as written.
func (s Schedule) String() string { return s.Spec }
