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
    name.includes('\0') ||
    name.length > 255
  ) {
    throw new InvalidInputError(
      `invalid element name "${name}": names are 1-255 characters without "/", "@@" or NUL, and not "." or ".."`,
      {
        data: { name },
      },
    );
  }
}
