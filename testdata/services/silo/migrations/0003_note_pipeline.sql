-- What happens to a note after silo writes it. It starts pending. Once R2
-- announces its body on silo-content-uploaded, silo marks it stored with the
-- object's eTag. ai-processor then records its summary.
ALTER TABLE notes ADD COLUMN status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'stored'));
ALTER TABLE notes ADD COLUMN etag TEXT;
ALTER TABLE notes ADD COLUMN stored_at INTEGER;
ALTER TABLE notes ADD COLUMN summary TEXT;
ALTER TABLE notes ADD COLUMN summary_model TEXT;
ALTER TABLE notes ADD COLUMN summarized_at INTEGER;
