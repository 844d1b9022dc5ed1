// File-system helpers shared by the library and the scripts: atomic writes, existence checks.

import { basename, dirname, join } from "node:path";
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
