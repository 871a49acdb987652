import { log } from "../../shared/log";

interface Env {
  AI: Ai;
  CONSTELLATION: Fetcher;
  SILO: Fetcher;
  VERSION: string;
  LOG_LEVEL: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    log(env.LOG_LEVEL, "request", { path: url.pathname });
    if (url.pathname.startsWith("/notes")) return env.SILO.fetch(request);
    if (url.pathname.startsWith("/search")) return env.CONSTELLATION.fetch(request);
    return Response.json({ service: "dome-api", version: env.VERSION });
  },
};
