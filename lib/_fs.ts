// File-system helpers shared by the library and the scripts: atomic writes, existence checks,
// and output directories whose sets are replaced as a unit under a lock.

import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Writes a whole file so that readers see either the old contents or the new ones, never a
 * partial file: the data goes to a temporary file in the same directory, which is then
 * renamed over `path`. The parent directory is created if missing. On any failure the
 * temporary file is removed and the error rethrown.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./_fs.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/results/metrics.json`, '{"accuracy":0.97}\n');
 * assert.equal(await Deno.readTextFile(`${dir}/results/metrics.json`), '{"accuracy":0.97}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string | URL,
  data: string | Uint8Array,
): Promise<void> {
  const target = path instanceof URL ? fileURLToPath(path) : path;
  const dir = dirname(target);
  await Deno.mkdir(dir, { recursive: true });
  // A random name in the same directory (so rename is atomic), created with the usual mode.
  const temp = join(dir, `.${basename(target)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    await Deno.writeFile(temp, bytes, { createNew: true });
    await Deno.rename(temp, target);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/**
 * Whether `path` exists; errors other than "not found" (such as a denied permission) propagate.
 *
 * @example
 * ```ts
 * import { exists } from "./_fs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await exists("/definitely/not/here"), false);
 * ```
 */
export async function exists(path: string | URL): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** A directory of outputs that cannot be used: `dir` names it as the user gave it. */
export class OutputDirError extends Error {
  /** The directory, as named in the message (e.g. `--out results`). */
  readonly dir: string;

  /**
   * Creates the error; the message says what is wrong with `dir` and what to do.
   *
   * @example
   * ```ts
   * import { OutputDirError } from "./_fs.ts";
   * import assert from "node:assert/strict";
   * const e = new OutputDirError("--out r", "cannot write --out r: the disk is full");
   * assert.equal(e.name, "OutputDirError");
   * assert.equal(e.dir, "--out r");
   * ```
   */
  constructor(dir: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutputDirError";
    this.dir = dir;
  }
}

/** Writes one file of an output set; the default flushes it to disk before returning. */
export type WriteFile = (path: string, data: Uint8Array) => Promise<void>;

/** Options for {@linkcode openOutputDir}. */
export interface OutputDirOptions {
  /**
   * File names a plain directory at the path may hold to be adopted as the first version (the
   * outputs of a release before output sets); anything else there is refused. Default none.
   */
  adopt?: readonly string[];
  /** How the directory is named in messages, e.g. `--out results`. Default: the path. */
  label?: string;
  /** Writes each file (and the probe); inject a failing one to test. Default: write and fsync. */
  writeFile?: WriteFile;
}

/** Options for {@linkcode OutputDir.replace}. */
export interface ReplaceOptions {
  /**
   * Publish under this name inside the store (`PATH.d/NAME`) instead of at the path itself,
   * e.g. `"diverged"` for a failed run's diagnostics. Default: the path.
   */
  link?: string;
  /**
   * Carry over the current version's files that this set does not replace (another tool's
   * outputs in the same directory). Default true.
   */
  carry?: boolean;
  /**
   * Names never carried over even when this set does not include them: the writing tool's
   * own optional files (e.g. a model a previous run was asked to save and this one was not),
   * so that the set never mixes them with another run's. Default none.
   */
  drop?: readonly string[];
}

/**
 * An output directory opened by {@linkcode openOutputDir}: locked against other runs until
 * {@linkcode OutputDir.close}. The path is a symbolic link to a complete version in the store
 * `PATH.d/`; {@linkcode OutputDir.replace} writes a new version there and swaps the link.
 */
export interface OutputDir {
  /** The path as given. */
  readonly path: string;
  /** The store beside it, `PATH.d`: versions, the lock, and the `diverged` link. */
  readonly store: string;
  /**
   * Writes `files` as a new version (each fsynced, in a staging directory renamed into the
   * store) and swaps the link to it with one rename; then removes versions older than the one
   * replaced. On any failure the link is untouched and the staging directory removed. Returns
   * the files' paths as a reader names them.
   */
  replace(
    files: readonly (readonly [name: string, data: string | Uint8Array])[],
    options?: ReplaceOptions,
  ): Promise<string[]>;
  /** Releases the lock (the OS also releases it when the process dies). */
  close(): void;
}

const VERSION = /^run-\d{8}T\d{6}-\d{3}Z-[0-9a-f]{8}$/;
const STAGING = /^\.staging-/;
const TEMP_LINK = /^\..+\.link-[0-9a-f]{8}$/;
/** Temporary files of writeFileAtomic, left by a run killed mid-write before output sets. */
const STALE_TEMP = /^\..+\.[0-9a-f]{8}\.tmp$/;

/**
 * Opens the output directory `path` for one run, before the run does its work: checks the
 * permissions, creates the store `PATH.d/`, takes an exclusive lock on `PATH.d/lock` (flock,
 * released by the OS if the process dies), removes what killed runs left (staging
 * directories, temporary links and files), and proves it can write there with a probe.
 *
 * A reader of `PATH/NAME` sees, at every moment, a complete set: `PATH` is a symbolic link
 * that one `rename` swaps from one complete version to the next.
 *
 * @throws {OutputDirError} Naming the directory and the cause: another run holds the lock,
 * a missing permission, permission denied, a read-only or full file system, a regular file
 * in the path, or a directory holding files other than `adopt`.
 *
 * @example
 * ```ts
 * import { openOutputDir } from "./_fs.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const out = await openOutputDir(`${dir}/results`);
 * await assert.rejects(openOutputDir(`${dir}/results`), /in use by another run/);
 * await out.replace([["a.txt", "one"], ["b.txt", "two"]]);
 * assert.equal(await Deno.readTextFile(`${dir}/results/b.txt`), "two");
 * out.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openOutputDir(
  path: string,
  options: OutputDirOptions = {},
): Promise<OutputDir> {
  const label = options.label ?? path;
  await requireUnscopedPermissions(label);
  const abs = resolve(path.replace(/(.)\/+$/, "$1"));
  const store = `${abs}.d`;
  await inspectOutputPath(abs, store, label, options.adopt ?? []);
  await Deno.mkdir(store, { recursive: true }).catch((e) => {
    throw explainFsError(e, label);
  });
  const lock = await takeLock(join(store, "lock"), label);
  const writeFile = options.writeFile ?? writeFileDurably;
  const dir = new StoredOutputDir(path, abs, store, label, lock, writeFile);
  try {
    await removeStale(abs, store);
    await probe(abs, store, writeFile);
    return dir;
  } catch (e) {
    dir.close();
    throw explainFsError(e, label);
  }
}

class StoredOutputDir implements OutputDir {
  readonly store: string;
  constructor(
    readonly path: string,
    private readonly abs: string,
    store: string,
    private readonly label: string,
    private readonly lock: Deno.FsFile,
    private readonly writeFile: WriteFile,
  ) {
    this.store = store;
  }

  async replace(
    files: readonly (readonly [string, string | Uint8Array])[],
    { link, carry = true, drop = [] }: ReplaceOptions = {},
  ): Promise<string[]> {
    const linkPath = link === undefined ? this.abs : join(this.store, link);
    const current = await currentVersion(linkPath);
    const id = newVersionId();
    const version = join(this.store, id);
    const legacy = newVersionId();
    try {
      await this.writeVersion(version, files, carry ? current : null, drop);
    } catch (e) {
      throw explainFsError(e, this.label, "; the previous outputs there are unchanged");
    }
    try {
      // A plain directory from an older release moves into the store first (a reader then
      // briefly finds no directory, never a mixed one); later swaps are a single rename.
      if (current?.plain) await Deno.rename(linkPath, join(this.store, legacy));
      const target = link === undefined ? `${basename(this.store)}/${id}` : id;
      const temp = tempLink(linkPath);
      await Deno.symlink(target, temp);
      await Deno.rename(temp, linkPath);
      await syncDir(dirname(linkPath));
    } catch (e) {
      if (current?.plain) await Deno.rename(join(this.store, legacy), linkPath).catch(() => {});
      await Deno.remove(version, { recursive: true }).catch(() => {});
      throw explainFsError(e, this.label, "; the previous outputs there are unchanged");
    }
    await this.prune(current?.plain ? legacy : current?.name ?? null);
    const shown = link === undefined ? this.path : join(`${this.path}.d`, link);
    return files.map(([name]) => join(shown, name));
  }

  /** Writes the version in a staging directory, fsynced, then renames it into the store. */
  private async writeVersion(
    version: string,
    files: readonly (readonly [string, string | Uint8Array])[],
    carryFrom: { dir: string } | null,
    drop: readonly string[],
  ): Promise<void> {
    const staging = join(this.store, `.staging-${basename(version)}`);
    await Deno.mkdir(staging);
    try {
      for (const [name, data] of files) {
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
        await this.writeFile(join(staging, name), bytes);
      }
      if (carryFrom) {
        await carryOver(carryFrom.dir, staging, new Set([...files.map(([n]) => n), ...drop]));
      }
      await syncDir(staging);
      await Deno.rename(staging, version);
      await syncDir(this.store);
    } catch (e) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  /** Removes versions that no link names, except the one just replaced (a reader may be in it). */
  private async prune(replaced: string | null): Promise<void> {
    const keep = new Set([replaced]);
    for (const linkPath of [this.abs, join(this.store, "diverged")]) {
      keep.add((await currentVersion(linkPath))?.name ?? null);
    }
    for await (const entry of Deno.readDir(this.store)) {
      if (VERSION.test(entry.name) && !keep.has(entry.name)) {
        await Deno.remove(join(this.store, entry.name), { recursive: true }).catch(() => {});
      }
    }
  }

  close(): void {
    try {
      // A store holding nothing but the lock (a run that failed before writing) goes away.
      const names = [...Deno.readDirSync(this.store)].map((e) => e.name);
      if (names.length === 1 && names[0] === "lock") {
        Deno.removeSync(join(this.store, "lock"));
        Deno.removeSync(this.store);
      }
    } catch {
      // Left for the next run: an empty store is harmless.
    }
    try {
      this.lock.close();
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e; // closed twice
    }
  }
}

/** Deno creates symbolic links only with unscoped read and write permissions. */
async function requireUnscopedPermissions(label: string): Promise<void> {
  for (const name of ["read", "write"] as const) {
    if ((await Deno.permissions.query({ name })).state !== "granted") {
      throw new OutputDirError(
        label,
        `cannot write ${label}: Deno was not given --allow-${name} without a path list. ` +
          "Outputs are swapped in with a symbolic link, which Deno creates only with " +
          "unscoped permissions: add --allow-read --allow-write to `deno run` (the deno.json " +
          "tasks have them).",
      );
    }
  }
}

/** Refuses a path that is a file, a link this module did not make, or a directory of others' files. */
async function inspectOutputPath(
  abs: string,
  store: string,
  label: string,
  adopt: readonly string[],
): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(abs);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw explainFsError(e, label);
  }
  const refuse = (why: string) => {
    throw new OutputDirError(label, `cannot use ${label}: ${why}`);
  };
  if (info.isSymlink) {
    const target = await Deno.readLink(abs);
    const [dir, name, ...rest] = target.split("/");
    if (dir !== basename(store) || !VERSION.test(name ?? "") || rest.length > 0) {
      refuse(
        `it is a symbolic link to ${target}, not to a version in ${basename(store)}/; ` +
          "remove the link or choose another directory",
      );
    }
  } else if (!info.isDirectory) {
    refuse("it is a file, not a directory; choose another path");
  } else {
    const names = (await Array.fromAsync(Deno.readDir(abs))).map((e) => e.name);
    const foreign = names.filter((n) => !adopt.includes(n) && !STALE_TEMP.test(n)).sort();
    if (foreign.length > 0) {
      refuse(
        `it holds files that are not a run's outputs (${foreign.slice(0, 3).join(", ")}${
          foreign.length > 3 ? ", …" : ""
        }); choose a new or empty directory`,
      );
    }
  }
}

/**
 * Takes the exclusive lock, or names the run that holds it. A run that made the store and
 * leaves it empty removes the lock file, so the lock counts only if the file locked is still
 * the one at `path` (else another run removed it in between: try again).
 */
async function takeLock(path: string, label: string): Promise<Deno.FsFile> {
  for (let attempt = 0;; attempt++) {
    const file = await lockOnce(path, label);
    const [held, named] = [await file.stat(), await Deno.stat(path).catch(() => null)];
    if (named !== null && held.ino === named.ino) return file;
    file.close();
    if (attempt === 3) throw new OutputDirError(label, `${label}: ${path} keeps disappearing`);
    await Deno.mkdir(dirname(path), { recursive: true }).catch(() => {});
  }
}

async function lockOnce(path: string, label: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true, create: true });
  } catch (e) {
    throw explainFsError(e, label);
  }
  if (!(await file.tryLock(true))) {
    file.close();
    // The holder writes its pid just after locking: give it a moment if it has not yet.
    const read = () => Deno.readTextFile(path).then((t) => t.trim(), () => "");
    const holder = await read() ||
      await new Promise((r) => setTimeout(r, 100)).then(read) || "another process";
    throw new OutputDirError(
      label,
      `${label} is in use by another run (${holder}; lock ${path}). Wait for it to finish, ` +
        "or choose another directory.",
    );
  }
  await file.truncate(0);
  await writeAll(
    file,
    new TextEncoder().encode(`pid ${Deno.pid} since ${new Date().toISOString()}\n`),
  );
  return file;
}

/** Under the lock, whatever matches the temporary names belongs to a run that died. */
async function removeStale(abs: string, store: string): Promise<void> {
  const sweep = async (dir: string, pattern: (name: string) => boolean) => {
    for await (const entry of Deno.readDir(dir)) {
      if (pattern(entry.name)) {
        await Deno.remove(join(dir, entry.name), { recursive: true }).catch(() => {});
      }
    }
  };
  const name = basename(abs);
  await sweep(store, (n) => STAGING.test(n) || TEMP_LINK.test(n));
  await sweep(dirname(abs), (n) => TEMP_LINK.test(n) && n.startsWith(`.${name}.link-`));
  const plain = await Deno.lstat(abs).then((i) => i.isDirectory, () => false);
  if (plain) await sweep(abs, (n) => STALE_TEMP.test(n));
}

/** Writes and removes a file in a staging directory and a link beside the path. */
async function probe(abs: string, store: string, writeFile: WriteFile): Promise<void> {
  const staging = join(store, `.staging-probe-${randomHex()}`);
  await Deno.mkdir(staging);
  try {
    await writeFile(join(staging, "probe"), new TextEncoder().encode("probe\n"));
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  const temp = tempLink(abs);
  await Deno.symlink(basename(store), temp);
  await Deno.remove(temp);
}

/** The version a link (or a plain directory from an older release) shows, if any. */
async function currentVersion(
  linkPath: string,
): Promise<{ dir: string; name: string; plain: boolean } | null> {
  try {
    const info = await Deno.lstat(linkPath);
    if (info.isDirectory) return { dir: linkPath, name: basename(linkPath), plain: true };
    const target = await Deno.readLink(linkPath);
    const dir = resolve(dirname(linkPath), target);
    if (!(await exists(dir))) return null;
    return { dir, name: basename(target), plain: false };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Hard-links (or copies) the visible files of `from` that `replaced` does not name into `to`. */
async function carryOver(from: string, to: string, replaced: Set<string>): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (!entry.isFile || entry.name.startsWith(".") || replaced.has(entry.name)) continue;
    const [src, dst] = [join(from, entry.name), join(to, entry.name)];
    await Deno.link(src, dst).catch(() => Deno.copyFile(src, dst));
  }
}

/**
 * Writes a new file and flushes it to disk before returning, so a version renamed into place
 * after it never holds a file the disk lost.
 *
 * @example
 * ```ts
 * import { writeFileDurably } from "./_fs.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeFileDurably(`${dir}/a.txt`, new TextEncoder().encode("a"));
 * assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "a");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileDurably(path: string, data: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    await writeAll(file, data);
    await file.sync();
  } finally {
    file.close();
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += await file.write(data.subarray(done));
}

/** fsync of a directory, so the renames in it survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  const file = await Deno.open(dir, { read: true });
  try {
    await file.sync();
  } finally {
    file.close();
  }
}

function randomHex(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 8);
}

/** A sortable, unique version name: `run-20261202T135501-123Z-1a2b3c4d`. */
function newVersionId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, "").replace(".", "-");
  return `run-${time}-${randomHex()}`;
}

function tempLink(linkPath: string): string {
  return join(dirname(linkPath), `.${basename(linkPath)}.link-${randomHex()}`);
}

/** The cause of a file-system error in words, naming the directory rather than a temp file. */
function explainFsError(e: unknown, label: string, after = ""): OutputDirError {
  if (e instanceof OutputDirError) return e;
  const code = (e as { code?: string }).code;
  const cause = e instanceof Deno.errors.NotCapable
    ? "Deno was not given --allow-write for it (add --allow-read --allow-write to `deno run`)"
    : e instanceof Deno.errors.NotADirectory || code === "ENOTDIR"
    ? "a part of the path is a regular file, not a directory"
    : e instanceof Deno.errors.PermissionDenied || code === "EACCES" || code === "EPERM"
    ? "permission denied (this user may not write there)"
    : code === "EROFS"
    ? "the file system is read-only"
    : code === "ENOSPC" || code === "EDQUOT"
    ? "no space left on the device"
    : (e as Error).message.replace(/: \w+ '[^']*'$/, ""); // the OS's words, not a temp path
  return new OutputDirError(label, `cannot write ${label}: ${cause}${after}`, { cause: e });
}
