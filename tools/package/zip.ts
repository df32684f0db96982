/**
 * A small deterministic zip writer (deflate, no external binary): entries in the order given, every
 * timestamp 1980-01-01 00:00 (the DOS epoch) and Unix mode 0644, so the same files give the same bytes.
 * Enough for a deployment package; no zip64 (the writer refuses more than 65,535 entries or 4 GiB).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
  /** Path inside the archive, with forward slashes. */
  readonly name: string;
  /** Absolute path of the file to store. */
  readonly source: string;
}

const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const DOS_TIME_MIDNIGHT = 0;
const UNIX_FILE_0644 = (0o100644 << 16) >>> 0;
const LIMIT = 0xffffffff;

export function writeZip(path: string, inputs: readonly ZipInput[]): { entries: number; bytes: number } {
  if (inputs.length > 0xffff)
    throw new Error(`zip: ${inputs.length} entries need zip64, which this writer lacks`);
  const fd = openSync(path, 'w');
  let offset = 0;
  const central: Buffer[] = [];
  const write = (b: Buffer) => {
    writeSync(fd, b);
    offset += b.length;
  };
  try {
    for (const input of inputs) {
      if (input.name.startsWith('/') || input.name.includes('\\') || input.name.split('/').includes('..')) {
        throw new Error(`zip: entry name "${input.name}" must be relative with forward slashes`);
      }
      const data = readFileSync(input.source);
      const deflated = deflateRawSync(data, { level: 9 });
      const useDeflate = deflated.length < data.length;
      const body = useDeflate ? deflated : data;
      const method = useDeflate ? 8 : 0; // deflate, or stored when deflate does not help
      const crc = crc32(data);
      const name = Buffer.from(input.name, 'utf8');
      if (offset > LIMIT || data.length > LIMIT)
        throw new Error('zip: archive larger than 4 GiB needs zip64');
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed
      local.writeUInt16LE(0x0800, 6); // UTF-8 names
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(DOS_TIME_MIDNIGHT, 10);
      local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, spec 2.0
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(0x0800, 8);
      header.writeUInt16LE(method, 10);
      header.writeUInt16LE(DOS_TIME_MIDNIGHT, 12);
      header.writeUInt16LE(DOS_DATE_1980_01_01, 14);
      header.writeUInt32LE(crc, 16);
      header.writeUInt32LE(body.length, 20);
      header.writeUInt32LE(data.length, 24);
      header.writeUInt16LE(name.length, 28);
      header.writeUInt16LE(0, 30); // extra
      header.writeUInt16LE(0, 32); // comment
      header.writeUInt16LE(0, 34); // disk
      header.writeUInt16LE(0, 36); // internal attributes
      header.writeUInt32LE(UNIX_FILE_0644, 38);
      header.writeUInt32LE(offset, 42);
      central.push(header, name);
      write(local);
      write(name);
      write(body);
    }
    const centralStart = offset;
    for (const b of central) write(b);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(inputs.length, 8);
    end.writeUInt16LE(inputs.length, 10);
    end.writeUInt32LE(offset - centralStart, 12);
    end.writeUInt32LE(centralStart, 16);
    write(end);
    return { entries: inputs.length, bytes: offset };
  } finally {
    closeSync(fd);
  }
}
