// dome-cron's hourly run records silo's note counts in dome-meta's cron_runs,
// a heartbeat that shows the cron fires and how far the notes got.
import { errorMessage, logger } from "../../shared/log";
import type { NoteStats } from "../../shared/messages";

interface Env {
  DB: D1Database; // dome-meta
  SILO: Fetcher;
  LOG_LEVEL: string;
}

export default {
  async scheduled(controller: ScheduledController, env: Env): Promise<void> {
    const log = logger(env.LOG_LEVEL, { worker: "dome-cron", cron: controller.cron });
    let stats: NoteStats | null = null;
    try {
      const res = await env.SILO.fetch("https://silo/stats");
      if (!res.ok) throw new Error(`silo answered ${res.status}`);
      stats = await res.json<NoteStats>();
    } catch (err) {
      // The heartbeat is still recorded, without counts.
      log("warn", "no note counts from silo", { error: errorMessage(err) });
    }
    await env.DB.prepare("INSERT INTO cron_runs (cron, scheduled_at, notes, stored, summarized) VALUES (?, ?, ?, ?, ?)")
      .bind(controller.cron, Math.floor(controller.scheduledTime / 1000), stats?.notes ?? null, stats?.stored ?? null, stats?.summarized ?? null)
      .run();
    log("info", "tick", { ...stats });
  },
} satisfies ExportedHandler<Env>;
