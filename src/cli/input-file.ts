/** A file a command reads its input from: a path, or `-` for stdin (as kops's -f - and -i -). */
import * as fs from "node:fs";
import { type Io, UsageError } from "./io";

export async function readInputFile(flag: string, file: string, io: Io): Promise<{ data: Buffer; source: string }> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return { data: Buffer.concat(chunks), source: "stdin" };
  }
  try {
    return { data: fs.readFileSync(file), source: file };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : (e as Error).message}`);
  }
}
