// The thumbnail every render comes with: a 1280x720 PNG (YouTube's recommended thumbnail size),
// built once with zlib so it is a real image that image checks accept.
import { deflateSync } from 'node:zlib';

const WIDTH = 1280;
const HEIGHT = 720;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function build(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(WIDTH, 0);
  header.writeUInt32BE(HEIGHT, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour RGB
  const row = Buffer.alloc(1 + WIDTH * 3);
  const rows: Buffer[] = [];
  for (let y = 0; y < HEIGHT; y++) {
    // A vertical gradient, so the image is not a single flat colour.
    for (let x = 0; x < WIDTH; x++) row.set([40 + Math.floor((y / HEIGHT) * 180), 90, 200 - Math.floor((x / WIDTH) * 120)], 1 + x * 3);
    rows.push(Buffer.from(row));
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

let cached: Buffer | undefined;

export function thumbnailPng(): Buffer {
  return (cached ??= build());
}
