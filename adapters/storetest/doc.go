// Package storetest is the conformance suite every Sety adapter must pass:
// the definition of a correct adapter. An adapter's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sety.Stores { return memory.New() })
//	}
//
// Each test gets fresh, empty stores from the constructor and may run in
// parallel with the others. Errors are checked by kind only (setyerr), and
// values must round-trip exactly: what a store returns equals what it was
// given, and changing a returned value never changes what is stored.
package storetest
