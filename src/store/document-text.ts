/**
 * The text of a stored or given kops document. kops reads documents as UTF-8 and refuses a file
 * that is not ("yaml: invalid trailing UTF-8 octet"), so kstate does too, naming the line, rather
 * than reading a replacement character into the values and writing it back. A byte-order mark,
 * which kops reads past, is not part of the text.
 */
import { isUtf8 } from "node:buffer";
import { ValidationError } from "../vfs/errors";

const decoder = new TextDecoder("utf-8", { fatal: true });

export function documentText(bytes: Buffer, source: string): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (cause) {
    const line = firstBadLine(bytes);
    throw new ValidationError(`${source}: not UTF-8 text (line ${line}); kops documents are UTF-8, and kops refuses this file too`, { problems: [{ path: "", message: `not UTF-8 (line ${line})` }], cause });
  }
  if (text.startsWith("\ufeff")) throw new ValidationError(`${source}: begins with two byte-order marks; kops refuses this file too`, { problems: [{ path: "", message: "two byte-order marks" }] });
  return text;
}

/** The 1-based number of the first line that is not UTF-8. */
function firstBadLine(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (!isUtf8(bytes.subarray(start, end === -1 ? bytes.length : end))) return line;
    if (end === -1) return line;
    start = end + 1;
    line++;
  }
}
