// Package results reads the results/<experiment>/<run-id>/ tree that the
// pipeline stages write. Every stage reads only files earlier stages wrote,
// so checking the tree against the schemas is what lets `make charts` and
// `forge verify` trust results/ alone.
package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/forge-bench/forge/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Problem is one thing wrong with one document in a results tree.
type Problem struct {
	File    string // path as walked: root joined with the path under it
	Line    int    // 1-based line in a .jsonl file; 0 for a .json file
	Pointer string // JSON pointer into the document; "" for the whole document
	Message string
}

// String renders the problem as "file:line: pointer: message", the shape
// editors and CI annotate from. The line is omitted when 0 and the pointer
// when it names the whole document.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Pointer != "" {
		b.WriteString(p.Pointer + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// RawDir names directories of external tools' own output files, which have
// no Forge schema; ValidateTree does not descend into them.
const RawDir = "raw"

// ValidateTree checks every *.json file under root, and every non-empty line
// of every *.jsonl file, against the schema its top-level "schema" field
// names. Other files are ignored, and so is every directory named RawDir:
// the verbatim output of external tools (vLLM's bench client, lm-eval), kept
// beside the Forge documents derived from it. Anything wrong with a document, including
// malformed JSON, a missing or unknown schema name, or a schema that fails to
// compile, is a Problem; the error is only for failing to walk or read the
// tree. Problems come in walk (lexical) order, then line, then pointer.
func ValidateTree(root string) ([]Problem, error) {
	var problems []Problem
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == RawDir && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".json":
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			problems = append(problems, validateDoc(path, 0, data)...)
		case ".jsonl":
			ps, err := validateLines(path)
			if err != nil {
				return err
			}
			problems = append(problems, ps...)
		}
		return nil
	})
	if err != nil {
		return problems, fmt.Errorf("results: validate %s: %w", root, err)
	}
	return problems, nil
}

// validateLines validates a JSONL file line by line. It reads with
// bufio.Reader rather than Scanner so that long records (thousands of chunk
// times) have no line-length limit.
func validateLines(path string) ([]Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var problems []Problem
	r := bufio.NewReader(f)
	for line := 1; ; line++ {
		data, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(data)) > 0 {
			problems = append(problems, validateDoc(path, line, data)...)
		}
		if errors.Is(err, io.EOF) {
			return problems, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// validateDoc validates one JSON document against the schema it names.
func validateDoc(file string, line int, data []byte) []Problem {
	problem := func(pointer, format string, args ...any) []Problem {
		return []Problem{{File: file, Line: line, Pointer: pointer, Message: fmt.Sprintf(format, args...)}}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return problem("", "invalid JSON: %v", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return problem("", "document is not a JSON object, so it names no schema")
	}
	raw, ok := obj["schema"]
	if !ok {
		return problem("", "no top-level \"schema\" field naming the schema to check against")
	}
	name, ok := raw.(string)
	if !ok {
		return problem("/schema", "\"schema\" must be a string naming a schema, got %s", jsonType(raw))
	}
	findings, err := schemas.Validate(name, doc)
	if err != nil {
		// Unknown names and schemas that fail to compile: the document is
		// unusable either way, and the next file may still be checked.
		return problem("/schema", "%v", err)
	}
	problems := make([]Problem, 0, len(findings))
	for _, f := range findings {
		problems = append(problems, Problem{File: file, Line: line, Pointer: f.Pointer, Message: f.Message})
	}
	return problems
}

// jsonType names the JSON type of a value decoded by jsonschema.UnmarshalJSON.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return "number"
	}
}
