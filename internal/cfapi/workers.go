package cfapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
)

// ModuleContentType is the part type of an ES-module worker's modules.
const ModuleContentType = "application/javascript+module"

// WorkerBinding is one entry of a script's bindings list. Type and Name are
// always present; the other fields belong to particular types (see the
// table in Dome's cloudflare-api.md) and are omitted when empty, so a binding
// marshals to exactly the shape its type takes.
type WorkerBinding struct {
	Type         string `json:"type"`
	Name         string `json:"name"`
	Text         string `json:"text,omitempty"`
	ID           string `json:"id,omitempty"`
	BucketName   string `json:"bucket_name,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	QueueName    string `json:"queue_name,omitempty"`
	Service      string `json:"service,omitempty"`
	Environment  string `json:"environment,omitempty"`
	IndexName    string `json:"index_name,omitempty"`
	NamespaceID  string `json:"namespace_id,omitempty"`
	ClassName    string `json:"class_name,omitempty"`
	ScriptName   string `json:"script_name,omitempty"`
	Dataset      string `json:"dataset,omitempty"`

	// DatabaseID is where Cloudflare puts a d1 binding's id when it reads
	// bindings back; GetScriptSettings moves it to ID so callers see one shape.
	DatabaseID string `json:"database_id,omitempty"`
}

// Observability is a script's Workers Logs setting.
type Observability struct {
	Enabled          bool     `json:"enabled"`
	HeadSamplingRate *float64 `json:"head_sampling_rate,omitempty"`
}

// Placement is a script's placement; Mode "smart" turns on Smart Placement.
type Placement struct {
	Mode string `json:"mode,omitempty"`
}

// RenamedClass is a Durable Object class rename in a migration.
type RenamedClass struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// MigrationStep is one step of Durable Object class changes.
type MigrationStep struct {
	NewClasses       []string       `json:"new_classes,omitempty"`
	NewSqliteClasses []string       `json:"new_sqlite_classes,omitempty"`
	RenamedClasses   []RenamedClass `json:"renamed_classes,omitempty"`
	DeletedClasses   []string       `json:"deleted_classes,omitempty"`
}

// Migrations moves a script's Durable Object classes from OldTag, which
// must be the tag the script is at, to NewTag: one step inline, or several
// in Steps.
type Migrations struct {
	NewTag string `json:"new_tag,omitempty"`
	OldTag string `json:"old_tag,omitempty"`
	MigrationStep
	Steps []MigrationStep `json:"steps,omitempty"`
}

// ScriptMetadata is the metadata part of a script upload. Bindings, Tags
// and CompatibilityFlags are always sent, empty included, because an upload
// replaces the whole script: omitting them would not clear old values on
// every version of the API.
type ScriptMetadata struct {
	MainModule         string          `json:"main_module"`
	Bindings           []WorkerBinding `json:"bindings"`
	CompatibilityDate  string          `json:"compatibility_date,omitempty"`
	CompatibilityFlags []string        `json:"compatibility_flags"`
	Observability      *Observability  `json:"observability,omitempty"`
	Logpush            *bool           `json:"logpush,omitempty"`
	Placement          *Placement      `json:"placement,omitempty"`
	Tags               []string        `json:"tags"`
	Migrations         *Migrations     `json:"migrations,omitempty"`
	// KeepBindings lists binding types whose live bindings the upload
	// keeps, unless Bindings names one the same: an upload of new code
	// alone (just dev) keeps every binding, secrets' values included,
	// which GetScriptSettings cannot read back.
	KeepBindings []string `json:"keep_bindings,omitempty"`
}

// SourceMapContentType is the part type of a module's source map.
const SourceMapContentType = "application/source-map"

// UploadScriptParams is an ES-module worker upload: one main module, and
// its source map if there is one.
type UploadScriptParams struct {
	ScriptName string
	Metadata   ScriptMetadata
	Content    string // source of Metadata.MainModule
	// SourceMap, when set, is uploaded as <main module>.map beside it.
	SourceMap string
}

// Script is what Cloudflare answers about a script (upload, list).
type Script struct {
	ID           string `json:"id"`
	Etag         string `json:"etag,omitempty"`
	CreatedOn    string `json:"created_on,omitempty"`
	ModifiedOn   string `json:"modified_on,omitempty"`
	MigrationTag string `json:"migration_tag,omitempty"`
	UsageModel   string `json:"usage_model,omitempty"`
}

// ScriptSettings is a script's configuration as GET .../settings returns it.
// secret_text bindings come back without their text. The Durable Object
// migration tag is not among it: only the scripts list reports it.
type ScriptSettings struct {
	Bindings           []WorkerBinding `json:"bindings"`
	CompatibilityDate  string          `json:"compatibility_date"`
	CompatibilityFlags []string        `json:"compatibility_flags"`
	Logpush            *bool           `json:"logpush"`
	Observability      *Observability  `json:"observability"`
	Placement          *Placement      `json:"placement"`
	Tags               []string        `json:"tags"`
	UsageModel         string          `json:"usage_model,omitempty"`
}

// UploadScript creates or replaces a script with PUT (multipart: a metadata
// part, then the main module under its own name).
func (c *Client) UploadScript(ctx context.Context, p UploadScriptParams) (Script, error) {
	if p.Metadata.MainModule == "" {
		return Script{}, fmt.Errorf("cfapi: upload %s: main module name is empty", p.ScriptName)
	}
	meta := p.Metadata
	if meta.Bindings == nil {
		meta.Bindings = []WorkerBinding{}
	}
	if meta.Tags == nil {
		meta.Tags = []string{}
	}
	if meta.CompatibilityFlags == nil {
		meta.CompatibilityFlags = []string{}
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return Script{}, fmt.Errorf("cfapi: encode metadata of %s: %w", p.ScriptName, err)
	}

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := writePart(w, "metadata", "", "application/json", metaJSON); err != nil {
		return Script{}, err
	}
	if err := writePart(w, meta.MainModule, meta.MainModule, ModuleContentType, []byte(p.Content)); err != nil {
		return Script{}, err
	}
	if p.SourceMap != "" {
		name := meta.MainModule + ".map"
		if err := writePart(w, name, name, SourceMapContentType, []byte(p.SourceMap)); err != nil {
			return Script{}, err
		}
	}
	if err := w.Close(); err != nil {
		return Script{}, fmt.Errorf("cfapi: close multipart body: %w", err)
	}

	res, err := c.do(ctx, request{
		method:      http.MethodPut,
		path:        c.accountPath("workers", "scripts", p.ScriptName),
		body:        body.Bytes(),
		contentType: w.FormDataContentType(),
	})
	if err != nil {
		return Script{}, err
	}
	var out Script
	err = res.decode(&out)
	return out, err
}

// writePart adds one form part. multipart.Writer.CreateFormFile would force
// application/octet-stream, and Cloudflare decides a module's type from the
// part's Content-Type.
func writePart(w *multipart.Writer, name, filename, contentType string, data []byte) error {
	h := textproto.MIMEHeader{}
	disp := fmt.Sprintf(`form-data; name="%s"`, escapeQuotes(name))
	if filename != "" {
		disp += fmt.Sprintf(`; filename="%s"`, escapeQuotes(filename))
	}
	h.Set("Content-Disposition", disp)
	h.Set("Content-Type", contentType)
	pw, err := w.CreatePart(h)
	if err != nil {
		return fmt.Errorf("cfapi: create part %s: %w", name, err)
	}
	if _, err := pw.Write(data); err != nil {
		return fmt.Errorf("cfapi: write part %s: %w", name, err)
	}
	return nil
}

func escapeQuotes(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// GetScriptSettings reads a script's bindings and settings.
func (c *Client) GetScriptSettings(ctx context.Context, scriptName string) (ScriptSettings, error) {
	s, err := call[ScriptSettings](ctx, c, http.MethodGet, c.accountPath("workers", "scripts", scriptName, "settings"), nil)
	for i, b := range s.Bindings {
		if b.ID == "" {
			s.Bindings[i].ID = b.DatabaseID
		}
		s.Bindings[i].DatabaseID = ""
	}
	return s, err
}

// GetScriptContent returns the source of a script's main module.
func (c *Client) GetScriptContent(ctx context.Context, scriptName string) (string, error) {
	res, err := c.do(ctx, request{method: http.MethodGet, path: c.accountPath("workers", "scripts", scriptName, "content", "v2"), raw: true})
	if err != nil {
		return "", err
	}
	return string(res.raw), nil
}

// DeleteScript deletes a script. force lets Cloudflare delete it even while
// other scripts bind to it or it holds Durable Objects, which is what a
// Pulumi delete means.
func (c *Client) DeleteScript(ctx context.Context, scriptName string) error {
	_, err := c.do(ctx, request{
		method: http.MethodDelete,
		path:   c.accountPath("workers", "scripts", scriptName),
		query:  url.Values{"force": {"true"}},
	})
	return err
}

// ListScripts lists the account's scripts.
func (c *Client) ListScripts(ctx context.Context) ([]Script, error) {
	return listAll[Script](ctx, c, c.accountPath("workers", "scripts"), 0)
}

// Schedule is one cron trigger of a script.
type Schedule struct {
	Cron string `json:"cron"`
}

// GetSchedules returns a script's cron triggers.
func (c *Client) GetSchedules(ctx context.Context, scriptName string) ([]Schedule, error) {
	res, err := call[struct {
		Schedules []Schedule `json:"schedules"`
	}](ctx, c, http.MethodGet, c.accountPath("workers", "scripts", scriptName, "schedules"), nil)
	return res.Schedules, err
}

// RunScheduled fires a worker's scheduled handler now, for cron (its first
// cron trigger when empty). Only the local emulator serves this call:
// Cloudflare runs cron triggers on their schedule alone.
func (c *Client) RunScheduled(ctx context.Context, scriptName, cron string) (Schedule, error) {
	r := request{method: http.MethodPost, path: c.accountPath("workers", "scripts", scriptName, "cfemu", "scheduled")}
	if cron != "" {
		r.query = url.Values{"cron": {cron}}
	}
	var out Schedule
	res, err := c.do(ctx, r)
	if err == nil {
		err = res.decode(&out)
	}
	return out, err
}

// Secret is a worker secret as Cloudflare lists it: never with its value.
type Secret struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ListScriptSecrets lists a script's secrets, names and types only.
func (c *Client) ListScriptSecrets(ctx context.Context, scriptName string) ([]Secret, error) {
	return call[[]Secret](ctx, c, http.MethodGet, c.accountPath("workers", "scripts", scriptName, "secrets"), nil)
}

// DeleteScriptSecret removes one secret from a script. Cloudflare keeps a
// script's secrets across uploads, so this is the only way one goes.
func (c *Client) DeleteScriptSecret(ctx context.Context, scriptName, secret string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: c.accountPath("workers", "scripts", scriptName, "secrets", secret)})
	return err
}
