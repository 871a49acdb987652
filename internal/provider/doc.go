// Package provider implements domecf, the Pulumi provider for the Cloudflare resources the official provider cannot manage.
//
// pulumi-cloudflare v5 has no Vectorize index, no Workers AI, Vectorize or
// Durable Object bindings, no worker observability and no queue consumers,
// and its script upload replaces the whole binding list, so nothing can add
// the missing bindings beside it. domecf manages three resources with
// pulumi-go-provider's infer package, on top of internal/cfapi, and applies
// D1 schema migrations, which no provider does:
//
//   - domecf:index:WorkerScript uploads a whole ES-module worker, every
//     binding type included;
//   - domecf:index:VectorizeIndex creates a Vectorize v2 index and keeps its
//     metadata indexes in step;
//   - domecf:index:QueueConsumer attaches a worker to a queue;
//   - domecf:index:D1Migrations applies a D1 database's migration files,
//     append-only, recorded in wrangler's d1_migrations table.
//
// Provider configuration never forces a replacement: rotating the API token
// or pointing the base URL elsewhere must not rebuild anything.
package provider
