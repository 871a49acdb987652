package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"
)

// legacyState is a worker's state as versions before contentFile wrote
// it: the code and its map inline, the hash an output only.
func legacyState(state property.Map, code, sourceMap string) property.Map {
	return state.Delete("contentFile", "sourceMapFile", "sourceMapSha256").
		Set("content", str(code)).
		Set("sourceMap", str(sourceMap)).
		Set("contentSha256", str(sha256Hex(code)))
}

// State that holds the code inline moves to the new form on the next
// update, which names the removed properties and uploads nothing, and on
// a refresh, which reads the live hash.
func TestWorkerScriptLegacyState(t *testing.T) {
	const code = "export default {}\n//# sourceMappingURL=index.js.map\n"
	const sourceMap = `{"version":3,"sources":["src/index.ts"],"mappings":"AAAA"}`
	worker := func(t *testing.T) map[string]property.Value {
		in := withCode(t, map[string]property.Value{"name": str("dome-api"), "tags": strs("dome")}, code)
		file := filepath.Join(t.TempDir(), "index.js.map")
		require.NoError(t, os.WriteFile(file, []byte(sourceMap), 0o644))
		in["sourceMapFile"], in["sourceMapSha256"] = str(file), str(sha256Hex(sourceMap))
		return in
	}
	deployed := func(t *testing.T) (*env, *lifecycle) {
		e := newEnv(t)
		w := e.resource("WorkerScript", "api")
		w.create(worker(t))
		w.state = legacyState(w.state, code, sourceMap)
		w.inputs = legacyState(w.inputs, code, sourceMap)
		e.emu.ResetLog()
		return e, w
	}

	t.Run("update", func(t *testing.T) {
		e, w := deployed(t)
		resp := w.update(worker(t), "content", "sourceMap")
		require.Empty(t, e.calls(), "the code Cloudflare holds is the code the program has")
		require.NotContains(t, resp.Properties.AsMap(), "content")
		require.NotContains(t, resp.Properties.AsMap(), "sourceMap")
		require.Equal(t, str(sha256Hex(code)), resp.Properties.Get("contentSha256"))
		require.Equal(t, str(sha256Hex(sourceMap)), resp.Properties.Get("sourceMapSha256"))
		d, _ := w.diff(worker(t))
		require.False(t, d.HasChanges, "migrated once, the next deploy is a no-op")
	})

	t.Run("update with a change", func(t *testing.T) {
		e, w := deployed(t)
		in := worker(t)
		in["tags"] = strs("dome", "api")
		w.update(in, "content", "sourceMap", "tags")
		require.Equal(t, []call{{"PUT", "/workers/scripts/dome-api", ""}}, e.calls())
	})

	t.Run("refresh", func(t *testing.T) {
		_, w := deployed(t)
		resp := w.read()
		require.NotContains(t, resp.Properties.AsMap(), "content")
		require.Equal(t, str(sha256Hex(code)), resp.Inputs.Get("contentSha256"))
		require.Equal(t, str(sha256Hex(sourceMap)), resp.Inputs.Get("sourceMapSha256"))
		w.state, w.inputs = resp.Properties, resp.Inputs
		d, _ := w.diff(worker(t))
		require.False(t, d.HasChanges)
	})
}

// The file is read only to upload it, and must still be what the program
// hashed: a bundle rewritten mid-deploy would upload code no preview showed.
func TestWorkerScriptCodeFile(t *testing.T) {
	e := newEnv(t)
	w := e.resource("WorkerScript", "api")

	in := withCode(t, map[string]property.Value{"name": str("dome-api")}, "export default {}")
	file := in["contentFile"].AsString()
	require.NoError(t, os.WriteFile(file, []byte("export default { changed: 1 }"), 0o644))
	err := w.createErr(in)
	require.ErrorContains(t, err, "worker dome-api: contentFile "+file+" has SHA-256 "+sha256Hex("export default { changed: 1 }")+
		", not the "+sha256Hex("export default {}")+" the program hashed")

	require.NoError(t, os.Remove(file))
	err = w.createErr(in)
	require.ErrorContains(t, err, "worker dome-api: contentFile: open "+file+": no such file or directory; the program writes every bundle before the deploy")
	for _, c := range e.calls() {
		require.NotEqual(t, "PUT", c.Method, "nothing may be uploaded")
	}

	resp := w.check(map[string]property.Value{
		"name": str("dome-api"), "contentFile": str("bundles/x.js"), "contentSha256": str(strings.ToUpper(sha256Hex("x"))),
		"sourceMapSha256": str(sha256Hex("m")),
	})
	require.Equal(t, []p.CheckFailure{
		{Property: "contentFile", Reason: `contentFile "bundles/x.js" is relative; the provider runs in another folder than the program, so give an absolute path`},
		{Property: "contentSha256", Reason: `contentSha256 must be the file's hex SHA-256 (64 characters), got "` + strings.ToUpper(sha256Hex("x")) + `"`},
	}, resp.Failures)

	// What an import records, the hash of the code Cloudflare runs and no
	// file, checks clean (the engine warns of a provider bug otherwise), and
	// an upload from it says what is missing.
	imported := map[string]property.Value{"name": str("dome-api"), "contentSha256": str(sha256Hex("export default {}"))}
	require.Empty(t, w.check(imported).Failures)
	require.ErrorContains(t, w.createErr(imported), "worker dome-api: contentFile is not set: the state knows the code Cloudflare runs by its hash only (as after an import)")

	// Code inline, as programs passed it before, is refused, both parts in
	// order, every time.
	inline := withCode(t, map[string]property.Value{"name": str("dome-api"), "content": str("export default {}"), "sourceMap": str("{}")}, "export default {}")
	for range 5 {
		require.Equal(t, []p.CheckFailure{
			{Property: "content", Reason: "content kept the code in state and is no longer taken; write it to a file and pass contentFile and contentSha256"},
			{Property: "sourceMap", Reason: "sourceMap kept the code in state and is no longer taken; write it to a file and pass sourceMapFile and sourceMapSha256"},
		}, w.check(inline).Failures)
	}
}
