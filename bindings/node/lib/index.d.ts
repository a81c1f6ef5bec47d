// SPDX-License-Identifier: MIT OR GPL-2.0-only
// TypeScript declarations for usdtkit (lib/index.js): USDT probes defined
// by a Node.js program at run time. test/types.test.js checks that these
// match the module's exports, and type-checks test/types-check.ts with tsc
// where TypeScript is available.

/** Argument type names: the short names and their accepted aliases. */
export type ShortType = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64' | 'f64' | 'str' | 'ptr';
export type TypeAlias =
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'double' | 'float64' | 'number' | 'string' | 'pointer' | 'bigint';
/** A type as addProbe() takes it (case-insensitive at run time). */
export type TypeName = ShortType | TypeAlias | Uppercase<ShortType> | Uppercase<TypeAlias>;

/**
 * One addProbe() argument: a type, or a named type as 'path:str',
 * ['path', 'str'] or { name: 'path', type: 'str' }.
 */
export type ArgSpec =
  | TypeName
  | `${string}:${TypeName}`
  | readonly [name: string, type: TypeName]
  | { readonly name?: string | null; readonly type: TypeName };

/**
 * One fire() value: number or bigint for the integer types (range-checked
 * when traced), number for f64, string or bytes (a Buffer or any Uint8Array) for str, and
 * bigint / number for ptr. null for str or ptr arrives as a NULL pointer.
 */
export type ArgValue = number | bigint | string | Uint8Array | null;

/** A declared argument of a probe. */
export interface ProbeArg {
  readonly name: string | null;
  readonly type: ShortType;
}

export interface ProviderOptions {
  /** 1, 5 or 10: force the probe instruction (default: detect). */
  probeNop?: 0 | 1 | 5 | 10;
  /** Back the object with a file in a private temporary directory. */
  noMemfd?: boolean;
  /** Check values on every fire(), traced or not (default: USDTKIT_STRICT=1). */
  strict?: boolean;
  /**
   * Longest load() waits for a watching tracer to attach (ms; <= 0: never
   * wait; default: USDTKIT_LOAD_WAIT_MS, else 100).
   */
  loadWaitMs?: number;
}

/** An error libusdtkit returned. */
export class UsdtError extends Error {
  readonly name: 'UsdtError';
  /** The errno name ('EEXIST', 'EBUSY', ...) or 'ERR_USDTKIT_CLOSED'. */
  readonly code: string;
  /** The errno number (0 for ERR_USDTKIT_CLOSED). */
  readonly errno: number;
  constructor(message: string, code: string, errno: number);
}

/** A probe of a Provider, from Provider.addProbe(). */
export class Probe {
  private constructor();
  readonly provider: Provider;
  readonly name: string;
  readonly args: readonly ProbeArg[];
  /**
   * Fires the probe with one value per declared argument; a no-op (after
   * the count check) while nobody traces it.
   */
  fire(...values: ArgValue[]): void;
  /** True while a tracer is attached. */
  readonly enabled: boolean;
  /** Address of the probe instruction, null when not loaded. */
  readonly address: bigint | null;
  toString(): string;
}

/** A USDT provider: a named set of probes loaded into this process. */
export class Provider {
  /** @param name a C identifier of 1 to 63 bytes */
  constructor(name: string, options?: ProviderOptions);
  readonly name: string;
  readonly probes: Map<string, Probe>;
  /** Adds a probe (at most MAX_ARGS arguments); only while not loaded. */
  addProbe(name: string, ...args: ArgSpec[]): Probe;
  /** Makes the probes visible to tracers. */
  load(): this;
  /** Removes the probes from the process; fire() becomes a no-op. */
  unload(): void;
  /** Unloads (if loaded) and releases the provider. Idempotent. */
  close(): void;
  readonly closed: boolean;
  readonly loaded: boolean;
  /** The loaded object's file descriptor (/proc/self/fd/N), or null. */
  readonly fd: number | null;
  /** The probe instruction size in use: 1, 5 or 10. */
  readonly probeNop: 1 | 5 | 10;
  toString(): string;
}

/** The type names, by constant: types.INT64 === 'i64'. */
export const types: Readonly<{
  INT8: 'i8';
  UINT8: 'u8';
  INT16: 'i16';
  UINT16: 'u16';
  INT32: 'i32';
  UINT32: 'u32';
  INT64: 'i64';
  UINT64: 'u64';
  DOUBLE: 'f64';
  STRING: 'str';
  POINTER: 'ptr';
}>;

/** USDT_MAX_ARGS: the most arguments a probe may have. */
export const MAX_ARGS: 12;

/** The path of the libusdtkit in use (loads it if needed). */
export function libraryPath(): string;
