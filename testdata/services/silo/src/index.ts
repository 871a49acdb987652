interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  NEW_CONTENT_CONSTELLATION: Queue;
  NEW_CONTENT_AI: Queue;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== "POST") {
      const { results } = await env.DB.prepare("SELECT id FROM notes LIMIT 20").all();
      return Response.json(results);
    }
    const id = crypto.randomUUID();
    await env.BUCKET.put(id, await request.text());
    await Promise.all([env.NEW_CONTENT_CONSTELLATION.send({ id }), env.NEW_CONTENT_AI.send({ id })]);
    return Response.json({ id }, { status: 201 });
  },
};
