import { hasControlChar } from '../core/controlChars.js';
import { InvalidInputError } from '../core/errors.js';

/** Names of types and replicas: what ClearCase accepts, and nothing a selector could misread. */
const OBJECT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,254}$/;
/** Label names the version selectors reserve. */
const RESERVED = new Set(['LATEST', 'CHECKEDOUT', 'BACKSTOP']);

export function assertObjectName(name: string, what: string): void {
  if (!OBJECT_NAME.test(name)) {
    throw new InvalidInputError(
      `invalid ${what} name "${name}": names start with a letter or _, then letters, digits, _ . - (at most 255)`,
      { data: { name, what } },
    );
  }
  if (RESERVED.has(name)) {
    throw new InvalidInputError(`invalid ${what} name "${name}": the name is reserved for version selection`, { data: { name, what } });
  }
}

/** Names in a directory: anything but the path syntax. */
export function assertEntryName(name: string): void {
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('@@') ||
    hasControlChar(name) ||
    name.length > 255
  ) {
    // A newline or escape in a name would break every listing and script that reads one name a line.
    throw new InvalidInputError(
      `invalid element name "${name}": names are 1-255 characters without "/", "@@" or control characters, and not "." or ".."`,
      {
        data: { name },
      },
    );
  }
}

/** VOB tags: what a registry line and a `--vob` value can carry unambiguously. */
export function assertVobTag(tag: string): void {
  if (!/^[^\s@]+$/u.test(tag) || hasControlChar(tag)) {
    throw new InvalidInputError(`invalid VOB tag "${tag}": a tag has no spaces, control characters or "@"`, { data: { tag } });
  }
}

/**
 * Comments may span lines (MultiSite's comments do, and packets carry them), so newline and tab
 * are allowed; any other control character could drive the terminal of whoever lists it, so not.
 */
export function assertComment(comment: string): void {
  if (hasControlChar(comment.replace(/[\n\t]/g, ''))) {
    throw new InvalidInputError(`invalid comment "${comment}": a comment may hold newlines and tabs but no other control characters`);
  }
}
