package incident

// Every change in this package's tests checks that the JSON handed to the
// store (Effects.Encoded) is the incident's own: a change that moved the
// incident after its last event panics there.
func init() { verifyEncoded = true }
