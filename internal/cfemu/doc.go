// Package cfemu is a local, in-memory stand-in for the parts of Cloudflare's v4 API that Dome uses.
//
// It serves D1 databases, R2 buckets and their event notifications, Queues
// and their consumers, Workers KV namespaces, Workers scripts (multipart
// upload, settings, content, cron schedules, secrets) and Vectorize v2
// indexes and their vectors under /client/v4, in Cloudflare's
// response envelope, and applies the checks the real API applies at the same
// moment (authentication, duplicate names, references made by a worker's
// bindings at upload time, delete rules), so that a client written for the
// real API fails here the way it would fail there.
//
// The account itself is an Account: typed operations per family (upload a
// script, create a database, run its SQL, put a KV value or an R2 object,
// send to a queue, ...) that apply those checks and refuse with an *Error
// carrying Cloudflare's status, code and message. The HTTP handlers only
// decode a request, call one operation and encode its answer; failWith maps
// every refusal to the envelope.
//
// A Runtime (internal/runtime) may be attached: the account then hands it
// a Deployment after every change, routes requests for its workers'
// hostnames to it (custom domains, routes, workers.dev), refuses an upload
// whose script fails at start-up as Cloudflare does (10021), and reaches D1
// rows, KV values, R2 objects and the messages of queues a worker consumes
// through it, so the API and the workers see one copy of the data.
//
// Locking: the account's metadata is under one RWMutex, held only in
// memory (state file writes happen after it is released); each D1
// database, and the KV, R2, queue and vector stores, have their own.
//
// The data it owns with no runtime attached: D1 databases, each a real
// SQLite database (modernc.org/sqlite, pure Go) answering /query and /raw;
// KV values (served by the values and keys endpoints); R2 objects (the
// objects endpoints wrangler uses), whose writes send the buckets' event
// notifications to queues; and queue messages (the messages endpoints),
// which OnQueueMessage hears of. Vectorize vectors (insert, upsert, query
// with metadata filters, get and delete by ids) are always its own, and
// VectorizeBinding serves them to the runtime's bindings.
//
// With a state file, state.json holds the metadata only, rewritten on each
// change; worker code is kept once per content under <state>.data/scripts,
// D1 databases under <state>.d1, and the stores' data under <state>.data.
// Close flushes, prunes unnamed code and closes the databases.
//
// For tests it adds fault injection (latency, 429 with Retry-After, 5xx), a
// request log and a self-signed TLS certificate for clients that only
// speak https.
package cfemu
