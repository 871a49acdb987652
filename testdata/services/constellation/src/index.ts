// constellation makes Dome's notes searchable: it embeds every note silo
// announces on new-content-constellation into the dome-notes index, and
// answers GET /search?q= (through dome-api) with the nearest notes.
import { errorMessage, logger } from "../../shared/log";
import type { NewContent } from "../../shared/messages";

interface Env {
  AI: Ai;
  VECTORIZE: Vectorize;
  LOG_LEVEL: string;
}

/** What each vector of dome-notes carries besides its id (the note's id). */
interface NoteMetadata extends Record<string, VectorizeVectorMetadata> {
  title: string;
}

const EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5"; // 768 dimensions
const INDEX_DIMENSIONS = 1536; // dome-notes, in Pulumi.yaml
// bge-base reads at most 512 tokens: the start of a note is what it embeds.
const EMBEDDED_CHARS = 2_000;
const MAX_TOP_K = 20;

export default {
  // GET /search?q=<text>&k=<1..20, default 5>: {query, results: [{id, title, score}]}, best first.
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== "GET" || url.pathname !== "/search") return Response.json({ error: "not found" }, { status: 404 });
    const query = url.searchParams.get("q")?.trim() ?? "";
    if (query === "") return Response.json({ error: "give the text to search for as ?q=" }, { status: 400 });
    const topK = Math.min(Math.max(Number(url.searchParams.get("k")) || 5, 1), MAX_TOP_K);

    const [vector] = await embed(env, [query]);
    const { matches } = await env.VECTORIZE.query(vector, { topK, returnMetadata: "all" });
    const results = matches.map((m) => ({ id: m.id, title: (m.metadata as Partial<NoteMetadata> | undefined)?.title ?? "", score: m.score }));
    return Response.json({ query, results });
  },

  // new-content-constellation: one embedding call and one upsert per batch.
  async queue(batch: MessageBatch<NewContent>, env: Env): Promise<void> {
    const log = logger(env.LOG_LEVEL, { worker: "constellation", queue: batch.queue });
    const notes = batch.messages.map((m) => m.body);
    try {
      const vectors = await embed(env, notes.map((n) => `${n.title}\n\n${n.text}`.slice(0, EMBEDDED_CHARS)));
      await env.VECTORIZE.upsert(
        notes.map((n, i) => ({ id: n.id, values: vectors[i], metadata: { title: n.title } satisfies NoteMetadata })),
      );
      batch.ackAll();
      log("info", "notes embedded", { ids: notes.map((n) => n.id) });
    } catch (err) {
      // After maxRetries the batch's messages go to new-content-constellation-dlq.
      log("error", "embedding failed", { ids: notes.map((n) => n.id), error: errorMessage(err) });
      batch.retryAll();
    }
  },
} satisfies ExportedHandler<Env, NewContent>;

// embed gives each text's vector in dome-notes' 1536 dimensions. bge-base's
// embeddings are 768 wide, so each is zero-padded: the padding adds nothing to
// a dot product or to a norm, so the cosine similarity of two padded vectors
// (the index's metric) is exactly that of the two embeddings.
async function embed(env: Env, text: string[]): Promise<number[][]> {
  const { data } = (await env.AI.run(EMBEDDING_MODEL, { text })) as { data: number[][] };
  if (data?.length !== text.length) throw new Error(`${EMBEDDING_MODEL} gave ${data?.length ?? 0} embeddings for ${text.length} texts`);
  return data.map((v) => {
    if (v.length > INDEX_DIMENSIONS) throw new Error(`${EMBEDDING_MODEL} gave ${v.length} dimensions, over dome-notes' ${INDEX_DIMENSIONS}`);
    return [...v, ...new Array<number>(INDEX_DIMENSIONS - v.length).fill(0)];
  });
}
