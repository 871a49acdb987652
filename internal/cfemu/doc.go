// Package cfemu is a local, in-memory stand-in for the parts of Cloudflare's v4 API that Dome uses.
//
// It serves D1 databases, R2 buckets and their event notifications, Queues
// and their consumers, Workers KV namespaces, Workers scripts (multipart
// upload, settings, content, cron schedules, secrets) and Vectorize v2
// indexes under /client/v4, in Cloudflare's
// response envelope, and applies the checks the real API applies at the same
// moment (authentication, duplicate names, references made by a worker's
// bindings at upload time, delete rules), so that a client written for the
// real API fails here the way it would fail there.
//
// The account itself is an Account: typed operations per family (upload a
// script, create a database, run its SQL, ...) that apply those checks and
// refuse with an *Error carrying Cloudflare's status, code and message. The
// HTTP handlers only decode a request, call one operation and encode its
// answer; failWith maps every refusal to the envelope.
//
// For tests it adds fault injection (latency, 429 with Retry-After, 5xx), a
// request log, optional persistence to a JSON file and a self-signed TLS
// certificate for clients that only speak https.
//
// D1 is the one data plane it has: each database is a real SQLite database
// (modernc.org/sqlite, pure Go) answering /query and /raw, in memory or in
// files beside the state file. It stores no KV values, no R2 objects, no
// vectors, and it never runs a worker.
package cfemu
