//go:build !linux

package sqlite

// instancesFile: elsewhere than Linux no handle knows itself alone on
// the file (alone.go needs locks that belong to an open file, not to a
// process, and that change type atomically: Linux's open file description
// locks), so every get checks the stamp, as every get did before.
type instancesFile struct{}

func openInstancesFile(string, string) (*instancesFile, error) { return nil, errNoInstanceLocks }

func (*instancesFile) knock() (bool, error)   { return false, errNoInstanceLocks }
func (*instancesFile) unknock() error         { return errNoInstanceLocks }
func (*instancesFile) share() (bool, error)   { return false, errNoInstanceLocks }
func (*instancesFile) isolate() (bool, error) { return false, errNoInstanceLocks }
func (*instancesFile) knocked() (bool, error) { return false, errNoInstanceLocks }
func (*instancesFile) Close() error           { return nil }
