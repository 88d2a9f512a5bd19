// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

var (
	repoOnce sync.Once
	repo     *api.Repo
	repoErr  error
)

// quickstart compiles the quickstart definitions once.
func quickstart(t *testing.T) *api.Repo {
	t.Helper()
	repoOnce.Do(func() { repo, repoErr = api.CompileRepo(os.DirFS("../../examples/quickstart")) })
	if repoErr != nil {
		t.Fatalf("compile quickstart: %v", repoErr)
	}
	return repo
}

func field(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

var (
	str = arrow.BinaryTypes.String
	i64 = arrow.PrimitiveTypes.Int64
	f64 = arrow.PrimitiveTypes.Float64
)

// quickstartSchemas are the quickstart tables' data schemas, as `chronon
// import` loads them (ts and *_price/*_amt long, the rest strings).
func quickstartSchemas() map[string]*arrow.Schema {
	return map[string]*arrow.Schema{
		"data.purchases": arrow.NewSchema([]arrow.Field{field("ts", i64), field("purchase_id", str), field("user_id", str),
			field("product_id", str), field("purchase_price", i64)}, nil),
		"data.returns": arrow.NewSchema([]arrow.Field{field("ts", i64), field("return_id", str), field("user_id", str),
			field("product_id", str), field("refund_amt", i64)}, nil),
		"data.checkouts": arrow.NewSchema([]arrow.Field{field("ts", i64), field("return_id", str), field("user_id", str),
			field("product_id", str), field("refund_amt", i64)}, nil),
		"data.users": arrow.NewSchema([]arrow.Field{field("user_id", str), field("account_created_ds", str),
			field("email_verified", str)}, nil),
	}
}

// fakeWarehouse is an in-memory catalog of tables.
type fakeWarehouse map[string]*warehouse.TableInfo

// add registers table with schema and partitions (each "a..b" is a range).
func (w fakeWarehouse) add(t *testing.T, table string, schema *arrow.Schema, hash string, partitions ...string) {
	t.Helper()
	info := &warehouse.TableInfo{Name: table, Schema: schema, SemanticHash: hash}
	for _, p := range expand(t, partitions...) {
		info.Partitions = append(info.Partitions, warehouse.Partition{DS: p})
	}
	w[table] = info
}

func (w fakeWarehouse) describe(table string) (*warehouse.TableInfo, error) {
	if info, ok := w[table]; ok {
		return info, nil
	}
	return nil, warehouse.ErrTableNotFound
}

// expand turns "2023-11-01..2023-11-03" and single days into a day list.
func expand(t *testing.T, specs ...string) []string {
	t.Helper()
	var out []string
	for _, s := range specs {
		from, to, ok := strings.Cut(s, "..")
		if !ok {
			out = append(out, s)
			continue
		}
		days, err := batch.DSRange(from, to)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, days...)
	}
	return out
}

// quickstartWarehouse holds the quickstart source tables: purchases and
// returns 2023-11-01..2023-11-30, users on 2023-11-29, checkouts on
// 2023-11-30 (Chronon's sample data).
func quickstartWarehouse(t *testing.T) fakeWarehouse {
	w := fakeWarehouse{}
	s := quickstartSchemas()
	w.add(t, "data.purchases", s["data.purchases"], "", "2023-11-01..2023-11-30")
	w.add(t, "data.returns", s["data.returns"], "", "2023-11-01..2023-11-30")
	w.add(t, "data.users", s["data.users"], "", "2023-11-29")
	w.add(t, "data.checkouts", s["data.checkouts"], "", "2023-11-30")
	return w
}
