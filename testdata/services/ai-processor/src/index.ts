// ai-processor summarizes every note silo announces on new-content-ai with a
// text model, and records the summary in silo (PUT /notes/:id/summary through
// its SILO service binding), where GET /notes/:id shows it.
import { errorMessage, logger } from "../../shared/log";
import type { NewContent, Summary } from "../../shared/messages";

interface Env {
  AI: Ai;
  SILO: Fetcher;
  LOG_LEVEL: string;
}

const SUMMARY_MODEL = "@cf/meta/llama-3.1-8b-instruct";
const PROMPT = "Summarize the user's note in at most three sentences. Answer with the summary alone.";

export default {
  async queue(batch: MessageBatch<NewContent>, env: Env): Promise<void> {
    const log = logger(env.LOG_LEVEL, { worker: "ai-processor", queue: batch.queue });
    // Each note on its own: one failing is retried (then dead-lettered to
    // new-content-ai-dlq) without redoing the others.
    await Promise.all(
      batch.messages.map(async (message) => {
        const note = message.body;
        try {
          await record(env, note.id, { summary: await summarize(env, note), model: SUMMARY_MODEL });
          message.ack();
          log("info", "note summarized", { id: note.id });
        } catch (err) {
          log("error", "summarizing failed", { id: note.id, attempts: message.attempts, error: errorMessage(err) });
          message.retry();
        }
      }),
    );
  },
} satisfies ExportedHandler<Env, NewContent>;

async function summarize(env: Env, note: NewContent): Promise<string> {
  const answer = (await env.AI.run(SUMMARY_MODEL, {
    messages: [
      { role: "system", content: PROMPT },
      { role: "user", content: `${note.title}\n\n${note.text}` },
    ],
  })) as { response?: string };
  const summary = answer.response?.trim();
  if (!summary) throw new Error(`${SUMMARY_MODEL} gave no response`);
  return summary;
}

async function record(env: Env, id: string, summary: Summary): Promise<void> {
  const res = await env.SILO.fetch(`https://silo/notes/${encodeURIComponent(id)}/summary`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(summary),
  });
  if (!res.ok) throw new Error(`silo answered ${res.status}: ${await res.text()}`);
}
