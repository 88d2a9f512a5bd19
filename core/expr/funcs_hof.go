// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// lambda compiles argument i of call n as a lambda taking between minParams
// and len(types) parameters of the given types. It returns the body and the
// variable slots of the parameters.
func (c *compiler) lambda(n *Call, i, minParams int, types ...arrow.DataType) (cnode, []int, error) {
	lam, ok := n.Args[i].(*Lambda)
	if !ok {
		return nil, nil, c.errf(argPos(n, i), "argument %d of %s must be a lambda function", i+1, n.Name)
	}
	if len(lam.Params) < minParams || len(lam.Params) > len(types) {
		want := itoa(minParams)
		if len(types) != minParams {
			want += " or " + itoa(len(types))
		}
		return nil, nil, c.errf(lam.P, "the lambda of %s takes %s parameters, got %d", n.Name, want, len(lam.Params))
	}
	scope := map[string]*varNode{}
	slots := make([]int, len(lam.Params))
	for j, p := range lam.Params {
		key := strings.ToLower(p)
		if _, dup := scope[key]; dup {
			return nil, nil, c.errf(lam.P, "duplicate lambda parameter %q", p)
		}
		slots[j] = c.u.nvars
		c.u.nvars++
		scope[key] = &varNode{t: types[j], slot: slots[j]}
	}
	c.scopes = append(c.scopes, scope)
	body, err := c.compile(lam.Body)
	c.scopes = c.scopes[:len(c.scopes)-1]
	if err != nil {
		return nil, nil, err
	}
	return body, slots, nil
}

// listArg compiles argument i as an array (null becomes array<null>).
func (c *compiler) listArg(n *Call, i int) (cnode, arrow.DataType, error) {
	x, err := c.compile(n.Args[i])
	if err != nil {
		return nil, nil, err
	}
	t := x.dtype()
	if isNull(t) {
		t = listOf(tNull)
		x = nullLit(t)
	}
	if t.ID() != arrow.LIST {
		return nil, nil, c.errf(argPos(n, i), "argument %d of %s must be an array, not %s", i+1, n.Name, typeName(t))
	}
	return x, listElem(t), nil
}

// mapArg compiles argument i as a map.
func (c *compiler) mapArg(n *Call, i int) (cnode, arrow.DataType, error) {
	x, err := c.compile(n.Args[i])
	if err != nil {
		return nil, nil, err
	}
	t := x.dtype()
	if isNull(t) {
		t = mapOf(tNull)
		x = nullLit(t)
	}
	if t.ID() != arrow.MAP {
		return nil, nil, c.errf(argPos(n, i), "argument %d of %s must be a map, not %s", i+1, n.Name, typeName(t))
	}
	return x, mapItem(t), nil
}

func (c *compiler) boolBody(n *Call, body cnode) (cnode, error) {
	if t := body.dtype(); !isNull(t) && t.ID() != arrow.BOOL {
		return nil, c.errf(n.P, "the lambda of %s must return a boolean, not %s", n.Name, typeName(t))
	}
	return c.castTo(body, tBool), nil
}

func setVars(rc *rowCtx, slots []int, vals ...any) {
	for i, s := range slots {
		rc.vars[s] = vals[i]
	}
}

func registerHOF(m map[string]*builtin) {
	m["transform"] = &builtin{min: 2, max: 2, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		arr, et, err := c.listArg(n, 0)
		if err != nil {
			return nil, err
		}
		body, slots, err := c.lambda(n, 1, 1, et, tI32)
		if err != nil {
			return nil, err
		}
		return &rowNode{t: listOf(body.dtype()), refs: c.refsSince(start), eval: func(rc *rowCtx) any {
			v := arr.row(rc)
			if v == nil {
				return nil
			}
			l := v.([]any)
			out := make([]any, len(l))
			for i, e := range l {
				setVars(rc, slots, e, int32(i))
				out[i] = body.row(rc)
			}
			return out
		}}, nil
	}}
	m["filter"] = &builtin{min: 2, max: 2, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		arr, et, err := c.listArg(n, 0)
		if err != nil {
			return nil, err
		}
		body, slots, err := c.lambda(n, 1, 1, et, tI32)
		if err != nil {
			return nil, err
		}
		if body, err = c.boolBody(n, body); err != nil {
			return nil, err
		}
		return &rowNode{t: listOf(et), refs: c.refsSince(start), eval: func(rc *rowCtx) any {
			v := arr.row(rc)
			if v == nil {
				return nil
			}
			out := []any{}
			for i, e := range v.([]any) {
				setVars(rc, slots, e, int32(i))
				if body.row(rc) == true {
					out = append(out, e)
				}
			}
			return out
		}}, nil
	}}
	quantifier := func(exists bool) *builtin {
		return &builtin{min: 2, max: 2, hof: func(c *compiler, n *Call) (cnode, error) {
			start := len(c.refLog)
			arr, et, err := c.listArg(n, 0)
			if err != nil {
				return nil, err
			}
			body, slots, err := c.lambda(n, 1, 1, et)
			if err != nil {
				return nil, err
			}
			if body, err = c.boolBody(n, body); err != nil {
				return nil, err
			}
			return &rowNode{t: tBool, refs: c.refsSince(start), eval: func(rc *rowCtx) any {
				v := arr.row(rc)
				if v == nil {
					return nil
				}
				sawNull := false
				for _, e := range v.([]any) {
					setVars(rc, slots, e)
					switch body.row(rc) {
					case nil:
						sawNull = true
					case exists:
						return exists
					}
				}
				if sawNull {
					return nil
				}
				return !exists
			}}, nil
		}}
	}
	m["exists"], m["forall"] = quantifier(true), quantifier(false)
	m["aggregate"] = &builtin{min: 3, max: 4, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		arr, et, err := c.listArg(n, 0)
		if err != nil {
			return nil, err
		}
		zero, err := c.compile(n.Args[1])
		if err != nil {
			return nil, err
		}
		accT := zero.dtype()
		merge, slots, err := c.lambda(n, 2, 2, accT, et)
		if err != nil {
			return nil, err
		}
		if !sameType(merge.dtype(), accT) {
			// widen the accumulator to the merge result (Spark requires
			// them equal; widening accepts aggregate(arr, 0, (a, x) -> a + x)
			// over doubles) and type the merge again
			wt, ok := commonType(accT, merge.dtype(), false)
			if !ok {
				return nil, c.errf(n.P, "the merge lambda of %s returns %s, but the start value is %s", n.Name, typeName(merge.dtype()), typeName(accT))
			}
			accT = wt
			if merge, slots, err = c.lambda(n, 2, 2, accT, et); err != nil {
				return nil, err
			}
			if _, ok := commonType(merge.dtype(), accT, false); !ok || !implicit(merge.dtype(), accT) {
				return nil, c.errf(n.P, "the merge lambda of %s returns %s, but the accumulator is %s", n.Name, typeName(merge.dtype()), typeName(accT))
			}
			merge = c.castTo(merge, accT)
			zero = c.castTo(zero, accT)
		}
		rt := accT
		var finish cnode
		var fslots []int
		if len(n.Args) == 4 {
			if finish, fslots, err = c.lambda(n, 3, 1, accT); err != nil {
				return nil, err
			}
			rt = finish.dtype()
		}
		return &rowNode{t: rt, refs: c.refsSince(start), eval: func(rc *rowCtx) any {
			v := arr.row(rc)
			if v == nil {
				return nil
			}
			acc := zero.row(rc)
			for _, e := range v.([]any) {
				setVars(rc, slots, acc, e)
				acc = merge.row(rc)
			}
			if finish != nil {
				setVars(rc, fslots, acc)
				return finish.row(rc)
			}
			return acc
		}}, nil
	}}
	m["reduce"] = m["aggregate"]
	m["zip_with"] = &builtin{min: 3, max: 3, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		a1, t1, err := c.listArg(n, 0)
		if err != nil {
			return nil, err
		}
		a2, t2, err := c.listArg(n, 1)
		if err != nil {
			return nil, err
		}
		body, slots, err := c.lambda(n, 2, 2, t1, t2)
		if err != nil {
			return nil, err
		}
		return &rowNode{t: listOf(body.dtype()), refs: c.refsSince(start), eval: func(rc *rowCtx) any {
			v1, v2 := a1.row(rc), a2.row(rc)
			if v1 == nil || v2 == nil {
				return nil
			}
			l1, l2 := v1.([]any), v2.([]any)
			out := make([]any, max(len(l1), len(l2)))
			for i := range out {
				var x, y any
				if i < len(l1) {
					x = l1[i]
				}
				if i < len(l2) {
					y = l2[i]
				}
				setVars(rc, slots, x, y)
				out[i] = body.row(rc)
			}
			return out
		}}, nil
	}}
	m["map_filter"] = &builtin{min: 2, max: 2, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		mp, vt, err := c.mapArg(n, 0)
		if err != nil {
			return nil, err
		}
		body, slots, err := c.lambda(n, 1, 2, tStr, vt)
		if err != nil {
			return nil, err
		}
		if body, err = c.boolBody(n, body); err != nil {
			return nil, err
		}
		return &rowNode{t: mapOf(vt), refs: c.refsSince(start), eval: func(rc *rowCtx) any {
			v := mp.row(rc)
			if v == nil {
				return nil
			}
			mm := v.(map[string]any)
			out := make(map[string]any, len(mm))
			for _, k := range sortedKeys(mm) {
				setVars(rc, slots, k, mm[k])
				if body.row(rc) == true {
					out[k] = mm[k]
				}
			}
			return out
		}}, nil
	}}
	m["map_zip_with"] = &builtin{min: 3, max: 3, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		m1, vt1, err := c.mapArg(n, 0)
		if err != nil {
			return nil, err
		}
		m2, vt2, err := c.mapArg(n, 1)
		if err != nil {
			return nil, err
		}
		body, slots, err := c.lambda(n, 2, 3, tStr, vt1, vt2)
		if err != nil {
			return nil, err
		}
		return &rowNode{t: mapOf(body.dtype()), refs: c.refsSince(start), eval: func(rc *rowCtx) any {
			v1, v2 := m1.row(rc), m2.row(rc)
			if v1 == nil || v2 == nil {
				return nil
			}
			x, y := v1.(map[string]any), v2.(map[string]any)
			keys := sortedKeys(x)
			for k := range y {
				if _, ok := x[k]; !ok {
					keys = append(keys, k)
				}
			}
			out := make(map[string]any, len(keys))
			for _, k := range keys {
				setVars(rc, slots, k, x[k], y[k])
				out[k] = body.row(rc)
			}
			return out
		}}, nil
	}}
	transformMap := func(keys bool) *builtin {
		return &builtin{min: 2, max: 2, hof: func(c *compiler, n *Call) (cnode, error) {
			start := len(c.refLog)
			mp, vt, err := c.mapArg(n, 0)
			if err != nil {
				return nil, err
			}
			body, slots, err := c.lambda(n, 1, 2, tStr, vt)
			if err != nil {
				return nil, err
			}
			rt := mapOf(body.dtype())
			if keys {
				if !implicit(body.dtype(), tStr) {
					return nil, c.errf(n.P, "the lambda of %s must return a string key, not %s", n.Name, typeName(body.dtype()))
				}
				body = c.castTo(body, tStr)
				rt = mapOf(vt)
			}
			return &rowNode{t: rt, refs: c.refsSince(start), eval: func(rc *rowCtx) any {
				v := mp.row(rc)
				if v == nil {
					return nil
				}
				mm := v.(map[string]any)
				out := make(map[string]any, len(mm))
				for _, k := range sortedKeys(mm) {
					setVars(rc, slots, k, mm[k])
					r := body.row(rc)
					if !keys {
						out[k] = r
						continue
					}
					nk, ok := r.(string)
					if !ok {
						return nil // a null key
					}
					out[nk] = mm[k]
				}
				return out
			}}, nil
		}}
	}
	m["transform_values"], m["transform_keys"] = transformMap(false), transformMap(true)
}
