// silo keeps Dome's notes: each one a row in its D1 database and its body an
// object in silo-content. R2 announces every stored body on
// silo-content-uploaded; silo consumes that queue, marks the note stored and
// hands it to constellation and ai-processor through their queues.
import { errorMessage, logger } from "../../shared/log";
import { MAX_TEXT_CHARS, type NewContent, type NoteStats, type R2ObjectEvent, type Summary } from "../../shared/messages";

interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  NEW_CONTENT_CONSTELLATION: Queue<NewContent>;
  NEW_CONTENT_AI: Queue<NewContent>;
  LOG_LEVEL: string;
}

interface NoteRow {
  id: string;
  title: string;
  content_type: string;
  size: number;
  r2_key: string;
  status: "pending" | "stored";
  etag: string | null;
  summary: string | null;
  summary_model: string | null;
  created_at: number;
  stored_at: number | null;
  summarized_at: number | null;
}

// The example has no accounts yet: every note belongs to one user.
const USER_ID = "anonymous";
const TITLE_CHARS = 200;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    const [, first, id, sub] = pathname.split("/");
    if (first === "stats" && !id && request.method === "GET") return stats(env);
    if (first !== "notes") return error(404, "not found");
    if (!id && request.method === "POST") return createNote(request, env);
    if (!id && request.method === "GET") return listNotes(env);
    if (id && !sub && request.method === "GET") return getNote(id, env);
    if (id && sub === "summary" && request.method === "PUT") return putSummary(id, request, env);
    return error(405, `${request.method} ${pathname} is not supported`);
  },

  // silo-content-uploaded: a body is in the bucket.
  async queue(batch: MessageBatch<R2ObjectEvent>, env: Env): Promise<void> {
    const log = logger(env.LOG_LEVEL, { worker: "silo", queue: batch.queue });
    for (const message of batch.messages) {
      try {
        await stored(message.body, env);
        message.ack();
      } catch (err) {
        log("error", "marking a note stored failed", { key: message.body.object?.key, attempts: message.attempts, error: errorMessage(err) });
        message.retry();
      }
    }
  },
} satisfies ExportedHandler<Env, R2ObjectEvent>;

// POST /notes: {"title", "body"} as JSON, or the body as text (its first line is the title).
async function createNote(request: Request, env: Env): Promise<Response> {
  const note = parseNote(await request.text(), request.headers.get("content-type") ?? "");
  if (!note) return error(400, 'send {"title": "...", "body": "..."} as JSON, or the note as text');

  const id = crypto.randomUUID();
  const key = `notes/${id}`;
  const size = new TextEncoder().encode(note.body).byteLength;
  // The row first: when R2 announces the object, its note is there to mark stored.
  await env.DB.prepare("INSERT INTO notes (id, user_id, title, content_type, size, r2_key) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(id, USER_ID, note.title, "text/plain; charset=utf-8", size, key)
    .run();
  try {
    await env.BUCKET.put(key, note.body, { httpMetadata: { contentType: "text/plain; charset=utf-8" } });
  } catch (err) {
    await env.DB.prepare("DELETE FROM notes WHERE id = ?").bind(id).run();
    throw err;
  }
  logger(env.LOG_LEVEL, { worker: "silo" })("info", "note created", { id, size });
  return Response.json({ id }, { status: 201, headers: { location: `/notes/${id}` } });
}

function parseNote(text: string, contentType: string): { title: string; body: string } | null {
  if (contentType.includes("json") || text.trimStart().startsWith("{")) {
    try {
      const input: unknown = JSON.parse(text);
      if (isRecord(input) && typeof input.body === "string" && input.body !== "") {
        const title = typeof input.title === "string" ? input.title : firstLine(input.body);
        return { title: title.slice(0, TITLE_CHARS), body: input.body };
      }
    } catch {
      // Not JSON after all: a text note that starts with "{".
    }
    if (contentType.includes("json")) return null;
  }
  if (text.trim() === "") return null;
  return { title: firstLine(text), body: text };
}

function firstLine(text: string): string {
  return text.trim().split("\n", 1)[0].trim().slice(0, TITLE_CHARS);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function listNotes(env: Env): Promise<Response> {
  const { results } = await env.DB.prepare(
    "SELECT id, title, status, created_at FROM notes WHERE deleted_at IS NULL ORDER BY created_at DESC LIMIT 20",
  ).all();
  return Response.json(results);
}

// GET /notes/:id: the row, the body from R2 and the summary.
async function getNote(id: string, env: Env): Promise<Response> {
  const row = await env.DB.prepare("SELECT * FROM notes WHERE id = ? AND deleted_at IS NULL").bind(id).first<NoteRow>();
  if (!row) return error(404, `no note ${id}`);
  const object = await env.BUCKET.get(row.r2_key);
  return Response.json({
    id: row.id,
    title: row.title,
    status: row.status,
    contentType: row.content_type,
    size: row.size,
    etag: row.etag,
    createdAt: row.created_at,
    storedAt: row.stored_at,
    body: object ? await object.text() : null,
    summary: row.summary,
    summaryModel: row.summary_model,
    summarizedAt: row.summarized_at,
  });
}

// PUT /notes/:id/summary, from ai-processor through its SILO service binding.
async function putSummary(id: string, request: Request, env: Env): Promise<Response> {
  const input = await request.json<Partial<Summary>>().catch(() => null);
  if (typeof input?.summary !== "string" || typeof input.model !== "string") return error(400, 'send {"summary": "...", "model": "..."}');
  const { meta } = await env.DB.prepare("UPDATE notes SET summary = ?, summary_model = ?, summarized_at = unixepoch() WHERE id = ?")
    .bind(input.summary, input.model, id)
    .run();
  if (meta.changes === 0) return error(404, `no note ${id}`);
  return new Response(null, { status: 204 });
}

// GET /stats: how many notes there are, stored and summarized (for dome-cron).
async function stats(env: Env): Promise<Response> {
  const counts = await env.DB.prepare(
    "SELECT count(*) AS notes, count(stored_at) AS stored, count(summarized_at) AS summarized FROM notes WHERE deleted_at IS NULL",
  ).first<NoteStats>();
  return Response.json(counts);
}

// A body is in silo-content: mark its note stored, then announce it to
// constellation and ai-processor with its text.
async function stored(event: R2ObjectEvent, env: Env): Promise<void> {
  const log = logger(env.LOG_LEVEL, { worker: "silo" });
  const note = await env.DB.prepare("SELECT id, title FROM notes WHERE r2_key = ?").bind(event.object.key).first<Pick<NoteRow, "id" | "title">>();
  if (!note) return log("warn", "an object that is no note's body", { key: event.object.key });
  const object = await env.BUCKET.get(event.object.key);
  if (!object) return log("warn", "the body is gone", { id: note.id, key: event.object.key });

  await env.DB.prepare("UPDATE notes SET status = 'stored', etag = ?, stored_at = coalesce(stored_at, unixepoch()) WHERE id = ?")
    .bind(event.object.eTag, note.id)
    .run();
  const content: NewContent = { id: note.id, title: note.title, text: (await object.text()).slice(0, MAX_TEXT_CHARS) };
  await Promise.all([env.NEW_CONTENT_CONSTELLATION.send(content), env.NEW_CONTENT_AI.send(content)]);
  log("info", "note stored", { id: note.id, etag: event.object.eTag });
}

function error(status: number, message: string): Response {
  return Response.json({ error: message }, { status });
}
