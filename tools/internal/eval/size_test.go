package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/forge-bench/forge/tools/internal/plan"
)

// sizeData writes a tiny MMLU tree (two subjects), GSM8K test and train
// files and a HellaSwag Arrow stream, and returns a resolver over them.
func sizeData(t *testing.T) Resolver {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mmlu/test/anatomy_test.csv", "q1,a,b,c,d,A\nq22,a,b,c,d,B\n\"q,3\",a,b,c,d,C\n") // fields of 7, 8 and 8 characters
	write("mmlu/dev/anatomy_dev.csv", "d1,a,b,c,d,A\nd2,a,b,c,d,B\n")
	write("mmlu/test/virology_test.csv", "v1,a,b,c,d,A\n")
	write("mmlu/dev/virology_dev.csv", "e1,a,b,c,d,A\n")
	write("gsm8k/test.jsonl", `{"question": "q1", "answer": "a1"}`+"\n"+`{"question": "q22", "answer": "a22"}`+"\n")
	write("gsm8k/train.jsonl", `{"question": "t", "answer": "u"}`+"\n"+`{"question": "tt", "answer": "uu"}`+"\n")

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "activity_label", Type: arrow.BinaryTypes.String}, {Name: "ctx_a", Type: arrow.BinaryTypes.String},
		{Name: "ctx_b", Type: arrow.BinaryTypes.String}, {Name: "endings", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range [][]string{{"L", "ab", "c", "xx", "yyyy"}, {"M", "a", "bcd", "zz", "zz"}} { // 4+3 and 5+2 characters (context + mean ending)
		for i := 0; i < 3; i++ {
			b.Field(i).(*array.StringBuilder).Append(row[i])
		}
		lb := b.Field(3).(*array.ListBuilder)
		lb.Append(true)
		for _, e := range row[3:] {
			lb.ValueBuilder().(*array.StringBuilder).Append(e)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(filepath.Join(dir, "hellaswag.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	w := ipc.NewWriter(f, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	paths := map[string]string{"mmlu": "mmlu", "gsm8k_test": "gsm8k/test.jsonl", "gsm8k_train": "gsm8k/train.jsonl", "hellaswag_val": "hellaswag.arrow"}
	return func(d plan.Dataset) (string, error) { return filepath.Join(dir, paths[d.Name]), nil }
}

func TestTaskSize(t *testing.T) {
	resolve := sizeData(t)
	data := func(names ...string) []plan.TaskData {
		roles := []string{"test", "fewshot"}
		var out []plan.TaskData
		for i, n := range names {
			out = append(out, plan.TaskData{Role: roles[i], Dataset: plan.Dataset{Name: n}})
		}
		return out
	}
	one, two := 1, 2
	tests := []struct {
		name string
		task plan.Task
		want Size
		err  string
	}{
		// anatomy: 3 questions, 2 shots of 7 characters; virology: 1 question, its 1 shot.
		{"mmlu two subjects", plan.Task{Name: "mmlu", Shots: 5, Subjects: []string{"anatomy", "virology"}, Data: data("mmlu")},
			Size{Task: "mmlu", Docs: 4, Requests: 16, PromptChars: 4*((14+7)+(14+8)+(14+8)) + 4*(7+7)}, ""},
		{"mmlu limit and shots", plan.Task{Name: "mmlu", Shots: 1, Limit: &one, Subjects: []string{"anatomy"}, Data: data("mmlu")},
			Size{Task: "mmlu", Docs: 1, Requests: 4, PromptChars: 4 * (7 + 7)}, ""},
		{"gsm8k", plan.Task{Name: "gsm8k", Shots: 2, Data: data("gsm8k_test", "gsm8k_train")},
			Size{Task: "gsm8k", Docs: 2, Requests: 2, PromptChars: (6 + 4) + (6 + 6), GenerateTokens: 256}, ""},
		{"hellaswag limit", plan.Task{Name: "hellaswag", Shots: 2, Limit: &two, Data: data("hellaswag_val")},
			Size{Task: "hellaswag", Docs: 2, Requests: 8, PromptChars: 4*(2*7+7) + 4*(2*7+7)}, ""},
		{"missing subject file", plan.Task{Name: "mmlu", Subjects: []string{"astronomy"}, Data: data("mmlu")}, Size{}, "astronomy_test.csv"},
		{"unknown task", plan.Task{Name: "arc", Data: data("mmlu")}, Size{}, "does not size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TaskSize(tt.task, resolve)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
