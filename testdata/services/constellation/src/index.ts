import { log } from "../../shared/log";

interface Env {
  AI: Ai;
  VECTORIZE: VectorizeIndex;
  LOG_LEVEL: string;
}

interface NewContent {
  id: string;
  text: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const query = new URL(request.url).searchParams.get("q") ?? "";
    const embedding = await env.AI.run("@cf/baai/bge-base-en-v1.5", { text: [query] });
    const matches = await env.VECTORIZE.query(embedding.data[0], { topK: 5 });
    return Response.json(matches);
  },
  async queue(batch: MessageBatch<NewContent>, env: Env): Promise<void> {
    for (const message of batch.messages) {
      log(env.LOG_LEVEL, "embedding", { id: message.body.id });
      message.ack();
    }
  },
};
