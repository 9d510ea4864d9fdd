// Package memory implements every Sety store port in process memory, for
// unit tests and demos. It behaves like the SQLite adapter (both pass
// adapters/storetest) and, like a real database, copies values in and out:
// changing a value you passed in or got back never changes what is stored.
//
//	s, err := sety.New(memory.New())
package memory
