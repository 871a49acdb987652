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

	"github.com/dome/infra/internal/cron"
)

// binding is one worker binding, kept as the client sent it so that types
// the emulator does not check still round-trip.
type binding map[string]any

func (b binding) str(key string) string {
	s, _ := b[key].(string)
	return s
}

// Module is one part of a worker upload other than its metadata: a module,
// a source map, a service worker's script, or data it imports. The state
// file names its body by SHA256; the body itself is a file of that name
// (codeFiles), written once however often it is uploaded.
type Module struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
	Body        []byte `json:"-"`
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
	Modules       []Module  `json:"modules"`
	Bindings      []binding `json:"bindings"`
	scriptSettings
	MigrationTag string   `json:"migration_tag,omitempty"`
	Classes      []string `json:"durable_object_classes,omitempty"` // declared by migrations
	// SQLiteClasses are the classes among Classes whose migration made them
	// SQLite-backed (new_sqlite_classes), as their storage is.
	SQLiteClasses []string   `json:"durable_object_sqlite_classes,omitempty"`
	Schedules     []schedule `json:"schedules"`
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

func scriptNotFound(name string) error {
	return refuse(http.StatusNotFound, 10007, "workers.api.error.script_not_found: script %q not found", name)
}

func uploadError(format string, args ...any) error {
	return refuse(http.StatusBadRequest, 10021, format, args...)
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

// ScriptUpload is a worker upload: Cloudflare's metadata (the JSON of the
// metadata part; nil when the upload had none) and the other parts, in order.
type ScriptUpload struct {
	Name     string
	Metadata []byte
	Modules  []Module
}

// etag is a content hash of the upload, so the same code and metadata
// always carry the same etag.
func (up ScriptUpload) etag() string {
	h := sha256.New()
	h.Write(up.Metadata)
	for _, m := range up.Modules {
		fmt.Fprintf(h, "\x00%s\x00%s\x00%s", m.Name, m.ContentType, m.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// UploadScript creates or replaces a worker. It checks the upload the way
// Cloudflare does at that moment: a main module or body part that exists,
// source maps named after their module, Durable Object migrations against
// the script's tag, and every binding's target. A replaced script keeps its
// creation time, migrations, schedules, logpush (unless set) and secrets.
func (a *Account) UploadScript(up ScriptUpload) (scriptSummaryView, error) {
	var out scriptSummaryView
	up.Modules = slices.Clone(up.Modules)
	for i, m := range up.Modules {
		sum := sha256.Sum256(m.Body)
		up.Modules[i].SHA256 = hex.EncodeToString(sum[:])
	}
	// The code goes to disk before the account's lock is taken; a refused
	// upload leaves files no script names, which Close removes.
	if err := a.code.put(up.Modules); err != nil {
		return out, refuse(http.StatusInternalServerError, 10001, "the emulator could not save the script's code: %v", err)
	}
	var prev, next *script
	err := a.change(func() error {
		var err error
		if next, err = a.nextScript(up); err != nil {
			return err
		}
		prev = a.st.Scripts[up.Name]
		a.st.Scripts[up.Name] = next
		out = scriptSummary(next)
		return nil
	})
	if err != nil {
		return out, err
	}
	if se, failed := asStartup(a.publish(), up.Name); failed {
		// Cloudflare refuses a script that fails as it starts and keeps
		// the version before, which the runtime went back to.
		_ = a.change(func() error {
			if a.st.Scripts[up.Name] != next {
				return nil // a later upload replaced it already
			}
			if prev == nil {
				delete(a.st.Scripts, up.Name)
			} else {
				a.st.Scripts[up.Name] = prev
			}
			return nil
		})
		_ = a.publish() // changes that raced with the refused one go live now
		return scriptSummaryView{}, refuseStartup(se)
	}
	return out, nil
}

// nextScript is the script an upload makes, checked against the store.
func (a *Account) nextScript(up ScriptUpload) (*script, error) {
	if up.Metadata == nil {
		return nil, uploadError("the upload has no metadata part")
	}
	var meta uploadMetadata
	if err := json.Unmarshal(up.Metadata, &meta); err != nil {
		return nil, refuse(http.StatusBadRequest, 6007, "Malformed JSON in the metadata part: %v", err)
	}
	modules := up.Modules
	for _, m := range modules {
		if mt, _, _ := mime.ParseMediaType(m.ContentType); mt == "application/source-map" {
			mapped, isMap := strings.CutSuffix(m.Name, ".map")
			if !isMap || !slices.ContainsFunc(modules, func(o Module) bool { return o.Name == mapped }) {
				return nil, uploadError("source map %q must be named after the module it maps, plus .map", m.Name)
			}
		}
	}
	next := &script{Name: up.Name, Modules: modules, scriptSettings: meta.scriptSettings, Schedules: []schedule{}}
	switch {
	case meta.MainModule != "":
		i := slices.IndexFunc(modules, func(m Module) bool { return m.Name == meta.MainModule })
		if i < 0 {
			return nil, uploadError("No such module %q: main_module must name one of the uploaded parts", meta.MainModule)
		}
		if !isModuleType(modules[i].ContentType) {
			return nil, uploadError("main module %q has Content-Type %q; an ES module worker needs application/javascript+module", meta.MainModule, modules[i].ContentType)
		}
		next.MainModule = meta.MainModule
	case meta.BodyPart != "":
		if !slices.ContainsFunc(modules, func(m Module) bool { return m.Name == meta.BodyPart }) {
			return nil, uploadError("No such part %q: body_part must name one of the uploaded parts", meta.BodyPart)
		}
		next.MainModule, next.ServiceWorker = meta.BodyPart, true
	default:
		return nil, uploadError("metadata must set main_module (ES modules) or body_part (service worker)")
	}

	prev := a.st.Scripts[up.Name]
	if prev != nil {
		next.CreatedOn, next.MigrationTag, next.Classes, next.SQLiteClasses, next.Schedules = prev.CreatedOn, prev.MigrationTag, prev.Classes, prev.SQLiteClasses, prev.Schedules
		next.Logpush = prev.Logpush // an upload without logpush leaves it as it was
	} else {
		next.CreatedOn = now()
	}
	if meta.Logpush != nil {
		next.Logpush = *meta.Logpush
	}
	if meta.Migrations != nil {
		if err := applyMigrations(next, meta.Migrations); err != nil {
			return nil, err
		}
	}
	bindings := meta.Bindings
	if prev != nil {
		// Secrets survive uploads that leave them out, which is how a
		// `wrangler secret put` value outlives the next deploy; only the
		// secrets endpoint's DELETE removes one.
		bindings = keepBindings(bindings, prev.Bindings, append(slices.Clone(meta.KeepBindings), "secret_text"))
	}
	checked, err := a.checkBindings(next, prev, bindings)
	if err != nil {
		return nil, err
	}
	next.Bindings = checked
	if next.ServiceWorker && slices.ContainsFunc(checked, func(b binding) bool { return b.str("type") == "d1" }) {
		return nil, uploadError("D1 bindings require module-format workers.")
	}
	if next.UsageModel == "" {
		next.UsageModel = "standard"
	}
	next.ModifiedOn = now()
	next.Etag = up.etag()
	return next, nil
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
func (a *Account) checkBindings(s *script, prev *script, bindings []binding) ([]binding, error) {
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
			return nil, uploadError("every binding needs a name and a type")
		}
		if seen[name] {
			return nil, uploadError("binding name %q is used more than once", name)
		}
		seen[name] = true
		if typ == "inherit" || (typ == "secret_text" && b["text"] == nil) {
			old := live(name)
			if old == nil || (typ == "secret_text" && old.str("type") != "secret_text") {
				return nil, uploadError("binding %s has no value and there is no live binding of that name to inherit", name)
			}
			out = append(out, old)
			continue
		}
		if err := a.checkBinding(s, prev, b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// checkBinding checks that what one binding references exists, with the
// error Cloudflare gives at upload time (10021 for missing resources).
func (a *Account) checkBinding(s *script, prev *script, b binding) error {
	name := b.str("name")
	switch b.str("type") {
	case "d1":
		if a.st.D1[b.str("id")] == nil {
			return uploadError("binding %s of type d1 must have a database that already exists. Use wrangler or the UI to create the database.", name)
		}
	case "r2_bucket":
		if a.st.Buckets[b.str("bucket_name")] == nil {
			return uploadError("binding %s of type r2_bucket references bucket %q, which does not exist", name, b.str("bucket_name"))
		}
	case "queue":
		if a.findQueue(byName, b.str("queue_name")) == nil {
			return uploadError("binding %s of type queue references queue %q, which does not exist", name, b.str("queue_name"))
		}
	case "vectorize":
		if a.st.Indexes[b.str("index_name")] == nil {
			return uploadError("binding %s of type vectorize references index %q, which does not exist", name, b.str("index_name"))
		}
	case "kv_namespace":
		if a.st.KV[b.str("namespace_id")] == nil {
			return uploadError("binding %s of type kv_namespace references namespace %q, which does not exist", name, b.str("namespace_id"))
		}
	case "service":
		target := b.str("service")
		// A script may bind to itself once it exists; otherwise the target must be uploaded first.
		if a.st.Scripts[target] == nil && !(target == s.Name && prev != nil) {
			return refuse(http.StatusBadRequest, 10007, "workers.api.error.script_not_found: service binding %s references script %q, which does not exist", name, target)
		}
	case "durable_object_namespace":
		class, owner := b.str("class_name"), b.str("script_name")
		classes := s.Classes
		if owner != "" && owner != s.Name {
			other := a.st.Scripts[owner]
			if other == nil {
				return refuse(http.StatusBadRequest, 10007, "workers.api.error.script_not_found: durable object binding %s references script %q, which does not exist", name, owner)
			}
			classes = other.Classes
		}
		if !slices.Contains(classes, class) {
			return refuse(http.StatusBadRequest, 10061, "Cannot create binding for class %q that is not declared by a migration (binding %s)", class, name)
		}
	case "plain_text", "secret_text":
		if _, isString := b["text"].(string); !isString {
			return uploadError("binding %s of type %s needs a text value", name, b.str("type"))
		}
	}
	return nil
}

// applyMigrations applies Durable Object migrations to s. Cloudflare keeps
// one tag per script and refuses a migration whose old_tag is not it.
func applyMigrations(s *script, m *migrations) error {
	if m.OldTag != s.MigrationTag {
		return refuse(http.StatusBadRequest, 10079, "migration precondition failed: old_tag %q does not match the script's current migration tag %q", m.OldTag, s.MigrationTag)
	}
	steps := m.Steps
	if len(steps) == 0 {
		steps = []migrationStep{m.migrationStep}
	}
	classes, sqlite := slices.Clone(s.Classes), slices.Clone(s.SQLiteClasses)
	for _, st := range steps {
		for _, c := range slices.Concat(st.NewClasses, st.NewSqliteClasses) {
			if slices.Contains(classes, c) {
				return refuse(http.StatusBadRequest, 10074, "Cannot apply new-class migration to class %q that already exists", c)
			}
			classes = append(classes, c)
		}
		sqlite = append(sqlite, st.NewSqliteClasses...)
		for _, t := range st.TransferredClasses {
			if !slices.Contains(classes, t.To) {
				classes = append(classes, t.To)
			}
		}
		for _, r := range st.RenamedClasses {
			i := slices.Index(classes, r.From)
			if i < 0 || slices.Contains(classes, r.To) {
				return refuse(http.StatusBadRequest, 10074, "Cannot apply rename migration from class %q to %q", r.From, r.To)
			}
			classes[i] = r.To
			if j := slices.Index(sqlite, r.From); j >= 0 {
				sqlite[j] = r.To
			}
		}
		for _, c := range st.DeletedClasses {
			i := slices.Index(classes, c)
			if i < 0 {
				return refuse(http.StatusBadRequest, 10074, "Cannot apply delete migration to class %q that does not exist", c)
			}
			classes = slices.Delete(classes, i, i+1)
			sqlite = slices.DeleteFunc(sqlite, func(s string) bool { return s == c })
		}
	}
	s.Classes, s.SQLiteClasses, s.MigrationTag = classes, sqlite, m.NewTag
	return nil
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

// ListScripts lists the scripts, oldest first.
func (a *Account) ListScripts() []scriptSummaryView {
	out := []scriptSummaryView{}
	a.view(func() {
		for _, s := range inOrder(a.st.Scripts, func(s *script) string { return s.CreatedOn }) {
			out = append(out, scriptSummary(s))
		}
	})
	return out
}

// onScript runs f on an existing script, under the lock the caller holds.
func (a *Account) onScript(name string, f func(*script) error) error {
	s := a.st.Scripts[name]
	if s == nil {
		return scriptNotFound(name)
	}
	return f(s)
}

// readScript runs f on an existing script under the read lock.
func (a *Account) readScript(name string, f func(*script)) error {
	return a.viewErr(func() error {
		return a.onScript(name, func(s *script) error { f(s); return nil })
	})
}

// ScriptExists says whether a script exists, refusing as Cloudflare does when it does not.
func (a *Account) ScriptExists(name string) error {
	return a.readScript(name, func(*script) {})
}

// ScriptMain is a script's main module (a service worker's script).
func (a *Account) ScriptMain(name string) (Module, error) {
	var out Module
	err := a.readScript(name, func(s *script) {
		i := slices.IndexFunc(s.Modules, func(m Module) bool { return m.Name == s.MainModule })
		out = s.Modules[i] // present: checked at upload
	})
	return out, err
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

// ScriptBindings lists a script's bindings as Cloudflare reads them back.
func (a *Account) ScriptBindings(name string) ([]binding, error) {
	var out []binding
	err := a.readScript(name, func(s *script) { out = bindingViews(s.Bindings) })
	return out, err
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

// ScriptSettings reads a script's settings, bindings included.
func (a *Account) ScriptSettings(name string) (settingsView, error) {
	var out settingsView
	err := a.readScript(name, func(s *script) { out = settingsOf(s) })
	return out, err
}

// PatchScriptSettings merges the fields present into the script's
// settings; fields left out keep their value. bindings and migrations are
// checked as an upload checks them.
func (a *Account) PatchScriptSettings(name string, fields map[string]json.RawMessage) (settingsView, error) {
	var out settingsView
	err := a.update(func() error {
		return a.onScript(name, func(s *script) error {
			next := *s
			next.Classes = slices.Clone(s.Classes)
			if raw, has := fields["migrations"]; has && string(raw) != "null" {
				var m migrations
				if err := json.Unmarshal(raw, &m); err != nil {
					return refuse(http.StatusBadRequest, 6007, "Malformed JSON in migrations: %v", err)
				}
				if err := applyMigrations(&next, &m); err != nil {
					return err
				}
			}
			if raw, has := fields["bindings"]; has {
				var bs []binding
				if err := json.Unmarshal(raw, &bs); err != nil {
					return refuse(http.StatusBadRequest, 6007, "Malformed JSON in bindings: %v", err)
				}
				checked, err := a.checkBindings(&next, s, bs)
				if err != nil {
					return err
				}
				next.Bindings = checked
			}
			if err := mergeSettings(&next.scriptSettings, fields, false); err != nil {
				return err
			}
			next.ModifiedOn = now()
			*s = next
			out = settingsOf(s)
			return nil
		})
	})
	return out, err
}

// mergeSettings decodes each present field over its current value, into
// a fresh value: views handed out earlier may still share the old one.
// scriptOnly limits the fields to what /script-settings accepts.
func mergeSettings(set *scriptSettings, fields map[string]json.RawMessage, scriptOnly bool) error {
	targets := map[string]func(json.RawMessage) error{
		"logpush":        decodeTo(&set.Logpush),
		"observability":  decodeTo(&set.Observability),
		"tags":           decodeTo(&set.Tags),
		"tail_consumers": decodeTo(&set.TailConsumers),
	}
	if !scriptOnly {
		targets["compatibility_date"] = decodeTo(&set.CompatibilityDate)
		targets["compatibility_flags"] = decodeTo(&set.CompatibilityFlags)
		targets["placement"] = decodeTo(&set.Placement)
		targets["usage_model"] = decodeTo(&set.UsageModel)
		targets["limits"] = decodeTo(&set.Limits)
	}
	for key, decode := range targets {
		raw, has := fields[key]
		if !has {
			continue
		}
		if err := decode(raw); err != nil {
			return refuse(http.StatusBadRequest, 6007, "Malformed JSON in %s: %v", key, err)
		}
	}
	return nil
}

// decodeTo decodes JSON into a new T and only then stores it in *dst.
func decodeTo[T any](dst *T) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		*dst = v
		return nil
	}
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

// ScriptScriptSettings reads the settings /script-settings serves.
func (a *Account) ScriptScriptSettings(name string) (scriptSettingsView, error) {
	var out scriptSettingsView
	err := a.readScript(name, func(s *script) { out = scriptSettingsOf(s) })
	return out, err
}

// PatchScriptScriptSettings merges logpush, observability, tags and tail_consumers.
func (a *Account) PatchScriptScriptSettings(name string, fields map[string]json.RawMessage) (scriptSettingsView, error) {
	var out scriptSettingsView
	err := a.update(func() error {
		return a.onScript(name, func(s *script) error {
			next := s.scriptSettings
			if err := mergeSettings(&next, fields, true); err != nil {
				return err
			}
			s.scriptSettings, s.ModifiedOn = next, now()
			out = scriptSettingsOf(s)
			return nil
		})
	})
	return out, err
}

// DeleteScript follows Cloudflare: without force a script that consumes a
// queue (10064) or that other scripts depend on through a service binding,
// a Durable Object binding or a tail consumer (10142) is kept; with force
// it goes, and its queue consumers with it.
func (a *Account) DeleteScript(name string, force bool) error {
	return a.update(func() error {
		if a.st.Scripts[name] == nil {
			return scriptNotFound(name)
		}
		if !force {
			for _, cons := range a.st.Consumers {
				if cons.Script == name {
					return refuse(http.StatusConflict, 10064, "script still in use as a consumer for a queue (%s); delete the consumer or pass force=true", a.st.Queues[cons.QueueID].Name)
				}
			}
			if user, how := a.dependent(name); user != "" {
				return refuse(http.StatusConflict, 10142, "script %q is still referenced by script %q through %s; remove that reference or pass force=true", name, user, how)
			}
		}
		for id, cons := range a.st.Consumers {
			if cons.Script == name {
				delete(a.st.Consumers, id)
			}
		}
		delete(a.st.Scripts, name)
		return nil
	})
}

// dependent finds another script that needs name, and says how.
func (a *Account) dependent(name string) (string, string) {
	for _, s := range inOrder(a.st.Scripts, func(s *script) string { return s.CreatedOn }) {
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

// Schedules lists a script's cron triggers.
func (a *Account) Schedules(name string) ([]schedule, error) {
	var out []schedule
	err := a.readScript(name, func(s *script) { out = orEmpty(s.Schedules) })
	return out, err
}

// PutSchedules replaces a script's cron triggers; none removes them all. A
// cron kept from before keeps its creation time. An expression Cloudflare's
// parser would refuse is refused whole, so every schedule the account holds
// is one a scheduler can run.
func (a *Account) PutSchedules(name string, crons []string) ([]schedule, error) {
	var out []schedule
	err := a.update(func() error {
		return a.onScript(name, func(s *script) error {
			t := now()
			out = []schedule{}
			for _, expr := range crons {
				if _, err := cron.Parse(expr); err != nil {
					return refuse(http.StatusBadRequest, 10100, "invalid cron expression %q: %v", expr, err)
				}
				if slices.ContainsFunc(out, func(o schedule) bool { return o.Cron == expr }) {
					continue
				}
				created := t
				if i := slices.IndexFunc(s.Schedules, func(o schedule) bool { return o.Cron == expr }); i >= 0 {
					created = s.Schedules[i].CreatedOn
				}
				out = append(out, schedule{Cron: expr, CreatedOn: created, ModifiedOn: t})
			}
			s.Schedules = out
			return nil
		})
	})
	return out, err
}

// HTTP handlers.

// onScript adapts a handler of an existing script: any other name gets
// Cloudflare's not-found answer before the handler reads the body.
func (e *Emulator) onScript(h func(c *call, name string) reply) func(*call) reply {
	return func(c *call) reply {
		name := c.r.PathValue("script")
		if err := e.acct.ScriptExists(name); err != nil {
			return failWith(err)
		}
		return h(c, name)
	}
}

// formPart is one part of a multipart body.
type formPart struct {
	name, contentType string
	body              []byte
}

// readForm reads every part of a multipart/form-data body, in order.
func readForm(c *call) ([]formPart, error) {
	mediaType, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, uploadError("expected a multipart/form-data body, got Content-Type %q", c.r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	var parts []formPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, uploadError("malformed multipart body: %v", err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return nil, uploadError("malformed multipart body: %v", err)
		}
		parts = append(parts, formPart{name: p.FormName(), contentType: p.Header.Get("Content-Type"), body: body})
	}
}

// uploadParts reads a script upload. Besides multipart it accepts the
// oldest form, a bare service-worker script (what cloudflare-go sends for a
// script without bindings), as if it were a body_part upload.
func uploadParts(c *call) ([]formPart, error) {
	ct := c.r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/javascript" || mt == "text/javascript") {
		return []formPart{
			{name: "metadata", contentType: "application/json", body: []byte(`{"body_part":"script"}`)},
			{name: "script", contentType: ct, body: c.body},
		}, nil
	}
	return readForm(c)
}

func (e *Emulator) scriptUpload(c *call) reply {
	parts, err := uploadParts(c)
	if err != nil {
		return failWith(err)
	}
	up := ScriptUpload{Name: c.r.PathValue("script")}
	for _, p := range parts {
		if p.name == "metadata" {
			up.Metadata = p.body
			continue
		}
		up.Modules = append(up.Modules, Module{Name: p.name, ContentType: p.contentType, Body: p.body})
	}
	return answer(e.acct.UploadScript(up))
}

func (e *Emulator) scriptList(*call) reply {
	return ok(e.acct.ListScripts())
}

// scriptGet answers with the raw main module, as Cloudflare does; the
// official provider treats a non-empty 2xx body as "the script exists".
func (e *Emulator) scriptGet(c *call) reply {
	m, err := e.acct.ScriptMain(c.r.PathValue("script"))
	if err != nil {
		return failWith(err)
	}
	return reply{status: http.StatusOK, raw: m.Body, rawType: "application/javascript"}
}

// scriptContent answers with the main module and its own content type.
func (e *Emulator) scriptContent(c *call) reply {
	m, err := e.acct.ScriptMain(c.r.PathValue("script"))
	if err != nil {
		return failWith(err)
	}
	return reply{status: http.StatusOK, raw: m.Body, rawType: m.ContentType}
}

func (e *Emulator) scriptBindings(c *call) reply {
	return answer(e.acct.ScriptBindings(c.r.PathValue("script")))
}

func (e *Emulator) scriptSettingsGet(c *call) reply {
	return answer(e.acct.ScriptSettings(c.r.PathValue("script")))
}

// scriptSettingsPatch reads the multipart "settings" part.
func (e *Emulator) scriptSettingsPatch(c *call, name string) reply {
	parts, err := readForm(c)
	if err != nil {
		return failWith(err)
	}
	i := slices.IndexFunc(parts, func(p formPart) bool { return p.name == "settings" })
	if i < 0 {
		return failWith(uploadError("the request has no settings part"))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(parts[i].body, &fields); err != nil {
		return fail(http.StatusBadRequest, 6007, "Malformed JSON in the settings part: %v", err)
	}
	return answer(e.acct.PatchScriptSettings(name, fields))
}

func (e *Emulator) scriptScriptSettingsGet(c *call) reply {
	return answer(e.acct.ScriptScriptSettings(c.r.PathValue("script")))
}

func (e *Emulator) scriptScriptSettingsPatch(c *call, name string) reply {
	var fields map[string]json.RawMessage
	if rp, good := c.decode(&fields); !good {
		return rp
	}
	return answer(e.acct.PatchScriptScriptSettings(name, fields))
}

func (e *Emulator) scriptDelete(c *call) reply {
	return done(e.acct.DeleteScript(c.r.PathValue("script"), c.r.URL.Query().Get("force") == "true"))
}

func (e *Emulator) schedulesGet(c *call) reply {
	list, err := e.acct.Schedules(c.r.PathValue("script"))
	if err != nil {
		return failWith(err)
	}
	return ok(map[string]any{"schedules": list})
}

// schedulesPut reads a JSON array of {cron}; an empty array is how clients
// remove them all.
func (e *Emulator) schedulesPut(c *call, name string) reply {
	var in []struct {
		Cron string `json:"cron"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	crons := make([]string, len(in))
	for i, x := range in {
		crons[i] = x.Cron
	}
	list, err := e.acct.PutSchedules(name, crons)
	if err != nil {
		return failWith(err)
	}
	return ok(map[string]any{"schedules": list})
}
