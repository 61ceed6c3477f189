/**
 * Bounded memories. Every collection the handler keeps about the past has a stated capacity; the
 * oldest entry goes first (insertion order of a Map is the queue).
 */

/** A set that forgets its oldest member beyond `capacity`. */
export class BoundedSet<T> {
  private readonly items = new Set<T>();

  constructor(private readonly capacity: number) {}

  has(item: T): boolean {
    return this.items.has(item);
  }

  add(item: T): void {
    this.items.delete(item);
    this.items.add(item);
    if (this.items.size > this.capacity) this.items.delete(this.items.values().next().value as T);
  }

  delete(item: T): boolean {
    return this.items.delete(item);
  }

  get size(): number {
    return this.items.size;
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }
}

/** A map that forgets its least recently set entry beyond `capacity`. */
export class BoundedMap<K, V> {
  private readonly items = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.items.get(key);
  }

  set(key: K, value: V): void {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.items.delete(key);
  }

  get size(): number {
    return this.items.size;
  }

  keys(): IterableIterator<K> {
    return this.items.keys();
  }

  values(): IterableIterator<V> {
    return this.items.values();
  }
}

/**
 * The last `capacity` items, in a plain array: lighter than a Set for the handful of reply keys a
 * live order usually has (the memory of a live order is one of the benchmarked figures).
 */
export class RecentList<T> {
  private readonly items: T[] = [];

  constructor(private readonly capacity: number) {}

  has(item: T): boolean {
    return this.items.includes(item);
  }

  add(item: T): void {
    if (this.items.includes(item)) return;
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.shift();
  }

  toArray(): T[] {
    return [...this.items];
  }
}
