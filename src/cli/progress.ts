import type { SyncProgress } from "../ops/migrate";
import { formatBytes, type Io } from "./io";

/**
 * Progress of a long operation: a bar redrawn in place on a terminal, plain lines (at most one
 * every two seconds, and the last) otherwise.
 */
export class ProgressReporter {
  private lastLine = 0;
  private drawn = false;
  private finished = false;
  private printedEnd = false;

  constructor(private readonly io: Io, private readonly label: string) {}

  private get tty(): boolean {
    return this.io.stderr.isTTY === true;
  }

  update(p: SyncProgress): void {
    if (this.finished || (p.phase !== "copying" && p.phase !== "done")) return;
    const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : p.filesTotal > 0 ? p.filesDone / p.filesTotal : 1;
    const percent = Math.floor(fraction * 100);
    const rate = `${formatBytes(p.bytesPerSecond)}/s`;
    const eta = p.etaSeconds !== undefined && fraction < 1 ? `, ${Math.ceil(p.etaSeconds)}s left` : "";
    const counts = `${p.filesDone}/${p.filesTotal} files, ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}`;
    const now = Date.now();
    // The end is reached by the last copy and then said again by "done": it is shown once.
    if (fraction >= 1 && this.printedEnd) return;
    if (this.tty) {
      // Redraw at most ten times a second, and always at the end.
      if (now - this.lastLine < 100 && fraction < 1) return;
      this.printedEnd = fraction >= 1;
      this.lastLine = now;
      const width = 30;
      const filled = Math.round(fraction * width);
      this.io.stderr.write(`\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(percent).padStart(3)}% ${counts} ${rate}${eta}\u001b[K`);
      this.drawn = true;
      return;
    }
    if (now - this.lastLine < 2000 && fraction < 1) return;
    this.printedEnd = fraction >= 1;
    this.lastLine = now;
    this.io.stderr.write(`${this.label}: ${percent}% (${counts}, ${rate}${eta})\n`);
  }

  /** Ends the bar's line; later updates (copies still settling after a failure) draw nothing. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.tty && this.drawn) this.io.stderr.write("\n");
  }
}
