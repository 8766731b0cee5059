package agent

import "testing"

// TestSubnetProblemsPatch: the merge patch sets the annotation to the
// problems' JSON and removes it (null) when there are none.
func TestSubnetProblemsPatch(t *testing.T) {
	for _, tc := range []struct {
		problems map[string]string
		want     string
	}{
		{nil, `{"metadata":{"annotations":{"kubefay.io/subnet-problems":null}}}`},
		{map[string]string{}, `{"metadata":{"annotations":{"kubefay.io/subnet-problems":null}}}`},
		{map[string]string{"b": "route to 172.17.0.0/16 is held", "a": "x"},
			`{"metadata":{"annotations":{"kubefay.io/subnet-problems":"{\"a\":\"x\",\"b\":\"route to 172.17.0.0/16 is held\"}"}}}`},
	} {
		got, err := subnetProblemsPatch(tc.problems)
		if err != nil || string(got) != tc.want {
			t.Errorf("patch of %v: %s, %v\nwant %s", tc.problems, got, err, tc.want)
		}
	}
}
