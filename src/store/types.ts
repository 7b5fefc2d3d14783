import type { CID } from 'multiformats/cid'

/**
 * One content-addressed store, two backends (embedded Helia node, Kubo over RPC).
 * Everything instruct3 writes (corpus, datasets, checkpoints, metrics, manifests) goes through this.
 * CIDs are CIDv1; files and directories are UnixFS, manifests are dag-json.
 */
export interface ContentStore {
  readonly kind: 'helia' | 'kubo'
  /** Add raw bytes as a UnixFS file. */
  addBytes(bytes: Uint8Array, opts?: AddOptions): Promise<CID>
  /** Add a file from disk as UnixFS, streaming (no whole-file buffer). */
  addFile(path: string, opts?: AddOptions): Promise<CID>
  /** Add a directory tree from disk as a UnixFS directory. */
  addDirectory(path: string, opts?: AddOptions): Promise<CID>
  /** Stream a UnixFS file's bytes; every block is re-hashed against its CID. */
  cat(cid: CID | string, opts?: ReadOptions): AsyncIterable<Uint8Array>
  /**
   * Materialise a UnixFS file or directory at `dest` (atomically: temp path + rename). At most
   * `maxBytes` (default 64 GiB) are written: a DAG linking one subtree many times cannot fill the disk.
   */
  get(cid: CID | string, dest: string, opts?: ReadOptions & { maxBytes?: number }): Promise<void>
  /** List a UnixFS directory's entries. */
  ls(cid: CID | string, opts?: ReadOptions): AsyncIterable<{ name: string; cid: CID; type: 'file' | 'directory'; size: bigint }>
  /** Store a dag-json node (run manifests); returns its CID (codec dag-json). */
  putDag(value: unknown, opts?: AddOptions): Promise<CID>
  /** Read a dag-json node back. */
  getDag<T = unknown>(cid: CID | string, opts?: ReadOptions): Promise<T>
  /** Whether every block of `cid` is available locally (no network). */
  has(cid: CID | string): Promise<boolean>
  pin(cid: CID | string): Promise<void>
  unpin(cid: CID | string): Promise<void>
  pins(): AsyncIterable<CID>
  /** Delete every block not reachable from a pin. Returns the number of blocks removed. */
  gc(): Promise<number>
  close(): Promise<void>
}

export type AddOptions = { pin?: boolean; signal?: AbortSignal; /** called with each chunk's byte count as files are read */ onBytes?: (n: number) => void }
/** Reads of missing blocks fail after `timeoutMs` (default 30 s offline-first), they never hang. */
export type ReadOptions = { timeoutMs?: number; signal?: AbortSignal }

export type StoreConfig =
  | { kind: 'helia'; dir: string; listen?: string[]; offline?: boolean }
  /** `authorization`: a secret in Kubo's API.Authorizations AuthSecret form ("bearer:TOKEN", "basic:USER:PASS") or a
   *  ready Authorization header value; default: the KUBO_RPC_AUTH environment variable. */
  | { kind: 'kubo'; apiUrl: string; authorization?: string }

/** Extra read options for block access: `offline` forbids any network fetch (used by `has`). */
export type BlockReadOptions = ReadOptions & { offline?: boolean }

/**
 * Block-level access that both backends offer on top of ContentStore (CAR import/export, DAG walks).
 * `getBlock` always re-hashes the bytes against the CID; `putBlock` trusts the caller to have verified them.
 */
export interface BlockAccess {
  getBlock(cid: CID, opts?: BlockReadOptions): Promise<Uint8Array>
  putBlock(cid: CID, bytes: Uint8Array): Promise<void>
  hasBlock(cid: CID): Promise<boolean>
}

/** What `createStore` returns: the ContentStore plus block access. */
export interface Store extends ContentStore, BlockAccess {}

/** The embedded Helia node also speaks libp2p: its peer id, listen addresses, and an explicit dial. */
export interface HeliaStore extends Store {
  readonly kind: 'helia'
  readonly peerId: string
  multiaddrs(): string[]
  dial(multiaddr: string, opts?: { signal?: AbortSignal }): Promise<void>
}
