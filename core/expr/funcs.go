// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"math"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// builtin describes one SQL function. build receives the compiled
// arguments; hof (for higher-order functions) receives the raw call so it
// can type lambdas after their collection argument.
type builtin struct {
	min, max int // argument count bounds; max < 0 means no upper bound
	build    func(c *compiler, n *Call, args []cnode) (cnode, error)
	hof      func(c *compiler, n *Call) (cnode, error)
}

// builtins is the function table, keyed by lower-case name. It is filled
// once by init and never modified afterwards.
var builtins map[string]*builtin

func init() {
	builtins = map[string]*builtin{}
	for _, reg := range []func(map[string]*builtin){registerCore, registerMath, registerString, registerTime, registerCollection} {
		reg(builtins)
	}
}

// FunctionNames returns the names of all supported SQL functions, sorted.
func FunctionNames() []string {
	out := make([]string, 0, len(builtins))
	for k := range builtins {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *compiler) call(n *Call) (cnode, error) { return c.callBuiltin(n) }

func (c *compiler) callBuiltin(n *Call) (cnode, error) {
	b, ok := builtins[n.Name]
	if !ok {
		return nil, c.unknownFunction(n)
	}
	if err := c.checkArity(n, b, len(n.Args)); err != nil {
		return nil, err
	}
	if b.hof != nil {
		return b.hof(c, n)
	}
	args := make([]cnode, len(n.Args))
	for i, a := range n.Args {
		var err error
		if args[i], err = c.compile(a); err != nil {
			return nil, err
		}
	}
	return b.build(c, n, args)
}

// buildCall applies a (non higher-order) builtin to compiled arguments.
func (c *compiler) buildCall(n *Call, args []cnode) (cnode, error) {
	b := builtins[n.Name]
	if err := c.checkArity(n, b, len(args)); err != nil {
		return nil, err
	}
	return b.build(c, n, args)
}

func (c *compiler) unknownFunction(n *Call) error {
	best, bestD := "", math.MaxInt
	for name := range builtins {
		if d := editDistance(n.Name, name); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	if bestD <= max(1, len(n.Name)/3) {
		return c.errf(n.P, "unknown function %s (did you mean %s?)", n.Name, best)
	}
	return c.errf(n.P, "unknown function %s", n.Name)
}

func (c *compiler) checkArity(n *Call, b *builtin, got int) error {
	if got >= b.min && (b.max < 0 || got <= b.max) {
		return nil
	}
	var want string
	switch {
	case b.max < 0:
		want = "at least " + itoa(b.min)
	case b.min == b.max:
		want = itoa(b.min)
	default:
		want = itoa(b.min) + " to " + itoa(b.max)
	}
	return c.errf(n.P, "%s takes %s arguments, got %d", n.Name, want, got)
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// ---- builder helpers ----

// sig builds a strict function with fixed parameter types (the last one
// repeats for extra arguments): arguments are implicitly cast, a null
// argument gives null.
func sig(ret arrow.DataType, params []arrow.DataType, fn func(a []any) any) func(*compiler, *Call, []cnode) (cnode, error) {
	return func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if err := c.coerceArgs(n, args, params...); err != nil {
			return nil, err
		}
		return strictFn(c, ret, args, fn), nil
	}
}

// coerceArg casts argument i of n to want (see coerce).
func (c *compiler) coerceArg(n *Call, args []cnode, i int, want arrow.DataType) (cnode, error) {
	return c.coerce(args[i], want, n.Name, i+1, argPos(n, i))
}

// coerceArgs casts args in place to params, the last of which repeats for
// extra arguments.
func (c *compiler) coerceArgs(n *Call, args []cnode, params ...arrow.DataType) error {
	for i := range args {
		var err error
		if args[i], err = c.coerceArg(n, args, i, params[min(i, len(params)-1)]); err != nil {
			return err
		}
	}
	return nil
}

// defaultArg supplies the constant v of type t for a missing optional last
// argument i.
func defaultArg(args []cnode, i int, t arrow.DataType, v any) []cnode {
	if len(args) == i {
		return append(args, &litNode{t: t, v: v})
	}
	return args
}

// argPos is the source position of argument i of call n.
func argPos(n *Call, i int) int {
	if i < len(n.Args) {
		return n.Args[i].Pos()
	}
	return n.P
}

func strictFn(c *compiler, t arrow.DataType, args []cnode, fn func(a []any) any) cnode {
	return c.fold(&fnNode{t: t, args: args, fn: fn, strict: true}, args...)
}

func lenientFn(c *compiler, t arrow.DataType, args []cnode, fn func(a []any) any) cnode {
	return c.fold(&fnNode{t: t, args: args, fn: fn}, args...)
}

// intArg returns the value of a constant integer argument.
func (c *compiler) intArg(n *Call, args []cnode, i int) (int64, bool, error) {
	v, ok := litValue(args[i])
	if !ok {
		return 0, false, nil
	}
	if v == nil {
		return 0, true, nil
	}
	if !isIntegral(args[i].dtype()) {
		return 0, false, c.errf(argPos(n, i), "argument %d of %s must be an integer, not %s", i+1, n.Name, typeName(args[i].dtype()))
	}
	return toI64(v), true, nil
}

// unify casts all nodes to their common type.
func (c *compiler) unify(n *Call, args []cnode, stringPromote bool) ([]cnode, arrow.DataType, error) {
	var t arrow.DataType = tNull
	for i, a := range args {
		nt, ok := commonType(t, a.dtype(), stringPromote)
		if !ok {
			return nil, nil, c.errf(argPos(n, i), "type mismatch: arguments of %s have types %s and %s", n.Name, typeName(t), typeName(a.dtype()))
		}
		t = nt
	}
	out := make([]cnode, len(args))
	for i, a := range args {
		out[i] = c.castTo(a, t)
	}
	return out, t, nil
}

// ---- conditionals and null handling ----

func registerCore(m map[string]*builtin) {
	coalesce := func(c *compiler, n *Call, args []cnode) (cnode, error) {
		args, t, err := c.unify(n, args, true)
		if err != nil {
			return nil, err
		}
		// drop arguments after the first non-null constant, and null constants
		var keep []cnode
		for _, a := range args {
			if v, ok := litValue(a); ok {
				if v == nil {
					continue
				}
				keep = append(keep, a)
				break
			}
			keep = append(keep, a)
		}
		switch len(keep) {
		case 0:
			return nullLit(t), nil
		case 1:
			return keep[0], nil
		}
		return &coalesceNode{t: t, args: keep}, nil
	}
	m["coalesce"] = &builtin{min: 1, max: -1, build: coalesce}
	m["nvl"] = &builtin{min: 2, max: 2, build: coalesce}
	m["ifnull"] = &builtin{min: 2, max: 2, build: coalesce}
	m["if"] = &builtin{min: 3, max: 3, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if t := args[0].dtype(); !isNull(t) && t.ID() != arrow.BOOL {
			return nil, c.errf(argPos(n, 0), "first argument of if must be boolean, not %s", typeName(t))
		}
		return c.conditional(n.P, []cnode{c.castTo(args[0], tBool)}, []cnode{args[1]}, args[2])
	}}
	m["iff"] = m["if"]
	m["nvl2"] = &builtin{min: 3, max: 3, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		cond := c.fold(&isNullNode{x: args[0], not: true}, args[0])
		return c.conditional(n.P, []cnode{cond}, []cnode{args[1]}, args[2])
	}}
	m["nullif"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		eq, err := c.comparison(n.P, "=", args[0], args[1])
		if err != nil {
			return nil, err
		}
		return c.conditional(n.P, []cnode{eq}, []cnode{nullLit(tNull)}, args[0])
	}}
	m["isnull"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return c.fold(&isNullNode{x: args[0]}, args[0]), nil
	}}
	m["isnotnull"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return c.fold(&isNullNode{x: args[0], not: true}, args[0]), nil
	}}
	m["isnan"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		a, err := c.coerceArg(n, args, 0, tF64)
		if err != nil {
			return nil, err
		}
		return lenientFn(c, tBool, []cnode{a}, func(v []any) any {
			f, ok := v[0].(float64)
			return ok && math.IsNaN(f)
		}), nil
	}}
	m["nanvl"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		args, t, err := c.unify(n, args, false)
		if err != nil {
			return nil, err
		}
		if !isFloat(t) {
			return nil, c.errf(n.P, "nanvl needs float or double arguments, not %s", typeName(t))
		}
		return lenientFn(c, t, args, func(v []any) any {
			if v[0] == nil || toF64(v[0]) == toF64(v[0]) {
				return v[0]
			}
			return v[1]
		}), nil
	}}
	m["typeof"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return &litNode{t: tStr, v: strings.ToLower(typeName(args[0].dtype()))}, nil
	}}
}
