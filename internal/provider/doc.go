// Package provider implements domecf, the Pulumi provider for the Cloudflare resources the official provider cannot manage.
//
// pulumi-cloudflare v5 has no Vectorize index, no Workers AI, Vectorize or
// Durable Object bindings, no worker observability, no queue consumers and
// no R2 event notifications, and its script upload replaces the whole
// binding list, so nothing can add the missing bindings beside it. domecf
// manages these resources with pulumi-go-provider's infer package, on top
// of internal/cfapi, and applies D1 schema migrations, which no provider
// does:
//
//   - domecf:index:WorkerScript uploads a whole ES-module worker, every
//     binding type included, with its source map and the Durable Object
//     migration steps the script has not applied yet, deletes the secrets
//     the inputs no longer have, and sets its workers.dev route and
//     preview URLs;
//   - domecf:index:VectorizeIndex creates a Vectorize v2 index and keeps its
//     metadata indexes in step;
//   - domecf:index:QueueConsumer attaches a worker to a queue;
//   - domecf:index:R2EventNotification sends a bucket's object events to a queue;
//   - domecf:index:D1Migrations applies a D1 database's migration files,
//     append-only, recorded in wrangler's d1_migrations table;
//   - domecf:index:WorkerSubdomain is retired: it was the workers.dev
//     setting before the WorkerScript took it, and stays so that stacks
//     deployed before can refresh theirs and delete them, which calls
//     nothing and leaves the setting to the WorkerScript.
//
// Provider configuration never forces a replacement: rotating the API token
// or pointing the base URL elsewhere must not rebuild anything.
package provider
