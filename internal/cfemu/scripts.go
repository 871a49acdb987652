package cfemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
)

// binding is one worker binding, kept as the client sent it so that types
// the emulator does not check still round-trip.
type binding map[string]any

func (b binding) str(key string) string {
	s, _ := b[key].(string)
	return s
}

type module struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

type schedule struct {
	Cron       string `json:"cron"`
	CreatedOn  string `json:"created_on"`
	ModifiedOn string `json:"modified_on"`
}

type script struct {
	Name       string `json:"name"`
	CreatedOn  string `json:"created_on"`
	ModifiedOn string `json:"modified_on"`
	Etag       string `json:"etag"`
	// MainModule names the entry part: metadata.main_module for an ES
	// module worker, metadata.body_part for a service worker.
	MainModule    string    `json:"main_module"`
	ServiceWorker bool      `json:"service_worker,omitempty"`
	Modules       []module  `json:"modules"`
	Bindings      []binding `json:"bindings"`
	scriptSettings
	MigrationTag string     `json:"migration_tag,omitempty"`
	Classes      []string   `json:"durable_object_classes,omitempty"` // declared by migrations
	Schedules    []schedule `json:"schedules"`
}

// scriptSettings are the fields /settings and /script-settings read and patch.
type scriptSettings struct {
	CompatibilityDate  string          `json:"compatibility_date"`
	CompatibilityFlags []string        `json:"compatibility_flags"`
	Logpush            bool            `json:"logpush"`
	Observability      json.RawMessage `json:"observability,omitempty"`
	Placement          json.RawMessage `json:"placement,omitempty"`
	Tags               []string        `json:"tags"`
	TailConsumers      []binding       `json:"tail_consumers"`
	UsageModel         string          `json:"usage_model"`
	Limits             json.RawMessage `json:"limits,omitempty"`
}

type migrationStep struct {
	NewClasses       []string `json:"new_classes"`
	NewSqliteClasses []string `json:"new_sqlite_classes"`
	DeletedClasses   []string `json:"deleted_classes"`
	RenamedClasses   []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"renamed_classes"`
	TransferredClasses []struct {
		To string `json:"to"`
	} `json:"transferred_classes"`
}

// migrations is either one step inline or a list of steps, between two tags.
type migrations struct {
	OldTag string          `json:"old_tag"`
	NewTag string          `json:"new_tag"`
	Steps  []migrationStep `json:"steps"`
	migrationStep
}

// onScript adapts a handler of an existing script: any other name gets
// Cloudflare's not-found answer before the handler runs.
func (e *Emulator) onScript(h func(c *call, s *script) reply) func(*call) reply {
	return func(c *call) reply {
		s := e.st.Scripts[c.r.PathValue("script")]
		if s == nil {
			return scriptNotFound(c.r.PathValue("script"))
		}
		return h(c, s)
	}
}

func scriptNotFound(name string) reply {
	return fail(http.StatusNotFound, 10007, "workers.api.error.script_not_found: script %q not found", name)
}

func uploadError(format string, args ...any) reply {
	return fail(http.StatusBadRequest, 10021, format, args...)
}

// formPart is one part of a multipart body.
type formPart struct {
	name, filename, contentType string
	body                        []byte
}

// readForm reads every part of a multipart/form-data body, in order.
func readForm(c *call) ([]formPart, reply, bool) {
	mediaType, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, uploadError("expected a multipart/form-data body, got Content-Type %q", c.r.Header.Get("Content-Type")), false
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	var parts []formPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, reply{}, true
		}
		if err != nil {
			return nil, uploadError("malformed multipart body: %v", err), false
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return nil, uploadError("malformed multipart body: %v", err), false
		}
		parts = append(parts, formPart{name: p.FormName(), filename: p.FileName(), contentType: p.Header.Get("Content-Type"), body: body})
	}
}

// uploadParts reads a script upload. Besides multipart it accepts the
// oldest form, a bare service-worker script (what cloudflare-go sends for a
// script without bindings), as if it were a body_part upload.
func uploadParts(c *call) ([]formPart, reply, bool) {
	ct := c.r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/javascript" || mt == "text/javascript") {
		return []formPart{
			{name: "metadata", contentType: "application/json", body: []byte(`{"body_part":"script"}`)},
			{name: "script", contentType: ct, body: c.body},
		}, reply{}, true
	}
	return readForm(c)
}

// isModuleType reports whether ct declares an ES module, as a main module must.
func isModuleType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/javascript+module" || mt == "text/javascript+module")
}

type uploadMetadata struct {
	MainModule   string      `json:"main_module"`
	BodyPart     string      `json:"body_part"`
	Bindings     []binding   `json:"bindings"`
	KeepBindings []string    `json:"keep_bindings"`
	Migrations   *migrations `json:"migrations"`
	scriptSettings
	Logpush *bool `json:"logpush"` // shadows scriptSettings.Logpush to tell "absent" from false
}

func (e *Emulator) scriptUpload(c *call) reply {
	name := c.r.PathValue("script")
	parts, rp, good := uploadParts(c)
	if !good {
		return rp
	}
	var meta uploadMetadata
	var modules []module
	sawMeta := false
	for _, p := range parts {
		if p.name == "metadata" {
			if err := json.Unmarshal(p.body, &meta); err != nil {
				return fail(http.StatusBadRequest, 6007, "Malformed JSON in the metadata part: %v", err)
			}
			sawMeta = true
			continue
		}
		modules = append(modules, module{Name: p.name, ContentType: p.contentType, Body: p.body})
	}
	if !sawMeta {
		return uploadError("the upload has no metadata part")
	}
	for _, m := range modules {
		if mt, _, _ := mime.ParseMediaType(m.ContentType); mt == "application/source-map" {
			mapped, isMap := strings.CutSuffix(m.Name, ".map")
			if !isMap || !slices.ContainsFunc(modules, func(o module) bool { return o.Name == mapped }) {
				return uploadError("source map %q must be named after the module it maps, plus .map", m.Name)
			}
		}
	}
	next := &script{Name: name, Modules: modules, scriptSettings: meta.scriptSettings, Schedules: []schedule{}}
	switch {
	case meta.MainModule != "":
		i := slices.IndexFunc(modules, func(m module) bool { return m.Name == meta.MainModule })
		if i < 0 {
			return uploadError("No such module %q: main_module must name one of the uploaded parts", meta.MainModule)
		}
		if !isModuleType(modules[i].ContentType) {
			return uploadError("main module %q has Content-Type %q; an ES module worker needs application/javascript+module", meta.MainModule, modules[i].ContentType)
		}
		next.MainModule = meta.MainModule
	case meta.BodyPart != "":
		if !slices.ContainsFunc(modules, func(m module) bool { return m.Name == meta.BodyPart }) {
			return uploadError("No such part %q: body_part must name one of the uploaded parts", meta.BodyPart)
		}
		next.MainModule, next.ServiceWorker = meta.BodyPart, true
	default:
		return uploadError("metadata must set main_module (ES modules) or body_part (service worker)")
	}

	prev := e.st.Scripts[name]
	if prev != nil {
		next.CreatedOn, next.MigrationTag, next.Classes, next.Schedules = prev.CreatedOn, prev.MigrationTag, prev.Classes, prev.Schedules
		next.Logpush = prev.Logpush // an upload without logpush leaves it as it was
	} else {
		next.CreatedOn = now()
	}
	if meta.Logpush != nil {
		next.Logpush = *meta.Logpush
	}
	if meta.Migrations != nil {
		if rp, good := applyMigrations(next, meta.Migrations); !good {
			return rp
		}
	}
	bindings := meta.Bindings
	if prev != nil {
		// Secrets survive uploads that leave them out, which is how a
		// `wrangler secret put` value outlives the next deploy; only the
		// secrets endpoint's DELETE removes one.
		bindings = keepBindings(bindings, prev.Bindings, append(slices.Clone(meta.KeepBindings), "secret_text"))
	}
	checked, rp, good := e.checkBindings(next, prev, bindings)
	if !good {
		return rp
	}
	next.Bindings = checked
	if next.ServiceWorker && slices.ContainsFunc(checked, func(b binding) bool { return b.str("type") == "d1" }) {
		return uploadError("D1 bindings require module-format workers.")
	}
	if next.UsageModel == "" {
		next.UsageModel = "standard"
	}
	next.ModifiedOn = now()
	sum := sha256.Sum256(c.body)
	next.Etag = hex.EncodeToString(sum[:])
	e.st.Scripts[name] = next
	return ok(scriptSummary(next))
}

// keepBindings carries over the live bindings whose type the upload lists
// in keep_bindings, unless the upload names a binding the same.
func keepBindings(bindings, live []binding, keepTypes []string) []binding {
	out := slices.Clone(bindings)
	for _, old := range live {
		if slices.Contains(keepTypes, old.str("type")) &&
			!slices.ContainsFunc(out, func(b binding) bool { return b.str("name") == old.str("name") }) {
			out = append(out, old)
		}
	}
	return out
}

// checkBindings validates a script's new binding list against the store and
// returns it normalised. A binding of type "inherit", or a secret_text
// without text, takes the live binding of the same name.
func (e *Emulator) checkBindings(s *script, prev *script, bindings []binding) ([]binding, reply, bool) {
	live := func(name string) binding {
		if prev == nil {
			return nil
		}
		i := slices.IndexFunc(prev.Bindings, func(b binding) bool { return b.str("name") == name })
		if i < 0 {
			return nil
		}
		return prev.Bindings[i]
	}
	seen := map[string]bool{}
	out := make([]binding, 0, len(bindings))
	for _, b := range bindings {
		name, typ := b.str("name"), b.str("type")
		if name == "" || typ == "" {
			return nil, uploadError("every binding needs a name and a type"), false
		}
		if seen[name] {
			return nil, uploadError("binding name %q is used more than once", name), false
		}
		seen[name] = true
		if typ == "inherit" || (typ == "secret_text" && b["text"] == nil) {
			old := live(name)
			if old == nil || (typ == "secret_text" && old.str("type") != "secret_text") {
				return nil, uploadError("binding %s has no value and there is no live binding of that name to inherit", name), false
			}
			out = append(out, old)
			continue
		}
		if rp, good := e.checkBinding(s, prev, b); !good {
			return nil, rp, false
		}
		out = append(out, b)
	}
	return out, reply{}, true
}

// checkBinding checks that what one binding references exists, with the
// error Cloudflare gives at upload time (10021 for missing resources).
func (e *Emulator) checkBinding(s *script, prev *script, b binding) (reply, bool) {
	name := b.str("name")
	switch b.str("type") {
	case "d1":
		if e.st.D1[b.str("id")] == nil {
			return uploadError("binding %s of type d1 must have a database that already exists. Use wrangler or the UI to create the database.", name), false
		}
	case "r2_bucket":
		if e.st.Buckets[b.str("bucket_name")] == nil {
			return uploadError("binding %s of type r2_bucket references bucket %q, which does not exist", name, b.str("bucket_name")), false
		}
	case "queue":
		if e.findQueue(byName, b.str("queue_name")) == nil {
			return uploadError("binding %s of type queue references queue %q, which does not exist", name, b.str("queue_name")), false
		}
	case "vectorize":
		if e.st.Indexes[b.str("index_name")] == nil {
			return uploadError("binding %s of type vectorize references index %q, which does not exist", name, b.str("index_name")), false
		}
	case "kv_namespace":
		if e.st.KV[b.str("namespace_id")] == nil {
			return uploadError("binding %s of type kv_namespace references namespace %q, which does not exist", name, b.str("namespace_id")), false
		}
	case "service":
		target := b.str("service")
		// A script may bind to itself once it exists; otherwise the target must be uploaded first.
		if e.st.Scripts[target] == nil && !(target == s.Name && prev != nil) {
			return fail(http.StatusBadRequest, 10007, "workers.api.error.script_not_found: service binding %s references script %q, which does not exist", name, target), false
		}
	case "durable_object_namespace":
		class, owner := b.str("class_name"), b.str("script_name")
		classes := s.Classes
		if owner != "" && owner != s.Name {
			other := e.st.Scripts[owner]
			if other == nil {
				return fail(http.StatusBadRequest, 10007, "workers.api.error.script_not_found: durable object binding %s references script %q, which does not exist", name, owner), false
			}
			classes = other.Classes
		}
		if !slices.Contains(classes, class) {
			return fail(http.StatusBadRequest, 10061, "Cannot create binding for class %q that is not declared by a migration (binding %s)", class, name), false
		}
	case "plain_text", "secret_text":
		if _, isString := b["text"].(string); !isString {
			return uploadError("binding %s of type %s needs a text value", name, b.str("type")), false
		}
	}
	return reply{}, true
}

// applyMigrations applies Durable Object migrations to s. Cloudflare keeps
// one tag per script and refuses a migration whose old_tag is not it.
func applyMigrations(s *script, m *migrations) (reply, bool) {
	if m.OldTag != s.MigrationTag {
		return fail(http.StatusBadRequest, 10079, "migration precondition failed: old_tag %q does not match the script's current migration tag %q", m.OldTag, s.MigrationTag), false
	}
	steps := m.Steps
	if len(steps) == 0 {
		steps = []migrationStep{m.migrationStep}
	}
	classes := slices.Clone(s.Classes)
	for _, st := range steps {
		for _, c := range slices.Concat(st.NewClasses, st.NewSqliteClasses) {
			if slices.Contains(classes, c) {
				return fail(http.StatusBadRequest, 10074, "Cannot apply new-class migration to class %q that already exists", c), false
			}
			classes = append(classes, c)
		}
		for _, t := range st.TransferredClasses {
			if !slices.Contains(classes, t.To) {
				classes = append(classes, t.To)
			}
		}
		for _, r := range st.RenamedClasses {
			i := slices.Index(classes, r.From)
			if i < 0 || slices.Contains(classes, r.To) {
				return fail(http.StatusBadRequest, 10074, "Cannot apply rename migration from class %q to %q", r.From, r.To), false
			}
			classes[i] = r.To
		}
		for _, c := range st.DeletedClasses {
			i := slices.Index(classes, c)
			if i < 0 {
				return fail(http.StatusBadRequest, 10074, "Cannot apply delete migration to class %q that does not exist", c), false
			}
			classes = slices.Delete(classes, i, i+1)
		}
	}
	s.Classes, s.MigrationTag = classes, m.NewTag
	return reply{}, true
}

type scriptSummaryView struct {
	ID                 string    `json:"id"`
	Etag               string    `json:"etag"`
	Handlers           []string  `json:"handlers"`
	CreatedOn          string    `json:"created_on"`
	ModifiedOn         string    `json:"modified_on"`
	HasModules         bool      `json:"has_modules"`
	UsageModel         string    `json:"usage_model"`
	CompatibilityDate  string    `json:"compatibility_date"`
	CompatibilityFlags []string  `json:"compatibility_flags"`
	Logpush            bool      `json:"logpush"`
	Tags               []string  `json:"tags"`
	TailConsumers      []binding `json:"tail_consumers"`
	MigrationTag       string    `json:"migration_tag,omitempty"`
}

func scriptSummary(s *script) scriptSummaryView {
	v := scriptSummaryView{ID: s.Name, Etag: s.Etag, Handlers: []string{"fetch"}, CreatedOn: s.CreatedOn,
		ModifiedOn: s.ModifiedOn, HasModules: !s.ServiceWorker, UsageModel: s.UsageModel,
		CompatibilityDate: s.CompatibilityDate, CompatibilityFlags: orEmpty(s.CompatibilityFlags),
		Logpush: s.Logpush, Tags: orEmpty(s.Tags), TailConsumers: orEmpty(s.TailConsumers), MigrationTag: s.MigrationTag}
	if len(s.Schedules) > 0 {
		v.Handlers = append(v.Handlers, "scheduled")
	}
	return v
}

// orEmpty turns nil into an empty slice so the JSON says [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (e *Emulator) scriptList(*call) reply {
	out := []scriptSummaryView{}
	for _, s := range inOrder(e.st.Scripts, func(s *script) string { return s.CreatedOn }) {
		out = append(out, scriptSummary(s))
	}
	return ok(out)
}

func (s *script) main() module {
	i := slices.IndexFunc(s.Modules, func(m module) bool { return m.Name == s.MainModule })
	return s.Modules[i] // present: checked at upload
}

// scriptGet answers with the raw main module, as Cloudflare does; the
// official provider treats a non-empty 2xx body as "the script exists".
func (e *Emulator) scriptGet(c *call, s *script) reply {
	return reply{status: http.StatusOK, raw: s.main().Body, rawType: "application/javascript"}
}

// scriptContent answers with the main module and its own content type.
func (e *Emulator) scriptContent(c *call, s *script) reply {
	m := s.main()
	return reply{status: http.StatusOK, raw: m.Body, rawType: m.ContentType}
}

// bindingView is a binding as Cloudflare reads it back: a d1 binding's id
// comes back as database_id, secrets lose their text, and a service binding
// always has an environment (the official provider crashes without one).
func bindingView(b binding) binding {
	out := binding{}
	for k, v := range b {
		out[k] = v
	}
	switch b.str("type") {
	case "d1":
		out["database_id"] = b["id"]
		delete(out, "id")
	case "secret_text":
		delete(out, "text")
	case "service":
		if _, has := out["environment"]; !has {
			out["environment"] = ""
		}
	case "durable_object_namespace":
		if _, has := out["script_name"]; !has {
			out["script_name"] = ""
		}
	}
	return out
}

func bindingViews(bs []binding) []binding {
	out := make([]binding, 0, len(bs))
	for _, b := range bs {
		out = append(out, bindingView(b))
	}
	return out
}

func (e *Emulator) scriptBindings(c *call, s *script) reply {
	return ok(bindingViews(s.Bindings))
}

type settingsView struct {
	Bindings           []binding       `json:"bindings"`
	CompatibilityDate  string          `json:"compatibility_date"`
	CompatibilityFlags []string        `json:"compatibility_flags"`
	Logpush            bool            `json:"logpush"`
	Observability      json.RawMessage `json:"observability"`
	Placement          json.RawMessage `json:"placement"`
	Tags               []string        `json:"tags"`
	TailConsumers      []binding       `json:"tail_consumers"`
	UsageModel         string          `json:"usage_model"`
	Limits             json.RawMessage `json:"limits,omitempty"`
}

func rawOr(r json.RawMessage, def string) json.RawMessage {
	if len(r) == 0 || string(r) == "null" {
		return json.RawMessage(def)
	}
	return r
}

func settingsOf(s *script) settingsView {
	return settingsView{
		Bindings: bindingViews(s.Bindings), CompatibilityDate: s.CompatibilityDate,
		CompatibilityFlags: orEmpty(s.CompatibilityFlags), Logpush: s.Logpush,
		Observability: rawOr(s.Observability, `{"enabled":false}`), Placement: rawOr(s.Placement, `{}`),
		Tags: orEmpty(s.Tags), TailConsumers: orEmpty(s.TailConsumers), UsageModel: s.UsageModel,
		Limits: s.Limits,
	}
}

func (e *Emulator) scriptSettingsGet(c *call, s *script) reply {
	return ok(settingsOf(s))
}

// scriptSettingsPatch merges the fields present in the multipart "settings"
// part into the script; fields left out keep their value.
func (e *Emulator) scriptSettingsPatch(c *call, s *script) reply {
	parts, rp, good := readForm(c)
	if !good {
		return rp
	}
	i := slices.IndexFunc(parts, func(p formPart) bool { return p.name == "settings" })
	if i < 0 {
		return uploadError("the request has no settings part")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(parts[i].body, &fields); err != nil {
		return fail(http.StatusBadRequest, 6007, "Malformed JSON in the settings part: %v", err)
	}
	next := *s
	next.Classes = slices.Clone(s.Classes)
	if raw, has := fields["migrations"]; has && string(raw) != "null" {
		var m migrations
		if err := json.Unmarshal(raw, &m); err != nil {
			return fail(http.StatusBadRequest, 6007, "Malformed JSON in migrations: %v", err)
		}
		if rp, good := applyMigrations(&next, &m); !good {
			return rp
		}
	}
	if raw, has := fields["bindings"]; has {
		var bs []binding
		if err := json.Unmarshal(raw, &bs); err != nil {
			return fail(http.StatusBadRequest, 6007, "Malformed JSON in bindings: %v", err)
		}
		checked, rp, good := e.checkBindings(&next, s, bs)
		if !good {
			return rp
		}
		next.Bindings = checked
	}
	if rp, good := mergeSettings(&next.scriptSettings, fields, false); !good {
		return rp
	}
	next.ModifiedOn = now()
	*s = next
	return ok(settingsOf(s))
}

// mergeSettings decodes each present field over its current value.
// scriptOnly limits the fields to what /script-settings accepts.
func mergeSettings(set *scriptSettings, fields map[string]json.RawMessage, scriptOnly bool) (reply, bool) {
	targets := map[string]any{
		"logpush":        &set.Logpush,
		"observability":  &set.Observability,
		"tags":           &set.Tags,
		"tail_consumers": &set.TailConsumers,
	}
	if !scriptOnly {
		targets["compatibility_date"] = &set.CompatibilityDate
		targets["compatibility_flags"] = &set.CompatibilityFlags
		targets["placement"] = &set.Placement
		targets["usage_model"] = &set.UsageModel
		targets["limits"] = &set.Limits
	}
	for key, target := range targets {
		raw, has := fields[key]
		if !has {
			continue
		}
		if err := json.Unmarshal(raw, target); err != nil {
			return fail(http.StatusBadRequest, 6007, "Malformed JSON in %s: %v", key, err), false
		}
	}
	return reply{}, true
}

type scriptSettingsView struct {
	Logpush       bool            `json:"logpush"`
	Observability json.RawMessage `json:"observability"`
	Tags          []string        `json:"tags"`
	TailConsumers []binding       `json:"tail_consumers"`
}

func scriptSettingsOf(s *script) scriptSettingsView {
	return scriptSettingsView{Logpush: s.Logpush, Observability: rawOr(s.Observability, `{"enabled":false}`),
		Tags: orEmpty(s.Tags), TailConsumers: orEmpty(s.TailConsumers)}
}

func (e *Emulator) scriptScriptSettingsGet(c *call, s *script) reply {
	return ok(scriptSettingsOf(s))
}

func (e *Emulator) scriptScriptSettingsPatch(c *call, s *script) reply {
	var fields map[string]json.RawMessage
	if rp, good := c.decode(&fields); !good {
		return rp
	}
	next := s.scriptSettings
	if rp, good := mergeSettings(&next, fields, true); !good {
		return rp
	}
	s.scriptSettings, s.ModifiedOn = next, now()
	return ok(scriptSettingsOf(s))
}

// scriptDelete follows Cloudflare: without ?force=true a script that
// consumes a queue (10064) or that other scripts depend on through a
// service binding, a Durable Object binding or a tail consumer (10142) is
// kept; with force it goes, and its queue consumers with it.
func (e *Emulator) scriptDelete(c *call) reply {
	name := c.r.PathValue("script")
	if e.st.Scripts[name] == nil {
		return scriptNotFound(name)
	}
	force := c.r.URL.Query().Get("force") == "true"
	if !force {
		for _, cons := range e.st.Consumers {
			if cons.Script == name {
				return fail(http.StatusConflict, 10064, "script still in use as a consumer for a queue (%s); delete the consumer or pass force=true", e.st.Queues[cons.QueueID].Name)
			}
		}
		if user, how := e.dependent(name); user != "" {
			return fail(http.StatusConflict, 10142, "script %q is still referenced by script %q through %s; remove that reference or pass force=true", name, user, how)
		}
	}
	for id, cons := range e.st.Consumers {
		if cons.Script == name {
			delete(e.st.Consumers, id)
		}
	}
	delete(e.st.Scripts, name)
	return ok(nil)
}

// dependent finds another script that needs name, and says how.
func (e *Emulator) dependent(name string) (string, string) {
	for _, s := range inOrder(e.st.Scripts, func(s *script) string { return s.CreatedOn }) {
		if s.Name == name {
			continue
		}
		for _, b := range s.Bindings {
			switch {
			case b.str("type") == "service" && b.str("service") == name:
				return s.Name, fmt.Sprintf("service binding %s", b.str("name"))
			case b.str("type") == "durable_object_namespace" && b.str("script_name") == name:
				return s.Name, fmt.Sprintf("durable object binding %s", b.str("name"))
			}
		}
		for _, t := range s.TailConsumers {
			if t.str("service") == name {
				return s.Name, "tail_consumers"
			}
		}
	}
	return "", ""
}

func (e *Emulator) schedulesGet(c *call, s *script) reply {
	return ok(map[string]any{"schedules": orEmpty(s.Schedules)})
}

// schedulesPut replaces the cron triggers; the body is a JSON array, and an
// empty array is how clients remove them all.
func (e *Emulator) schedulesPut(c *call, s *script) reply {
	var in []struct {
		Cron string `json:"cron"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	t := now()
	out := []schedule{}
	for _, x := range in {
		if len(strings.Fields(x.Cron)) != 5 {
			return fail(http.StatusBadRequest, 10100, "invalid cron expression %q: want five fields (minute hour day-of-month month day-of-week)", x.Cron)
		}
		if slices.ContainsFunc(out, func(o schedule) bool { return o.Cron == x.Cron }) {
			continue
		}
		created := t
		if i := slices.IndexFunc(s.Schedules, func(o schedule) bool { return o.Cron == x.Cron }); i >= 0 {
			created = s.Schedules[i].CreatedOn
		}
		out = append(out, schedule{Cron: x.Cron, CreatedOn: created, ModifiedOn: t})
	}
	s.Schedules = out
	return ok(map[string]any{"schedules": out})
}
