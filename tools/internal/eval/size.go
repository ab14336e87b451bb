package eval

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// Size is what one task asks of the server, counted from the pinned data
// with the task's limit and subjects: the documents scored, the requests
// lm-eval sends for them (one per choice for a multiple-choice task, one
// generation otherwise), and the characters of those requests' prompts,
// few-shot examples included, from which forge plan --estimate derives
// tokens. GenerateTokens is the most a generation request may produce.
type Size struct {
	Task           string
	Docs           int
	Requests       int
	PromptChars    int64
	GenerateTokens int // per generation request (GSM8K: lm-eval's max_gen_toks)
}

// gsm8kMaxGenToks is lm-eval's gsm8k generation limit (tasks/gsm8k/gsm8k.yaml).
const gsm8kMaxGenToks = 256

// TaskSize counts one task of a plan over its resolved data.
func TaskSize(t plan.Task, resolve Resolver) (Size, error) {
	files, err := taskFiles(t, resolve)
	if err != nil {
		return Size{}, err
	}
	limit := -1
	if t.Limit != nil {
		limit = *t.Limit
	}
	s := Size{Task: t.Name}
	switch t.Name {
	case "mmlu":
		subjects := t.Subjects
		if len(subjects) == 0 {
			subjects = experiment.MMLUSubjects
		}
		for _, sub := range subjects {
			test, err := csvRowChars(filepath.Join(files["test"], "test", sub+"_test.csv"), limit)
			if err != nil {
				return Size{}, err
			}
			dev, err := csvRowChars(filepath.Join(files["test"], "dev", sub+"_dev.csv"), t.Shots)
			if err != nil {
				return Size{}, err
			}
			shots := sum(dev)
			for _, c := range test {
				s.Docs++
				s.Requests += 4 // one log-likelihood per answer letter
				s.PromptChars += 4 * (shots + c)
			}
		}
	case "gsm8k":
		test, err := jsonlChars(files["test"], limit)
		if err != nil {
			return Size{}, err
		}
		train, err := jsonlChars(files["fewshot"], t.Shots)
		if err != nil {
			return Size{}, err
		}
		for _, c := range test {
			s.Docs++
			s.Requests++
			s.PromptChars += sum(train) + c
		}
		s.GenerateTokens = gsm8kMaxGenToks
	case "hellaswag":
		rows, err := hellaswagChars(files["test"], -1)
		if err != nil {
			return Size{}, err
		}
		var shot int64
		if len(rows) > 0 {
			shot = sum(rows) / int64(len(rows)) * int64(t.Shots)
		}
		for i, c := range rows {
			if limit >= 0 && i >= limit {
				break
			}
			s.Docs++
			s.Requests += 4 // one log-likelihood per ending
			s.PromptChars += 4 * (shot + c)
		}
	default:
		return Size{}, fmt.Errorf("task %s: Forge does not size it (it sizes mmlu, gsm8k and hellaswag)", t.Name)
	}
	return s, nil
}

func sum(v []int64) int64 {
	var n int64
	for _, x := range v {
		n += x
	}
	return n
}

// csvRowChars is the characters of each of the first limit rows (all when
// limit < 0) of a headerless CSV.
func csvRowChars(path string, limit int) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	var out []int64
	for limit < 0 || len(out) < limit {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var n int64
		for _, f := range rec {
			n += int64(len(f))
		}
		out = append(out, n)
	}
	return out, nil
}

// jsonlChars is the question and answer characters of each of the first
// limit lines of a GSM8K JSONL file.
func jsonlChars(path string, limit int) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []int64
	for (limit < 0 || len(out) < limit) && sc.Scan() {
		var row struct{ Question, Answer string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, len(out)+1, err)
		}
		out = append(out, int64(len(row.Question)+len(row.Answer)))
	}
	return out, sc.Err()
}

// hellaswagChars is, per row of HellaSwag's Arrow file, the characters of
// what lm-eval's process_docs joins into one request: the activity label,
// both context parts and the mean ending.
func hellaswagChars(path string, limit int) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ipc.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer r.Release()
	cols := map[string]int{}
	for i, fd := range r.Schema().Fields() {
		cols[fd.Name] = i
	}
	for _, c := range []string{"activity_label", "ctx_a", "ctx_b", "endings"} {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("%s: no %s column", path, c)
		}
	}
	var out []int64
	for r.Next() {
		rec := r.RecordBatch()
		for i := 0; i < int(rec.NumRows()) && (limit < 0 || len(out) < limit); i++ {
			n := int64(0)
			for _, c := range []string{"activity_label", "ctx_a", "ctx_b"} {
				if s, ok := rec.Column(cols[c]).(*array.String); ok {
					n += int64(len(s.Value(i)))
				}
			}
			n += meanListChars(rec.Column(cols["endings"]), i)
			out = append(out, n)
		}
	}
	return out, r.Err()
}

func meanListChars(col arrow.Array, i int) int64 {
	l, ok := col.(*array.List)
	if !ok {
		return 0
	}
	vals, ok := l.ListValues().(*array.String)
	if !ok {
		return 0
	}
	start, end := l.ValueOffsets(i)
	if end <= start {
		return 0
	}
	var n int64
	for j := start; j < end; j++ {
		n += int64(len(vals.Value(int(j))))
	}
	return n / (end - start)
}
