package cfapi

import (
	"context"
	"net/http"
)

// D1Result is one statement's answer to a D1 query, in the order the
// statements were sent.
type D1Result struct {
	Results []map[string]any `json:"results"`
	Success bool             `json:"success"`
	Meta    D1Meta           `json:"meta"`
}

// D1Meta is what D1 reports about one statement.
type D1Meta struct {
	Duration    float64 `json:"duration"` // milliseconds
	Changes     int64   `json:"changes"`
	LastRowID   int64   `json:"last_row_id"`
	ChangedDB   bool    `json:"changed_db"`
	SizeAfter   int64   `json:"size_after"`
	RowsRead    int64   `json:"rows_read"`
	RowsWritten int64   `json:"rows_written"`
}

// GetD1Database reads one database by its UUID.
func (c *Client) GetD1Database(ctx context.Context, id string) (D1Database, error) {
	return call[D1Database](ctx, c, http.MethodGet, c.accountPath("d1", "database", id), nil)
}

// QueryD1 runs sql, which may hold several statements, on a database. D1
// runs them as one batch: if one fails, the call fails with D1's message and
// none of them stays applied. params bind to a single statement's ? marks.
func (c *Client) QueryD1(ctx context.Context, databaseID, sql string, params ...any) ([]D1Result, error) {
	body := struct {
		SQL    string `json:"sql"`
		Params []any  `json:"params,omitempty"`
	}{sql, params}
	return call[[]D1Result](ctx, c, http.MethodPost, c.accountPath("d1", "database", databaseID, "query"), body)
}
