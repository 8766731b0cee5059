package containerid

import "testing"

func TestShort(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"", ""},
		{"1e4c7689ce28", "1e4c7689ce28"},
		{"1e4c7689ce2812ab34cd", "1e4c7689ce28"},
		{" 1e4c7689ce2812ab34cd\n", "1e4c7689ce28"},
		{"node-kwok-node-0123", "node-kwok-node-0123"},
		{"ABCDEF0123456789ABCD", "ABCDEF0123456789ABCD"},
	} {
		if got := Short(tc.id); got != tc.want {
			t.Errorf("Short(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
