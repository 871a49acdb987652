package domecf

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// WorkerScript is an ES-module Workers script with its full metadata.
type WorkerScript struct {
	pulumi.CustomResourceState

	Name          pulumi.StringOutput `pulumi:"name"`
	ContentSha256 pulumi.StringOutput `pulumi:"contentSha256"`
	// URL is https://<script>.<account subdomain>.workers.dev while the
	// worker is served there, else empty.
	URL pulumi.StringOutput `pulumi:"url"`
}

// Code is a file a worker uploads, named by the hash of its bytes. The
// provider reads it only to upload it, so state holds the path and the
// hash, never the code.
type Code struct {
	File   string // absolute path
	SHA256 string // hex SHA-256 of the file's bytes
}

// WorkerScriptArgs is what a WorkerScript uploads. Every upload replaces
// the script's whole binding list, so Bindings must be complete.
type WorkerScriptArgs struct {
	Name               pulumi.StringInput
	MainModule         string
	Content            Code
	CompatibilityDate  string
	CompatibilityFlags []string
	Bindings           []Binding
	Observability      *Observability
	Logpush            bool
	Placement          string // "smart", or empty for the default
	Tags               []string
	// Migrations is the Durable Object migration history, oldest step first.
	Migrations []Migration
	// SourceMap is the main module's source map; nil uploads none.
	SourceMap *Code
	// WorkersDev is the worker's workers.dev setting; nil leaves it as
	// Cloudflare has it.
	WorkersDev *WorkersDev
}

// WorkersDev is whether a worker is served on workers.dev, and whether its
// versions get public preview URLs there. Both are always sent, false
// included: Cloudflare turns previews on with workers.dev when the
// previews setting is left out.
type WorkersDev struct {
	Enabled  bool // served on <script>.<account subdomain>.workers.dev
	Previews bool // each uploaded version gets a public preview URL
}

// Binding is one entry of a worker's env. Type is Cloudflare's binding type
// (d1, r2_bucket, queue, service, plain_text, secret_text, ai, vectorize,
// kv_namespace, durable_object_namespace, analytics_engine, hyperdrive);
// only the fields of that type are set. Text of a secret_text binding must
// be a Pulumi secret.
type Binding struct {
	Type         string
	Name         string
	Text         pulumi.StringInput
	ID           pulumi.StringInput
	BucketName   pulumi.StringInput
	Jurisdiction pulumi.StringInput
	QueueName    pulumi.StringInput
	Service      pulumi.StringInput
	Environment  pulumi.StringInput
	IndexName    pulumi.StringInput
	NamespaceID  pulumi.StringInput
	ClassName    pulumi.StringInput
	ScriptName   pulumi.StringInput
	Dataset      pulumi.StringInput
}

// Observability is the worker's Workers Logs setting.
type Observability struct {
	Enabled          bool
	HeadSamplingRate float64
}

// Migration is one step of a worker's Durable Object migration history.
type Migration struct {
	Tag              string
	OldTag           string // first step only: the tag the script was at before the history
	NewClasses       []string
	NewSqliteClasses []string
	RenamedClasses   []RenamedClass
	DeletedClasses   []string
}

// RenamedClass is a Durable Object class renamed by a migration.
type RenamedClass struct {
	From, To string
}

// NewWorkerScript uploads a worker.
func NewWorkerScript(ctx *pulumi.Context, name string, args WorkerScriptArgs, opts ...pulumi.ResourceOption) (*WorkerScript, error) {
	props := pulumi.Map{
		"name":          args.Name,
		"contentFile":   pulumi.String(args.Content.File),
		"contentSha256": pulumi.String(args.Content.SHA256),
	}
	putString(props, "mainModule", args.MainModule)
	putString(props, "compatibilityDate", args.CompatibilityDate)
	if len(args.CompatibilityFlags) > 0 {
		props["compatibilityFlags"] = stringArray(args.CompatibilityFlags)
	}
	bindings := make(pulumi.Array, len(args.Bindings))
	for i, b := range args.Bindings {
		bindings[i] = b.input()
	}
	props["bindings"] = bindings
	if o := args.Observability; o != nil {
		props["observability"] = pulumi.Map{
			"enabled":          pulumi.Bool(o.Enabled),
			"headSamplingRate": pulumi.Float64(o.HeadSamplingRate),
		}
	}
	if args.Logpush {
		props["logpush"] = pulumi.Bool(true)
	}
	if args.Placement != "" {
		props["placement"] = pulumi.Map{"mode": pulumi.String(args.Placement)}
	}
	if len(args.Tags) > 0 {
		props["tags"] = stringArray(args.Tags)
	}
	if len(args.Migrations) > 0 {
		steps := make(pulumi.Array, len(args.Migrations))
		for i, m := range args.Migrations {
			steps[i] = m.input()
		}
		props["migrations"] = steps
	}
	if m := args.SourceMap; m != nil {
		props["sourceMapFile"] = pulumi.String(m.File)
		props["sourceMapSha256"] = pulumi.String(m.SHA256)
	}
	if d := args.WorkersDev; d != nil {
		props["workersDev"] = pulumi.Bool(d.Enabled)
		props["previewUrls"] = pulumi.Bool(d.Previews)
	}
	var w WorkerScript
	if err := ctx.RegisterResource(TypeWorkerScript, name, props, &w, opts...); err != nil {
		return nil, err
	}
	return &w, nil
}

func (b Binding) input() pulumi.Map {
	m := pulumi.Map{"type": pulumi.String(b.Type), "name": pulumi.String(b.Name)}
	put(m, "text", b.Text)
	put(m, "id", b.ID)
	put(m, "bucketName", b.BucketName)
	put(m, "jurisdiction", b.Jurisdiction)
	put(m, "queueName", b.QueueName)
	put(m, "service", b.Service)
	put(m, "environment", b.Environment)
	put(m, "indexName", b.IndexName)
	put(m, "namespaceId", b.NamespaceID)
	put(m, "className", b.ClassName)
	put(m, "scriptName", b.ScriptName)
	put(m, "dataset", b.Dataset)
	return m
}

func (m Migration) input() pulumi.Map {
	out := pulumi.Map{"tag": pulumi.String(m.Tag)}
	putString(out, "oldTag", m.OldTag)
	if len(m.NewClasses) > 0 {
		out["newClasses"] = stringArray(m.NewClasses)
	}
	if len(m.NewSqliteClasses) > 0 {
		out["newSqliteClasses"] = stringArray(m.NewSqliteClasses)
	}
	if len(m.RenamedClasses) > 0 {
		renamed := make(pulumi.Array, len(m.RenamedClasses))
		for i, r := range m.RenamedClasses {
			renamed[i] = pulumi.Map{"from": pulumi.String(r.From), "to": pulumi.String(r.To)}
		}
		out["renamedClasses"] = renamed
	}
	if len(m.DeletedClasses) > 0 {
		out["deletedClasses"] = stringArray(m.DeletedClasses)
	}
	return out
}
