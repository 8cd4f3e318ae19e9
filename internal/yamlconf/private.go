package yamlconf

import (
	"fmt"
	"os"
	"strings"
)

// CheckPrivate refuses a config file that holds secrets (fields named in
// secrets; none: nothing to check) while its group or others may read it,
// with the command that fixes it.
func CheckPrivate(path string, secrets []string) error {
	if len(secrets) == 0 {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("config %s: holds secrets (%s) and others may read it (mode %04o): chmod 600 %s", path, strings.Join(secrets, ", "), m, path)
	}
	return nil
}
