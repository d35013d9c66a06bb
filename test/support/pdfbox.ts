/**
 * Apache PDFBox Preflight (Debian's libpdfbox2-java, 2.0.27): the independent check of PDF/A-1b
 * (ISO 19005-1 level B). Its validator needs javax.activation and JAXB, which Java 11 and later no
 * longer carry: Debian's libactivation-java and libjaxb-api-java put them back (.ci/run installs them).
 */
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const JARS = [
  'preflight.jar',
  'pdfbox2.jar',
  'fontbox2.jar',
  'xmpbox.jar',
  'commons-logging.jar',
  'javax.activation.jar',
  'jaxb-api.jar',
].map((jar) => path.join('/usr/share/java', jar));

export interface PreflightVerdict {
  valid: boolean;
  /** Each problem as PDFBox words it: `code : message`. */
  errors: string[];
}

/** PDFBox Preflight's PDF/A-1b verdict on a PDF. */
export async function pdfboxPreflight(pdf: Uint8Array): Promise<PreflightVerdict> {
  for (const jar of JARS) {
    await access(jar).catch(() => {
      throw new Error(
        `${jar} is missing: apt-get install libpdfbox2-java libactivation-java libjaxb-api-java default-jre-headless`,
      );
    });
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'platen-pdfbox-'));
  try {
    const file = path.join(dir, 'piece.pdf');
    await writeFile(file, pdf);
    const stdout = await new Promise<string>((resolve, reject) => {
      // Its exit status is the number of errors: the verdict is read from what it prints.
      execFile(
        'java',
        ['-cp', JARS.join(':'), 'org.apache.pdfbox.preflight.Validator_A1b', file],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
        (error, out, err) => {
          if (error && !/valid PDF\/A-1b file/.test(out))
            reject(new Error(`PDFBox Preflight gave no verdict: ${err || error.message}`));
          else resolve(out);
        },
      );
    });
    const valid = /is a valid PDF\/A-1b file/.test(stdout);
    const errors = stdout
      .split('\n')
      .filter((line) => /^\d+(\.\d+)* : /.test(line))
      .map((line) => line.trim());
    return { valid, errors };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
