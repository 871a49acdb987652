package cfapi

import (
	"context"
	"net/http"
	"net/url"
)

// D1Database is a D1 database as Cloudflare lists it.
type D1Database struct {
	UUID      string `json:"uuid"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at,omitempty"`
	Version   string `json:"version,omitempty"`
	NumTables int    `json:"num_tables,omitempty"`
	FileSize  int64  `json:"file_size,omitempty"`
}

// R2Bucket is an R2 bucket as Cloudflare lists it.
type R2Bucket struct {
	Name         string `json:"name"`
	CreationDate string `json:"creation_date,omitempty"`
	Location     string `json:"location,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	StorageClass string `json:"storage_class,omitempty"`
}

// KVNamespace is a Workers KV namespace.
type KVNamespace struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListD1Databases lists the account's D1 databases.
func (c *Client) ListD1Databases(ctx context.Context) ([]D1Database, error) {
	return listAll[D1Database](ctx, c, c.accountPath("d1", "database"), 100)
}

// ListKVNamespaces lists the account's KV namespaces.
func (c *Client) ListKVNamespaces(ctx context.Context) ([]KVNamespace, error) {
	return listAll[KVNamespace](ctx, c, c.accountPath("storage", "kv", "namespaces"), 100)
}

// ListR2Buckets lists the account's buckets. R2 pages with a cursor rather
// than page numbers and wraps the list in {buckets: [...]}.
func (c *Client) ListR2Buckets(ctx context.Context) ([]R2Bucket, error) {
	var all []R2Bucket
	cursor := ""
	for {
		q := url.Values{"per_page": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		res, err := c.do(ctx, request{method: http.MethodGet, path: c.accountPath("r2", "buckets"), query: q})
		if err != nil {
			return nil, err
		}
		var page struct {
			Buckets []R2Bucket `json:"buckets"`
		}
		if err := res.decode(&page); err != nil {
			return nil, err
		}
		all = append(all, page.Buckets...)
		if res.info == nil {
			return all, nil
		}
		cursor = res.info.Cursor
		if cursor == "" || len(page.Buckets) == 0 {
			return all, nil
		}
	}
}
