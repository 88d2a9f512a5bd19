// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// maxStringBytes bounds strings built by repeat and the pads; longer results
// are null.
const maxStringBytes = 1 << 28

func registerString(m map[string]*builtin) {
	s1 := func(f func(string) any) *builtin {
		return &builtin{min: 1, max: 1, build: sig(tStr, []arrow.DataType{tStr}, func(a []any) any { return f(a[0].(string)) })}
	}
	m["lower"] = s1(func(s string) any { return strings.ToLower(s) })
	m["lcase"] = m["lower"]
	m["upper"] = s1(func(s string) any { return strings.ToUpper(s) })
	m["ucase"] = m["upper"]
	m["initcap"] = s1(func(s string) any {
		b := []rune(strings.ToLower(s))
		for i := range b {
			if i == 0 || b[i-1] == ' ' {
				b[i] = []rune(strings.ToTitle(string(b[i])))[0]
			}
		}
		return string(b)
	})
	m["trim"] = s1(func(s string) any { return strings.Trim(s, " ") })
	m["btrim"] = m["trim"]
	m["ltrim"] = s1(func(s string) any { return strings.TrimLeft(s, " ") })
	m["rtrim"] = s1(func(s string) any { return strings.TrimRight(s, " ") })
	m["reverse"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if t := args[0].dtype(); t.ID() == arrow.LIST {
			return strictFn(c, t, args, func(a []any) any {
				l := a[0].([]any)
				out := make([]any, len(l))
				for i, x := range l {
					out[len(l)-1-i] = x
				}
				return out
			}), nil
		}
		return sig(tStr, []arrow.DataType{tStr}, func(a []any) any {
			r := []rune(a[0].(string))
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return string(r)
		})(c, n, args)
	}}
	length := &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if args[0].dtype().ID() == arrow.BINARY {
			return strictFn(c, tI32, args, func(a []any) any { return int32(len(a[0].([]byte))) }), nil
		}
		return sig(tI32, []arrow.DataType{tStr}, func(a []any) any { return int32(utf8.RuneCountInString(a[0].(string))) })(c, n, args)
	}}
	m["length"], m["char_length"], m["character_length"], m["len"] = length, length, length, length
	m["octet_length"] = &builtin{min: 1, max: 1, build: sig(tI32, []arrow.DataType{tStr}, func(a []any) any { return int32(len(a[0].(string))) })}
	substr := &builtin{min: 2, max: 3, build: sig(tStr, []arrow.DataType{tStr, tI32, tI32}, func(a []any) any {
		ln := int64(math32Max)
		if len(a) == 3 {
			ln = int64(a[2].(int32))
		}
		return substringSQL(a[0].(string), int64(a[1].(int32)), ln)
	})}
	m["substr"], m["substring"] = substr, substr
	m["left"] = &builtin{min: 2, max: 2, build: sig(tStr, []arrow.DataType{tStr, tI32}, func(a []any) any {
		n := int64(a[1].(int32))
		if n <= 0 {
			return ""
		}
		return substringSQL(a[0].(string), 1, n)
	})}
	m["right"] = &builtin{min: 2, max: 2, build: sig(tStr, []arrow.DataType{tStr, tI32}, func(a []any) any {
		n := int64(a[1].(int32))
		if n <= 0 {
			return ""
		}
		return substringSQL(a[0].(string), -n, math32Max)
	})}
	pad := func(left bool) *builtin {
		return &builtin{min: 2, max: 3, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			return sig(tStr, []arrow.DataType{tStr, tI32, tStr}, func(a []any) any {
				return padString(a[0].(string), int(a[1].(int32)), a[2].(string), left)
			})(c, n, defaultArg(args, 2, tStr, " "))
		}}
	}
	m["lpad"], m["rpad"] = pad(true), pad(false)
	m["repeat"] = &builtin{min: 2, max: 2, build: sig(tStr, []arrow.DataType{tStr, tI32}, func(a []any) any {
		s, k := a[0].(string), int(a[1].(int32))
		if k <= 0 || s == "" {
			return ""
		}
		if len(s)*k > maxStringBytes {
			return nil
		}
		return strings.Repeat(s, k)
	})}
	m["space"] = &builtin{min: 1, max: 1, build: sig(tStr, []arrow.DataType{tI32}, func(a []any) any {
		k := int(a[0].(int32))
		if k <= 0 {
			return ""
		}
		if k > maxStringBytes {
			return nil
		}
		return strings.Repeat(" ", k)
	})}
	m["instr"] = &builtin{min: 2, max: 2, build: sig(tI32, []arrow.DataType{tStr}, func(a []any) any {
		return int32(runeIndex(a[0].(string), a[1].(string), 0) + 1)
	})}
	m["locate"] = &builtin{min: 2, max: 3, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return sig(tI32, []arrow.DataType{tStr, tStr, tI32}, func(a []any) any {
			pos := int(a[2].(int32))
			if pos < 1 {
				return int32(0)
			}
			return int32(runeIndex(a[1].(string), a[0].(string), pos-1) + 1)
		})(c, n, defaultArg(args, 2, tI32, int32(1)))
	}}
	m["position"] = m["locate"]
	m["replace"] = &builtin{min: 2, max: 3, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return sig(tStr, []arrow.DataType{tStr}, func(a []any) any {
			s, old := a[0].(string), a[1].(string)
			if old == "" {
				return s
			}
			return strings.ReplaceAll(s, old, a[2].(string))
		})(c, n, defaultArg(args, 2, tStr, ""))
	}}
	m["startswith"] = &builtin{min: 2, max: 2, build: sig(tBool, []arrow.DataType{tStr}, func(a []any) any { return strings.HasPrefix(a[0].(string), a[1].(string)) })}
	m["endswith"] = &builtin{min: 2, max: 2, build: sig(tBool, []arrow.DataType{tStr}, func(a []any) any { return strings.HasSuffix(a[0].(string), a[1].(string)) })}
	m["contains"] = &builtin{min: 2, max: 2, build: sig(tBool, []arrow.DataType{tStr}, func(a []any) any { return strings.Contains(a[0].(string), a[1].(string)) })}
	m["ascii"] = &builtin{min: 1, max: 1}
	m["ascii"].build = sig(tI32, []arrow.DataType{tStr}, func(a []any) any {
		s := a[0].(string)
		if s == "" {
			return int32(0)
		}
		r, _ := utf8.DecodeRuneInString(s)
		return int32(r)
	})
	m["concat"] = &builtin{min: 0, max: -1, build: buildConcat}
	m["concat_ws"] = &builtin{min: 1, max: -1, build: buildConcatWS}
	m["split"] = &builtin{min: 2, max: 3, build: buildSplit}
	m["regexp_extract"] = &builtin{min: 2, max: 3, build: buildRegexpExtract(false)}
	m["regexp_extract_all"] = &builtin{min: 2, max: 3, build: buildRegexpExtract(true)}
	m["regexp_replace"] = &builtin{min: 3, max: 4, build: buildRegexpReplace}
	m["regexp_like"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return c.likeNodes(n.P, args[0], args[1], true, 0, argPos(n, 1))
	}}
	m["rlike"], m["regexp"] = m["regexp_like"], m["regexp_like"]
	m["like"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return c.likeNodes(n.P, args[0], args[1], false, 0, argPos(n, 1))
	}}
	m["get_json_object"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if v, ok := litValue(args[1]); ok && v != nil {
			if _, ok := parseJSONPath(fmt.Sprint(v)); !ok {
				return nil, c.errf(argPos(n, 1), "invalid JSON path %q", v)
			}
		}
		return sig(tStr, []arrow.DataType{tStr}, func(a []any) any {
			return getJSONObject(a[0].(string), a[1].(string))
		})(c, n, args)
	}}
	// functions of binary data (a string argument is cast to binary)
	bin := func(ret arrow.DataType, f func([]byte) any) *builtin {
		return &builtin{min: 1, max: 1, build: sig(ret, []arrow.DataType{tBin}, func(a []any) any { return f(a[0].([]byte)) })}
	}
	m["md5"] = bin(tStr, func(b []byte) any { return hexDigest(md5.New(), b) })
	m["sha1"] = bin(tStr, func(b []byte) any { return hexDigest(sha1.New(), b) })
	m["sha"] = m["sha1"]
	sha2 := map[int32]func() hash.Hash{0: sha256.New, 224: sha256.New224, 256: sha256.New, 384: sha512.New384, 512: sha512.New}
	m["sha2"] = &builtin{min: 2, max: 2, build: sig(tStr, []arrow.DataType{tBin, tI32}, func(v []any) any {
		h, ok := sha2[v[1].(int32)]
		if !ok {
			return nil
		}
		return hexDigest(h(), v[0].([]byte))
	})}
	m["crc32"] = bin(tI64, func(b []byte) any { return int64(crc32.ChecksumIEEE(b)) })
	m["base64"] = bin(tStr, func(b []byte) any { return base64.StdEncoding.EncodeToString(b) })
	m["unbase64"] = &builtin{min: 1, max: 1, build: sig(tBin, []arrow.DataType{tStr}, func(a []any) any {
		b, err := base64.StdEncoding.DecodeString(a[0].(string))
		if err != nil {
			return nil
		}
		return b
	})}
	// cast shorthands: int(x), double(x), string(x), …
	for _, name := range []string{"boolean", "tinyint", "smallint", "int", "bigint", "float", "double", "string", "binary", "date", "timestamp"} {
		m[name] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			return c.compile(&Cast{P: n.P, X: n.Args[0], TypeName: n.Name})
		}}
	}
}

const math32Max = 1<<31 - 1

// hexDigest is the hash h of b in hex.
func hexDigest(h hash.Hash, b []byte) string {
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// substringSQL is Spark's UTF8String.substringSQL: 1-based pos, 0 means 1,
// negative counts from the end; characters are code points.
func substringSQL(s string, pos, length int64) string {
	ascii := isASCII(s)
	n := int64(len(s))
	if !ascii {
		n = int64(utf8.RuneCountInString(s))
	}
	var start int64
	switch {
	case pos > 0:
		start = pos - 1
	case pos < 0:
		start = n + pos
	}
	end := start + length
	if end > math32Max {
		end = math32Max
	}
	if start < 0 {
		start = 0
	}
	if start >= end || start >= n {
		return ""
	}
	end = min(end, n)
	if ascii {
		return s[start:end]
	}
	i, bs, be := int64(0), -1, len(s)
	for off := range s {
		if i == start {
			bs = off
		}
		if i == end {
			be = off
			break
		}
		i++
	}
	return s[bs:be]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// runeIndex is the code-point index of sub in s at or after code point
// from, or -1.
func runeIndex(s, sub string, from int) int {
	off := 0
	for i := 0; i < from; i++ {
		if off >= len(s) {
			return -1
		}
		_, w := utf8.DecodeRuneInString(s[off:])
		off += w
	}
	j := strings.Index(s[off:], sub)
	if j < 0 {
		return -1
	}
	return from + utf8.RuneCountInString(s[off:off+j])
}

func padString(s string, n int, pad string, left bool) any {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if n <= len(r) {
		return string(r[:n])
	}
	if pad == "" {
		return s
	}
	if n > maxStringBytes {
		return nil
	}
	p := []rune(pad)
	need := n - len(r)
	fillR := make([]rune, need)
	for i := range fillR {
		fillR[i] = p[i%len(p)]
	}
	if left {
		return string(fillR) + s
	}
	return s + string(fillR)
}

func buildConcat(c *compiler, n *Call, args []cnode) (cnode, error) {
	anyList := false
	for _, a := range args {
		anyList = anyList || a.dtype().ID() == arrow.LIST
	}
	if anyList {
		args, t, err := c.unify(n, args, false)
		if err != nil {
			return nil, err
		}
		if t.ID() != arrow.LIST {
			return nil, c.errf(n.P, "concat cannot mix arrays and %s", typeName(t))
		}
		return strictFn(c, t, args, func(a []any) any {
			var out []any
			for _, x := range a {
				out = append(out, x.([]any)...)
			}
			if out == nil {
				out = []any{}
			}
			return out
		}), nil
	}
	return sig(tStr, []arrow.DataType{tStr}, func(a []any) any {
		var b strings.Builder
		for _, x := range a {
			b.WriteString(x.(string))
		}
		return b.String()
	})(c, n, args)
}

func buildConcatWS(c *compiler, n *Call, args []cnode) (cnode, error) {
	for i := range args {
		t := args[i].dtype()
		if i > 0 && t.ID() == arrow.LIST {
			if !implicit(t, tStrArr) {
				return nil, c.errf(argPos(n, i), "argument %d of concat_ws must be a string or array<string>, not %s", i+1, typeName(t))
			}
			args[i] = c.castTo(args[i], tStrArr)
			continue
		}
		var err error
		if args[i], err = c.coerceArg(n, args, i, tStr); err != nil {
			return nil, err
		}
	}
	return lenientFn(c, tStr, args, func(a []any) any {
		if a[0] == nil {
			return nil
		}
		sep := a[0].(string)
		var b strings.Builder
		first := true
		add := func(s string) {
			if !first {
				b.WriteString(sep)
			}
			b.WriteString(s)
			first = false
		}
		for _, x := range a[1:] {
			switch v := x.(type) {
			case string:
				add(v)
			case []any:
				for _, e := range v {
					if s, ok := e.(string); ok {
						add(s)
					}
				}
			}
		}
		return b.String()
	}), nil
}

// ---- regular expressions ----

// regexPat is a regular expression argument: compiled once when constant
// (re is nil for a null constant), otherwise per row.
type regexPat struct {
	re       *regexp.Regexp
	constant bool
}

// get returns the expression for a row whose pattern argument is pat; nil
// (a null result) when a run-time pattern is invalid.
func (r regexPat) get(pat string) *regexp.Regexp {
	if r.constant {
		return r.re
	}
	return runtimeRegex(pat)
}

// regexArgs casts the arguments of a regular-expression function to params
// and compiles its pattern (argument 2) at compile time when constant.
func (c *compiler) regexArgs(n *Call, args []cnode, params ...arrow.DataType) (regexPat, error) {
	if err := c.coerceArgs(n, args, params...); err != nil {
		return regexPat{}, err
	}
	v, ok := litValue(args[1])
	if !ok {
		return regexPat{}, nil
	}
	if v == nil {
		return regexPat{constant: true}, nil
	}
	re, err := regexp.Compile(v.(string))
	if err != nil {
		return regexPat{}, c.errf(argPos(n, 1), "invalid regular expression: %v", err)
	}
	return regexPat{re: re, constant: true}, nil
}

// runtimeRegex compiles a non-constant pattern argument at run time; nil
// (a null result) when it is invalid.
func runtimeRegex(p string) *regexp.Regexp {
	re, err := regexp.Compile(p)
	if err != nil {
		return nil
	}
	return re
}

func buildSplit(c *compiler, n *Call, args []cnode) (cnode, error) {
	args = defaultArg(args, 2, tI32, int32(-1))
	re, err := c.regexArgs(n, args, tStr, tStr, tI32)
	if err != nil {
		return nil, err
	}
	return strictFn(c, tStrArr, args, func(a []any) any {
		pat := a[1].(string)
		r := re.get(pat)
		if r == nil {
			return nil
		}
		return splitSpark(a[0].(string), pat, r, int(a[2].(int32)))
	}), nil
}

// splitSpark is Spark's split(str, regex, limit): Java's Pattern.split
// semantics, keeping trailing empty strings, with an empty pattern
// splitting into characters.
func splitSpark(s, pat string, re *regexp.Regexp, limit int) []any {
	if limit == 0 {
		limit = -1
	}
	if pat == "" && s != "" {
		rs := []rune(s)
		k := len(rs)
		if limit > 0 && limit < k {
			k = limit
		}
		out := make([]any, k)
		for i := 0; i < k-1; i++ {
			out[i] = string(rs[i])
		}
		out[k-1] = string(rs[k-1:])
		return out
	}
	var out []any
	index := 0
	for _, m := range re.FindAllStringIndex(s, -1) {
		if limit > 0 && len(out) >= limit-1 {
			break
		}
		if m[1] == 0 { // zero-width match at the start: no leading empty string
			continue
		}
		out = append(out, s[index:m[0]])
		index = m[1]
	}
	if index == 0 && len(out) == 0 {
		return []any{s}
	}
	out = append(out, s[index:])
	return out
}

func buildRegexpExtract(all bool) func(*compiler, *Call, []cnode) (cnode, error) {
	return func(c *compiler, n *Call, args []cnode) (cnode, error) {
		args = defaultArg(args, 2, tI32, int32(1))
		re, err := c.regexArgs(n, args, tStr, tStr, tI32)
		if err != nil {
			return nil, err
		}
		if idx, ok := litValue(args[2]); ok && idx != nil && re.re != nil {
			if g := int(idx.(int32)); g < 0 || g > re.re.NumSubexp() {
				return nil, c.errf(argPos(n, 2), "regex group count is %d, but the specified group index is %d", re.re.NumSubexp(), g)
			}
		}
		rt := arrow.DataType(tStr)
		if all {
			rt = tStrArr
		}
		return strictFn(c, rt, args, func(a []any) any {
			r := re.get(a[1].(string))
			if r == nil {
				return nil
			}
			s, g := a[0].(string), int(a[2].(int32))
			if g < 0 || g > r.NumSubexp() {
				return nil
			}
			if all {
				out := []any{}
				for _, m := range r.FindAllStringSubmatchIndex(s, -1) {
					if m[2*g] < 0 {
						out = append(out, "")
					} else {
						out = append(out, s[m[2*g]:m[2*g+1]])
					}
				}
				return out
			}
			m := r.FindStringSubmatchIndex(s)
			if m == nil || m[2*g] < 0 {
				return ""
			}
			return s[m[2*g]:m[2*g+1]]
		}), nil
	}
}

// javaReplacement converts a Java Matcher replacement string ($n group
// references, \x escapes) to a Go regexp template.
func javaReplacement(rep string, groups int) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(rep); i++ {
		ch := rep[i]
		switch ch {
		case '\\':
			i++
			if i >= len(rep) {
				return "", false
			}
			if rep[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(rep[i])
			}
		case '$':
			i++
			if i >= len(rep) {
				return "", false
			}
			if rep[i] == '{' {
				j := strings.IndexByte(rep[i:], '}')
				if j < 0 {
					return "", false
				}
				b.WriteString("${" + rep[i+1:i+j] + "}")
				i += j
				continue
			}
			if !isDigit(rep[i]) {
				return "", false
			}
			g := int(rep[i] - '0')
			if g > groups {
				return "", false
			}
			for i+1 < len(rep) && isDigit(rep[i+1]) {
				ng := g*10 + int(rep[i+1]-'0')
				if ng > groups {
					break
				}
				g = ng
				i++
			}
			b.WriteString("${" + strconv.Itoa(g) + "}")
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), true
}

func buildRegexpReplace(c *compiler, n *Call, args []cnode) (cnode, error) {
	args = defaultArg(args, 3, tI32, int32(1))
	re, err := c.regexArgs(n, args, tStr, tStr, tStr, tI32)
	if err != nil {
		return nil, err
	}
	if rep, ok := litValue(args[2]); ok && rep != nil && re.re != nil {
		if _, ok := javaReplacement(rep.(string), re.re.NumSubexp()); !ok {
			return nil, c.errf(argPos(n, 2), "invalid replacement string %q", rep)
		}
	}
	return strictFn(c, tStr, args, func(a []any) any {
		r := re.get(a[1].(string))
		if r == nil {
			return nil
		}
		tmpl, ok := javaReplacement(a[2].(string), r.NumSubexp())
		if !ok {
			return nil
		}
		s, pos := a[0].(string), int(a[3].(int32))
		if pos < 1 {
			return nil
		}
		prefix := substringSQL(s, 1, int64(pos-1))
		rest := s[len(prefix):]
		return prefix + r.ReplaceAllString(rest, tmpl)
	}), nil
}

// ---- LIKE / RLIKE ----

func (c *compiler) like(n *Like) (cnode, error) {
	x, p, err := c.compilePair(n.X, n.Pattern)
	if err != nil {
		return nil, err
	}
	res, err := c.likeNodes(n.P, x, p, n.Regex, n.Escape, n.Pattern.Pos())
	if err != nil {
		return nil, err
	}
	if n.Not {
		res = c.fold(&notNode{x: res}, res)
	}
	return res, nil
}

func (c *compiler) likeNodes(pos int, x, p cnode, regex bool, esc rune, ppos int) (cnode, error) {
	op := "LIKE"
	if regex {
		op = "RLIKE"
	}
	for _, a := range []*cnode{&x, &p} {
		if !implicit((*a).dtype(), tStr) {
			return nil, c.errf(pos, "%s needs strings, not %s", op, typeName((*a).dtype()))
		}
		*a = c.castTo(*a, tStr)
	}
	if esc == 0 {
		esc = '\\'
	}
	matcher := func(pat string) (func(string) bool, error) {
		if !regex {
			return likeMatcher(pat, esc)
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression: %v", err)
		}
		return re.MatchString, nil
	}
	var match func(string) bool
	constant := false
	if v, ok := litValue(p); ok {
		constant = true
		if v != nil {
			var err error
			if match, err = matcher(v.(string)); err != nil {
				return nil, c.errf(ppos, "%v", err)
			}
		}
	}
	return strictFn(c, tBool, []cnode{x, p}, func(a []any) any {
		f := match
		if !constant {
			var err error
			if f, err = matcher(a[1].(string)); err != nil {
				return nil
			}
		}
		return f(a[0].(string))
	}), nil
}

// likeMatcher compiles a LIKE pattern (% any sequence, _ any character,
// esc escaping %, _ and itself) to a matching function.
func likeMatcher(pat string, esc rune) (func(string) bool, error) {
	var re strings.Builder
	re.WriteString(`(?s)\A`)
	var lit strings.Builder // literal text of a pattern with no _
	simple := true
	var pieces []string
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == esc:
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("the escape character is not allowed to end the LIKE pattern %q", pat)
			}
			nx := rs[i+1]
			if nx != '%' && nx != '_' && nx != esc {
				return nil, fmt.Errorf("the escape character is not allowed to precede %q in LIKE pattern %q", nx, pat)
			}
			re.WriteString(regexp.QuoteMeta(string(nx)))
			lit.WriteRune(nx)
			i++
		case r == '%':
			re.WriteString(".*")
			pieces = append(pieces, lit.String())
			lit.Reset()
		case r == '_':
			re.WriteString(".")
			simple = false
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
			lit.WriteRune(r)
		}
	}
	pieces = append(pieces, lit.String())
	re.WriteString(`\z`)
	if simple {
		switch {
		case len(pieces) == 1:
			s := pieces[0]
			return func(x string) bool { return x == s }, nil
		case len(pieces) == 2:
			a, b := pieces[0], pieces[1]
			return func(x string) bool {
				return len(x) >= len(a)+len(b) && strings.HasPrefix(x, a) && strings.HasSuffix(x, b)
			}, nil
		case len(pieces) == 3 && pieces[0] == "" && pieces[2] == "":
			s := pieces[1]
			return func(x string) bool { return strings.Contains(x, s) }, nil
		}
	}
	compiled, err := regexp.Compile(re.String())
	if err != nil {
		return nil, fmt.Errorf("bad LIKE pattern %q: %w", pat, err)
	}
	return compiled.MatchString, nil
}

// ---- JSON ----

type jsonStep struct {
	key   string
	index int // -1 for a key step
}

// parseJSONPath parses the subset of JSONPath Spark's get_json_object
// accepts: $ followed by .name, ['name'] and [n] steps.
func parseJSONPath(p string) ([]jsonStep, bool) {
	if !strings.HasPrefix(p, "$") {
		return nil, false
	}
	var steps []jsonStep
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, false
			}
			steps = append(steps, jsonStep{key: p[i+1 : j], index: -1})
			i = j
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, false
			}
			inner := p[i+1 : i+j]
			if len(inner) >= 2 && inner[0] == '\'' && inner[len(inner)-1] == '\'' {
				steps = append(steps, jsonStep{key: inner[1 : len(inner)-1], index: -1})
			} else {
				k, err := strconv.Atoi(inner)
				if err != nil || k < 0 {
					return nil, false
				}
				steps = append(steps, jsonStep{index: k})
			}
			i += j + 1
		default:
			return nil, false
		}
	}
	return steps, true
}

// getJSONObject extracts the value at path from a JSON document: strings
// unquoted, other values as compact JSON text, null when absent or invalid.
func getJSONObject(doc, path string) any {
	steps, ok := parseJSONPath(path)
	if !ok {
		return nil
	}
	raw := json.RawMessage(doc)
	for _, st := range steps {
		if st.index < 0 {
			var obj map[string]json.RawMessage
			if json.Unmarshal(raw, &obj) != nil {
				return nil
			}
			v, ok := obj[st.key]
			if !ok {
				return nil
			}
			raw = v
		} else {
			var arr []json.RawMessage
			if json.Unmarshal(raw, &arr) != nil || st.index >= len(arr) {
				return nil
			}
			raw = arr[st.index]
		}
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	if trimmed[0] == '"' {
		var s string
		if json.Unmarshal(trimmed, &s) != nil {
			return nil
		}
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, trimmed) != nil {
		return nil
	}
	return buf.String()
}
