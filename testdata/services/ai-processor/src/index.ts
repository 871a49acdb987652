import { log } from "../../shared/log";

interface Env {
  AI: Ai;
  LOG_LEVEL: string;
}

export default {
  async queue(batch: MessageBatch<{ id: string }>, env: Env): Promise<void> {
    for (const message of batch.messages) {
      log(env.LOG_LEVEL, "processing", { id: message.body.id });
      message.ack();
    }
  },
};
