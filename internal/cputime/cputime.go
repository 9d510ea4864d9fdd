// Package cputime reads the CPU time the process has used, for the
// benchmarks that report CPU per operation: on a machine shared with other
// work it varies far less than the time on the wall.
package cputime
