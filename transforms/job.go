// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
)

// Job describes one backfill pipeline. It travels to workers as JSON inside
// every DoFn (Beam serializes DoFn fields), so workers need nothing but the
// warehouse it names.
type Job struct {
	// Warehouse is the warehouse root the workers read (and Scratch sits in).
	Warehouse string `json:"warehouse"`
	// Scratch is the root (a local path or gs:// URI, next to the
	// warehouse) workers write finished partitions to, as Arrow IPC files
	// under ScratchDir(part)/ds=YYYY-MM-DD/; the launcher commits them.
	Scratch string `json:"scratch"`
	// Kind is api.KindJoin or api.KindGroupBy.
	Kind api.Kind `json:"kind"`
	// Definition is the compiled Chronon JSON of the Join or GroupBy.
	Definition string `json:"definition"`
	// WindowTail is "exact" or "hop".
	WindowTail string `json:"windowTail"`
	// Shards is the number of key shards.
	Shards int `json:"shards"`
	// Days are the output partitions to compute.
	Days []string `json:"days"`
	// UploadDS is the day an upload job uploads (Kind KindUpload).
	UploadDS string `json:"uploadDs,omitempty"`
	// PartDays are, per join part, the days of Days the part is computed
	// for; on the other days its values are read back from its table.
	PartDays [][]string `json:"partDays,omitempty"`
}

// computes reports whether join part p is computed (not read from its
// table) for day ds.
func (j *Job) computes(p int, ds string) bool {
	if p >= len(j.PartDays) {
		return true
	}
	return slices.Contains(j.PartDays[p], ds)
}

// KindUpload is the kind of a GroupBy's batch upload job: its output is
// the `_upload` table (key and value bytes) of one day.
const KindUpload api.Kind = "upload"

// Role says how a read task's rows enter the pipeline.
type Role string

// Read task roles.
const (
	RoleLeft      Role = "left"
	RoleEvents    Role = "events"
	RoleMutations Role = "mutations"
	// RolePartTable reads a join part's own table back.
	RolePartTable Role = "part_table"
)

// ReadTask is one partition of one table to read in one role.
type ReadTask struct {
	Table string `json:"table"`
	DS    string `json:"ds"`
	Role  Role   `json:"role"`
	// Part is the join part (0 for a GroupBy backfill), Source the
	// GroupBy's source index.
	Part   int `json:"part"`
	Source int `json:"source"`
	// Also lists more (part, source) pairs reading the same partition in
	// the same role (events, mutations): it is scanned once for all.
	Also []Reader `json:"also,omitempty"`
}

// Reader is a join part's source reading a task's partition.
type Reader struct {
	Part   int `json:"part"`
	Source int `json:"source"`
}

// Readers returns every (part, source) pair reading the task's partition.
func (t ReadTask) Readers() []Reader {
	return append([]Reader{{Part: t.Part, Source: t.Source}}, t.Also...)
}

// MergeReads folds the event and mutation tasks that read the same
// partition of the same table into one task (Also), so joins whose parts
// share a source table scan each partition once.
func MergeReads(tasks []ReadTask) []ReadTask {
	type key struct {
		table, ds string
		role      Role
	}
	at := map[key]int{}
	var out []ReadTask
	for _, t := range tasks {
		if t.Role != RoleEvents && t.Role != RoleMutations {
			out = append(out, t)
			continue
		}
		k := key{t.Table, t.DS, t.Role}
		if i, ok := at[k]; ok {
			out[i].Also = append(out[i].Also, t.Readers()...)
			continue
		}
		at[k] = len(out)
		out = append(out, t)
	}
	return out
}

// Encode returns the task as the string element the pipeline carries.
func (t ReadTask) Encode() string {
	b, _ := json.Marshal(t)
	return string(b)
}

func decodeTask(s string) (ReadTask, error) {
	var t ReadTask
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return t, fmt.Errorf("decode read task %q: %w", s, err)
	}
	return t, nil
}

// Encode returns the job as the JSON its DoFns carry.
func (j *Job) Encode() (string, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return "", fmt.Errorf("encode job: %w", err)
	}
	return string(b), nil
}

// compiled is what a worker builds from a Job once per DoFn instance.
type compiled struct {
	job    Job
	wh     warehouse.Warehouse
	join   *backfill.Join
	gb     *backfill.GroupByBackfill
	upload *backfill.Upload
	days   []int64
}

// parts returns the compiled join parts, or the GroupBy as the only part.
func (c *compiled) parts() []*backfill.Part {
	switch {
	case c.join != nil:
		return c.join.Parts
	case c.upload != nil:
		return []*backfill.Part{c.upload.Part}
	}
	return []*backfill.Part{c.gb.Part}
}

// close releases the warehouse; it is safe on a nil or half-built job.
func (c *compiled) close() {
	if c != nil && c.wh != nil {
		c.wh.Close()
	}
}

// compileJob opens the warehouse and compiles the job's definition.
func compileJob(spec string) (*compiled, error) {
	c := &compiled{}
	if err := json.Unmarshal([]byte(spec), &c.job); err != nil {
		return nil, fmt.Errorf("decode job: %w", err)
	}
	wh, err := parquet.Open(c.job.Warehouse, nil)
	if err != nil {
		return nil, err
	}
	c.wh = wh
	schemas := SchemaOf(context.Background(), wh)
	switch c.job.Kind {
	case api.KindJoin:
		var j *api.Join
		if j, err = api.ParseJoin([]byte(c.job.Definition)); err != nil {
			c.close()
			return nil, fmt.Errorf("decode join: %w", err)
		}
		if c.join, err = backfill.CompileJoin(j, schemas, c.job.WindowTail); err == nil {
			err = c.join.CompileBootstrap(TablesOf(context.Background(), wh))
		}
	case api.KindGroupBy:
		var g *api.GroupBy
		if g, err = api.ParseGroupBy([]byte(c.job.Definition)); err != nil {
			c.close()
			return nil, fmt.Errorf("decode group by: %w", err)
		}
		c.gb, err = backfill.CompileGroupByBackfill(g, schemas, c.job.WindowTail)
	case KindUpload:
		var g *api.GroupBy
		if g, err = api.ParseGroupBy([]byte(c.job.Definition)); err != nil {
			c.close()
			return nil, fmt.Errorf("decode group by: %w", err)
		}
		c.upload, err = backfill.CompileUpload(g, schemas, c.job.WindowTail, c.job.UploadDS)
	default:
		err = fmt.Errorf("unknown job kind %q", c.job.Kind)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	for _, ds := range c.job.Days {
		d, err := backfill.DayOf(ds)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("job day %q: %w", ds, err)
		}
		c.days = append(c.days, d)
	}
	return c, nil
}

// SchemaOf looks up table schemas in a warehouse, caching them.
func SchemaOf(ctx context.Context, wh warehouse.Warehouse) backfill.SchemaFunc {
	type entry struct {
		schema *arrow.Schema
		err    error
	}
	var mu sync.Mutex
	cache := map[string]entry{}
	return func(table string) (*arrow.Schema, error) {
		mu.Lock()
		defer mu.Unlock()
		if e, ok := cache[table]; ok {
			return e.schema, e.err
		}
		var e entry
		info, err := wh.Describe(ctx, table)
		if err != nil {
			e.err = err
		} else {
			e.schema = info.Schema
		}
		cache[table] = e
		return e.schema, e.err
	}
}
