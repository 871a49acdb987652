// Structured logs shared by the workers: one JSON line per event, kept when
// at or above the stack's LOG_LEVEL (debug in dev, info in staging and prod).
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type Level = keyof typeof LEVELS;

export type Log = (level: Level, message: string, fields?: Record<string, unknown>) => void;

export function logger(threshold: string | undefined, base: Record<string, unknown> = {}): Log {
  const min = LEVELS[threshold as Level] ?? LEVELS.info;
  return (level, message, fields = {}) => {
    if (LEVELS[level] >= min) console.log(JSON.stringify({ level, message, ...base, ...fields }));
  };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
