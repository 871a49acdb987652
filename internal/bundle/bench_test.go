package bundle

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/bundle/bundletest"
)

// BenchmarkBuild1000 bundles 1,000 real-size workers (about 200 KB each,
// sharing one npm-style package) into an empty store, then again with
// nothing changed, and reports both times and a bundle's size:
//
//	go test -run '^$' -bench Build1000 -benchtime 1x ./internal/bundle/
func BenchmarkBuild1000(b *testing.B) {
	const workers = 1000
	dir := b.TempDir()
	entries, err := bundletest.Write(dir, workers)
	require.NoError(b, err)
	jobs := make([]Job, len(entries))
	for i, e := range entries {
		jobs[i] = Job{Entry: filepath.Join(dir, e), Options: Options{SourceMap: true}}
	}

	var cold, warm time.Duration
	var sample Module
	for i := 0; b.Loop(); i++ {
		s, err := Open(filepath.Join(b.TempDir(), "store"))
		require.NoError(b, err)
		start := time.Now()
		ms, err := s.Build(jobs)
		cold = time.Since(start)
		require.NoError(b, err)
		for _, m := range ms {
			require.False(b, m.Cached)
		}

		start = time.Now()
		ms, err = s.Build(jobs)
		warm = time.Since(start)
		require.NoError(b, err)
		for _, m := range ms {
			require.True(b, m.Cached, "nothing changed: no worker is rebundled")
		}
		sample = ms[0]
	}
	b.ReportMetric(cold.Seconds(), "cold-s")
	b.ReportMetric(warm.Seconds(), "warm-s")
	b.ReportMetric(float64(sample.Size)/1000, "bundle-kB")
	b.ReportMetric(float64(sample.Gzipped)/1000, "gzip-kB")
	b.Logf("%d workers, bundle %.0f kB (%.0f kB gzip-compressed) each: cold %s, warm %s",
		workers, float64(sample.Size)/1000, float64(sample.Gzipped)/1000, cold.Round(time.Millisecond), warm.Round(time.Millisecond))
}
