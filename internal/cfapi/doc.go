// Package cfapi is a small client for the Cloudflare v4 API calls Dome's companion provider makes.
//
// One place (Client.do) builds every request and decodes Cloudflare's
// envelope, so authentication, retries and error shapes are the same for every
// call: a failed call returns an *Error carrying the HTTP status and
// Cloudflare's own code and message, 429 and 5xx answers are retried with
// capped, jittered exponential backoff that honours Retry-After, and other 4xx
// answers fail at once. A call whose answer is lost (a reset connection, a
// cut body) is sent again too; when such a call changes something and still
// fails, MayHaveApplied says so, and the caller reads the object back rather
// than assume it failed. Calls keep to Cloudflare's budget (Options.Budget:
// 1,200 per 5 minutes, or CLOUDFLARE_API_BUDGET's share of it), going at
// once while within it, and a Retry-After holds back every call of the
// client, not only the one told. With Options.LedgerDir, the budget and the
// holds are shared by every process on the machine that uses the same token
// against the same API. Each call has its own request and result types, in
// the spirit of cloudflare-go's params/envelope split.
//
// The client never logs or formats the API token, and request bodies (which
// may hold secret_text bindings) never appear in errors or log lines.
package cfapi
