// A module shared by the example workers, so bundling has a local import to inline.
export function log(level: string, message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}
