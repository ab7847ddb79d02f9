/**
 * Where a provider's messages go (the plan a preview shows, a store kept on destroy). Run as a
 * dynamic provider, the engine prints the provider's standard error beside the preview, so that
 * is the default; the provider plugin (src/plugin) sends them to the engine's log instead, under
 * the resource they are about, since the engine keeps a plugin's standard error to its debug log.
 */
export type Reporter = (text: string) => void;

const toStderr: Reporter = (text) => void process.stderr.write(`${text}\n`);

let reporter: Reporter = toStderr;

/** Reports `text` (one or more lines, without the final newline). */
export function report(text: string): void {
  reporter(text);
}

/** Sends every later report to `to` (the default: standard error, when `to` is undefined). */
export function reportTo(to: Reporter | undefined): void {
  reporter = to ?? toStderr;
}
