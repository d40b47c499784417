// Maps keyed by outpoint (txid, vout) without building a string per key.

/**
 * A map keyed by outpoint, by number rather than by a hex string (a string of each txid was most
 * of connectBlockInputs' own time): 48 bits of the txid mixed with the vout pick a bucket, and
 * the whole outpoint is compared within it. Txids are hashes, so buckets hold one entry unless
 * someone grinds 48-bit prefixes, which costs them a hash search and us only a longer scan.
 * Only a txid's first 32 bytes are read: a 36-byte coin key serves as its own txid.
 */
export class OutpointMap<T> {
  private readonly buckets = new Map<number, Array<{ txid: Uint8Array; vout: number; value: T }>>();
  private count = 0;

  private static slot(txid: Uint8Array, vout: number): number {
    const hi = (txid[0]! | (txid[1]! << 8) | (txid[2]! << 16)) >>> 0;
    const lo = (txid[3]! | (txid[4]! << 8) | (txid[5]! << 16)) >>> 0;
    return hi * 0x1000000 + ((lo + Math.imul(vout, 0x9e3779b1)) & 0xffffff);
  }

  private find(list: Array<{ txid: Uint8Array; vout: number; value: T }> | undefined, txid: Uint8Array, vout: number): number {
    if (list === undefined) return -1;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (e.vout === vout && equal32(e.txid, txid)) return i;
    }
    return -1;
  }

  get(txid: Uint8Array, vout: number): T | undefined {
    const list = this.buckets.get(OutpointMap.slot(txid, vout));
    const i = this.find(list, txid, vout);
    return i < 0 ? undefined : list![i]!.value;
  }

  /** Removes and returns the entry. */
  take(txid: Uint8Array, vout: number): T | undefined {
    const slot = OutpointMap.slot(txid, vout);
    const list = this.buckets.get(slot);
    const i = this.find(list, txid, vout);
    if (i < 0) return undefined;
    const { value } = list![i]!;
    if (list!.length === 1) this.buckets.delete(slot);
    else list!.splice(i, 1);
    this.count--;
    return value;
  }

  set(txid: Uint8Array, vout: number, value: T): void {
    const slot = OutpointMap.slot(txid, vout);
    const list = this.buckets.get(slot);
    const i = this.find(list, txid, vout);
    if (i >= 0) {
      list![i]!.value = value;
      return;
    }
    if (list === undefined) this.buckets.set(slot, [{ txid, vout, value }]);
    else list.push({ txid, vout, value });
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Values in insertion order of their buckets. */
  *values(): Generator<T> {
    for (const list of this.buckets.values()) for (const e of list) yield e.value;
  }
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}
