//go:build unix

package main

import (
	"os"
	"syscall"
)

// writable reports whether the bot's user may write the file at path, or create files in the
// directory at path. It asks the kernel (access(2)) rather than trying, so that checking changes
// nothing; a read-only file system counts as not writable.
func writable(path string) error {
	const wOK, xOK = 0x2, 0x1
	st, err := os.Stat(path)
	if err != nil {
		return pathError(err)
	}
	mode := uint32(wOK)
	if st.IsDir() {
		mode |= xOK // entering the directory is needed to create a file in it
	}
	return syscall.Access(path, mode)
}
