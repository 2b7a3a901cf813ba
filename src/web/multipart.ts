import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { BadRequestError, BusyError } from '../errors.js';

/** A file sent with a form, kept in a temporary file for as long as its request lasts. */
export type UploadedFile = {
  field: string;
  name: string;
  size: number;
  /** larger than the route takes: what came is not all there is, and was not kept */
  truncated: boolean;
  /** the content, once: the temporary file is removed as it is read */
  text(): Promise<string>;
};

declare module 'express-serve-static-core' {
  interface Request {
    files?: UploadedFile[];
  }
}

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
/** Uploads one instance reads (and works on) at once; one more is answered 503 before its body is read. */
export const UPLOADS_AT_ONCE = 2;
/** Room for the form's other fields and the multipart framing around the file. */
const FORM_BYTES = 256 * 1024;

/**
 * multipart/form-data for the routes that take a file, and only there: put it after the guard,
 * `allow('import.run', fileUploads(…), handler)`, so that nobody's body is read before their role and
 * their CSRF token were checked. The token cannot come from a body nobody has read yet: htmx sends it
 * as a header, and a plain form puts it in its action's query string (`?_csrf=…`, redacted in the
 * logs; the Referrer-Policy keeps it out of Referers). A few uploads at a time per instance (more
 * answer 503 with Retry-After, unread), one file each, streamed to a temporary file under `dir` that
 * stops at `maxBytes` (the rest is not read: the file is marked truncated) and goes with the request.
 */
export function fileUploads(opts: { dir: string; maxBytes?: number; atOnce?: number }): RequestHandler {
  const maxBytes = opts.maxBytes ?? MAX_UPLOAD_BYTES;
  const atOnce = opts.atOnce ?? UPLOADS_AT_ONCE;
  let reading = 0;
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('multipart/form-data')) return next();
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes + FORM_BYTES) {
      // told up front that it is too large: not one byte of it is read
      req.body = {};
      req.files = [tooLarge('file', '')];
      return next();
    }
    if (reading >= atOnce) return next(new BusyError('Other files are being uploaded now. Try again in a moment.'));
    reading += 1;
    let dir: Promise<string> | null = null;
    // the slot is held until the answer is out, so the work on the file counts too
    res.once('close', () => {
      reading -= 1;
      if (dir) void dir.then((d) => rm(d, { recursive: true, force: true }));
    });
    readForm(req, maxBytes, () => (dir ??= uploadsDir(opts.dir).then((prefix) => mkdtemp(prefix)))).then(
      ({ fields, files }) => {
        req.body = fields;
        req.files = files;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}

async function uploadsDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return path.join(dir, 'upload-');
}

const tooLarge = (field: string, name: string): UploadedFile => ({
  field,
  name,
  size: 0,
  truncated: true,
  text: async () => '',
});

function readForm(
  req: Request,
  maxBytes: number,
  tempDir: () => Promise<string>,
): Promise<{ fields: Record<string, string>; files: UploadedFile[] }> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 10_000, parts: 25 },
      });
    } catch {
      return reject(new BadRequestError('The upload could not be read.'));
    }
    const fields: Record<string, string> = {};
    const files: UploadedFile[] = [];
    const writes: Promise<unknown>[] = [];
    let settled = false;
    const done = (err?: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(bb);
      if (err) reject(err);
      else resolve({ fields, files });
    };
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      const file: UploadedFile = { ...tooLarge(field, info.filename ?? ''), truncated: false };
      files.push(file);
      let target: string | null = null;
      const written = tempDir().then(async (dir) => {
        const to = (target = path.join(dir, 'file'));
        const out = createWriteStream(to);
        await pipeline(stream, out);
        file.size = out.bytesWritten;
        // read once: the file goes as soon as its route has it, the folder with the request
        file.text = async () => {
          try {
            return await readFile(to, 'utf8');
          } finally {
            await rm(to, { force: true });
          }
        };
      });
      writes.push(written.catch((err: unknown) => (file.truncated ? undefined : done(err))));
      stream.once('limit', () => {
        // past the limit: read no more of the body, keep nothing of the file, and answer
        file.truncated = true;
        stream.destroy();
        void written
          .catch(() => undefined)
          .then(() => (target ? rm(target, { force: true }) : undefined))
          .then(() => done(), done);
      });
    });
    bb.on('error', () => done(new BadRequestError('The upload could not be read.')));
    bb.on('close', () => void Promise.all(writes).then(() => done()));
    req.once('close', () => {
      if (!req.complete) done(new BadRequestError('The upload was interrupted.'));
    });
    req.pipe(bb);
  });
}
