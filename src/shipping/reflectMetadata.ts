/**
 * @peculiar/x509 registers its algorithms with tsyringe, which refuses to load unless the Reflect
 * metadata API (`Reflect.getMetadata`, the `reflect-metadata` package's) is present. That package is
 * not among msite's dependencies, so this module supplies the three calls tsyringe makes, keyed by
 * object in a WeakMap, when nothing else has installed them. Import it before @peculiar/x509.
 */

type MetadataMap = Map<unknown, unknown>;
const store = new WeakMap<object, Map<PropertyKey | undefined, MetadataMap>>();

function own(target: object, property: PropertyKey | undefined, create: boolean): MetadataMap | undefined {
  let byProperty = store.get(target);
  if (!byProperty && create) store.set(target, (byProperty = new Map()));
  let map = byProperty?.get(property);
  if (!map && create && byProperty) byProperty.set(property, (map = new Map()));
  return map;
}

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey): void;
  getOwnMetadata(key: unknown, target: object, property?: PropertyKey): unknown;
  getMetadata(key: unknown, target: object, property?: PropertyKey): unknown;
}

const reflect = Reflect as unknown as Partial<ReflectMetadata>;
if (typeof reflect.getMetadata !== 'function') {
  reflect.defineMetadata = (key, value, target, property) => void own(target, property, true)!.set(key, value);
  reflect.getOwnMetadata = (key, target, property) => own(target, property, false)?.get(key);
  reflect.getMetadata = (key, target, property) => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const map = own(t, property, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
}

export {};
