// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"reflect"
	"testing"
)

func TestMergeReads(t *testing.T) {
	tasks := []ReadTask{
		{Table: "d.l", DS: "2024-01-01", Role: RoleLeft},
		{Table: "d.e", DS: "2024-01-01", Role: RoleEvents, Part: 0},
		{Table: "d.e", DS: "2024-01-02", Role: RoleEvents, Part: 0},
		{Table: "d.e", DS: "2024-01-01", Role: RoleEvents, Part: 1, Source: 1},
		{Table: "d.e", DS: "2024-01-01", Role: RoleMutations, Part: 2},
		{Table: "d.p", DS: "2024-01-01", Role: RolePartTable, Part: 3},
		{Table: "d.p", DS: "2024-01-01", Role: RolePartTable, Part: 3},
	}
	got := MergeReads(tasks)
	want := []ReadTask{
		tasks[0],
		{Table: "d.e", DS: "2024-01-01", Role: RoleEvents, Part: 0, Also: []Reader{{Part: 1, Source: 1}}},
		tasks[2],
		tasks[4],
		tasks[5], tasks[6],
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeReads:\n got %+v\nwant %+v", got, want)
	}
	if r := got[1].Readers(); len(r) != 2 || r[1] != (Reader{Part: 1, Source: 1}) {
		t.Errorf("Readers = %+v", r)
	}
}
