package cfapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackoffIsCappedAndJittered(t *testing.T) {
	c, err := New(Options{Token: "t", AccountID: "a", BackoffBase: 100 * time.Millisecond, BackoffCap: time.Second})
	require.NoError(t, err)
	for attempt := 1; attempt <= 20; attempt++ {
		step := min(100*time.Millisecond<<(attempt-1), time.Second)
		for range 50 {
			d := c.backoff(attempt, 0)
			require.GreaterOrEqual(t, d, step/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, step, "attempt %d", attempt)
		}
	}
	require.Equal(t, 300*time.Millisecond, c.backoff(1, 300*time.Millisecond), "Retry-After replaces the step")
	require.Equal(t, time.Second, c.backoff(1, time.Minute), "Retry-After is capped too")
}
