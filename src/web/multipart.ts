import busboy from 'busboy';
import type { NextFunction, Request, Response } from 'express';

/** A file sent with a form, read into memory (imports are bounded by MAX_UPLOAD_BYTES). */
export type UploadedFile = { field: string; name: string; content: Buffer; truncated: boolean };

declare module 'express-serve-static-core' {
  interface Request {
    files?: UploadedFile[];
  }
}

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/**
 * multipart/form-data for forms that send files (CSV imports). It runs before the CSRF check, so
 * that the form's _csrf field is read like any other form's, and only for signed-in people: an
 * anonymous request's body is never read. A file past the limit is cut and marked `truncated`.
 */
export function multipartForms(maxBytes = MAX_UPLOAD_BYTES) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !req.is('multipart/form-data') || !req.session?.userId) return next();
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 50, fieldSize: 100_000 } });
    } catch (err) {
      return next(err);
    }
    const fields: Record<string, string> = {};
    const files: UploadedFile[] = [];
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      const file: UploadedFile = { field, name: info.filename ?? '', content: Buffer.alloc(0), truncated: false };
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        file.truncated = true;
      });
      stream.on('close', () => {
        file.content = Buffer.concat(chunks);
        files.push(file);
      });
    });
    // a body that is not the multipart it claims (a malformed part header, say) is the sender's error
    bb.on('error', (err) => next(Object.assign(err as Error, { status: 400 })));
    bb.on('close', () => {
      req.body = fields;
      req.files = files;
      next();
    });
    req.pipe(bb);
  };
}
