// Package bundletest writes worker projects of real size for tests and
// benchmarks: many workers, each a small TypeScript entry of its own, all
// bundling one shared npm-style package the way real services share
// node_modules, so each bundle is about 200 KB.
package bundletest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// kitModules is how many modules the shared package has; with the code
// each gets, a worker bundles to about 200 KB (≥ 150 KB, issue 12).
const kitModules = 100

// Write writes n workers under dir and returns their entry modules,
// relative to dir (usable as topology mains with dir as the services
// root): workers/w0000/src/index.ts and on. The content is the same for
// the same n, so bundles are comparable between runs. Files are dated an
// hour back, as sources are when a deploy starts; a bundle cache rightly
// distrusts files written moments before it reads them.
func Write(dir string, n int) ([]string, error) {
	rng := rand.New(rand.NewPCG(12, uint64(n)))
	files := map[string]string{
		"package.json":                        `{"name": "services", "private": true}` + "\n",
		"node_modules/dome-kit/package.json":  `{"name": "dome-kit", "version": "1.0.0", "type": "module", "main": "dist/index.js"}` + "\n",
		"node_modules/dome-kit/dist/index.js": kitIndex(),
	}
	for i := range kitModules {
		files[fmt.Sprintf("node_modules/dome-kit/dist/m%03d.js", i)] = kitModule(rng, i)
	}
	entries := make([]string, n)
	for w := range n {
		dir := fmt.Sprintf("workers/w%04d/src", w)
		entries[w] = dir + "/index.ts"
		files[entries[w]] = workerEntry(w)
		files[dir+"/routes.ts"] = workerRoutes(rng, w)
	}
	hourAgo := time.Now().Add(-time.Hour)
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, err
		}
		if err := os.Chtimes(path, hourAgo, hourAgo); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// kitIndex re-exports every module through a registry, so no bundle can
// tree-shake the package away.
func kitIndex() string {
	var b strings.Builder
	for i := range kitModules {
		fmt.Fprintf(&b, "import { helper%d, Service%d } from \"./m%03d.js\";\n", i, i, i)
	}
	b.WriteString("export const registry = {\n")
	for i := range kitModules {
		fmt.Fprintf(&b, "  m%d: { helper: helper%d, Service: Service%d },\n", i, i, i)
	}
	b.WriteString("};\n")
	b.WriteString(`export function dispatch(name, input) {
  const entry = registry[name];
  if (!entry) throw new Error("no module " + name);
  return new entry.Service({ name }).handle(entry.helper(input));
}
`)
	return b.String()
}

// kitModule is one module of about 2 KB: a table of text, a class and a
// helper that calls two earlier modules, like library code.
func kitModule(rng *rand.Rand, i int) string {
	var b strings.Builder
	deps := []int{}
	if i > 0 {
		deps = append(deps, rng.IntN(i))
		if j := rng.IntN(i); j != deps[0] {
			deps = append(deps, j)
		}
	}
	for _, d := range deps {
		fmt.Fprintf(&b, "import { helper%d } from \"./m%03d.js\";\n", d, d)
	}
	fmt.Fprintf(&b, "const TABLE%d = {\n", i)
	for range 24 {
		fmt.Fprintf(&b, "  %s: %q,\n", word(rng, 6+rng.IntN(8)), sentence(rng, 3+rng.IntN(5)))
	}
	b.WriteString("};\n")
	fmt.Fprintf(&b, `export class Service%[1]d {
  constructor(options) {
    this.options = { retries: %[2]d, timeoutMs: %[3]d, ...options };
    this.cache = new Map();
  }
  handle(value) {
    const key = JSON.stringify(value);
    if (this.cache.has(key)) return this.cache.get(key);
    const out = { module: %[1]d, value, label: TABLE%[1]d[Object.keys(TABLE%[1]d)[key.length %% 24]] };
    this.cache.set(key, out);
    return out;
  }
  async retry(fn) {
    let last;
    for (let attempt = 0; attempt < this.options.retries; attempt++) {
      try { return await fn(attempt); } catch (err) { last = err; }
    }
    throw new Error("%[4]s: " + String(last));
  }
}
`, i, 1+rng.IntN(5), 100*(1+rng.IntN(50)), sentence(rng, 4))
	fmt.Fprintf(&b, "export function helper%d(input) {\n  let acc = String(input);\n", i)
	for _, d := range deps {
		fmt.Fprintf(&b, "  acc = String(helper%d(acc)).slice(0, %d);\n", d, 16+rng.IntN(64))
	}
	fmt.Fprintf(&b, "  return acc.length > %d ? acc.toUpperCase() : acc + %q;\n}\n", rng.IntN(40), word(rng, 8))
	return b.String()
}

func workerEntry(w int) string {
	return fmt.Sprintf(`import { dispatch } from "dome-kit";
import { routes } from "./routes";

interface Env {
  ENVIRONMENT: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path: string = new URL(request.url).pathname;
    const route = routes[path] ?? "m0";
    return Response.json({ worker: %d, env: env.ENVIRONMENT, out: dispatch(route, path) });
  },
};
`, w)
}

func workerRoutes(rng *rand.Rand, w int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// Routes of worker %d.\nexport const routes: Record<string, string> = {\n", w)
	for range 8 {
		fmt.Fprintf(&b, "  %q: \"m%d\",\n", "/"+word(rng, 6), rng.IntN(kitModules))
	}
	b.WriteString("};\n")
	return b.String()
}

func word(rng *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

func sentence(rng *rand.Rand, words int) string {
	ws := make([]string, words)
	for i := range ws {
		ws[i] = word(rng, 2+rng.IntN(9))
	}
	return strings.Join(ws, " ")
}
