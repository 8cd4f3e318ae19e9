package yamlconf

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// CheckPrivate refuses a config file that holds secrets (fields named in
// secrets; none: nothing to check) while others may read it, with the
// command that fixes it. Its group may read it only when root owns it: a
// package's root:headway 0640 grants the service's group, deliberately.
func CheckPrivate(path string, secrets []string) error {
	if len(secrets) == 0 {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if !Private(st) {
		return fmt.Errorf("config %s: holds secrets (%s) and others may read it (mode %04o): chmod 600 %s (or, owned by root for a service's group, chmod 640)", path, strings.Join(secrets, ", "), st.Mode().Perm(), path)
	}
	return nil
}

// Private reports whether a file holding secrets is kept close enough:
// nobody but its owner may read or write it, or, owned by root, its group
// may read it too.
func Private(st os.FileInfo) bool {
	m := st.Mode().Perm()
	if m&0o077 == 0 {
		return true
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == 0 && m&0o037 == 0
}
