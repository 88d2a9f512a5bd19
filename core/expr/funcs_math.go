// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

func registerMath(m map[string]*builtin) {
	d1 := func(f func(float64) any) *builtin {
		return &builtin{min: 1, max: 1, build: sig(tF64, []arrow.DataType{tF64}, func(a []any) any { return f(a[0].(float64)) })}
	}
	d2 := func(f func(x, y float64) any) *builtin {
		return &builtin{min: 2, max: 2, build: sig(tF64, []arrow.DataType{tF64}, func(a []any) any { return f(a[0].(float64), a[1].(float64)) })}
	}
	plain := func(f func(float64) float64) *builtin { return d1(func(x float64) any { return f(x) }) }
	// above is f of x > lo, and null at or below lo (outside a logarithm's domain)
	above := func(lo float64, f func(float64) float64) *builtin {
		return d1(func(x float64) any {
			if x <= lo {
				return nil
			}
			return f(x)
		})
	}
	for name, f := range map[string]func(float64) float64{
		"sqrt": math.Sqrt, "cbrt": math.Cbrt, "exp": math.Exp, "expm1": math.Expm1,
		"sin": math.Sin, "cos": math.Cos, "tan": math.Tan, "asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
		"sinh": math.Sinh, "cosh": math.Cosh, "tanh": math.Tanh,
		"degrees": func(x float64) float64 { return x * (180 / math.Pi) },
		"radians": func(x float64) float64 { return x / 180 * math.Pi },
	} {
		m[name] = plain(f)
	}
	for name, f := range map[string]func(float64) float64{"ln": math.Log, "log10": math.Log10, "log2": math.Log2} {
		m[name] = above(0, f)
	}
	m["log1p"] = above(-1, math.Log1p)
	m["log"] = &builtin{min: 1, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if len(args) == 1 {
			return m["ln"].build(c, n, args)
		}
		return sig(tF64, []arrow.DataType{tF64}, func(a []any) any {
			b, x := a[0].(float64), a[1].(float64)
			if b <= 0 || x <= 0 {
				return nil
			}
			return math.Log(x) / math.Log(b)
		})(c, n, args)
	}}
	m["atan2"] = d2(func(y, x float64) any { return math.Atan2(y, x) })
	sign := plain(func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return x // 0, -0 and NaN
	})
	m["sign"], m["signum"] = sign, sign
	pow := d2(func(x, y float64) any { return javaPow(x, y) })
	m["pow"], m["power"] = pow, pow
	m["hypot"] = d2(func(x, y float64) any { return math.Hypot(x, y) })
	constant := func(v float64) *builtin {
		return &builtin{min: 0, max: 0, build: func(*compiler, *Call, []cnode) (cnode, error) { return &litNode{t: tF64, v: v}, nil }}
	}
	m["pi"], m["e"] = constant(math.Pi), constant(math.E)

	m["abs"] = &builtin{min: 1, max: 1, build: numericUnary(func(v any) any {
		switch x := v.(type) {
		case int8:
			return absInt(x)
		case int16:
			return absInt(x)
		case int32:
			return absInt(x)
		case int64:
			return absInt(x)
		case float32:
			return float32(math.Abs(float64(x)))
		case float64:
			return math.Abs(x)
		}
		return v
	})}
	m["negative"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return c.unary(&Unary{P: n.P, Op: "-", X: n.Args[0]})
	}}
	m["positive"] = &builtin{min: 1, max: 1, build: numericUnary(func(v any) any { return v })}
	floorCeil := func(f func(float64) float64) *builtin {
		return &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			x, t, err := c.numberArg(n, args[0])
			if err != nil {
				return nil, err
			}
			if x == nil {
				return nullLit(tI64), nil
			}
			if isIntegral(t) {
				return c.castTo(x, tI64), nil
			}
			a := c.castTo(x, tF64)
			return strictFn(c, tI64, []cnode{a}, func(v []any) any { return f2i64(f(v[0].(float64))) }), nil
		}}
	}
	m["floor"] = floorCeil(math.Floor)
	m["ceil"] = floorCeil(math.Ceil)
	m["ceiling"] = m["ceil"]
	m["round"] = &builtin{min: 1, max: 2, build: roundBuilder(false)}
	m["bround"] = &builtin{min: 1, max: 2, build: roundBuilder(true)}
	arith := func(op string) *builtin {
		return &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			return c.binary(&Binary{P: n.P, Op: op, L: n.Args[0], R: n.Args[1]})
		}}
	}
	m["mod"] = arith("%")
	m["pmod"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		args, t, err := c.unify(n, args, false)
		if err != nil {
			return nil, err
		}
		if isNull(t) {
			return nullLit(tI32), nil
		}
		if !isNumeric(t) {
			return nil, c.errf(n.P, "pmod needs numbers, not %s", typeName(t))
		}
		return strictFn(c, t, args, func(v []any) any {
			r := arithAny(opMod, v[0], v[1])
			if r == nil {
				return nil
			}
			if toF64(r) < 0 {
				r = arithAny(opMod, arithAny(opAdd, r, v[1]), v[1])
			}
			return r
		}), nil
	}}
	m["div"] = arith("DIV")
	ext := func(greatest bool) func(*compiler, *Call, []cnode) (cnode, error) {
		return func(c *compiler, n *Call, args []cnode) (cnode, error) {
			args, t, err := c.unify(n, args, false)
			if err != nil {
				return nil, err
			}
			if !orderable(t) || t.ID() == arrow.MAP {
				return nil, c.errf(n.P, "%s cannot order values of type %s", n.Name, typeName(t))
			}
			cmpf := comparator(t)
			return lenientFn(c, t, args, func(v []any) any {
				var best any
				for _, x := range v {
					if x == nil {
						continue
					}
					if best == nil || (greatest && cmpf(x, best) > 0) || (!greatest && cmpf(x, best) < 0) {
						best = x
					}
				}
				return best
			}), nil
		}
	}
	m["greatest"] = &builtin{min: 2, max: -1, build: ext(true)}
	m["least"] = &builtin{min: 2, max: -1, build: ext(false)}
}

// numericUnary builds a one-argument function over any numeric type that
// keeps the argument's type.
func numericUnary(f func(any) any) func(*compiler, *Call, []cnode) (cnode, error) {
	return func(c *compiler, n *Call, args []cnode) (cnode, error) {
		x, t, err := c.numberArg(n, args[0])
		if err != nil {
			return nil, err
		}
		if x == nil {
			return nullLit(tF64), nil
		}
		return strictFn(c, t, []cnode{x}, func(v []any) any { return f(v[0]) }), nil
	}
}

// numberArg checks that x, the first argument of n, is a number; a string
// is cast to double. It returns the argument and its type, and a nil node
// when x is null.
func (c *compiler) numberArg(n *Call, x cnode) (cnode, arrow.DataType, error) {
	t := x.dtype()
	if isNull(t) {
		return nil, t, nil
	}
	if t.ID() == arrow.STRING {
		x, t = c.castTo(x, tF64), tF64
	}
	if !isNumeric(t) {
		return nil, nil, c.errf(argPos(n, 0), "argument 1 of %s must be a number, not %s", n.Name, typeName(t))
	}
	return x, t, nil
}

// absInt is |x|, wrapping for the most negative value like Java.
func absInt[T int8 | int16 | int32 | int64](x T) T {
	if x < 0 {
		return -x
	}
	return x
}

// javaPow is math.Pow with Java's answers where they differ: NaN exponent
// gives NaN, and ±1 to an infinite power is NaN.
func javaPow(x, y float64) float64 {
	if math.IsNaN(y) || (math.IsInf(y, 0) && (x == 1 || x == -1)) {
		return math.NaN()
	}
	return math.Pow(x, y)
}

func roundBuilder(halfEven bool) func(*compiler, *Call, []cnode) (cnode, error) {
	return func(c *compiler, n *Call, args []cnode) (cnode, error) {
		scale := int64(0)
		if len(args) == 2 {
			v, ok, err := c.intArg(n, args, 1)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, c.errf(argPos(n, 1), "the scale of %s must be a constant integer", n.Name)
			}
			if v < -300 || v > 300 {
				v = max(min(v, 300), -300)
			}
			scale = v
		}
		x, t, err := c.numberArg(n, args[0])
		if err != nil {
			return nil, err
		}
		if x == nil {
			return nullLit(tF64), nil
		}
		d := int(scale)
		return strictFn(c, t, []cnode{x}, func(v []any) any {
			switch a := v[0].(type) {
			case float64:
				return roundDecimal(a, d, halfEven)
			case float32:
				return float32(roundDecimal(float64(a), d, halfEven))
			}
			return fromI64(roundInt(toI64(v[0]), d, halfEven), t.ID())
		}), nil
	}
}

// roundDecimal rounds f to d decimal places the way Spark does: on the
// decimal text of f (Java's Double.toString digits), HALF_UP or HALF_EVEN.
func roundDecimal(f float64, d int, halfEven bool) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
		return f
	}
	neg, digits, exp := shortestDigits(f, 64)
	// value = 0.digits × 10^(exp+1); keep k digits
	k := exp + 1 + d
	if k >= len(digits) {
		return f
	}
	var m big.Int
	roundUp := false
	if k >= 0 {
		if k > 0 {
			m.SetString(digits[:k], 10)
		}
		r := digits[k]
		rest := strings.TrimRight(digits[k+1:], "0") != ""
		switch {
		case r > '5':
			roundUp = true
		case r == '5':
			roundUp = !halfEven || rest || m.Bit(0) == 1
		}
	}
	if roundUp {
		m.Add(&m, big.NewInt(1))
	}
	if m.Sign() == 0 {
		return 0
	}
	s := m.String() + "e" + strconv.Itoa(exp+1-k)
	if neg {
		s = "-" + s
	}
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

// roundInt rounds an integer to d (negative) decimal places; the result
// wraps to 64 bits like Java's BigDecimal.longValue.
func roundInt(v int64, d int, halfEven bool) int64 {
	if d >= 0 {
		return v
	}
	var p big.Int
	p.Exp(big.NewInt(10), big.NewInt(int64(-d)), nil)
	x := big.NewInt(v)
	neg := x.Sign() < 0
	x.Abs(x)
	var q, r big.Int
	q.QuoRem(x, &p, &r)
	r2 := new(big.Int).Mul(&r, big.NewInt(2))
	switch c := r2.Cmp(&p); {
	case c > 0, c == 0 && (!halfEven || q.Bit(0) == 1):
		q.Add(&q, big.NewInt(1))
	}
	q.Mul(&q, &p)
	if neg {
		q.Neg(&q)
	}
	// low 64 bits, two's complement
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	u := new(big.Int).And(&q, mask)
	return int64(u.Uint64())
}
