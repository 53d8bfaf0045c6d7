//go:build !unix

package main

import (
	"errors"
	"os"
)

// writable reports whether path looks writable from its permission bits: without access(2), that is
// as far as doctor can tell without writing, and checking must change nothing.
func writable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return pathError(err)
	}
	if st.Mode().Perm()&0o200 == 0 {
		return errors.New("permission denied")
	}
	return nil
}
