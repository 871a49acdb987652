-- One row per run of dome-cron's scheduled handler, with silo's note counts
-- at that time (NULL when silo did not answer).
CREATE TABLE cron_runs (
  id           INTEGER PRIMARY KEY,
  cron         TEXT NOT NULL,
  scheduled_at INTEGER NOT NULL,  -- when the cron was due, in seconds since the epoch like ran_at
  notes        INTEGER,
  stored       INTEGER,
  summarized   INTEGER,
  ran_at       INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX cron_runs_ran ON cron_runs (ran_at DESC);
