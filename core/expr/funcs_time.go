// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

const defaultTSPattern = "yyyy-MM-dd HH:mm:ss"

func registerTime(m map[string]*builtin) {
	m["from_unixtime"] = &builtin{min: 1, max: 2, build: withPattern(tI64, defaultTSPattern, tStr, func(p *dtPattern, x any) any {
		s := x.(int64)
		if s > 1<<43 || s < -(1<<43) {
			return nil
		}
		return p.format(time.Unix(s, 0).UTC())
	})}
	unixSeconds := func(a []any) any { return floorDiv(a[0].(time.Time).UnixMicro(), 1000000) }
	parseUnix := withPattern(tStr, defaultTSPattern, tI64, parsed(func(us int64) any { return floorDiv(us, 1000000) }))
	unixTS := func(c *compiler, n *Call, args []cnode) (cnode, error) {
		x := args[0]
		switch x.dtype().ID() {
		case arrow.TIMESTAMP:
			return strictFn(c, tI64, []cnode{x}, unixSeconds), nil
		case arrow.DATE32:
			return strictFn(c, tI64, []cnode{x}, func(a []any) any { return int64(a[0].(Date)) * 86400 }), nil
		}
		return parseUnix(c, n, args)
	}
	m["unix_timestamp"] = &builtin{min: 1, max: 2, build: unixTS}
	m["to_unix_timestamp"] = m["unix_timestamp"]
	toDate := withPattern(tStr, "", tDate, parsed(func(us int64) any { return dateOfMicros(us) }))
	m["to_date"] = &builtin{min: 1, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if len(args) == 1 {
			return c.coerceArg(n, args, 0, tDate)
		}
		return toDate(c, n, args)
	}}
	toTS := withPattern(tStr, "", tTS, parsed(func(us int64) any { return tsOfMicros(us) }))
	m["to_timestamp"] = &builtin{min: 1, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if len(args) == 1 {
			if isNumeric(args[0].dtype()) {
				return c.castTo(args[0], tTS), nil
			}
			return c.coerceArg(n, args, 0, tTS)
		}
		return toTS(c, n, args)
	}}
	m["timestamp_seconds"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		x, err := c.coerceArg(n, args, 0, tF64)
		if err != nil {
			return nil, err
		}
		return c.castTo(x, tTS), nil
	}}
	m["timestamp_millis"] = &builtin{min: 1, max: 1, build: sig(tTS, []arrow.DataType{tI64}, func(a []any) any {
		return tsOfMicros(a[0].(int64) * 1000)
	})}
	m["timestamp_micros"] = &builtin{min: 1, max: 1, build: sig(tTS, []arrow.DataType{tI64}, func(a []any) any {
		return tsOfMicros(a[0].(int64))
	})}
	m["unix_seconds"] = &builtin{min: 1, max: 1, build: sig(tI64, []arrow.DataType{tTS}, unixSeconds)}
	m["unix_millis"] = &builtin{min: 1, max: 1, build: sig(tI64, []arrow.DataType{tTS}, func(a []any) any {
		return floorDiv(a[0].(time.Time).UnixMicro(), 1000)
	})}
	m["unix_micros"] = &builtin{min: 1, max: 1, build: sig(tI64, []arrow.DataType{tTS}, func(a []any) any {
		return a[0].(time.Time).UnixMicro()
	})}
	m["unix_date"] = &builtin{min: 1, max: 1, build: sig(tI32, []arrow.DataType{tDate}, func(a []any) any { return int32(a[0].(Date)) })}
	m["date_from_unix_date"] = &builtin{min: 1, max: 1, build: sig(tDate, []arrow.DataType{tI32}, func(a []any) any { return Date(a[0].(int32)) })}
	m["date_format"] = &builtin{min: 2, max: 2, build: withPattern(tTS, "", tStr, func(p *dtPattern, x any) any {
		return p.format(x.(time.Time))
	})}
	dateAdd := func(sign int32) *builtin {
		return &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			if t := args[1].dtype(); !isIntegral(t) && !isNull(t) {
				return nil, c.errf(argPos(n, 1), "argument 2 of %s must be an integer, not %s", n.Name, typeName(t))
			}
			return sig(tDate, []arrow.DataType{tDate, tI32}, func(a []any) any {
				return Date(int32(a[0].(Date)) + sign*a[1].(int32))
			})(c, n, args)
		}}
	}
	m["date_add"], m["date_sub"] = dateAdd(1), dateAdd(-1)
	m["dateadd"] = m["date_add"]
	m["datediff"] = &builtin{min: 2, max: 2, build: sig(tI32, []arrow.DataType{tDate}, func(a []any) any {
		return int32(a[0].(Date)) - int32(a[1].(Date))
	})}
	m["add_months"] = &builtin{min: 2, max: 2, build: sig(tDate, []arrow.DataType{tDate, tI32}, func(a []any) any {
		t := a[0].(Date).Time()
		y, mo, d := t.Date()
		total := int(mo) - 1 + int(a[1].(int32))
		ny, nm := y+floorDivInt(total, 12), total-12*floorDivInt(total, 12)+1
		if last := daysIn(ny, nm); d > last {
			d = last
		}
		return Date(daysFromCivil(ny, nm, d))
	})}
	m["last_day"] = &builtin{min: 1, max: 1, build: sig(tDate, []arrow.DataType{tDate}, func(a []any) any {
		y, mo, _ := a[0].(Date).Time().Date()
		return Date(daysFromCivil(y, int(mo), daysIn(y, int(mo))))
	})}
	dateField := func(f func(t time.Time) int) *builtin {
		return &builtin{min: 1, max: 1, build: sig(tI32, []arrow.DataType{tDate}, func(a []any) any { return int32(f(a[0].(Date).Time())) })}
	}
	m["year"] = dateField(func(t time.Time) int { return t.Year() })
	m["month"] = dateField(func(t time.Time) int { return int(t.Month()) })
	m["quarter"] = dateField(func(t time.Time) int { return (int(t.Month())-1)/3 + 1 })
	m["dayofmonth"] = dateField(func(t time.Time) int { return t.Day() })
	m["day"] = m["dayofmonth"]
	m["dayofyear"] = dateField(func(t time.Time) int { return t.YearDay() })
	m["dayofweek"] = dateField(func(t time.Time) int { return int(t.Weekday()) + 1 })
	m["weekday"] = dateField(func(t time.Time) int { return (int(t.Weekday()) + 6) % 7 })
	m["weekofyear"] = dateField(func(t time.Time) int { _, w := t.ISOWeek(); return w })
	tsField := func(f func(t time.Time) int) *builtin {
		return &builtin{min: 1, max: 1, build: sig(tI32, []arrow.DataType{tTS}, func(a []any) any { return int32(f(a[0].(time.Time))) })}
	}
	m["hour"] = tsField(func(t time.Time) int { return t.Hour() })
	m["minute"] = tsField(func(t time.Time) int { return t.Minute() })
	m["second"] = tsField(func(t time.Time) int { return t.Second() })
	m["trunc"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return sig(tDate, []arrow.DataType{tDate, tStr}, func(a []any) any {
			t := a[0].(Date).Time()
			y, mo, _ := t.Date()
			switch lowerASCII(a[1].(string)) {
			case "year", "yyyy", "yy":
				return Date(daysFromCivil(y, 1, 1))
			case "quarter":
				return Date(daysFromCivil(y, (int(mo)-1)/3*3+1, 1))
			case "month", "mon", "mm":
				return Date(daysFromCivil(y, int(mo), 1))
			case "week":
				return a[0].(Date) - Date((int(t.Weekday())+6)%7)
			}
			return nil
		})(c, n, args)
	}}
	m["date_trunc"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return sig(tTS, []arrow.DataType{tStr, tTS}, func(a []any) any {
			t := a[1].(time.Time)
			y, mo, d := t.Date()
			switch lowerASCII(a[0].(string)) {
			case "year", "yyyy", "yy":
				return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
			case "quarter":
				return time.Date(y, time.Month((int(mo)-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
			case "month", "mon", "mm":
				return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
			case "week":
				return time.Date(y, mo, d-(int(t.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
			case "day", "dd":
				return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
			case "hour":
				return t.Truncate(time.Hour)
			case "minute":
				return t.Truncate(time.Minute)
			case "second":
				return t.Truncate(time.Second)
			}
			return nil
		})(c, n, args)
	}}
}

func floorDivInt(a, b int) int { return int(floorDiv(int64(a), int64(b))) }

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// patArg is a datetime pattern argument: compiled once when constant,
// otherwise compiled per row (an invalid pattern then gives null).
type patArg struct {
	fixed *dtPattern
	args  []cnode // the pattern argument when not constant
}

func (p patArg) get(a []any) *dtPattern {
	if p.fixed != nil || len(p.args) == 0 {
		return p.fixed
	}
	s, _ := a[len(a)-1].(string)
	dp, err := compilePattern(s)
	if err != nil {
		return nil
	}
	return dp
}

// withPattern builds a strict function of a value (argument 1, cast to in)
// and a datetime pattern (argument 2, defaulting to def as patternArg
// reads it) that gives out: f of the compiled pattern and the value, or
// null when the pattern is invalid.
func withPattern(in arrow.DataType, def string, out arrow.DataType, f func(p *dtPattern, x any) any) func(*compiler, *Call, []cnode) (cnode, error) {
	return func(c *compiler, n *Call, args []cnode) (cnode, error) {
		x, err := c.coerceArg(n, args, 0, in)
		if err != nil {
			return nil, err
		}
		pat, err := c.patternArg(n, args, 1, def)
		if err != nil {
			return nil, err
		}
		return strictFn(c, out, append([]cnode{x}, pat.args...), func(a []any) any {
			p := pat.get(a)
			if p == nil {
				return nil
			}
			return f(p, a[0])
		}), nil
	}
}

// parsed is a withPattern function that parses a string with the pattern
// and converts the epoch microseconds with conv; null when it does not
// parse.
func parsed(conv func(us int64) any) func(p *dtPattern, x any) any {
	return func(p *dtPattern, x any) any {
		us, ok := p.parse(x.(string))
		if !ok {
			return nil
		}
		return conv(us)
	}
}

// patternArg reads optional argument i as a datetime pattern, defaulting to
// def (def "" means the argument is required).
func (c *compiler) patternArg(n *Call, args []cnode, i int, def string) (patArg, error) {
	if i >= len(args) {
		p, err := compilePattern(def)
		if err != nil {
			return patArg{}, c.errf(n.P, "%v", err)
		}
		return patArg{fixed: p}, nil
	}
	a, err := c.coerceArg(n, args, i, tStr)
	if err != nil {
		return patArg{}, err
	}
	if v, ok := litValue(a); ok {
		if v == nil {
			return patArg{args: []cnode{a}}, nil // null pattern: strict null
		}
		p, err := compilePattern(v.(string))
		if err != nil {
			return patArg{}, c.errf(argPos(n, i), "%v", err)
		}
		return patArg{fixed: p}, nil
	}
	return patArg{args: []cnode{a}}, nil
}
