package results

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SplitPaths separates experiment files from result trees. A directory may
// hold either; results are validated per tree so messages name their root.
func SplitPaths(paths []string) (hclFiles, dataRoots []string, err error) {
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if !info.IsDir() {
			switch {
			case strings.HasSuffix(p, ".hcl"):
				hclFiles = append(hclFiles, p)
			case strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".jsonl"):
				dataRoots = append(dataRoots, p)
			default:
				return nil, nil, fmt.Errorf("%s: not an .hcl, .json or .jsonl file", p)
			}
			continue
		}
		hasData := false
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.IsDir():
			case strings.HasSuffix(path, ".hcl"):
				hclFiles = append(hclFiles, path)
			case strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl"):
				hasData = true
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if hasData {
			dataRoots = append(dataRoots, p)
		}
	}
	return hclFiles, dataRoots, nil
}
