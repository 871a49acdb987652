-- Notes stored by silo: the metadata here, the body in the silo-content bucket under r2_key.
CREATE TABLE notes (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  title        TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL,
  r2_key       TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL DEFAULT (unixepoch()),
  deleted_at   INTEGER
);
CREATE INDEX notes_user_created ON notes (user_id, created_at DESC);
