// SPDX-License-Identifier: Apache-2.0

package stream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/transforms"
)

// mutationTable is the mutation table of mutatedGroupBy's entity source.
var mutationTable = arrow.NewSchema([]arrow.Field{
	{Name: "user", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "mutation_ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "is_before", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

func mutatedGroupBy() *api.GroupBy {
	q := api.NewQuery(api.Selects("user", "x"), "ts")
	q.MutationTimeColumn, q.ReversalColumn = "mutation_ts", "is_before"
	src := api.EntitiesSource("data.scores", q)
	src.Entities.MutationTable = "data.score_mutations"
	src.Entities.MutationTopic = "scores.mutations/fields=user,x,ts,mutation_ts,is_before"
	g := api.NewGroupBy("t.scores", []*api.Source{src}, []string{"user"}, api.Sum("x", api.Days(1)), api.CountOf("x"))
	g.Accuracy = api.Ptr(api.Temporal)
	return g
}

// TestMutationsOnDirectRunner: the Dataflow pipeline's keying and fold
// (here on the direct runner) stream an entity source's mutations; a fetch
// applies those made before it, updates adding and before-images retracting.
func TestMutationsOnDirectRunner(t *testing.T) {
	ctx := context.Background()
	g := mutatedGroupBy()
	store, kvConf, _ := sqliteStore(t, g)
	job, err := transforms.NewStreamJob(g, mutationTable, "exact", "p", kvConf)
	if err != nil {
		t.Fatal(err)
	}
	const minute = 60 * 1000
	// u1's row (x=5, created an hour before the batch end) is updated to
	// x=9 at +10m; u2's row x=4 is inserted at +20m.
	rows := []string{
		fmt.Sprintf("u1,5,%d,%d,true", batchEnd-60*minute, batchEnd+10*minute),
		fmt.Sprintf("u1,9,%d,%d,false", batchEnd+10*minute, batchEnd+10*minute),
		fmt.Sprintf("u2,4,%d,%d,false", batchEnd+20*minute, batchEnd+20*minute),
	}
	var msgs []any
	for i, r := range append(rows, rows[0]) { // the last one a redelivery
		msgs = append(msgs, &pubsubpb.PubsubMessage{MessageId: fmt.Sprint("m", i%len(rows)), Data: []byte(r),
			PublishTime: timestamppb.New(time.UnixMilli(batchEnd + 30*minute))})
	}
	foldOnDirect(t, job, msgs...)
	f := fetcher.New(store, fetcher.Options{})
	for _, tc := range []struct {
		user       string
		at         int64
		sum, count any
	}{
		// u1 had no batch row in this fixture: its before-image retracts
		// nothing, its update adds 9 once it is made.
		{"u1", batchEnd + 5*minute, nil, nil},
		{"u1", batchEnd + 11*minute, int64(9), int64(1)},
		{"u2", batchEnd + 15*minute, nil, nil},
		{"u2", batchEnd + 21*minute, int64(4), int64(1)},
	} {
		res := f.FetchGroupBy(ctx, []fetcher.Request{{Name: "t.scores", Keys: map[string]any{"user": tc.user}, AtMillis: tc.at}})[0]
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if res.Values["x_sum_1d"] != tc.sum || res.Values["x_count"] != tc.count {
			t.Errorf("%s at +%dm: %v, want sum %v count %v", tc.user, (tc.at-batchEnd)/minute, res.Values, tc.sum, tc.count)
		}
	}
	// "a" has a batch row x=100 (sqliteStore): a before-image of it
	// retracts it.
	retract := &pubsubpb.PubsubMessage{MessageId: "r1", PublishTime: timestamppb.New(time.UnixMilli(batchEnd)),
		Data: fmt.Appendf(nil, "a,100,%d,%d,true", batchEnd-10*minute, batchEnd+minute)}
	foldOnDirect(t, job, retract)
	for at, want := range map[int64]any{batchEnd + 30*1000: int64(100), batchEnd + 2*minute: nil} {
		res := f.FetchGroupBy(ctx, []fetcher.Request{{Name: "t.scores", Keys: map[string]any{"user": "a"}, AtMillis: at}})[0]
		if res.Err != nil || res.Values["x_sum_1d"] != want {
			t.Errorf("a at batch end + %dms: %v (%v), want sum %v", at-batchEnd, res.Values, res.Err, want)
		}
	}
}

// foldOnDirect keys and folds messages with the Dataflow pipeline's
// transforms on the direct runner.
func foldOnDirect(t *testing.T, job *transforms.StreamJob, msgs ...any) {
	t.Helper()
	beamrun.Init()
	p, s := beam.NewPipelineWithRoot()
	grouped, _, err := transforms.KeyStreamEvents(s, job, beam.Create(s, msgs...))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Fold(s, job, grouped); err != nil {
		t.Fatal(err)
	}
	if _, err := direct.Execute(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}
