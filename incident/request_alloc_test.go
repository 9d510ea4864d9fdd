package incident

import "testing"

// A subject's metadata is checked without building a field name per key:
// the check's error names the metadata as a whole.
func TestValidateSubjectAllocatesNothingForItsMetadata(t *testing.T) {
	s := &Subject{Metadata: map[string]string{"trip_id": "trp_9x2k4m", "vehicle_plate": "LND-482-KJ", "rider": "r_1"}}
	if allocs := testing.AllocsPerRun(100, func() {
		if err := validateSubject(s); err != nil {
			t.Fatal(err)
		}
	}); allocs > 0 {
		t.Errorf("validateSubject allocates %v times for three metadata entries, want none", allocs)
	}
}
