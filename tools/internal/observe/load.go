package observe

import (
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// LoadStack reads a dashboard and the datasource uid it must use: from a
// stack directory, the provisioned datasource's uid; for a lone file,
// Forge's uid.
func LoadStack(path string) (Dashboard, string, error) {
	uid := DatasourceUID
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, DashboardFile)
		b, err := os.ReadFile(filepath.Join(path, DatasourceFile))
		if err != nil {
			return Dashboard{}, "", fmt.Errorf("%v (write the stack with forge observe config)", err)
		}
		var doc struct {
			Datasources []struct {
				UID string `yaml:"uid"`
			} `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Datasources) != 1 || doc.Datasources[0].UID == "" {
			return Dashboard{}, "", fmt.Errorf("%s: want one datasource with a uid (%v)", filepath.Join(path, DatasourceFile), err)
		}
		uid = doc.Datasources[0].UID
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return Dashboard{}, "", fmt.Errorf("%v", err)
	}
	d, err := Decode(b)
	if err != nil {
		return d, "", fmt.Errorf("%s: %v", file, err)
	}
	return d, uid, nil
}
