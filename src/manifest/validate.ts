// parseManifest: from the text of a manifest file to a validated Manifest, or a ManifestError
// that names the field and why (docs/MANIFEST.md).
//
// Three stages, each refusing with its own messages: JSON syntax (json.ts, with line and
// column), the shape the schema gives (schema-check.ts against schema.ts), and the rules that
// span fields and components (rules.ts, rules-grants.ts). This file adds Node's file system
// for the image check; parse.ts is the same pipeline for hosts without one (a browser).

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseManifestText } from './parse.ts';
import type { BoardSpec } from './board.ts';
import type { Manifest } from './types.ts';

export { ManifestError } from './error.ts';

export interface ParseOptions {
  /** Image paths are relative to this directory (for manifests/default.json: the project root). */
  baseDir: string;
  /** The board the manifest must fit: DRAM size, which virtio slots hold what. Default: the
   *  default board of src/machine with slot contents unknown (docs/MANIFEST.md "Board"). */
  board?: Partial<BoardSpec>;
  /** false: do not check that images exist (for a manifest whose images are built later).
   *  Default true. */
  checkImages?: boolean;
  /** How to tell that an image file exists; default: the Node file system. */
  isFile?: (file: string) => boolean;
}

/** Parse and validate manifest `text`. Throws ManifestError on the first problem. */
export function parseManifest(text: string, opts: ParseOptions): Manifest {
  return parseManifestText(text, {
    baseDir: resolve(opts.baseDir),
    board: opts.board,
    isFile: opts.checkImages === false ? null : (opts.isFile ?? nodeIsFile),
  });
}

function nodeIsFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
