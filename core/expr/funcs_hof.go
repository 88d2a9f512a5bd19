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

// collKind is the kind of the collection arguments of a higher-order
// function: arrays or maps.
type collKind struct {
	id   arrow.Type
	what string         // "an array" or "a map", for errors
	null arrow.DataType // the type a null argument takes
	key  arrow.DataType // the lambda parameter before the elements (the map key), or nil
	elem func(arrow.DataType) arrow.DataType
}

var (
	arrayColl = collKind{id: arrow.LIST, what: "an array", null: listOf(tNull), elem: listElem}
	mapColl   = collKind{id: arrow.MAP, what: "a map", null: mapOf(tNull), key: tStr, elem: mapItem}
)

// collArg compiles argument i as a collection of kind k (null becomes an
// array or map of null). It returns the node and the element type (the
// value type of a map).
func (c *compiler) collArg(n *Call, i int, k collKind) (cnode, arrow.DataType, error) {
	x, err := c.compile(n.Args[i])
	if err != nil {
		return nil, nil, err
	}
	t := x.dtype()
	if isNull(t) {
		t = k.null
		x = nullLit(t)
	}
	if t.ID() != k.id {
		return nil, nil, c.errf(argPos(n, i), "argument %d of %s must be %s, not %s", i+1, n.Name, k.what, typeName(t))
	}
	return x, k.elem(t), nil
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

// hofSpec describes a higher-order function whose arguments are colls
// collections of one kind and then a lambda. The lambda's parameters are
// the kind's key (for maps), the collections' elements and, with index,
// the element's int32 index, which it may leave out.
type hofSpec struct {
	kind  collKind
	colls int
	index bool
	pred  bool // the lambda must return a boolean
}

// hofEval computes a higher-order function from the values of its
// collections (y is nil when there is one); it never sees a null one.
type hofEval func(rc *rowCtx, x, y any) any

// builtin makes the function s describes. mk receives the element types of
// the collections (the value types of maps) and the compiled lambda, and
// returns the result type and the row function.
func (s hofSpec) builtin(mk func(c *compiler, n *Call, elems []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error)) *builtin {
	return &builtin{min: s.colls + 1, max: s.colls + 1, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		colls := make([]cnode, 2) // the second stays nil for one collection
		elems := make([]arrow.DataType, s.colls)
		var params []arrow.DataType
		if s.kind.key != nil {
			params = append(params, s.kind.key)
		}
		for i := range elems {
			var err error
			if colls[i], elems[i], err = c.collArg(n, i, s.kind); err != nil {
				return nil, err
			}
			params = append(params, elems[i])
		}
		minParams := len(params)
		if s.index {
			params = append(params, tI32)
		}
		body, slots, err := c.lambda(n, s.colls, minParams, params...)
		if err != nil {
			return nil, err
		}
		if s.pred {
			if body, err = c.boolBody(n, body); err != nil {
				return nil, err
			}
		}
		t, eval, err := mk(c, n, elems, body, slots)
		if err != nil {
			return nil, err
		}
		return collRow(t, c.refsSince(start), colls[0], colls[1], eval), nil
	}}
}

// collRow is a row node of type t over the collections x and y (y may be
// nil): null when one of them is null, else eval of their values. Both are
// evaluated before either is tested.
func collRow(t arrow.DataType, refs []int, x, y cnode, eval hofEval) cnode {
	return &rowNode{t: t, refs: refs, eval: func(rc *rowCtx) any {
		v := x.row(rc)
		var w any
		if y != nil {
			if w = y.row(rc); w == nil {
				return nil
			}
		}
		if v == nil {
			return nil
		}
		return eval(rc, v, w)
	}}
}

func registerHOF(m map[string]*builtin) {
	arrays := func(index, pred bool) hofSpec {
		return hofSpec{kind: arrayColl, colls: 1, index: index, pred: pred}
	}
	m["transform"] = arrays(true, false).builtin(func(_ *compiler, _ *Call, _ []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error) {
		return listOf(body.dtype()), func(rc *rowCtx, v, _ any) any {
			l := v.([]any)
			out := make([]any, len(l))
			for i, e := range l {
				setVars(rc, slots, e, int32(i))
				out[i] = body.row(rc)
			}
			return out
		}, nil
	})
	m["filter"] = arrays(true, true).builtin(func(_ *compiler, _ *Call, elems []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error) {
		return listOf(elems[0]), func(rc *rowCtx, v, _ any) any {
			out := []any{}
			for i, e := range v.([]any) {
				setVars(rc, slots, e, int32(i))
				if body.row(rc) == true {
					out = append(out, e)
				}
			}
			return out
		}, nil
	})
	quantifier := func(exists bool) *builtin {
		return arrays(false, true).builtin(func(_ *compiler, _ *Call, _ []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error) {
			return tBool, func(rc *rowCtx, v, _ any) any {
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
			}, nil
		})
	}
	m["exists"], m["forall"] = quantifier(true), quantifier(false)
	m["aggregate"] = &builtin{min: 3, max: 4, hof: func(c *compiler, n *Call) (cnode, error) {
		start := len(c.refLog)
		arr, et, err := c.collArg(n, 0, arrayColl)
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
		return collRow(rt, c.refsSince(start), arr, nil, func(rc *rowCtx, v, _ any) any {
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
		}), nil
	}}
	m["reduce"] = m["aggregate"]
	m["zip_with"] = hofSpec{kind: arrayColl, colls: 2}.builtin(func(_ *compiler, _ *Call, _ []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error) {
		return listOf(body.dtype()), func(rc *rowCtx, v1, v2 any) any {
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
		}, nil
	})
	m["map_filter"] = hofSpec{kind: mapColl, colls: 1, pred: true}.builtin(func(_ *compiler, _ *Call, elems []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error) {
		return mapOf(elems[0]), func(rc *rowCtx, v, _ any) any {
			mm := v.(map[string]any)
			out := make(map[string]any, len(mm))
			for _, k := range sortedKeys(mm) {
				setVars(rc, slots, k, mm[k])
				if body.row(rc) == true {
					out[k] = mm[k]
				}
			}
			return out
		}, nil
	})
	m["map_zip_with"] = hofSpec{kind: mapColl, colls: 2}.builtin(func(_ *compiler, _ *Call, _ []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error) {
		return mapOf(body.dtype()), func(rc *rowCtx, v1, v2 any) any {
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
		}, nil
	})
	transformMap := func(keys bool) *builtin {
		return hofSpec{kind: mapColl, colls: 1}.builtin(func(c *compiler, n *Call, elems []arrow.DataType, body cnode, slots []int) (arrow.DataType, hofEval, error) {
			rt := mapOf(body.dtype())
			if keys {
				if !implicit(body.dtype(), tStr) {
					return nil, nil, c.errf(n.P, "the lambda of %s must return a string key, not %s", n.Name, typeName(body.dtype()))
				}
				body = c.castTo(body, tStr)
				rt = mapOf(elems[0])
			}
			return rt, func(rc *rowCtx, v, _ any) any {
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
			}, nil
		})
	}
	m["transform_values"], m["transform_keys"] = transformMap(false), transformMap(true)
}
