// The bodies of the messages Dome's queues carry.

/**
 * What R2 sends to silo-content-uploaded for each object stored in silo-content
 * (the bucket's event notification rule: PutObject, CompleteMultipartUpload).
 */
export interface R2ObjectEvent {
  account: string;
  action: string;
  bucket: string;
  object: { key: string; size: number; eTag: string };
  eventTime: string;
}

/**
 * A note whose body is stored, as silo announces it on new-content-constellation
 * and new-content-ai: everything the consumers need, so that neither reads silo's
 * database or bucket.
 */
export interface NewContent {
  id: string;
  title: string;
  /** The note's body, cut to MAX_TEXT_CHARS. */
  text: string;
}

/**
 * A queue message may be 128 KB; 16,000 characters are at most 64 KB of UTF-8,
 * leaving room for the title and the JSON around them.
 */
export const MAX_TEXT_CHARS = 16_000;

/** What ai-processor sends silo (PUT /notes/:id/summary) once a note is summarized. */
export interface Summary {
  summary: string;
  model: string;
}

/** Counts of silo's notes (GET /stats), as dome-cron records them. */
export interface NoteStats {
  notes: number;
  stored: number;
  summarized: number;
}
