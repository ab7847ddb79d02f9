"use strict";
// Loads a CommonJS file with V8's code cache kept on disk, for Node.js versions before 22.1 (which
// have module.enableCompileCache for this). The first run compiles as usual and, at exit, stores
// the code of every function it ran; later runs start from that code instead of compiling the file
// again. The cache sits in NODE_COMPILE_CACHE, else a folder of the user's own in the temporary
// folder, and is used only while no one else can write that folder; NODE_DISABLE_COMPILE_CACHE=1
// turns it off. V8 refuses a cache made by another version, other flags or other source (then
// the file compiles as usual and the cache is made again).
const { isAscii } = require("node:buffer");
const fs = require("node:fs");
const Module = require("node:module");
const os = require("node:os");
const path = require("node:path");
const vm = require("node:vm");

/** FNV-1a, 32 bits: a name for the cache, cheap to make (node:crypto alone takes longer to load than it saves). */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * Where the cache of `file` is kept: one name per Node.js version, flags and build of the file,
 * and per `variant` (the command: a cache holds the code its first run compiled, so each command
 * starts from its own).
 */
function cacheFile(file, stat, variant) {
  const dir = process.env.NODE_COMPILE_CACHE || path.join(os.tmpdir(), `kstate-code-cache-${typeof process.getuid === "function" ? process.getuid() : "user"}`);
  const key = `${process.version}\0${process.arch}\0${process.execArgv.join(" ")}\0${file}\0${stat.size}\0${stat.mtimeMs}`;
  const name = /^[a-z][a-z-]{0,31}$/.test(variant ?? "") ? `-${variant}` : "";
  return { dir, file: path.join(dir, `${path.basename(file)}${name}-${fnv1a(key)}.bin`) };
}

/** Largest cache read: the bundle's is a few hundred KiB. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Whether `dir` is a folder this user alone can write (made here if missing, never its parents):
 * a cache in a shared temporary folder is trusted only then. Anything else means no cache.
 */
function ownFolder(dir) {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (e.code !== "EEXIST") return false;
  }
  try {
    const st = fs.lstatSync(dir);
    if (!st.isDirectory()) return false;
    if (typeof process.getuid === "function" && st.uid !== process.getuid()) return false;
    return (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * The cache's bytes: a regular file, not followed through a link (nor waited on, were it a pipe:
 * the open does not block), of a sane size.
 */
function readCache(where) {
  let fd;
  try {
    fd = fs.openSync(where.file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0));
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size === 0 || st.size > MAX_CACHE_BYTES) return undefined;
    const data = Buffer.alloc(st.size);
    return fs.readSync(fd, data, 0, st.size, 0) === st.size ? data : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Stores a cache, and removes the command's caches of earlier builds (another build, Node.js
 * version or flags), which no run reads again: without this every upgrade left its caches behind.
 */
function writeCache(where, data) {
  const temp = `${where.file}.${process.pid}`;
  try {
    fs.writeFileSync(temp, data, { mode: 0o600, flag: "wx" });
    fs.renameSync(temp, where.file);
  } catch {
    // A cache that cannot be written costs the next run its compile time, nothing else.
    fs.rmSync(temp, { force: true });
    return;
  }
  const mine = path.basename(where.file);
  const stem = mine.replace(/[0-9a-f]{8}\.bin$/, "");
  try {
    for (const f of fs.readdirSync(where.dir)) {
      if (f !== mine && f.startsWith(stem) && /^[0-9a-f]{8}\.bin$/.test(f.slice(stem.length))) fs.rmSync(path.join(where.dir, f), { force: true });
    }
  } catch {
    // Left for the next build's run.
  }
}

/** What a CommonJS module's code is compiled inside, as Node.js's loader does. */
const WRAPPER = ["(function (exports, require, module, __filename, __dirname) { ", "\n});"];

/**
 * The module function's source: `file` read between WRAPPER's halves in one buffer, so it is one
 * string as it stands. Joining the halves to the file's text as strings would have V8 copy the
 * whole (1 MB) into the young generation to compile it, and collect it at once (about 1.5 ms of
 * every start). The bundle is ASCII (scripts/bundle-cli.js), so it is read as one-byte text, no
 * UTF-8 to decode: and at this size Node.js keeps such a string outside V8's heap.
 */
function wrappedSource(file) {
  const fd = fs.openSync(file, "r");
  try {
    const [head, tail] = WRAPPER.map((s) => Buffer.from(s, "latin1"));
    const size = fs.fstatSync(fd).size;
    const bytes = Buffer.allocUnsafe(head.length + size + tail.length);
    head.copy(bytes, 0);
    let read = 0;
    while (read < size) {
      const n = fs.readSync(fd, bytes, head.length + read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    tail.copy(bytes, head.length + read);
    const whole = bytes.subarray(0, head.length + read + tail.length);
    if (typeof isAscii === "function" && isAscii(whole)) return whole.toString("latin1");
    return whole.toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

/** `require(file)`, through the code cache where one can be kept (`variant`: see cacheFile). */
function requireCached(file, variant) {
  if (typeof Module.enableCompileCache === "function" || process.env.NODE_DISABLE_COMPILE_CACHE === "1") return require(file);
  const source = wrappedSource(file);
  const where = cacheFile(file, fs.statSync(file), variant);
  const usable = ownFolder(where.dir);
  const cached = usable ? readCache(where) : undefined;
  const script = new vm.Script(source, { filename: file, ...(cached ? { cachedData: cached } : {}) });
  if (usable && (!cached || script.cachedDataRejected)) process.once("exit", () => writeCache(where, script.createCachedData()));
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  Module._cache[file] = mod;
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod.exports;
}

module.exports = { requireCached };
