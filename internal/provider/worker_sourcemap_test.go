package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

func TestWorkerScriptSourceMap(t *testing.T) {
	e := newEnv(t)
	w := e.resource("WorkerScript", "api")
	const code = "export default {}\n//# sourceMappingURL=index.js.map\n"
	worker := func(sourceMap string) map[string]property.Value {
		in := withCode(t, map[string]property.Value{"name": str("dome-api")}, code)
		if sourceMap != "" {
			file := filepath.Join(t.TempDir(), "index.js.map")
			require.NoError(t, os.WriteFile(file, []byte(sourceMap), 0o644))
			in["sourceMapFile"], in["sourceMapSha256"] = str(file), str(sha256Hex(sourceMap))
		}
		return in
	}
	parts := func() []part {
		return multipartParts(t, e.lastRequest("PUT", "/workers/scripts/dome-api"))
	}
	mapV1 := `{"version":3,"sources":["src/index.ts"],"mappings":"AAAA"}`
	mapV2 := `{"version":3,"sources":["src/index.ts"],"mappings":"AAAA;AACA"}`

	// The map is a module part beside the main module, named after it.
	w.create(worker(mapV1))
	got := parts()
	require.Len(t, got, 3)
	require.Equal(t, part{"index.js", "index.js", cfapi.ModuleContentType, []byte(code)}, got[1])
	require.Equal(t, part{"index.js.map", "index.js.map", "application/source-map", []byte(mapV1)}, got[2])
	w.requireNoRefreshDiff()

	// A change of only the map still updates the worker.
	e.emu.ResetLog()
	w.update(worker(mapV2), "sourceMapSha256")
	require.Equal(t, []call{{"PUT", "/workers/scripts/dome-api", ""}}, e.calls())
	require.Equal(t, []byte(mapV2), parts()[2].Body)
	w.requireNoRefreshDiff()

	// Turned off, the upload carries the module alone.
	e.emu.ResetLog()
	w.update(worker(""), "sourceMapSha256")
	got = parts()
	require.Len(t, got, 2)
	require.Equal(t, "index.js", got[1].Name)
	w.requireNoRefreshDiff()
}
