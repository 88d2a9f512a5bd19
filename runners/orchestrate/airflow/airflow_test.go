// SPDX-License-Identifier: Apache-2.0

package airflow

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/runners/orchestrate/graph"
)

// twoTeams: team a's join reads team b's group-by output (a backfilled
// group-by) and an external table; b's group-by is online.
func twoTeams(t *testing.T) *graph.Graph {
	t.Helper()
	g := api.NewGroupBy("b.spend.v1", []*api.Source{api.EventsSource("data.purchases", api.NewQuery(api.Selects("user_id", "x"), "ts"))},
		[]string{"user_id"}, api.Sum("x", api.Days(7)))
	g.MetaData.OutputNamespace, g.MetaData.Online, g.BackfillStartDate = "default", true, "2023-01-01"
	snap := api.NewGroupBy("a.snap.v1", []*api.Source{api.EntitiesSource("default.b_spend_v1", api.NewQuery(api.Selects("user_id", "x_sum_7d"), ""))}, []string{"user_id"})
	snap.MetaData.OutputNamespace = "default"
	j := api.NewJoin("a.train.v1", api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts")), api.Part(g, nil), api.Part(snap, nil))
	j.MetaData.OutputNamespace = "default"
	j.MetaData.Dependencies = []string{"data.flags/ds={{ yesterday_ds }}"}
	gr, err := graph.Build(graph.Definitions{Joins: []*api.Join{j}, GroupBys: []*api.GroupBy{g}}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return gr
}

func TestRender(t *testing.T) {
	g := twoTeams(t)
	dir := t.TempDir()
	tasks := regexp.MustCompile(`tasks\["([^"]+)"\] = BashOperator\(task_id="([^"]+)"`)
	sensors := regexp.MustCompile(`sensors\["([^"]+)"\] = BashSensor\(.*--table ([^ ]+) --ds ([^"]+)"`)
	edges := regexp.MustCompile(`(tasks|sensors)\["([^"]+)"\] >> tasks\["([^"]+)"\]`)
	tests := []struct {
		team    string
		sensors []string // table@ds template
		edges   []string // from>>to
	}{
		{"a", []string{
			"data.checkouts@{{{{ ds }}}}", "data.flags@{{{{ macros.ds_add(ds, -1) }}}}",
			"data.purchases@{{{{ macros.ds_add(ds, -1) }}}}", "default.b_spend_v1@{{{{ macros.ds_add(ds, -1) }}}}",
		}, []string{
			"wait__data.checkouts__ds>>backfill:a.train.v1",
			"wait__data.flags__macros.ds_add_ds_-1>>backfill:a.train.v1",
			"wait__data.purchases__macros.ds_add_ds_-1>>backfill:a.train.v1",
			"wait__default.b_spend_v1__macros.ds_add_ds_-1>>backfill:a.train.v1",
		}},
		{"b", []string{"data.purchases@{{{{ ds }}}}"}, []string{
			"upload:b.spend.v1>>kv-retention:b.spend.v1",
			"wait__data.purchases__ds>>groupby-backfill:b.spend.v1",
			"wait__data.purchases__ds>>upload:b.spend.v1",
		}},
	}
	for _, tc := range tests {
		src := string(Render(g, tc.team, Options{Command: "chronon --config /etc/chronon.yaml"}))
		var gotTasks []string
		for _, m := range tasks.FindAllStringSubmatch(src, -1) {
			gotTasks = append(gotTasks, m[1])
			if m[2] != TaskID(m[1]) {
				t.Errorf("task %s has task_id %s", m[1], m[2])
			}
		}
		var wantTasks []string
		for _, n := range g.Nodes {
			if n.Team == tc.team {
				wantTasks = append(wantTasks, n.ID)
			}
		}
		if !slices.Equal(gotTasks, wantTasks) {
			t.Errorf("team %s: tasks %v, want one per step %v", tc.team, gotTasks, wantTasks)
		}
		var gotSensors []string
		for _, m := range sensors.FindAllStringSubmatch(src, -1) {
			gotSensors = append(gotSensors, m[2]+"@"+m[3])
		}
		slices.Sort(gotSensors)
		if !slices.Equal(gotSensors, tc.sensors) {
			t.Errorf("team %s: sensors %v, want %v", tc.team, gotSensors, tc.sensors)
		}
		var gotEdges []string
		for _, m := range edges.FindAllStringSubmatch(src, -1) {
			gotEdges = append(gotEdges, m[2]+">>"+m[3])
		}
		slices.Sort(gotEdges)
		if !slices.Equal(gotEdges, tc.edges) {
			t.Errorf("team %s: edges %v, want %v", tc.team, gotEdges, tc.edges)
		}
		if !strings.Contains(src, `CHRONON = "chronon --config /etc/chronon.yaml"`) || !strings.Contains(src, `--ds {{{{ ds }}}} --step backfill`) && tc.team == "a" {
			t.Errorf("team %s: command lines:\n%s", tc.team, src)
		}
		if err := os.WriteFile(filepath.Join(dir, FileName(tc.team)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The files are valid Python.
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Log("python3 not found: the DAG files' syntax is not checked")
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.py"))
	out, err := exec.Command(py, append([]string{"-m", "py_compile"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("py_compile: %v\n%s", err, out)
	}
	// The commands' f-strings render the Jinja templates Airflow expands.
	script := `import ast, sys
for node in ast.walk(ast.parse(open(sys.argv[1]).read())):
    if isinstance(node, ast.JoinedStr):
        cmd = eval(compile(ast.Expression(node), "dag", "eval"), {"CHRONON": "chronon"})
        assert "{{ ds }}" in cmd or "{{ macros.ds_add(ds, -1) }}" in cmd, cmd
        print(cmd)
`
	for _, f := range files {
		if out, err := exec.Command(py, "-c", script, f).CombinedOutput(); err != nil {
			t.Fatalf("%s: commands: %v\n%s", f, err, out)
		}
	}
}
