// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dates and timestamps are UTC throughout (the session time zone is UTC).

func isBlank(c byte) bool { return c <= ' ' }

func trimBlanks(s string) string {
	i, j := 0, len(s)
	for i < j && isBlank(s[i]) {
		i++
	}
	for j > i && isBlank(s[j-1]) {
		j--
	}
	return s[i:j]
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if (year%4 == 0 && year%100 != 0) || year%400 == 0 {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date.
func daysFromCivil(y, m, d int) int64 {
	return int64(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// digitsAt reads up to max ASCII digits at s[i:] and returns the value and
// the count read.
func digitsAt(s string, i, max int) (int, int) {
	v, n := 0, 0
	for i+n < len(s) && n < max && isDigit(s[i+n]) {
		v = v*10 + int(s[i+n]-'0')
		n++
	}
	return v, n
}

// digitsAfter reads the one or two digits after the separator at s[i] and
// returns their value and the index after them; ok is false when there are
// none.
func digitsAfter(s string, i int) (v, next int, ok bool) {
	v, k := digitsAt(s, i+1, 2)
	return v, i + 1 + k, k > 0
}

// parseDateParts reads the date prefix of a date or timestamp string:
// [+-]yyyy[-[m]m[-[d]d]]. It returns the parts and the bytes consumed.
func parseDateParts(s string) (y, m, d, n int, ok bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	y, k := digitsAt(s, i, 7)
	if k < 4 {
		return 0, 0, 0, 0, false
	}
	i += k
	if neg {
		y = -y
	}
	m, d = 1, 1
	if i < len(s) && s[i] == '-' {
		if m, i, ok = digitsAfter(s, i); !ok {
			return 0, 0, 0, 0, false
		}
		if i < len(s) && s[i] == '-' {
			if d, i, ok = digitsAfter(s, i); !ok {
				return 0, 0, 0, 0, false
			}
		}
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, 0, false
	}
	return y, m, d, i, true
}

// parseDate implements Spark's CAST(string AS DATE): yyyy, yyyy-[m]m,
// yyyy-[m]m-[d]d, optionally followed by a blank or 'T' and anything.
func parseDate(s string) (Date, bool) {
	s = trimBlanks(s)
	y, m, d, n, ok := parseDateParts(s)
	if !ok {
		return 0, false
	}
	if n < len(s) && s[n] != ' ' && s[n] != 'T' {
		return 0, false
	}
	return Date(daysFromCivil(y, m, d)), true
}

// parseTimestamp implements Spark's CAST(string AS TIMESTAMP) in UTC:
// yyyy[-[m]m[-[d]d]][( |T)[h]h[:[m]m[:[s]s[.ffffff]]]][zone], where zone is
// Z, UTC, GMT or an offset ±hh[:mm]. It returns epoch microseconds.
func parseTimestamp(s string) (int64, bool) {
	s = trimBlanks(s)
	y, mo, d, i, ok := parseDateParts(s)
	if !ok {
		return 0, false
	}
	var h, mi, sec, frac int
	if i < len(s) && (s[i] == ' ' || s[i] == 'T') {
		i++
		v, k := digitsAt(s, i, 2)
		if k == 0 {
			if i != len(s) {
				return 0, false
			}
		} else {
			h = v
			i += k
			if i < len(s) && s[i] == ':' {
				if mi, i, ok = digitsAfter(s, i); !ok {
					return 0, false
				}
				if i < len(s) && s[i] == ':' {
					if sec, i, ok = digitsAfter(s, i); !ok {
						return 0, false
					}
					if i < len(s) && s[i] == '.' {
						j := i + 1
						digits := 0
						for j < len(s) && isDigit(s[j]) {
							if digits < 6 {
								frac = frac*10 + int(s[j]-'0')
							}
							digits++
							j++
						}
						if digits > 9 {
							return 0, false
						}
						for d := min(digits, 6); d < 6; d++ {
							frac *= 10
						}
						i = j
					}
				}
			}
		}
	}
	if h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	offset := 0
	rest := strings.TrimSpace(s[i:])
	if rest != "" {
		o, ok := parseZone(rest)
		if !ok {
			return 0, false
		}
		offset = o
	}
	days := daysFromCivil(y, mo, d)
	secs := days*86400 + int64(h*3600+mi*60+sec) - int64(offset)
	return secs*1000000 + int64(frac), true
}

// parseZone parses Z, UTC, GMT, UTC±hh[:mm] or ±hh[[:]mm] and returns the
// offset in seconds east of UTC.
func parseZone(z string) (int, bool) {
	u := strings.ToUpper(z)
	switch u {
	case "Z", "UTC", "GMT", "UT":
		return 0, true
	}
	for _, p := range []string{"UTC", "GMT", "UT"} {
		if strings.HasPrefix(u, p) {
			u = u[len(p):]
			break
		}
	}
	if u == "" || (u[0] != '+' && u[0] != '-') {
		return 0, false
	}
	sign := 1
	if u[0] == '-' {
		sign = -1
	}
	hh, k := digitsAt(u, 1, 2)
	if k == 0 {
		return 0, false
	}
	i := 1 + k
	mm := 0
	if i < len(u) && u[i] == ':' {
		i++
	}
	if i < len(u) {
		v, k := digitsAt(u, i, 2)
		if k != 2 || i+k != len(u) {
			return 0, false
		}
		mm = v
	}
	if hh > 18 || mm > 59 {
		return 0, false
	}
	return sign * (hh*3600 + mm*60), true
}

// formatTimestamp renders epoch micros as Spark casts a timestamp to string:
// yyyy-MM-dd HH:mm:ss with the fraction only when not zero, trailing zeros
// dropped.
func formatTimestamp(t time.Time) string {
	s := t.Format("2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		f := strings.TrimRight(fmt.Sprintf("%06d", us), "0")
		s += "." + f
	}
	return s
}

// ---- Java DateTimeFormatter patterns ----

type patTok struct {
	letter byte // 0 for literal text
	count  int
	lit    string
}

// dtPattern is a compiled Java-style date-time pattern.
type dtPattern struct {
	toks []patTok
}

const patLetters = "GyYuMLdDHhkKmsSaEZXxzVe"

// compilePattern compiles a Java DateTimeFormatter pattern: letters G y M L
// d D H h k K m s S a E Z X x z V (runs of one letter form a field), text in
// single quotes (two single quotes stand for one) and any other non-letter as literal text.
func compilePattern(p string) (*dtPattern, error) {
	var toks []patTok
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			lit, j, ok := readQuoted(p, i, '\'')
			if !ok {
				return nil, fmt.Errorf("unterminated quote in datetime pattern %q", p)
			}
			if j == i+2 {
				lit = "'" // '' outside text is a quote
			}
			toks = append(toks, patTok{lit: lit})
			i = j
		case isLetter(c):
			if strings.IndexByte(patLetters, c) < 0 {
				return nil, fmt.Errorf("unsupported letter %q in datetime pattern %q", c, p)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			toks = append(toks, patTok{letter: c, count: j - i})
			i = j
		default:
			j := i
			for j < len(p) && p[j] != '\'' && !isLetter(p[j]) {
				j++
			}
			toks = append(toks, patTok{lit: p[i:j]})
			i = j
		}
	}
	return &dtPattern{toks: toks}, nil
}

func pad(v, width int) string {
	s := strconv.Itoa(v)
	if v < 0 {
		return s
	}
	for len(s) < width {
		s = "0" + s
	}
	return s
}

var monthShort = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
var monthLong = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var dayShort = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// dayNames is each weekday's full name and then its short name, Sunday
// first: the order parse tries them in.
var dayNames = func() []string {
	var out []string
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		out = append(out, wd.String(), dayShort[wd])
	}
	return out
}()

// hasPrefixFold reports whether s begins with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// nameAt returns the index of the first of names that s[i:] begins with,
// ignoring case, or -1.
func nameAt(s string, i int, names []string) int {
	for k, name := range names {
		if hasPrefixFold(s[i:], name) {
			return k
		}
	}
	return -1
}

// format renders t (UTC) with the pattern.
func (p *dtPattern) format(t time.Time) string {
	var b strings.Builder
	for _, tk := range p.toks {
		if tk.letter == 0 {
			b.WriteString(tk.lit)
			continue
		}
		n := tk.count
		switch tk.letter {
		case 'G':
			if t.Year() <= 0 {
				b.WriteString("BC")
			} else {
				b.WriteString("AD")
			}
		case 'y', 'Y', 'u':
			y := t.Year()
			if n == 2 {
				b.WriteString(pad(((y%100)+100)%100, 2))
			} else {
				b.WriteString(pad(y, n))
			}
		case 'M', 'L':
			switch {
			case n >= 5:
				b.WriteString(t.Month().String()[:1])
			case n == 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(monthShort[t.Month()-1])
			default:
				b.WriteString(pad(int(t.Month()), n))
			}
		case 'd':
			b.WriteString(pad(t.Day(), n))
		case 'D':
			b.WriteString(pad(t.YearDay(), n))
		case 'H':
			b.WriteString(pad(t.Hour(), n))
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b.WriteString(pad(h, n))
		case 'K':
			b.WriteString(pad(t.Hour()%12, n))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, n))
		case 'm':
			b.WriteString(pad(t.Minute(), n))
		case 's':
			b.WriteString(pad(t.Second(), n))
		case 'S':
			f := fmt.Sprintf("%09d", t.Nanosecond())
			for len(f) < n {
				f += "0"
			}
			b.WriteString(f[:n])
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'E', 'e':
			wd := t.Weekday()
			if n >= 4 {
				b.WriteString(wd.String())
			} else {
				b.WriteString(dayShort[wd])
			}
		case 'Z':
			switch {
			case n == 4:
				b.WriteString("GMT")
			case n >= 5:
				b.WriteString("Z")
			default:
				b.WriteString("+0000")
			}
		case 'X':
			b.WriteString("Z")
		case 'x':
			switch n {
			case 1:
				b.WriteString("+00")
			case 2, 4:
				b.WriteString("+0000")
			default:
				b.WriteString("+00:00")
			}
		case 'z', 'V':
			b.WriteString("UTC")
		}
	}
	return b.String()
}

func isNumericLetter(c byte) bool { return strings.IndexByte("yYuMLdDHhkKmsS", c) >= 0 }

// parse reads s with the pattern and returns the UTC instant in epoch
// microseconds; the whole input must be consumed.
func (p *dtPattern) parse(s string) (int64, bool) {
	year, month, day, doy := 1970, 1, 1, -1
	hour, minute, sec, micros := 0, 0, 0, 0
	pm, hasAmPm, hour12 := false, false, false
	offset := 0
	i := 0
	for ti, tk := range p.toks {
		if tk.letter == 0 {
			if !hasPrefixFold(s[i:], tk.lit) {
				return 0, false
			}
			i += len(tk.lit)
			continue
		}
		n := tk.count
		if isNumericLetter(tk.letter) && !(tk.letter == 'M' || tk.letter == 'L') || ((tk.letter == 'M' || tk.letter == 'L') && n <= 2) {
			nextNumeric := ti+1 < len(p.toks) && p.toks[ti+1].letter != 0 && isNumericLetter(p.toks[ti+1].letter)
			minD, maxD := 1, 2
			switch {
			case tk.letter == 'S':
				minD, maxD = 1, n
				if nextNumeric {
					minD = n
				}
			case tk.letter == 'y' || tk.letter == 'Y' || tk.letter == 'u':
				switch {
				case n == 2:
					minD, maxD = 2, 2
				case nextNumeric:
					minD, maxD = max(n, 1), max(n, 4)
				default:
					minD, maxD = max(n, 1), 9
				}
			case tk.letter == 'D':
				minD, maxD = n, 3
				if n == 1 {
					minD = 1
				}
			default:
				if n >= 2 {
					minD, maxD = n, n
				}
			}
			v, k := digitsAt(s, i, maxD)
			if k < minD {
				return 0, false
			}
			i += k
			switch tk.letter {
			case 'y', 'Y', 'u':
				if n == 2 {
					v += 2000
				}
				year = v
			case 'M', 'L':
				month = v
			case 'd':
				day = v
			case 'D':
				doy = v
			case 'H':
				hour = v
			case 'k':
				hour = v % 24
			case 'K':
				hour, hour12 = v, true
			case 'h':
				hour, hour12 = v%12, true
				if v < 1 || v > 12 {
					return 0, false
				}
			case 'm':
				minute = v
			case 's':
				sec = v
			case 'S':
				for d := k; d < 6; d++ {
					v *= 10
				}
				for d := k; d > 6; d-- {
					v /= 10
				}
				micros = v
			}
			continue
		}
		switch tk.letter {
		case 'M', 'L':
			names := monthShort
			if n == 4 {
				names = monthLong
			}
			k := nameAt(s, i, names)
			if k < 0 {
				return 0, false
			}
			month = k + 1
			i += len(names[k])
		case 'a':
			if len(s)-i < 2 {
				return 0, false
			}
			switch strings.ToUpper(s[i : i+2]) {
			case "AM":
			case "PM":
				pm = true
			default:
				return 0, false
			}
			hasAmPm = true
			i += 2
		case 'E', 'e':
			k := nameAt(s, i, dayNames)
			if k < 0 {
				return 0, false
			}
			i += len(dayNames[k])
		case 'G':
			if len(s)-i < 2 {
				return 0, false
			}
			i += 2
		case 'Z', 'X', 'x', 'z', 'V':
			j := i
			for j < len(s) && (s[j] == '+' || s[j] == '-' || s[j] == ':' || isDigit(s[j]) || isLetter(s[j])) {
				j++
			}
			o, ok := parseZone(s[i:j])
			if !ok {
				return 0, false
			}
			offset = o
			i = j
		}
	}
	if i != len(s) {
		return 0, false
	}
	if hour12 && hasAmPm && pm {
		hour += 12
	}
	if doy >= 0 {
		leap := daysIn(year, 2) == 29
		if doy < 1 || doy > 365 || (doy == 366 && !leap) {
			if !(doy == 366 && leap) {
				return 0, false
			}
		}
		days := daysFromCivil(year, 1, 1) + int64(doy-1)
		secs := days*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
		return secs*1000000 + int64(micros), hour < 24 && minute < 60 && sec < 60
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	return secs*1000000 + int64(micros), true
}

// floorDiv is integer division rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func dateOfMicros(us int64) Date { return Date(floorDiv(us, microsPerDay)) }
