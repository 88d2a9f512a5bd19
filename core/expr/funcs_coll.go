// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

func registerCollection(m map[string]*builtin) {
	size := &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		switch args[0].dtype().ID() {
		case arrow.LIST:
			return strictFn(c, tI32, args, func(a []any) any { return int32(len(a[0].([]any))) }), nil
		case arrow.MAP:
			return strictFn(c, tI32, args, func(a []any) any { return int32(len(a[0].(map[string]any))) }), nil
		case arrow.NULL:
			return nullLit(tI32), nil
		}
		return nil, c.errf(argPos(n, 0), "%s needs an array or a map, not %s", n.Name, typeName(args[0].dtype()))
	}}
	m["size"], m["cardinality"] = size, size
	m["element_at"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		switch t := args[0].dtype(); t.ID() {
		case arrow.LIST:
			if !isIntegral(args[1].dtype()) && !isNull(args[1].dtype()) {
				return nil, c.errf(argPos(n, 1), "element_at index must be an integer, not %s", typeName(args[1].dtype()))
			}
			idx := c.castTo(args[1], tI32)
			return strictFn(c, listElem(t), []cnode{args[0], idx}, func(a []any) any {
				l, i := a[0].([]any), int(a[1].(int32))
				switch {
				case i > 0 && i <= len(l):
					return l[i-1]
				case i < 0 && -i <= len(l):
					return l[len(l)+i]
				}
				return nil
			}), nil
		case arrow.MAP:
			key, err := c.coerceArg(n, args, 1, tStr)
			if err != nil {
				return nil, err
			}
			return strictFn(c, mapItem(t), []cnode{args[0], key}, func(a []any) any { return a[0].(map[string]any)[a[1].(string)] }), nil
		case arrow.NULL:
			return nullLit(tNull), nil
		}
		return nil, c.errf(argPos(n, 0), "element_at needs an array or a map, not %s", typeName(args[0].dtype()))
	}}
	// functions of an array and a value of its element type; ret gives the
	// result type from the element type
	search := func(ret func(elem arrow.DataType) arrow.DataType, f func(l []any, x any, cmpf func(a, b any) int) any) *builtin {
		return &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			arr, v, t, err := c.arrayAndElem(n, args)
			if err != nil {
				return nil, err
			}
			cmpf := comparator(t)
			return strictFn(c, ret(t), []cnode{arr, v}, func(a []any) any { return f(a[0].([]any), a[1], cmpf) }), nil
		}}
	}
	always := func(t arrow.DataType) func(arrow.DataType) arrow.DataType {
		return func(arrow.DataType) arrow.DataType { return t }
	}
	m["array_contains"] = search(always(tBool), func(l []any, x any, cmpf func(a, b any) int) any {
		sawNull := false
		for _, e := range l {
			if e == nil {
				sawNull = true
			} else if cmpf(e, x) == 0 {
				return true
			}
		}
		if sawNull {
			return nil
		}
		return false
	})
	m["array_position"] = search(always(tI64), func(l []any, x any, cmpf func(a, b any) int) any {
		for i, e := range l {
			if e != nil && cmpf(e, x) == 0 {
				return int64(i + 1)
			}
		}
		return int64(0)
	})
	m["array_remove"] = search(listOf, func(l []any, x any, cmpf func(a, b any) int) any {
		out := []any{}
		for _, e := range l {
			if e == nil || cmpf(e, x) != 0 {
				out = append(out, e)
			}
		}
		return out
	})
	mapPart := func(keys bool) *builtin {
		return &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			t := args[0].dtype()
			if t.ID() != arrow.MAP {
				return nil, c.errf(argPos(n, 0), "%s needs a map, not %s", n.Name, typeName(t))
			}
			rt := listOf(tStr)
			if !keys {
				rt = listOf(mapItem(t))
			}
			return strictFn(c, rt, args, func(a []any) any {
				mm := a[0].(map[string]any)
				ks := sortedKeys(mm)
				out := make([]any, len(ks))
				for i, k := range ks {
					if keys {
						out[i] = k
					} else {
						out[i] = mm[k]
					}
				}
				return out
			}), nil
		}}
	}
	m["map_keys"], m["map_values"] = mapPart(true), mapPart(false)
	m["array"] = &builtin{min: 0, max: -1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		args, t, err := c.unify(n, args, true)
		if err != nil {
			return nil, err
		}
		return lenientFn(c, listOf(t), args, func(a []any) any { return append([]any{}, a...) }), nil
	}}
	m["map"] = &builtin{min: 0, max: -1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if len(args)%2 != 0 {
			return nil, c.errf(n.P, "map takes an even number of arguments (key, value, …), got %d", len(args))
		}
		var keys, vals []cnode
		for i := 0; i < len(args); i += 2 {
			k, err := c.coerceArg(n, args, i, tStr)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
			vals = append(vals, args[i+1])
		}
		vals, vt, err := c.unify(n, vals, true)
		if err != nil {
			return nil, err
		}
		all := make([]cnode, 0, len(args))
		for i := range keys {
			all = append(all, keys[i], vals[i])
		}
		return lenientFn(c, mapOf(vt), all, func(a []any) any {
			out := make(map[string]any, len(a)/2)
			for i := 0; i < len(a); i += 2 {
				k, ok := a[i].(string)
				if !ok {
					return nil // a null key
				}
				out[k] = a[i+1]
			}
			return out
		}), nil
	}}
	m["named_struct"] = &builtin{min: 2, max: -1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if len(args)%2 != 0 {
			return nil, c.errf(n.P, "named_struct takes an even number of arguments (name, value, …), got %d", len(args))
		}
		var names []string
		var vals []cnode
		for i := 0; i < len(args); i += 2 {
			v, ok := litValue(args[i])
			s, isStr := v.(string)
			if !ok || !isStr {
				return nil, c.errf(argPos(n, i), "named_struct field names must be string literals")
			}
			names = append(names, s)
			vals = append(vals, args[i+1])
		}
		return c.makeStruct(names, vals), nil
	}}
	m["struct"] = &builtin{min: 1, max: -1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		names := make([]string, len(args))
		for i := range args {
			names[i] = fmt.Sprintf("col%d", i+1)
			switch a := n.Args[i].(type) {
			case *Ident:
				names[i] = a.Name
				if col, ok := args[i].(*colNode); ok {
					names[i] = c.u.cols[col.slot].name
				}
			case *Field:
				names[i] = a.Name
			}
		}
		return c.makeStruct(names, args), nil
	}}
	m["sort_array"] = &builtin{min: 1, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		asc := true
		if len(args) == 2 {
			v, ok := litValue(args[1])
			b, isBool := v.(bool)
			if !ok || !isBool {
				return nil, c.errf(argPos(n, 1), "the second argument of sort_array must be a boolean literal")
			}
			asc = b
		}
		return c.arrayFn(n, args[:1], func(t arrow.DataType) (arrow.DataType, func(l []any) any) {
			cmpf := comparator(t)
			return listOf(t), func(l []any) any { return sortList(l, cmpf, asc, asc) }
		})
	}}
	m["array_sort"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return c.arrayFn(n, args, func(t arrow.DataType) (arrow.DataType, func(l []any) any) {
			cmpf := comparator(t)
			return listOf(t), func(l []any) any { return sortList(l, cmpf, true, false) }
		})
	}}
	ext := func(max bool) *builtin {
		return &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
			return c.arrayFn(n, args, func(t arrow.DataType) (arrow.DataType, func(l []any) any) {
				cmpf := comparator(t)
				return t, func(l []any) any {
					var best any
					for _, e := range l {
						if e != nil && (best == nil || (max && cmpf(e, best) > 0) || (!max && cmpf(e, best) < 0)) {
							best = e
						}
					}
					return best
				}
			})
		}}
	}
	m["array_max"], m["array_min"] = ext(true), ext(false)
	m["array_distinct"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		return c.arrayFn(n, args, func(t arrow.DataType) (arrow.DataType, func(l []any) any) {
			cmpf := comparator(t)
			return listOf(t), func(l []any) any {
				out := []any{}
				sawNull := false
			next:
				for _, e := range l {
					if e == nil {
						if !sawNull {
							out = append(out, nil)
							sawNull = true
						}
						continue
					}
					for _, o := range out {
						if o != nil && cmpf(o, e) == 0 {
							continue next
						}
					}
					out = append(out, e)
				}
				return out
			}
		})
	}}
	m["array_join"] = &builtin{min: 2, max: 3, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		if !implicit(args[0].dtype(), tStrArr) {
			return nil, c.errf(argPos(n, 0), "argument 1 of array_join must be an array, not %s", typeName(args[0].dtype()))
		}
		args[0] = c.castTo(args[0], tStrArr)
		for i := 1; i < len(args); i++ {
			var err error
			if args[i], err = c.coerceArg(n, args, i, tStr); err != nil {
				return nil, err
			}
		}
		return strictFn(c, tStr, args, func(a []any) any {
			sep := a[1].(string)
			var parts []string
			for _, e := range a[0].([]any) {
				switch {
				case e != nil:
					parts = append(parts, e.(string))
				case len(a) == 3:
					parts = append(parts, a[2].(string))
				}
			}
			return strings.Join(parts, sep)
		}), nil
	}}
	m["slice"] = &builtin{min: 3, max: 3, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		t := args[0].dtype()
		if t.ID() != arrow.LIST {
			return nil, c.errf(argPos(n, 0), "slice needs an array, not %s", typeName(t))
		}
		for i := 1; i < 3; i++ {
			var err error
			if args[i], err = c.coerceArg(n, args, i, tI32); err != nil {
				return nil, err
			}
		}
		return strictFn(c, t, args, func(a []any) any {
			l, start, ln := a[0].([]any), int(a[1].(int32)), int(a[2].(int32))
			if start == 0 || ln < 0 {
				return nil
			}
			s := start - 1
			if start < 0 {
				s = len(l) + start
			}
			if s < 0 || s >= len(l) {
				return []any{}
			}
			e := min(s+ln, len(l))
			return append([]any{}, l[s:e]...)
		}), nil
	}}
	m["flatten"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		t := args[0].dtype()
		if t.ID() != arrow.LIST || listElem(t).ID() != arrow.LIST {
			return nil, c.errf(argPos(n, 0), "flatten needs an array of arrays, not %s", typeName(t))
		}
		return strictFn(c, listElem(t), args, func(a []any) any {
			out := []any{}
			for _, e := range a[0].([]any) {
				if e == nil {
					return nil
				}
				out = append(out, e.([]any)...)
			}
			return out
		}), nil
	}}
	m["array_repeat"] = &builtin{min: 2, max: 2, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		cnt, err := c.coerceArg(n, args, 1, tI32)
		if err != nil {
			return nil, err
		}
		return lenientFn(c, listOf(args[0].dtype()), []cnode{args[0], cnt}, func(a []any) any {
			if a[1] == nil {
				return nil
			}
			k := int(a[1].(int32))
			if k > maxStringBytes/16 {
				return nil
			}
			out := make([]any, max(k, 0))
			for i := range out {
				out[i] = a[0]
			}
			return out
		}), nil
	}}
	m["array_mean"] = &builtin{min: 1, max: 1, build: func(c *compiler, n *Call, args []cnode) (cnode, error) {
		t := args[0].dtype()
		if isNull(t) {
			return nullLit(tF64), nil
		}
		if t.ID() != arrow.LIST || !(isNumeric(listElem(t)) || isNull(listElem(t))) {
			return nil, c.errf(argPos(n, 0), "array_mean needs an array of numbers, not %s", typeName(t))
		}
		return strictFn(c, tF64, args, func(a []any) any {
			sum, cnt := 0.0, 0
			for _, e := range a[0].([]any) {
				if e != nil {
					sum += toF64(e)
					cnt++
				}
			}
			if cnt == 0 {
				return nil
			}
			return sum / float64(cnt)
		}), nil
	}}
	registerHOF(m)
}

// arrayAndElem unifies an array argument with an element argument.
func (c *compiler) arrayAndElem(n *Call, args []cnode) (arr, v cnode, elemT arrow.DataType, err error) {
	t := args[0].dtype()
	if isNull(t) {
		t = listOf(tNull)
	}
	if t.ID() != arrow.LIST {
		return nil, nil, nil, c.errf(argPos(n, 0), "%s needs an array, not %s", n.Name, typeName(t))
	}
	et, ok := commonType(listElem(t), args[1].dtype(), false)
	if !ok {
		return nil, nil, nil, c.errf(argPos(n, 1), "type mismatch: %s of %s and %s", n.Name, typeName(t), typeName(args[1].dtype()))
	}
	return c.castTo(args[0], listOf(et)), c.castTo(args[1], et), et, nil
}

// arrayFn builds a strict function of one array argument.
func (c *compiler) arrayFn(n *Call, args []cnode, mk func(elem arrow.DataType) (arrow.DataType, func([]any) any)) (cnode, error) {
	t := args[0].dtype()
	if isNull(t) {
		return nullLit(tNull), nil
	}
	if t.ID() != arrow.LIST {
		return nil, c.errf(argPos(n, 0), "%s needs an array, not %s", n.Name, typeName(t))
	}
	if !orderable(listElem(t)) {
		return nil, c.errf(argPos(n, 0), "%s cannot order values of type %s", n.Name, typeName(listElem(t)))
	}
	rt, f := mk(listElem(t))
	return strictFn(c, rt, args[:1], func(a []any) any { return f(a[0].([]any)) }), nil
}

// sortList sorts a copy of l; nulls go first when nullsFirst is set.
func sortList(l []any, cmpf func(a, b any) int, asc, nullsFirstOrder bool) []any {
	out := append([]any{}, l...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a == nil && b == nil:
			return false
		case a == nil:
			return nullsFirstOrder
		case b == nil:
			return !nullsFirstOrder
		}
		if asc {
			return cmpf(a, b) < 0
		}
		return cmpf(a, b) > 0
	})
	return out
}

func (c *compiler) makeStruct(names []string, vals []cnode) cnode {
	fs := make([]arrow.Field, len(names))
	for i, name := range names {
		fs[i] = arrow.Field{Name: name, Type: vals[i].dtype(), Nullable: true}
	}
	return lenientFn(c, arrow.StructOf(fs...), vals, func(a []any) any {
		out := make(map[string]any, len(names))
		for i, name := range names {
			out[name] = a[i]
		}
		return out
	})
}

// ---- struct fields and subscripts ----

func structField(st *arrow.StructType, name string) (arrow.Field, bool) {
	for i := 0; i < st.NumFields(); i++ {
		if st.Field(i).Name == name {
			return st.Field(i), true
		}
	}
	var found []arrow.Field
	for i := 0; i < st.NumFields(); i++ {
		if strings.EqualFold(st.Field(i).Name, name) {
			found = append(found, st.Field(i))
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return arrow.Field{}, false
}

func (c *compiler) field(n *Field) (cnode, error) {
	x, err := c.compile(n.X)
	if err != nil {
		return nil, err
	}
	t := x.dtype()
	switch {
	case t.ID() == arrow.STRUCT:
		f, ok := structField(t.(*arrow.StructType), n.Name)
		if !ok {
			return nil, c.errf(n.P, "no field %q in %s", n.Name, typeName(t))
		}
		name := f.Name
		return strictFn(c, f.Type, []cnode{x}, func(a []any) any { return a[0].(map[string]any)[name] }), nil
	case t.ID() == arrow.LIST && listElem(t).ID() == arrow.STRUCT:
		f, ok := structField(listElem(t).(*arrow.StructType), n.Name)
		if !ok {
			return nil, c.errf(n.P, "no field %q in %s", n.Name, typeName(listElem(t)))
		}
		name := f.Name
		return strictFn(c, listOf(f.Type), []cnode{x}, func(a []any) any {
			l := a[0].([]any)
			out := make([]any, len(l))
			for i, e := range l {
				if e != nil {
					out[i] = e.(map[string]any)[name]
				}
			}
			return out
		}), nil
	case t.ID() == arrow.MAP:
		key := n.Name
		return strictFn(c, mapItem(t), []cnode{x}, func(a []any) any { return a[0].(map[string]any)[key] }), nil
	case isNull(t):
		return nullLit(tNull), nil
	}
	return nil, c.errf(n.P, "cannot access field %q of %s", n.Name, typeName(t))
}

func (c *compiler) index(n *Index) (cnode, error) {
	x, idx, err := c.compilePair(n.X, n.Index)
	if err != nil {
		return nil, err
	}
	t := x.dtype()
	switch t.ID() {
	case arrow.LIST:
		if !isIntegral(idx.dtype()) && !isNull(idx.dtype()) {
			return nil, c.errf(n.Index.Pos(), "array index must be an integer, not %s", typeName(idx.dtype()))
		}
		idx = c.castTo(idx, tI32)
		return strictFn(c, listElem(t), []cnode{x, idx}, func(a []any) any {
			l, i := a[0].([]any), int(a[1].(int32))
			if i < 0 || i >= len(l) {
				return nil
			}
			return l[i]
		}), nil
	case arrow.MAP:
		if idx, err = c.coerce(idx, tStr, "[]", 1, n.Index.Pos()); err != nil {
			return nil, err
		}
		return strictFn(c, mapItem(t), []cnode{x, idx}, func(a []any) any { return a[0].(map[string]any)[a[1].(string)] }), nil
	case arrow.STRUCT:
		if v, ok := litValue(idx); ok {
			if s, ok := v.(string); ok {
				return c.field(&Field{P: n.P, X: n.X, Name: s})
			}
		}
		return nil, c.errf(n.Index.Pos(), "a struct field name must be a string literal")
	case arrow.NULL:
		return nullLit(tNull), nil
	}
	return nil, c.errf(n.P, "cannot subscript %s", typeName(t))
}
