import { log } from "../../shared/log";

export default {
  async scheduled(controller: ScheduledController, env: { LOG_LEVEL: string }): Promise<void> {
    log(env.LOG_LEVEL, "tick", { cron: controller.cron });
  },
};
